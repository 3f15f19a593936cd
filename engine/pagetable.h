// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// x86-64 4-level page tables. The tables live in frames of PhysMem: each table is a
// frame holding 512 little-endian 64-bit entries, exactly as the MMU reads them.
#pragma once
#include <array>
#include <cstdint>
#include <optional>

#include "engine/physmem.h"
#include "engine/types.h"

namespace vmplay::engine {

// Hardware bits of a page-table entry.
enum PteBit : uint64_t {
  _PAGE_PRESENT = 1ULL << 0,
  _PAGE_RW = 1ULL << 1,
  _PAGE_USER = 1ULL << 2,
  _PAGE_PWT = 1ULL << 3,
  _PAGE_PCD = 1ULL << 4,
  _PAGE_ACCESSED = 1ULL << 5,
  _PAGE_DIRTY = 1ULL << 6,
  _PAGE_PSE = 1ULL << 7,
  _PAGE_GLOBAL = 1ULL << 8,
  _PAGE_SPECIAL = 1ULL << 9,     // software: pte_special (the zero page)
  _PAGE_SOFT_DIRTY = 1ULL << 11, // software: soft-dirty (never set: no CONFIG_MEM_SOFT_DIRTY)
  _PAGE_NX = 1ULL << 63,
};
// Linux reuses the GLOBAL bit in a non-present PTE to mean PROT_NONE.
constexpr uint64_t _PAGE_PROTNONE = _PAGE_GLOBAL;
constexpr uint64_t PTE_PFN_MASK = 0x000ffffffffff000ULL;  // bits 12..51
// What Linux puts in a PGD/PUD/PMD entry that points at a lower table.
constexpr uint64_t _PAGE_TABLE =
    _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;

constexpr Pfn pte_pfn(uint64_t e) { return Pfn{(e & PTE_PFN_MASK) >> PAGE_SHIFT}; }
constexpr bool pte_present(uint64_t e) { return (e & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0; }
constexpr bool pte_none(uint64_t e) { return e == 0; }
constexpr uint64_t mk_pte(Pfn pfn, uint64_t prot) { return (pfn.value << PAGE_SHIFT) | prot; }

// An entry's bits, decoded.
struct EntryBits {
  bool present = false, rw = false, user = false, pwt = false, pcd = false, accessed = false,
       dirty = false, pse = false, global = false, special = false, nx = false;
  bool protnone = false;  // not present to the MMU, but a PROT_NONE page to Linux
  Pfn pfn;
};
constexpr EntryBits decode_entry(uint64_t e) {
  EntryBits b;
  b.present = e & _PAGE_PRESENT;
  b.rw = e & _PAGE_RW;
  b.user = e & _PAGE_USER;
  b.pwt = e & _PAGE_PWT;
  b.pcd = e & _PAGE_PCD;
  b.accessed = e & _PAGE_ACCESSED;
  b.dirty = e & _PAGE_DIRTY;
  b.pse = e & _PAGE_PSE;
  b.protnone = !b.present && (e & _PAGE_PROTNONE);
  b.global = b.present && (e & _PAGE_GLOBAL);
  b.special = e & _PAGE_SPECIAL;
  b.nx = e & _PAGE_NX;
  b.pfn = pte_pfn(e);
  return b;
}

// Levels, top down, with Linux's names.
enum class PtLevel : uint8_t { PGD = 4, PUD = 3, PMD = 2, PTE = 1 };
const char* pt_level_name(PtLevel l);
// Index of addr into a table of level l.
constexpr uint64_t pt_index(uint64_t addr, int level) {
  return (addr >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}
// Bytes one entry of level l covers: PTE 4 KiB, PMD 2 MiB, PUD 1 GiB, PGD 512 GiB.
constexpr uint64_t pt_entry_span(int level) { return 1ULL << (PAGE_SHIFT + 9 * (level - 1)); }

// Where a PTE lives: the page-table frame and the slot within it.
struct PteSlot {
  Pfn table;
  uint64_t index = 0;
};

// One step of a walk: the table it read, the index used, the entry found.
struct WalkStep {
  PtLevel level = PtLevel::PGD;
  Pfn table;
  uint64_t index = 0;
  uint64_t entry = 0;
};

// A walk of one address from the root down, stopping at the first empty entry.
struct Walk {
  uint64_t addr = 0;
  std::array<WalkStep, 4> steps{};
  int depth = 0;            // how many steps were taken (1..4)
  bool reached_pte = false; // steps[3] is the PTE-level step
  uint64_t pte() const { return reached_pte ? steps[3].entry : 0; }
};

// Counts of page-table pages below the PGD, as mm->pgtables_bytes tracks them.
struct PgtableCounters {
  uint64_t nr_pte_tables = 0;
  uint64_t nr_pmd_tables = 0;
  uint64_t nr_pud_tables = 0;
  uint64_t pages() const { return nr_pte_tables + nr_pmd_tables + nr_pud_tables; }
};

class PageTables {
 public:
  PageTables(PhysMem& mem, Pfn root, uint64_t owner_pid, PgtableCounters& counters, FrameSource* src = nullptr)
      : mem_(mem), root_(root), pid_(owner_pid), counters_(counters), src_(src) {}

  Walk walk(uint64_t addr) const;
  // The PTE slot for addr if every table down to the PTE level exists.
  std::optional<PteSlot> find_pte(uint64_t addr) const;
  // The PTE slot for addr, allocating missing tables (pte_alloc and friends);
  // nullopt when a frame for a table cannot be had.
  std::optional<PteSlot> alloc_pte(uint64_t addr);

  uint64_t get(PteSlot s) const { return mem_.read_u64(s.table, s.index); }
  void set(PteSlot s, uint64_t e) { mem_.write_u64(s.table, s.index, e); }

  // Linux's free_pgd_range: frees the page-table pages that map only addresses in
  // [addr, end) and lie within [floor, ceiling) (ceiling 0 = the top of memory).
  // Reports each freed table through `freed`.
  template <typename F>
  void free_pgd_range(uint64_t addr, uint64_t end, uint64_t floor, uint64_t ceiling, F&& freed);

  // Visits every present PTE-level entry in [start, end).
  template <typename F>
  void for_each_pte(uint64_t start, uint64_t end, F&& fn) const;

 private:
  void free_table(Pfn table, int level);
  template <typename F>
  void free_range(Pfn table, int level, uint64_t addr, uint64_t end, uint64_t floor,
                  uint64_t ceiling, F& freed);

  PhysMem& mem_;
  Pfn root_;
  uint64_t pid_;
  PgtableCounters& counters_;
  FrameSource* src_;
};

// ---- templates ----

template <typename F>
void PageTables::for_each_pte(uint64_t start, uint64_t end, F&& fn) const {
  // Walks top-down, skipping empty upper entries, so cost follows what is mapped.
  uint64_t addr = start;
  while (addr < end) {
    Pfn table = root_;
    int level = 4;
    bool skipped = false;
    for (; level > 1; --level) {
      uint64_t e = mem_.read_u64(table, pt_index(addr, level));
      if (!(e & _PAGE_PRESENT)) {
        uint64_t span = pt_entry_span(level);
        uint64_t next = (addr & ~(span - 1)) + span;
        addr = next == 0 || next > end ? end : next;
        skipped = true;
        break;
      }
      table = pte_pfn(e);
    }
    if (skipped) continue;
    uint64_t block_end = (addr & ~(pt_entry_span(2) - 1)) + pt_entry_span(2);
    if (block_end > end || block_end == 0) block_end = end;
    for (; addr < block_end; addr += kPageSize) {
      PteSlot slot{table, pt_index(addr, 1)};
      uint64_t e = mem_.read_u64(slot.table, slot.index);
      if (!pte_none(e)) fn(addr, slot, e);
    }
  }
}

// The shape of Linux's free_pgd_range/free_p4d_range/free_pud_range/free_pmd_range:
// lower tables in range are freed first, then a table itself goes only when the span
// it maps lies wholly within [floor, ceiling).
template <typename F>
void PageTables::free_pgd_range(uint64_t addr, uint64_t end, uint64_t floor,
                                uint64_t ceiling, F&& freed) {
  const uint64_t PMD_SIZE = pt_entry_span(2);
  const uint64_t PMD_MASK = ~(PMD_SIZE - 1);
  addr &= PMD_MASK;
  if (addr < floor) {
    addr += PMD_SIZE;
    if (!addr) return;
  }
  if (ceiling) {
    ceiling &= PMD_MASK;
    if (!ceiling) return;
  }
  if (end - 1 > ceiling - 1) end -= PMD_SIZE;
  if (addr > end - 1) return;
  free_range(root_, 4, addr, end, floor, ceiling, freed);
}

template <typename F>
void PageTables::free_range(Pfn table, int level, uint64_t addr, uint64_t end,
                            uint64_t floor, uint64_t ceiling, F& freed) {
  // `table` is a table of `level`; its entries point at tables of level-1.
  const uint64_t span = pt_entry_span(level);
  uint64_t start = addr;
  do {
    uint64_t next = (addr & ~(span - 1)) + span;
    if (next - 1 > end - 1) next = end;
    uint64_t idx = pt_index(addr, level);
    uint64_t e = mem_.read_u64(table, idx);
    if (e & _PAGE_PRESENT) {
      Pfn child = pte_pfn(e);
      if (level == 2) {
        // free_pte_range: the PTE table goes unconditionally.
        mem_.write_u64(table, idx, 0);
        freed(child, 1);
        free_table(child, 1);
      } else {
        free_range(child, level - 1, addr, next, floor, ceiling, freed);
        // free_{pmd,pud}_range's own check for the child table it just emptied.
        const uint64_t cmask = ~(span - 1);
        uint64_t cstart = start > addr ? start : addr;
        cstart &= cmask;
        bool keep = false;
        if (cstart < floor) keep = true;
        uint64_t c = ceiling;
        if (!keep && c) {
          c &= cmask;
          if (!c) keep = true;
        }
        if (!keep && next - 1 > c - 1) keep = true;
        if (!keep) {
          mem_.write_u64(table, idx, 0);
          freed(child, level - 1);
          free_table(child, level - 1);
        }
      }
    }
    addr = next;
  } while (addr != end);
}

}  // namespace vmplay::engine
