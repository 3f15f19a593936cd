#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "web/app.h"
#include "web/panel_timeline.h"

namespace vmplay::web {

namespace {

void refresh(StatsPanel& p, PanelContext& ctx) {
  if (p.gen == ctx.hl.generation && p.pid == ctx.pid) return;
  p.gen = ctx.hl.generation;
  p.pid = ctx.pid;
  p.meminfo.clear();
  const std::string text = ctx.session.kernel().proc_meminfo();
  for (size_t i = 0; i < text.size();) {
    const size_t nl = text.find('\n', i);
    const std::string line = text.substr(i, nl - i);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string val = line.substr(colon + 1);
      val.erase(0, val.find_first_not_of(' '));
      p.meminfo.emplace_back(line.substr(0, colon), val);
    }
    if (nl == std::string::npos) break;
    i = nl + 1;
  }
  p.rss_total.clear();
  p.rss_pid.clear();
  p.free_kb.clear();
  for (const auto& e : ctx.session.timeline()) {
    uint64_t total = 0, mine = 0;
    for (const auto& [pid, pages] : e.rss) {
      total += pages;
      if (pid == ctx.pid) mine = pages;
    }
    p.rss_total.push_back(static_cast<float>(total * 4));
    p.rss_pid.push_back(static_cast<float>(mine * 4));
    p.free_kb.push_back(static_cast<float>(e.free_frames * 4));
  }
}

// A line plot of one value per step, the current step marked.
void plot(const char* id, const char* title, const std::vector<float>& v, size_t pos, float h) {
  float hi = 4.0f;
  for (float x : v) hi = std::max(hi, x);
  char overlay[96];
  std::snprintf(overlay, sizeof overlay, "%s: %.0f kB now, %.0f kB at most", title,
                static_cast<double>(pos < v.size() ? v[pos] : 0.0f), static_cast<double>(hi));
  const ImVec2 o = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  ImGui::PlotLines(id, v.data(), static_cast<int>(v.size()), 0, overlay, 0.0f, hi * 1.15f, ImVec2(w, h));
  if (v.size() > 1) {
    const float x = o.x + ImGui::GetStyle().FramePadding.x +
                    (w - 2.0f * ImGui::GetStyle().FramePadding.x) * static_cast<float>(pos) / static_cast<float>(v.size() - 1);
    ImGui::GetWindowDrawList()->AddLine(ImVec2(x, o.y), ImVec2(x, o.y + h), IM_COL32(255, 200, 40, 200), 1.5f);
  }
}

}  // namespace

void draw_stats(StatsPanel& p, PanelContext& ctx) {
  refresh(p, ctx);
  const auto& tl = ctx.session.timeline();
  const size_t pos = ctx.session.timeline_pos();
  const shell::TimelineEntry& cur = tl[pos];

  ImGui::TextDisabled("page faults through the session:");
  ImGui::Text("minor %" PRIu64 "   major %" PRIu64 "   copy-on-write %" PRIu64 "   signals %" PRIu64,
              cur.faults_minor, cur.faults_major, cur.faults_cow, cur.signals);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Minor: resolved without I/O (zero page, new zero-filled frame, page already\n"
                      "in the page cache, copy-on-write). Major: a page read from disk.\n"
                      "Copy-on-write: a private copy made on write. Counted up to the current step.");
  ImGui::Spacing();
  const float plot_h = std::max(36.0f, std::floor(ImGui::GetContentRegionAvail().y * 0.16f));
  plot("##rss", "resident, all processes", p.rss_total, pos, plot_h);
  char title[48];
  std::snprintf(title, sizeof title, "resident, pid %d", ctx.pid);
  plot("##rsspid", title, p.rss_pid, pos, plot_h);
  ImGui::Spacing();
  ImGui::TextDisabled("/proc/meminfo");
  // Two key/value column pairs when there is room.
  const int pairs = ImGui::GetContentRegionAvail().x > 420.0f ? 2 : 1;
  if (ImGui::BeginTable("meminfo", 2 * pairs, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp)) {
    const size_t rows = (p.meminfo.size() + static_cast<size_t>(pairs) - 1) / static_cast<size_t>(pairs);
    for (size_t r = 0; r < rows; ++r) {
      ImGui::TableNextRow();
      for (int c = 0; c < pairs; ++c) {
        const size_t i = r + static_cast<size_t>(c) * rows;
        ImGui::TableNextColumn();
        if (i < p.meminfo.size()) ImGui::TextDisabled("%s", p.meminfo[i].first.c_str());
        ImGui::TableNextColumn();
        if (i < p.meminfo.size()) ImGui::TextUnformatted(p.meminfo[i].second.c_str());
      }
    }
    ImGui::EndTable();
  }
}

}  // namespace vmplay::web
