// /proc/PID/maps in the kernel's exact format (fs/proc/task_mmu.c), compared with
// lines read from this machine's /proc/self/maps.
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

TEST_CASE("procfs: anonymous VMAs print with a trailing space and no name") {
  World w;
  CHECK(w.maps() == "");
  uint64_t p = w.anon(8192);
  (void)p;
  w.anon(4096, PROT_READ);
  w.anon(4096, PROT_NONE, 0x10000);
  CHECK(w.maps() ==
        "00010000-00011000 ---p 00000000 00:00 0 \n"
        "7ffff7ffc000-7ffff7ffd000 r--p 00000000 00:00 0 \n"
        "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
}

TEST_CASE("procfs: exec and all permission letters") {
  World w;
  w.anon(4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0x400000);
  CHECK(w.maps() == "00400000-00401000 rwxp 00000000 00:00 0 \n");
}

TEST_CASE("procfs: maps of a process that does not exist") {
  World w;
  CHECK_FALSE(w.k.proc_maps(99));
}

namespace {
// The value of one "Key:   N kB" line of an smaps or status text.
uint64_t field(const std::string& text, const std::string& key) {
  size_t at = text.find("\n" + key);
  if (at == std::string::npos && text.rfind(key, 0) == 0) at = 0; else if (at != std::string::npos) ++at;
  REQUIRE(at != std::string::npos);
  size_t b = text.find_first_of("0123456789", at + key.size());
  return std::stoull(text.substr(b));
}
}  // namespace

TEST_CASE("procfs: smaps of an anonymous VMA, byte for byte (measured: 16 pages, 2 written, 1 read)") {
  World w;
  uint64_t p = w.anon(16 * 4096, PROT_READ | PROT_WRITE, 0x600000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(p, 1).ok);
  CHECK(w.write(p + 5 * 4096, 1).ok);
  CHECK(w.read(p + 4096).ok);  // the zero page: not in Rss
  CHECK(*w.k.proc_smaps(w.pid) ==
        "600000000-600010000 rw-p 00000000 00:00 0 \n"
        "Size:                 64 kB\n"
        "KernelPageSize:        4 kB\n"
        "MMUPageSize:           4 kB\n"
        "Rss:                   8 kB\n"
        "Pss:                   8 kB\n"
        "Pss_Dirty:             8 kB\n"
        "Shared_Clean:          0 kB\n"
        "Shared_Dirty:          0 kB\n"
        "Private_Clean:         0 kB\n"
        "Private_Dirty:         8 kB\n"
        "Referenced:            8 kB\n"
        "Anonymous:             8 kB\n"
        "KSM:                   0 kB\n"
        "LazyFree:              0 kB\n"
        "AnonHugePages:         0 kB\n"
        "ShmemPmdMapped:        0 kB\n"
        "FilePmdMapped:         0 kB\n"
        "Shared_Hugetlb:        0 kB\n"
        "Private_Hugetlb:       0 kB\n"
        "Swap:                  0 kB\n"
        "SwapPss:               0 kB\n"
        "Locked:                0 kB\n"
        "THPeligible:           0\n"
        "VmFlags: rd wr mr mw me ac \n");
}

TEST_CASE("procfs: after fork a shared page is half in each Pss; a COW write makes both private") {
  World w;
  uint64_t p = w.anon(4 * 4096, PROT_READ | PROT_WRITE, 0x700000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(p, 42).ok);
  Pid c = static_cast<Pid>(w.k.sys_fork(w.pid).value);
  for (Pid pid : {w.pid, c}) {
    std::string s = *w.k.proc_smaps(pid);
    CHECK(field(s, "Rss:") == 4);
    CHECK(field(s, "Pss:") == 2);
    CHECK(field(s, "Pss_Dirty:") == 2);
    CHECK(field(s, "Shared_Dirty:") == 4);
    CHECK(field(s, "Private_Dirty:") == 0);
    CHECK(field(s, "Anonymous:") == 4);
  }
  CHECK(w.k.access(c, p, Access::Write, 43).ok);
  for (Pid pid : {w.pid, c}) {
    std::string s = *w.k.proc_smaps(pid);
    CHECK(field(s, "Pss:") == 4);
    CHECK(field(s, "Shared_Dirty:") == 0);
    CHECK(field(s, "Private_Dirty:") == 4);
  }
  CHECK(w.read(p).value == 42);
}

TEST_CASE("procfs: status memory lines") {
  World w;
  uint64_t p = w.anon(16 * 4096);
  CHECK(w.write(p, 1).ok);
  CHECK(w.write(p + 4096, 1).ok);
  CHECK(w.munmap(p + 4096, 4096).is_ok());
  std::string s = *w.k.proc_status(w.pid);
  CHECK(s.find("VmPeak:\t      64 kB\n") != std::string::npos);
  CHECK(s.find("VmSize:\t      60 kB\n") != std::string::npos);
  CHECK(s.find("VmHWM:\t       8 kB\n") != std::string::npos);
  CHECK(s.find("VmRSS:\t       4 kB\n") != std::string::npos);
  CHECK(s.find("RssAnon:\t       4 kB\n") != std::string::npos);
  CHECK(s.find("VmData:\t      60 kB\n") != std::string::npos);
  CHECK(s.find("VmPTE:\t      12 kB\n") != std::string::npos);
  CHECK(field(s, "VmLck:") == 0);
}

TEST_CASE("procfs: pagemap entries (present, exclusive, file, PFN) and meminfo") {
  World w;
  uint64_t p = w.anon(3 * 4096);
  CHECK(w.write(p, 1).ok);
  CHECK(w.read(p + 4096).ok);
  uint64_t pfn = pte_pfn(w.k.walk(w.pid, p).pte()).value;
  CHECK(*w.k.pagemap_entry(w.pid, p) == ((1ULL << 63) | (1ULL << 56) | pfn));
  CHECK(*w.k.pagemap_entry(w.pid, p + 4096) == ((1ULL << 63) | w.k.phys().zero_pfn().value));  // not "normal"
  CHECK(*w.k.pagemap_entry(w.pid, p + 2 * 4096) == 0);
  CHECK(*w.k.pagemap_entry(w.pid, 0x1000) == 0);
  Pid c = static_cast<Pid>(w.k.sys_fork(w.pid).value);
  CHECK(*w.k.pagemap_entry(c, p) == ((1ULL << 63) | pfn));  // shared now: not exclusive
  int64_t fd = static_cast<int64_t>(w.k.sys_openat(w.pid, AT_FDCWD_, "/etc/hosts", O_RDONLY_, 0).value);
  uint64_t f = w.mmap({0, 4096, PROT_READ, MAP_SHARED, fd, 0}).value;
  CHECK(w.read(f).ok);
  CHECK((*w.k.pagemap_entry(w.pid, f) >> 61 & 1) == 1);
  std::string mi = w.k.proc_meminfo();
  CHECK(mi.rfind("MemTotal:           4056 kB\n", 0) == 0);  // 1024 frames less 10 reserved
  CHECK(mi.find("Cached:                4 kB\n") != std::string::npos);
  CHECK(mi.find("AnonPages:             4 kB\n") != std::string::npos);
  CHECK(mi.find("Mapped:                4 kB\n") != std::string::npos);
}
