#include "web/panel_pagetables.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/swap.h"
#include "imgui.h"
#include "web/app.h"
#include "web/panel_frames.h"

namespace vmplay::web {

namespace {

// Text colours are chosen for the dark theme; on the light one (theme=light) they are
// darkened so they read on white (set per frame from App::light()).
bool g_light = false;  // NOLINT: one panel drawn at a time, on one thread
ImU32 ink(ImU32 c) {
  if (!g_light) return c;
  auto ch = [&](int shift) { return static_cast<ImU32>(static_cast<float>((c >> shift) & 0xffu) * 0.55f) << shift; };
  return ch(IM_COL32_R_SHIFT) | ch(IM_COL32_G_SHIFT) | ch(IM_COL32_B_SHIFT) | (c & IM_COL32_A_MASK);
}
ImVec4 ink4(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(ink(c)); }
ImVec4 ink4(ImVec4 c) { return g_light ? ImVec4(c.x * 0.55f, c.y * 0.55f, c.z * 0.55f, c.w) : c; }


using engine::EntryBits;
using engine::Event;
using engine::EventKind;
using engine::Pfn;
using Entry = PageTablePanel::Entry;
constexpr uint32_t kNone = PageTablePanel::kNone;

// ---- colours ----
// Each level has a colour, shared by the address's bit fields and the tree's indices,
// so "the PD index is 447" and the PD row of the tree read as one thing.
constexpr ImU32 kLevelCol[5] = {
    IM_COL32(170, 176, 192, 255),  // the offset in the page
    IM_COL32(96, 204, 190, 255),   // PT
    IM_COL32(204, 206, 96, 255),   // PD
    IM_COL32(238, 168, 82, 255),   // PDPT
    IM_COL32(238, 122, 112, 255),  // PML4
};
// As in the frames panel: page-table frames are purple.
constexpr ImU32 kPageTable = IM_COL32(160, 112, 225, 255);
constexpr ImU32 kPathBg = IM_COL32(160, 112, 225, 95);
// As in the address-space panel: hover counterparts blue, the last command's changes amber.
constexpr ImU32 kLitBg = IM_COL32(70, 140, 230, 120);
constexpr ImU32 kLitBelowBg = IM_COL32(70, 140, 230, 45);
constexpr ImU32 kChangedBg = IM_COL32(200, 150, 40, 110);
constexpr ImU32 kChangedBelowBg = IM_COL32(200, 150, 40, 40);
constexpr ImU32 kChangedText = IM_COL32(235, 185, 70, 255);

// The frames panel's owner colours, so a PTE's pfn reads in the colour of its square
// (free and reserved lightened: their squares are too dark for text).
ImU32 frame_colour(const engine::PhysMem& mem, uint64_t pfn) {
  if (pfn >= mem.total()) return IM_COL32(255, 90, 90, 255);
  switch (const engine::FrameOwner o = mem.frame(Pfn{pfn}).owner) {
    case engine::FrameOwner::Free: return IM_COL32(140, 146, 160, 255);
    case engine::FrameOwner::Reserved: return IM_COL32(176, 140, 110, 255);
    default: return owner_colour(o);
  }
}

// Intel's names for the tables, with Linux's beside them in tooltips (4-level paging
// folds the p4d into the pgd).
struct LevelNames {
  const char* intel;       // PML4
  const char* kernel;      // pgd
  const char* span;        // 512G
  const char* span_words;  // 512 GiB
};
const LevelNames& names_of(int level) {
  static constexpr LevelNames kNames[5] = {{"offset", "", "", ""},
                                           {"PT", "pte", "4K", "4 KiB"},
                                           {"PD", "pmd", "2M", "2 MiB"},
                                           {"PDPT", "pud", "1G", "1 GiB"},
                                           {"PML4", "pgd", "512G", "512 GiB"}};
  return kNames[std::clamp(level, 0, 4)];
}
const char* level_name(int level) { return names_of(level).intel; }
const char* linux_name(int level) { return names_of(level).kernel; }
const char* span_name(int level) { return names_of(level).span; }
const char* span_words(int level) { return names_of(level).span_words; }

uint64_t key_of(const Entry& e) { return (e.addr & 0xffffffffffffULL) | e.level; }
bool maps_something(const EntryBits& b) { return b.present || b.protnone; }
// A swapped-out page's PTE: its bits are a swap type and offset, not flags and a PFN,
// so it is never decoded as if it were present. Only PTEs hold them.
bool is_swap(int level, uint64_t value) { return level == 1 && engine::is_swap_pte(value); }
// As in the swap grid.
constexpr ImU32 kSwapCol = IM_COL32(60, 176, 186, 255);

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

// ---- building the tree ----

void add_table(PageTablePanel& p, const engine::PhysMem& mem, uint64_t table, int level, uint64_t base,
               uint32_t parent) {
  if (table >= mem.total()) return;
  ++p.tables;
  p.max_pfn = std::max(p.max_pfn, table);
  const engine::Frame& f = mem.frame(Pfn{table});
  if (f.data.empty()) return;  // all zeros: nothing populated
  // Read the frame's bytes directly, as the MMU would: one pointer, 512 loads.
  const uint8_t* bytes = f.data.data();
  const uint64_t span = engine::pt_entry_span(level);
  for (uint64_t i = 0; i < 512; ++i) {
    uint64_t value;
    std::memcpy(&value, bytes + i * 8, 8);
    if (value == 0) continue;
    uint64_t addr = base + i * span;
    if (level == 4 && i >= 256) addr |= 0xffff000000000000ULL;  // the canonical (sign-extended) form
    const uint32_t idx = static_cast<uint32_t>(p.entries.size());
    Entry e;
    e.addr = addr;
    e.value = value;
    e.table = table;
    e.parent = parent;
    e.index = static_cast<uint16_t>(i);
    e.level = static_cast<uint8_t>(level);
    p.entries.push_back(e);
    const EntryBits b = engine::decode_entry(value);
    if (level == 1) {
      p.leaves.push_back(idx);
      if (is_swap(level, value)) {
        ++p.swap_ptes;
        p.entries[idx].end = idx + 1;
        continue;
      }
      if (b.protnone || b.special || b.global || b.pse) p.any_extra_bits = true;
    }
    if (maps_something(b)) {
      p.by_pfn.emplace_back(b.pfn.value, idx);
      p.max_pfn = std::max(p.max_pfn, b.pfn.value);
    }
    if (level > 1 && b.present) add_table(p, mem, b.pfn.value, level - 1, addr, idx);
    p.entries[idx].end = static_cast<uint32_t>(p.entries.size());
  }
}

// The entry covering addr at a level, or kNone.
uint32_t find_entry(const PageTablePanel& p, uint64_t addr, int level) {
  const uint64_t aligned = addr & ~(engine::pt_entry_span(level) - 1);
  auto it = std::lower_bound(p.entries.begin(), p.entries.end(), aligned, [level](const Entry& e, uint64_t a) {
    return e.addr < a || (e.addr == a && e.level > level);
  });
  if (it == p.entries.end() || it->addr != aligned || it->level != level) return kNone;
  return static_cast<uint32_t>(it - p.entries.begin());
}

void mark_up(std::vector<uint8_t>& flags, const PageTablePanel& p, uint32_t i) {
  for (uint32_t up = p.entries[i].parent; up != kNone && flags[up] == 0; up = p.entries[up].parent) flags[up] = 2;
}

void mark_changed(PageTablePanel& p, uint32_t i) {
  if (i == kNone || p.entries[i].changed == 1) return;
  p.entries[i].changed = 1;
  ++p.n_changed;
  p.first_changed = std::min(p.first_changed, i);
  for (uint32_t up = p.entries[i].parent; up != kNone && p.entries[up].changed == 0; up = p.entries[up].parent)
    p.entries[up].changed = 2;
}

void build(PageTablePanel& p, const engine::Kernel& k, engine::Pid pid, uint64_t generation,
           const std::vector<Event>& events) {
  p.entries.clear();
  p.leaves.clear();
  p.by_pfn.clear();
  p.tables = 0;
  p.max_pfn = 0;
  p.cr3 = 0;
  p.any_extra_bits = false;
  p.swap_ptes = 0;
  p.n_set = p.n_cleared = p.n_tables_new = p.n_tables_freed = p.n_changed = 0;
  p.first_changed = kNone;
  p.scroll_changed = true;
  p.built_gen = generation;
  p.built_pid = pid;
  p.rows_dirty = true;
  p.lit_gen = 0;
  const engine::Process* proc = k.process(pid);
  if (!proc || proc->state != engine::ProcState::Running) return;
  p.cr3 = proc->mm.pgd.value;
  add_table(p, k.phys(), p.cr3, 4, 0, kNone);
  std::sort(p.by_pfn.begin(), p.by_pfn.end());

  // What the last command changed in this process's tables.
  for (const Event& e : events) {
    if (e.pid != pid) continue;
    switch (e.kind) {
      case EventKind::PteSet:
        ++p.n_set;
        mark_changed(p, find_entry(p, e.addr, 1));
        break;
      case EventKind::PteClear: ++p.n_cleared; break;
      case EventKind::PageTableAlloc: {
        ++p.n_tables_new;
        // The entry that now points at the new table.
        auto it = std::lower_bound(p.by_pfn.begin(), p.by_pfn.end(), std::make_pair(e.pfn.value, uint32_t{0}));
        for (; it != p.by_pfn.end() && it->first == e.pfn.value; ++it)
          if (p.entries[it->second].level > 1) mark_changed(p, it->second);
        break;
      }
      case EventKind::PageTableFree: ++p.n_tables_freed; break;
      default: break;
    }
  }
}

void build_rows(PageTablePanel& p) {
  p.rows.clear();
  const uint32_t n = static_cast<uint32_t>(p.entries.size());
  for (uint32_t i = 0; i < n;) {
    p.rows.push_back(i);
    const Entry& e = p.entries[i];
    if (e.end > i + 1 && p.collapsed.count(key_of(e)))
      i = e.end;
    else
      ++i;
  }
  p.rows_dirty = false;
}

int row_of(const PageTablePanel& p, uint32_t entry) {
  auto it = std::lower_bound(p.rows.begin(), p.rows.end(), entry);
  return it != p.rows.end() && *it == entry ? static_cast<int>(it - p.rows.begin()) : -1;
}

// What hovering in another panel lights up: the PTEs inside the hovered VMA, or the
// entries pointing at the hovered frame (a data frame's PTEs, a table's parent entry).
void update_lit(PageTablePanel& p, const PanelContext& ctx) {
  const Highlight& hl = ctx.hl;
  if (p.lit_gen == p.built_gen && p.lit_vma == hl.shown_vma && p.lit_frame == hl.shown_frame &&
      p.lit_slot == hl.shown_slot && (!hl.shown_vma || p.lit_vma_start == hl.shown_vma_start) &&
      (!hl.shown_frame || p.lit_pfn == hl.shown_pfn) && (!hl.shown_slot || p.lit_swap_slot == hl.shown_swap_slot))
    return;
  p.lit_gen = p.built_gen;
  p.lit_vma = hl.shown_vma;
  p.lit_vma_start = hl.shown_vma_start;
  p.lit_frame = hl.shown_frame;
  p.lit_pfn = hl.shown_pfn;
  p.lit_slot = hl.shown_slot;
  p.lit_swap_slot = hl.shown_swap_slot;
  p.lit.assign(p.entries.size(), 0);
  p.lit_count = 0;
  auto light = [&](uint32_t i) {
    if (p.lit[i] == 1) return;
    p.lit[i] = 1;
    ++p.lit_count;
    mark_up(p.lit, p, i);
  };
  if (hl.shown_vma) {
    const engine::Process* proc = ctx.session.kernel().process(p.built_pid);
    if (proc) {
      auto v = proc->mm.vmas.find(hl.shown_vma_start);
      if (v != proc->mm.vmas.end()) {
        const uint64_t start = v->second.start, end = v->second.end;
        auto it = std::lower_bound(p.leaves.begin(), p.leaves.end(), start,
                                   [&](uint32_t i, uint64_t a) { return p.entries[i].addr < a; });
        for (; it != p.leaves.end() && p.entries[*it].addr < end; ++it) light(*it);
      }
    }
  }
  if (hl.shown_frame) {
    auto it = std::lower_bound(p.by_pfn.begin(), p.by_pfn.end(), std::make_pair(hl.shown_pfn, uint32_t{0}));
    for (; it != p.by_pfn.end() && it->first == hl.shown_pfn; ++it) light(it->second);
  }
  // A hovered swap slot: the swap entries naming it (a scan of the PTEs, once per hover).
  if (hl.shown_slot && p.swap_ptes)
    for (uint32_t i : p.leaves)
      if (is_swap(1, p.entries[i].value) && engine::pte_swp_offset(p.entries[i].value) == hl.shown_swap_slot) light(i);
}

// ---- drawing pieces ----

struct Bit {
  const char* label;
  uint64_t mask;  // 0: drawn from EntryBits below
  ImU32 colour;
  const char* on;
  const char* off;
};
// The six bits every entry shows, in a fixed slot each so rows line up like a register.
constexpr Bit kBits[] = {
    {"P", engine::_PAGE_PRESENT, IM_COL32(110, 210, 130, 255), "present: the MMU may use this entry",
     "not present: any access faults"},
    {"RW", engine::_PAGE_RW, IM_COL32(240, 150, 80, 255), "writable: stores are allowed",
     "read-only: a store faults (copy-on-write, or SIGSEGV)"},
    {"US", engine::_PAGE_USER, IM_COL32(110, 170, 240, 255), "user: user-mode code may access it",
     "supervisor only: the kernel may access it, user code faults"},
    {"A", engine::_PAGE_ACCESSED, IM_COL32(190, 190, 205, 255), "accessed: the CPU set this on the first use",
     "not accessed since the bit was cleared"},
    {"D", engine::_PAGE_DIRTY, IM_COL32(235, 205, 80, 255), "dirty: the page was written to",
     "clean: not written since it was mapped"},
    {"NX", engine::_PAGE_NX, IM_COL32(235, 100, 100, 255), "no-execute: instruction fetches fault",
     "executable: instructions may be fetched from it"},
};

struct Chip {
  const char* label;
  ImU32 colour;
  bool on;
};

float chip_pad() { return 2.0f; }
float chip_gap() { return 3.0f; }

float chip_width(const char* label) { return ImGui::CalcTextSize(label).x + 2.0f * chip_pad(); }

float bits_width(bool extra) {
  float w = 0.0f;
  for (const Bit& b : kBits) w += chip_width(b.label) + chip_gap();
  if (extra) w += chip_width("PN") + chip_gap();
  return w - chip_gap();
}

// Draws the entry's bits as chips: set bits bright on a tinted ground, clear ones dim.
// A swap entry's bits are not flags: one chip names its slot instead.
void draw_chips(int level, uint64_t value) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float h = ImGui::GetTextLineHeight();
  float x = origin.x;
  auto chip = [&](const char* label, ImU32 colour, bool on) {
    const float w = chip_width(label);
    if (on) {
      dl->AddRectFilled(ImVec2(x, origin.y), ImVec2(x + w, origin.y + h), (colour & 0x00ffffffu) | 0x38000000u, 2.0f);
      dl->AddText(ImVec2(x + chip_pad(), origin.y), ink(colour), label);
    } else {
      dl->AddText(ImVec2(x + chip_pad(), origin.y), IM_COL32(150, 155, 170, 60), label);
    }
    x += w + chip_gap();
  };
  if (is_swap(level, value)) {
    // In the six bits' room: "swap slot 20", or "swap 131072" when that is too wide.
    char label[48];
    std::snprintf(label, sizeof label, "swap slot %" PRIu64, engine::pte_swp_offset(value));
    if (chip_width(label) > bits_width(false))
      std::snprintf(label, sizeof label, "swap %" PRIu64, engine::pte_swp_offset(value));
    chip(label, kSwapCol, true);
    ImGui::Dummy(ImVec2(std::max(x - origin.x - chip_gap(), 1.0f), h));
    return;
  }
  for (const Bit& b : kBits) chip(b.label, b.colour, (value & b.mask) != 0);
  const EntryBits d = engine::decode_entry(value);
  // Linux's software encodings ride on bits the MMU ignores (or on G when not present).
  if (d.protnone) chip("PN", IM_COL32(235, 100, 100, 255), true);
  if (d.special) chip("S", IM_COL32(232, 232, 232, 255), true);
  if (d.global) chip("G", IM_COL32(190, 190, 205, 255), true);
  if (d.pse) chip("PS", IM_COL32(190, 190, 205, 255), true);
  ImGui::Dummy(ImVec2(std::max(x - origin.x - chip_gap(), 1.0f), h));
}

void bit_lines(uint64_t value) {
  const EntryBits d = engine::decode_entry(value);
  for (const Bit& b : kBits) {
    const bool on = (value & b.mask) != 0;
    ImGui::TextColored(ink4(on ? b.colour : IM_COL32(130, 135, 150, 255)), "%-3s", b.label);
    ImGui::SameLine();
    if (on)
      ImGui::TextUnformatted(b.on);
    else
      ImGui::TextDisabled("%s", b.off);
  }
  if (d.protnone) {
    ImGui::TextColored(ink4(ImVec4(0.92f, 0.4f, 0.4f, 1.0f)), "PN ");
    ImGui::SameLine();
    ImGui::TextWrapped("PROT_NONE: Linux keeps the page mapped (the pfn stays) but clears P, marking it with the "
                       "G bit: every access faults and the kernel sends SIGSEGV");
  }
  if (d.special) {
    ImGui::TextUnformatted("S  ");
    ImGui::SameLine();
    ImGui::TextWrapped("special (pte_special, a bit the MMU ignores): no struct page is counted for it, as for "
                       "the shared zero page");
  }
  if (d.global) {
    ImGui::TextUnformatted("G  ");
    ImGui::SameLine();
    ImGui::TextUnformatted("global: the TLB keeps it across address-space switches");
  }
  if (d.pse) {
    ImGui::TextUnformatted("PS ");
    ImGui::SameLine();
    ImGui::TextUnformatted("page size: the entry maps a huge page itself");
  }
  if (d.pwt || d.pcd) ImGui::TextDisabled("%s%s: caching disabled or write-through", d.pwt ? "PWT " : "", d.pcd ? "PCD" : "");
}

// What a swap entry holds, for a tooltip (in place of bit_lines).
void swap_lines(uint64_t value, const engine::Kernel& k) {
  const uint64_t slot = engine::pte_swp_offset(value);
  const bool excl = value & engine::_PAGE_SWP_EXCLUSIVE;
  ImGui::TextColored(ink4(kSwapCol), "swap entry: type %" PRIu64 ", offset %" PRIu64 "%s", engine::pte_swp_type(value),
                     slot, excl ? " (exclusive)" : "");
  ImGui::TextWrapped("Not present: the page was written to slot %" PRIu64 " of /swapfile. An access faults and "
                     "do_swap_page brings it back.", slot);
  ImGui::TextDisabled("bits 59-63: the type (which swap area); bits 9-58: the offset, inverted (~%" PRIu64 ") so "
                      "the entry never names real memory (the L1TF mitigation)", slot);
  if (excl)
    ImGui::TextDisabled("bit 3, _PAGE_SWP_EXCLUSIVE: only this process had the page, so swap-in can map it "
                        "writable without a copy");
  const engine::SwapArea& sw = k.swap();
  if (sw.valid(slot)) {
    const engine::SwapSlot& sl = sw.slot(slot);
    if (sl.cache != engine::kNoFrame)
      ImGui::Text("in the swap cache: frame 0x%x holds it, so the fault is minor", sl.cache);
    else
      ImGui::TextDisabled("only on disk: the fault reads it back (major)");
    if (sl.count > 1) ImGui::TextDisabled("the slot's count is %u: other PTEs hold it too (after fork)", sl.count);
  }
}

void entry_tooltip(const Entry& e, const engine::Kernel& k) {
  const EntryBits b = engine::decode_entry(e.value);
  const uint64_t span = engine::pt_entry_span(e.level);
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
  ImGui::TextColored(ink4(kLevelCol[e.level]), "%s[%u]", level_name(e.level), e.index);
  ImGui::SameLine();
  ImGui::TextDisabled("(Linux: a %s entry), slot %u of the table in frame 0x%" PRIx64, linux_name(e.level), e.index,
                      e.table);
  ImGui::Text("covers %012" PRIx64 "-%012" PRIx64 " (%s)", e.addr, e.addr + span, span_words(e.level));
  ImGui::Text("value  0x%016" PRIx64, e.value);
  ImGui::Separator();
  if (is_swap(e.level, e.value)) {
    swap_lines(e.value, k);
  } else if (e.level > 1) {
    bit_lines(e.value);
    ImGui::Separator();
    if (b.present)
      ImGui::Text("PFN 0x%" PRIx64 ": the %s table for these addresses is in that frame", b.pfn.value,
                  level_name(e.level - 1));
    else
      ImGui::TextUnformatted("not present: no table below");
  } else if (maps_something(b)) {
    bit_lines(e.value);
    ImGui::Separator();
    ImGui::Text("PFN 0x%" PRIx64 ": the page's data is in frame 0x%" PRIx64 " (physical 0x%" PRIx64 ")", b.pfn.value,
                b.pfn.value, b.pfn.phys());
    if (b.pfn.value < k.phys().total()) {
      const engine::Frame& f = k.phys().frame(b.pfn);
      ImGui::TextDisabled("refcount %u, mapcount %u", f.refcount, f.mapcount);
    }
  } else {
    bit_lines(e.value);
    ImGui::Separator();
    ImGui::TextUnformatted("not present and not PROT_NONE: an access faults");
  }
  if (e.changed == 1) ImGui::TextColored(ink4(kChangedText), "set by the last command");
  if (e.level == 1) ImGui::TextDisabled("click: walk this address");
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void draw_arrow(ImDrawList* dl, ImVec2 at, float h, bool open, ImU32 col) {
  const float s = h * 0.30f;
  const ImVec2 c(at.x + h * 0.5f, at.y + h * 0.5f);
  if (open)
    dl->AddTriangleFilled(ImVec2(c.x - s, c.y - s * 0.6f), ImVec2(c.x + s, c.y - s * 0.6f), ImVec2(c.x, c.y + s * 0.8f),
                          col);
  else
    dl->AddTriangleFilled(ImVec2(c.x - s * 0.6f, c.y - s), ImVec2(c.x - s * 0.6f, c.y + s), ImVec2(c.x + s * 0.8f, c.y),
                          col);
}

// The raw entry in hex with the PFN's digits (bits 12..51) in the colour of what it
// points at, so a learner sees the frame number sitting inside the entry.
void raw_entry(uint64_t value, ImU32 pfn_colour) {
  char digits[20];
  std::snprintf(digits, sizeof digits, "%016" PRIx64, value);
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0.0f, 0.0f));
  ImGui::TextDisabled("%.3s", digits);
  ImGui::SameLine();
  ImGui::TextColored(ink4(pfn_colour), "%.10s", digits + 3);
  ImGui::SameLine();
  ImGui::TextUnformatted(digits + 13);
  ImGui::PopStyleVar();
}

