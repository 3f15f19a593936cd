// execve, brk and stack growth, against what this machine's kernel does (measured:
// ptrace stop after execve of a small gcc -O2 PIE; raw brk syscalls; stack probes).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;

World exec_world(KernelConfig cfg = {}) {
  World w(cfg);
  SysResult r = w.k.sys_execve(w.pid, "/home/user/a.out");
  require_coherent(w.k);
  REQUIRE(r.is_ok());
  return w;
}
uint64_t brk(World& w, uint64_t v) { return w.checked(w.k.sys_brk(w.pid, v)).value; }
}  // namespace

TEST_CASE("execve: the image the kernel builds, byte for byte (measured at the post-exec stop)") {
  World w = exec_world();
  CHECK(w.maps() ==
        "555555554000-555555555000 r--p 00000000 fe:00 10952816                   /home/user/a.out\n"
        "555555555000-555555556000 r-xp 00001000 fe:00 10952816                   /home/user/a.out\n"
        "555555556000-555555557000 r--p 00002000 fe:00 10952816                   /home/user/a.out\n"
        "555555557000-555555559000 rw-p 00002000 fe:00 10952816                   /home/user/a.out\n"
        "7ffff7fc2000-7ffff7fc6000 r--p 00000000 00:00 0                          [vvar]\n"
        "7ffff7fc6000-7ffff7fc8000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
        "7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0                          [vdso]\n"
        "7ffff7fca000-7ffff7fcb000 r--p 00000000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7fcb000-7ffff7ff1000 r-xp 00001000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7ff1000-7ffff7ffb000 r--p 00027000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7ffb000-7ffff7fff000 rw-p 00031000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n");
  std::string st = *w.k.proc_status(w.pid);
  for (const char* line : {"VmPeak:\t     396 kB\n", "VmSize:\t     396 kB\n", "VmLck:\t       0 kB\n",
                           "VmHWM:\t      12 kB\n", "VmRSS:\t      12 kB\n", "RssAnon:\t      12 kB\n",
                           "RssFile:\t       0 kB\n", "VmData:\t      24 kB\n", "VmStk:\t     132 kB\n",
                           "VmExe:\t       4 kB\n", "VmLib:\t     160 kB\n", "VmPTE:\t      28 kB\n"}) {
    INFO(line);
    CHECK(st.find(line) != std::string::npos);
  }
  std::string smaps = *w.k.proc_smaps(w.pid);
  CHECK(smaps.find("[vvar]\nSize:                 16 kB\n") != std::string::npos);
  CHECK(smaps.find("VmFlags: rd mr pf io de dd \n") != std::string::npos);
  CHECK(smaps.find("VmFlags: rd ex mr mw me de \n") != std::string::npos);
  CHECK(smaps.find("VmFlags: rd wr mr mw me gd ac \n") != std::string::npos);
  CHECK(smaps.find("[vsyscall]\nSize:                  4 kB\n") != std::string::npos);
}

TEST_CASE("execve: errors, and what survives it") {
  World w;
  CHECK(w.k.sys_execve(w.pid, "/nope").err == Errno::NoEnt);
  CHECK(w.k.sys_execve(w.pid, "/etc/hosts").err == Errno::Acces);  // not executable
  CHECK(w.k.sys_execve(w.pid, "/usr/lib/x86_64-linux-gnu/libc.so.6").err == Errno::NoExec);
  uint64_t p = w.anon(P);
  CHECK(w.write(p, 1).ok);
  int64_t keep = static_cast<int64_t>(w.k.sys_openat(w.pid, AT_FDCWD_, "/etc/hosts", O_RDONLY_, 0).value);
  int64_t gone = static_cast<int64_t>(w.k.sys_openat(w.pid, AT_FDCWD_, "/etc/hosts", O_RDONLY_ | O_CLOEXEC_, 0).value);
  CHECK(w.k.sys_execve(w.pid, "/home/user/a.out").is_ok());
  require_coherent(w.k);
  CHECK(w.mm().vma_at(p)->inode != 0);  // the old page is gone: ld.so is mapped there now
  StatResult st;
  CHECK(w.k.sys_fstat(w.pid, keep, &st).is_ok());
  CHECK(w.k.sys_fstat(w.pid, gone, &st).err == Errno::BadF);
}

TEST_CASE("execve: the vDSO can be read; vvar pages are raw PFNs outside Rss") {
  World w = exec_world();
  uint64_t rss = w.mm().rss();
  AccessResult r = w.read(0x7ffff7fc8000);
  CHECK(r.fault == FaultKind::Special);
  CHECK(r.value == 0x7f);  // the vDSO is an ELF image
  CHECK(w.mm().rss() == rss + 1);
  CHECK(w.read(0x7ffff7fc2000).ok);
  CHECK(w.mm().rss() == rss + 1);
  CHECK(w.write(0x7ffff7fc8000, 1).si_code == kSegvAccErr);
}

