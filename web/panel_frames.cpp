#include "web/panel_frames.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "shell/format.h"
#include "web/app.h"

namespace vmplay::web {

namespace {

using engine::Frame;
using engine::FrameOwner;
using engine::LruList;

// Counted per owner value; sized past the enum so a new owner kind cannot overflow it.
constexpr size_t kOwnerSlots = 16;


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

constexpr ImU32 kDirty = IM_COL32(255, 140, 40, 255);
constexpr ImU32 kReferenced = IM_COL32(255, 255, 255, 230);
constexpr ImU32 kSwapCache = IM_COL32(60, 176, 186, 255);  // the swap grid's teal

// The band along a user frame's bottom edge names its LRU list: white on the active
// lists, near-black on the inactive ones (reclaim takes from their tails), red on the
// unevictable one. Anon or file shows in the fill, so three bands name all five lists.
constexpr ImU32 kLruActive = IM_COL32(250, 250, 250, 255);
constexpr ImU32 kLruInactive = IM_COL32(20, 22, 28, 255);
constexpr ImU32 kLruUnevictable = IM_COL32(235, 60, 60, 255);
constexpr LruList kLists[] = {LruList::InactiveAnon, LruList::ActiveAnon, LruList::InactiveFile, LruList::ActiveFile,
                              LruList::Unevictable};

ImU32 lru_band(LruList l) {
  switch (l) {
    case LruList::ActiveAnon:
    case LruList::ActiveFile: return kLruActive;
    case LruList::InactiveAnon:
    case LruList::InactiveFile: return kLruInactive;
    case LruList::Unevictable: return kLruUnevictable;
    case LruList::None: break;
  }
  return 0;
}

const char* lru_words(LruList l) {
  switch (l) {
    case LruList::InactiveAnon: return "inactive anon";
    case LruList::ActiveAnon: return "active anon";
    case LruList::InactiveFile: return "inactive file";
    case LruList::ActiveFile: return "active file";
    case LruList::Unevictable: return "unevictable";
    case LruList::None: break;
  }
  return "no";
}

bool file_list(LruList l) { return l == LruList::InactiveFile || l == LruList::ActiveFile; }

// Draws the band on a cell from a to b; returns the y above it (where the referenced
// dot goes). Inset by a pixel when the cell has room, so a dark band reads as a band
// and not as the gap below the cell.
float draw_band(ImDrawList* dl, ImVec2 a, ImVec2 b, LruList l) {
  const float s = b.x - a.x;
  const float inset = s >= 6.0f ? 1.0f : 0.0f;
  const float h = std::max(2.0f, std::floor(s * 0.22f));
  dl->AddRectFilled(ImVec2(a.x + inset, b.y - inset - h), ImVec2(b.x - inset, b.y - inset), lru_band(l));
  return b.y - inset - h;
}

std::string ordinal(uint64_t n) {
  const char* suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
  return std::to_string(n) + suffix;
}

// Where a frame stands on its LRU list, and what that means for reclaim.
std::string lru_text(const engine::Kernel& k, const Frame& f, uint64_t age) {
  if (f.lru == LruList::None) {
    if (f.owner == FrameOwner::Anon || f.owner == FrameOwner::File || f.owner == FrameOwner::Shmem)
      return "on no LRU list (taken off one for the moment)";
    return "";
  }
  if (f.lru == LruList::Unevictable) return "unevictable list (mlocked): reclaim never takes it";
  const uint64_t len = k.phys().lru_size(f.lru);
  std::string s = std::string(lru_words(f.lru)) + ", ";
  if (age == 0)
    s += "at the tail";
  else if (age + 1 == len)
    s += "at the head, " + ordinal(age + 1) + " from the tail";
  else
    s += ordinal(age + 1) + " from the tail";
  s += " (of " + std::to_string(len) + ")";
  if (f.lru == LruList::ActiveAnon || f.lru == LruList::ActiveFile)
    s += ": pages move from this tail to the inactive list when that one runs short";
  else if (!file_list(f.lru) && k.swap().total() == 0)
    s += ": no swap, so reclaim leaves anonymous pages alone";
  else if (age == 0)
    s += ": reclaimed next";
  else
    s += ": reclaim looks at " + std::to_string(age) + (age == 1 ? " page" : " pages") + " before it";
  return s;
}

// Rebuilds the reverse map and the PTE bits per frame once per command.
void update_rmap(FramePanel& p, const engine::Kernel& k, uint64_t generation, App& app) {
  if (p.rmap_gen == generation) return;
  // One big rebuild per frame (App::claim_rebuild): until then the marks are a frame old.
  if (p.rmap_gen != 0 && p.rmap_begin.size() == k.phys().total() + 1 && !app.claim_rebuild(p.rmap_waited)) return;
  p.rmap_gen = generation;
  const size_t n = static_cast<size_t>(k.phys().total());
  // Every present PTE once, then a counting sort by frame: two passes, no comparisons.
  struct Found {
    uint64_t pfn;
    engine::Kernel::Mapper m;
  };
  std::vector<Found> found;
  p.pte_bits.assign(n, 0);
  p.rmap_begin.assign(n + 1, 0);
  for (engine::Pid pid : k.pids())
    for (const auto& pte : k.ptes(pid)) {
      if (!engine::pte_present(pte.entry)) continue;
      const uint64_t pfn = engine::pte_pfn(pte.entry).value;
      if (pfn >= n) continue;
      found.push_back({pfn, {pid, pte.addr}});
      ++p.rmap_begin[static_cast<size_t>(pfn) + 1];
      const auto bits = engine::decode_entry(pte.entry);
      p.pte_bits[static_cast<size_t>(pfn)] |= static_cast<uint8_t>((bits.accessed ? 1 : 0) | (bits.dirty ? 2 : 0));
    }
  for (size_t i = 0; i < n; ++i) p.rmap_begin[i + 1] += p.rmap_begin[i];
  p.rmap.resize(found.size());
  std::vector<uint32_t> next(p.rmap_begin.begin(), p.rmap_begin.end() - 1);
  for (const Found& f : found) p.rmap[next[static_cast<size_t>(f.pfn)]++] = f.m;
}

// Every frame's age on its LRU list, for the tooltip: each list walked once from its
// tail (Kernel::lru_position walks per frame), on the first hover after a command.
void update_ages(FramePanel& p, const engine::Kernel& k, uint64_t generation) {
  if (p.age_gen == generation) return;
  p.age_gen = generation;
  const engine::PhysMem& mem = k.phys();
  const size_t n = static_cast<size_t>(mem.total());
  p.lru_age.assign(n, 0);
  for (LruList l : kLists) {
    uint32_t age = 0;
    for (auto at = mem.lru_tail(l); at; at = mem.lru_prev(*at))
      if (at->value < n) p.lru_age[static_cast<size_t>(at->value)] = age++;
  }
}

std::vector<engine::Kernel::Mapper> mappers_of(const FramePanel& p, uint64_t pfn) {
  if (pfn + 1 >= p.rmap_begin.size()) return {};
  return {p.rmap.begin() + p.rmap_begin[static_cast<size_t>(pfn)], p.rmap.begin() + p.rmap_begin[static_cast<size_t>(pfn) + 1]};
}

// A cell with its LRU band, as the grid draws it, then SameLine.
void legend_band(LruList l, FrameOwner owner) {
  const float s = std::floor(ImGui::GetTextLineHeight() * 0.8f);
  const ImVec2 pos = ImGui::GetCursorScreenPos();
  const float y = pos.y + std::floor((ImGui::GetTextLineHeight() - s) * 0.5f);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), owner_colour(owner));
  draw_band(dl, ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), l);
  ImGui::Dummy(ImVec2(s, s));
  ImGui::SameLine(0.0f, 4.0f);
}

