// mmap and munmap: argument checks in Linux's order and with Linux's errno, as
// measured on Linux 6.18 x86-64 (setarch -R, a ten-line C program per case).
#include <doctest/doctest.h>

#include "engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t ANON = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t RW = PROT_READ | PROT_WRITE;
}  // namespace

TEST_CASE("mmap: argument errors, checked in Linux's order") {
  World w;
  auto err = [&](MmapArgs a) { return w.mmap(a).err; };
  CHECK(err({0, 0, PROT_READ, ANON, -1, 0}) == Errno::Inval);                       // len 0
  CHECK(err({0, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0}) == Errno::Inval);           // no type
  CHECK(err({0, 4096, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x40000000, -1, 0}) ==
        Errno::Inval);
  CHECK(err({0, 4096, PROT_READ, ANON, -1, 1}) == Errno::Inval);                    // offset
  CHECK(err({0, ~0xfffULL, PROT_READ, ANON, -1, 0}) == Errno::NoMem);               // -4096
  CHECK(err({0, ~0ULL, PROT_READ, ANON, -1, 0}) == Errno::NoMem);                   // -1: aligns to 0
  CHECK(err({0, TASK_SIZE, PROT_READ, ANON, -1, 0}) == Errno::NoMem);               // no room
  CHECK(err({0, 4096, PROT_READ, MAP_PRIVATE, 99, 0}) == Errno::BadF);              // fd first...
  CHECK(err({0, 0, PROT_READ, MAP_PRIVATE, 99, 0}) == Errno::BadF);                 // ...before len
  CHECK(err({0x1001, 4096, PROT_READ, ANON | MAP_FIXED, -1, 0}) == Errno::Inval);
  CHECK(err({TASK_SIZE, 4096, PROT_READ, ANON | MAP_FIXED, -1, 0}) == Errno::NoMem);
  CHECK(err({TASK_SIZE - 4096, 8192, PROT_READ, ANON | MAP_FIXED, -1, 0}) == Errno::NoMem);
  CHECK(w.mm().vmas.empty());
  CHECK(w.mm().total_vm == 0);
}

TEST_CASE("mmap: unknown prot and flag bits are ignored for MAP_PRIVATE") {
  World w;
  CHECK(w.mmap({0, 4096, PROT_READ | 0x100, ANON, -1, 0}).is_ok());
  CHECK(w.mmap({0, 4096, PROT_READ, ANON | 0x40000000, -1, 0}).is_ok());
}

TEST_CASE("mmap: top-down placement below mmap_base, hints honoured") {
  World w;
  // With ASLR off, mmap_base = TASK_SIZE - 128 MiB (the minimum stack gap).
  CHECK(w.mm().mmap_base == 0x7ffff7fff000);
  uint64_t p = w.anon(8192);
  CHECK(p == 0x7ffff7ffd000);
  uint64_t q = w.anon(4096, PROT_READ);
  CHECK(q == 0x7ffff7ffc000);
  // A free hint is used as is (rounded down to a page).
  CHECK(w.anon(4096, PROT_READ, 0x100000001) == 0x100000000);
  // A hint that collides falls back to the top-down search.
  CHECK(w.anon(4096, PROT_READ, 0x100000000) == 0x7ffff7ffb000);
  // A hint below mmap_min_addr is raised to it (round_hint_to_min).
  CHECK(w.anon(4096, PROT_READ, 0x1000) == 0x10000);
  // A hint at the very top does not fit and falls back too.
  CHECK(w.anon(4096, PROT_READ, TASK_SIZE) == 0x7ffff7ffa000);
  // An offset is accepted for anonymous memory (pgoff is set from the address).
  CHECK(w.mmap({0, 8192, PROT_READ, ANON, -1, 0x7ffffffffffff000}).is_ok());
}

