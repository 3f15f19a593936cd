#include "web/panel_timeline.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>

#include "imgui.h"
#include "shell/format.h"
#include "web/app.h"

namespace vmplay::web {

namespace {

using engine::Event;
using engine::EventKind;
using engine::FaultKind;

// A line about what a step did: "2 faults (1 COW), 3 frames, VMA split, SIGSEGV".
std::string summary(const shell::TimelineEntry& e) {
  uint64_t faults = 0, cow = 0, major = 0, alloc = 0, freed = 0, split = 0, merge = 0, vma_new = 0, vma_gone = 0,
           signals = 0, cached = 0;
  for (const Event& ev : e.events) {
    switch (ev.kind) {
      case EventKind::Fault:
        ++faults;
        cow += ev.fault == FaultKind::WpCopy || ev.fault == FaultKind::FileCow;
        major += ev.fault == FaultKind::FileReadMajor;
        break;
      case EventKind::FrameAlloc: ++alloc; break;
      case EventKind::FrameFree: ++freed; break;
      case EventKind::VmaSplit: ++split; break;
      case EventKind::VmaExpand: ++merge; break;
      case EventKind::VmaInsert: ++vma_new; break;
      case EventKind::VmaRemove: ++vma_gone; break;
      case EventKind::Signal: ++signals; break;
      case EventKind::PageCacheAdd: ++cached; break;
      default: break;
    }
  }
  std::string s;
  auto add = [&](uint64_t n, const char* one, const char* many) {
    if (!n) return;
    if (!s.empty()) s += ", ";
    s += n == 1 ? std::string(one) : std::to_string(n) + " " + many;
  };
  add(faults, "1 fault", "faults");
  if (cow || major) {
    s += " (";
    if (cow) s += std::to_string(cow) + " COW";
    if (cow && major) s += ", ";
    if (major) s += std::to_string(major) + " major";
    s += ")";
  }
  add(alloc, "1 frame allocated", "frames allocated");
  add(freed, "1 frame freed", "frames freed");
  add(cached, "1 page cached", "pages cached");
  add(vma_new, "new VMA", "new VMAs");
  add(split, "VMA split", "VMA splits");
  add(merge, "VMA merged", "VMA merges");
  add(vma_gone, "VMA removed", "VMAs removed");
  add(signals, "signal", "signals");
  if (e.event_count > e.events.size()) s += ", ...";
  return s;
}

ImVec4 event_colour(const Event& e) {
  switch (e.kind) {
    case EventKind::Syscall: return ImVec4(0.88f, 0.89f, 0.92f, 1.0f);
    case EventKind::Fault:
      return (e.fault == FaultKind::WpCopy || e.fault == FaultKind::FileCow) ? ImVec4(1.0f, 0.6f, 0.3f, 1.0f)
                                                                            : ImVec4(0.9f, 0.76f, 0.39f, 1.0f);
    case EventKind::Signal:
    case EventKind::ProcessExit: return ImVec4(1.0f, 0.45f, 0.35f, 1.0f);
    case EventKind::VmaInsert:
    case EventKind::VmaExpand:
    case EventKind::VmaSplit:
    case EventKind::VmaRemove: return ImVec4(0.55f, 0.75f, 1.0f, 1.0f);
    default: return ImVec4(0.62f, 0.64f, 0.70f, 1.0f);
  }
}

}  // namespace

void draw_timeline(TimelinePanel& p, PanelContext& ctx) {
  const auto& tl = ctx.session.timeline();
  const size_t pos = ctx.session.timeline_pos();
  const size_t last = tl.size() - 1;

  // ---- undo / redo, through the shell ----
  ImGui::BeginDisabled(pos == 0);
  if (ImGui::SmallButton("< undo")) ctx.app.exec("undo");
  ctx.app.mark("timeline undo");
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(pos == last);
  if (ImGui::SmallButton("redo >")) ctx.app.exec("redo");
  ctx.app.mark("timeline redo");
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::TextDisabled("step %zu of %zu", pos, last);
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Every line that changed the machine is a step. Click a step to go back to the\n"
                      "state right after it (it runs goto N in the shell); undo and redo step one at a\n"
                      "time. A new line typed after going back drops the steps that were ahead.");

