// web/: the physical frames panel. Every frame of simulated RAM as a small square
// coloured by owner, with a band for the LRU list it is on; the frames the last command
// touched outlined; the reverse map (who owns it, which address it backs), its age on
// its LRU list and its swap slot in a tooltip; free memory against the watermarks.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/kernel.h"

namespace vmplay::web {

struct PanelContext;

// A cell of a drawn grid in screen coordinates: its corners, the gap excluded.
struct CellRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
// Where a drawn grid is, for hit tests and ui(): the top-left of cell 0 (as if every row
// were on screen), the cell size and the cells per row.
struct GridPlace {
  float x = 0, y = 0, cell = 0;
  uint64_t cols = 0;
};
// Draws a grid of n cells in a child window `id` of ImGui height `height`
// (0: to the bottom; negative: leaves that much below): rows of a power-of-two length so
// row labels read as round numbers, the largest cells between min_cell and max_cell that
// fit (a scrollbar when none do), a hex label with the first index every few rows, only
// the rows in view, a white ring round the cell under the pointer.
// paint(index, rect) draws one cell, in the child window. Returns the index under the
// pointer, or -1.
int64_t draw_cell_grid(const char* id, uint64_t n, float height, float min_cell, float max_cell, GridPlace& place,
                       const std::function<void(uint64_t, const CellRect&)>& paint);
// An outline round a cell, pad pixels outside it, in the current window.
void cell_ring(const CellRect& r, uint32_t colour, float pad = 1.0f, float thickness = 2.0f);
// The outline of a cell in either grid: blue when lit (what the hovered VMA, PTE, frame or
// slot refers to), else yellow when touched (changed by the last command), else none.
void cell_mark(const CellRect& r, bool lit, bool touched);

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
  // Per pfn, its position on its LRU list counted from the tail (0: reclaimed next),
  // rebuilt when a tooltip first needs it after a command, by walking each list once.
  std::vector<uint32_t> lru_age;
  uint64_t age_gen = 0;
  // For tests: where the grid is (the screen position of pfn 0's cell, the cell size,
  // frames per row), how many drawn cells were lit by a hover or changed by the last
  // command, the frame under the pointer and how many PTEs its tooltip listed.
  GridPlace grid;
  size_t lit = 0, touched = 0;
  int64_t hovered = -1;
  size_t hovered_mappers = 0;
  std::string hovered_lru;   // what the tooltip says of its LRU list and age
  int64_t hovered_slot = -1;  // its swap slot, when in the swap cache
  size_t lru_marked = 0;      // drawn cells that carry an LRU band
  std::array<uint64_t, engine::kLruLists> lru_count{};  // pages per list, as the legend showed them
  uint64_t free_frames = 0;
  engine::Watermarks watermarks;
  std::vector<std::string> selected_dump;  // hexdump lines of the selected frame
  uint64_t selected_gen = 0;
  int64_t dump_pfn = -1;  // the frame selected_dump shows
  std::vector<uint64_t> owner_count;  // frames per FrameOwner, as of count_gen
  uint64_t count_gen = 0;
};

void draw_frames(FramePanel& p, PanelContext& ctx);

// The refcount-style digits drawn on a cell of a grid (a shared frame, a shared slot).
void cell_count(float x, float y, float cell, uint32_t count);
// The colour a frame of this owner has in the grid (ImU32), shared with other panels.
uint32_t owner_colour(engine::FrameOwner o);
std::string frames_ui_json(const FramePanel& p);

}  // namespace vmplay::web
