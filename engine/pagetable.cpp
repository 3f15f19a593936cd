#include "engine/pagetable.h"

namespace vmplay::engine {

const char* pt_level_name(PtLevel l) {
  switch (l) {
    case PtLevel::PGD: return "PGD";
    case PtLevel::PUD: return "PUD";
    case PtLevel::PMD: return "PMD";
    case PtLevel::PTE: return "PTE";
  }
  return "?";
}

Walk PageTables::walk(uint64_t addr) const {
  Walk w;
  w.addr = addr;
  Pfn table = root_;
  for (int level = 4; level >= 1; --level) {
    WalkStep& s = w.steps[4 - level];
    s.level = static_cast<PtLevel>(level);
    s.table = table;
    s.index = pt_index(addr, level);
    s.entry = mem_.read_u64(table, s.index);
    w.depth = 5 - level;
    if (level == 1) {
      w.reached_pte = true;
      break;
    }
    if (!(s.entry & _PAGE_PRESENT)) break;
    table = pte_pfn(s.entry);
  }
  return w;
}

std::optional<PteSlot> PageTables::find_pte(uint64_t addr) const {
  Pfn table = root_;
  for (int level = 4; level > 1; --level) {
    uint64_t e = mem_.read_u64(table, pt_index(addr, level));
    if (!(e & _PAGE_PRESENT)) return std::nullopt;
    table = pte_pfn(e);
  }
  return PteSlot{table, pt_index(addr, 1)};
}

std::optional<PteSlot> PageTables::alloc_pte(uint64_t addr) {
  Pfn table = root_;
  for (int level = 4; level > 1; --level) {
    uint64_t idx = pt_index(addr, level);
    uint64_t e = mem_.read_u64(table, idx);
    if (!(e & _PAGE_PRESENT)) {
      auto child = src_ ? src_->alloc_frame(FrameOwner::PageTable, pid_, static_cast<uint64_t>(level - 1), PG_pagetable)
                        : mem_.alloc(FrameOwner::PageTable, pid_, static_cast<uint64_t>(level - 1), PG_pagetable);
      if (!child) return std::nullopt;
      switch (level - 1) {
        case 3: ++counters_.nr_pud_tables; break;
        case 2: ++counters_.nr_pmd_tables; break;
        default: ++counters_.nr_pte_tables; break;
      }
      e = mk_pte(*child, _PAGE_TABLE);
      mem_.write_u64(table, idx, e);
    }
    table = pte_pfn(e);
  }
  return PteSlot{table, pt_index(addr, 1)};
}

void PageTables::free_table(Pfn table, int level) {
  switch (level) {
    case 3: --counters_.nr_pud_tables; break;
    case 2: --counters_.nr_pmd_tables; break;
    default: --counters_.nr_pte_tables; break;
  }
  mem_.free(table);
}

}  // namespace vmplay::engine
