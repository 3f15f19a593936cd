// web/: the physical frames panel. Every frame of simulated RAM as a small square
// coloured by owner, the frames the last command touched outlined, the reverse map
// (who owns it, which address it backs) in a tooltip.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/kernel.h"

namespace vmplay::web {

struct PanelContext;

struct FramePanel {
  float min_cell = 7.0f;   // below this the grid scrolls instead of shrinking
  float max_cell = 18.0f;
  // The frame whose contents are shown (clicked), or -1.
  int64_t selected = -1;
  // The reverse map of every frame (pid, address of each PTE mapping it) and the PTEs'
  // accessed/dirty bits per frame, rebuilt once per command when first needed.
  uint64_t rmap_gen = 0;
  int rmap_waited = 0;  // frames the reverse map has waited (App::claim_rebuild)
  std::vector<uint32_t> rmap_begin;  // per pfn, into rmap (size frames + 1)
  std::vector<engine::Kernel::Mapper> rmap;
  std::vector<uint8_t> pte_bits;     // per pfn: 1 accessed, 2 dirty (any PTE mapping it)
  // For tests: where the grid is (the screen position of pfn 0's cell, the cell size,
  // frames per row), how many drawn cells were lit by a hover or changed by the last
  // command, the frame under the pointer and how many PTEs its tooltip listed.
  float grid_x = 0, grid_y = 0, cell = 0;
  uint64_t cols = 0;
  size_t lit = 0, touched = 0;
  int64_t hovered = -1;
  size_t hovered_mappers = 0;
  std::vector<std::string> selected_dump;  // hexdump lines of the selected frame
  uint64_t selected_gen = 0;
  int64_t dump_pfn = -1;  // the frame selected_dump shows
  std::vector<uint64_t> owner_count;  // frames per FrameOwner, as of count_gen
  uint64_t count_gen = 0;
};

void draw_frames(FramePanel& p, PanelContext& ctx);
// The colour a frame of this owner has in the grid (ImU32), shared with other panels.
uint32_t owner_colour(engine::FrameOwner o);
std::string frames_ui_json(const FramePanel& p);

}  // namespace vmplay::web
