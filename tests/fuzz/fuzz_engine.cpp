// libFuzzer harness for the engine: the input is a program of memory and file
// operations run by several processes of one Kernel. Addresses fall mostly in a small
// window (so calls land on each other's mappings), RAM is small (so allocations run
// out), and after every step check_invariants() must find nothing; otherwise the
// harness prints the problems and aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/kernel.h"

namespace {

using namespace vmplay::engine;

// The input, read front to back; past its end every read is 0.
class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return at_ >= n_; }
  uint8_t u8() { return at_ < n_ ? d_[at_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    return v;
  }
  template <typename T, size_t N>
  T pick(const T (&options)[N]) { return options[u8() % N]; }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t at_ = 0;
};

constexpr uint64_t kWindow = 0x40000000;  // 64 pages from here hold most of the action
constexpr uint64_t kWindowPages = 64;
constexpr uint32_t kMaxFailures = 16;      // frame allocations failed in a row, at most

// An address: mostly a page (or a byte in a page) of the window, sometimes an edge case.
uint64_t addr(Bytes& b) {
  uint8_t how = b.u8();
  uint64_t page = kWindow + (b.u8() % kWindowPages) * kPageSize;
  switch (how % 16) {
    case 0: return 0;
    case 1: return page + b.u8();                         // unaligned
    case 2: return TASK_SIZE - (b.u8() % 8) * kPageSize;  // the top of user space
    case 3: return b.u64();                               // anything at all
    case 4: return 0x10000 - kPageSize;                   // below mmap_min_addr
    default: return page;
  }
}

// A length: mostly whole pages within the window, sometimes odd.
uint64_t length(Bytes& b) {
  uint8_t how = b.u8();
  uint64_t pages = b.u8() % (kWindowPages + 1);
  switch (how % 16) {
    case 0: return 0;
    case 1: return pages * kPageSize + 1 + b.u8();  // a partial last page
    case 2: return b.u64();
    case 3: return 2ULL << 20;                      // a 2 MiB multiple (THP alignment)
    default: return pages * kPageSize;
  }
}

uint64_t prot(Bytes& b) {
  uint8_t v = b.u8();
  uint64_t p = v & 7;
  if (v & 0x08) p |= PROT_GROWSDOWN;
  if ((v & 0xf0) == 0xf0) p |= 0x100;  // an unknown bit
  return p;
}

uint64_t map_flags(Bytes& b, bool anon) {
  static constexpr uint64_t kType[] = {MAP_PRIVATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, 0};
  static constexpr uint64_t kExtra[] = {MAP_FIXED,     MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_LOCKED,
                                        MAP_NORESERVE, MAP_GROWSDOWN,       MAP_STACK,    MAP_HUGETLB,
                                        MAP_SYNC,      MAP_DENYWRITE,       MAP_NONBLOCK, MAP_UNINITIALIZED_};
  uint64_t f = b.pick(kType) | (anon ? MAP_ANONYMOUS : 0);
  uint16_t extra = b.u16();
  for (size_t i = 0; i < std::size(kExtra); ++i)
    if (extra & (1u << i) && (extra >> 12) != 0) f |= kExtra[i];  // extras only sometimes
  return f;
}

int64_t fd(Bytes& b) { return static_cast<int64_t>(b.u8() % 10) - 1; }

const std::string kPaths[] = {"/home/user/words.txt", "/tmp/f0", "/tmp/f1",          "/etc/hosts",
                              "/home/user/a.out",     "/tmp",    "/proc/self/maps"};

Pid pick_pid(Bytes& b, const Kernel& k) {
  std::vector<Pid> pids = k.pids();
  uint8_t v = b.u8();
  if (pids.empty() || v == 0xff) return 99;  // no such process
  return pids[v % pids.size()];
}

