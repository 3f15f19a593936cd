#include "web/app.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"

namespace vmplay::web {

using engine::Event;
using engine::EventKind;

App::App(shell::SessionConfig cfg) : session_(cfg) {
  console_.add(ConsolePanel::Kind::Comment, "# vmplay: a Linux virtual-memory playground.");
  console_.add(ConsolePanel::Kind::Comment, "# Type the calls a program makes, in strace syntax,");
  console_.add(ConsolePanel::Kind::Comment, "# and watch the VMAs and physical frames change.");
  console_.add(ConsolePanel::Kind::Comment, "# Try:  p = mmap(NULL, 8192, PROT_READ|PROT_WRITE,");
  console_.add(ConsolePanel::Kind::Comment, "#                MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  console_.add(ConsolePanel::Kind::Comment, "#       p[0] = 'A'     p[4096]     cat /proc/self/maps");
  console_.add(ConsolePanel::Kind::Comment, "# help lists everything; Up/Down recall, Tab completes.");
  console_.add(ConsolePanel::Kind::Comment, "# New here? The Lessons menu walks through 13 of them.");
  after_exec();
}

const shell::Output& App::exec(std::string_view line) {
  last_ = session_.exec(line);
  console_.record(line, last_);
  after_exec();
  return last_;
}

std::string App::ui_json() const {
  // The VMA table's rows drawn last frame, as indices in /proc/PID/maps order (the
  // clipper may draw a row beyond the visible edge).
  return "{\"vmas\":{\"first_row\":" + std::to_string(vmas_.first_row) + ",\"last_row\":" +
         std::to_string(vmas_.last_row) + "}}";
}

engine::Pid App::view_pid() const {
  const engine::Kernel& k = session_.kernel();
  if (k.process(session_.current_pid())) return session_.current_pid();
  auto pids = k.pids();
  return pids.empty() ? session_.current_pid() : pids.front();
}

// Turns the last line's events into what the panels highlight.
void App::after_exec() {
  ++hl_.generation;
  hl_.pids = session_.kernel().pids();
  const auto& frames = session_.kernel().phys().frames();
  hl_.frame_touched.assign(frames.size(), 0);
  hl_.vma_changed.clear();
  auto touch = [&](engine::Pfn pfn) {
    if (pfn.value < hl_.frame_touched.size()) hl_.frame_touched[static_cast<size_t>(pfn.value)] = 1;
  };
  for (const Event& e : session_.last_events()) {
    switch (e.kind) {
      case EventKind::FrameAlloc:
      case EventKind::FrameFree:
      case EventKind::PteSet:
      case EventKind::PteClear:
      case EventKind::PageTableAlloc:
      case EventKind::PageTableFree:
        touch(e.pfn);
        break;
      case EventKind::PageCacheAdd:
      case EventKind::PageCacheRemove:
      case EventKind::Writeback:
        touch(e.pfn);
        break;
      case EventKind::Fault:
        // The frame now mapped; a fault that mapped nothing (SIGSEGV, OOM) leaves pfn 0,
        // a reserved frame no fault can map.
        if (e.pfn.value != 0) touch(e.pfn);
        break;
      default:
        break;
    }
    switch (e.kind) {
      case EventKind::VmaInsert:
      case EventKind::VmaExpand:
        hl_.vma_changed.push_back({e.addr, e.end, true, e.pid});
        break;
      case EventKind::VmaSplit:
        // Both pieces changed: the one ending at the split point and the one from it
        // to `end`. Starting the range one byte early makes the lower piece overlap it.
        hl_.vma_changed.push_back({e.addr - 1, e.end, true, e.pid});
        break;
      case EventKind::Fault:
      case EventKind::PteSet:
      case EventKind::PteClear:
        // (Spelled with PAGE_SHIFT: Emscripten's libc defines PAGE_SIZE/PAGE_MASK macros.)
        hl_.vma_changed.push_back({(e.addr >> engine::PAGE_SHIFT) << engine::PAGE_SHIFT,
                                   ((e.addr >> engine::PAGE_SHIFT) + 1) << engine::PAGE_SHIFT, false, e.pid});
        break;
      default:
        break;
    }
  }
  hl_.frame_of_vma_valid = false;
}

void App::begin_frame() {
  hl_.shown_vma = hl_.hover_vma;
  hl_.shown_vma_start = hl_.hover_vma_start;
  hl_.shown_frame = hl_.hover_frame;
  hl_.shown_pfn = hl_.hover_pfn;
  hl_.hover_vma = false;
  hl_.hover_frame = false;
  update_frames_of_vma();
}

void App::update_frames_of_vma() {
  if (!hl_.shown_vma) return;
  if (hl_.frame_of_vma_valid && hl_.frame_of_vma_key == hl_.shown_vma_start &&
      hl_.frame_of_vma_gen == hl_.generation)
    return;
  const engine::Kernel& k = session_.kernel();
  hl_.frame_of_vma.assign(static_cast<size_t>(k.phys().total()), 0);
  hl_.frame_of_vma_valid = true;
  hl_.frame_of_vma_key = hl_.shown_vma_start;
  hl_.frame_of_vma_gen = hl_.generation;
  engine::Pid pid = view_pid();
  const engine::Process* p = k.process(pid);
  if (!p) return;
  auto it = p->mm.vmas.find(hl_.shown_vma_start);
  if (it == p->mm.vmas.end()) return;
  const engine::Vma& v = it->second;
  for (const auto& pte : k.ptes(pid)) {
    if (pte.addr < v.start || pte.addr >= v.end || !engine::pte_present(pte.entry)) continue;
    uint64_t pfn = engine::pte_pfn(pte.entry).value;
    if (pfn < hl_.frame_of_vma.size()) hl_.frame_of_vma[static_cast<size_t>(pfn)] = 1;
  }
}

void App::draw(float width, float height) {
  begin_frame();
  PanelContext ctx{session_, hl_, view_pid(), *this};

  // Console on the left, the address space top right, the frame grid below it.
  // Fixed panels laid out from the display size every frame: no docking, no saved layout.
  const float gap = 4.0f;
  const float left_w = std::max(std::min(std::floor(width * 0.45f), width - 300.0f), 260.0f);
  const float right_x = left_w + gap;
  const float right_w = std::max(width - right_x, 1.0f);
  const float top_h = std::max(std::floor(height * 0.36f), 150.0f);
  const float bottom_y = top_h + gap;
  const float bottom_h = std::max(height - bottom_y, 1.0f);
  const ImGuiWindowFlags fixed =
      ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
      ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;

  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(left_w, height));
  if (ImGui::Begin("Shell  (strace syntax: type a call, Enter runs it)###shell", nullptr,
                   fixed | ImGuiWindowFlags_MenuBar))
    draw_console(console_, ctx);
  ImGui::End();

  ImGui::SetNextWindowPos(ImVec2(right_x, 0));
  ImGui::SetNextWindowSize(ImVec2(right_w, top_h));
  char title[96];
  std::snprintf(title, sizeof title, "Address space of pid %d  (/proc/%d/maps)###vmas", ctx.pid, ctx.pid);
  if (ImGui::Begin(title, nullptr, fixed)) draw_vmas(vmas_, ctx);
  ImGui::End();

  ImGui::SetNextWindowPos(ImVec2(right_x, bottom_y));
  ImGui::SetNextWindowSize(ImVec2(right_w, bottom_h));
  if (ImGui::Begin("Physical frames###frames", nullptr, fixed)) draw_frames(frames_, ctx);
  ImGui::End();
}

}  // namespace vmplay::web