// ---- the walk ----

void walk_json(PageTablePanel& p, const shell::Session::WalkRequest& req, const engine::Walk& w) {
  std::string j = "{\"pid\":" + std::to_string(req.pid) + ",\"addr\":\"" + hex(req.addr) + "\",\"indices\":[";
  for (int l = 4; l >= 1; --l) j += std::to_string(engine::pt_index(req.addr, l)) + (l > 1 ? "," : "");
  j += "],\"offset\":" + std::to_string(req.addr & (engine::kPageSize - 1));
  j += ",\"depth\":" + std::to_string(w.depth) + ",\"path\":[";
  int in_tree = 0;
  for (int i = 0; i < w.depth; ++i) {
    const engine::WalkStep& s = w.steps[static_cast<size_t>(i)];
    const int level = static_cast<int>(s.level);
    if (i) j += ",";
    j += "{\"level\":\"" + std::string(level_name(level)) + "\",\"table\":\"" + hex(s.table.value) +
         "\",\"index\":" + std::to_string(s.index) + ",\"entry\":\"" + hex(s.entry) + "\"}";
    if (p.path[static_cast<size_t>(i)] != kNone) ++in_tree;
  }
  j += "],\"in_tree\":" + std::to_string(in_tree);
  const EntryBits last = engine::decode_entry(w.depth ? w.steps[static_cast<size_t>(w.depth - 1)].entry : 0);
  const bool mapped = w.reached_pte && maps_something(last);
  if (mapped) {
    j += ",\"pfn\":\"" + hex(last.pfn.value) + "\",\"phys\":\"" +
         hex(last.pfn.phys() | (req.addr & (engine::kPageSize - 1))) + "\",\"stopped\":null";
  } else {
    const int level = w.depth ? static_cast<int>(w.steps[static_cast<size_t>(w.depth - 1)].level) : 4;
    j += ",\"pfn\":null,\"phys\":null,\"stopped\":\"" + std::string(level_name(level)) + "\"";
  }
  j += ",\"protnone\":";
  j += w.reached_pte && last.protnone ? "true" : "false";
  const uint64_t e = w.depth ? w.steps[static_cast<size_t>(w.depth - 1)].entry : 0;
  j += ",\"swap\":";
  if (w.reached_pte && is_swap(1, e))
    j += "{\"type\":" + std::to_string(engine::pte_swp_type(e)) + ",\"offset\":" +
         std::to_string(engine::pte_swp_offset(e)) + ",\"exclusive\":" +
         ((e & engine::_PAGE_SWP_EXCLUSIVE) ? "true" : "false") + "}";
  else
    j += "null";
  p.walk_json = j + "}";
}