  // ---- the steps ----
  const float events_h = std::floor(ImGui::GetContentRegionAvail().y * 0.40f);
  const ImGuiTableFlags tflags = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit |
                                 ImGuiTableFlags_BordersInnerV;
  if (ImGui::BeginTable("steps", 3, tflags, ImVec2(0, -events_h))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#");
    ImGui::TableSetupColumn("line", ImGuiTableColumnFlags_WidthStretch, 0.55f);
    ImGui::TableSetupColumn("what it did", ImGuiTableColumnFlags_WidthStretch, 0.45f);
    ImGui::TableHeadersRow();
    const float row_h = ImGui::GetTextLineHeight() + 2.0f * ImGui::GetStyle().CellPadding.y;
    if (p.scrolled_for != ctx.hl.generation) {
      // Keep the current step in view after every command.
      p.scrolled_for = ctx.hl.generation;
      const float y = static_cast<float>(pos) * row_h;
      const float view_h = ImGui::GetWindowHeight() - row_h;
      if (y < ImGui::GetScrollY() || y + row_h > ImGui::GetScrollY() + view_h)
        ImGui::SetScrollY(std::max(0.0f, y - view_h * 0.6f));
    }
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(tl.size()));
    while (clipper.Step()) {
      for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
        const size_t i = static_cast<size_t>(r);
        const shell::TimelineEntry& e = tl[i];
        ImGui::TableNextRow();
        const bool ahead = i > pos;
        if (ahead) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TableNextColumn();
        char num[24];
        std::snprintf(num, sizeof num, "%zu", i);
        if (ImGui::Selectable(num, i == pos, ImGuiSelectableFlags_SpanAllColumns) && i != pos)
          ctx.app.exec("goto " + std::to_string(i));
        ctx.app.mark("step " + std::to_string(i));
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("%s\n\nclick: back to the state after this step (goto %zu)", e.label.c_str(), i);
        ImGui::TableNextColumn();
        if (e.pid != 1 && i > 0) {
          ImGui::TextDisabled("[%d]", e.pid);
          ImGui::SameLine(0.0f, 4.0f);
        }
        ImGui::TextUnformatted(e.label.c_str());
        ImGui::TableNextColumn();
        const std::string s = summary(e);
        ImGui::TextDisabled("%s", s.c_str());
        if (ahead) ImGui::PopStyleColor();
      }
    }
    ImGui::EndTable();
  }

  // ---- the current step's events ----
  const shell::TimelineEntry& cur = tl[pos];
  ImGui::Separator();
  ImGui::TextDisabled("step %zu:", pos);
  ImGui::SameLine();
  ImGui::TextUnformatted(cur.label.c_str());
  if (ImGui::BeginChild("events", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar)) {
    const engine::Kernel& k = ctx.session.kernel();
    if (cur.events.empty()) ImGui::TextDisabled(pos == 0 ? "where the session began" : "no kernel events");
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(cur.events.size()));
    while (clipper.Step())
      for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
        const Event& ev = cur.events[static_cast<size_t>(r)];
        std::optional<std::string> text = shell::format_event(ev, k);
        if (!text) text = shell::format_event_detail(ev, k);
        ImGui::PushStyleColor(ImGuiCol_Text, event_colour(ev));
        if (ev.pid)
          ImGui::Text("[%d] %s", ev.pid, text ? text->c_str() : "");
        else
          ImGui::TextUnformatted(text ? text->c_str() : "");
        ImGui::PopStyleColor();
      }
    if (cur.event_count > cur.events.size())
      ImGui::TextDisabled("... %" PRIu64 " more events not kept", cur.event_count - cur.events.size());
  }
  ImGui::EndChild();
}

}  // namespace vmplay::web
