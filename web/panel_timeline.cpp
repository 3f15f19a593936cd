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

// Swapping and reclaim in the swap grid's teal; the OOM killer in the colour of a kill.
constexpr ImVec4 kPressureColour(0.35f, 0.80f, 0.84f, 1.0f);
constexpr ImVec4 kOomColour(1.0f, 0.35f, 0.30f, 1.0f);

// The colours are picked for the dark theme; on the light one they are darkened to read on white.
ImVec4 ink(ImVec4 c, bool light) { return light ? ImVec4(c.x * 0.55f, c.y * 0.55f, c.z * 0.55f, c.w) : c; }

}  // namespace

StepCounts step_counts(const std::vector<shell::TimelineEntry>& tl, size_t i) {
  const shell::TimelineEntry& e = tl[i];
  StepCounts c;
  for (const Event& ev : e.events) {
    switch (ev.kind) {
      case EventKind::Fault:
        ++c.faults;
        c.cow += ev.fault == FaultKind::WpCopy || ev.fault == FaultKind::FileCow;
        // A swap-in that read the slot (level 1) is major, like a file read.
        c.major += ev.fault == FaultKind::FileReadMajor || (ev.fault == FaultKind::SwapIn && ev.level);
        break;
      case EventKind::FrameAlloc: ++c.alloc; break;
      case EventKind::FrameFree: ++c.freed; break;
      case EventKind::VmaSplit: ++c.split; break;
      case EventKind::VmaExpand: ++c.merge; break;
      case EventKind::VmaInsert: ++c.vma_new; break;
      case EventKind::VmaRemove: ++c.vma_gone; break;
      case EventKind::Signal: ++c.signals; break;
      case EventKind::PageCacheAdd: ++c.cached; break;
      case EventKind::Reclaim:
        c.kswapd |= ev.level == 0;
        c.direct |= ev.level == 1;
        if (ev.level == 2) c.paged_out += ev.value;
        break;
      case EventKind::LazyFreed: ++c.lazy_freed; break;
      case EventKind::OomKill: c.oom_victim = ev.pid; break;
      default: break;
    }
  }
  c.partial = e.event_count > e.events.size();
  // The counters run through the session; one that went down was started again by a reset.
  auto step = [&](uint64_t shell::TimelineEntry::*counter) {
    const uint64_t now = e.*counter, before = i ? tl[i - 1].*counter : 0;
    return now >= before ? now - before : now;
  };
  c.swap_out = step(&shell::TimelineEntry::swap_outs);
  c.swap_in = step(&shell::TimelineEntry::swap_ins);
  c.reclaimed = step(&shell::TimelineEntry::reclaimed);
  c.oom_kills = step(&shell::TimelineEntry::oom_kills);
  return c;
}

std::string step_summary(const StepCounts& c) {
  std::string s;
  auto add = [&](uint64_t n, const char* one, const char* many) {
    if (!n) return;
    if (!s.empty()) s += ", ";
    s += n == 1 ? std::string(one) : std::to_string(n) + " " + many;
  };
  // Memory pressure first, the OOM kill before all: in a narrow column it is the news.
  if (c.oom_kills) {
    // The victim is named by the kill's event, if the step kept it.
    s = c.oom_kills > 1 ? std::to_string(c.oom_kills) + " OOM kills" : "OOM kill";
    if (c.oom_victim) s += (c.oom_kills > 1 ? ", the last of pid " : " of pid ") + std::to_string(c.oom_victim);
  }
  add(c.swap_out, "1 swapped out", "swapped out");
  add(c.swap_in, "1 swapped in", "swapped in");
  if (c.reclaimed || c.kswapd || c.direct) {
    if (!s.empty()) s += ", ";
    s += std::to_string(c.reclaimed) + " reclaimed";
    if (c.kswapd || c.direct) s += c.kswapd && c.direct ? " (kswapd, direct)" : c.kswapd ? " (kswapd)" : " (direct)";
  }
  add(c.paged_out, "1 paged out (MADV_PAGEOUT)", "paged out (MADV_PAGEOUT)");
  add(c.lazy_freed, "1 lazy-freed page dropped", "lazy-freed pages dropped");
  add(c.faults, "1 fault", "faults");
  if (c.cow || c.major) {
    s += " (";
    if (c.cow) s += std::to_string(c.cow) + " COW";
    if (c.cow && c.major) s += ", ";
    if (c.major) s += std::to_string(c.major) + " major";
    s += ")";
  }
  add(c.alloc, "1 frame allocated", "frames allocated");
  add(c.freed, "1 frame freed", "frames freed");
  add(c.cached, "1 page cached", "pages cached");
  add(c.vma_new, "new VMA", "new VMAs");
  add(c.split, "VMA split", "VMA splits");
  add(c.merge, "VMA merged", "VMA merges");
  add(c.vma_gone, "VMA removed", "VMAs removed");
  add(c.signals, "signal", "signals");
  if (c.partial) s += ", ...";
  return s;
}

