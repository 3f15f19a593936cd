#include "web/app.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>

#include "imgui.h"
#include "imgui_internal.h"  // the hovered window, for wants_wheel
#include "shell/lessons.h"
#include "shell/format.h"

namespace vmplay::web {

using engine::Event;
using engine::EventKind;

App::App(shell::SessionConfig cfg) : session_(cfg) {
  console_.add(ConsolePanel::Kind::Comment, "# vmplay: a Linux virtual-memory playground.");
  console_.add(ConsolePanel::Kind::Comment, "# Type the calls a program makes, in strace syntax,");
  console_.add(ConsolePanel::Kind::Comment, "# and watch the VMAs and physical frames change.");
  console_.add(ConsolePanel::Kind::Comment, "# Try:  p = mmap(NULL, 8192, PROT_READ|PROT_WRITE,");
  console_.add(ConsolePanel::Kind::Comment, "#                MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  console_.add(ConsolePanel::Kind::Comment, "#       p[0] = 'A'     p[4096]     cat /proc/self/maps");
  console_.add(ConsolePanel::Kind::Comment, "# help lists everything; Up/Down recall, Tab completes.");
  console_.add(ConsolePanel::Kind::Comment, "# New here? The Lessons menu walks through 13 of them.");
  welcome_lines_ = console_.log.size();
  after_exec();
}

const shell::Output& App::exec(std::string_view line) {
  last_ = session_.exec(line);
  console_.record(line, last_);
  // The highlights are worked out once, at the next frame: a script of thousands of
  // lines run in one call (vmplay.exec) does not redo them per line.
  exec_pending_ = true;
  return last_;
}

std::string App::ui_json() const {
  // The VMA table's rows drawn last frame, as indices in /proc/PID/maps order (the
  // clipper may draw a row beyond the visible edge).
  std::string j = "{\"layout\":\"";
  j += compact_ ? "compact" : "full";
  j += "\",\"layout_setting\":\"";
  j += layout_ == Layout::Auto ? "auto" : layout_ == Layout::Full ? "full" : "compact";
  j += "\",\"front\":\"";
  j += view_name(front_[0]);
  j += "\",\"vmas\":" + vmas_ui_json(vmas_);
  j += ",\"frames\":" + frames_ui_json(frames_);
  j += ",\"pagetables\":" + pagetables_ui_json(pagetables_);
  j += ",\"processes\":" + processes_ui_json(processes_);
  j += ",\"files\":" + files_ui_json(files_);
  j += ",\"swap\":" + swap_ui_json(swap_, session_.kernel());
  const shell::TimelineEntry& now = session_.timeline()[session_.timeline_pos()];
  const StepCounts c = step_counts(session_.timeline(), session_.timeline_pos());
  j += ",\"timeline\":{\"pos\":" + std::to_string(session_.timeline_pos()) +
       ",\"steps\":" + std::to_string(session_.timeline().size()) + ",\"faults\":{\"minor\":" +
       std::to_string(now.faults_minor) + ",\"major\":" + std::to_string(now.faults_major) + ",\"cow\":" +
       std::to_string(now.faults_cow) + "}}";
  // What the current step did, as its timeline row sums it up.
  j += ",\"step\":{\"swapped_out\":" + std::to_string(c.swap_out) + ",\"swapped_in\":" + std::to_string(c.swap_in) +
       ",\"reclaimed\":" + std::to_string(c.reclaimed) + ",\"paged_out\":" + std::to_string(c.paged_out) +
       ",\"oom_kills\":" + std::to_string(c.oom_kills) + ",\"summary\":\"" + shell::json_escape(step_summary(c)) +
       "\"}";
  j += ",\"script\":{\"pos\":" + std::to_string(queue_next_) + ",\"lines\":" + std::to_string(queue_.size()) +
       "},\"theme\":\"" + (light_ ? "light" : "dark") + "\"";
  j += ",\"targets\":{";
  for (size_t i = 0; i < shown_targets_.size(); ++i) {
    const Target& t = shown_targets_[i];
    char b[160];
    std::snprintf(b, sizeof b, "\":[%.1f,%.1f,%.1f,%.1f]", static_cast<double>(t.x0), static_cast<double>(t.y0),
                  static_cast<double>(t.x1), static_cast<double>(t.y1));
    j += (i ? ",\"" : "\"") + shell::json_escape(t.name) + b;
  }
  return j + "}}";
}

engine::Pid App::view_pid() const {
  const engine::Kernel& k = session_.kernel();
  if (k.process(session_.current_pid())) return session_.current_pid();
  auto pids = k.pids();
  return pids.empty() ? session_.current_pid() : pids.front();
}

// Turns the last line's events into what the panels highlight.
void App::after_exec() {
  ++hl_.generation;
  hl_.pids = session_.kernel().pids();
  const auto& frames = session_.kernel().phys().frames();
  hl_.frame_touched.assign(frames.size(), 0);
  hl_.vma_changed.clear();
  auto touch = [&](engine::Pfn pfn) {
    if (pfn.value < hl_.frame_touched.size()) hl_.frame_touched[static_cast<size_t>(pfn.value)] = 1;
  };
  for (const Event& e : session_.last_events()) {
    switch (e.kind) {
      case EventKind::FrameAlloc:
      case EventKind::FrameFree:
      case EventKind::PteSet:
      case EventKind::PteClear:
      case EventKind::PageTableAlloc:
      case EventKind::PageTableFree:
        touch(e.pfn);
        break;
      case EventKind::PageCacheAdd:
      case EventKind::PageCacheRemove:
      case EventKind::Writeback:
      case EventKind::SwapOut:
      case EventKind::SwapCacheDrop:
      case EventKind::LazyFreed:
        touch(e.pfn);
        break;
      case EventKind::Fault:
        // The frame now mapped; a fault that mapped nothing (SIGSEGV, OOM) leaves pfn 0,
        // a reserved frame no fault can map.
        if (e.pfn.value != 0) touch(e.pfn);
        break;
      default:
        break;
    }
    switch (e.kind) {
      case EventKind::VmaInsert:
      case EventKind::VmaExpand:
        hl_.vma_changed.push_back({e.addr, e.end, true, e.pid});
        break;
      case EventKind::VmaSplit:
        // Both pieces changed: the one ending at the split point and the one from it
        // to `end`. Starting the range one byte early makes the lower piece overlap it.
        hl_.vma_changed.push_back({e.addr - 1, e.end, true, e.pid});
        break;
      case EventKind::Fault:
      case EventKind::PteSet:
      case EventKind::PteClear:
        // (Spelled with PAGE_SHIFT: Emscripten's libc defines PAGE_SIZE/PAGE_MASK macros.)
        hl_.vma_changed.push_back({(e.addr >> engine::PAGE_SHIFT) << engine::PAGE_SHIFT,
                                   ((e.addr >> engine::PAGE_SHIFT) + 1) << engine::PAGE_SHIFT, false, e.pid});
        break;
      default:
        break;
    }
  }
  hl_.frame_of_vma_valid = false;
}

void App::begin_frame() {
  rebuilt_this_frame_ = false;
  if (exec_pending_) {
    exec_pending_ = false;
    after_exec();
  }
  hl_.shown_vma = hl_.hover_vma;
  hl_.shown_vma_start = hl_.hover_vma_start;
  hl_.shown_frame = hl_.hover_frame;
  hl_.shown_pfn = hl_.hover_pfn;
  hl_.shown_slot = hl_.hover_slot;
  hl_.shown_swap_slot = hl_.hover_swap_slot;
  hl_.hover_vma = false;
  hl_.hover_frame = false;
  hl_.hover_slot = false;
  update_frames_of_vma();
}

void App::update_frames_of_vma() {
  if (!hl_.shown_vma) return;
  if (hl_.frame_of_vma_valid && hl_.frame_of_vma_key == hl_.shown_vma_start &&
      hl_.frame_of_vma_gen == hl_.generation)
    return;
  const engine::Kernel& k = session_.kernel();
  hl_.frame_of_vma.assign(static_cast<size_t>(k.phys().total()), 0);
  hl_.frame_of_vma_valid = true;
  hl_.frame_of_vma_key = hl_.shown_vma_start;
  hl_.frame_of_vma_gen = hl_.generation;
  engine::Pid pid = view_pid();
  const engine::Process* p = k.process(pid);
  if (!p) return;
  auto it = p->mm.vmas.find(hl_.shown_vma_start);
  if (it == p->mm.vmas.end()) return;
  const engine::Vma& v = it->second;
  for (const auto& pte : k.ptes(pid, v.start, v.end)) {
    if (!engine::pte_present(pte.entry)) continue;
    uint64_t pfn = engine::pte_pfn(pte.entry).value;
    if (pfn < hl_.frame_of_vma.size()) hl_.frame_of_vma[static_cast<size_t>(pfn)] = 1;
  }
}

const View kAllViews[kViewCount] = {View::AddressSpace, View::PageTables, View::Frames, View::Swap,
                                    View::Timeline,     View::Processes,  View::Files,  View::Stats};

const char* view_title(View v) {
  switch (v) {
    case View::AddressSpace: return "Address space";
    case View::PageTables: return "Page tables";
    case View::Frames: return "Frames";
    case View::Swap: return "Swap";
    case View::Timeline: return "Timeline";
    case View::Processes: return "Processes";
    case View::Files: return "Files";
    case View::Stats: return "Stats";
  }
  return "?";
}

namespace {

// The views that share the full layout's lower-left window as tabs.
constexpr View kLowerLeft[] = {View::Timeline, View::Processes, View::Files, View::Stats, View::Swap};

constexpr ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                    ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;

}  // namespace

const char* view_name(View v) {
  switch (v) {
    case View::AddressSpace: return "vmas";
    case View::PageTables: return "pagetables";
    case View::Frames: return "frames";
    case View::Swap: return "swap";
    case View::Timeline: return "timeline";
    case View::Processes: return "processes";
    case View::Files: return "files";
    case View::Stats: return "stats";
  }
  return "?";
}

namespace {

bool is_narration(std::string_view line) {
  size_t i = line.find_first_not_of(" \t");
  return i == std::string_view::npos || line[i] == '#';
}

}  // namespace

void App::notice(std::string_view text, bool error) {
  console_.add(error ? ConsolePanel::Kind::Error : ConsolePanel::Kind::Note, "page: " + std::string(text));
}

bool App::load_script(std::string_view text, RunMode mode) {
  if (text.size() > kMaxScriptBytes) {
    notice("the script is " + std::to_string(text.size()) + " bytes; at most " + std::to_string(kMaxScriptBytes) +
               " are run. Nothing ran.",
           true);
    return false;
  }
  std::vector<std::string> lines;
  for (size_t b = 0; b <= text.size();) {
    size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    std::string line(text.substr(b, e - b));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    b = e + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() > kMaxScriptLines) {
    notice("the script has " + std::to_string(lines.size()) + " lines; at most " + std::to_string(kMaxScriptLines) +
               " are run. Nothing ran.",
           true);
    return false;
  }
  queue_.clear();
  queue_next_ = 0;
  // A script given to a fresh page (a widget) replaces the welcome text (only that: the
  // page's messages about its parameters stay).
  if (welcome_lines_ && session_.timeline().size() == 1 && session_.lines_run() == 0 &&
      console_.log.size() >= welcome_lines_) {
    console_.log.erase(console_.log.begin(), console_.log.begin() + static_cast<std::ptrdiff_t>(welcome_lines_));
    console_.rows_cols = 0;
    welcome_lines_ = 0;
  }
  load_output_.clear();
  switch (mode) {
    case RunMode::All:
      for (const auto& l : lines) {
        if (is_narration(l)) {
          if (l.find('#') != std::string::npos) console_.add(ConsolePanel::Kind::Comment, l);
        } else {
          load_output_ += exec(l).text();
        }
      }
      break;
    case RunMode::Step:
      queue_ = std::move(lines);
      notice("a script of " + std::to_string(queue_.size()) + " lines: Next runs them one at a time", false);
      break;
    case RunMode::None:
      for (const auto& l : lines)
        if (!is_narration(l)) console_.history.push_back(l);
      notice("a script of " + std::to_string(lines.size()) + " lines is in the history: Up recalls them", false);
      break;
  }
  return true;
}

bool App::load_lesson(std::string_view name, RunMode mode) {
  const shell::Lesson* l = shell::find_lesson(name);
  if (!l) {
    notice("no lesson '" + std::string(name) + "' (lessons lists them)", true);
    return false;
  }
  return load_script(l->text, mode);
}

void App::script_next() {
  // The narration before the next statement, then the statement.
  while (queue_next_ < queue_.size() && is_narration(queue_[queue_next_])) {
    const std::string& l = queue_[queue_next_++];
    if (l.find('#') != std::string::npos) console_.add(ConsolePanel::Kind::Comment, l);
  }
  if (queue_next_ < queue_.size()) exec(queue_[queue_next_++]);
  console_.scroll_to_bottom = true;
}

void App::copy_link() {
  const std::string script = session_.script();
  if (on_copy_link)
    on_copy_link(script);
  else
    ImGui::SetClipboardText(script.c_str());
  notice(script.empty() ? "copied a link to a fresh session (nothing has changed yet)"
                        : "copied a link that replays this session's " +
                              std::to_string(std::count(script.begin(), script.end(), '\n')) + " lines",
         false);
}

std::string App::script_reset() {
  std::string out = exec("reset").text();
  queue_next_ = 0;
  return out;
}

bool App::set_panels(std::string_view list) {
  std::vector<View> views;
  bool shell = false;
  for (size_t b = 0; b <= list.size();) {
    size_t e = list.find(',', b);
    if (e == std::string_view::npos) e = list.size();
    std::string_view name = list.substr(b, e - b);
    b = e + 1;
    if (name.empty()) continue;
    if (name == "shell") {
      shell = true;
      continue;
    }
    if (name == "maps") name = "vmas";
    if (name == "pagetable") name = "pagetables";
    bool found = false;
    for (View v : kAllViews)
      if (name == view_name(v)) {
        views.push_back(v);
        found = true;
      }
    if (!found) return false;
  }
  if (views.empty() && !shell) return false;
  only_views_ = std::move(views);
  only_shell_ = shell;
  panels_set_ = true;
  if (!only_views_.empty()) front_[0] = only_views_.front();
  front_request_ = true;
  return true;
}

bool App::view_allowed(View v) const {
  return !panels_set_ || std::find(only_views_.begin(), only_views_.end(), v) != only_views_.end();
}

bool App::wants_wheel() const {
  const ImGuiContext* g = ImGui::GetCurrentContext();
  for (const ImGuiWindow* w = g ? g->HoveredWindow : nullptr; w; w = w->ParentWindow) {
    if (w->ScrollMax.y > 0.0f || w->ScrollMax.x > 0.0f) return true;
    if (!(w->Flags & ImGuiWindowFlags_ChildWindow)) break;
  }
  return false;
}

// Next and Reset for a script run a line at a time, with where it stands.
void App::draw_script_bar() {
  if (queue_.empty()) return;
  const bool done = queue_next_ >= queue_.size();
  ImGui::BeginDisabled(done);
  if (ImGui::SmallButton("Next >")) script_next();
  ImGui::EndDisabled();
  mark("script next");
  ImGui::SameLine();
  if (ImGui::SmallButton("Reset")) script_reset();
  mark("script reset");
  ImGui::SameLine();
  size_t statements = 0, ran = 0;
  for (size_t i = 0; i < queue_.size(); ++i)
    if (!is_narration(queue_[i])) {
      ++statements;
      if (i < queue_next_) ++ran;
    }
  if (done) {
    ImGui::TextDisabled("all %zu lines ran", statements);
    return;
  }
  size_t next = queue_next_;
  while (next < queue_.size() && is_narration(queue_[next])) ++next;
  ImGui::TextDisabled("%zu/%zu next:", ran, statements);
  ImGui::SameLine();
  ImGui::TextUnformatted(next < queue_.size() ? queue_[next].c_str() : "");
}

bool App::show(std::string_view name) {
  for (View v : kAllViews) {
    if (name != view_name(v)) continue;
    front_[0] = v;
    if (std::find(std::begin(kLowerLeft), std::end(kLowerLeft), v) != std::end(kLowerLeft)) front_[1] = v;
    front_request_ = true;
    return true;
  }
  return false;
}

bool App::tabbed(View v) const {
  if (!view_allowed(v)) return false;
  return compact_ || std::find(std::begin(kLowerLeft), std::end(kLowerLeft), v) != std::end(kLowerLeft);
}

void App::mark(std::string name) {
  if (!ImGui::IsItemVisible()) return;
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  targets_.push_back({std::move(name), a.x, a.y, b.x, b.y});
}

void App::note_frame_ms(double ms) {
  if (frame_ms_.size() < kPerfFrames) {
    frame_ms_.push_back(ms);
  } else {
    frame_ms_[frame_next_] = ms;
  }
  frame_next_ = (frame_next_ + 1) % kPerfFrames;
  ++frames_drawn_;
}

std::string App::perf_json() const {
  // Oldest first.
  std::vector<double> v;
  const size_t n = frame_ms_.size();
  const size_t first = n == kPerfFrames ? frame_next_ : 0;
  for (size_t i = 0; i < n; ++i) v.push_back(frame_ms_[(first + i) % n]);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double q) { return sorted.empty() ? 0.0 : sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())))]; };
  double sum = 0;
  for (double x : v) sum += x;
  char head[256];
  std::snprintf(head, sizeof head, "{\"drawn\":%llu,\"frames\":%zu,\"mean_ms\":%.3f,\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"max_ms\":%.3f,",
                static_cast<unsigned long long>(frames_drawn_), v.size(), v.empty() ? 0.0 : sum / static_cast<double>(v.size()), pct(0.5), pct(0.95),
                sorted.empty() ? 0.0 : sorted.back());
  std::string out = head;
  out += "\"views_ms\":{";
  for (View view : kAllViews) {
    char b[64];
    std::snprintf(b, sizeof b, "%s\"%s\":%.3f", view == View::AddressSpace ? "" : ",", view_name(view),
                  view_ms_[static_cast<size_t>(view)]);
    out += b;
  }
  out += "},\"recent_ms\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    char b[32];
    std::snprintf(b, sizeof b, "%s%.3f", i ? "," : "", v[i]);
    out += b;
  }
  return out + "]}";
}

