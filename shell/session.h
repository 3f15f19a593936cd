// shell/: strace-syntax language. Knows the engine's types, nothing of drawing.
// A Session owns a simulated kernel and runs lines against it.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/kernel.h"
#include "shell/parser.h"

namespace vmplay::shell {

enum class LineKind : uint8_t {
  Input,    // a line that was run, echoed ("> p[0] = 1"): only from commands that run others
  Result,   // a system call in strace form with its result, or a load's value
  Event,    // --- page fault: ... ---
  Signal,   // --- kSigSegv {...} --- and +++ killed by ... +++
  Text,     // file contents (cat), help
  Comment,  // narration
  Note,     // a remark of vmplay's own (a recorded result that differs, ...)
  Error,    // the line was refused; nothing changed
};

struct OutLine {
  LineKind kind = LineKind::Text;
  std::string text;
};

struct Output {
  std::vector<OutLine> lines;
  bool ok = true;                 // false when the line was refused
  std::optional<Span> error_span; // where in the input the error is
  std::string error_message;      // the error without its "error: column N: " prefix
  // All lines joined with '\n', each ending in '\n'.
  std::string text() const;
};

enum class Verbosity : uint8_t {
  Quiet,   // results and signals only
  Faults,  // and every page fault and page-cache summary (the default)
  All,     // and every event: frames, PTEs, VMAs, page tables, page cache
};

struct SessionConfig {
  engine::KernelConfig kernel;
  Verbosity verbosity = Verbosity::Faults;
  // true: pid 1 runs /home/user/a.out, started as on this machine (execve, then the
  // dynamic loader's calls). false: pid 1 has an empty address space.
  bool program = true;
  // Replaying a log: put mappings where the log says they were (mmap at the recorded
  // address with MAP_FIXED), so later lines that name those addresses line up.
  bool follow_recorded = false;
  // Undo snapshots copy the machine; above this many VMAs (all processes together) lines
  // leave none, so that a loop of thousands of mmaps stays linear. undo says why.
  size_t undo_vma_limit = 4096;
};

// One step of the session's timeline: a line that changed the machine (or the process
// lines run as), what it did, and the machine's memory use after it. Entry 0 is the
// start. undo, redo and goto move along the timeline; a new line after an undo drops
// the steps that were ahead.
struct TimelineEntry {
  std::string line;   // what runs again to redo it
  std::string label;  // what the timeline shows: the line, or "lesson 3: from a fresh machine"
  engine::Pid pid = 0;  // the process it ran as
  std::optional<uint64_t> last_before;  // `_` before it ran (a shown value is not a step)
  std::vector<engine::Event> events;  // the first kMaxTimelineEvents of them
  uint64_t event_count = 0;
  // Counted through the whole session up to and including this line.
  uint64_t faults_minor = 0;  // faults that needed no I/O (copy-on-write ones included)
  uint64_t faults_major = 0;  // faults that read a page from disk
  uint64_t faults_cow = 0;    // faults that copied a page
  uint64_t signals = 0;       // SIGSEGV and SIGBUS delivered
  // The machine's /proc/vmstat counters since it booted (a reset starts them again).
  uint64_t swap_outs = 0;     // pages sent to swap (pswpout + swpout_zero: pages of zeros are only noted)
  uint64_t swap_ins = 0;      // pages brought back (pswpin + swpin_zero)
  uint64_t reclaimed = 0;     // pages reclaimed by kswapd and direct reclaim (pgsteal_*)
  uint64_t oom_kills = 0;     // processes the OOM killer chose
  // After the line.
  std::vector<std::pair<engine::Pid, uint64_t>> rss;  // resident pages of every process
  uint64_t free_frames = 0;
  uint64_t cache_pages = 0;  // page cache and shmem
  uint64_t swap_used = 0;    // swap slots in use
};

class Session {
 public:
  static constexpr size_t kMaxTimelineEvents = 4096;
  static constexpr size_t kMaxOutputLines = 20000;  // lines of output one line may print
  explicit Session(SessionConfig cfg = {});

  // Runs one line. A refused line (parse error, unknown name, ...) changes nothing.
  Output exec(std::string_view line);