namespace {

ImVec4 event_colour(const Event& e) {
  switch (e.kind) {
    case EventKind::Syscall: return ImVec4(0.88f, 0.89f, 0.92f, 1.0f);
    case EventKind::Fault:
      if (e.fault == FaultKind::SwapIn) return kPressureColour;
      return (e.fault == FaultKind::WpCopy || e.fault == FaultKind::FileCow) ? ImVec4(1.0f, 0.6f, 0.3f, 1.0f)
                                                                            : ImVec4(0.9f, 0.76f, 0.39f, 1.0f);
    case EventKind::Signal:
    case EventKind::ProcessExit: return ImVec4(1.0f, 0.45f, 0.35f, 1.0f);
    case EventKind::VmaInsert:
    case EventKind::VmaExpand:
    case EventKind::VmaSplit:
    case EventKind::VmaRemove: return ImVec4(0.55f, 0.75f, 1.0f, 1.0f);
    case EventKind::OomKill: return kOomColour;
    case EventKind::SwapOut:
    case EventKind::SwapCacheDrop:
    case EventKind::Reclaim:
    case EventKind::LazyFreed: return kPressureColour;
    default: return ImVec4(0.62f, 0.64f, 0.70f, 1.0f);
  }
}

}  // namespace

void draw_timeline(TimelinePanel& p, PanelContext& ctx) {
  const auto& tl = ctx.session.timeline();
  const size_t pos = ctx.session.timeline_pos();
  const size_t last = tl.size() - 1;
  const bool light = ctx.app.light();

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
        const StepCounts c = step_counts(tl, i);
        const std::string s = step_summary(c);
        // A step that killed a process, or swapped, reads apart from the rest at a glance.
        if (c.oom_kills && !ahead)
          ImGui::TextColored(ink(kOomColour, light), "%s", s.c_str());
        else if ((c.swap_out || c.swap_in || c.reclaimed || c.paged_out || c.kswapd || c.direct) && !ahead)
          ImGui::TextColored(ink(kPressureColour, light), "%s", s.c_str());
        else
          ImGui::TextDisabled("%s", s.c_str());
        if (ImGui::IsItemHovered() && !s.empty()) ImGui::SetTooltip("%s", s.c_str());
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
  const engine::Kernel& k = ctx.session.kernel();
  // An OOM kill is the news of its step: a line above the list, where thousands of
  // faults would otherwise bury it; the kernel's report in its tooltip.
  for (const Event& ev : cur.events) {
    if (ev.kind != EventKind::OomKill || ev.value >= k.oom_reports().size()) continue;
    const engine::OomReport& r = k.oom_reports()[static_cast<size_t>(ev.value)];
    ImGui::TextColored(ink(kOomColour, light), "OOM killer: killed pid %d (%s), badness %" PRIu64, r.pid,
                       r.comm.c_str(), r.points);
    if (ImGui::IsItemHovered()) {
      const std::optional<std::string> text = shell::format_event(ev, k);
      ImGui::SetTooltip("%s\n\nNothing more could be reclaimed, so the kernel ended the process with\n"
                        "the highest badness (its resident and swapped pages, page tables).",
                        text ? text->c_str() : "");
    }
  }
  if (ImGui::BeginChild("events", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar)) {
    if (cur.events.empty()) ImGui::TextDisabled(pos == 0 ? "where the session began" : "no kernel events");
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(cur.events.size()));
    while (clipper.Step())
      for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
        const Event& ev = cur.events[static_cast<size_t>(r)];
        std::optional<std::string> text = shell::format_event(ev, k);
        if (!text) text = shell::format_event_detail(ev, k);
        ImGui::PushStyleColor(ImGuiCol_Text, ink(event_colour(ev), light));
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
