// web/: the processes panel (the process tree with state, RSS and VSZ; a click runs
// `use N`) and the files panel (files, sizes, cached and dirty pages).
#pragma once
#include <cstdint>
#include <string>

namespace vmplay::web {

struct PanelContext;

struct ProcessPanel {};
struct FilesPanel {};

void draw_processes(ProcessPanel& p, PanelContext& ctx);
void draw_files(FilesPanel& p, PanelContext& ctx);
// What the panels show, as JSON objects, for window.vmplay.ui().
std::string processes_ui_json(const ProcessPanel& p);
std::string files_ui_json(const FilesPanel& p);

}  // namespace vmplay::web
