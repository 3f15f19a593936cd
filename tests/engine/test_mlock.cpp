// mlock and friends, mincore, MAP_POPULATE: the measured cases (root: CAP_IPC_LOCK).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;
constexpr uint64_t RW = PROT_READ | PROT_WRITE;
SysResult mlock(World& w, uint64_t a, uint64_t l, uint64_t f = 0, Sysno which = Sysno::mlock) {
  return w.checked(w.k.sys_mlock(w.pid, a, l, f, which));
}
std::string smaps_of(World& w, uint64_t start) {
  std::string s = *w.k.proc_smaps(w.pid);
  char key[32];
  std::snprintf(key, sizeof key, "%llx-", static_cast<unsigned long long>(start));
  size_t b = s.find(key);
  REQUIRE(b != std::string::npos);
  return s.substr(b, s.find("VmFlags", b) + 40 - b);
}
}  // namespace

TEST_CASE("mlock: splits, populates, counts VmLck; munlock merges back") {
  World w;
  uint64_t p = w.anon(8 * P, RW, 0xa00000000, MAP_FIXED_NOREPLACE);
  CHECK(mlock(w, p + 2 * P, 2 * P).is_ok());
  CHECK(w.mm().vmas.size() == 3);
  CHECK(w.mm().rss_anon == 2);  // populated for write: real pages
  CHECK(w.mm().locked_vm == 2);
  std::string s = smaps_of(w, p + 2 * P);
  CHECK(s.find("Locked:                8 kB\n") != std::string::npos);
  CHECK(s.find("VmFlags: rd wr mr mw me lo ac \n") != std::string::npos);
  CHECK(w.k.proc_status(w.pid)->find("VmLck:\t       8 kB\n") != std::string::npos);
  CHECK(mlock(w, p + 2 * P, 2 * P, 0, Sysno::munlock).is_ok());
  CHECK(w.mm().vmas.size() == 1);
  CHECK(w.mm().locked_vm == 0);
  CHECK(w.mm().rss_anon == 2);  // the pages stay
}

TEST_CASE("mlock: rounding, errors, and partial effects") {
  World w;
  uint64_t p = w.anon(8 * P, RW, 0xa00000000, MAP_FIXED_NOREPLACE);
  CHECK(mlock(w, p, 0).is_ok());
  CHECK(mlock(w, p + 1, P).is_ok());  // locks [p, p+2P)
  CHECK(w.mm().locked_vm == 2);
  CHECK(mlock(w, 0x900000000, P).err == Errno::NoMem);
  CHECK(mlock(w, p + 7 * P, 2 * P).err == Errno::NoMem);  // runs past the VMA...
  CHECK(w.mm().locked_vm == 3);                          // ...but its mapped part is locked
  CHECK(mlock(w, 0x900000000, P, 0, Sysno::munlock).err == Errno::NoMem);
  CHECK(mlock(w, p, P, 2, Sysno::mlock2).err == Errno::Inval);
  CHECK(mlock(w, p, P, 0x10, Sysno::mlock2).err == Errno::Inval);
  // PROT_NONE cannot be populated: ENOMEM, yet the VMA stays locked.
  uint64_t n = w.anon(2 * P, PROT_NONE, 0xc00000000, MAP_FIXED_NOREPLACE);
  CHECK(mlock(w, n, 2 * P).err == Errno::NoMem);
  CHECK((w.mm().vma_at(n)->flags & VM_LOCKED) != 0);
  CHECK(smaps_of(w, n).find("VmFlags: mr mw me lo \n") != std::string::npos);
}

TEST_CASE("mlock2(MLOCK_ONFAULT): locked but not populated; Locked counts resident pages only") {
  World w;
  uint64_t p = w.anon(8 * P, RW, 0xa00000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(p, 1).ok);
  CHECK(mlock(w, p, 8 * P, MLOCK_ONFAULT, Sysno::mlock2).is_ok());
  CHECK(w.mm().rss_anon == 1);
  CHECK(w.mm().locked_vm == 8);
  std::string s = smaps_of(w, p);
  CHECK(s.find("Locked:                4 kB\n") != std::string::npos);
  CHECK(s.find("VmFlags: rd wr mr mw me lo lf ac \n") != std::string::npos);
  CHECK(mlock(w, p, 8 * P, 0, Sysno::mlock2).is_ok());  // drops lf and populates
  CHECK(w.mm().rss_anon == 8);
}

TEST_CASE("mlockall: MCL_CURRENT locks and populates; MCL_FUTURE locks new mappings; munlockall undoes") {
  World w;
  uint64_t p = w.anon(4 * P);
  CHECK(w.checked(w.k.sys_mlockall(w.pid, 0)).err == Errno::Inval);
  CHECK(w.checked(w.k.sys_mlockall(w.pid, MCL_ONFAULT)).err == Errno::Inval);
  CHECK(w.checked(w.k.sys_mlockall(w.pid, 8)).err == Errno::Inval);
  CHECK(w.checked(w.k.sys_mlockall(w.pid, MCL_CURRENT)).is_ok());
  CHECK(w.mm().rss_anon == 4);
  CHECK(w.mm().locked_vm == 4);
  uint64_t q = w.anon(2 * P);
  CHECK((w.mm().vma_at(q)->flags & VM_LOCKED) == 0);  // created after: not locked
  CHECK(w.checked(w.k.sys_mlockall(w.pid, MCL_CURRENT | MCL_FUTURE)).is_ok());
  uint64_t r = w.anon(2 * P, RW, 0x500000000, MAP_FIXED_NOREPLACE);
  CHECK((w.mm().vma_at(r)->flags & VM_LOCKED) != 0);
  CHECK(w.mm().rss_anon == 8);  // populated at once
  CHECK(w.checked(w.k.sys_munlockall(w.pid)).is_ok());
  CHECK(w.mm().locked_vm == 0);
  CHECK((w.mm().vma_at(p)->flags & VM_LOCKED) == 0);
}

