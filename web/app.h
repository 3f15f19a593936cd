// web/: the ImGui front end. Draws engine state and shell output; never changes the
// engine directly: every action becomes a shell line run through App::exec (style rule 10).
//
// App holds the Session, one state struct per panel, and what the panels share: what
// the last command touched and what the pointer is over, so hovering one thing
// highlights its counterparts in the other panels.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shell/session.h"
#include "web/panel_console.h"
#include "web/panel_frames.h"
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

  // ---- hover as shown this frame (last frame's writes) ----
  bool shown_vma = false;
  uint64_t shown_vma_start = 0;
  bool shown_frame = false;
  uint64_t shown_pfn = 0;

  // Frames mapped by the shown VMA (per pfn), cached: rebuilt only when the hovered VMA
  // or the session changes, so hovering does not allocate every frame.
  std::vector<uint8_t> frame_of_vma;
  bool frame_of_vma_valid = false;
  uint64_t frame_of_vma_key = 0;
  uint64_t frame_of_vma_gen = 0;
};

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

 private:
  void begin_frame();
  void after_exec();
  void update_frames_of_vma();

  shell::Session session_;
  shell::Output last_;
  Highlight hl_;
  ConsolePanel console_;
  VmaPanel vmas_;
  FramePanel frames_;
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
