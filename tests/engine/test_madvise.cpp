// madvise, measured on Linux 6.18 (facts: zero page and RSS; fork with DONTFORK/WIPEONFORK).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;
}  // namespace

TEST_CASE("madvise: argument checks") {
  World w;
  uint64_t p = w.anon(4 * P);
  CHECK(w.madvise(p, P, 7).err == Errno::Inval);      // not advice at all
  CHECK(w.madvise(p + 1, P, MADV_NORMAL).err == Errno::Inval);
  CHECK(w.madvise(p, ~0ULL, MADV_NORMAL).err == Errno::Inval);  // -1 rounds up to 0
  CHECK(w.madvise(p, 0, MADV_NORMAL).is_ok());
  CHECK(w.madvise(0x100000000, P, MADV_NORMAL).err == Errno::NoMem);
}

TEST_CASE("madvise: MADV_DONTNEED drops anonymous pages; they read back as zeros") {
  World w;
  uint64_t p = w.anon(16 * P, PROT_READ | PROT_WRITE, 0x600000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(p, 1).ok);
  CHECK(w.write(p + 5 * P, 1).ok);
  uint64_t frames = w.used_frames();
  CHECK(w.madvise(p, 16 * P, MADV_DONTNEED).is_ok());
  CHECK(w.mm().rss_anon == 0);
  CHECK(w.used_frames() == frames - 2);
  CHECK(w.mm().vmas.size() == 1);
  CHECK(w.mm().pgtables.pages() == 3);  // page tables stay
  CHECK(w.read(p).value == 0);
  std::string status = *w.k.proc_status(w.pid);
  CHECK(status.find("VmHWM:\t       8 kB\n") != std::string::npos);
}

TEST_CASE("madvise: MADV_DONTNEED on mlocked memory is EINVAL") {
  World w;
  uint64_t p = w.anon(P, PROT_READ | PROT_WRITE, 0, MAP_LOCKED);
  CHECK(w.madvise(p, P, MADV_DONTNEED).err == Errno::Inval);
}

TEST_CASE("madvise: DONTFORK and WIPEONFORK split and show in VmFlags; the child sees their effect") {
  World w;
  uint64_t dn = w.anon(2 * P, PROT_READ | PROT_WRITE, 0x710000000, MAP_FIXED_NOREPLACE);
  uint64_t wf = w.anon(2 * P, PROT_READ | PROT_WRITE, 0x720000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(dn, 1).ok);
  CHECK(w.write(wf, 9).ok);
  CHECK(w.write(wf + P, 9).ok);
  CHECK(w.madvise(dn, 2 * P, MADV_DONTFORK).is_ok());
  CHECK(w.madvise(wf, P, MADV_WIPEONFORK).is_ok());
  CHECK(w.maps() ==
        "710000000-710002000 rw-p 00000000 00:00 0 \n"
        "720000000-720001000 rw-p 00000000 00:00 0 \n"
        "720001000-720002000 rw-p 00000000 00:00 0 \n");
  std::string smaps = *w.k.proc_smaps(w.pid);
  CHECK(smaps.find("VmFlags: rd wr mr mw me dc ac \n") != std::string::npos);
  CHECK(smaps.find("VmFlags: rd wr mr mw me ac wf \n") != std::string::npos);
  Pid c = static_cast<Pid>(w.k.sys_fork(w.pid).value);
  require_coherent(w.k);
  CHECK(*w.k.proc_maps(c) ==
        "720000000-720001000 rw-p 00000000 00:00 0 \n"
        "720001000-720002000 rw-p 00000000 00:00 0 \n");
  CHECK(w.k.access(c, wf, Access::Read).value == 0);
  CHECK(w.k.access(c, wf + P, Access::Read).value == 9);
  CHECK(w.k.access(c, dn, Access::Read).si_code == kSegvMapErr);
  // KEEPONFORK and DOFORK undo them, and the pieces merge again.
  CHECK(w.madvise(wf, P, MADV_KEEPONFORK).is_ok());
  CHECK(w.mm().vmas.size() == 2);
}

TEST_CASE("madvise: a hole is ENOMEM but the advice still applies around it") {
  World w;
  uint64_t p = w.anon(3 * P, PROT_READ | PROT_WRITE, 0x800000000, MAP_FIXED_NOREPLACE);
  CHECK(w.munmap(p + P, P).is_ok());
  CHECK(w.madvise(p, 3 * P, MADV_RANDOM).err == Errno::NoMem);
  for (const auto& [s, v] : w.mm().vmas) CHECK((v.flags & VM_RAND_READ) != 0);
  CHECK(w.madvise(p, 3 * P, MADV_NORMAL).err == Errno::NoMem);
  for (const auto& [s, v] : w.mm().vmas) CHECK((v.flags & VM_RAND_READ) == 0);
  CHECK(w.madvise(p, P, MADV_SEQUENTIAL).is_ok());
  CHECK(w.madvise(p, P, MADV_WILLNEED).is_ok());
}