void draw_bitfields(uint64_t addr, int depth, bool bit_numbers) {
  const float w = ImGui::GetContentRegionAvail().x;
  const float lh = ImGui::GetTextLineHeight();
  const float box_h = 2.0f * lh + 6.0f;
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  static constexpr int kWidths[5] = {9, 9, 9, 9, 12};
  static constexpr int kHigh[5] = {47, 38, 29, 20, 11};
  float x = o.x;
  const ImU32 dim = ImGui::GetColorU32(ImGuiCol_TextDisabled);
  for (int f = 0; f < 5; ++f) {
    const int level = 4 - f;  // 0: the offset
    const float fw = std::floor(w * static_cast<float>(kWidths[f]) / 48.0f);
    const float x1 = f == 4 ? o.x + w : x + fw;
    // Levels the walk did not reach are drawn faint.
    const bool reached = level == 0 ? depth == 4 : (4 - level) < depth;
    const ImU32 col = kLevelCol[level];
    const ImU32 fill = (col & 0x00ffffffu) | (reached ? 0x40000000u : 0x18000000u);
    dl->AddRectFilled(ImVec2(x + 1, o.y), ImVec2(x1 - 1, o.y + box_h), fill, 3.0f);
    dl->AddRect(ImVec2(x + 1, o.y), ImVec2(x1 - 1, o.y + box_h), reached ? col : (col & 0x00ffffffu) | 0x60000000u,
                3.0f);
    char value[24];
    if (level == 0)
      std::snprintf(value, sizeof value, "0x%03" PRIx64, addr & 0xfff);
    else
      std::snprintf(value, sizeof value, "%" PRIu64, engine::pt_index(addr, level));
    const char* name = level_name(level);
    const float cx = (x + x1) * 0.5f;
    const ImVec2 nsz = ImGui::CalcTextSize(name), vsz = ImGui::CalcTextSize(value);
    dl->AddText(ImVec2(cx - nsz.x * 0.5f, o.y + 2.0f), reached ? ink(col) : dim, name);
    dl->AddText(ImVec2(cx - vsz.x * 0.5f, o.y + 3.0f + lh), reached ? ImGui::GetColorU32(ImGuiCol_Text) : dim, value);
    if (bit_numbers) {
      char bit[8];
      std::snprintf(bit, sizeof bit, "%d", kHigh[f]);
      dl->AddText(ImVec2(x + 2.0f, o.y + box_h + 1.0f), dim, bit);
    }
    x = x1;
  }
  if (bit_numbers) dl->AddText(ImVec2(o.x + w - ImGui::CalcTextSize("0").x - 2.0f, o.y + box_h + 1.0f), dim, "0");
  ImGui::Dummy(ImVec2(w, box_h + (bit_numbers ? lh + 2.0f : 0.0f)));
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
    ImGui::TextUnformatted("How the MMU splits a 48-bit virtual address:");
    for (int level = 4; level >= 1; --level)
      ImGui::TextColored(ink4(kLevelCol[level]), "bits %2d-%2d  %-4s index %3" PRIu64
                         "  (Linux: %s_index)", 12 + 9 * level - 1, 12 + 9 * (level - 1), level_name(level),
                         engine::pt_index(addr, level), linux_name(level));
    ImGui::TextColored(ink4(kLevelCol[0]), "bits 11- 0  offset 0x%03" PRIx64
                       " within the 4 KiB page", addr & 0xfff);
    ImGui::TextDisabled("Bits 63-48 repeat bit 47 (a canonical address). Each index picks one of a table's 512 "
                        "entries (9 bits); each entry points at the next table, the last at the page's frame.");
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

void draw_walk(PageTablePanel& p, PanelContext& ctx, const std::optional<shell::Session::WalkRequest>& req,
               const engine::Walk& w, bool walk_ok) {
  const ImGuiStyle& st = ImGui::GetStyle();
  // ---- the input: submitting runs `walk ADDR` in the shell ----
  const float button_w = ImGui::CalcTextSize("Walk").x + 2.0f * st.FramePadding.x;
  ImGui::SetNextItemWidth(std::max(ImGui::GetContentRegionAvail().x - button_w - st.ItemSpacing.x, 40.0f));
  bool submit = ImGui::InputTextWithHint("##walk", "address: p, p+4096, 0x7ffff7fbe000", p.walk_text,
                                         sizeof p.walk_text, ImGuiInputTextFlags_EnterReturnsTrue);
  ctx.app.mark("walk input");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("An address or an expression the shell understands (p, p+4096, brk).\nEnter runs `walk ADDR` "
                      "in the shell, as if typed there.");
  ImGui::SameLine();
  submit |= ImGui::Button("Walk");
  ctx.app.mark("walk button");
  if (submit) {
    std::string text = p.walk_text;
    const size_t b = text.find_first_not_of(" \t"), e = text.find_last_not_of(" \t");
    if (b != std::string::npos) {
      p.open_path = true;
      ctx.app.exec("walk " + text.substr(b, e - b + 1));
    }
  }

  if (!req) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextDisabled("Walk an address to see how the MMU translates it: 9 bits index each of the four tables, "
                        "the last 12 bits are the offset in the page. Clicking a PT row walks its address.");
    ImGui::PopTextWrapPos();
    return;
  }
  if (!walk_ok) {
    ImGui::TextDisabled("walk of 0x%" PRIx64 ": pid %d is gone", req->addr, req->pid);
    return;
  }
  if (req->pid != ctx.pid) ImGui::TextDisabled("walk in pid %d (the tree shows pid %d)", req->pid, ctx.pid);
  // Short on height (side by side, in the compact tab): no bit numbers, no table header.
  const bool roomy = !p.side_by_side;
  draw_bitfields(req->addr, w.depth, roomy);
  ctx.app.mark("walk bits");

  // ---- the steps: which table, which slot, what it held ----
  const engine::Kernel& k = ctx.session.kernel();
  uint64_t widest_table = 0;
  for (int i = 0; i < w.depth; ++i) widest_table = std::max(widest_table, w.steps[static_cast<size_t>(i)].table.value);
  const bool with_table = ImGui::GetContentRegionAvail().x >=
                          ImGui::CalcTextSize(hex(widest_table).c_str()).x +
                              ImGui::CalcTextSize("PDPT[511]0000000000000000").x + 6.0f * 4.0f + 2.0f;
  const ImGuiTableFlags tf = ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_NoHostExtendX;
  ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(4.0f, st.CellPadding.y));
  const bool steps_open = ImGui::BeginTable("steps", with_table ? 3 : 2, tf);
  ImGui::PopStyleVar();
  if (steps_open) {
    if (with_table) ImGui::TableSetupColumn("table");
    ImGui::TableSetupColumn("entry");
    ImGui::TableSetupColumn("value (PFN in colour)");
    if (roomy) ImGui::TableHeadersRow();
    for (int i = 0; i < w.depth; ++i) {
      const engine::WalkStep& s = w.steps[static_cast<size_t>(i)];
      const int level = static_cast<int>(s.level);
      const EntryBits b = engine::decode_entry(s.entry);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::PushID(i);
      if (with_table) {
        ImGui::TextColored(ink4(kPageTable), "0x%" PRIx64, s.table.value);
        ImGui::TableNextColumn();
      }
      char label[24];
      std::snprintf(label, sizeof label, "%s[%" PRIu64 "]", level_name(level), s.index);
      ImGui::PushStyleColor(ImGuiCol_Text, ink(kLevelCol[level]));
      ImGui::Selectable(label, false, ImGuiSelectableFlags_SpanAllColumns);
      ImGui::PopStyleColor();
      const bool hovered = ImGui::IsItemHovered();
      ImGui::TableNextColumn();
      if (s.entry == 0)
        ImGui::TextDisabled("0 (empty)");
      else if (is_swap(level, s.entry))  // no PFN inside: the offset is spread over bits 9-58
        ImGui::TextColored(ink4(kSwapCol), "%016" PRIx64, s.entry);
      else
        raw_entry(s.entry, level == 1 ? frame_colour(k.phys(), b.pfn.value) : kPageTable);
      ImGui::PopID();
      if (hovered) {
        // The table this step read lights up in the frame grid.
        ctx.hl.hover_frame = true;
        ctx.hl.hover_pfn = s.table.value;
        ImGui::BeginTooltip();
        ImGui::Text("%s (Linux: %s) in frame 0x%" PRIx64 ", slot %" PRIu64, level_name(level), linux_name(level),
                    s.table.value, s.index);
        if (i == 0) ImGui::TextDisabled("CR3 holds this table's frame: the walk starts there");
        ImGui::Text("value 0x%016" PRIx64, s.entry);
        if (s.entry) {
          ImGui::Separator();
          if (is_swap(level, s.entry))
            swap_lines(s.entry, k);
          else
            bit_lines(s.entry);
        }
        ImGui::EndTooltip();
      }
    }
    ImGui::EndTable();
  }

  // ---- where it ended ----
  const engine::WalkStep& last = w.steps[static_cast<size_t>(std::max(w.depth - 1, 0))];
  const EntryBits b = engine::decode_entry(last.entry);
  const int level = static_cast<int>(last.level);
  const engine::Process* proc = k.process(req->pid);
  const bool has_vma = proc && proc->mm.vma_at(req->addr);
  ImGui::PushTextWrapPos(0.0f);
  if (w.reached_pte && b.present) {
    const uint64_t phys = b.pfn.phys() | (req->addr & 0xfff);
    char va[24], pa[64];
    std::snprintf(va, sizeof va, "0x%" PRIx64, req->addr);
    std::snprintf(pa, sizeof pa, "-> phys 0x%" PRIx64 " (frame 0x%" PRIx64 ")", phys, b.pfn.value);
    ImGui::TextUnformatted(va);
    // On one line when it fits, else the physical side under the virtual one.
    if (ImGui::CalcTextSize(va).x + ImGui::CalcTextSize(pa).x + st.ItemSpacing.x <= ImGui::GetContentRegionAvail().x)
      ImGui::SameLine();
    ImGui::TextColored(ink4(frame_colour(k.phys(), b.pfn.value)),
                       "%s", pa);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("physical address = frame 0x%" PRIx64 " * 4096 + offset 0x%03" PRIx64, b.pfn.value,
                        req->addr & 0xfff);
  } else if (w.reached_pte && is_swap(level, last.entry)) {
    ImGui::TextColored(ink4(kSwapCol),
                       "0x%" PRIx64 ": %s[%" PRIu64 "] holds a swap entry, type %" PRIu64 ", offset %" PRIu64 "%s: "
                       "the page is in swap slot %" PRIu64 "; an access faults and do_swap_page brings it back",
                       req->addr, level_name(level), last.index, engine::pte_swp_type(last.entry),
                       engine::pte_swp_offset(last.entry),
                       last.entry & engine::_PAGE_SWP_EXCLUSIVE ? " (exclusive)" : "",
                       engine::pte_swp_offset(last.entry));
    if (ImGui::IsItemHovered()) {
      ctx.hl.hover_slot = true;
      ctx.hl.hover_swap_slot = engine::pte_swp_offset(last.entry);
    }
  } else if (w.reached_pte && b.protnone) {
    ImGui::TextColored(ink4(ImVec4(0.92f, 0.45f, 0.45f, 1.0f)),
                       "0x%" PRIx64 " is PROT_NONE: frame 0x%" PRIx64 " stays mapped, but P is clear: an access "
                       "faults (SIGSEGV)", req->addr, b.pfn.value);
  } else {
    const char* what = has_vma ? "a VMA covers it: the first access faults and the kernel fills the tables in"
                               : "no VMA covers it: an access is a SIGSEGV (SEGV_MAPERR)";
    ImGui::TextColored(ink4(ImVec4(0.92f, 0.62f, 0.35f, 1.0f)), "0x%" PRIx64 ": stopped, %s[%" PRIu64 "] is %s; %s",
                       req->addr, level_name(level), last.index, last.entry == 0 ? "empty" : "not present", what);
  }
  ImGui::PopTextWrapPos();
}

