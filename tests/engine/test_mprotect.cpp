// mprotect and VMA merging, each case measured on Linux 6.18 (setarch -R, C probes).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;
constexpr uint64_t R = PROT_READ;
constexpr uint64_t RW = PROT_READ | PROT_WRITE;
constexpr uint64_t RWX = PROT_READ | PROT_WRITE | PROT_EXEC;
constexpr uint64_t NOREPLACE = MAP_FIXED_NOREPLACE;

}  // namespace

TEST_CASE("mprotect: argument errors in Linux's order") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x400000000, NOREPLACE);
  std::string before = w.maps();
  CHECK(w.mprotect(p + 1, P, R).err == Errno::Inval);
  CHECK(w.mprotect(p, 0, R).is_ok());
  CHECK(w.mprotect(p + 1, 0, R).err == Errno::Inval);          // alignment before len == 0
  CHECK(w.mprotect(0x7f0000000000, 0, R).is_ok());
  CHECK(w.mprotect(p, P, 0x10).err == Errno::Inval);
  CHECK(w.mprotect(p, P, PROT_GROWSDOWN).err == Errno::Inval);  // not a growsdown VMA
  CHECK(w.mprotect(p, P, PROT_GROWSUP).err == Errno::Inval);
  CHECK(w.mprotect(p, P, R | PROT_GROWSDOWN).err == Errno::Inval);
  CHECK(w.mprotect(p, P, R | PROT_GROWSUP | PROT_GROWSDOWN).err == Errno::Inval);
  CHECK(w.mprotect(p + 0x100000, P, R).err == Errno::NoMem);
  CHECK(w.mprotect(p, ~0xfffULL, R).err == Errno::NoMem);
  CHECK(w.mprotect(0xfffffffffffff000, P, R).err == Errno::NoMem);
  CHECK(w.mprotect(0x800000000000, P, R).err == Errno::NoMem);
  CHECK(w.maps() == before);
  // PROT_SEM (0x8) is accepted and ignored.
  CHECK(w.mprotect(p, P, 0x8 | R).is_ok());
  CHECK(w.maps() ==
        "400000000-400001000 r--p 00000000 00:00 0 \n"
        "400001000-400004000 rw-p 00000000 00:00 0 \n");
}

TEST_CASE("mprotect: the length rounds up; a middle split re-merges when restored") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x440000000, NOREPLACE);
  CHECK(w.write(p + 2 * P, 1).ok);
  CHECK(w.mprotect(p + P, 1, R).is_ok());
  CHECK(w.maps() ==
        "440000000-440001000 rw-p 00000000 00:00 0 \n"
        "440001000-440002000 r--p 00000000 00:00 0 \n"
        "440002000-440004000 rw-p 00000000 00:00 0 \n");
  CHECK(w.mprotect(p + 2 * P, P, R).is_ok());  // joins its left neighbour
  CHECK(w.maps() ==
        "440000000-440001000 rw-p 00000000 00:00 0 \n"
        "440001000-440003000 r--p 00000000 00:00 0 \n"
        "440003000-440004000 rw-p 00000000 00:00 0 \n");
  // The written page became read-only in the page table too.
  CHECK((w.k.walk(w.pid, p + 2 * P).pte() & _PAGE_RW) == 0);
  CHECK(w.write(p + 2 * P, 2).si_code == kSegvAccErr);
}

TEST_CASE("mprotect: restoring write access re-merges and needs no fault for an exclusive page") {
  World w;
  uint64_t p = w.anon(3 * P, RW, 0x290000000, NOREPLACE);
  CHECK(w.write(p + P, 1).ok);
  CHECK(w.mprotect(p + P, P, R).is_ok());
  CHECK(w.mm().vmas.size() == 3);
  CHECK(w.mprotect(p + P, P, RW).is_ok());
  CHECK(w.maps() == "290000000-290003000 rw-p 00000000 00:00 0 \n");
  CHECK((w.k.walk(w.pid, p + P).pte() & _PAGE_RW) != 0);
  CHECK(w.write(p + P, 2).fault == FaultKind::None);
  CHECK(w.mm().total_vm == 3);
}

TEST_CASE("mprotect: a hole makes it ENOMEM after changing what came before") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x430000000, NOREPLACE);
  CHECK(w.mprotect(p + P, P, RWX).is_ok());
  CHECK(w.munmap(p + 2 * P, P).is_ok());
  CHECK(w.mprotect(p, 4 * P, R).err == Errno::NoMem);
  CHECK(w.maps() ==
        "430000000-430002000 r--p 00000000 00:00 0 \n"
        "430003000-430004000 rw-p 00000000 00:00 0 \n");
  // Starting in the hole changes nothing.
  CHECK(w.mprotect(p + 2 * P, 2 * P, R).err == Errno::NoMem);
  CHECK(w.maps() ==
        "430000000-430002000 r--p 00000000 00:00 0 \n"
        "430003000-430004000 rw-p 00000000 00:00 0 \n");
  // Running past the end changes the mapped part.
  CHECK(w.mprotect(p + 3 * P, 2 * P, R).err == Errno::NoMem);
  CHECK(w.maps() ==
        "430000000-430002000 r--p 00000000 00:00 0 \n"
        "430003000-430004000 r--p 00000000 00:00 0 \n");
}

TEST_CASE("mprotect: PROT_GROWSDOWN extends the range down to the VMA's start") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x450000000, NOREPLACE | MAP_GROWSDOWN);
  CHECK(w.mprotect(p + 2 * P, P, R | PROT_GROWSDOWN).is_ok());
  CHECK(w.maps() ==
        "450000000-450003000 r--p 00000000 00:00 0 \n"
        "450003000-450004000 rw-p 00000000 00:00 0 \n");
  CHECK(w.mprotect(p + 2 * P, P, R | PROT_GROWSUP).err == Errno::Inval);
}

