#include "web/panel_vmas.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iterator>

#include "imgui.h"
#include "web/app.h"

namespace vmplay::web {

namespace {

using engine::Vma;

void format_size(char* buf, size_t n, uint64_t bytes) {
  if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0)
    std::snprintf(buf, n, "%" PRIu64 " GiB", bytes >> 30);
  else if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0)
    std::snprintf(buf, n, "%" PRIu64 " MiB", bytes >> 20);
  else
    std::snprintf(buf, n, "%" PRIu64 " KiB", bytes >> 10);
}

// Whether the VMA is where this frame's reverse map points (anon: anon_vma and
// address; file and shmem: inode and file page within the mapping's window).
bool maps_frame(const Vma& v, const engine::Frame& f) {
  switch (f.owner) {
    case engine::FrameOwner::Anon:
      return v.anon != 0 && f.owner_id == v.anon && v.contains(f.index << engine::PAGE_SHIFT);
    case engine::FrameOwner::File:
    case engine::FrameOwner::Shmem:
      return v.inode != 0 && f.owner_id == v.inode && f.index >= v.pgoff && f.index < v.pgoff + v.pages();
    default:
      return false;
  }
}

bool overlaps(const Highlight::Range& r, const Vma& v) { return r.start < v.end && v.start < r.end; }

// 0: untouched, 1: its pages changed, 2: the VMA itself changed.
int change_of(const Highlight& hl, engine::Pid pid, const Vma& v) {
  int c = 0;
  for (const auto& r : hl.vma_changed) {
    if (r.pid != pid || !overlaps(r, v)) continue;
    c = std::max(c, r.structural ? 2 : 1);
  }
  return c;
}

void flags_tooltip(const Vma& v, const Highlight& hl) {
  static constexpr struct {
    uint64_t bit;
    const char* name;
  } kFlags[] = {
      {engine::VM_READ, "VM_READ"},         {engine::VM_WRITE, "VM_WRITE"},
      {engine::VM_EXEC, "VM_EXEC"},         {engine::VM_SHARED, "VM_SHARED"},
      {engine::VM_MAYREAD, "VM_MAYREAD"},   {engine::VM_MAYWRITE, "VM_MAYWRITE"},
      {engine::VM_MAYEXEC, "VM_MAYEXEC"},   {engine::VM_MAYSHARE, "VM_MAYSHARE"},
      {engine::VM_GROWSDOWN, "VM_GROWSDOWN"}, {engine::VM_LOCKED, "VM_LOCKED"},
      {engine::VM_DONTCOPY, "VM_DONTCOPY"}, {engine::VM_DONTEXPAND, "VM_DONTEXPAND"},
      {engine::VM_ACCOUNT, "VM_ACCOUNT"},   {engine::VM_NORESERVE, "VM_NORESERVE"},
      {engine::VM_WIPEONFORK, "VM_WIPEONFORK"}, {engine::VM_DONTDUMP, "VM_DONTDUMP"},
      {engine::VM_SOFTDIRTY, "VM_SOFTDIRTY"},
  };
  ImGui::BeginTooltip();
  ImGui::Text("%012" PRIx64 "-%012" PRIx64 "  %" PRIu64 " pages", v.start, v.end, v.pages());
  ImGui::Text("vm_flags 0x%" PRIx64 ":", v.flags);
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
  std::string names;
  for (const auto& f : kFlags)
    if (v.flags & f.bit) {
      if (!names.empty()) names += ' ';
      names += f.name;
    }
  ImGui::TextUnformatted(names.empty() ? "(none)" : names.c_str());
  ImGui::PopTextWrapPos();
  ImGui::Text("vm_pgoff 0x%" PRIx64 "   anon_vma %s", v.pgoff, v.anon ? std::to_string(v.anon).c_str() : "none yet");
  if (hl.frame_of_vma_valid) {
    uint64_t resident = 0;
    for (uint8_t b : hl.frame_of_vma) resident += b;
    ImGui::Text("frames mapped: %" PRIu64 " (outlined in the frame grid)", resident);
  }
  ImGui::EndTooltip();
}

}  // namespace