// ---- the tree ----

void draw_tree(PageTablePanel& p, PanelContext& ctx, float width) {
  const engine::Kernel& k = ctx.session.kernel();
  const ImGuiStyle& st = ImGui::GetStyle();
  // Summary: the root, and what the last command did to this process's tables.
  ImGui::TextDisabled("CR3");
  ImGui::SameLine(0.0f, 4.0f);
  ImGui::TextColored(ink4(kPageTable), "0x%" PRIx64, p.cr3);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("CR3 holds the frame of the PML4 table (Linux: mm->pgd): every walk starts there");
  ImGui::SameLine(0.0f, 4.0f);
  ImGui::TextDisabled("%" PRIu64 " tables, %zu PTEs", p.tables, p.leaves.size());
  if (p.swap_ptes) {
    ImGui::SameLine(0.0f, 4.0f);
    ImGui::TextColored(ink4(kSwapCol), "(%" PRIu64 " swapped out)", p.swap_ptes);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("PTEs holding a swap entry: the page is in a swap slot, not in a frame");
  }
  if (p.n_set || p.n_cleared || p.n_tables_new || p.n_tables_freed) {
    char what[96];
    int n = 0;
    what[0] = 0;
    auto add = [&](uint64_t c, const char* s) {
      if (c && n < static_cast<int>(sizeof what) - 24)
        n += std::snprintf(what + n, sizeof what - static_cast<size_t>(n), "%s%s%" PRIu64, n ? " " : "", s, c);
    };
    add(p.n_set, "set ");
    add(p.n_cleared, "cleared ");
    add(p.n_tables_new, "+tables ");
    add(p.n_tables_freed, "-tables ");
    const float tw = ImGui::CalcTextSize(what).x;
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x < tw) ImGui::NewLine();
    ImGui::TextColored(ink4(kChangedText), "%s", what);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("What the last command did to these tables: entries set (amber rows), entries cleared,\n"
                        "page-table pages allocated or freed. The highlight stays until the next command.");
  }
  if (p.entries.empty()) {
    ImGui::TextDisabled("(no entries: nothing is mapped)");
    return;
  }

  const float lh = ImGui::GetTextLineHeight();
  const float row_h = lh + 2.0f * st.CellPadding.y;
  const float indent = std::floor(lh * 0.85f);
  char widest[24];
  std::snprintf(widest, sizeof widest, "0x%" PRIx64, std::max<uint64_t>(p.max_pfn, 0xfff));
  const float label_w = 3.0f * indent + lh + ImGui::CalcTextSize("511").x;
  const float addr_w = ImGui::CalcTextSize("7ffff7fbe000").x;
  const float bits_w = bits_width(p.any_extra_bits);
  const float pfn_w = ImGui::CalcTextSize(widest).x;
  const float span_w = ImGui::CalcTextSize("512G").x;
  const float base_w = label_w + addr_w + bits_w + pfn_w + 8.0f * st.CellPadding.x + st.ScrollbarSize;
  const bool with_span = width >= base_w + span_w + 2.0f * st.CellPadding.x + 4.0f;

  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit |
                             ImGuiTableFlags_BordersOuterH | ImGuiTableFlags_NoPadOuterX;
  if (!ImGui::BeginTable("pt", with_span ? 5 : 4, tf, ImVec2(width, 0))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("index", ImGuiTableColumnFlags_WidthFixed, label_w);
  ImGui::TableSetupColumn("virtual", ImGuiTableColumnFlags_WidthFixed, addr_w);
  if (with_span) ImGui::TableSetupColumn("span", ImGuiTableColumnFlags_WidthFixed, span_w);
  ImGui::TableSetupColumn("bits", ImGuiTableColumnFlags_WidthFixed, bits_w);
  ImGui::TableSetupColumn("pfn", ImGuiTableColumnFlags_WidthStretch);
  // Headers with a tooltip each: a learner's first question is what a column means.
  ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
  static constexpr const char* kHeadTips[] = {
      "The entry's slot in its table (0..511), coloured by level:\nPML4 > PDPT > PD > PT, as in the address's "
      "bit fields above.\nClick a row with an arrow to fold it.",
      "The first virtual address the entry covers:\na PML4 entry covers 512 GiB, PDPT 1 GiB, PD 2 MiB, PT 4 KiB.",
      "How much address space the entry covers.",
      "The entry's flag bits (bright: set). Hover a row for what each means.",
      "The frame the entry points at: the next table (purple, as in the frame grid)\nor, for a PT entry, the "
      "page's data (coloured by the frame's owner).",
  };
  const int ncols = with_span ? 5 : 4;
  for (int c = 0; c < ncols; ++c) {
    ImGui::TableSetColumnIndex(c);
    ImGui::TableHeader(ImGui::TableGetColumnName(c));
    const int tip = with_span || c < 2 ? c : c + 1;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kHeadTips[tip]);
  }

  if (p.scroll_to_row >= 0) {
    // Show rows [scroll_to_row, scroll_to_end] (the walk's path from PML4 to PT) whole
    // if they fit, else as much as fits ending at the last one.
    const int last = std::max(p.scroll_to_end, p.scroll_to_row);
    const float view_h = ImGui::GetWindowHeight() - 2.0f * row_h;
    const float y0 = static_cast<float>(p.scroll_to_row) * row_h;
    const float y1 = static_cast<float>(last + 1) * row_h;
    if (y0 < ImGui::GetScrollY() || y1 > ImGui::GetScrollY() + view_h) {
      const float y = y1 - y0 <= view_h ? y0 - std::min(row_h, view_h - (y1 - y0)) : y1 - view_h;
      // Whole rows: no half-hidden row peeking out under the header.
      ImGui::SetScrollY(std::max(0.0f, std::ceil(y / row_h) * row_h));
    }
    p.scroll_to_row = p.scroll_to_end = -1;
  }

  const bool lit_any = p.lit_count > 0 && p.lit.size() == p.entries.size();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  int64_t toggle = -1, walk_entry = -1;
  p.first_row = -1;
  p.last_row = -1;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(p.rows.size()), row_h);
  while (clipper.Step()) {
    if (p.first_row < 0 && clipper.DisplayEnd > clipper.DisplayStart) p.first_row = clipper.DisplayStart;
    if (clipper.DisplayEnd > clipper.DisplayStart) p.last_row = clipper.DisplayEnd - 1;
    for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
      const uint32_t i = p.rows[static_cast<size_t>(r)];
      const Entry& e = p.entries[i];
      const EntryBits b = engine::decode_entry(e.value);
      const bool on_path = std::find(p.path.begin(), p.path.end(), i) != p.path.end();
      const uint8_t lit = lit_any ? p.lit[i] : 0;
      ImGui::TableNextRow(ImGuiTableRowFlags_None, row_h);
      if (lit == 1)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kLitBg);
      else if (on_path)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kPathBg);
      else if (e.changed == 1)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kChangedBg);
      else if (lit == 2)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kLitBelowBg);
      else if (e.changed == 2)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kChangedBelowBg);

      // ---- index, indented by depth, with a fold arrow for entries that have children ----
      ImGui::TableNextColumn();
      const ImVec2 c0 = ImGui::GetCursorScreenPos();
      ImGui::PushID(static_cast<int>(i));
      const bool clicked =
          ImGui::Selectable("##row", false, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowOverlap);
      const bool hovered = ImGui::IsItemHovered();
      ImGui::PopID();
      {
        char name[40];
        std::snprintf(name, sizeof name, "%s 0x%" PRIx64, linux_name(e.level), e.addr);
        ctx.app.mark(name);
      }
      const float x = c0.x + static_cast<float>(4 - e.level) * indent;
      const bool has_children = e.end > i + 1;
      const bool folded = has_children && p.collapsed.count(key_of(e));
      if (has_children) draw_arrow(dl, ImVec2(x, c0.y), lh, !folded, ImGui::GetColorU32(ImGuiCol_Text));
      char idx[8];
      std::snprintf(idx, sizeof idx, "%u", e.index);
      dl->AddText(ImVec2(x + lh, c0.y), ink(kLevelCol[e.level]), idx);
      if (clicked) {
        if (has_children) toggle = i;
        else if (e.level == 1) walk_entry = i;
      }

      // ---- the virtual address it covers ----
      ImGui::TableNextColumn();
      if (e.level == 1)
        ImGui::Text("%012" PRIx64, e.addr);
      else
        ImGui::TextColored(ink4(ImVec4(0.78f, 0.80f, 0.86f, 1.0f)), "%012" PRIx64, e.addr);
      if (with_span) {
        ImGui::TableNextColumn();
        ImGui::TextDisabled("%s", span_name(e.level));
      }
      // ---- bits ----
      ImGui::TableNextColumn();
      draw_chips(e.level, e.value);
      // ---- the frame it points at (or, for a swap entry, the slot) ----
      ImGui::TableNextColumn();
      const bool swp = is_swap(e.level, e.value);
      if (maps_something(b) || (e.level > 1 && b.present))
        ImGui::TextColored(ink4(e.level > 1 ? kPageTable : frame_colour(k.phys(), b.pfn.value)),
                           "0x%" PRIx64, b.pfn.value);
      else
        ImGui::TextDisabled("-");

      // Neighbouring rows' hit boxes share a pixel: the first row there takes the hover,
      // so one tooltip shows, not two.
      if (hovered && p.hovered_entry < 0) {
        p.hovered_entry = static_cast<int64_t>(i);
        if (swp) {
          // Its slot lights up in the swap grid (and its frame, if in the swap cache).
          ctx.hl.hover_slot = true;
          ctx.hl.hover_swap_slot = engine::pte_swp_offset(e.value);
        } else if (maps_something(b)) {
          ctx.hl.hover_frame = true;
          ctx.hl.hover_pfn = b.pfn.value;
        }
        entry_tooltip(e, k);
      }
    }
  }
  clipper.End();
  ImGui::EndTable();

  if (toggle >= 0) {
    const uint64_t key = key_of(p.entries[static_cast<size_t>(toggle)]);
    if (!p.collapsed.erase(key)) p.collapsed.insert(key);
    p.rows_dirty = true;
  }
  if (walk_entry >= 0) {
    ctx.app.exec("walk " + hex(p.entries[static_cast<size_t>(walk_entry)].addr));
    p.open_path = true;
  }
}

