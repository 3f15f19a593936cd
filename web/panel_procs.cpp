#include "web/panel_procs.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <iterator>

#include "imgui.h"
#include "shell/format.h"
#include "web/app.h"

namespace vmplay::web {

namespace {

using engine::Event;
using engine::EventKind;
using engine::Pid;

// What the last line did, in the VMA table's colour; lighter than there, so the dimmed
// text of a zombie stays readable on it.
constexpr ImU32 kChangedStrong = IM_COL32(200, 150, 40, 80);
constexpr ImU32 kChangedLight = IM_COL32(200, 150, 40, 40);
constexpr ImU32 kHoverRow = IM_COL32(70, 140, 230, 120);       // a counterpart of what the pointer is over
constexpr ImU32 kFileBlue = IM_COL32(80, 150, 235, 255);        // page-cache frames in the grid
constexpr ImU32 kShmemPink = IM_COL32(230, 120, 170, 255);
const ImVec4 kRunning(0.45f, 0.80f, 0.50f, 1.0f);
const ImVec4 kZombie(1.0f, 0.62f, 0.30f, 1.0f);
const ImVec4 kKilled(1.0f, 0.42f, 0.38f, 1.0f);
const ImVec4 kDirty(1.0f, 0.72f, 0.30f, 1.0f);

int digits(uint64_t v) {
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// A header cell with a tooltip saying what the column means.
void header(const char* label, const char* tip) {
  ImGui::TableNextColumn();
  ImGui::TableHeader(label);
  if (tip && ImGui::IsItemHovered(ImGuiHoveredFlags_DelayShort)) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
    ImGui::TextUnformatted(tip);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

// A number right-aligned in its cell; dimmed when `dim`.
void right_number(uint64_t v, bool dim) {
  char b[24];
  std::snprintf(b, sizeof b, "%" PRIu64, v);
  const float w = ImGui::CalcTextSize(b).x;
  const float avail = ImGui::GetContentRegionAvail().x;
  if (avail > w) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + avail - w);
  if (dim)
    ImGui::TextDisabled("%s", b);
  else
    ImGui::TextUnformatted(b);
}

// The first of `hints` that fits after what the line holds so far, dimmed; none when
// none fits (the tooltips say the same).
void hint_after(std::initializer_list<const char*> hints, float reserve = 0.0f) {
  ImGui::SameLine();
  const float avail = ImGui::GetContentRegionAvail().x - reserve;
  for (const char* h : hints) {
    if (ImGui::CalcTextSize(h).x <= avail) {
      ImGui::TextDisabled("%s", h);
      return;
    }
  }
  ImGui::NewLine();
}

// A small coloured square, as the frame grid's legend draws them, then the text.
void swatch(ImU32 col) {
  const float s = ImGui::GetTextLineHeight() * 0.6f;
  const ImVec2 pos = ImGui::GetCursorScreenPos();
  const float y = pos.y + (ImGui::GetTextLineHeight() - s) * 0.5f;
  ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(pos.x, y), ImVec2(pos.x + s, y + s), col);
  ImGui::Dummy(ImVec2(s, ImGui::GetTextLineHeight()));
  ImGui::SameLine(0.0f, 5.0f);
}

// `s` as it fits in `width`: whole, or its tail after "..." (cut at a '/' when one fits),
// so /usr/lib/x86_64-linux-gnu/libc.so.6 reads .../libc.so.6 in a narrow column.
const char* fit_left(const std::string& s, float width, char* buf, size_t n) {
  if (ImGui::CalcTextSize(s.c_str()).x <= width) return s.c_str();
  const float dots = ImGui::CalcTextSize("...").x;
  size_t best = std::string::npos;
  for (size_t i = s.find('/', 1); i != std::string::npos; i = s.find('/', i + 1)) {
    if (dots + ImGui::CalcTextSize(s.c_str() + i).x <= width) {
      best = i;
      break;
    }
  }
  if (best == std::string::npos) {
    // Not even the last component fits: keep as many of its last characters as do.
    best = s.size();
    while (best > 0 && dots + ImGui::CalcTextSize(s.c_str() + best - 1).x <= width) --best;
  }
  std::snprintf(buf, n, "...%s", s.c_str() + best);
  return buf;
}

// ---------------------------------------------------------------------------
// Processes

// "running", "exited 3", "killed by SIGSEGV"; short: "zombie (exit 3)", "zombie (SIGSEGV)".
const char* state_text(const ProcessPanel::Row& r, char* buf, size_t n, bool short_form) {
  if (!r.zombie) return "running";
  if (r.exit_signal)
    std::snprintf(buf, n, short_form ? "zombie (%s)" : "killed by %s", engine::signal_name(r.exit_signal));
  else
    std::snprintf(buf, n, short_form ? "zombie (exit %d)" : "exited %d", r.exit_status);
  return buf;
}

void build_processes(ProcessPanel& p, const PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const uint64_t gen = ctx.hl.generation;
  const bool new_gen = p.built_gen != gen;
  std::map<Pid, uint8_t> changed;
  if (new_gen) {
    p.reaped.clear();
    for (const Event& e : ctx.session.last_events()) {
      switch (e.kind) {
        case EventKind::ProcessStart:
        case EventKind::ProcessExit:
          changed[e.pid] = 2;
          break;
        case EventKind::Syscall:
          if (e.sysno == engine::Sysno::wait4 && e.err == engine::Errno::None)
            p.reaped.push_back(static_cast<Pid>(e.value));
          [[fallthrough]];
        case EventKind::Fault:
        case EventKind::Signal:
        case EventKind::PteSet:
        case EventKind::PteClear:
        case EventKind::VmaInsert:
        case EventKind::VmaExpand:
        case EventKind::VmaSplit:
        case EventKind::VmaRemove: {
          // Any call a process makes is not a change; one that moved its memory is.
          if (e.kind == EventKind::Syscall && e.sysno != engine::Sysno::wait4) break;
          uint8_t& c = changed[e.pid];
          c = std::max<uint8_t>(c, 1);
          break;
        }
        default:
          break;
      }
    }
  } else {
    for (const auto& r : p.rows) changed[r.pid] = r.changed;
  }

  const std::vector<Pid> pids = k.pids();
  std::map<Pid, std::vector<Pid>> children;
  std::vector<Pid> roots;
  for (Pid pid : pids) {
    const engine::Process* pr = k.process(pid);
    if (pr->ppid != 0 && pr->ppid != pid && k.process(pr->ppid))
      children[pr->ppid].push_back(pid);
    else
      roots.push_back(pid);
  }
  // What differs from the previous command's state lights up too (a write into a page
  // already present emits no event, but RSS did not move either; a fork's child did).
  const bool have_prev = p.prev_gen + 1 == gen && new_gen;
  std::map<Pid, ProcessPanel::Snap> snap;

  p.rows.clear();
  p.visible.clear();
  p.zombies = 0;
  p.max_depth = 0;
  const int header_w[6] = {4, 5, 6, 6, 4, 7};  // ppid state "RSS kB" "VSZ kB" VMAs command
  std::copy(std::begin(header_w), std::end(header_w), p.widths);
  p.shown = ctx.pid;
  // Depth first, iteratively: (pid, depth, hidden under a collapsed parent).
  struct Item {
    Pid pid;
    int depth;
    bool hidden;
  };
  std::vector<Item> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0, false});
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    const engine::Process* pr = k.process(item.pid);
    ProcessPanel::Row r;
    r.pid = item.pid;
    r.ppid = pr->ppid;
    r.depth = item.depth;
    r.zombie = pr->state == engine::ProcState::Zombie;
    const engine::Process* parent = k.process(pr->ppid);
    r.parent_running = parent && parent->state == engine::ProcState::Running;
    r.orphan = pr->ppid != 0 && !parent;
    r.exit_status = pr->exit_status;
    r.exit_signal = pr->exit_signal;
    r.rss_kb = pr->mm.rss() * 4;
    r.vsz_kb = pr->mm.total_vm * 4;
    r.vmas = pr->mm.vmas.size();
    r.comm = pr->comm;
    std::snprintf(r.mark, sizeof r.mark, "proc %d", r.pid);
    auto ch = children.find(item.pid);
    r.has_children = ch != children.end();
    if (r.zombie) ++p.zombies;
    const ProcessPanel::Snap s{r.zombie, r.rss_kb, r.vsz_kb, r.vmas};
    snap[r.pid] = s;
    auto c = changed.find(r.pid);
    r.changed = c == changed.end() ? 0 : c->second;
    if (have_prev) {
      auto old = p.prev.find(r.pid);
      if (old == p.prev.end() || old->second.zombie != s.zombie)
        r.changed = 2;
      else if (old->second.rss != s.rss || old->second.vsz != s.vsz || old->second.vmas != s.vmas)
        r.changed = std::max<uint8_t>(r.changed, 1);
    }
    char st[48];
    const int w[6] = {digits(static_cast<uint64_t>(std::max(r.ppid, 0))),
                      static_cast<int>(std::strlen(state_text(r, st, sizeof st, true))),
                      digits(r.rss_kb),
                      digits(r.vsz_kb),
                      digits(r.vmas),
                      static_cast<int>(r.comm.size())};
    if (!item.hidden) {
      for (int i = 0; i < 6; ++i) p.widths[i] = std::max(p.widths[i], w[i]);
      p.max_depth = std::max(p.max_depth, r.depth);
      p.visible.push_back(static_cast<uint32_t>(p.rows.size()));
    }
    const bool hide_children = item.hidden || p.collapsed.count(item.pid) > 0;
    p.rows.push_back(std::move(r));
    if (ch != children.end())
      for (auto it = ch->second.rbegin(); it != ch->second.rend(); ++it)
        stack.push_back({*it, item.depth + 1, hide_children});
  }
  if (new_gen) {
    p.prev = std::move(snap);
    p.prev_gen = gen;
  }
  p.built_gen = gen;
  p.rebuild = false;
}

