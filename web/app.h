// web/: the ImGui front end. Draws engine state and shell output; never changes the
// engine directly: every action becomes a shell line run through App::exec (style rule 10).
//
// App holds the Session, one state struct per panel, and what the panels share: what
// the last command touched and what the pointer is over, so hovering one thing
// highlights its counterparts in the other panels.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "shell/session.h"
#include "web/panel_console.h"
#include "web/panel_frames.h"
#include "web/panel_pagetables.h"
#include "web/panel_procs.h"
#include "web/panel_swap.h"
#include "web/panel_timeline.h"
#include "web/panel_vmas.h"

namespace vmplay::web {

// Shared highlight state. Panels write `hover_*` while drawing; App::begin_frame moves
// them to `shown_*`, which is what every panel reads (one frame late, invisible).
struct Highlight {
  // ---- what the last command changed (rebuilt after every exec) ----
  std::vector<uint8_t> frame_touched;  // per pfn: 1 when an event of the last line named it
  struct Range {
    uint64_t start = 0;
    uint64_t end = 0;
    bool structural = false;  // the VMA itself changed (insert/split/merge), not just its pages
    engine::Pid pid = 0;
  };
  std::vector<Range> vma_changed;
  // Bumped after every exec: panels key their caches on it.
  uint64_t generation = 1;
  std::vector<engine::Pid> pids;       // every process, as of the last exec

  // ---- hover, written by panels this frame ----
  bool hover_vma = false;
  uint64_t hover_vma_start = 0;
  bool hover_frame = false;
  uint64_t hover_pfn = 0;
  bool hover_slot = false;  // a swap slot (the swap grid, or a swap PTE)
  uint64_t hover_swap_slot = 0;

  // ---- hover as shown this frame (last frame's writes) ----
  bool shown_vma = false;
  uint64_t shown_vma_start = 0;
  bool shown_frame = false;
  uint64_t shown_pfn = 0;
  bool shown_slot = false;
  uint64_t shown_swap_slot = 0;

  // Frames mapped by the shown VMA (per pfn), cached: rebuilt only when the hovered VMA
  // or the session changes, so hovering does not allocate every frame.
  std::vector<uint8_t> frame_of_vma;
  bool frame_of_vma_valid = false;
  uint64_t frame_of_vma_key = 0;
  uint64_t frame_of_vma_gen = 0;
};

// The views a panel window can show; in the compact layout they share one tabbed window.
enum class View : uint8_t { AddressSpace, PageTables, Frames, Swap, Timeline, Processes, Files, Stats };
constexpr int kViewCount = 8;
const char* view_name(View v);   // "vmas", "pagetables", ... (window.vmplay.show)
const char* view_title(View v);  // "Address space", ... (tabs, the View menu)
extern const View kAllViews[kViewCount];

enum class Layout : uint8_t { Auto, Full, Compact };

// How a script given to the page (URL, postMessage) runs: all at once, a line per click
// on Next (its narration first), or only loaded into the input history.
enum class RunMode : uint8_t { All, Step, None };

class App {
 public:
  explicit App(shell::SessionConfig cfg = {});

  // Runs a line exactly as if typed in the console: echoed, run, output logged.
  const shell::Output& exec(std::string_view line);

  // Draws every panel, laid out to fill a display of the given size (in points).
  void draw(float width, float height);

  const shell::Session& session() const { return session_; }
  // What the panels show, as JSON, for tests (window.vmplay.ui()).
  std::string ui_json() const;
  // The pid whose address space the panels show.
  engine::Pid view_pid() const;

