#include "web/panel_vmas.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "imgui.h"
#include "shell/format.h"
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

// Which VMAs the last command changed: each range is matched to the VMAs it overlaps
// (a lookup per range), so a fork of 10,000 VMAs costs one pass, not one per row.
void update_changes(VmaPanel& p, const Highlight& hl, engine::Pid pid, const engine::Mm& mm) {
  if (p.changes_gen == hl.generation && p.changes_pid == pid) return;
  p.changes_gen = hl.generation;
  p.changes_pid = pid;
  p.changes.clear();
  p.row_starts.clear();
  p.row_starts.reserve(mm.vmas.size());
  for (const auto& [start, v] : mm.vmas) p.row_starts.push_back(start);
  for (const auto& r : hl.vma_changed) {
    if (r.pid != pid) continue;
    auto it = mm.vmas.upper_bound(r.start);
    if (it != mm.vmas.begin() && std::prev(it)->second.end > r.start) --it;
    for (; it != mm.vmas.end() && it->second.start < r.end; ++it) {
      int& c = p.changes[it->first];
      c = std::max(c, r.structural ? 2 : 1);
    }
  }
}

int change_of(const VmaPanel& p, const Vma& v) {
  auto it = p.changes.find(v.start);
  return it == p.changes.end() ? 0 : it->second;
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


// ---- the map of the address space ----
enum MapKind { kAnon, kFile, kShared, kHeap, kStack, kSpecial, kKinds };

const char* const kKindNames[kKinds] = {"anonymous", "file", "shared", "heap", "stack", "special"};
const ImU32 kKindColours[kKinds] = {IM_COL32(84, 190, 112, 255), IM_COL32(80, 150, 235, 255),
                                    IM_COL32(230, 120, 170, 255), IM_COL32(240, 160, 60, 255),
                                    IM_COL32(230, 90, 80, 255),   IM_COL32(200, 160, 90, 255)};

// The kind, by the same rules as the maps name (Kernel::vma_name) without building it.
int map_kind(const engine::Process& proc, const Vma& v) {
  const engine::Mm& mm = proc.mm;
  if (v.special != engine::Special::None) return kSpecial;
  if (v.flags & engine::VM_MAYSHARE) return kShared;
  if (v.inode != 0) return kFile;
  if (v.start < mm.brk && v.end > mm.start_brk) return kHeap;
  if ((mm.start_stack && v.start <= mm.start_stack && v.end >= mm.start_stack) || (v.flags & engine::VM_GROWSDOWN))
    return kStack;
  return kAnon;
}

// Fill colour by kind, faded by permissions: writable full, read-only faded, no access dim.
ImU32 seg_fill(int kind, uint64_t flags) {
  ImU32 c = kKindColours[kind];
  const unsigned alpha = (flags & engine::VM_WRITE) ? 255u : (flags & (engine::VM_READ | engine::VM_EXEC)) ? 140u : 50u;
  return (c & ~IM_COL32_A_MASK) | (static_cast<ImU32>(alpha) << IM_COL32_A_SHIFT);
}

// Units: a VMA is 2 + log2(pages) wide, so a page and a gigabyte both show; a gap is a
// fixed notch whatever its size (the 47-bit space is almost all gap).
constexpr float kGapUnits = 1.5f;

float vma_units(uint64_t pages) {
  float u = 2.0f;
  while (pages > 1) {
    pages >>= 1;
    u += 1.0f;
  }
  return u;
}

void build_map(VmaPanel& p, const engine::Process& proc, float width) {
  p.segs.clear();
  float x = 0.0f;
  uint64_t prev_end = 0;
  for (const auto& [start, v] : proc.mm.vmas) {
    if (v.start > prev_end) {
      p.segs.push_back({x, x + kGapUnits, prev_end, v.start, -1, 0});
      x += kGapUnits;
    }
    const float u = vma_units(v.pages());
    p.segs.push_back({x, x + u, v.start, v.end, map_kind(proc, v), v.flags});
    x += u;
    prev_end = v.end;
  }
  constexpr uint64_t kTop = uint64_t{1} << 47;
  if (prev_end < kTop) {
    p.segs.push_back({x, x + kGapUnits, prev_end, kTop, -1, 0});
    x += kGapUnits;
  }
  p.total_units = std::max(x, 1.0f);
  p.notches.clear();
  std::fill(std::begin(p.kinds_present), std::end(p.kinds_present), false);
  // Pixel runs: neighbours of one colour that meet on a pixel merge, so 10,000 VMAs
  // draw as at most a few rectangles per pixel column.
  p.runs.clear();
  const float scale = width / p.total_units;
  for (const auto& sg : p.segs) {
    if (sg.kind < 0) {
      if ((sg.x1 - sg.x0) * scale >= 3.0f) p.notches.push_back((sg.x0 + sg.x1) * 0.5f * scale);
      continue;
    }
    p.kinds_present[sg.kind] = true;
    const float a = std::floor(sg.x0 * scale), b = std::max(a + 1.0f, std::floor(sg.x1 * scale));
    const ImU32 fill = seg_fill(sg.kind, sg.flags);
    const bool ex = (sg.flags & engine::VM_EXEC) != 0;
    if (!p.runs.empty() && p.runs.back().fill == fill && p.runs.back().exec == ex && p.runs.back().x1 >= a) {
      p.runs.back().x1 = std::max(p.runs.back().x1, b);
    } else if (!p.runs.empty() && p.runs.back().x1 > a) {
      // Sub-pixel neighbours of another colour: the pixel keeps its first owner.
      if (b > p.runs.back().x1) p.runs.push_back({p.runs.back().x1, b, fill, ex});
    } else {
      p.runs.push_back({a, b, fill, ex});
    }
  }
}

void draw_map(VmaPanel& p, PanelContext& ctx, const engine::Process& proc) {
  const engine::Kernel& k = ctx.session.kernel();
  const float width = std::max(ImGui::GetContentRegionAvail().x, 50.0f);
  const float h = std::floor(ImGui::GetTextLineHeight() * 1.3f);
  const bool stale = p.map_gen != ctx.hl.generation || p.map_pid != ctx.pid || p.map_width != width;
  if (stale && (p.map_pid != ctx.pid || p.map_width != width || p.segs.empty() || ctx.app.claim_rebuild(p.map_waited))) {
    build_map(p, proc, width);
    ++p.map_builds;
    p.map_gen = ctx.hl.generation;
    p.map_pid = ctx.pid;
    p.map_width = width;
  }
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(o, ImVec2(o.x + width, o.y + h), IM_COL32(36, 39, 48, 255));
  const float scale = width / p.total_units;
  // Gaps: a faint zig-zag notch says "compressed".
  for (const float notch : p.notches) {
    const float mx = o.x + notch;
    dl->AddLine(ImVec2(mx - 1.5f, o.y + 2), ImVec2(mx + 1.5f, o.y + h * 0.5f), IM_COL32(110, 115, 130, 255));
    dl->AddLine(ImVec2(mx + 1.5f, o.y + h * 0.5f), ImVec2(mx - 1.5f, o.y + h - 2), IM_COL32(110, 115, 130, 255));
  }
  for (const auto& r : p.runs) {
    dl->AddRectFilled(ImVec2(o.x + r.x0, o.y), ImVec2(o.x + r.x1, o.y + h), r.fill);
    if (r.exec) dl->AddRectFilled(ImVec2(o.x + r.x0, o.y), ImVec2(o.x + r.x1, o.y + 3.0f), IM_COL32(255, 255, 255, 220));
  }
  // What the last command changed, and the hovered and selected VMAs, outlined.
  auto outline = [&](const VmaPanel::Seg& sg, ImU32 col, float thick) {
    const float a = std::floor(sg.x0 * scale), b = std::max(a + 1.0f, std::floor(sg.x1 * scale));
    dl->AddRect(ImVec2(o.x + a - 1, o.y - 1), ImVec2(o.x + b + 1, o.y + h + 1), col, 0.0f, 0, thick);
  };
  const Highlight& hl = ctx.hl;
  ImGui::InvisibleButton("map", ImVec2(width, h));
  const bool hovered = ImGui::IsItemHovered();
  ctx.app.mark("vma map");
  p.map_hovered = -1;
  if (hovered) {
    const float ux = (ImGui::GetIO().MousePos.x - o.x) / scale;
    auto it = std::upper_bound(p.segs.begin(), p.segs.end(), ux, [](float v, const VmaPanel::Seg& sg) { return v < sg.x1; });
    if (it != p.segs.end()) p.map_hovered = static_cast<int>(it - p.segs.begin());
  }
  auto seg_of = [&](uint64_t start) -> const VmaPanel::Seg* {
    auto it = std::lower_bound(p.segs.begin(), p.segs.end(), start,
                               [](const VmaPanel::Seg& sg, uint64_t a) { return sg.start < a; });
    return it != p.segs.end() && it->start == start && it->kind >= 0 ? &*it : nullptr;
  };
  for (const auto& [start, change] : p.changes)
    if (change == 2)
      if (const auto* sg = seg_of(start)) outline(*sg, IM_COL32(255, 200, 40, 255), 1.5f);
  if (hl.shown_vma)
    if (const auto* sg = seg_of(hl.shown_vma_start)) outline(*sg, IM_COL32(70, 140, 230, 255), 2.0f);
  if (p.has_selected)
    if (const auto* sg = seg_of(p.selected)) outline(*sg, IM_COL32(255, 255, 255, 255), 2.0f);
  if (p.map_hovered >= 0) {
    const auto& sg = p.segs[static_cast<size_t>(p.map_hovered)];
    char size[32];
    format_size(size, sizeof size, sg.end - sg.start);
    ImGui::BeginTooltip();
    if (sg.kind < 0) {
      ImGui::Text("gap %012" PRIx64 "-%012" PRIx64 "  %s unmapped", sg.start, sg.end, size);
      ImGui::TextDisabled("(drawn as a notch: gaps are compressed)");
    } else {
      auto it = proc.mm.vmas.find(sg.start);
      const std::string name = it == proc.mm.vmas.end() ? std::string() : k.vma_name(proc, it->second);
      ImGui::Text("%012" PRIx64 "-%012" PRIx64 "  %s  %s", sg.start, sg.end, size,
                  name.empty() ? "[anon]" : name.c_str());
      ImGui::TextDisabled("%s, %c%c%c   click: select it", kKindNames[sg.kind], (sg.flags & engine::VM_READ) ? 'r' : '-',
                          (sg.flags & engine::VM_WRITE) ? 'w' : '-', (sg.flags & engine::VM_EXEC) ? 'x' : '-');
      ctx.hl.hover_vma = true;
      ctx.hl.hover_vma_start = sg.start;
      if (ImGui::IsItemClicked()) {
        p.has_selected = true;
        p.selected = sg.start;
        p.scroll_to_selected = true;
      }
    }
    ImGui::EndTooltip();
  }
  // Legend: kinds present, then how permissions show.
  const bool* present = p.kinds_present;
  const float sq = ImGui::GetTextLineHeight() * 0.7f;
  bool first = true;
  for (int kd = 0; kd < kKinds; ++kd) {
    if (!present[kd]) continue;
    const float w = sq + 4.0f + ImGui::CalcTextSize(kKindNames[kd]).x;
    if (!first) ImGui::SameLine(0.0f, 12.0f);
    if (!first && ImGui::GetCursorPosX() + w > ImGui::GetContentRegionMax().x) ImGui::NewLine();
    first = false;
    const ImVec2 c = ImGui::GetCursorScreenPos();
    const float y = c.y + (ImGui::GetTextLineHeight() - sq) * 0.5f;
    dl->AddRectFilled(ImVec2(c.x, y), ImVec2(c.x + sq, y + sq), kKindColours[kd]);
    ImGui::Dummy(ImVec2(sq, sq));
    ImGui::SameLine(0.0f, 4.0f);
    ImGui::TextUnformatted(kKindNames[kd]);
  }
  if (!first) ImGui::SameLine(0.0f, 12.0f);
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("The 47-bit user address space, 0 to 0x7ffffffff000, left to right.\n"
                      "Each VMA is drawn wider the bigger it is (log scale); every gap is a\n"
                      "notch of the same width, however large. Colour: what backs it.\n"
                      "Solid: writable. Faded: read-only. Dim: no access (PROT_NONE).\n"
                      "A white top edge: executable. Yellow outline: changed by the last command.");
}

// The selected VMA: flags and smaps numbers, and the lines a click can run.
void draw_details(VmaPanel& p, PanelContext& ctx, const engine::Process& proc, const Vma& v) {
  const engine::Kernel& k = ctx.session.kernel();
  if (p.smaps_gen != ctx.hl.generation || p.smaps_key != v.start) {
    p.smaps_gen = ctx.hl.generation;
    p.smaps_key = v.start;
    p.smaps.clear();
    const auto all = k.proc_smaps(ctx.pid);
    char key[32];
    std::snprintf(key, sizeof key, "%08" PRIx64 "-", v.start);
    const size_t b = all ? all->find(key) : std::string::npos;
    if (b != std::string::npos) {
      size_t i = all->find('\n', b) + 1;  // past the maps line
      while (i < all->size()) {
        const size_t nl = all->find('\n', i);
        const std::string line = all->substr(i, nl - i);
        const size_t colon = line.find(':');
        if (colon == std::string::npos) break;
        std::string val = line.substr(colon + 1);
        val.erase(0, val.find_first_not_of(' '));
        p.smaps.emplace_back(line.substr(0, colon), val);
        if (line.rfind("VmFlags:", 0) == 0 || nl == std::string::npos) break;
        i = nl + 1;
      }
    }
  }
  const std::string name = k.vma_name(proc, v);
  char size[32];
  format_size(size, sizeof size, v.end - v.start);
  if (ImGui::SmallButton("close")) p.has_selected = false;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Deselect: back to the table alone");
  ImGui::SameLine();
  ImGui::Text("%012" PRIx64 "-%012" PRIx64 " %s", v.start, v.end, name.empty() ? "[anon]" : name.c_str());
  ImGui::TextDisabled("%s, %" PRIu64 " pages, vm_flags 0x%" PRIx64, size, v.pages(), v.flags);
  // Lines to run on it, through the shell.
  char line[160];
  std::snprintf(line, sizeof line, "smaps 0x%" PRIx64, v.start);
  if (ImGui::SmallButton("smaps")) ctx.app.exec(line);
  ctx.app.mark("vma smaps");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("run: %s", line);
  ImGui::SameLine();
  std::snprintf(line, sizeof line, "walk 0x%" PRIx64, v.start);
  if (ImGui::SmallButton("walk")) ctx.app.exec(line);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("run: %s", line);
  ImGui::SameLine();
  std::snprintf(line, sizeof line, "munmap(0x%" PRIx64 ", %" PRIu64 ")", v.start, v.end - v.start);
  if (ImGui::SmallButton("munmap")) ctx.app.exec(line);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("run: %s", line);
  if (!ImGui::BeginTable("smaps", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit))
    return;
  ImGui::TableSetupColumn("key");
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  for (const auto& [key, val] : p.smaps) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextDisabled("%s", key.c_str());
    ImGui::TableNextColumn();
    if (key == "VmFlags") {
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextUnformatted(val.c_str());
      ImGui::PopTextWrapPos();
      if (ImGui::IsItemHovered()) flags_tooltip(v, ctx.hl);
    } else {
      const bool zero = val == "0 kB";
      if (zero)
        ImGui::TextDisabled("%s", val.c_str());
      else
        ImGui::TextUnformatted(val.c_str());
    }
  }
  ImGui::EndTable();
}

}  // namespace

