// web/: the address-space panel. The VMA table of one process, as /proc/PID/maps
// reads, with the rows the last command changed highlighted; hovering a row
// highlights the frames it maps in the frame grid.
#pragma once
#include <cstdint>

namespace vmplay::web {

struct PanelContext;

struct VmaPanel {
  bool show_flags = false;  // a column with the raw vm_flags
  uint64_t scrolled_for = 0;  // the Highlight generation the table last scrolled to show
  // The rows drawn last frame (for tests, through window.vmplay.ui()).
  int first_row = 0, last_row = -1;
};

void draw_vmas(VmaPanel& p, PanelContext& ctx);

}  // namespace vmplay::web