void step(Kernel& k, Bytes& b) {
  Pid pid = pick_pid(b, k);
  uint8_t op = b.u8();
  switch (op % 29) {
    case 0:
    case 1: {  // anonymous mmap (the most common call)
      uint64_t a = addr(b), len = length(b), p = prot(b);
      (void)k.sys_mmap(pid, {a, len, p, map_flags(b, true), -1, 0});
      break;
    }
    case 2: {  // file mmap
      uint64_t a = addr(b), len = length(b), p = prot(b), f = map_flags(b, false);
      int64_t d = fd(b);
      uint64_t off = (b.u8() % 48) * kPageSize + ((b.u8() % 8) == 0 ? 1 : 0);
      (void)k.sys_mmap(pid, {a, len, p, f, d, off});
      break;
    }
    case 3: {
      uint64_t a = addr(b);
      (void)k.sys_munmap(pid, a, length(b));
      break;
    }
    case 4: {
      uint64_t a = addr(b), len = length(b);
      (void)k.sys_mprotect(pid, a, len, prot(b));
      break;
    }
    case 5: {
      uint64_t a = addr(b), old_len = length(b), new_len = length(b);
      uint64_t flags = b.u8() % 8, new_addr = addr(b);
      (void)k.sys_mremap(pid, a, old_len, new_len, flags, new_addr);
      break;
    }
    case 6: {
      uint64_t a = addr(b), len = length(b);
      (void)k.sys_madvise(pid, a, len, static_cast<int64_t>(b.u8() % 27));
      break;
    }
    case 7: {
      uint64_t a = addr(b), len = length(b);
      (void)k.sys_msync(pid, a, len, b.u8() % 8);
      break;
    }
    case 8: {
      static constexpr Sysno kWhich[] = {Sysno::mlock, Sysno::mlock2, Sysno::munlock};
      uint64_t a = addr(b), len = length(b), flags = b.u8() % 3;
      (void)k.sys_mlock(pid, a, len, flags, b.pick(kWhich));
      break;
    }
    case 9:
      if (b.u8() & 1)
        (void)k.sys_mlockall(pid, b.u8() % 8);
      else
        (void)k.sys_munlockall(pid);
      break;
    case 10: {  // brk: query, or move by a few pages either way from the current break
      const Process* p = k.process(pid);
      uint64_t cur = p ? p->mm.brk : 0;
      uint8_t v = b.u8();
      uint64_t to = v == 0 ? 0 : cur + (static_cast<int64_t>(v % 32) - 16) * static_cast<int64_t>(kPageSize) + (v & 0x20 ? 7 : 0);
      (void)k.sys_brk(pid, to);
      break;
    }
    case 11:
      (void)k.sys_fork(pid);
      break;
    case 12:
      k.sys_exit_group(pid, b.u8());
      break;
    case 13: {
      Pid target = (b.u8() & 1) ? -1 : pick_pid(b, k);
      (void)k.sys_wait4(pid, target);
      break;
    }
    case 14: {
      Pid target = pick_pid(b, k);
      static constexpr int32_t kSig[] = {0, kSigTerm, kSigKill, kSigSegv, -1, 65};
      (void)k.sys_kill(pid, target, b.pick(kSig));
      break;
    }
    case 15:
    case 16:
    case 17: {  // loads, stores, instruction fetches, and touches that leave the byte alone
      static constexpr Access kKind[] = {Access::Read, Access::Write, Access::Exec};
      uint64_t a = addr(b);
      Access kind = b.pick(kKind);
      uint8_t v = b.u8();
      (void)k.access(pid, a, kind, v, (v & 0x80) == 0);
      break;
    }
    case 18: {
      static constexpr uint64_t kFlags[] = {O_RDONLY_, O_RDWR_, O_WRONLY_, O_RDWR_ | O_CREAT_,
                                            O_RDWR_ | O_CREAT_ | O_TRUNC_, O_WRONLY_ | O_APPEND_,
                                            O_RDWR_ | O_CREAT_ | O_EXCL_, O_RDONLY_ | O_DIRECTORY_};
      const std::string& path = b.pick(kPaths);
      (void)k.sys_openat(pid, -100, path, b.pick(kFlags), 0644);
      break;
    }
    case 19: {
      int64_t d = fd(b);
      int64_t len = static_cast<int64_t>(b.u8() % 48) * static_cast<int64_t>(kPageSize) + (b.u8() % 4) * 1000 - 1000;
      (void)k.sys_ftruncate(pid, d, len);
      break;
    }
    case 20: {  // write/pwrite64, from user memory or from literal bytes
      int64_t d = fd(b);
      uint8_t how = b.u8();
      uint64_t count = b.u8() % 2 ? b.u16() % (3 * kPageSize) : b.u8();
      uint64_t off = (b.u8() % 48) * kPageSize + b.u8();
      std::vector<uint8_t> bytes(static_cast<size_t>(b.u8()), how);
      const std::vector<uint8_t>* literal = (how & 1) ? &bytes : nullptr;
      if (literal) count = bytes.size();
      uint64_t buf = addr(b);
      if (how & 2)
        (void)k.sys_pwrite64(pid, d, buf, count, off, literal);
      else
        (void)k.sys_write(pid, d, buf, count, literal);
      break;
    }
    case 21: {  // read/pread64 into user memory
      int64_t d = fd(b);
      uint8_t how = b.u8();
      uint64_t count = b.u16() % (3 * kPageSize);
      uint64_t buf = addr(b);
      if (how & 1)
        (void)k.sys_pread64(pid, d, buf, count, (b.u8() % 48) * kPageSize, how & 2);
      else
        (void)k.sys_read(pid, d, buf, count, how & 2);
      break;
    }
    case 22: {
      int64_t d = fd(b);
      uint8_t w = b.u8();
      (void)k.sys_lseek(pid, d, static_cast<int64_t>(w % 64) * 1000 - 8000, w % 5);
      break;
    }
    case 23:
      if (b.u8() & 1)
        (void)k.sys_close(pid, fd(b));
      else
        (void)k.sys_unlink(pid, b.pick(kPaths));
      break;
    case 24: {
      uint8_t v = b.u8();
      if (v & 1) {
        (void)k.sys_memfd_create(pid, "fuzz", v >> 1 & 3);
      } else {
        StatResult st;
        (void)k.sys_fstat(pid, fd(b), &st);
      }
      break;
    }
    case 25: {
      uint64_t a = addr(b), len = length(b);
      std::vector<uint8_t> shown;
      (void)k.sys_mincore(pid, a, len, addr(b), &shown);
      break;
    }
    case 26: {
      uint8_t v = b.u8();
      if (v % 4 == 0) {
        (void)k.sys_execve(pid, (v & 4) ? "/home/user/a.out" : b.pick(kPaths));
      } else if (v % 4 == 1) {
        (void)k.sys_getpid(pid);
      } else if (v % 4 == 2) {
        // Frame allocations fail for a while: the OOM and error paths.
        k.fail_next_frame_allocs(b.u8() % kMaxFailures, b.u8() % kMaxFailures);
      } else {
        (void)k.spawn("fuzz");
      }
      break;
    }
    case 27: {  // the read-only views must cope with whatever state there is
      uint64_t a = addr(b);
      (void)k.walk(pid, a);
      (void)k.peek(pid, a, b.u8());
      (void)k.pagemap_entry(pid, a);
      (void)k.proc_maps(pid);
      (void)k.proc_smaps(pid);
      (void)k.proc_status(pid);
      (void)k.proc_meminfo();
      (void)k.proc_vmstat();
      (void)k.proc_swaps();
      (void)k.oom_score(pid);
      (void)k.ptes(pid);
      if (k.swap().total()) (void)k.swap_mappers(1 + b.u8() % k.swap().total());
      break;
    }
    case 28:  // vm.overcommit_memory and overcommit_ratio change at run time
      k.set_overcommit(b.u8() % 3, b.u8());
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A booted kernel with one process, built once and copied (state is values): a
  // kernel's constructor fills the disk, which is slow under coverage instrumentation.
  static const Kernel booted = [] {
    KernelConfig cfg;
    cfg.phys.frames = 256;  // small, so that allocations run out
    cfg.swap_pages = 96;    // smaller still: reclaim, swap-out, swap-in and the OOM killer all run
    cfg.max_processes = 8;
    Kernel k(cfg);
    if (!k.spawn("init")) std::abort();
    return k;
  }();
  Bytes b(data, size);
  Kernel k = booted;
  int n = 0;
  while (!b.empty()) {
    step(k, b);
    k.drain_events();
    ++n;
    std::vector<std::string> bad = k.check_invariants();
    if (!bad.empty()) {
      std::fprintf(stderr, "fuzz_engine: invariants broken after step %d:\n", n);
      for (const auto& line : bad) std::fprintf(stderr, "  %s\n", line.c_str());
      std::abort();
    }
  }
  return 0;
}