void App::timed_view(View v, PanelContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  draw_view(v, ctx);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  double& slot = view_ms_[static_cast<size_t>(v)];
  slot = std::max(ms, slot * 0.98);  // the slowest recent frame, fading
}

void App::draw_view(View v, PanelContext& ctx) {
  switch (v) {
    case View::AddressSpace: draw_vmas(vmas_, ctx); break;
    case View::PageTables: draw_pagetables(pagetables_, ctx); break;
    case View::Frames: draw_frames(frames_, ctx); break;
    case View::Swap: draw_swap(swap_, ctx); break;
    case View::Timeline: draw_timeline(timeline_, ctx); break;
    case View::Processes: draw_processes(processes_, ctx); break;
    case View::Files: draw_files(files_, ctx); break;
    case View::Stats: draw_stats(stats_, ctx); break;
  }
}

void App::draw(float width, float height) {
  begin_frame();
  PanelContext ctx{session_, hl_, view_pid(), *this};
  compact_ = layout_ == Layout::Compact || panels_set_ ||
             (layout_ == Layout::Auto && (width < kFullWidth || height < kFullHeight));
  // Taken before drawing: a show() from a panel drawn below the tabs (the View menu)
  // is for the next frame's tabs, not dropped with this one's.
  front_now_ = front_request_;
  front_request_ = false;
  if (compact_)
    draw_compact(width, height, ctx);
  else
    draw_full(width, height, ctx);
  shown_targets_.swap(targets_);
  targets_.clear();
}