void process_tooltip(const ProcessPanel::Row& r, const ProcessPanel& p) {
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
  if (r.zombie) {
    char st[48];
    ImGui::TextColored(r.exit_signal ? kKilled : kZombie, "pid %d is a zombie: %s", r.pid, state_text(r, st, sizeof st, false));
    ImGui::TextUnformatted(
        "Its memory is already freed; what is left is its exit status, kept until its parent "
        "collects it with wait4. A zombie runs no lines, so it cannot be shown with 'use'.");
    if (r.parent_running)
      ImGui::TextDisabled("Click for a menu: its parent, pid %d, can reap it.", r.ppid);
    else
      ImGui::TextDisabled("Its parent (pid %d) is %s, so no wait4 can reap it here.", r.ppid,
                          r.orphan ? "gone" : "a zombie too");
  } else {
    if (r.ppid == 0)
      ImGui::Text("pid %d (%s), the first process", r.pid, r.comm.c_str());
    else
      ImGui::Text("pid %d (%s), forked by pid %d%s", r.pid, r.comm.c_str(), r.ppid,
                  r.orphan ? ", which is gone" : "");
    ImGui::Text("RSS %" PRIu64 " kB resident, VSZ %" PRIu64 " kB mapped, %" PRIu64 " VMAs", r.rss_kb, r.vsz_kb,
                r.vmas);
    if (r.pid == p.shown)
      ImGui::TextDisabled("Shown in every panel; typed lines run as this process.");
    else
      ImGui::TextDisabled("Click: use %d (show it, run lines as it). Right-click: more.", r.pid);
  }
  if (r.changed == 2)
    ImGui::TextColored(kDirty, r.zombie ? "The last command ended it." : "The last command started it.");
  else if (r.changed == 1)
    ImGui::TextColored(kDirty, "The last command changed its memory.");
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void process_menu(ProcessPanel& p, App& app) {
  if (!ImGui::BeginPopup("procmenu")) return;
  const ProcessPanel::Row* r = nullptr;
  for (const auto& row : p.rows)
    if (row.pid == p.menu_pid) r = &row;
  if (!r) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  char line[96];
  auto item = [&](const char* text, const char* what, const char* mark) {
    ImGui::PushID(mark);
    const bool chosen = ImGui::MenuItem(text);
    app.mark(std::string("procmenu ") + mark);
    ImGui::PopID();
    if (chosen) p.pending = text;
    if (what && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", what);
    return chosen;
  };
  if (r->zombie && r->parent_running)
    ImGui::TextDisabled("pid %d is a zombie; its parent reaps it with:", r->pid);
  else if (r->zombie)
    ImGui::TextDisabled("pid %d is a zombie", r->pid);
  else
    ImGui::TextDisabled("pid %d: each runs as a shell line", r->pid);
  ImGui::Separator();
  if (r->zombie) {
    if (r->parent_running) {
      std::snprintf(line, sizeof line, "[pid %d] wait4(%d, NULL, 0, NULL)", r->ppid, r->pid);
      item(line, "The parent collects the exit status: the zombie is reaped and its pid is gone.", "reap");
    } else {
      ImGui::TextDisabled("Its parent, pid %d, is %s: nothing can reap it.", r->ppid,
                          r->orphan ? "gone" : "a zombie too");
    }
  } else {
    if (r->pid != p.shown) {
      std::snprintf(line, sizeof line, "use %d", r->pid);
      item(line, "Show this process in every panel and run typed lines as it.", "use");
    }
    std::snprintf(line, sizeof line, "[pid %d] fork()", r->pid);
    item(line, "A child sharing its private pages copy-on-write.", "fork");
    std::snprintf(line, sizeof line, "[pid %d] exit_group(0)", r->pid);
    item(line, "It exits: its memory is freed and it stays a zombie until its parent reaps it.", "exit");
    std::snprintf(line, sizeof line, "cat /proc/%d/status", r->pid);
    item(line, "Its memory counters (VmRSS, VmSize, RssAnon, ...) in the shell.", "status");
  }
  ImGui::EndPopup();
}

// ---------------------------------------------------------------------------
// Files

void build_files(FilesPanel& p, const PanelContext& ctx) {
  const engine::Kernel& k = ctx.session.kernel();
  const auto& frames = k.phys().frames();
  const uint64_t gen = ctx.hl.generation;
  const bool new_gen = p.built_gen != gen;
  std::set<uint64_t> changed;
  if (new_gen) {
    for (const Event& e : ctx.session.last_events()) {
      switch (e.kind) {
        case EventKind::PageCacheAdd:
        case EventKind::PageCacheRemove:
        case EventKind::Writeback:
          changed.insert(e.value);
          break;
        case EventKind::Fault:
          // A write fault on a shared file mapping dirties a page-cache page.
          if (e.pfn.value != 0 && e.pfn.value < frames.size()) {
            const engine::Frame& f = frames[static_cast<size_t>(e.pfn.value)];
            if (f.owner == engine::FrameOwner::File || f.owner == engine::FrameOwner::Shmem)
              changed.insert(f.owner_id);
          }
          break;
        default:
          break;
      }
    }
  } else {
    for (const auto& r : p.rows)
      if (!r.page && r.changed) changed.insert(r.key);
  }
  const bool have_prev = p.prev_gen + 1 == gen && new_gen;
  std::map<uint64_t, FilesPanel::Snap> snap;

  p.rows.clear();
  p.files = 0;
  const int header_w[5] = {5, 6, 5, 4, 4};
  std::copy(std::begin(header_w), std::end(header_w), p.widths);
  p.total_cached = 0;
  p.total_dirty = 0;
  for (const auto& [key, ino] : k.inodes()) {
    if (ino.kind == engine::InodeKind::Tty) continue;
    FilesPanel::Row r;
    r.key = key;
    r.name = ino.display_name();
    r.shmem = ino.kind == engine::InodeKind::Shmem;
    r.ino = ino.ino;
    r.size = ino.size;
    r.pages = ino.pages();
    r.cached = ino.cache.size();
    for (const auto& [index, pfn] : ino.cache)
      if (pfn.value < frames.size() && (frames[static_cast<size_t>(pfn.value)].flags & engine::PG_dirty)) ++r.dirty;
    r.mapped = ino.map_count;
    r.open = ino.open_count;
    r.mark = "file " + ino.path;
    const FilesPanel::Snap s{r.size, r.cached, r.dirty, r.mapped, r.open};
    snap[key] = s;
    r.changed = changed.count(key) ? 1 : 0;
    if (have_prev) {
      auto old = p.prev.find(key);
      if (old == p.prev.end() || old->second.size != s.size || old->second.cached != s.cached ||
          old->second.dirty != s.dirty || old->second.mapped != s.mapped || old->second.open != s.open)
        r.changed = 1;
    }
    const int w[5] = {digits(r.size), digits(r.cached) + 1 + digits(r.pages), digits(r.dirty), digits(r.mapped),
                      digits(r.open)};
    for (int i = 0; i < 5; ++i) p.widths[i] = std::max(p.widths[i], w[i]);
    ++p.files;
    p.total_cached += r.cached;
    p.total_dirty += r.dirty;
    const bool expanded = p.expanded.count(key) > 0 && !ino.cache.empty();
    const auto file_row = static_cast<uint32_t>(p.rows.size());
    p.rows.push_back(std::move(r));
    if (!expanded) continue;
    for (const auto& [index, pfn] : ino.cache) {
      FilesPanel::Row pr;
      pr.page = true;
      pr.key = key;
      pr.file_row = file_row;
      pr.shmem = ino.kind == engine::InodeKind::Shmem;
      pr.index = index;
      pr.pfn = pfn.value;
      pr.page_dirty = pfn.value < frames.size() && (frames[static_cast<size_t>(pfn.value)].flags & engine::PG_dirty);
      p.rows.push_back(std::move(pr));
    }
  }
  if (new_gen) {
    p.prev = std::move(snap);
    p.prev_gen = gen;
  }
  p.built_gen = gen;
  p.rebuild = false;
}

void file_tooltip(const FilesPanel::Row& r, const engine::Kernel& k) {
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
  ImGui::Text("%s", r.name.c_str());
  ImGui::TextDisabled("inode %" PRIu64 " on %s", r.ino, r.shmem ? "tmpfs (shmem: RAM only, no disk)" : "the simulated disk");
  ImGui::Text("%" PRIu64 " bytes = %" PRIu64 " page%s; %" PRIu64 " in the page cache", r.size, r.pages,
              r.pages == 1 ? "" : "s", r.cached);
  if (r.dirty)
    ImGui::TextColored(kDirty, "%" PRIu64 " dirty: written in memory, not yet written back to %s", r.dirty,
                       r.shmem ? "anything (tmpfs has no disk)" : "disk (msync MS_SYNC does)");
  ImGui::Text("mapped by %u VMA%s, open in %u file description%s", r.mapped, r.mapped == 1 ? "" : "s", r.open,
              r.open == 1 ? "" : "s");
  const engine::Inode* ino = nullptr;
  auto it = k.inodes().find(r.key);
  if (it != k.inodes().end()) ino = &it->second;
  if (ino && !ino->cache.empty()) {
    ImGui::Separator();
    ImGui::TextUnformatted("cached pages, page:frame");
    ImGui::SameLine();
    ImGui::TextColored(kDirty, "(dirty)");
    // Four to a line, at most six lines: the whole list is one click away.
    constexpr int kPerLine = 4, kMax = 24;
    const auto& frames = k.phys().frames();
    int shown = 0;
    for (const auto& [index, pfn] : ino->cache) {
      if (shown == kMax) break;
      const bool dirty = pfn.value < frames.size() && (frames[static_cast<size_t>(pfn.value)].flags & engine::PG_dirty);
      char e[48];
      std::snprintf(e, sizeof e, "%4" PRIu64 ":0x%-5" PRIx64, index, pfn.value);
      if (shown % kPerLine) ImGui::SameLine();
      if (dirty)
        ImGui::TextColored(kDirty, "%s", e);
      else
        ImGui::TextUnformatted(e);
      ++shown;
    }
    if (ino->cache.size() > static_cast<size_t>(kMax))
      ImGui::TextDisabled("... %zu more: click the row to list them all", ino->cache.size() - static_cast<size_t>(kMax));
  } else {
    ImGui::TextDisabled("Nothing cached: reading it (read, cat, a mapped access) fills the cache.");
  }
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void page_tooltip(const FilesPanel::Row& r, const engine::Kernel& k) {
  const auto& frames = k.phys().frames();
  if (r.pfn >= frames.size()) return;
  const engine::Frame& f = frames[static_cast<size_t>(r.pfn)];
  ImGui::BeginTooltip();
  ImGui::Text("page %" PRIu64 " (file offset 0x%" PRIx64 ") in frame 0x%" PRIx64, r.index,
              r.index << engine::PAGE_SHIFT, r.pfn);
  ImGui::Text("refcount %u   mapcount %u (PTEs mapping it)", f.refcount, f.mapcount);
  if (f.flags & engine::PG_dirty)
    ImGui::TextColored(kDirty, "dirty: newer than what is on disk");
  else
    ImGui::TextDisabled("clean: the same as on disk");
  ImGui::TextDisabled("outlined in the frame grid");
  ImGui::EndTooltip();
}

void file_menu(FilesPanel& p, const engine::Kernel& k) {
  if (!ImGui::BeginPopup("filemenu")) return;
  auto it = k.inodes().find(p.menu_key);
  if (it == k.inodes().end()) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  const engine::Inode& ino = it->second;
  ImGui::TextDisabled("%s: runs as a shell line", ino.display_name().c_str());
  ImGui::Separator();
  std::string line;
  if (ino.kind == engine::InodeKind::Regular && !ino.unlinked) {
    line = "cat " + ino.path;
    if (ImGui::MenuItem(line.c_str())) p.pending = line;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Read it whole through the page cache (filling it).");
    const auto dir = ino.path.substr(0, ino.path.rfind('/') + 1);
    line = "ls " + dir;
    if (ImGui::MenuItem(line.c_str())) p.pending = line;
  } else {
    ImGui::TextDisabled(ino.unlinked ? "deleted: only its mappings and open files keep it"
                                     : "shared memory: no path to read");
  }
  ImGui::EndPopup();
}

constexpr const char* kFileExample[] = {
    "fd = openat(AT_FDCWD, \"/tmp/f\", O_RDWR|O_CREAT, 0644)",
    "write(fd, \"hello\", 5)",
    "s = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)",
    "s[0] = 'H'",
    "msync(s, 4096, MS_SYNC)",
};

// The lines that make a file, dirty its page and write it back, each with a run button.
void file_example(FilesPanel& p, App& app) {
  int n = 0;
  for (const char* line : kFileExample) {
    ImGui::PushID(line);
    if (ImGui::SmallButton("run")) p.pending = line;
    app.mark("try " + std::to_string(n++));
    ImGui::PopID();
    ImGui::SameLine();
    ImGui::TextUnformatted(line);
  }
}

}  // namespace

void draw_processes(ProcessPanel& p, PanelContext& ctx) {
  if (p.rebuild || p.built_gen != ctx.hl.generation || p.shown != ctx.pid) build_processes(p, ctx);
  p.pending.clear();

  // ---- summary ----
  ImGui::Text("%zu process%s", p.rows.size(), p.rows.size() == 1 ? "" : "es");
  if (p.zombies) {
    ImGui::SameLine(0.0f, 4.0f);
    ImGui::TextColored(kZombie, "(%zu zombie%s)", p.zombies, p.zombies == 1 ? "" : "s");
  }
  char h1[96];
  std::snprintf(h1, sizeof h1, "- pid %d shown; click a row to switch, right-click: more", p.shown);
  hint_after({h1, "- click a row to switch"});
  for (Pid r : p.reaped) {
    ImGui::TextColored(kDirty, "wait4 reaped pid %d: it is gone", r);
  }
  if (p.rows.empty()) {
    ImGui::Spacing();
    ImGui::TextWrapped("No processes. reset starts again with pid 1 running a.out.");
    if (ImGui::SmallButton("run")) p.pending = "reset";
    ImGui::SameLine();
    ImGui::TextUnformatted("reset");
  } else {
    // Columns fit their contents (the tree column grows with the depth); a deep tree
    // scrolls sideways rather than squeezing the numbers.
    const ImGuiTableFlags tflags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                   ImGuiTableFlags_BordersOuterH | ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX |
                                   ImGuiTableFlags_SizingFixedFit;
    ImGui::PushStyleVar(ImGuiStyleVar_CellPadding, ImVec2(5.0f, ImGui::GetStyle().CellPadding.y));
    const bool table = ImGui::BeginTable("procs", 7, tflags, ImVec2(0, 0));
    ImGui::PopStyleVar();
    if (table) {
      const float indent = std::floor(ImGui::GetTreeNodeToLabelSpacing() * 0.6f);
      const float ch = ImGui::CalcTextSize("0").x;
      int pid_digits = 3;
      for (const auto& r : p.rows) pid_digits = std::max(pid_digits, digits(static_cast<uint64_t>(r.pid)));
      ImGui::TableSetupScrollFreeze(1, 1);
      // Widths from the data, not from the rows the clipper happened to draw, so they do
      // not jump while scrolling.
      ImGui::TableSetupColumn("pid", ImGuiTableColumnFlags_WidthFixed,
                              ImGui::GetTreeNodeToLabelSpacing() + indent * static_cast<float>(p.max_depth) +
                                  ch * static_cast<float>(pid_digits));
      static constexpr const char* kNames[6] = {"ppid", "state", "RSS kB", "VSZ kB", "VMAs", "command"};
      for (int i = 0; i < 6; ++i)
        ImGui::TableSetupColumn(kNames[i], ImGuiTableColumnFlags_WidthFixed, ch * static_cast<float>(p.widths[i]));
      ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
      header("pid", "Process id. Children sit under the parent that forked them.");
      header("ppid", "The parent's pid: the process that forked it (and must reap it with wait4 when it exits).");
      header("state", "running, or a zombie: it has exited (or was killed by a signal) and waits for its parent's wait4.");
      header("RSS kB", "Resident set size, as ps prints it: the pages it maps that are in RAM, in kB.");
      header("VSZ kB", "Virtual size, as ps prints it: everything it has mapped (total_vm), in kB, resident or not.");
      header("VMAs", "How many VMAs (lines of /proc/PID/maps) its address space has.");
      header("command", "comm: the program's name.");

      ImGuiListClipper clipper;
      clipper.Begin(static_cast<int>(p.visible.size()));
      while (clipper.Step()) {
        for (int vi = clipper.DisplayStart; vi < clipper.DisplayEnd; ++vi) {
          const ProcessPanel::Row& r = p.rows[p.visible[static_cast<size_t>(vi)]];
          ImGui::TableNextRow();
          if (r.changed) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, r.changed == 2 ? kChangedStrong : kChangedLight);
          ImGui::TableNextColumn();
          ImGui::PushID(r.pid);
          ImGuiTreeNodeFlags f = ImGuiTreeNodeFlags_SpanAllColumns | ImGuiTreeNodeFlags_OpenOnArrow |
                                 ImGuiTreeNodeFlags_NoTreePushOnOpen;
          if (!r.has_children) f |= ImGuiTreeNodeFlags_Leaf | ImGuiTreeNodeFlags_Bullet;
          if (r.pid == p.shown) f |= ImGuiTreeNodeFlags_Selected;
          const float x = ImGui::GetCursorPosX();
          ImGui::SetCursorPosX(x + indent * static_cast<float>(r.depth));
          ImGui::SetNextItemOpen(!p.collapsed.count(r.pid));
          char label[16];
          std::snprintf(label, sizeof label, "%d", r.pid);
          if (r.zombie) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
          ImGui::TreeNodeEx("row", f, "%s", label);
          if (r.zombie) ImGui::PopStyleColor();
          if (ImGui::IsItemToggledOpen()) {
            if (!p.collapsed.erase(r.pid)) p.collapsed.insert(r.pid);
            p.rebuild = true;
          } else if (ImGui::IsItemClicked(ImGuiMouseButton_Left)) {
            if (r.zombie) {
              p.menu_pid = r.pid;
              p.open_menu = true;
            } else if (r.pid != p.shown) {
              p.pending = "use " + std::to_string(r.pid);
            }
          }
          if (ImGui::IsItemClicked(ImGuiMouseButton_Right)) {
            p.menu_pid = r.pid;
            p.open_menu = true;
          }
          if (ImGui::IsItemHovered(ImGuiHoveredFlags_DelayShort) && !ImGui::IsPopupOpen("procmenu"))
            process_tooltip(r, p);
          ctx.app.mark(r.mark);
          ImGui::PopID();

          ImGui::TableNextColumn();
          right_number(static_cast<uint64_t>(r.ppid), r.zombie);
          ImGui::TableNextColumn();
          char st[48];
          ImGui::TextColored(!r.zombie ? kRunning : r.exit_signal ? kKilled : kZombie, "%s",
                             state_text(r, st, sizeof st, true));
          ImGui::TableNextColumn();
          right_number(r.rss_kb, r.zombie);
          ImGui::TableNextColumn();
          right_number(r.vsz_kb, r.zombie);
          ImGui::TableNextColumn();
          right_number(r.vmas, r.zombie);
          ImGui::TableNextColumn();
          if (r.zombie)
            ImGui::TextDisabled("%s", r.comm.c_str());
          else
            ImGui::TextUnformatted(r.comm.c_str());
        }
      }
      clipper.End();
      ImGui::EndTable();
    }
  }
  if (p.open_menu) {
    ImGui::OpenPopup("procmenu");
    p.open_menu = false;
  }
  process_menu(p, ctx.app);
  // Last: the line may change every process (a row above must not outlive it).
  if (!p.pending.empty()) {
    const std::string line = std::move(p.pending);
    p.pending.clear();
    ctx.app.exec(line);
  }
}

void draw_files(FilesPanel& p, PanelContext& ctx) {
  if (p.rebuild || p.built_gen != ctx.hl.generation) build_files(p, ctx);
  p.pending.clear();
  p.hovered_pfn = -1;
  const engine::Kernel& k = ctx.session.kernel();
  const Highlight& hl = ctx.hl;

  if (p.files == 0) {
    ImGui::TextWrapped("No files yet. Create one, write to it, map it shared, dirty the page, write it back:");
    ImGui::Spacing();
    file_example(p, ctx.app);
  } else {
    ImGui::Text("%zu file%s, %" PRIu64 " page%s cached", p.files, p.files == 1 ? "" : "s", p.total_cached,
                p.total_cached == 1 ? "" : "s");
    if (p.total_dirty) {
      ImGui::SameLine(0.0f, 4.0f);
      ImGui::TextColored(kDirty, "(%" PRIu64 " dirty)", p.total_dirty);
    }
    const float bw = ImGui::CalcTextSize("try it").x + ImGui::GetStyle().FramePadding.x * 2.0f;
    hint_after({"- hover a file for its pages, click to list them", "- click a file to list its pages"},
               bw + ImGui::GetStyle().ItemSpacing.x);
    ImGui::SameLine();
    ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), ImGui::GetCursorPosX() + ImGui::GetContentRegionAvail().x - bw));
    if (ImGui::SmallButton("try it")) ImGui::OpenPopup("fileexample");
    ctx.app.mark("files try");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Lines that create a file, dirty its page cache and write it back");
    if (ImGui::BeginPopup("fileexample")) {
      file_example(p, ctx.app);
      if (!p.pending.empty()) ImGui::CloseCurrentPopup();
      ImGui::EndPopup();
    }

    const ImGuiTableFlags tflags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                   ImGuiTableFlags_BordersOuterH | ImGuiTableFlags_ScrollY |
                                   ImGuiTableFlags_SizingFixedFit;
    if (ImGui::BeginTable("files", 6, tflags, ImVec2(0, 0))) {
      const float ch = ImGui::CalcTextSize("0").x;
      ImGui::TableSetupScrollFreeze(0, 1);
      ImGui::TableSetupColumn("file", ImGuiTableColumnFlags_WidthStretch);
      // Each number column as wide as its widest value (a fixed, non-resizable column
      // keeps the width given here, so it follows the data).
      static constexpr const char* kNames[5] = {"bytes", "cached", "dirty", "maps", "open"};
      for (int i = 0; i < 5; ++i)
        ImGui::TableSetupColumn(kNames[i], ImGuiTableColumnFlags_WidthFixed, ch * static_cast<float>(p.widths[i]));
      ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
      header("file", "Every file the kernel knows: on the simulated disk (blue) or in tmpfs (pink: shared anonymous "
                     "memory, memfd). Dimmed: nothing of it is in memory.");
      header("bytes", "i_size: the file's length in bytes.");
      header("cached", "Pages in the page cache / pages the file has. A page read, written or mapped once stays "
                       "cached, shared by read, write and every mapping of it.");
      header("dirty", "Cached pages written in memory and not yet written back (PG_dirty). msync(MS_SYNC) on a "
                      "shared mapping writes them to disk.");
      header("maps", "How many VMAs map it (in every process).");
      header("open", "How many open file descriptions refer to it.");

      // The frame under the pointer elsewhere (the grid): its file and page light up.
      uint64_t hover_key = 0, hover_index = 0;
      bool hover_page = false;
      if (hl.shown_frame && hl.shown_pfn < k.phys().total()) {
        const engine::Frame& f = k.phys().frames()[static_cast<size_t>(hl.shown_pfn)];
        if (f.owner == engine::FrameOwner::File || f.owner == engine::FrameOwner::Shmem) {
          hover_page = true;
          hover_key = f.owner_id;
          hover_index = f.index;
        }
      }
      const ImU32 dim = ImGui::GetColorU32(ImGuiCol_TextDisabled);
      const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);

      ImGuiListClipper clipper;
      clipper.Begin(static_cast<int>(p.rows.size()));
      while (clipper.Step()) {
        for (int ri = clipper.DisplayStart; ri < clipper.DisplayEnd; ++ri) {
          const FilesPanel::Row& r = p.rows[static_cast<size_t>(ri)];
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          if (!r.page) {
            const bool counterpart = hover_page && hover_key == r.key;
            if (counterpart)
              ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kHoverRow);
            else if (r.changed)
              ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kChangedStrong);
            ImGui::PushID(static_cast<int>(r.key & 0x7fffffff));
            ImGui::PushID(static_cast<int>(r.key >> 32));
            const bool empty = r.cached == 0;
            ImGuiTreeNodeFlags f = ImGuiTreeNodeFlags_SpanAllColumns | ImGuiTreeNodeFlags_NoTreePushOnOpen;
            if (empty) f |= ImGuiTreeNodeFlags_Leaf;
            ImGui::SetNextItemOpen(p.expanded.count(r.key) > 0 && !empty);
            ImGui::PushStyleColor(ImGuiCol_Text, empty ? dim : text);
            ImGui::TreeNodeEx("file", f, "%s", "");
            ImGui::PopStyleColor();
            if (ImGui::IsItemToggledOpen()) {
              if (!p.expanded.erase(r.key)) p.expanded.insert(r.key);
              p.rebuild = true;
            }
            if (ImGui::IsItemClicked(ImGuiMouseButton_Right)) {
              p.menu_key = r.key;
              p.open_menu = true;
            }
            const bool hovered = ImGui::IsItemHovered(ImGuiHoveredFlags_DelayShort) && !ImGui::IsPopupOpen("filemenu");
            ctx.app.mark(r.mark);
            ImGui::PopID();
            ImGui::PopID();
            // The name after the arrow: a swatch in the frame grid's colour, then the
            // path, cut from the left when the column is narrow.
            ImGui::SameLine(0.0f, 0.0f);
            swatch(empty ? IM_COL32(90, 96, 110, 255) : r.shmem ? kShmemPink : kFileBlue);
            char fit[256];
            const char* name = fit_left(r.name, ImGui::GetContentRegionAvail().x, fit, sizeof fit);
            if (empty)
              ImGui::TextDisabled("%s", name);
            else
              ImGui::TextUnformatted(name);
            if (hovered) file_tooltip(r, k);

            ImGui::TableNextColumn();
            right_number(r.size, empty);
            ImGui::TableNextColumn();
            char cached[48];
            std::snprintf(cached, sizeof cached, "%" PRIu64 "/%" PRIu64, r.cached, r.pages);
            const float w = ImGui::CalcTextSize(cached).x;
            const float avail = ImGui::GetContentRegionAvail().x;
            if (avail > w) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + avail - w);
            if (empty)
              ImGui::TextDisabled("%s", cached);
            else
              ImGui::TextUnformatted(cached);
            ImGui::TableNextColumn();
            if (r.dirty) {
              char d[24];
              std::snprintf(d, sizeof d, "%" PRIu64, r.dirty);
              const float dw = ImGui::CalcTextSize(d).x;
              const float da = ImGui::GetContentRegionAvail().x;
              if (da > dw) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + da - dw);
              ImGui::TextColored(kDirty, "%s", d);
            } else {
              right_number(0, true);
            }
            ImGui::TableNextColumn();
            right_number(r.mapped, r.mapped == 0);
            ImGui::TableNextColumn();
            right_number(r.open, r.open == 0);
          } else {
            const bool counterpart = hover_page && hover_key == r.key && hover_index == r.index;
            const bool touched = r.pfn < hl.frame_touched.size() && hl.frame_touched[static_cast<size_t>(r.pfn)];
            if (counterpart)
              ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kHoverRow);
            else if (touched)
              ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, kChangedLight);
            ImGui::PushID(ri);
            char label[64];
            std::snprintf(label, sizeof label, "page %" PRIu64 " -> pfn 0x%" PRIx64, r.index, r.pfn);
            ImGui::SetCursorPosX(ImGui::GetCursorPosX() + ImGui::GetTreeNodeToLabelSpacing());
            swatch(r.shmem ? kShmemPink : kFileBlue);
            ImGui::Selectable(label, false, ImGuiSelectableFlags_SpanAllColumns);
            if (ImGui::IsItemHovered()) {
              ctx.hl.hover_frame = true;
              ctx.hl.hover_pfn = r.pfn;
              p.hovered_pfn = static_cast<int64_t>(r.pfn);
              page_tooltip(r, k);
            }
            char mark[320];
            std::snprintf(mark, sizeof mark, "page %s %" PRIu64, p.rows[r.file_row].name.c_str(), r.index);
            ctx.app.mark(mark);
            ImGui::PopID();
            ImGui::TableNextColumn();
            ImGui::TableNextColumn();
            ImGui::TableNextColumn();
            if (r.page_dirty) ImGui::TextColored(kDirty, "dirty");
          }
        }
      }
      clipper.End();
      ImGui::EndTable();
    }
  }
  if (p.open_menu) {
    ImGui::OpenPopup("filemenu");
    p.open_menu = false;
  }
  file_menu(p, k);
  if (!p.pending.empty()) {
    const std::string line = std::move(p.pending);
    p.pending.clear();
    ctx.app.exec(line);
  }
}

