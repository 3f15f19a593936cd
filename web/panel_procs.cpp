#include "web/panel_procs.h"

#include "imgui.h"
#include "web/app.h"

namespace vmplay::web {

void draw_processes(ProcessPanel&, PanelContext&) { ImGui::TextDisabled("(processes: being written)"); }
void draw_files(FilesPanel&, PanelContext&) { ImGui::TextDisabled("(files: being written)"); }
std::string processes_ui_json(const ProcessPanel&) { return "{}"; }
std::string files_ui_json(const FilesPanel&) { return "{}"; }

}  // namespace vmplay::web
