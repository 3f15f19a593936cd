// web/: the timeline panel. Every step of the session (a line that changed the
// machine) with what it did, grouped per line; a click runs `goto N`, so undo and redo
// go through the shell like everything else.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shell/session.h"

namespace vmplay::web {

struct PanelContext;

// What one step did. Swapping, reclaim and OOM kills are exact: the differences of the
// session's counters from the step before (a reset starts them again). The rest is
// counted from the step's kept events (the first Session::kMaxTimelineEvents of them:
// `partial` when some were not kept).
struct StepCounts {
  uint64_t faults = 0, cow = 0, major = 0, alloc = 0, freed = 0, split = 0, merge = 0, vma_new = 0, vma_gone = 0,
           signals = 0, cached = 0;
  uint64_t swap_out = 0, swap_in = 0;  // pages sent to swap, pages brought back
  uint64_t reclaimed = 0;              // by kswapd and direct reclaim (pgsteal)
  uint64_t paged_out = 0;              // reclaimed by MADV_PAGEOUT (not in pgsteal)
  bool kswapd = false, direct = false;  // which reclaim ran
  uint64_t lazy_freed = 0, oom_kills = 0;
  engine::Pid oom_victim = 0;           // the last process the OOM killer chose
  bool partial = false;
};
StepCounts step_counts(const std::vector<shell::TimelineEntry>& tl, size_t i);
// A line about it, memory pressure first: "OOM kill of pid 2, 12 swapped out, 14 reclaimed
// (kswapd), 2 faults (1 COW), 3 frames allocated".
std::string step_summary(const StepCounts& c);

struct TimelinePanel {
  int expanded = -1;          // the step whose events are listed (-1: the current one)
  uint64_t scrolled_for = 0;  // the Highlight generation the list last scrolled for
};

void draw_timeline(TimelinePanel& p, PanelContext& ctx);

// The stats panel: /proc/meminfo's main lines, fault counters through the session,
// swap and reclaim counters (/proc/vmstat), and resident memory over the timeline.
struct StatsPanel {
  uint64_t gen = 0;
  std::vector<std::pair<std::string, std::string>> meminfo;  // key, "1234 kB"
  std::vector<float> rss_total, rss_pid, free_kb, swap_kb;    // per step, in KiB
  int pid = -1;
};

void draw_stats(StatsPanel& p, PanelContext& ctx);

}  // namespace vmplay::web
