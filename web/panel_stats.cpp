#include "web/panel_timeline.h"

#include "imgui.h"
#include "web/app.h"

namespace vmplay::web {

void draw_stats(StatsPanel&, PanelContext&) {}

}  // namespace vmplay::web