void draw_panel(PageTablePanel& p, PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const engine::Process* proc = k.process(ctx.pid);
  if (!proc) {
    ImGui::TextDisabled("No process %d.", ctx.pid);
    return;
  }
  // Rebuilt after a command when App::claim_rebuild allows (one big rebuild per frame);
  // until then the tree is a frame old. A new pid or an empty tree rebuilds at once.
  if ((p.built_gen != ctx.hl.generation || p.built_pid != ctx.pid) &&
      (p.built_pid != ctx.pid || p.entries.empty() || ctx.app.claim_rebuild(p.build_waited))) {
    const auto t0 = std::chrono::steady_clock::now();
    build(p, k, ctx.pid, ctx.hl.generation, ctx.session.last_events());
    p.ms_build = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  // ---- the walk: redone every frame against the machine as it is (four loads) ----
  const auto& req = ctx.session.last_walk();
  bool new_walk = false;
  if (req && (!p.has_walk_seen || p.walk_seen_pid != req->pid || p.walk_seen_addr != req->addr)) {
    p.open_path = true;  // a new walk, from this panel or typed in the console
    new_walk = true;
    p.has_walk_seen = true;
    p.walk_seen_pid = req->pid;
    p.walk_seen_addr = req->addr;
  }
  if (!req) p.has_walk_seen = false;
  engine::Walk w;
  const engine::Process* wproc = req ? k.process(req->pid) : nullptr;
  const bool walk_ok = wproc && wproc->state == engine::ProcState::Running;
  p.path.fill(kNone);
  if (walk_ok) {
    w = k.walk(req->pid, req->addr);
    if (req->pid == p.built_pid)
      for (int i = 0; i < w.depth; ++i) {
        const engine::WalkStep& s = w.steps[static_cast<size_t>(i)];
        if (s.entry != 0) p.path[static_cast<size_t>(i)] = find_entry(p, req->addr, static_cast<int>(s.level));
      }
  }
  if (p.open_path) {
    for (uint32_t i : p.path)
      if (i != kNone && p.collapsed.erase(key_of(p.entries[i]))) p.rows_dirty = true;
  }
  if (p.rows_dirty) build_rows(p);
  if (p.scroll_changed && !p.open_path && p.first_changed != kNone) p.scroll_to_row = row_of(p, p.first_changed);
  p.scroll_changed = false;
  if (p.open_path) {
    p.open_path = false;
    int first = -1, last = -1;
    for (uint32_t i : p.path) {
      const int r = i == kNone ? -1 : row_of(p, i);
      if (r < 0) continue;
      if (first < 0) first = r;
      last = std::max(last, r);
    }
    if (first >= 0) {
      p.scroll_to_row = first;
      p.scroll_to_end = last;
    }
  }
  if (!req || !walk_ok)
    p.walk_json = "null";
  else if (new_walk || p.path_gen != p.built_gen || p.walk_json == "null")
    walk_json(p, *req, w);
  p.path_gen = p.built_gen;
  update_lit(p, ctx);
  p.hovered_entry = -1;

  if (proc->state != engine::ProcState::Running) {
    ImGui::TextDisabled("pid %d has exited: its page tables are gone.", ctx.pid);
    return;
  }

  // Side by side when there is room for both (the compact layout's wide, short tab),
  // else the walk above the tree.
  const ImGuiStyle& st = ImGui::GetStyle();
  const float avail = ImGui::GetContentRegionAvail().x;
  const float tree_w = std::floor(std::min(avail, ImGui::CalcTextSize("0").x * 44.0f + 8.0f * st.CellPadding.x +
                                                      st.ScrollbarSize));
  p.side_by_side = avail >= tree_w + ImGui::CalcTextSize("0").x * 26.0f;
  if (p.side_by_side) {
    ImGui::BeginChild("tree", ImVec2(tree_w, 0));
    draw_tree(p, ctx, tree_w);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("walk", ImVec2(0, 0));
    draw_walk(p, ctx, req, w, walk_ok);
    ImGui::EndChild();
  } else {
    draw_walk(p, ctx, req, w, walk_ok);
    ImGui::Spacing();
    draw_tree(p, ctx, ImGui::GetContentRegionAvail().x);
  }
}

}  // namespace