  const engine::Kernel& kernel() const { return kernel_; }
  engine::Pid current_pid() const { return current_; }
  const std::map<std::string, uint64_t>& variables() const { return vars_; }
  // The events the last exec() produced, for highlighting what changed.
  const std::vector<engine::Event>& last_events() const { return last_events_; }
  uint64_t lines_run() const { return lines_run_; }
  // The timeline and where the machine stands on it (an index into it).
  const std::vector<TimelineEntry>& timeline() const { return timeline_; }
  size_t timeline_pos() const { return pos_; }
  // The steps with a copy of the machine kept, from which undo and goto replay.
  std::vector<size_t> checkpoint_steps() const;
  // The lines that rebuild the current state from a fresh page: the steps since the last
  // reset (with the ram and aslr settings before it), one per line. Empty at the start.
  std::string script() const;
  // The address and pid of the last `walk` line that ran (the page-table panel shows
  // that walk, redone against the machine as it is now).
  struct WalkRequest {
    engine::Pid pid = 0;
    uint64_t addr = 0;
  };
  const std::optional<WalkRequest>& last_walk() const { return last_walk_; }

  // The state as JSON: processes with their VMAs, frames, variables.
  std::string state_json() const;

  static std::string help_text();
  // What Tab completes: calls (is_call: complete with "("), commands, shell words,
  // constants, /proc paths. Variables come from variables().
  struct Word {
    std::string text;
    bool is_call;
  };
  static std::vector<Word> words();
  // Renders an error for a terminal: the line, a caret under the span, the message.
  static std::string caret_line(const Span& span, size_t indent);

 private:
  struct Eval {
    uint64_t value = 0;
    std::optional<ParseError> error;
  };
  Eval eval(const Expr& e) const;
  void reset();
  void run_call(const Stmt& st, engine::Pid pid, Output& out);
  void run_access(const Stmt& st, engine::Pid pid, Output& out);
  void run_cat(const Stmt& st, engine::Pid pid, Output& out);
  void run_walk(const Stmt& st, engine::Pid pid, Output& out);
  void run_deref(const Stmt& st, engine::Pid pid, Output& out);
  bool run_libc(const Stmt& st, engine::Pid pid, Output& out);
  bool touch_bytes(engine::Pid pid, uint64_t addr, uint64_t n, engine::Access kind, const uint8_t* src,
                   std::vector<uint8_t>* got);
  void append_events(Output& out, engine::Pid pid, bool tag);
  void refuse(Output& out, std::string msg, Span span);
  bool replay_prefilter(std::string_view line, Output& out, std::string& joined);
  void run_command(const Stmt& st, engine::Pid pid, Output& out);
  void run_help(const Stmt& st, Output& out);
  // The state after a timeline entry (the engine state is a value; frame contents are
  // shared copy-on-write). goto restores the nearest one at or before the step and
  // replays the lines from there (the engine is deterministic).
  struct Snapshot {
    SessionConfig cfg;
    engine::Kernel kernel;
    engine::Pid current;
    std::map<std::string, uint64_t> vars;
    std::optional<uint64_t> last;
    std::map<std::string, std::string> unfinished;
    std::map<int32_t, engine::Pid> pid_map;
    uint64_t lines_run;
  };
  static constexpr size_t kCheckpointLines = 64;
  static constexpr uint64_t kCheckpointEvents = 512;
  static constexpr size_t kCheckpointNear = 256;  // every checkpoint kept this close to the newest step
  static constexpr size_t kCheckpointFar = 128;   // and one per this many steps before that
  uint64_t events_since_checkpoint_ = 0;
  bool checkpoint_next_ = false;  // a line after an undo keeps a checkpoint
  size_t thinned_ = 0;  // checkpoints up to this step have been thinned
  Snapshot snapshot() const;
  void restore(const Snapshot& s);
  void record(std::string_view line, std::string label, std::optional<uint64_t> last_before);
  void go_to(size_t n, Output& out);
  std::vector<TimelineEntry> timeline_;
  size_t pos_ = 0;
  std::map<size_t, Snapshot> checkpoints_;
  bool records_ = false;    // set by exec_line: the line changes what a replay must redo
  bool replaying_ = false;  // goto is re-running timeline lines
  std::optional<WalkRequest> last_walk_;
  std::optional<engine::Pid> resolve_pid(int32_t pid);
  std::optional<engine::Pid> typed_pid(const std::string& word) const;
  Output exec_line(std::string_view line);

  SessionConfig cfg_;
  engine::Kernel kernel_;
  engine::Pid current_ = 1;
  std::map<std::string, uint64_t> vars_;
  std::optional<uint64_t> last_;  // `_`: the last result
  std::map<std::string, std::string> unfinished_;  // strace "<unfinished ...>" halves, by pid
  std::map<int32_t, engine::Pid> pid_map_;         // pids in a replayed log -> simulated pids
  std::vector<engine::Event> last_events_;
  std::vector<engine::Event> event_buf_;  // the kernel's event log, drained into a reused buffer
  uint64_t lines_run_ = 0;
  bool starting_ = false;  // reset() is running the loader's start-up lines
};

}  // namespace vmplay::shell
