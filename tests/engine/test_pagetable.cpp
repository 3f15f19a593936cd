#include <doctest/doctest.h>

#include "engine/pagetable.h"

using namespace vmplay::engine;

TEST_CASE("pagetable: indices of a 48-bit address at each level") {
  uint64_t a = 0x7ffff7ffd000;
  //   PGD 255, PUD 511, PMD 447, PTE 509
  CHECK(pt_index(a, 4) == 255);
  CHECK(pt_index(a, 3) == 511);
  CHECK(pt_index(a, 2) == 447);
  CHECK(pt_index(a, 1) == 509);
  CHECK(pt_entry_span(1) == 4096);
  CHECK(pt_entry_span(2) == 2ULL << 20);
  CHECK(pt_entry_span(3) == 1ULL << 30);
  CHECK(pt_entry_span(4) == 512ULL << 30);
}

struct Tables {
  PhysMem mem{PhysConfig{64}};
  PgtableCounters counters;
  Pfn root = *mem.alloc(FrameOwner::PageTable, 1, 4, PG_pagetable);
  PageTables pt{mem, root, 1, counters};
};

TEST_CASE("pagetable: alloc_pte builds the missing levels with _PAGE_TABLE entries") {
  Tables t;
  uint64_t a = 0x7ffff7ffd000;
  CHECK_FALSE(t.pt.find_pte(a));
  auto slot = t.pt.alloc_pte(a);
  REQUIRE(slot);
  CHECK(t.counters.nr_pud_tables == 1);
  CHECK(t.counters.nr_pmd_tables == 1);
  CHECK(t.counters.nr_pte_tables == 1);
  Walk w = t.pt.walk(a);
  REQUIRE(w.reached_pte);
  CHECK(w.depth == 4);
  CHECK(w.steps[0].entry == (mk_pte(Pfn{3}, _PAGE_TABLE)));  // PUD table in frame 3
  CHECK(w.steps[0].entry == 0x3067);
  CHECK(w.steps[1].entry == 0x4067);
  CHECK(w.steps[2].entry == 0x5067);
  CHECK(w.steps[3].entry == 0);
  CHECK(slot->table == Pfn{5});
  CHECK(slot->index == 509);
  // A second address in the same 2 MiB shares every table.
  auto slot2 = t.pt.alloc_pte(a - 4096);
  CHECK(slot2->table == Pfn{5});
  CHECK(t.counters.pages() == 3);
}

TEST_CASE("pagetable: a walk stops at the first empty entry") {
  Tables t;
  Walk w = t.pt.walk(0x1000);
  CHECK(w.depth == 1);
  CHECK_FALSE(w.reached_pte);
  CHECK(w.steps[0].entry == 0);
}

TEST_CASE("pagetable: free_pgd_range frees only tables inside [floor, ceiling)") {
  Tables t;
  // Two PTE tables under one PMD: 0x7ffff7e00000 and 0x7ffff7c00000 blocks.
  REQUIRE(t.pt.alloc_pte(0x7ffff7ffd000));
  REQUIRE(t.pt.alloc_pte(0x7ffff7c00000));
  CHECK(t.counters.nr_pte_tables == 2);
  int freed = 0;
  auto count = [&](Pfn, int) { ++freed; };
  // Unmapping the upper block while a VMA still ends at 0x7ffff7c01000 below it:
  // its PTE table goes, the shared PMD/PUD stay.
  t.pt.free_pgd_range(0x7ffff7ffd000, 0x7ffff7fff000, 0x7ffff7c01000, 0, count);
  CHECK(freed == 1);
  CHECK(t.counters.nr_pte_tables == 1);
  CHECK(t.counters.nr_pmd_tables == 1);
  // Nothing left around: everything below the PGD goes.
  t.pt.free_pgd_range(0x7ffff7c00000, 0x7ffff7c01000, 0, 0, count);
  CHECK(t.counters.pages() == 0);
  CHECK(freed == 4);
  CHECK(t.mem.read_u64(t.root, 255) == 0);
}

TEST_CASE("pagetable: entries decode into their bits") {
  EntryBits b = decode_entry(0x8000000000053067);
  CHECK(b.present);
  CHECK(b.rw);
  CHECK(b.user);
  CHECK(b.accessed);
  CHECK(b.dirty);
  CHECK(b.nx);
  CHECK_FALSE(b.global);
  CHECK(b.pfn == Pfn{0x53});
  EntryBits n = decode_entry(0x53000 | _PAGE_ACCESSED | _PAGE_PROTNONE);
  CHECK_FALSE(n.present);
  CHECK(n.protnone);
  CHECK_FALSE(n.global);  // bit 8 means PROT_NONE when the page is not present
  CHECK(decode_entry(mk_pte(Pfn{1}, _PAGE_PRESENT | _PAGE_USER | _PAGE_SPECIAL)).special);
}