// Full: the shell and the timeline (with processes, files, stats as tabs) on the left;
// the address space across the top right; page tables and frames side by side below it,
// so hovering a VMA lights its PTEs and frames at once.
void App::draw_full(float width, float height, PanelContext& ctx) {
  const float gap = 4.0f;
  const float left_w = std::floor(std::clamp(width * 0.38f, 360.0f, std::max(360.0f, width - 600.0f)));
  const float shell_h = std::floor(height * 0.58f);
  const float right_x = left_w + gap;
  const float right_w = std::max(width - right_x, 1.0f);
  const float top_h = std::floor(height * 0.44f);
  const float bottom_y = top_h + gap;
  const float bottom_h = std::max(height - bottom_y, 1.0f);
  const float pt_w = std::floor((right_w - gap) * 0.5f);

  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(left_w, shell_h));
  if (ImGui::Begin("Shell  (strace syntax: type a call, Enter runs it)###shell", nullptr,
                   kFixed | ImGuiWindowFlags_MenuBar))
    draw_console(console_, ctx);
  ImGui::End();

  ImGui::SetNextWindowPos(ImVec2(0, shell_h + gap));
  ImGui::SetNextWindowSize(ImVec2(left_w, std::max(height - shell_h - gap, 1.0f)));
  if (ImGui::Begin("###lowerleft", nullptr, kFixed | ImGuiWindowFlags_NoTitleBar)) {
    if (ImGui::BeginTabBar("lowerleft")) {
      const View wanted = front_[1];
      for (View v : kLowerLeft) {
        const ImGuiTabItemFlags f = front_now_ && wanted == v ? ImGuiTabItemFlags_SetSelected : 0;
        const bool open = ImGui::BeginTabItem(view_title(v), nullptr, f);
        mark(std::string("tab ") + view_name(v));
        if (open) {
          front_[1] = v;
          timed_view(v, ctx);
          ImGui::EndTabItem();
        }
      }
      ImGui::EndTabBar();
    }
  }
  ImGui::End();

  ImGui::SetNextWindowPos(ImVec2(right_x, 0));
  ImGui::SetNextWindowSize(ImVec2(right_w, top_h));
  char title[96];
  std::snprintf(title, sizeof title, "Address space of pid %d  (/proc/%d/maps)###vmas", ctx.pid, ctx.pid);
  if (ImGui::Begin(title, nullptr, kFixed)) timed_view(View::AddressSpace, ctx);
  ImGui::End();

  std::snprintf(title, sizeof title, "Page tables of pid %d###pagetables", ctx.pid);
  ImGui::SetNextWindowPos(ImVec2(right_x, bottom_y));
  ImGui::SetNextWindowSize(ImVec2(pt_w, bottom_h));
  if (ImGui::Begin(title, nullptr, kFixed)) timed_view(View::PageTables, ctx);
  ImGui::End();

  ImGui::SetNextWindowPos(ImVec2(right_x + pt_w + gap, bottom_y));
  ImGui::SetNextWindowSize(ImVec2(std::max(right_w - pt_w - gap, 1.0f), bottom_h));
  if (ImGui::Begin("Physical frames###frames", nullptr, kFixed)) timed_view(View::Frames, ctx);
  ImGui::End();
}

