// web/: the address-space panel. The VMA table of one process, as /proc/PID/maps
// reads, with the rows the last command changed highlighted; hovering a row
// highlights the frames it maps in the frame grid.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vmplay::web {

struct PanelContext;

struct VmaPanel {
  bool show_flags = false;  // a column with the raw vm_flags
  uint64_t scrolled_for = 0;  // the Highlight generation the table last scrolled to show
  // The rows drawn last frame (for tests, through window.vmplay.ui()).
  int first_row = 0, last_row = -1;

  // The selected VMA (a click on its row or on the map): its flags and smaps numbers show.
  bool has_selected = false;
  uint64_t selected = 0;  // its start
  bool scroll_to_selected = false;
  std::vector<std::pair<std::string, std::string>> smaps;  // the selected VMA's smaps lines
  uint64_t smaps_gen = 0, smaps_key = 0;

  // The map of the 47-bit space: each VMA a segment, each gap compressed to a notch.
  struct Seg {
    float x0, x1;        // in map units (0..total)
    uint64_t start, end;  // the VMA, or the gap
    int kind;             // MapKind, or -1 for a gap
    uint64_t flags;
  };
  std::vector<Seg> segs;
  struct Run {
    float x0, x1;  // pixels from the map's left edge
    uint32_t fill;
    bool exec;
  };
  std::vector<Run> runs;  // segments merged per pixel, for drawing
  std::vector<float> notches;  // the gaps wide enough to show their notch, in pixels
  bool kinds_present[8] = {};
  float total_units = 1.0f;
  uint64_t map_gen = 0;
  int map_pid = -1;
  float map_width = 0.0f;
  int map_hovered = -1;  // the segment under the pointer (tests)
  uint64_t map_builds = 0;
  int map_waited = 0;  // frames the map has waited to be rebuilt (App::claim_rebuild)  // how often the map was laid out (tests: once per command)
  // What the last command did to each VMA of the shown process, by start: 1 its pages
  // changed, 2 the VMA itself (new, split, merged). Rebuilt once per command.
  std::map<uint64_t, int> changes;
  std::vector<uint64_t> row_starts;  // the VMAs' starts in table order, for the clipper
  uint64_t changes_gen = 0;
  int changes_pid = -1;
};

void draw_vmas(VmaPanel& p, PanelContext& ctx);
std::string vmas_ui_json(const VmaPanel& p);

}  // namespace vmplay::web