namespace {

void json_bool(std::string& j, const char* key, bool v) {
  j += ",\"";
  j += key;
  j += v ? "\":true" : "\":false";
}

void json_num(std::string& j, const char* key, uint64_t v) {
  j += ",\"";
  j += key;
  j += "\":";
  j += std::to_string(v);
}

}  // namespace

std::string processes_ui_json(const ProcessPanel& p) {
  std::string j = "{\"generation\":" + std::to_string(p.built_gen) + ",\"shown\":" + std::to_string(p.shown);
  j += ",\"reaped\":[";
  for (size_t i = 0; i < p.reaped.size(); ++i) j += (i ? "," : "") + std::to_string(p.reaped[i]);
  j += "],\"rows\":[";
  for (size_t i = 0; i < p.rows.size(); ++i) {
    const auto& r = p.rows[i];
    j += i ? ",{" : "{";
    j += "\"pid\":" + std::to_string(r.pid);
    j += ",\"ppid\":" + std::to_string(r.ppid);
    j += ",\"depth\":" + std::to_string(r.depth);
    j += ",\"comm\":\"" + shell::json_escape(r.comm) + "\"";
    j += ",\"state\":\"";
    j += r.zombie ? "zombie\"" : "running\"";
    if (r.zombie) {
      j += ",\"exit_status\":" + std::to_string(r.exit_status);
      j += ",\"exit_signal\":\"";
      j += r.exit_signal ? engine::signal_name(r.exit_signal) : "";
      j += "\"";
    }
    json_num(j, "rss_kb", r.rss_kb);
    json_num(j, "vsz_kb", r.vsz_kb);
    json_num(j, "vmas", r.vmas);
    json_bool(j, "shown", r.pid == p.shown);
    json_bool(j, "orphan", r.orphan);
    json_bool(j, "collapsed", p.collapsed.count(r.pid) > 0);
    json_num(j, "changed", r.changed);
    j += "}";
  }
  return j + "]}";
}