// Compact (small windows, iframes): every view a tab above, the shell below.
void App::draw_compact(float width, float height, PanelContext& ctx) {
  const float gap = 2.0f;
  // panels= may leave out the shell, or every view.
  const bool draw_views = !panels_set_ || !only_views_.empty();
  const bool shell = !panels_set_ || only_shell_;
  const float views_h = !shell ? height : draw_views ? std::floor(height * 0.58f) : 0.0f;
  if (draw_views) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(width, views_h));
    if (ImGui::Begin("###views", nullptr, kFixed | ImGuiWindowFlags_NoTitleBar)) {
      if (!shell) draw_script_bar();
      if (ImGui::BeginTabBar("views", ImGuiTabBarFlags_FittingPolicyScroll)) {
        const View wanted = front_[0];
        for (View v : kAllViews) {
          if (!view_allowed(v)) continue;
          const ImGuiTabItemFlags f = front_now_ && wanted == v ? ImGuiTabItemFlags_SetSelected : 0;
          char label[64];
          if (v == View::AddressSpace)
            std::snprintf(label, sizeof label, "Address space (pid %d)###%s", ctx.pid, view_name(v));
          else
            std::snprintf(label, sizeof label, "%s###%s", view_title(v), view_name(v));
          const bool open = ImGui::BeginTabItem(label, nullptr, f);
          mark(std::string("tab ") + view_name(v));
          if (open) {
            front_[0] = v;
            timed_view(v, ctx);
            ImGui::EndTabItem();
          }
        }
        ImGui::EndTabBar();
      }
    }
    ImGui::End();
  }
  if (!shell) return;
  const float shell_y = draw_views ? views_h + gap : 0.0f;
  ImGui::SetNextWindowPos(ImVec2(0, shell_y));
  ImGui::SetNextWindowSize(ImVec2(width, std::max(height - shell_y, 1.0f)));
  if (ImGui::Begin("Shell###shell", nullptr, kFixed | ImGuiWindowFlags_MenuBar | ImGuiWindowFlags_NoTitleBar))
    draw_console(console_, ctx);
  ImGui::End();
}

}  // namespace vmplay::web
