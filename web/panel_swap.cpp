#include "web/panel_swap.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "web/app.h"
#include "web/panel_frames.h"

namespace vmplay::web {

namespace {

using engine::EventKind;
using engine::FrameOwner;

// A page only on disk is teal (the timeline's colour for swapping); a slot whose page
// is in the swap cache too is half teal, half the colour of its frame in the frame grid.
constexpr ImU32 kOnDisk = IM_COL32(60, 176, 186, 255);

// A slot's cell: its state in the fill, the swap cache as a lower half in its frame's colour.
void slot_cell(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 fill, ImU32 cache) {
  dl->AddRectFilled(a, b, fill);
  if (cache) dl->AddRectFilled(ImVec2(a.x, std::floor((a.y + b.y) * 0.5f)), b, cache);
}

// One legend entry, flowing left to right and wrapping like the frame grid's.
void legend(ImU32 fill, ImU32 cache, const char* text, const char* tip) {
  const float s = ImGui::GetTextLineHeight() * 0.75f;
  const float w = s + 4.0f + ImGui::CalcTextSize(text).x;
  if (ImGui::GetCursorPosX() + w > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  const ImVec2 pos = ImGui::GetCursorScreenPos();
  const float y = pos.y + (ImGui::GetTextLineHeight() - s) * 0.5f;
  ImGui::BeginGroup();
  slot_cell(ImGui::GetWindowDrawList(), ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), fill, cache);
  ImGui::Dummy(ImVec2(s, s));
  ImGui::SameLine(0.0f, 4.0f);
  ImGui::TextUnformatted(text);
  ImGui::EndGroup();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
  ImGui::SameLine(0.0f, 14.0f);
}

// The counts and what the last command touched, once per command.
void update_counts(SwapPanel& p, const engine::Kernel& k, uint64_t generation, App& app,
                   const std::vector<engine::Event>& events) {
  const engine::SwapArea& sw = k.swap();
  const size_t n = static_cast<size_t>(sw.total() + 1);
  if (p.count_gen == generation) return;
  if (p.count_gen != 0 && p.touched.size() == n && !app.claim_rebuild(p.count_waited)) return;
  p.count_gen = generation;
  p.cached = p.shared = 0;
  for (uint64_t s = 1; s < n; ++s) {
    const engine::SwapSlot& sl = sw.slot(s);
    p.cached += sl.cache != engine::kNoFrame;
    p.shared += sl.count > 1;
  }
  p.touched.assign(n, 0);
  for (const engine::Event& e : events) {
    const bool names_slot = e.kind == EventKind::SwapOut || e.kind == EventKind::SwapCacheDrop ||
                            (e.kind == EventKind::Fault && e.fault == engine::FaultKind::SwapIn);
    if (names_slot && e.value < n) p.touched[static_cast<size_t>(e.value)] = 1;
  }
}

void slot_tooltip(SwapPanel& p, PanelContext& ctx, uint64_t s) {
  const engine::Kernel& k = ctx.session.kernel();
  const engine::SwapSlot& sl = k.swap().slot(s);
  if (sl.allocated && (p.mappers_slot != static_cast<int64_t>(s) || p.mappers_gen != ctx.hl.generation)) {
    p.mappers_slot = static_cast<int64_t>(s);
    p.mappers_gen = ctx.hl.generation;
    p.mappers = k.swap_mappers(s);
  }
  const size_t holders = sl.allocated ? p.mappers.size() : 0;
  p.hovered_mappers = holders;
  ImGui::BeginTooltip();
  ImGui::Text("swap slot %" PRIu64 "   /swapfile offset 0x%" PRIx64, s, s << engine::PAGE_SHIFT);
  ImGui::Separator();
  if (s == 0) {
    ImGui::TextUnformatted("the swap header: mkswap's first page (its signature and size),");
    ImGui::TextUnformatted("never used for a page");
    ImGui::EndTooltip();
    return;
  }
  if (!sl.allocated) {
    ImGui::TextUnformatted("free: the next swap-out takes the lowest free slot");
    ImGui::EndTooltip();
    return;
  }
  if (sl.count > 1)
    ImGui::Text("count %u: shared by %u holders (as after fork), freed when none is left", sl.count, sl.count);
  else if (sl.count == 1)
    ImGui::TextUnformatted("count 1: one swap PTE (or tmpfs page) holds it");
  else
    ImGui::TextUnformatted("count 0: only the swap cache holds it");
  if (sl.cache != engine::kNoFrame)
    ImGui::Text("in the swap cache: frame 0x%x also holds the page, so a fault maps\nit without reading the disk (a "
                "minor fault)",
                sl.cache);
  else
    ImGui::TextUnformatted("only on disk: a fault reads it back (a major fault, pswpin)");
  constexpr size_t kShown = 12;
  if (holders == 0) {
    ImGui::TextDisabled("no swap PTE names it");
  } else {
    ImGui::Text("held by %zu swap %s:", holders, holders == 1 ? "PTE" : "PTEs");
    for (size_t i = 0; i < std::min(holders, kShown); ++i)
      ImGui::Text("  pid %d at 0x%" PRIx64, p.mappers[i].pid, p.mappers[i].addr);
    if (holders > kShown) ImGui::TextDisabled("  ... and %zu more", holders - kShown);
    if (holders < sl.count) ImGui::TextDisabled("the rest of the count: tmpfs (shmem) pages in swap");
    ImGui::TextDisabled("click: walk pid %d's 0x%" PRIx64 " (runs walk)", p.mappers[0].pid, p.mappers[0].addr);
  }
  ImGui::EndTooltip();
}

// What a fresh learner sees before any swap exists: how to get some.
void draw_off(PanelContext& ctx) {
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted("Swap is off.");
  ImGui::TextDisabled("Without it reclaim can only drop page cache: anonymous memory stays in RAM, and when it "
                      "fills RAM the OOM killer ends a process.");
  ImGui::Spacing();
  ImGui::TextUnformatted("config swap 2M");
  ImGui::SameLine();
  ImGui::TextDisabled("starts a fresh machine with a 2 MiB swap file: 511 slots of 4 KiB (its first page is the "
                      "header). Then fill RAM, e.g. on the default 4 MiB machine:");
  ImGui::TextUnformatted("  p = mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  ImGui::TextUnformatted("  touch(p, 4M, \"w\")");
  ImGui::PopTextWrapPos();
  ImGui::Spacing();
  if (ImGui::Button("Run config swap 2M (a fresh machine)")) ctx.app.exec("config swap 2M");
  ctx.app.mark("swap enable");
}

}  // namespace

void draw_swap(SwapPanel& p, PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const engine::SwapArea& sw = k.swap();
  Highlight& hl = ctx.hl;
  p.hovered = -1;
  p.lit = p.touched_drawn = 0;
  if (sw.total() == 0) {
    p.grid.cell = 0;
    draw_off(ctx);
    return;
  }
  update_counts(p, k, hl.generation, ctx.app, ctx.session.last_events());
  const uint64_t n = sw.total() + 1;  // slot 0, the header, drawn too: row labels stay offsets

  // ---- header and legend ----
  const uint64_t used = sw.used();
  ImGui::TextDisabled("/swapfile:");
  ImGui::SameLine();
  ImGui::Text("%" PRIu64 " slots, %" PRIu64 " in use (%" PRIu64 "%%)", sw.total(), used, used * 100 / sw.total());
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("The swap file, as /proc/swaps lists it: one 4 KiB slot per page written out.\n"
                      "A swapped-out page's PTE holds the slot number instead of a frame.");
  ImGui::SameLine(0.0f, 14.0f);
  const engine::VmEvents& vm = k.vm_events();
  char text[96];
  // Pages of zeros are counted apart (swpout_zero, swpin_zero): shown only when there are some.
  int len = std::snprintf(text, sizeof text, "pswpout %" PRIu64, vm.pswpout);
  if (vm.swpout_zero) len += std::snprintf(text + len, sizeof text - static_cast<size_t>(len), " (+%" PRIu64 " zero)", vm.swpout_zero);
  len += std::snprintf(text + len, sizeof text - static_cast<size_t>(len), "  pswpin %" PRIu64, vm.pswpin);
  if (vm.swpin_zero) std::snprintf(text + len, sizeof text - static_cast<size_t>(len), " (+%" PRIu64 " zero)", vm.swpin_zero);
  if (ImGui::GetCursorPosX() + ImGui::CalcTextSize(text).x > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  ImGui::TextDisabled("%s", text);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Pages written to swap and read back from it, so far (/proc/vmstat pswpout, pswpin).\n"
                      "A page of zeros takes a slot but is only noted, not written (swpout_zero).");
  const ImU32 anon = owner_colour(FrameOwner::Anon);
  std::snprintf(text, sizeof text, "free %" PRIu64, sw.free());
  legend(owner_colour(FrameOwner::Free), 0, text, "a free slot");
  std::snprintf(text, sizeof text, "on disk %" PRIu64, used - std::min(used, p.cached));
  legend(kOnDisk, 0, text, "the page is only in swap: its PTEs hold the slot, no frame has it");
  std::snprintf(text, sizeof text, "in the swap cache %" PRIu64, p.cached);
  legend(kOnDisk, anon, text,
         "the page is in swap and in a frame too (the lower half has the frame's colour):\n"
         "just swapped in, or written out and not dropped yet. While it stays clean, reclaim\n"
         "can drop the frame without writing it again.");
  legend(owner_colour(FrameOwner::Reserved), 0, "header", "slot 0: the swap file's header, never used for a page");
  if (p.shared) {
    std::snprintf(text, sizeof text, "2+ shared %" PRIu64, p.shared);
    if (ImGui::GetCursorPosX() + ImGui::CalcTextSize(text).x > ImGui::GetContentRegionMax().x) ImGui::NewLine();
    ImGui::TextDisabled("%s", text);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("a number on a slot is its count (swap_map) when several swap PTEs hold it,\n"
                        "as after fork: the slot is freed when the last of them is");
    ImGui::SameLine();
  }
  ImGui::NewLine();
  ImGui::Spacing();

  // ---- the grid, drawn like the frame grid ----
  // The slot lit by a hover elsewhere: a swap PTE, or a frame in the swap cache.
  int64_t lit_slot = -1;
  if (hl.shown_slot) {
    lit_slot = static_cast<int64_t>(hl.shown_swap_slot);
  } else if (hl.shown_frame && hl.shown_pfn < k.phys().total()) {
    const engine::Frame& f = k.phys().frame(engine::Pfn{hl.shown_pfn});
    if (f.flags & engine::PG_swapcache) lit_slot = f.swap;
  }
  const int64_t hovered = draw_cell_grid("swapgrid", n, 0.0f, p.min_cell, p.max_cell, p.grid, [&](uint64_t s, const CellRect& r) {
    const engine::SwapSlot& sl = sw.slot(s);
    ImU32 fill = owner_colour(s == 0 ? FrameOwner::Reserved : FrameOwner::Free), cache = 0;
    if (sl.allocated) {
      fill = kOnDisk;
      if (sl.cache != engine::kNoFrame && sl.cache < k.phys().total())
        cache = owner_colour(k.phys().frame(engine::Pfn{sl.cache}).owner);
    }
    slot_cell(ImGui::GetWindowDrawList(), ImVec2(r.x0, r.y0), ImVec2(r.x1, r.y1), fill, cache);
    if (sl.count > 1 && p.grid.cell >= 12.0f) cell_count(r.x0, r.y0, p.grid.cell, sl.count);
    const bool touched = s < p.touched.size() && p.touched[static_cast<size_t>(s)];
    const bool lit = static_cast<int64_t>(s) == lit_slot;
    p.lit += lit;
    p.touched_drawn += touched;
    cell_mark(r, lit, touched);
  });

  p.hovered = hovered;
  p.hovered_mappers = 0;
  if (hovered >= 0) {
    const uint64_t s = static_cast<uint64_t>(hovered);
    const engine::SwapSlot& sl = sw.slot(s);
    hl.hover_slot = true;
    hl.hover_swap_slot = s;
    if (sl.cache != engine::kNoFrame) {
      // Its frame in the swap cache lights up in the frame grid.
      hl.hover_frame = true;
      hl.hover_pfn = sl.cache;
    }
    slot_tooltip(p, ctx, s);
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left) && sl.allocated && !p.mappers.empty()) {
      // Through the shell: the page-table panel then shows the swap entry on the walk.
      const engine::Kernel::Mapper& m = p.mappers.front();
      char line[64];
      if (m.pid == ctx.session.current_pid())
        std::snprintf(line, sizeof line, "walk 0x%" PRIx64, m.addr);
      else
        std::snprintf(line, sizeof line, "[pid %d] walk 0x%" PRIx64, m.pid, m.addr);
      ctx.app.exec(line);
    }
  }
}

std::string swap_ui_json(const SwapPanel& p, const engine::Kernel& k) {
  const engine::SwapArea& sw = k.swap();
  char b[512];
  std::snprintf(b, sizeof b,
                "{\"off\":%s,\"total\":%" PRIu64 ",\"used\":%" PRIu64 ",\"cached\":%" PRIu64 ",\"shared\":%" PRIu64
                ",\"grid\":{\"x\":%.1f,\"y\":%.1f,\"cell\":%.1f,\"cols\":%" PRIu64 "},\"hovered\":%" PRId64
                ",\"hovered_mappers\":%zu,\"lit\":%zu,\"touched\":%zu}",
                sw.total() == 0 ? "true" : "false", sw.total(), sw.used(), p.cached, p.shared,
                static_cast<double>(p.grid.x), static_cast<double>(p.grid.y), static_cast<double>(p.grid.cell), p.grid.cols,
                p.hovered, p.hovered_mappers, p.lit, p.touched_drawn);
  return b;
}

}  // namespace vmplay::web
