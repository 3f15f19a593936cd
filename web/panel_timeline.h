// web/: the timeline panel. Every step of the session (a line that changed the
// machine) with what it did, grouped per line; a click runs `goto N`, so undo and redo
// go through the shell like everything else.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vmplay::web {

struct PanelContext;

struct TimelinePanel {
  int expanded = -1;          // the step whose events are listed (-1: the current one)
  uint64_t scrolled_for = 0;  // the Highlight generation the list last scrolled for
};

void draw_timeline(TimelinePanel& p, PanelContext& ctx);

// The stats panel: /proc/meminfo's main lines, fault counters through the session,
// and resident memory over the timeline.
struct StatsPanel {
  uint64_t gen = 0;
  std::vector<std::pair<std::string, std::string>> meminfo;  // key, "1234 kB"
  std::vector<float> rss_total, rss_pid, free_kb;             // per step, in KiB
  int pid = -1;
};

void draw_stats(StatsPanel& p, PanelContext& ctx);

}  // namespace vmplay::web