void frame_tooltip(FramePanel& p, const engine::Kernel& k, uint64_t pfn, uint64_t generation, bool light) {
  update_ages(p, k, generation);
  auto mappers = mappers_of(p, pfn);
  p.hovered_mappers = mappers.size();
  // A frame mapped hundreds of times (the zero page after a big read) lists the first few.
  constexpr size_t kShown = 12;
  const size_t all = mappers.size();
  if (all > kShown) mappers.resize(kShown);
  const Frame& f = k.phys().frame(engine::Pfn{pfn});
  p.hovered_lru = lru_text(k, f, pfn < p.lru_age.size() ? p.lru_age[static_cast<size_t>(pfn)] : 0);
  const bool swapcache = f.flags & engine::PG_swapcache;
  p.hovered_slot = swapcache ? static_cast<int64_t>(f.swap) : -1;
  ImGui::BeginTooltip();
  auto lines = shell::describe_frame(k, engine::Pfn{pfn}, &mappers);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i == 1) ImGui::Separator();
    ImGui::TextUnformatted(lines[i].c_str());
    // What reclaim will do with it, under the flags and before the mappings.
    if (i != 2) continue;
    if (!p.hovered_lru.empty()) {
      legend_band(f.lru, f.owner);
      ImGui::TextUnformatted(p.hovered_lru.c_str());
    }
    if (swapcache) {
      // The swap grid's teal, darker on the light theme's white.
      const ImVec4 teal = light ? ImVec4(0.14f, 0.45f, 0.48f, 1.0f) : ImVec4(0.35f, 0.80f, 0.84f, 1.0f);
      ImGui::TextColored(teal, "in the swap cache: swap slot %u holds a copy", f.swap);
      ImGui::TextDisabled("  %s", f.flags & engine::PG_dirty ? "dirty since: reclaim writes the slot again"
                                                            : "clean: reclaim can drop it without writing");
    }
  }
  if (all > kShown) ImGui::TextDisabled("  ... and %zu more", all - kShown);
  const uint8_t bits = pfn < p.pte_bits.size() ? p.pte_bits[static_cast<size_t>(pfn)] : 0;
  if (bits)
    ImGui::TextDisabled("a PTE mapping it has %s", bits == 3 ? "Accessed and Dirty set" : bits == 1 ? "Accessed set" : "Dirty set");
  ImGui::TextDisabled("click: its contents (runs frames 0x%" PRIx64 ")", pfn);
  ImGui::EndTooltip();
}