TEST_CASE("mmap: neighbours with the same flags merge; different ones do not") {
  World w;
  uint64_t a = w.anon(4096);
  uint64_t b = w.anon(4096);
  CHECK(b == a - 4096);
  REQUIRE(w.mm().vmas.size() == 1);
  CHECK(w.mm().vmas.begin()->second.start == b);
  CHECK(w.mm().vmas.begin()->second.end == a + 4096);
  uint64_t c = w.anon(4096, PROT_READ);
  CHECK(c == b - 4096);
  CHECK(w.mm().vmas.size() == 2);
  // Filling a hole between two compatible VMAs joins all three.
  uint64_t lo = w.anon(4096, RW, 0x200000000);
  uint64_t hi = w.anon(4096, RW, 0x200002000);
  CHECK(w.mm().vmas.size() == 4);
  CHECK(w.anon(4096, RW, 0x200001000) == 0x200001000);
  CHECK(w.mm().vmas.size() == 3);
  const Vma* v = w.mm().vma_at(lo);
  REQUIRE(v);
  CHECK(v->start == lo);
  CHECK(v->end == hi + 4096);
  CHECK(w.mm().total_vm == 6);
}

TEST_CASE("mmap: MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses with EEXIST") {
  World w;
  uint64_t p = w.anon(3 * 4096);
  CHECK(w.write(p + 4096, 7).ok);
  uint64_t frames = w.used_frames();
  SysResult r = w.mmap({p + 4096, 4096, PROT_READ, ANON | MAP_FIXED, -1, 0});
  REQUIRE(r.is_ok());
  CHECK(r.value == p + 4096);
  CHECK(w.mm().vmas.size() == 3);
  CHECK(w.used_frames() == frames - 1);  // the written page is gone
  CHECK(w.read(p + 4096).value == 0);
  CHECK(w.mmap({p, 4096, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0}).err == Errno::Exist);
  CHECK(w.mmap({p - 4096, 4096, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0}).value == p - 4096);
}

TEST_CASE("munmap: argument errors and no-ops") {
  World w;
  uint64_t p = w.anon(8192);
  CHECK(w.munmap(p + 1, 4096).err == Errno::Inval);
  CHECK(w.munmap(p, 0).err == Errno::Inval);
  CHECK(w.munmap(TASK_SIZE, 4096).err == Errno::Inval);
  CHECK(w.munmap(TASK_SIZE - 4096, 8192).err == Errno::Inval);
  CHECK(w.munmap(0x1000, ~0ULL).err == Errno::Inval);
  CHECK(w.munmap(0x1000, TASK_SIZE).err == Errno::Inval);
  CHECK(w.munmap(0xffffffffff600000, 4096).err == Errno::Inval);
  CHECK(w.munmap(0x100000000, 4096).is_ok());  // nothing mapped there
  CHECK(w.munmap(0, 4096).is_ok());
  CHECK(w.mm().vmas.size() == 1);
}

TEST_CASE("munmap: splits at both ends and frees frames and page tables") {
  World w;
  uint64_t base_frames = w.used_frames();  // reserved, zero page, PGD
  uint64_t p = w.anon(4 * 4096);
  for (int i = 0; i < 4; ++i) CHECK(w.write(p + 4096 * i, static_cast<uint8_t>(i + 1)).ok);
  CHECK(w.mm().rss_anon == 4);
  CHECK(w.mm().pgtables.pages() == 3);
  CHECK(w.used_frames() == base_frames + 3 + 4);
  //   p        p+1p     p+2p     p+3p
  //   [ rw    |  rw    |  rw    |  rw   ]   munmap(p+1p, 2p)
  //   [ rw   ]                  [  rw   ]
  CHECK(w.munmap(p + 4096, 8192).is_ok());
  REQUIRE(w.mm().vmas.size() == 2);
  CHECK(w.mm().rss_anon == 2);
  CHECK(w.mm().total_vm == 2);
  CHECK(w.mm().pgtables.pages() == 3);  // still in use by the two halves
  CHECK(w.read(p).value == 1);
  CHECK(w.read(p + 3 * 4096).value == 4);
  // pgoff of the upper piece continues the original.
  CHECK(w.mm().vma_at(p + 3 * 4096)->pgoff == (p >> 12) + 3);
  CHECK(w.munmap(p, 4 * 4096).is_ok());
  CHECK(w.mm().vmas.empty());
  CHECK(w.mm().rss_anon == 0);
  CHECK(w.mm().pgtables.pages() == 0);
  CHECK(w.used_frames() == base_frames);
}

