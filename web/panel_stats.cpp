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
  p.swap_kb.clear();
  for (const auto& e : ctx.session.timeline()) {
    uint64_t total = 0, mine = 0;
    for (const auto& [pid, pages] : e.rss) {
      total += pages;
      if (pid == ctx.pid) mine = pages;
    }
    p.rss_total.push_back(static_cast<float>(total * 4));
    p.rss_pid.push_back(static_cast<float>(mine * 4));
    p.free_kb.push_back(static_cast<float>(e.free_frames * 4));
    p.swap_kb.push_back(static_cast<float>(e.swap_used * 4));
  }
}

// A line plot of one value per step, the current step marked.
void plot(const char* id, const char* title, const std::vector<float>& v, size_t pos, float h) {
  float most = 0.0f;
  for (float x : v) most = std::max(most, x);
  const float hi = std::max(most, 4.0f);  // the scale: a flat line at zero stays at the bottom
  char overlay[96];
  std::snprintf(overlay, sizeof overlay, "%s: %.0f kB now, %.0f kB at most", title,
                static_cast<double>(pos < v.size() ? v[pos] : 0.0f), static_cast<double>(most));
  const ImVec2 o = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  ImGui::PlotLines(id, v.data(), static_cast<int>(v.size()), 0, overlay, 0.0f, hi * 1.15f, ImVec2(w, h));
  if (v.size() > 1) {
    const float x = o.x + ImGui::GetStyle().FramePadding.x +
                    (w - 2.0f * ImGui::GetStyle().FramePadding.x) * static_cast<float>(pos) / static_cast<float>(v.size() - 1);
    ImGui::GetWindowDrawList()->AddLine(ImVec2(x, o.y), ImVec2(x, o.y + h), IM_COL32(255, 200, 40, 200), 1.5f);
  }
}

const std::string* meminfo_value(const StatsPanel& p, const char* key) {
  for (const auto& [k, v] : p.meminfo)
    if (k == key) return &v;
  return nullptr;
}

// Swap and reclaim: /proc/meminfo's swap lines and the /proc/vmstat counters that tell
// what memory pressure did, up to the current step.
void draw_pressure(const StatsPanel& p, const engine::Kernel& k) {
  const engine::VmEvents& vm = k.vm_events();
  if (k.swap().total() == 0) {
    ImGui::TextDisabled("swap: off (config swap 2M turns it on, on a fresh machine)");
    // Until memory runs short the counters are all zero: not worth the room.
    if (!vm.pgscan_kswapd && !vm.pgscan_direct && !vm.oom_kill) return;
  } else {
    const std::string *total = meminfo_value(p, "SwapTotal"), *free = meminfo_value(p, "SwapFree"),
                      *cached = meminfo_value(p, "SwapCached");
    ImGui::TextDisabled("swap:");
    ImGui::SameLine();
    ImGui::Text("%s total, %s free, %s cached", total ? total->c_str() : "?", free ? free->c_str() : "?",
                cached ? cached->c_str() : "?");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("SwapTotal, SwapFree and SwapCached from /proc/meminfo. Cached: pages both in swap and\n"
                        "in a frame (the swap cache), so they can be dropped again without writing.");
  }
  // Reclaim by who ran it on the left, swapping and the OOM killer on the right.
  struct Cell {
    const char* text;
    uint64_t value;  // shown when text is null
    const char* tip;
  };
  static constexpr const char* kScan = "pages looked at on the LRU lists (pgscan)";
  static constexpr const char* kSteal = "pages reclaimed: dropped, written back or swapped out (pgsteal)";
  static constexpr const char* kOut = "pages written to swap";
  static constexpr const char* kIn = "pages read back from swap (major faults)";
  static constexpr const char* kOutZero = "pages of zeros sent to swap: only noted, nothing is written";
  static constexpr const char* kInZero = "pages of zeros brought back from swap: nothing is read";
  static constexpr const char* kOom = "processes the OOM killer ended when nothing more could be reclaimed";
  static constexpr const char* kKswapd =
      "the reclaim thread: wakes when free memory falls below the low watermark and\n"
      "reclaims until it is above the high one";
  static constexpr const char* kDirect =
      "direct reclaim: an allocation below the min watermark reclaims by itself,\n"
      "making the process wait";
  const Cell rows[3][7] = {
      {{"", 0, nullptr}, {"pgscan", 0, kScan}, {"pgsteal", 0, kSteal}, {"pswpout", 0, kOut},
       {nullptr, vm.pswpout, kOut}, {"swpout_zero", 0, kOutZero}, {nullptr, vm.swpout_zero, kOutZero}},
      {{"kswapd", 0, kKswapd}, {nullptr, vm.pgscan_kswapd, kScan}, {nullptr, vm.pgsteal_kswapd, kSteal},
       {"pswpin", 0, kIn}, {nullptr, vm.pswpin, kIn}, {"swpin_zero", 0, kInZero}, {nullptr, vm.swpin_zero, kInZero}},
      {{"direct", 0, kDirect}, {nullptr, vm.pgscan_direct, kScan}, {nullptr, vm.pgsteal_direct, kSteal},
       {"oom_kill", 0, kOom}, {nullptr, vm.oom_kill, kOom}, {"", 0, nullptr}, {"", 0, nullptr}},
  };
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(ImGui::GetStyle().CellPadding.x, 0.0f));
  // Empty columns of 12 points part the three groups.
  constexpr int kCols = 9;
  constexpr bool kSpacer[kCols] = {false, false, false, true, false, false, true, false, false};
  if (ImGui::BeginTable("pressure", kCols, ImGuiTableFlags_SizingFixedFit)) {
    for (int c = 0; c < kCols; ++c) ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed, kSpacer[c] ? 12.0f : 0.0f);
    for (const auto& row : rows) {
      ImGui::TableNextRow();
      for (const Cell& c : row) {
        ImGui::TableNextColumn();
        if (kSpacer[ImGui::TableGetColumnIndex()]) ImGui::TableNextColumn();
        if (c.text)
          ImGui::TextDisabled("%s", c.text);
        else
          ImGui::Text("%" PRIu64, c.value);
        if (c.tip && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.tip);
      }
    }
    ImGui::EndTable();
  }
  ImGui::PopStyleVar();
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
  draw_pressure(p, ctx.session.kernel());
  ImGui::Spacing();
  // Swap in use is plotted too once there is swap (or was, before a reset on this timeline).
  const bool swap_plot = ctx.session.kernel().swap().total() ||
                         std::any_of(p.swap_kb.begin(), p.swap_kb.end(), [](float x) { return x > 0; });
  const float plot_h = std::max(36.0f, std::floor(ImGui::GetContentRegionAvail().y * (swap_plot ? 0.12f : 0.16f)));
  plot("##rss", "resident, all processes", p.rss_total, pos, plot_h);
  char title[48];
  std::snprintf(title, sizeof title, "resident, pid %d", ctx.pid);
  plot("##rsspid", title, p.rss_pid, pos, plot_h);
  if (swap_plot) plot("##swap", "swap in use", p.swap_kb, pos, plot_h);
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