TEST_CASE("mincore: residency per page, the zero page and page-cache pages included") {
  World w;
  uint64_t p = w.anon(8 * P, RW, 0xb00000000, MAP_FIXED_NOREPLACE);
  uint64_t v = w.anon(P);
  CHECK(w.write(p, 1).ok);
  CHECK(w.read(p + 2 * P).ok);
  CHECK(w.write(p + 5 * P, 1).ok);
  std::vector<uint8_t> vec;
  CHECK(w.checked(w.k.sys_mincore(w.pid, p, 8 * P, v, &vec)).is_ok());
  CHECK(vec == std::vector<uint8_t>{1, 0, 1, 0, 0, 1, 0, 0});
  CHECK(w.read(v + 2).value == 1);  // written to user memory
  CHECK(w.madvise(p, 8 * P, MADV_DONTNEED).is_ok());
  vec.clear();
  CHECK(w.k.sys_mincore(w.pid, p, 8 * P, v, &vec).is_ok());
  CHECK(vec == std::vector<uint8_t>(8, 0));
  CHECK(w.k.sys_mincore(w.pid, p + 1, P, v, nullptr).err == Errno::Inval);
  CHECK(w.k.sys_mincore(w.pid, p, 0, v, nullptr).is_ok());
  CHECK(w.k.sys_mincore(w.pid, p, P, 8, nullptr).err == Errno::Fault);
  CHECK(w.k.sys_mincore(w.pid, 0xb00100000, P, v, nullptr).err == Errno::NoMem);
  // Past the VMA: ENOMEM, but the part before the hole is written.
  CHECK(w.write(p + 7 * P, 1).ok);
  CHECK(w.write(v + 1, 0xee).ok);
  vec.clear();
  CHECK(w.k.sys_mincore(w.pid, p + 7 * P, 2 * P, v, &vec).err == Errno::NoMem);
  CHECK(vec == std::vector<uint8_t>{1});
  CHECK(w.read(v + 1).value == 0xee);
  require_coherent(w.k);
}

TEST_CASE("mincore: a vector below a stack VMA grows it while the VMA is being read") {
  // Found by tests/fuzz/fuzz_engine (regressions/engine/mincore-grows-the-stack):
  // storing the first byte expanded the very VMA mincore was reading (use after free).
  World w;
  uint64_t s = w.anon(3 * P, RW, 0xb00000000, MAP_FIXED_NOREPLACE | MAP_GROWSDOWN);
  CHECK(w.write(s + 2 * P, 1).ok);
  std::vector<uint8_t> vec;
  CHECK(w.checked(w.k.sys_mincore(w.pid, s, 3 * P, s - 1, &vec)).is_ok());
  CHECK(vec == std::vector<uint8_t>{0, 0, 1});  // as before the vector was stored
  CHECK(w.mm().vma_at(s - P)->start == s - P);
  CHECK(w.read(s + 1).value == 1);
}

TEST_CASE("mincore: file pages count when they are in the page cache") {
  World w;
  int64_t fd = static_cast<int64_t>(w.k.sys_openat(w.pid, AT_FDCWD_, "/etc/hosts", O_RDONLY_, 0).value);
  uint64_t buf = w.anon(P);
  CHECK(w.k.sys_read(w.pid, fd, buf, 10).r.value == 10);  // page 0 now cached
  SysResult f = w.mmap({0, 4 * P, PROT_READ, MAP_PRIVATE, fd, 0});
  std::vector<uint8_t> vec;
  CHECK(w.k.sys_mincore(w.pid, f.value, 4 * P, buf, &vec).is_ok());
  CHECK(vec == std::vector<uint8_t>{1, 0, 0, 0});
}

TEST_CASE("MAP_POPULATE faults everything in; MAP_LOCKED too, and counts VmLck") {
  World w;
  SysResult a = w.mmap({0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0});
  REQUIRE(a.is_ok());
  CHECK(w.mm().rss_anon == 4);
  SysResult b = w.mmap({0, 2 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0});
  REQUIRE(b.is_ok());
  CHECK(w.mm().rss_anon == 6);
  CHECK(w.mm().locked_vm == 2);
  SysResult c = w.mmap({0, 2 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_NONBLOCK, -1, 0});
  REQUIRE(c.is_ok());
  CHECK(w.mm().rss_anon == 6);  // MAP_NONBLOCK turns MAP_POPULATE off
}

TEST_CASE("mlock: the pages are PG_mlocked while locked and mapped; meminfo counts them") {
  World w;
  uint64_t p = w.anon(2 * P, RW, 0xa00000000, MAP_FIXED_NOREPLACE);
  CHECK(mlock(w, p, 2 * P).is_ok());
  Pfn a = pte_pfn(w.k.walk(w.pid, p).pte());
  CHECK((w.k.phys().frame(a).flags & PG_mlocked) != 0);
  CHECK(w.k.proc_meminfo().find("Mlocked:               8 kB\n") != std::string::npos);
  CHECK(mlock(w, p, P, 0, Sysno::munlock).is_ok());
  CHECK((w.k.phys().frame(a).flags & PG_mlocked) == 0);
  CHECK(w.k.proc_meminfo().find("Mlocked:               4 kB\n") != std::string::npos);
  CHECK(w.munmap(p, 2 * P).is_ok());
  CHECK(w.k.proc_meminfo().find("Mlocked:               0 kB\n") != std::string::npos);
}
