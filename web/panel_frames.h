// web/: the physical frames panel. Every frame of simulated RAM as a small square
// coloured by owner, the frames the last command touched outlined, the reverse map
// (who owns it, which address it backs) in a tooltip.
#pragma once
#include <cstdint>

namespace vmplay::web {

struct PanelContext;

struct FramePanel {
  float min_cell = 7.0f;   // below this the grid scrolls instead of shrinking
  float max_cell = 18.0f;
};

void draw_frames(FramePanel& p, PanelContext& ctx);

}  // namespace vmplay::web