std::string files_ui_json(const FilesPanel& p) {
  std::string j = "{\"generation\":" + std::to_string(p.built_gen) + ",\"hovered_pfn\":" + std::to_string(p.hovered_pfn);
  j += ",\"rows\":[";
  bool first = true;
  for (size_t i = 0; i < p.rows.size(); ++i) {
    const auto& r = p.rows[i];
    if (r.page) continue;
    j += first ? "{" : ",{";
    first = false;
    j += "\"path\":\"" + shell::json_escape(r.name) + "\"";
    j += ",\"kind\":\"";
    j += r.shmem ? "shmem\"" : "regular\"";
    json_num(j, "ino", r.ino);
    json_num(j, "size", r.size);
    json_num(j, "pages", r.pages);
    json_num(j, "cached", r.cached);
    json_num(j, "dirty", r.dirty);
    json_num(j, "mapped", r.mapped);
    json_num(j, "open", r.open);
    json_bool(j, "changed", r.changed != 0);
    json_bool(j, "expanded", p.expanded.count(r.key) > 0);
    // The cached pages listed under it when expanded: [index, pfn, dirty].
    j += ",\"pages_shown\":[";
    bool fp = true;
    for (size_t k = i + 1; k < p.rows.size() && p.rows[k].page; ++k) {
      const auto& pr = p.rows[k];
      j += fp ? "[" : ",[";
      fp = false;
      j += std::to_string(pr.index) + "," + std::to_string(pr.pfn) + (pr.page_dirty ? ",true]" : ",false]");
    }
    j += "]}";
  }
  return j + "]}";
}

}  // namespace vmplay::web