void draw_pagetables(PageTablePanel& p, PanelContext& ctx) {
  g_light = ctx.app.light();
  const auto t0 = std::chrono::steady_clock::now();
  draw_panel(p, ctx);
  p.ms_last = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  p.ms_ring[p.ms_next] = p.ms_last;
  p.ms_next = (p.ms_next + 1) % p.ms_ring.size();
}

std::string pagetables_ui_json(const PageTablePanel& p) {
  std::string j = "{\"pid\":" + std::to_string(p.built_pid);
  j += ",\"entries\":" + std::to_string(p.entries.size());
  j += ",\"ptes\":" + std::to_string(p.leaves.size());
  j += ",\"swap_ptes\":" + std::to_string(p.swap_ptes);
  j += ",\"tables\":" + std::to_string(p.tables);
  j += ",\"cr3\":\"" + hex(p.cr3) + "\"";
  j += ",\"rows\":" + std::to_string(p.rows.size());
  j += ",\"first_row\":" + std::to_string(p.first_row) + ",\"last_row\":" + std::to_string(p.last_row);
  j += ",\"lit\":" + std::to_string(p.lit_count);
  j += ",\"changed\":" + std::to_string(p.n_changed);
  j += ",\"set\":" + std::to_string(p.n_set) + ",\"cleared\":" + std::to_string(p.n_cleared) +
       ",\"tables_new\":" + std::to_string(p.n_tables_new) + ",\"tables_freed\":" + std::to_string(p.n_tables_freed);
  j += ",\"layout\":\"";
  j += p.side_by_side ? "side" : "stacked";
  j += "\",\"hover\":{\"vma\":" + (p.lit_vma ? "\"" + hex(p.lit_vma_start) + "\"" : std::string("null"));
  j += ",\"pfn\":" + (p.lit_frame ? "\"" + hex(p.lit_pfn) + "\"" : std::string("null"));
  j += ",\"entry\":";
  if (p.hovered_entry >= 0 && static_cast<size_t>(p.hovered_entry) < p.entries.size()) {
    const Entry& e = p.entries[static_cast<size_t>(p.hovered_entry)];
    j += "\"" + std::string(linux_name(e.level)) + " " + hex(e.addr) + "\"";
  } else {
    j += "null";
  }
  j += "},\"path_rows\":[";
  bool first = true;
  for (uint32_t i : p.path) {
    if (i == kNone) continue;
    j += (first ? "" : ",") + std::to_string(row_of(p, i));
    first = false;
  }
  j += "],\"collapsed\":" + std::to_string(p.collapsed.size());
  j += ",\"walk\":" + p.walk_json;
  // Wall-clock times: a busy machine can stretch any one frame, so tests look at the median too.
  std::array<double, 120> sorted = p.ms_ring;
  std::sort(sorted.begin(), sorted.end());
  char ms[160];
  std::snprintf(ms, sizeof ms, ",\"ms\":{\"last\":%.3f,\"p50\":%.3f,\"p95\":%.3f,\"max\":%.3f,\"build\":%.3f}",
                p.ms_last, sorted[60], sorted[114], sorted[119], p.ms_build);
  j += ms;
  return j + "}";
}

}  // namespace vmplay::web
