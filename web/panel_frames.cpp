#include "web/panel_frames.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "web/app.h"

namespace vmplay::web {

namespace {

using engine::Frame;
using engine::FrameOwner;

// Counted per owner value; sized past the enum so a new owner kind cannot overflow it.
constexpr size_t kOwnerSlots = 16;

ImU32 owner_colour(FrameOwner o) {
  switch (o) {
    case FrameOwner::Free: return IM_COL32(52, 56, 66, 255);
    case FrameOwner::Reserved: return IM_COL32(128, 100, 78, 255);
    case FrameOwner::ZeroPage: return IM_COL32(232, 232, 232, 255);
    case FrameOwner::PageTable: return IM_COL32(160, 112, 225, 255);
    case FrameOwner::Anon: return IM_COL32(84, 190, 112, 255);
    case FrameOwner::File: return IM_COL32(80, 150, 235, 255);
    case FrameOwner::Shmem: return IM_COL32(230, 120, 170, 255);
    case FrameOwner::Vdso: return IM_COL32(200, 160, 90, 255);
  }
  return IM_COL32(255, 0, 255, 255);
}

const char* owner_label(FrameOwner o) {
  switch (o) {
    case FrameOwner::Free: return "free";
    case FrameOwner::Reserved: return "reserved";
    case FrameOwner::ZeroPage: return "zero page";
    case FrameOwner::PageTable: return "page table";
    case FrameOwner::Anon: return "anonymous";
    case FrameOwner::File: return "page cache";
    case FrameOwner::Shmem: return "shmem";
    case FrameOwner::Vdso: return "vDSO";
  }
  return "other";
}

constexpr ImU32 kTouched = IM_COL32(255, 200, 40, 255);
constexpr ImU32 kOfVma = IM_COL32(90, 170, 255, 255);
constexpr ImU32 kHover = IM_COL32(255, 255, 255, 255);

// One legend entry; entries flow left to right and wrap when the panel is narrow.
void legend_item(ImU32 fill, ImU32 outline, const char* label, uint64_t count, bool show_count, bool first) {
  const float s = ImGui::GetTextLineHeight() * 0.75f;
  char text[64];
  if (show_count)
    std::snprintf(text, sizeof text, "%s %" PRIu64, label, count);
  else
    std::snprintf(text, sizeof text, "%s", label);
  const float w = s + 4.0f + ImGui::CalcTextSize(text).x;
  if (!first && ImGui::GetCursorPosX() + w > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  ImVec2 pos = ImGui::GetCursorScreenPos();
  const float y = pos.y + (ImGui::GetTextLineHeight() - s) * 0.5f;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), fill);
  if (outline) dl->AddRect(ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), outline, 0.0f, 0, 2.0f);
  ImGui::Dummy(ImVec2(s, s));
  ImGui::SameLine(0.0f, 4.0f);
  ImGui::TextUnformatted(text);
  ImGui::SameLine(0.0f, 14.0f);
}

void frame_tooltip(const engine::Kernel& k, uint64_t pfn) {
  const Frame& f = k.phys().frames()[static_cast<size_t>(pfn)];
  ImGui::BeginTooltip();
  ImGui::Text("pfn 0x%" PRIx64 "   phys 0x%" PRIx64, pfn, pfn << engine::PAGE_SHIFT);
  ImGui::Separator();
  switch (f.owner) {
    case FrameOwner::Free: ImGui::TextUnformatted("free: on the free list"); break;
    case FrameOwner::Reserved: ImGui::TextUnformatted("reserved: firmware and kernel, never handed out"); break;
    case FrameOwner::ZeroPage:
      ImGui::TextUnformatted("the shared zero page: read faults on anonymous memory map it read-only");
      break;
    case FrameOwner::PageTable:
      ImGui::Text("page table (%s level) of pid %" PRIu64,
                  engine::pt_level_name(static_cast<engine::PtLevel>(f.index)), f.owner_id);
      break;
    case FrameOwner::Anon:
      ImGui::Text("anonymous page of anon_vma %" PRIu64, f.owner_id);
      ImGui::Text("maps virtual address 0x%" PRIx64, f.index << engine::PAGE_SHIFT);
      break;
    case FrameOwner::File:
      ImGui::Text("page cache of inode %" PRIu64 ", page %" PRIu64 " (file offset 0x%" PRIx64 ")", f.owner_id,
                  f.index, f.index << engine::PAGE_SHIFT);
      break;
    case FrameOwner::Shmem:
      ImGui::Text("shmem (tmpfs) page of inode %" PRIu64 ", page %" PRIu64 " (offset 0x%" PRIx64 ")", f.owner_id,
                  f.index, f.index << engine::PAGE_SHIFT);
      break;
    case FrameOwner::Vdso:
      ImGui::Text("the kernel's %s page %" PRIu64 ": mapped into every process by execve",
                  f.index < 6 ? "vvar" : "vDSO", f.index < 6 ? f.index : f.index - 6);
      break;
  }
  ImGui::Text("refcount %u   mapcount %u", f.refcount, f.mapcount);
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kFlags[] = {
      {engine::PG_anon, "anon"},         {engine::PG_file, "file"},         {engine::PG_shmem, "shmem"},
      {engine::PG_dirty, "dirty"},       {engine::PG_referenced, "referenced"}, {engine::PG_active, "active"},
      {engine::PG_lru, "lru"},           {engine::PG_swapbacked, "swapbacked"}, {engine::PG_pagetable, "pagetable"},
      {engine::PG_zero, "zero"},         {engine::PG_mlocked, "mlocked"},   {engine::PG_reserved, "reserved"},
  };
  ImGui::TextUnformatted("flags:");
  bool any = false;
  for (const auto& fl : kFlags)
    if (f.flags & fl.bit) {
      ImGui::SameLine();
      ImGui::TextUnformatted(fl.name);
      any = true;
    }
  if (!any) {
    ImGui::SameLine();
    ImGui::TextDisabled("none");
  }
  ImGui::EndTooltip();
}

}  // namespace