// The marks a cell can carry besides its fill, as legend_mark draws them.
enum class Mark : uint8_t { Corner, Dot, Stripe };

void legend_mark(ImU32 col, Mark mark, const char* label) {
  const float s = ImGui::GetTextLineHeight() * 0.75f;
  const float w = s + 4.0f + ImGui::CalcTextSize(label).x;
  if (ImGui::GetCursorPosX() + w > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  ImVec2 pos = ImGui::GetCursorScreenPos();
  const float y = pos.y + (ImGui::GetTextLineHeight() - s) * 0.5f;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), owner_colour(FrameOwner::Anon));
  const float m = std::floor(s * 0.45f);
  switch (mark) {
    case Mark::Corner:
      dl->AddTriangleFilled(ImVec2(pos.x + s - m, y), ImVec2(pos.x + s, y), ImVec2(pos.x + s, y + m), col);
      break;
    case Mark::Dot:
      dl->AddRectFilled(ImVec2(pos.x + 1, y + s - 1 - m * 0.6f), ImVec2(pos.x + 1 + m * 0.6f, y + s - 1), col);
      break;
    case Mark::Stripe:
      dl->AddRectFilled(ImVec2(pos.x, y), ImVec2(pos.x + std::max(2.0f, std::floor(s * 0.25f)), y + s), col);
      break;
  }
  ImGui::Dummy(ImVec2(s, s));
  ImGui::SameLine(0.0f, 4.0f);
  ImGui::TextUnformatted(label);
  ImGui::SameLine(0.0f, 14.0f);
}

void legend_text(const char* label, const char* tip) {
  const float w = ImGui::CalcTextSize(label).x;
  if (ImGui::GetCursorPosX() + w > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  ImGui::TextDisabled("%s", label);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tip);
  ImGui::SameLine(0.0f, 14.0f);
}

constexpr const char* kBandsTip =
    "The band along a frame's bottom edge is the LRU list it is on (mm/vmscan.c):\n"
    "  white: active (used again recently), black: inactive, red: unevictable (mlocked).\n"
    "Anonymous pages (green) and page cache (blue) have a pair of lists each. New pages\n"
    "join the head of a list; reclaim takes pages from the tail of an inactive list,\n"
    "giving a second chance to those referenced since. Hover a frame for its place.";

