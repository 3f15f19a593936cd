#include "web/panel_pagetables.h"

#include "imgui.h"
#include "web/app.h"

namespace vmplay::web {

void draw_pagetables(PageTablePanel&, PanelContext&) { ImGui::TextDisabled("(page tables: being written)"); }

std::string pagetables_ui_json(const PageTablePanel&) { return "{}"; }

}  // namespace vmplay::web