TEST_CASE("merge: making neighbours identical merges them when their anon_vmas allow") {
  SUBCASE("written + written, the second faulted while adjacent: same anon_vma, merges") {
    World w;
    uint64_t p = w.anon(P, RW, 0x158000000, NOREPLACE);
    uint64_t q = w.anon(P, RWX, p + P, NOREPLACE);
    CHECK(w.write(p, 1).ok);
    CHECK(w.write(q, 1).ok);  // anon_vma_prepare reuses p's anon_vma
    CHECK(w.mprotect(q, P, RW).is_ok());
    CHECK(w.maps() == "158000000-158002000 rw-p 00000000 00:00 0 \n");
  }
  SUBCASE("unwritten + written in either order merges") {
    World w;
    uint64_t p = w.anon(P, RWX, 0x178000000, NOREPLACE);
    uint64_t q = w.anon(P, RW, p + P, NOREPLACE);
    CHECK(w.write(q, 1).ok);
    CHECK(w.mprotect(p, P, RW).is_ok());
    CHECK(w.maps() == "178000000-178002000 rw-p 00000000 00:00 0 \n");
  }
  SUBCASE("pages written while apart have distinct anon_vmas and never merge") {
    World w;
    uint64_t p = w.anon(P, RW, 0x210000000, NOREPLACE);
    uint64_t q = w.anon(P, RW, p + 2 * P, NOREPLACE);
    CHECK(w.write(p, 1).ok);
    CHECK(w.write(q, 1).ok);
    uint64_t g = w.anon(P, RWX, p + P, NOREPLACE);
    CHECK(w.mprotect(g, P, RW).is_ok());
    CHECK(w.maps() ==
          "210000000-210002000 rw-p 00000000 00:00 0 \n"
          "210002000-210003000 rw-p 00000000 00:00 0 \n");
  }
  SUBCASE("RW -> R keeps VM_ACCOUNT once written, so a fresh R neighbour does not merge") {
    World w;
    uint64_t p = w.anon(P, RW, 0x240000000, NOREPLACE);
    CHECK(w.write(p, 1).ok);
    CHECK(w.mprotect(p, P, R).is_ok());
    w.anon(P, R, p + P, NOREPLACE);
    CHECK(w.maps() ==
          "240000000-240001000 r--p 00000000 00:00 0 \n"
          "240001000-240002000 r--p 00000000 00:00 0 \n");
  }
  SUBCASE("RW -> R drops VM_ACCOUNT when never written, so it merges") {
    World w;
    uint64_t p = w.anon(P, RW, 0x250000000, NOREPLACE);
    CHECK(w.mprotect(p, P, R).is_ok());
    w.anon(P, R, p + P, NOREPLACE);
    CHECK(w.maps() == "250000000-250002000 r--p 00000000 00:00 0 \n");
  }
  SUBCASE("R -> RW gains VM_ACCOUNT and merges with an RW neighbour") {
    World w;
    uint64_t p = w.anon(P, R, 0x1a0000000, NOREPLACE);
    w.anon(P, RW, p + P, NOREPLACE);
    CHECK(w.mprotect(p, P, RW).is_ok());
    CHECK(w.maps() == "1a0000000-1a0002000 rw-p 00000000 00:00 0 \n");
  }
  SUBCASE("MAP_NORESERVE neighbours do not merge with ordinary ones") {
    World w;
    uint64_t p = w.anon(P, RW, 0x180000000, NOREPLACE | MAP_NORESERVE);
    w.anon(P, RW, p + P, NOREPLACE);
    CHECK(w.mm().vmas.size() == 2);
  }
  SUBCASE("reading a PROT_READ page makes no anon_vma") {
    World w;
    uint64_t p = w.anon(P, R, 0x270000000, NOREPLACE);
    CHECK(w.read(p).ok);
    w.anon(P, R, p + P, NOREPLACE);
    CHECK(w.maps() == "270000000-270002000 r--p 00000000 00:00 0 \n");
  }
}

TEST_CASE("mprotect: PROT_NONE pages stay mapped but any access is SEGV_ACCERR") {
  World w;
  uint64_t p = w.anon(2 * P);
  CHECK(w.write(p, 7).ok);
  CHECK(w.mprotect(p, 2 * P, PROT_NONE).is_ok());
  uint64_t pte = w.k.walk(w.pid, p).pte();
  CHECK((pte & _PAGE_PRESENT) == 0);
  CHECK((pte & _PAGE_PROTNONE) != 0);
  CHECK(w.mm().rss_anon == 1);
  CHECK(w.mprotect(p, 2 * P, R).is_ok());
  CHECK(w.read(p).value == 7);
  CHECK(w.mprotect(p, 2 * P, PROT_NONE).is_ok());
  CHECK(w.read(p).si_code == kSegvAccErr);
}

TEST_CASE("mprotect: after fork a shared page stays write-protected until written") {
  World w;
  uint64_t p = w.anon(P);
  CHECK(w.write(p, 1).ok);
  CHECK(w.k.sys_fork(w.pid).is_ok());
  CHECK(w.mprotect(p, P, R).is_ok());
  CHECK(w.mprotect(p, P, RW).is_ok());
  CHECK((w.k.walk(w.pid, p).pte() & _PAGE_RW) == 0);
  CHECK(w.write(p, 2).fault == FaultKind::WpCopy);
}