// One LRU list in the legend: a cell of that list as the grid draws it, and its length.
void legend_lru(LruList l, uint64_t count) {
  char text[48];
  std::snprintf(text, sizeof text, "%s %" PRIu64, lru_words(l), count);
  const float w = ImGui::GetTextLineHeight() + 4.0f + ImGui::CalcTextSize(text).x;
  if (ImGui::GetCursorPosX() + w > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  ImGui::BeginGroup();
  legend_band(l, file_list(l) ? FrameOwner::File : FrameOwner::Anon);
  ImGui::TextUnformatted(text);
  ImGui::EndGroup();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kBandsTip);
  ImGui::SameLine(0.0f, 14.0f);
}

// Free frames against the zone's watermarks: kswapd wakes below low and reclaims until
// free is back above high; below min an allocation reclaims by itself (direct reclaim).
void legend_watermarks(uint64_t free, const engine::Watermarks& w) {
  char text[96];
  ImVec4 col = ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled);
  if (free < w.min) {
    std::snprintf(text, sizeof text, "free %" PRIu64 " < min %" PRIu64 ": direct reclaim", free, w.min);
    col = ImVec4(0.95f, 0.35f, 0.30f, 1.0f);
  } else if (free < w.low) {
    std::snprintf(text, sizeof text, "free %" PRIu64 " < low %" PRIu64 ": kswapd reclaims", free, w.low);
    col = ImVec4(0.95f, 0.62f, 0.20f, 1.0f);
  } else if (free < w.high) {
    std::snprintf(text, sizeof text, "free %" PRIu64 " < high %" PRIu64, free, w.high);
  } else {
    std::snprintf(text, sizeof text, "free %" PRIu64 " >= high %" PRIu64, free, w.high);
  }
  if (ImGui::GetCursorPosX() + ImGui::CalcTextSize(text).x > ImGui::GetContentRegionMax().x) ImGui::NewLine();
  ImGui::TextColored(col, "%s", text);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Free frames %" PRIu64 " against the watermarks (pages): min %" PRIu64 ", low %" PRIu64
                      ", high %" PRIu64 ".\n"
                      "Below low, kswapd wakes and reclaims until free is above high again.\n"
                      "Below min, an allocation reclaims by itself first (direct reclaim);\n"
                      "when nothing can be reclaimed, the OOM killer picks a process.",
                      free, w.min, w.low, w.high);
  ImGui::SameLine(0.0f, 14.0f);
}

// The selected frame's contents as `hexdump -C` shows them, with what the frame is.
void draw_dump(FramePanel& p, const engine::Kernel& k, uint64_t generation) {
  const uint64_t pfn = static_cast<uint64_t>(p.selected);
  if (p.selected_gen != generation || p.dump_pfn != p.selected) {
    p.selected_gen = generation;
    p.dump_pfn = p.selected;
    p.selected_dump = shell::describe_frame(k, engine::Pfn{pfn}, nullptr);
    const engine::PageData& data = k.phys().frame(engine::Pfn{pfn}).data;
    if (data.empty()) p.selected_dump.emplace_back("contents: all zeros (never written)");
    for (auto& l : shell::hexdump_page(data, pfn << engine::PAGE_SHIFT)) p.selected_dump.push_back(std::move(l));
  }
  ImGui::Separator();
  if (ImGui::SmallButton("close")) {
    p.selected = -1;
    return;
  }
  ImGui::SameLine();
  ImGui::TextUnformatted(p.selected_dump[0].c_str());
  if (!ImGui::BeginChild("dump", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar)) {
    ImGui::EndChild();
    return;
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(p.selected_dump.size()) - 1);
  while (clipper.Step())
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const std::string& l = p.selected_dump[static_cast<size_t>(i) + 1];
      if (i < 2)
        ImGui::TextDisabled("%s", l.c_str());
      else
        ImGui::TextUnformatted(l.c_str());
    }
  ImGui::EndChild();
}

// How a grid of n cells is laid out (the frame grid, the swap grid): rows of a
// power-of-two length so row labels read as round numbers, the largest cells that fit
// the space, or min_cell and a scrollbar when none do.
struct GridShape {
  float cell = 0.0f;
  uint64_t cols = 16, rows = 0;
  float gap = 1.0f;      // between cells
  int label_every = 1;   // rows per row label
};