void draw_frames(FramePanel& p, PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const auto& frames = k.phys().frames();
  const uint64_t n = frames.size();
  Highlight& hl = ctx.hl;

  // ---- legend with counts ----
  std::array<uint64_t, kOwnerSlots> count{};
  for (const Frame& f : frames) ++count[std::min(static_cast<size_t>(f.owner), kOwnerSlots - 1)];
  bool first = true;
  for (FrameOwner o : {FrameOwner::Free, FrameOwner::Reserved, FrameOwner::ZeroPage, FrameOwner::PageTable,
                       FrameOwner::Anon, FrameOwner::File, FrameOwner::Shmem, FrameOwner::Vdso}) {
    const uint64_t c = count[static_cast<size_t>(o)];
    // Page cache and shmem appear once a file is used: until then they are noise.
    if (c == 0 && (o == FrameOwner::File || o == FrameOwner::Shmem)) continue;
    legend_item(owner_colour(o), 0, owner_label(o), c, true, first);
    first = false;
  }
  ImGui::NewLine();
  legend_item(owner_colour(FrameOwner::Free), kTouched, "touched by the last command", 0, false, true);
  legend_item(owner_colour(FrameOwner::Free), kOfVma, "mapped by the hovered VMA", 0, false, false);
  ImGui::NewLine();
  ImGui::Spacing();

  // ---- pick the grid: a power-of-two row length so row labels read as round pfns ----
  const float label_w = ImGui::CalcTextSize("0x00000 ").x;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float grid_w = std::max(avail.x - label_w - ImGui::GetStyle().ScrollbarSize, 16.0f);
  int best_cols = 16;
  float best_cell = 0.0f;
  for (int cols = 16; cols <= 256; cols *= 2) {
    float cell = std::min(std::floor(grid_w / static_cast<float>(cols)), p.max_cell);
    if (cell < p.min_cell) break;
    const uint64_t rows = (n + static_cast<uint64_t>(cols) - 1) / static_cast<uint64_t>(cols);
    const float fit_h = std::floor(avail.y / static_cast<float>(rows));
    cell = std::min(cell, fit_h);
    if (cell >= p.min_cell && cell > best_cell) {
      best_cell = cell;
      best_cols = cols;
    }
  }
  if (best_cell == 0.0f) {
    // Too many frames to fit: keep cells readable and scroll. Widest row that fits.
    best_cell = p.min_cell;
    best_cols = 16;
    while (best_cols * 2 <= 256 && static_cast<float>(best_cols * 2) * best_cell <= grid_w) best_cols *= 2;
  }
  const float cell = best_cell;
  const uint64_t cols = static_cast<uint64_t>(best_cols);
  const uint64_t rows = (n + cols - 1) / cols;
  const float gap = cell >= 10.0f ? 2.0f : 1.0f;
  const int label_every = std::max(1, static_cast<int>(std::ceil(ImGui::GetTextLineHeight() / cell)));

  if (!ImGui::BeginChild("grid", ImVec2(0, 0), false, ImGuiWindowFlags_NoMove)) {
    ImGui::EndChild();
    return;
  }
  // Rows are exactly `cell` apart: the clipper steps by that, so no item spacing.
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0.0f, 0.0f));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const bool hovered_window = ImGui::IsWindowHovered();
  const ImU32 label_col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
  int64_t hovered = -1;

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows), cell);
  while (clipper.Step()) {
    for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
      const ImVec2 origin = ImGui::GetCursorScreenPos();
      const uint64_t row = static_cast<uint64_t>(r);
      if (r % label_every == 0) {
        char label[24];
        std::snprintf(label, sizeof label, "0x%03" PRIx64, row * cols);
        dl->AddText(ImVec2(origin.x, origin.y + (cell - ImGui::GetTextLineHeight()) * 0.5f), label_col, label);
      }
      const float x0 = origin.x + label_w;
      for (uint64_t c = 0; c < cols; ++c) {
        const uint64_t pfn = row * cols + c;
        if (pfn >= n) break;
        const ImVec2 a(x0 + static_cast<float>(c) * cell, origin.y);
        const ImVec2 b(a.x + cell - gap, a.y + cell - gap);
        dl->AddRectFilled(a, b, owner_colour(frames[static_cast<size_t>(pfn)].owner));
        const bool of_vma = hl.shown_vma && hl.frame_of_vma_valid && pfn < hl.frame_of_vma.size() &&
                            hl.frame_of_vma[static_cast<size_t>(pfn)];
        const bool touched = pfn < hl.frame_touched.size() && hl.frame_touched[static_cast<size_t>(pfn)];
        if (of_vma)
          dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), kOfVma, 0.0f, 0, 2.0f);
        else if (touched)
          dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), kTouched, 0.0f, 0, 2.0f);
        if (hovered_window && mouse.x >= a.x && mouse.x < a.x + cell && mouse.y >= a.y && mouse.y < a.y + cell) {
          hovered = static_cast<int64_t>(pfn);
          dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), kHover, 0.0f, 0, 2.0f);
        }
      }
      ImGui::Dummy(ImVec2(label_w + static_cast<float>(cols) * cell, cell));
    }
  }
  clipper.End();
  ImGui::PopStyleVar();

  if (hovered >= 0) {
    hl.hover_frame = true;
    hl.hover_pfn = static_cast<uint64_t>(hovered);
    frame_tooltip(k, hl.hover_pfn);
  }
  ImGui::EndChild();
}

}  // namespace vmplay::web
