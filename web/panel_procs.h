// web/: the processes panel (the process tree with state, RSS and VSZ; a click runs
// `use N`) and the files panel (every inode with its page cache: cached and dirty
// pages, mappings, open files; a file opens to its cached pages, each to its frame).
//
// Both panels rebuild their rows once per command (Highlight::generation) and draw
// only the visible ones, so 64 processes or thousands of cached pages cost a clipper's
// worth of rows per frame. Every action they offer is a shell line (style rule 10).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/kernel.h"

namespace vmplay::web {

struct PanelContext;

struct ProcessPanel {
  struct Row {
    engine::Pid pid = 0;
    engine::Pid ppid = 0;
    int depth = 0;               // in the tree: 0 for pid 1 and for orphans
    bool has_children = false;
    bool zombie = false;
    bool parent_running = false;  // a zombie's parent could reap it with wait4
    bool orphan = false;          // its parent has been reaped (listed at the top level)
    int32_t exit_status = 0;
    int32_t exit_signal = 0;
    uint64_t rss_kb = 0, vsz_kb = 0, vmas = 0;
    std::string comm;
    uint8_t changed = 0;  // 0 no, 1 its memory changed, 2 started or exited
    char mark[24] = {};   // "proc N", the name of its row in ui().targets
  };
  std::vector<Row> rows;         // every process, depth first (parent before children)
  std::vector<uint32_t> visible; // indices into rows, without those under a collapsed parent
  std::set<engine::Pid> collapsed;
  uint64_t built_gen = 0;        // the Highlight generation rows were built for
  bool rebuild = true;           // a subtree was collapsed or expanded
  engine::Pid shown = 0;         // the process the panels show
  size_t zombies = 0;
  int max_depth = 0;
  // Characters the widest value of each column after the tree takes (ppid .. command).
  int widths[6] = {};
  std::vector<engine::Pid> reaped;  // pids the last command's wait4 reaped
  // What each process looked like at the previous command, to see what the last changed.
  struct Snap {
    bool zombie = false;
    uint64_t rss = 0, vsz = 0, vmas = 0;
  };
  std::map<engine::Pid, Snap> prev;
  uint64_t prev_gen = 0;
  // The row whose menu is open, and the shell line an action chose (run after drawing).
  engine::Pid menu_pid = 0;
  bool open_menu = false;
  std::string pending;
};

struct FilesPanel {
  struct Row {
    bool page = false;       // a cached page of the file above, not a file
    uint64_t key = 0;        // the kernel's inode key (shmem inodes are offset by 2^32)
    // A file row:
    std::string name;        // the path, " (deleted)" when unlinked
    bool shmem = false;
    uint64_t ino = 0, size = 0, pages = 0, cached = 0, dirty = 0;
    uint32_t mapped = 0, open = 0;
    uint8_t changed = 0;     // 0 no, 1 yes (its cache, size or users changed)
    std::string mark;        // "file PATH"
    // A page row:
    uint32_t file_row = 0;   // the row of its file
    uint64_t index = 0;      // page index in the file
    uint64_t pfn = 0;
    bool page_dirty = false;
  };
  std::vector<Row> rows;          // files in inode order, each open file followed by its pages
  std::set<uint64_t> expanded;    // inode keys whose pages are listed
  uint64_t built_gen = 0;
  bool rebuild = true;
  size_t files = 0;
  // Characters the widest value of each number column takes (bytes, cached, dirty, maps, open).
  int widths[5] = {};
  uint64_t total_cached = 0, total_dirty = 0;
  struct Snap {
    uint64_t size = 0, cached = 0, dirty = 0;
    uint32_t mapped = 0, open = 0;
  };
  std::map<uint64_t, Snap> prev;
  uint64_t prev_gen = 0;
  // For tests: the cached page under the pointer last frame (-1: none).
  int64_t hovered_pfn = -1;
  uint64_t menu_key = 0;
  bool open_menu = false;
  std::string pending;
};

void draw_processes(ProcessPanel& p, PanelContext& ctx);
void draw_files(FilesPanel& p, PanelContext& ctx);
// What the panels show, as JSON objects, for window.vmplay.ui().
std::string processes_ui_json(const ProcessPanel& p);
std::string files_ui_json(const FilesPanel& p);

}  // namespace vmplay::web
