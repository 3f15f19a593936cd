// mremap, each case measured on Linux 6.18 (setarch -R; raw syscall for DONTUNMAP
// because Debian glibc 2.36's wrapper passes a garbage new_address without FIXED).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;
constexpr uint64_t RW = PROT_READ | PROT_WRITE;
SysResult mremap(World& w, uint64_t a, uint64_t ol, uint64_t nl, uint64_t f, uint64_t na = 0) {
  return w.checked(w.k.sys_mremap(w.pid, a, ol, nl, f, na));
}
}  // namespace

TEST_CASE("mremap: argument errors") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x800000000, MAP_FIXED_NOREPLACE);
  uint64_t q = w.anon(P, PROT_READ, p + 4 * P, MAP_FIXED_NOREPLACE);
  (void)q;
  CHECK(mremap(w, p, 0, P, 0).err == Errno::Inval);                 // old_len 0 on private memory
  CHECK(mremap(w, p, 0, P, MREMAP_MAYMOVE).err == Errno::Inval);
  CHECK(mremap(w, p + 1, P, P, 0).err == Errno::Inval);
  CHECK(mremap(w, p, P, 0, 0).err == Errno::Inval);
  CHECK(mremap(w, p, P, 0, MREMAP_MAYMOVE).err == Errno::Inval);
  CHECK(mremap(w, p, P, P, 0x80).err == Errno::Inval);
  CHECK(mremap(w, 0x900000000, P, 2 * P, 0).err == Errno::Fault);   // nothing mapped there
  CHECK(mremap(w, p, 5 * P, 6 * P, 0).err == Errno::Fault);         // spans two VMAs while growing
  CHECK(mremap(w, p, 5 * P, 6 * P, MREMAP_MAYMOVE).err == Errno::Fault);
  CHECK(mremap(w, p, 4 * P, 4 * P, MREMAP_FIXED, 0x819000000).err == Errno::Inval);  // FIXED needs MAYMOVE
  CHECK(mremap(w, p, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, p + 2 * P).err == Errno::Inval);  // overlap
  CHECK(mremap(w, p, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, 0x819000001).err == Errno::Inval);
  CHECK(mremap(w, p, 4 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP).err == Errno::Inval);  // no resizing
  CHECK(mremap(w, p, 4 * P, 4 * P, MREMAP_DONTUNMAP).err == Errno::Inval);  // needs MAYMOVE
  CHECK(w.maps() ==
        "800000000-800004000 rw-p 00000000 00:00 0 \n"
        "800004000-800005000 r--p 00000000 00:00 0 \n");
}

TEST_CASE("mremap: grow in place, refuse when blocked, move with MAYMOVE keeping the pages") {
  World w;
  uint64_t p = w.anon(2 * P, RW, 0x800000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(p, 'A').ok);
  CHECK(mremap(w, p, 2 * P, 4 * P, 0).value == p);
  CHECK(w.maps() == "800000000-800004000 rw-p 00000000 00:00 0 \n");
  w.anon(P, PROT_READ, p + 4 * P, MAP_FIXED_NOREPLACE);
  CHECK(mremap(w, p, 4 * P, 8 * P, 0).err == Errno::NoMem);
  uint64_t frames = w.used_frames();
  SysResult r = mremap(w, p, 4 * P, 8 * P, MREMAP_MAYMOVE);
  REQUIRE(r.is_ok());
  CHECK(r.value == 0x7ffff7ff7000);  // the highest gap that fits
  CHECK(w.read(r.value).value == 'A');
  CHECK(w.mm().vma_at(p) == nullptr);
  CHECK(w.mm().rss_anon == 1);
  CHECK(w.used_frames() >= frames);  // the page moved, it was not copied
  // Shrinking is always in place and unmaps the tail.
  CHECK(mremap(w, r.value, 8 * P, 3 * P, 0).value == r.value);
  CHECK(w.mm().vma_at(r.value)->end == r.value + 3 * P);
}

TEST_CASE("mremap: MREMAP_FIXED replaces what is at the destination") {
  World w;
  uint64_t src = w.anon(4 * P, RW, 0x818000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(src, 'B').ok);
  uint64_t dst = w.anon(8 * P, PROT_READ, 0x81a000000, MAP_FIXED_NOREPLACE);
  CHECK(mremap(w, src, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 2 * P).value == dst + 2 * P);
  CHECK(w.maps() ==
        "81a000000-81a002000 r--p 00000000 00:00 0 \n"
        "81a002000-81a006000 rw-p 00000000 00:00 0 \n"
        "81a006000-81a008000 r--p 00000000 00:00 0 \n");
  CHECK(w.read(dst + 2 * P).value == 'B');
}

TEST_CASE("mremap: MREMAP_DONTUNMAP leaves the old VMA in place but empty") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x830000000, MAP_FIXED_NOREPLACE);
  CHECK(w.write(p, 'X').ok);
  CHECK(w.write(p + P, 'Y').ok);
  SysResult r = mremap(w, p, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
  REQUIRE(r.is_ok());
  CHECK(w.mm().vma_at(p) != nullptr);
  CHECK(w.read(p).value == 0);
  CHECK(w.read(r.value + P).value == 'Y');
  CHECK(w.mm().total_vm == 8);
  CHECK(mremap(w, p, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0x12345).err == Errno::Inval);
}

TEST_CASE("mremap: the measured quirks") {
  World w;
  uint64_t p = w.anon(4 * P, RW, 0x840000000, MAP_FIXED_NOREPLACE);
  // Equal lengths without FIXED/DONTUNMAP: a no-op that does not look at the range.
  CHECK(mremap(w, p, 8 * P, 8 * P, MREMAP_MAYMOVE).value == p);
  CHECK(mremap(w, p, P + 1, P + 1, 0).value == p);
  // Shrinking with an old length beyond the VMA is munmap of the tail.
  CHECK(mremap(w, p, 8 * P, 2 * P, 0).value == p);
  CHECK(w.maps() == "840000000-840002000 rw-p 00000000 00:00 0 \n");
}

TEST_CASE("mremap: moving an unwritten VMA re-bases its pgoff so it merges at the destination; a written one does not") {
  World w;
  uint64_t a = w.anon(P, RW, 0x300000000, MAP_FIXED_NOREPLACE);
  uint64_t b = w.anon(P, RW, a + 2 * P, MAP_FIXED_NOREPLACE);
  CHECK(mremap(w, b, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, a + P).value == a + P);
  CHECK(w.maps() == "300000000-300002000 rw-p 00000000 00:00 0 \n");
  World v;
  uint64_t c = v.anon(P, RW, 0x230000000, MAP_FIXED_NOREPLACE);
  uint64_t d = v.anon(P, RW, c + 2 * P, MAP_FIXED_NOREPLACE);
  CHECK(v.write(d, 1).ok);
  CHECK(mremap(v, d, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, c + P).value == c + P);
  CHECK(v.maps() ==
        "230000000-230001000 rw-p 00000000 00:00 0 \n"
        "230001000-230002000 rw-p 00000000 00:00 0 \n");
}

TEST_CASE("mremap: old_len 0 duplicates a shared mapping") {
  World w;
  SysResult s = w.mmap({0, P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0});
  REQUIRE(s.is_ok());
  CHECK(w.write(s.value, 'Z').ok);
  SysResult d = mremap(w, s.value, 0, P, MREMAP_MAYMOVE);
  REQUIRE(d.is_ok());
  CHECK(d.value != s.value);
  CHECK(w.read(d.value).value == 'Z');
}