GridShape pick_grid(uint64_t n, float avail_w, float avail_h, float label_w, float min_cell, float max_cell) {
  const float grid_w = std::max(avail_w - label_w - ImGui::GetStyle().ScrollbarSize, 16.0f);
  GridShape g;
  g.cols = 16;
  for (uint64_t cols = 16; cols <= 256; cols *= 2) {
    float cell = std::min(std::floor(grid_w / static_cast<float>(cols)), max_cell);
    if (cell < min_cell) break;
    const uint64_t rows = (n + cols - 1) / cols;
    cell = std::min(cell, std::floor(avail_h / static_cast<float>(rows)));
    if (cell >= min_cell && cell > g.cell) {
      g.cell = cell;
      g.cols = cols;
    }
  }
  if (g.cell == 0.0f) {
    // Too many cells to fit: keep them readable and scroll. Widest row that fits.
    g.cell = min_cell;
    g.cols = 16;
    while (g.cols * 2 <= 256 && static_cast<float>(g.cols * 2) * g.cell <= grid_w) g.cols *= 2;
  }
  g.rows = (n + g.cols - 1) / g.cols;
  g.gap = g.cell >= 10.0f ? 2.0f : 1.0f;
  g.label_every = std::max(1, static_cast<int>(std::ceil(ImGui::GetTextLineHeight() / g.cell)));
  return g;
}
}  // namespace

void cell_count(float x, float y, float cell, uint32_t count) {
  char rc[8];
  std::snprintf(rc, sizeof rc, "%u", std::min(count, 99u));
  ImGui::GetWindowDrawList()->AddText(ImGui::GetFont(), std::floor(cell * 0.62f), ImVec2(x + 2.0f, y),
                                      IM_COL32(20, 20, 24, 255), rc);
}

int64_t draw_cell_grid(const char* id, uint64_t n, float height, float min_cell, float max_cell, GridPlace& place,
                       const std::function<void(uint64_t, const CellRect&)>& paint) {
  const float label_w = ImGui::CalcTextSize("0x00000 ").x;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const GridShape g = pick_grid(n, avail.x, avail.y, label_w, min_cell, max_cell);
  place.cell = g.cell;
  place.cols = g.cols;
  int64_t hovered = -1;
  if (ImGui::BeginChild(id, ImVec2(0, height), false, ImGuiWindowFlags_NoMove)) {
    // Rows are exactly `cell` apart: the clipper steps by that, so no item spacing.
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0.0f, 0.0f));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const bool hovered_window = ImGui::IsWindowHovered();
    const ImU32 label_col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(g.rows), g.cell);
    while (clipper.Step()) {
      for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
        const ImVec2 origin = ImGui::GetCursorScreenPos();
        const uint64_t row = static_cast<uint64_t>(r);
        if (r % g.label_every == 0) {
          char label[24];
          std::snprintf(label, sizeof label, "0x%03" PRIx64, row * g.cols);
          dl->AddText(ImVec2(origin.x, origin.y + (g.cell - ImGui::GetTextLineHeight()) * 0.5f), label_col, label);
        }
        const float x0 = origin.x + label_w;
        place.x = x0;
        place.y = origin.y - static_cast<float>(r) * g.cell;
        for (uint64_t c = 0; c < g.cols; ++c) {
          const uint64_t i = row * g.cols + c;
          if (i >= n) break;
          const float x = x0 + static_cast<float>(c) * g.cell;
          const CellRect cell{x, origin.y, x + g.cell - g.gap, origin.y + g.cell - g.gap};
          paint(i, cell);
          if (hovered_window && mouse.x >= x && mouse.x < x + g.cell && mouse.y >= origin.y &&
              mouse.y < origin.y + g.cell) {
            hovered = static_cast<int64_t>(i);
            cell_ring(cell, kHover);
          }
        }
        ImGui::Dummy(ImVec2(label_w + static_cast<float>(g.cols) * g.cell, g.cell));
      }
    }
    clipper.End();
    ImGui::PopStyleVar();
  }
  ImGui::EndChild();
  return hovered;
}

void cell_ring(const CellRect& r, uint32_t colour, float pad, float thickness) {
  ImGui::GetWindowDrawList()->AddRect(ImVec2(r.x0 - pad, r.y0 - pad), ImVec2(r.x1 + pad, r.y1 + pad), colour, 0.0f, 0,
                                      thickness);
}

