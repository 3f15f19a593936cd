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