TEST_CASE("munmap: a page-table page shared with a neighbour survives") {
  World w;
  uint64_t a = w.anon(4096, RW);
  uint64_t b = w.anon(4096, PROT_READ);  // separate VMA, same PTE table
  CHECK(w.write(a, 1).ok);
  CHECK(w.read(b).ok);
  CHECK(w.mm().pgtables.nr_pte_tables == 1);
  CHECK(w.munmap(a, 4096).is_ok());
  CHECK(w.mm().pgtables.nr_pte_tables == 1);
  CHECK(w.munmap(b, 4096).is_ok());
  CHECK(w.mm().pgtables.pages() == 0);
}

TEST_CASE("munmap: hitting vm.max_map_count while splitting is ENOMEM and changes nothing") {
  KernelConfig cfg;
  cfg.max_map_count = 3;
  World w(cfg);
  uint64_t a = w.anon(3 * 4096, RW, 0x100000000);
  w.anon(4096, PROT_READ, 0x200000000);
  w.anon(4096, PROT_READ, 0x300000000);
  CHECK(w.mm().vmas.size() == 3);
  CHECK(w.munmap(a + 4096, 4096).err == Errno::NoMem);
  CHECK(w.mm().vmas.size() == 3);
  CHECK(w.mm().total_vm == 5);
  // Unmapping a whole VMA needs no split.
  CHECK(w.munmap(0x200000000, 4096).is_ok());
}

TEST_CASE("mmap: a process can be spawned only while a frame is free for its PGD") {
  Kernel k;
  k.fail_next_frame_allocs(1);
  CHECK_FALSE(k.spawn("x"));
  CHECK(k.spawn("x") == Pid{1});
}

TEST_CASE("get_unmapped_area: the O(log n) gap index finds what a walk over every VMA finds") {
  // Pseudo-random mmap, munmap and mprotect calls; before each mmap the indexed search
  // must agree with the reference walk (and check_invariants compares the whole index
  // with the VMAs after every step).
  World w;
  uint64_t seed = 12345;
  auto next = [&]() {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  std::vector<uint64_t> live;
  for (int step = 0; step < 600; ++step) {
    uint64_t r = next() % 4;
    if (r < 2 || live.empty()) {
      uint64_t len = (1 + next() % 6) * 4096;
      uint64_t prot = next() % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
      uint64_t want = unmapped_area_linear(w.mm(), len, 0x10000, w.mm().mmap_base);
      SysResult a = w.mmap({0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0});
      REQUIRE(a.value == want);
      live.push_back(a.value);
    } else if (r == 2) {
      size_t i = next() % live.size();
      CHECK(w.munmap(live[i], (1 + next() % 3) * 4096).is_ok());
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      size_t i = next() % live.size();
      CHECK(w.mprotect(live[i], 4096, next() % 2 ? PROT_READ : PROT_READ | PROT_WRITE).err != Errno::Inval);
    }
  }
  CHECK(std::string(w.mm().vmas.check_structure()) == "");
}

TEST_CASE("vm.max_map_count: mmap fails only once the count is above the limit; splits need room below it") {
  // Measured with the real limit 65530: mmap succeeded up to a count of 65531.
  KernelConfig cfg;
  cfg.max_map_count = 4;
  World w(cfg);
  for (uint64_t i = 0; i < 5; ++i)
    CHECK(w.mmap({0x100000000 + i * 0x10000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0}).is_ok());
  CHECK(w.mm().vmas.size() == 5);  // max + 1
  CHECK(w.mmap({0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0}).err == Errno::NoMem);
  // Even a mapping that would merge into a neighbour is refused (checked before merging).
  CHECK(w.mmap({0x100001000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0}).err == Errno::NoMem);
  CHECK(w.madvise(0x100000000, 4096, MADV_DONTFORK).is_ok());  // whole VMA: no split needed
}

TEST_CASE("vm.max_map_count: a split at the limit is ENOMEM for mprotect, EAGAIN for madvise") {
  KernelConfig cfg;
  cfg.max_map_count = 2;
  World w(cfg);
  uint64_t p = w.anon(3 * 4096, PROT_READ | PROT_WRITE, 0x100000000, MAP_FIXED_NOREPLACE);
  w.anon(4096, PROT_READ, 0x200000000, MAP_FIXED_NOREPLACE);
  CHECK(w.mprotect(p, 4096, PROT_READ).err == Errno::NoMem);
  CHECK(w.madvise(p + 4096, 4096, MADV_DONTFORK).err == Errno::Again);
  CHECK(w.mm().vmas.size() == 2);
}
