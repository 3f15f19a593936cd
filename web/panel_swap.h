// web/: the swap panel. The swap area (/swapfile) as a grid of slots drawn like the
// frame grid: free, in use (the page only on disk), in the swap cache (on disk and in a
// frame too); a slot held by several swap PTEs (shared after fork) carries its count.
// A tooltip names the slot, its count, its swap-cache frame and the PTEs holding it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/kernel.h"
#include "web/panel_frames.h"  // GridPlace

namespace vmplay::web {

struct PanelContext;

struct SwapPanel {
  float min_cell = 7.0f;  // below this the grid scrolls instead of shrinking
  float max_cell = 18.0f;
  // Counted once per command, one big rebuild per frame (App::claim_rebuild): the
  // largest swap file (256 MiB) has 65,535 slots.
  uint64_t count_gen = 0;
  int count_waited = 0;
  uint64_t cached = 0;   // slots with a frame in the swap cache
  uint64_t shared = 0;   // slots held more than once (swap_map count > 1)
  std::vector<uint8_t> touched;  // per slot: 1 when the last command wrote, read or dropped it
  // The PTEs holding the hovered slot: Kernel::swap_mappers scans every page table, so
  // it runs once per slot hovered and command, not per frame.
  int64_t mappers_slot = -1;
  uint64_t mappers_gen = 0;
  std::vector<engine::Kernel::Mapper> mappers;
  // For tests (window.vmplay.ui().swap): where the grid is (slot 0's cell, the cell
  // size, slots per row), the slot under the pointer, drawn cells lit by a hover or
  // changed by the last command.
  GridPlace grid;
  int64_t hovered = -1;
  size_t hovered_mappers = 0;
  size_t lit = 0, touched_drawn = 0;
};

void draw_swap(SwapPanel& p, PanelContext& ctx);
std::string swap_ui_json(const SwapPanel& p, const engine::Kernel& k);

}  // namespace vmplay::web
