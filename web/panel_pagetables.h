// web/: the page-table panel. The four-level tree of the shown process (PML4 -> PDPT
// -> PD -> PT), populated entries only, each entry's bits decoded; and the walk of one
// address (9/9/9/9/12) with the path to its frame highlighted.
#pragma once
#include <cstdint>
#include <string>

namespace vmplay::web {

struct PanelContext;

struct PageTablePanel {
  // The rows drawn last frame (for tests, through window.vmplay.ui()).
  int first_row = 0, last_row = -1;
};

void draw_pagetables(PageTablePanel& p, PanelContext& ctx);
// What the panel shows, as a JSON object, for window.vmplay.ui().
std::string pagetables_ui_json(const PageTablePanel& p);

}  // namespace vmplay::web