  // Layout: Auto picks Compact below kFullWidth x kFullHeight.
  static constexpr float kFullWidth = 1100.0f, kFullHeight = 640.0f;
  void set_layout(Layout l) { layout_ = l; }
  Layout layout() const { return layout_; }
  bool compact() const { return compact_; }  // as laid out last frame
  // Brings a view to the front (its tab, in the compact layout). False: no such view.
  bool show(std::string_view name);
  // Whether the view is a tab the View menu can bring to the front (not always on screen
  // in this layout, nor left out by panels=).
  bool tabbed(View v) const;
  // ---- embedding ----
  // Runs or queues a script. Returns false (with a console message) past the limits.
  static constexpr size_t kMaxScriptLines = 10000, kMaxScriptBytes = size_t{1} << 20;
  bool load_script(std::string_view text, RunMode mode);
  bool load_lesson(std::string_view name, RunMode mode);
  // The queued script (Step): runs comment lines up to and including the next statement.
  void script_next();
  std::string script_reset();  // runs `reset` and rewinds the queue; its output
  // The output of the lines the last load_script ran (RunMode::All).
  const std::string& load_output() const { return load_output_; }
  void draw_script_bar();  // Next and Reset, when a script is queued
  void copy_link();
  // A pasted line: into the console's input, to be edited (see ConsolePanel::pending_paste).
  void paste_line(std::string text) { console_.pending_paste += text; }
  size_t script_pos() const { return queue_next_; }
  void set_script_pos(size_t n) { queue_next_ = std::min(n, queue_.size()); }
  // Only these views (and the shell when `shell`); empty: all. False for an unknown name.
  bool set_panels(std::string_view list);
  void set_light(bool light) { light_ = light; }
  bool light() const { return light_; }
  // A message of the page's own in the console ("page: ...").
  void notice(std::string_view text, bool error);
  std::string log_text() const { return console_.text(); }
  uint64_t generation() const { return hl_.generation + (exec_pending_ ? 1 : 0); }
  // What "Copy link" does with the session's script (the page builds a URL from it).
  std::function<void(const std::string&)> on_copy_link;
  // Whether a mouse wheel at the pointer would scroll something (else the host page may).
  bool wants_wheel() const;

  // Recent frame times (CPU milliseconds spent in draw), for window.vmplay.perf().
  void note_frame_ms(double ms);
  std::string perf_json() const;
  // Big caches (the address-space map, the frames' reverse map) are rebuilt after a
  // command one per frame, so no single frame pays for all of them: true for the first
  // caller in a frame. A cache that may not rebuild yet draws as it was, one frame late.
  // `waited` counts the frames a cache has waited: after two it rebuilds anyway, so a
  // stream of commands cannot starve the last cache in line.
  bool claim_rebuild(int& waited) {
    if (rebuilt_this_frame_ && ++waited <= 2) return false;
    rebuilt_this_frame_ = true;
    waited = 0;
    return true;
  }
  // Names the item just drawn (its screen rectangle goes into ui().targets), so tests
  // and embedding pages can find a button, a tab or a row without fixed coordinates.
  void mark(std::string name);

 private:
  void begin_frame();
  void after_exec();
  bool exec_pending_ = false;
  std::vector<std::string> queue_;  // a script run a line at a time (Next)
  size_t queue_next_ = 0;
  size_t welcome_lines_ = 0;  // the welcome text at the top of the log, until a script replaces it
  std::string load_output_;
  std::vector<View> only_views_;    // panels=: the views shown (empty: all)
  bool only_shell_ = true;          // panels=: whether the shell shows
  bool panels_set_ = false;
  bool light_ = false;
  bool rebuilt_this_frame_ = false;
  void update_frames_of_vma();
  void draw_view(View v, PanelContext& ctx);
  void draw_full(float width, float height, PanelContext& ctx);
  void draw_compact(float width, float height, PanelContext& ctx);
  bool view_allowed(View v) const;

  shell::Session session_;
  shell::Output last_;
  Highlight hl_;
  ConsolePanel console_;
  VmaPanel vmas_;
  FramePanel frames_;
  PageTablePanel pagetables_;
  ProcessPanel processes_;
  FilesPanel files_;
  SwapPanel swap_;
  TimelinePanel timeline_;
  StatsPanel stats_;
  Layout layout_ = Layout::Auto;
  bool compact_ = false;
  View front_[2] = {View::AddressSpace, View::Timeline};  // the selected tab: compact, full's lower-left
  bool front_request_ = false;  // select front_ on the next frame
  bool front_now_ = false;      // ... taken by this frame's tabs
  std::vector<double> frame_ms_;  // a ring of the last kPerfFrames frame times
  double view_ms_[kViewCount + 1] = {};   // per view (and the shell): the slowest recent frame
  void timed_view(View v, PanelContext& ctx);
  size_t frame_next_ = 0;
  uint64_t frames_drawn_ = 0;
  static constexpr size_t kPerfFrames = 120;
  struct Target {
    std::string name;
    float x0, y0, x1, y1;
  };
  std::vector<Target> targets_, shown_targets_;  // this frame's, last frame's
};

// What a panel's draw function gets: the session to read and the shared highlight
// state. `run` is the only way a panel may change anything.
struct PanelContext {
  const shell::Session& session;
  Highlight& hl;
  engine::Pid pid;
  App& app;
};

}  // namespace vmplay::web
