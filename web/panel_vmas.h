// web/: the address-space panel. The VMA table of one process, as /proc/PID/maps
// reads, with the rows the last command changed highlighted; hovering a row
// highlights the frames it maps in the frame grid.
#pragma once
#include <cstdint>

namespace vmplay::web {

struct PanelContext;

struct VmaPanel {
  bool show_flags = false;  // a column with the raw vm_flags
};

void draw_vmas(VmaPanel& p, PanelContext& ctx);

}  // namespace vmplay::web
