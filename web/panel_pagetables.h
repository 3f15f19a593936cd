// web/: the page-table panel. The four-level tree of the shown process (PML4 -> PDPT
// -> PD -> PT), populated entries only, each entry's bits decoded (a swapped-out page's
// PTE as the swap entry it is); and the walk of one address (9/9/9/9/12) with the path
// to its frame highlighted.
#pragma once
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/types.h"

namespace vmplay::web {

struct PanelContext;

struct PageTablePanel {
  // One populated entry of the tree. Entries sit in preorder (parent before children,
  // in address order), so a subtree is the range [i, end) and (addr, -level) grows
  // along the vector: the entry for an address at a level is found by binary search.
  struct Entry {
    uint64_t addr = 0;    // the first virtual address the entry covers
    uint64_t value = 0;   // the raw 64-bit entry
    uint64_t table = 0;   // pfn of the table holding the entry
    uint32_t parent = 0;  // index of the entry pointing at that table, or kNone
    uint32_t end = 0;     // one past the entry's last descendant
    uint16_t index = 0;   // slot within the table (0..511)
    uint8_t level = 1;    // 4 PML4, 3 PDPT, 2 PD, 1 PT
    uint8_t changed = 0;  // 1 the last command set it, 2 it set one below
  };
  static constexpr uint32_t kNone = 0xffffffffu;

  // ---- the tree, rebuilt when the command generation or the pid changes ----
  std::vector<Entry> entries;
  std::vector<uint32_t> leaves;  // PT-level entries, in address order
  std::vector<std::pair<uint64_t, uint32_t>> by_pfn;  // (pfn pointed at, entry), sorted
  uint64_t built_gen = 0;
  int build_waited = 0;  // frames the tree has waited to be rebuilt (App::claim_rebuild)
  engine::Pid built_pid = -1;
  uint64_t cr3 = 0;               // the PML4 table's frame
  uint64_t tables = 0;            // page-table pages, the PML4 included
  uint64_t max_pfn = 0;           // the widest pfn shown, for column widths
  bool any_extra_bits = false;    // an entry has PROT_NONE, special, G, PS or is a swap entry
  uint64_t swap_ptes = 0;         // PTEs holding a swap entry instead of a frame
  uint64_t n_set = 0, n_cleared = 0, n_tables_new = 0, n_tables_freed = 0, n_changed = 0;
  uint32_t first_changed = 0xffffffffu;  // scrolled into view once after the command
  bool scroll_changed = false;

  // ---- the rows on screen: entries minus collapsed subtrees ----
  std::set<uint64_t> collapsed;  // (addr & 48 bits) | level of each collapsed entry
  std::vector<uint32_t> rows;
  bool rows_dirty = true;

  // ---- what hovering elsewhere lights up (recomputed when the hover changes) ----
  std::vector<uint8_t> lit;  // per entry: 1 lit, 2 an entry below it is lit
  uint64_t lit_key = 0, lit_gen = 0;
  uint32_t lit_count = 0;
  bool lit_vma = false, lit_frame = false, lit_slot = false;
  uint64_t lit_vma_start = 0, lit_pfn = 0, lit_swap_slot = 0;

  // ---- the walk of Session::last_walk() ----
  char walk_text[96] = {};
  bool has_walk_seen = false;
  engine::Pid walk_seen_pid = 0;
  uint64_t walk_seen_addr = 0;
  bool open_path = false;       // open the tree along the walk's path and scroll to it
  std::array<uint32_t, 4> path{kNone, kNone, kNone, kNone};  // entries on the walk's path
  uint64_t path_gen = 0;
  int scroll_to_row = -1, scroll_to_end = -1;  // rows to bring into view, the last one first

  // For tests (window.vmplay.ui()): rows drawn last frame, hovered entry, layout.
  int first_row = 0, last_row = -1;
  int64_t hovered_entry = -1;
  bool side_by_side = false;
  std::string walk_json = "null";
  // CPU time of this panel's draw: the last frame, the worst of the last 120 frames,
  // and the last rebuild of the tree (milliseconds).
  double ms_last = 0.0, ms_build = 0.0;
  std::array<double, 120> ms_ring{};
  size_t ms_next = 0;
};

void draw_pagetables(PageTablePanel& p, PanelContext& ctx);
// What the panel shows, as a JSON object, for window.vmplay.ui().
std::string pagetables_ui_json(const PageTablePanel& p);

}  // namespace vmplay::web