std::string vmas_ui_json(const VmaPanel& p) {
  std::string j = "{\"first_row\":" + std::to_string(p.first_row) + ",\"last_row\":" + std::to_string(p.last_row) +
                  ",\"selected\":";
  char b[32];
  std::snprintf(b, sizeof b, "\"0x%" PRIx64 "\"", p.selected);
  j += p.has_selected ? b : "null";
  size_t vmas = 0, gaps = 0;
  for (const auto& sg : p.segs) (sg.kind < 0 ? gaps : vmas) += 1;
  j += ",\"map\":{\"vmas\":" + std::to_string(vmas) + ",\"gaps\":" + std::to_string(gaps) +
       ",\"runs\":" + std::to_string(p.runs.size()) + ",\"builds\":" + std::to_string(p.map_builds) + ",\"hovered\":";
  if (p.map_hovered >= 0) {
    std::snprintf(b, sizeof b, "\"0x%" PRIx64 "\"", p.segs[static_cast<size_t>(p.map_hovered)].start);
    j += b;
  } else {
    j += "null";
  }
  j += ",\"kinds\":[";
  size_t listed = 0;  // the first 64 VMAs' kinds, in address order
  for (const auto& sg : p.segs) {
    if (sg.kind < 0 || listed == 64) continue;
    j += std::string(listed++ ? "," : "") + "\"" + kKindNames[sg.kind] + "\"";
  }
  j += "]},\"smaps\":{";
  for (size_t i = 0; i < p.smaps.size() && p.has_selected; ++i)
    j += (i ? ",\"" : "\"") + shell::json_escape(p.smaps[i].first) + "\":\"" + shell::json_escape(p.smaps[i].second) + "\"";
  return j + "}}";
}

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

  // ---- the map, the selected VMA's details, the table ----
  update_changes(p, hl, ctx.pid, mm);
  draw_map(p, ctx, *proc);
  ImGui::Spacing();
  const Vma* sel = nullptr;
  if (p.has_selected) {
    auto it = mm.vmas.find(p.selected);
    if (it != mm.vmas.end()) sel = &it->second;
    else p.has_selected = false;  // unmapped, split or merged away
  }
  const float details_w = 330.0f;
  const bool side = ImGui::GetContentRegionAvail().x >= 760.0f;
  if (sel && !side) {
    // Narrow panels: the details take the table's place until deselected (x).
    if (ImGui::BeginChild("details", ImVec2(0, 0), true)) draw_details(p, ctx, *proc, *sel);
    ImGui::EndChild();
    return;
  }
  if (sel && side) ImGui::BeginGroup();
  const ImGuiTableFlags tflags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_BordersOuterH |
                                 ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX | ImGuiTableFlags_SizingFixedFit;
  const int ncols = p.show_flags ? 7 : 6;
  const ImVec2 table_size(sel && side ? ImGui::GetContentRegionAvail().x - details_w - 6.0f : 0.0f, 0.0f);
  const bool table_open = ImGui::BeginTable("vmas", ncols, tflags, table_size);
  auto finish = [&] {
    if (!(sel && side)) return;
    ImGui::EndGroup();
    ImGui::SameLine(0.0f, 6.0f);
    if (ImGui::BeginChild("details", ImVec2(0, 0), true)) draw_details(p, ctx, *proc, *sel);
    ImGui::EndChild();
  };
  if (!table_open) return finish();
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
    int target = -1;
    for (const auto& [start, change] : p.changes)
      if (change == 2) {
        target = static_cast<int>(std::distance(mm.vmas.begin(), mm.vmas.find(start)));
        break;
      }
    if (target >= 0) {
      const float row_h = ImGui::GetTextLineHeight() + 2.0f * ImGui::GetStyle().CellPadding.y;
      const float view_h = ImGui::GetWindowHeight() - ImGui::GetFrameHeight();
      const float y = static_cast<float>(target) * row_h;
      if (y < ImGui::GetScrollY() || y + row_h > ImGui::GetScrollY() + view_h)
        ImGui::SetScrollY(std::max(0.0f, y - view_h / 3.0f));
    }
  }

  if (p.scroll_to_selected && p.has_selected) {
    p.scroll_to_selected = false;
    const auto it = mm.vmas.find(p.selected);
    const float row_h = ImGui::GetTextLineHeight() + 2.0f * ImGui::GetStyle().CellPadding.y;
    const float view_h = ImGui::GetWindowHeight() - ImGui::GetFrameHeight();
    const float y = static_cast<float>(std::distance(mm.vmas.begin(), it)) * row_h;
    if (y < ImGui::GetScrollY() || y + row_h > ImGui::GetScrollY() + view_h)
      ImGui::SetScrollY(std::max(0.0f, y - view_h / 3.0f));
  }

  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(mm.vmas.size()));
  p.first_row = -1;
  while (clipper.Step()) {
    if (p.first_row < 0 && clipper.DisplayEnd > clipper.DisplayStart) p.first_row = clipper.DisplayStart;
    p.last_row = clipper.DisplayEnd - 1;
    // Row i's VMA, found from its start (the table can be 10,000 rows long).
    auto it = clipper.DisplayStart < static_cast<int>(p.row_starts.size())
                  ? mm.vmas.find(p.row_starts[static_cast<size_t>(clipper.DisplayStart)])
                  : mm.vmas.end();
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row, ++it) {
      // A line run earlier in this frame (a click) may have changed the VMAs: the rows
      // catch up on the next frame.
      if (it == mm.vmas.end()) break;
      const Vma& v = it->second;
      ImGui::TableNextRow();
      const int change = change_of(p, v);
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
      const bool is_sel = p.has_selected && p.selected == v.start;
      if (ImGui::Selectable(start, is_sel, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowOverlap)) {
        p.has_selected = !is_sel;
        p.selected = v.start;
      }
      ctx.app.mark("vma " + std::string(start));
      if (ImGui::IsItemHovered()) {
        ctx.hl.hover_vma = true;
        ctx.hl.hover_vma_start = v.start;
        if (hl.shown_vma && hl.shown_vma_start == v.start && !ImGui::IsPopupOpen("vma menu")) flags_tooltip(v, hl);
      }
      if (ImGui::BeginPopupContextItem("vma menu")) {
        // Each entry runs its line in the shell, as if typed.
        char line[160];
        const uint64_t len = v.end - v.start;
        auto item = [&](const char* label, const char* fmt, auto... args) {
          std::snprintf(line, sizeof line, fmt, args...);
          if (ImGui::MenuItem(label, line)) ctx.app.exec(line);
        };
        item("Its smaps entry", "smaps 0x%" PRIx64, v.start);
        item("Walk its first page", "walk 0x%" PRIx64, v.start);
        item("Read its first byte", "*(char *)0x%" PRIx64, v.start);
        item("Write its first byte", "*(char *)0x%" PRIx64 " = 1", v.start);
        ImGui::Separator();
        item("Make it read-only", "mprotect(0x%" PRIx64 ", %" PRIu64 ", PROT_READ)", v.start, len);
        item("Drop its pages", "madvise(0x%" PRIx64 ", %" PRIu64 ", MADV_DONTNEED)", v.start, len);
        item("Unmap it", "munmap(0x%" PRIx64 ", %" PRIu64 ")", v.start, len);
        ImGui::EndPopup();
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
  finish();
}

}  // namespace vmplay::web