TEST_CASE("brk: the measured rules") {
  World w = exec_world();
  const uint64_t b0 = 0x555555559000;
  CHECK(brk(w, 0) == b0);
  CHECK(brk(w, b0 + 1) == b0 + 1);  // the unaligned value is kept and returned
  CHECK(w.maps().find("555555559000-55555555a000 rw-p 00000000 00:00 0                          [heap]\n") !=
        std::string::npos);
  CHECK(brk(w, 0) == b0 + 1);
  CHECK(brk(w, b0 + 0x3005) == b0 + 0x3005);
  CHECK(w.mm().vma_at(b0)->end == b0 + 0x4000);
  CHECK(brk(w, b0 + 0x1000) == b0 + 0x1000);  // shrinking always works
  CHECK(w.mm().vma_at(b0)->end == b0 + 0x1000);
  CHECK(brk(w, b0) == b0);
  CHECK(w.mm().vma_at(b0) == nullptr);  // the heap VMA is gone
  CHECK(brk(w, b0 - 0x1000) == b0);     // below start_brk: unchanged
  CHECK(brk(w, 1) == b0);
  CHECK(brk(w, 0x800000000000) == b0);
  // An obstacle: the break may come to one free page short of it.
  CHECK(brk(w, b0 + 1) == b0 + 1);
  CHECK(w.mmap({b0 + 0x10000, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0}).is_ok());
  CHECK(brk(w, b0 + 0x20000) == b0 + 1);
  CHECK(brk(w, b0 + 0x10000) == b0 + 1);
  CHECK(brk(w, b0 + 0xf001) == b0 + 1);
  CHECK(brk(w, b0 + 0xf000) == b0 + 0xf000);
  // The heap is anonymous memory like any other.
  CHECK(w.write(b0 + 0x100, 5).fault == FaultKind::AnonNewPage);
  CHECK(w.read(b0 + 0x100).value == 5);
}

TEST_CASE("brk: [heap] never merges with the bss VMA below start_brk") {
  World w;
  CHECK(w.k.sys_execve(w.pid, "/home/user/a.out").is_ok());
  // An anonymous bss-like VMA ending exactly at start_brk.
  CHECK(w.mmap({0x555555559000 - 2 * P, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0})
            .is_ok());
  CHECK(brk(w, 0x555555559000 + P) == 0x555555559000 + P);
  CHECK(w.mm().vma_at(0x555555559000)->start == 0x555555559000);
}

TEST_CASE("stack: it grows on a fault below it, within the rlimit and the guard gap") {
  // 16 MiB of RAM: growing the stack by 8 MiB at once is charged like any mapping,
  // and overcommit mode 0 refuses a charge larger than RAM + swap.
  KernelConfig cfg;
  cfg.phys.frames = 4096;
  World w = exec_world(cfg);
  const uint64_t bottom = 0x7ffffffde000;
  CHECK(w.write(bottom - 1, 1).ok);
  CHECK(w.mm().vma_at(bottom - 1)->start == bottom - P);
  CHECK(w.write(bottom - 0x10000, 1).ok);  // no check against the stack pointer
  CHECK(w.mm().stack_vm == (0x21000 + 0x10000) / P);
  // 8 MiB is the limit.
  const uint64_t top = 0x7ffffffff000;
  CHECK(w.write(top - (8 << 20), 1).ok);
  CHECK(w.write(top - (8 << 20) - 1, 1).si_code == kSegvMapErr);
}

TEST_CASE("stack: growth larger than RAM + swap is refused in overcommit mode 0, allowed in mode 1") {
  World w = exec_world();  // 4 MiB of RAM
  const uint64_t top = 0x7ffffffff000;
  AccessResult r = w.write(top - (6 << 20), 1);
  CHECK(r.si_code == kSegvMapErr);  // acct_stack_growth failed: bad_area
  World w1 = exec_world();
  w1.k.set_overcommit(1, 50);
  CHECK(w1.write(top - (6 << 20), 1).ok);
}

TEST_CASE("stack: growth stops a guard gap (1 MiB) short of an accessible mapping") {
  World w = exec_world();
  const uint64_t bottom = 0x7ffffffde000;
  CHECK(w.mmap({bottom - (3 << 20), P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0}).is_ok());
  uint64_t below_end = bottom - (3 << 20) + P;
  CHECK(w.write(below_end + (1 << 20), 1).ok);          // exactly the gap left: allowed
  CHECK(w.write(below_end + (1 << 20) - 1, 1).signo == kSigSegv);
}

TEST_CASE("execve with ASLR: a seed gives one layout, the same on every build; offsets stay in Linux's ranges") {
  KernelConfig a;
  a.aslr_seed = 42;
  World w1 = exec_world(a), w2 = exec_world(a);
  CHECK(w1.maps() == w2.maps());
  KernelConfig b;
  b.aslr_seed = 43;
  World w3 = exec_world(b);
  CHECK(w3.maps() != w1.maps());
  for (World* w : {&w1, &w3}) {
    const Mm& mm = w->mm();
    CHECK(mm.load_base >= 0x555555554000);
    CHECK(mm.load_base < 0x555555554000 + (1ULL << 40));       // 28 bits of pages
    CHECK(mm.start_stack < 0x7ffffffff000);
    CHECK(mm.start_stack > 0x7ffffffff000 - (0x400000ULL << 12)); // 22 bits of pages
    CHECK(mm.start_brk >= mm.load_base + 0x5000);
    CHECK(mm.start_brk < mm.load_base + 0x5000 + 0x2000000);   // within 32 MiB
    CHECK(mm.interp_base < mm.mmap_base);
    CHECK(w->k.check_invariants().empty());
  }
  // The generator is ours (splitmix64), so these are the same natively and in wasm.
  CHECK(w1.mm().load_base == 0x557bc4657000);
  CHECK(w1.mm().interp_base == 0x7efd48836000);
  // Without a seed nothing moves: the setarch -R layout.
  World plain = exec_world();
  CHECK(plain.mm().load_base == 0x555555554000);
  CHECK(plain.mm().interp_base == 0x7ffff7fca000);
}