void cell_mark(const CellRect& r, bool lit, bool touched) {
  if (lit)
    cell_ring(r, kOfVma);
  else if (touched)
    cell_ring(r, kTouched);
}

uint32_t owner_colour(FrameOwner o) {
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

void draw_frames(FramePanel& p, PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const auto& frames = k.phys().frames();
  const uint64_t n = frames.size();
  Highlight& hl = ctx.hl;

  // ---- legend with counts ----
  if (p.count_gen != hl.generation || p.owner_count.size() != kOwnerSlots) {
    p.count_gen = hl.generation;
    p.owner_count.assign(kOwnerSlots, 0);
    for (const Frame& f : frames) ++p.owner_count[std::min(static_cast<size_t>(f.owner), kOwnerSlots - 1)];
  }
  const auto& count = p.owner_count;
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
  // ---- free memory against the watermarks, and the LRU lists ----
  p.free_frames = k.phys().free_count();
  p.watermarks = k.watermarks();
  legend_watermarks(p.free_frames, p.watermarks);
  for (LruList l : kLists) {
    const uint64_t c = p.lru_count[static_cast<size_t>(l)] = k.phys().lru_size(l);
    if (c) legend_lru(l, c);
  }
  ImGui::NewLine();
  if (ImGui::GetContentRegionAvail().y >= 300.0f) {
    legend_item(owner_colour(FrameOwner::Free), kTouched, "changed by the last command", 0, false, true);
    legend_item(owner_colour(FrameOwner::Free), kOfVma, "mapped by the hovered VMA or PTE", 0, false, false);
    legend_mark(kDirty, Mark::Corner, "dirty");
    legend_mark(kReferenced, Mark::Dot, "referenced (a PTE's Accessed bit)");
    if (k.swap().total()) legend_mark(kSwapCache, Mark::Stripe, "in the swap cache");
    legend_text("2+ refcount", "a number on a frame is its refcount when more than one holds it (shared, COW)");
  } else {
    // Small panels: the marks explained on demand, so the grid keeps its room.
    legend_text("outlines and marks (?)",
                "yellow outline: changed by the last command\n"
                "blue outline: mapped by the hovered VMA or PTE (or held by the hovered swap slot)\n"
                "orange corner: dirty    white dot: referenced (a PTE's Accessed bit)\n"
                "teal stripe on the left: in the swap cache (a copy is in a swap slot)\n"
                "a number: the refcount, when more than one holds the frame (shared, COW)\n"
                "a band along the bottom: the LRU list (white active, black inactive, red unevictable)");
  }
  ImGui::NewLine();
  ImGui::Spacing();
  update_rmap(p, k, hl.generation, ctx.app);
  // The selected frame's contents take the lower part of the panel.
  const bool dump = p.selected >= 0 && static_cast<uint64_t>(p.selected) < n;
  if (!dump) p.selected = -1;
  const float dump_h = dump ? std::floor(ImGui::GetContentRegionAvail().y * 0.42f) : 0.0f;

  p.lit = p.touched = p.lru_marked = 0;
  const int64_t hovered = draw_cell_grid("grid", n, -dump_h, p.min_cell, p.max_cell, p.grid, [&](uint64_t pfn, const CellRect& r) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 a(r.x0, r.y0), b(r.x1, r.y1);
    const float cell = p.grid.cell;
    dl->AddRectFilled(a, b, owner_colour(frames[static_cast<size_t>(pfn)].owner));
    const bool of_vma = hl.shown_vma && hl.frame_of_vma_valid && pfn < hl.frame_of_vma.size() &&
                        hl.frame_of_vma[static_cast<size_t>(pfn)];
    const bool touched = pfn < hl.frame_touched.size() && hl.frame_touched[static_cast<size_t>(pfn)];
    const Frame& fr = frames[static_cast<size_t>(pfn)];
    const uint8_t bits = pfn < p.pte_bits.size() ? p.pte_bits[static_cast<size_t>(pfn)] : 0;
    const float m = std::max(2.0f, std::floor(cell * 0.35f));
    float above_band = b.y;  // the referenced dot sits on the band
    if (fr.lru != LruList::None) {
      above_band = draw_band(dl, a, b, fr.lru);
      ++p.lru_marked;
    }
    if (fr.flags & engine::PG_swapcache)  // a stripe down the left edge: a copy is in swap
      dl->AddRectFilled(a, ImVec2(a.x + std::max(1.0f, std::floor((b.x - a.x) * 0.2f)), above_band), kSwapCache);
    if ((fr.flags & engine::PG_dirty) || (bits & 2))  // a corner: dirty
      dl->AddTriangleFilled(ImVec2(b.x - m, a.y), ImVec2(b.x, a.y), ImVec2(b.x, a.y + m), kDirty);
    if ((fr.flags & engine::PG_referenced) || (bits & 1))  // a dot: referenced
      dl->AddRectFilled(ImVec2(a.x + 1, above_band - 1 - std::max(1.0f, m * 0.5f)),
                        ImVec2(a.x + 1 + std::max(1.0f, m * 0.5f), above_band - 1), kReferenced);
    if (fr.refcount > 1 && cell >= 12.0f && fr.owner != FrameOwner::ZeroPage && fr.owner != FrameOwner::Vdso)
      cell_count(a.x, a.y, cell, fr.refcount);
    // A hovered swap slot (the swap grid, a swap PTE) lights its frame in the swap cache.
    const bool of_slot = hl.shown_slot && (fr.flags & engine::PG_swapcache) && fr.swap == hl.shown_swap_slot;
    const bool lit = (hl.shown_frame && hl.shown_pfn == pfn) || of_vma || of_slot;
    p.lit += lit;
    p.touched += touched;
    cell_mark(r, lit, touched);
    if (static_cast<int64_t>(pfn) == p.selected) cell_ring(r, kHover, 2.0f, 1.0f);
  });

  p.hovered = hovered;
  p.hovered_lru.clear();
  p.hovered_slot = -1;
  if (hovered >= 0) {
    hl.hover_frame = true;
    hl.hover_pfn = static_cast<uint64_t>(hovered);
    frame_tooltip(p, k, hl.hover_pfn, hl.generation, ctx.app.light());
    if (p.hovered_slot >= 0) {
      hl.hover_slot = true;
      hl.hover_swap_slot = static_cast<uint64_t>(p.hovered_slot);
    }
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
      // Through the shell, like everything the page does: the log shows it too.
      char line[48];
      std::snprintf(line, sizeof line, "frames 0x%" PRIx64, hl.hover_pfn);
      p.selected = hovered;
      ctx.app.exec(line);
    }
  }
  if (dump) draw_dump(p, k, hl.generation);
}