void draw_vmas(VmaPanel& p, PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const engine::Process* proc = k.process(ctx.pid);
  if (!proc) {
    ImGui::TextDisabled("No process %d.", ctx.pid);
    return;
  }
  const engine::Mm& mm = proc->mm;
  const Highlight& hl = ctx.hl;

  // ---- summary ----
  char total[32], rss[32], summary[192];
  format_size(total, sizeof total, mm.total_vm << engine::PAGE_SHIFT);
  format_size(rss, sizeof rss, mm.rss() << engine::PAGE_SHIFT);
  std::snprintf(summary, sizeof summary, "%s   %zu VMAs   mapped %s   resident %s   page-table pages %" PRIu64,
                proc->comm.c_str(), mm.vmas.size(), total, rss, mm.pgtables.pages() + 1);
  // The vm_flags checkbox sits right-aligned beside the summary when both fit, else
  // the summary wraps and the checkbox takes its own line.
  // A compact checkbox, as tall as a line of text.
  const float box_w = ImGui::GetTextLineHeight() + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize("vm_flags").x;
  const bool side_by_side = ImGui::CalcTextSize(summary).x + box_w + 16.0f <= ImGui::GetContentRegionAvail().x;
  if (side_by_side)
    ImGui::TextUnformatted(summary);
  else
    ImGui::TextWrapped("%s", summary);
  if (proc->state == engine::ProcState::Zombie) {
    if (proc->exit_signal)
      ImGui::TextColored(ImVec4(1.0f, 0.5f, 0.3f, 1.0f), "zombie: killed by %s", engine::signal_name(proc->exit_signal));
    else
      ImGui::TextColored(ImVec4(1.0f, 0.5f, 0.3f, 1.0f), "zombie: exited %d", proc->exit_status);
  }
  const auto& pids = hl.pids;
  if (pids.size() > 1) {
    // A click on a pid runs `use N` through the shell: every panel follows it.
    ImGui::TextDisabled("pids:");
    for (engine::Pid pid : pids) {
      ImGui::SameLine();
      char label[24];
      std::snprintf(label, sizeof label, pid == ctx.pid ? "[%d]" : "%d", pid);
      if (pid == ctx.pid) {
        ImGui::TextUnformatted(label);
      } else {
        if (ImGui::SmallButton(label)) ctx.app.exec("use " + std::to_string(pid));
        ctx.app.mark("pid " + std::to_string(pid));
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("use %d: show process %d and run lines as it", pid, pid);
      }
    }
  }
  if (!mm.vmas.empty()) {
    if (side_by_side && proc->state != engine::ProcState::Zombie && pids.size() <= 1) {
      ImGui::SameLine();
      ImGui::SetCursorPosX(ImGui::GetContentRegionMax().x - box_w);
    }
    ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(0.0f, 0.0f));
    ImGui::Checkbox("vm_flags", &p.show_flags);
    ImGui::PopStyleVar();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Show each VMA's raw vm_flags (hover a row to decode them)");
  }

  if (mm.vmas.empty() && proc->state == engine::ProcState::Zombie) {
    ImGui::Spacing();
    ImGui::TextWrapped("The process has exited and its address space is gone.");
    if (ImGui::SmallButton("run")) ctx.app.exec("reset()");
    ImGui::SameLine();
    ImGui::TextUnformatted("reset()");
    ImGui::SameLine();
    ImGui::TextDisabled("starts again with a fresh process");
    return;
  }
  if (mm.vmas.empty()) {
    ImGui::Spacing();
    ImGui::TextWrapped("No mappings yet. Map two anonymous pages, then touch them:");
    ImGui::Spacing();
    static constexpr const char* kExample[] = {
        "p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
        "p[0] = 'A'",
        "p[4096]",
    };
    for (const char* line : kExample) {
      ImGui::PushID(line);
      if (ImGui::SmallButton("run")) ctx.app.exec(line);  // through the shell, like typing it
      ImGui::PopID();
      ImGui::SameLine();
      ImGui::TextUnformatted(line);
    }
    return;
  }

  // ---- the table ----
  const ImGuiTableFlags tflags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuterH |
                                 ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX | ImGuiTableFlags_SizingFixedFit;
  const int ncols = p.show_flags ? 7 : 6;
  if (!ImGui::BeginTable("vmas", ncols, tflags, ImVec2(0, 0))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("start");
  ImGui::TableSetupColumn("end");
  ImGui::TableSetupColumn("size", ImGuiTableColumnFlags_WidthFixed, ImGui::CalcTextSize("1023 KiB").x);
  ImGui::TableSetupColumn("perms");
  ImGui::TableSetupColumn("offset");
  if (p.show_flags) ImGui::TableSetupColumn("vm_flags");
  ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();

  // The frame under the pointer in the grid: the row mapping it lights up too.
  const engine::Frame* hovered_frame = nullptr;
  if (hl.shown_frame && hl.shown_pfn < k.phys().total()) hovered_frame = &k.phys().frames()[static_cast<size_t>(hl.shown_pfn)];

  const ImU32 col_struct = IM_COL32(200, 150, 40, 110);
  const ImU32 col_pages = IM_COL32(200, 150, 40, 45);
  const ImU32 col_hover = IM_COL32(70, 140, 230, 120);

  // A VMA the last command created, split or merged scrolls into view (once per command):
  // with a program's 23 VMAs, a new mapping would otherwise sit below the fold.
  if (p.scrolled_for != hl.generation) {
    p.scrolled_for = hl.generation;
    int row = 0, target = -1;
    for (auto it = mm.vmas.begin(); it != mm.vmas.end() && target < 0; ++it, ++row)
      if (change_of(hl, ctx.pid, it->second) == 2) target = row;
    if (target >= 0) {
      const float row_h = ImGui::GetTextLineHeight() + 2.0f * ImGui::GetStyle().CellPadding.y;
      const float view_h = ImGui::GetWindowHeight() - ImGui::GetFrameHeight();
      const float y = static_cast<float>(target) * row_h;
      if (y < ImGui::GetScrollY() || y + row_h > ImGui::GetScrollY() + view_h)
        ImGui::SetScrollY(std::max(0.0f, y - view_h / 3.0f));
    }
  }

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(mm.vmas.size()));
  p.first_row = -1;
  while (clipper.Step()) {
    if (p.first_row < 0 && clipper.DisplayEnd > clipper.DisplayStart) p.first_row = clipper.DisplayStart;
    p.last_row = clipper.DisplayEnd - 1;
    auto it = std::next(mm.vmas.begin(), clipper.DisplayStart);
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row, ++it) {
      const Vma& v = it->second;
      ImGui::TableNextRow();
      const int change = change_of(hl, ctx.pid, v);
      const bool counterpart = hovered_frame && maps_frame(v, *hovered_frame);
      bool hovered_row = hl.shown_vma && hl.shown_vma_start == v.start;
      if (hovered_row || counterpart)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, col_hover);
      else if (change)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, change == 2 ? col_struct : col_pages);

      ImGui::TableNextColumn();
      ImGui::PushID(static_cast<int>(row));
      char start[24];
      std::snprintf(start, sizeof start, "%012" PRIx64, v.start);
      ImGui::Selectable(start, false, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowOverlap);
      if (ImGui::IsItemHovered()) {
        ctx.hl.hover_vma = true;
        ctx.hl.hover_vma_start = v.start;
        if (hl.shown_vma && hl.shown_vma_start == v.start) flags_tooltip(v, hl);
      }
      ImGui::PopID();
      ImGui::TableNextColumn();
      ImGui::Text("%012" PRIx64, v.end);
      ImGui::TableNextColumn();
      char size[32];
      format_size(size, sizeof size, v.end - v.start);
      ImGui::TextUnformatted(size);
      ImGui::TableNextColumn();
      char perms[5] = {(v.flags & engine::VM_READ) ? 'r' : '-', (v.flags & engine::VM_WRITE) ? 'w' : '-',
                       (v.flags & engine::VM_EXEC) ? 'x' : '-', (v.flags & engine::VM_MAYSHARE) ? 's' : 'p', 0};
      ImGui::TextUnformatted(perms);
      ImGui::TableNextColumn();
      // /proc/PID/maps prints vm_pgoff in bytes for files and 0 for anonymous memory.
      ImGui::Text("%08" PRIx64, v.is_anonymous() ? uint64_t{0} : v.pgoff << engine::PAGE_SHIFT);
      if (p.show_flags) {
        ImGui::TableNextColumn();
        ImGui::Text("%06" PRIx64, v.flags);
      }
      ImGui::TableNextColumn();
      std::string name = k.vma_name(*proc, v);
      if (name.empty())
        ImGui::TextDisabled("[anon]");
      else
        ImGui::TextUnformatted(name.c_str());
    }
  }
  clipper.End();
  ImGui::EndTable();
}

}  // namespace vmplay::web