std::string frames_ui_json(const FramePanel& p) {
  char grid[160];
  std::snprintf(grid, sizeof grid, "\"grid\":{\"x\":%.1f,\"y\":%.1f,\"cell\":%.1f,\"cols\":%llu},",
                static_cast<double>(p.grid.x), static_cast<double>(p.grid.y), static_cast<double>(p.grid.cell),
                static_cast<unsigned long long>(p.grid.cols));
  std::string j = std::string("{") + grid + "\"lit\":" + std::to_string(p.lit) + ",\"touched\":" +
                  std::to_string(p.touched) + ",\"selected\":" + std::to_string(p.selected) + ",\"hovered\":" + std::to_string(p.hovered) +
                  ",\"hovered_mappers\":" + std::to_string(p.hovered_mappers) + ",\"hovered_lru\":\"" +
                  shell::json_escape(p.hovered_lru) + "\",\"hovered_slot\":" + std::to_string(p.hovered_slot) +
                  ",\"lru_marked\":" + std::to_string(p.lru_marked) + ",\"lru\":{";
  for (int l = 1; l < engine::kLruLists; ++l)
    j += std::string(l > 1 ? ",\"" : "\"") + engine::lru_list_name(static_cast<engine::LruList>(l)) +
         "\":" + std::to_string(p.lru_count[static_cast<size_t>(l)]);
  j += "},\"free\":" + std::to_string(p.free_frames) + ",\"watermarks\":{\"min\":" +
       std::to_string(p.watermarks.min) + ",\"low\":" + std::to_string(p.watermarks.low) +
       ",\"high\":" + std::to_string(p.watermarks.high) + "},\"dump\":[";
  for (size_t i = 0; i < p.selected_dump.size(); ++i)
    j += (i ? ",\"" : "\"") + shell::json_escape(p.selected_dump[i]) + "\"";
  return j + "]}";
}

}  // namespace vmplay::web
