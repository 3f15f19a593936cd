// The shell's own commands: processes (use, ps), inspection (pmap, frames, free, ls),
// meta (config, echo, undo, help TOPIC).
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "shell/format.h"
#include "shell/lessons.h"
#include "shell/session.h"

namespace vmplay::shell {

using namespace vmplay::engine;

namespace {

struct HelpTopic {
  const char* name;
  const char* text;
};

// One line of what it does, one example.
constexpr HelpTopic kHelp[] = {
    {"mmap", "map memory: mmap(addr, length, prot, flags, fd, offset)\n  p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"},
    {"munmap", "unmap a range (splitting VMAs): munmap(addr, length)\n  munmap(p, 4096)"},
    {"mprotect", "change protection (splits and merges VMAs): mprotect(addr, length, prot)\n  mprotect(p, 4096, PROT_READ)"},
    {"mremap", "grow, shrink or move a mapping: mremap(addr, old_len, new_len, flags[, new_addr])\n  q = mremap(p, 8192, 16384, MREMAP_MAYMOVE)"},
    {"madvise", "advice: madvise(addr, length, advice); MADV_FREE, COLD, PAGEOUT, WILLNEED and REMOVE\n"
                "work on the LRU lists and swap (help pressure)\n  madvise(p, 8192, MADV_DONTNEED)"},
    {"msync", "write dirty pages of a shared file mapping back: msync(addr, length, flags)\n  msync(s, 4096, MS_SYNC)"},
    {"mlock", "lock pages in memory (faults them in): mlock, mlock2, munlock, mlockall, munlockall\n  mlock(p, 8192)"},
    {"mincore", "which pages are resident, into a buffer: mincore(addr, length, vec)\n  mincore(p, 8192, v)"},
    {"brk", "move the program break (the heap): brk(addr)\n  brk(NULL)"},
    {"fork", "a child sharing private pages copy-on-write: fork()\n  fork()   then   [pid 2] p[0] = 'B'"},
    {"exit", "end a process: exit(status), exit_group(status); reap it with wait4\n  [pid 2] exit(0)"},
    {"wait4", "reap a child that has exited: wait4(pid, NULL, 0, NULL)\n  wait4(-1, NULL, 0, NULL)"},
    {"kill", "send a signal (its default action ends the process): kill(pid, sig)\n  kill(2, SIGTERM)"},
    {"execve", "replace the program (only /home/user/a.out runs): execve(\"path\", argv, envp)\n  execve(\"/home/user/a.out\", [\"a.out\"], NULL)"},
    {"open", "open a file: open(\"path\", flags[, mode]), openat(AT_FDCWD, \"path\", flags[, mode])\n  fd = open(\"/home/user/words.txt\", O_RDONLY)"},
    {"read", "read into memory at buf (faulting it in): read(fd, buf, count), pread64(..., offset)\n  read(fd, p, 4096)"},
    {"write", "write bytes (an address, or \"the bytes\"): write(fd, buf, count), pwrite64\n  write(1, \"hello\\n\", 6)"},
    {"files", "lseek(fd, off, SEEK_SET), ftruncate(fd, len), fstat(fd, {}), unlink(\"path\"), close(fd),\n"
              "memfd_create(\"name\", 0)\n  ftruncate(fd, 8192)"},
    {"memory", "user-space memory traffic, through the page tables:\n"
               "  p[0] = 'A'   p[0]   *(int *)(p + 8) = 42   *(long *)p\n"
               "  memset(p, 0x41, 8192)   memcpy(q, p, 100)   strcpy(p, \"hi\")\n"
               "  dump(p, 64)   touch(p, 8192, \"w\")"},
    {"cat", "show a file: /proc/PID/maps, smaps, status, oom_score, /proc/meminfo, /proc/vmstat,\n"
            "/proc/swaps, /proc/sys/vm/overcommit_memory, or any file\n  cat /proc/self/smaps"},
    {"walk", "the page-table walk of one address, level by level\n  walk p"},
    {"smaps", "the /proc/PID/smaps entry of the VMA that holds an address\n  smaps p"},
    {"pagemap", "the /proc/PID/pagemap entries of a range, decoded: pagemap(addr, length)\n  pagemap(p, 8192)"},
    {"processes", "use N (run lines as pid N), ps, [pid N] line (one line as pid N)\n  use 2"},
    {"inspect", "pmap [-x] [N], frames (a count by use), frames PFN (one frame: owner, who maps it,\n"
                "its contents), free, ls [dir]\n  frames 0x1a3"},
    {"config", "settings: ram FRAMES, swap SIZE|off, aslr SEED|off (these reset the machine),\n"
               "overcommit 0|1|2 and overcommit_ratio PERCENT (live, like the sysctls),\n"
               "verbosity quiet|faults|all; config KEY=VALUE works too\n  config swap 2M"},
    {"pressure", "when frames run out: kswapd reclaims below the low watermark, page cache is dropped,\n"
                 "anonymous pages go to swap (config swap 2M), and at the end the OOM killer picks the\n"
                 "process with the highest badness. Watch free, cat /proc/vmstat, pagemap(p, 8192);\n"
                 "lesson 14 shows it all, lesson 15 overcommit and MADV_FREE\n  config swap 2M"},
    {"undo", "the timeline: every line that changed the machine is a step. undo steps back one,\n"
             "redo forward one, goto N returns to the state after step N, timeline lists the steps;\n"
             "a new line after an undo drops the steps that were ahead\n  undo"},
    {"expressions", "numbers 4096 0x1000 010 4K 2M 1G, 'c', \"strings\", variables, _ (the last result),\n"
                    "PAGE_SIZE, constants; operators | ^ & << >> + - * / % ~ and ( )\n  n = 2 * PAGE_SIZE"},
    {"replay", "paste lines of `strace -f` output: pids are mapped, <unfinished ...> lines joined,\n"
               "unmodelled calls skipped; each recorded result is compared with vmplay's\n"
               "  4613  mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fc0000"},
    {"reset", "a fresh machine (pid 1 runs a.out again)\n  reset"},
    {"lessons", "the lesson library: lessons lists them, lesson N runs one from a fresh machine\n  lesson 5"},
};

std::string kb(uint64_t pages) { return std::to_string(pages * 4); }

}  // namespace

const Lesson* find_lesson(std::string_view word) {
  const std::string w(word);
  char* end = nullptr;
  long n = std::strtol(w.c_str(), &end, 10);
  if (!w.empty() && end && !*end && n >= 1 && static_cast<size_t>(n) <= kLessonCount) return &kLessons[n - 1];
  for (size_t i = 0; i < kLessonCount; ++i)
    if (kLessons[i].name == word || kLessons[i].name.substr(3) == word) return &kLessons[i];
  return nullptr;
}

std::string lesson_title(const Lesson& l) {
  // The first sentence of the opening narration, which may run over several # lines.
  std::string title;
  std::string_view t = l.text;
  while (t.rfind("# ", 0) == 0) {
    size_t nl = t.find('\n');
    std::string_view line = t.substr(2, nl == std::string_view::npos ? std::string_view::npos : nl - 2);
    if (!title.empty()) title += ' ';
    title += line;
    size_t stop = title.find(". ");
    if (stop != std::string::npos) return title.substr(0, stop);
    if (!title.empty() && title.back() == '.') {
      title.pop_back();
      return title;
    }
    if (nl == std::string_view::npos) break;
    t.remove_prefix(nl + 1);
  }
  return title.empty() ? std::string(l.name) : title;
}

// Where a command's i-th word is, for the caret; the command name when unknown.
static Span word_span(const Stmt& st, size_t i) {
  if (i == 1 && st.word_spans.size() == 1 && !st.words.empty()) {
    // KEY=VALUE: the value is the part of word 0 after the '='.
    size_t eq = st.words[0].find('=');
    if (eq != std::string::npos) {
      Span s = st.word_spans[0];
      s.begin += static_cast<uint32_t>(eq + 1);
      return s;
    }
  }
  return i < st.word_spans.size() ? st.word_spans[i] : st.target_span;
}

void Session::run_help(const Stmt& st, Output& out) {
  if (st.words.empty()) {
    std::string topics;
    for (const auto& t : kHelp) topics += std::string(topics.empty() ? "" : " ") + t.name;
    out.lines.push_back({LineKind::Text, help_text()});
    out.lines.push_back({LineKind::Text, "help TOPIC for more, one of: " + topics});
    return;
  }
  std::string topic = st.words[0];
  // Aliases: a call's name finds its family.
  static const std::pair<const char*, const char*> kAliases[] = {
      {"openat", "open"}, {"pread64", "read"}, {"pwrite64", "write"}, {"lseek", "files"}, {"ftruncate", "files"},
      {"fstat", "files"}, {"unlink", "files"}, {"close", "files"}, {"memfd_create", "files"}, {"mlock2", "mlock"},
      {"munlock", "mlock"}, {"mlockall", "mlock"}, {"munlockall", "mlock"}, {"exit_group", "exit"},
      {"use", "processes"}, {"redo", "undo"}, {"goto", "undo"}, {"timeline", "undo"}, {"ps", "processes"}, {"pmap", "inspect"}, {"frames", "inspect"}, {"free", "inspect"},
      {"ls", "inspect"}, {"dump", "memory"}, {"memset", "memory"}, {"memcpy", "memory"}, {"strcpy", "memory"},
      {"touch", "memory"}, {"vfork", "fork"}, {"clone", "fork"}, {"swap", "pressure"}, {"oom", "pressure"},
      {"reclaim", "pressure"}, {"overcommit", "config"}};
  for (const auto& [alias, target] : kAliases)
    if (topic == alias) topic = target;
  for (const auto& t : kHelp) {
    if (topic == t.name) {
      out.lines.push_back({LineKind::Text, t.text});
      return;
    }
  }
  std::vector<std::string> names;
  for (const auto& t : kHelp) names.push_back(t.name);
  auto guess = closest(topic, names);
  refuse(out, "no help on '" + st.words[0] + "'" + (guess ? "; did you mean " + *guess + "?" : ""), word_span(st, 0));
}

void Session::run_command(const Stmt& st, Pid pid, Output& out) {
  const std::string& cmd = st.target;
  std::vector<std::string> w = st.words;  // a copy: config KEY=VALUE splits its word
  auto text = [&](const std::string& s) { out.lines.push_back({LineKind::Text, s}); };
  if (cmd == "lessons") {
    for (size_t i = 0; i < kLessonCount; ++i)
      text(std::to_string(i + 1) + (i < 9 ? "  " : " ") + std::string(kLessons[i].name) + "  " +
           lesson_title(kLessons[i]));
    text("lesson N runs one from a fresh machine");
  } else if (cmd == "lesson") {
    if (w.size() != 1) return refuse(out, "lesson takes a number or a name: lesson 3 (lessons lists them)", st.target_span);
    const Lesson* found = find_lesson(w[0]);
    if (!found) return refuse(out, "no lesson '" + w[0] + "' (lessons lists them)", word_span(st, 0));
    // From a fresh machine, line by line, each echoed as it would be typed. On the
    // timeline it is a reset followed by its lines, so undo steps back through them.
    const auto last_before = last_;
    reset();
    if (!replaying_ && !starting_) record("reset()", "lesson " + std::string(found->name) + ": a fresh machine", last_before);
    out.lines.push_back({LineKind::Note, "lesson " + std::string(found->name) + " (from a fresh machine)"});
    std::string_view t = found->text;
    while (!t.empty()) {
      size_t nl = t.find('\n');
      std::string line(t.substr(0, nl));
      t = nl == std::string_view::npos ? std::string_view() : t.substr(nl + 1);
      Output o = exec(line);
      bool comment = !o.lines.empty() && o.lines[0].kind == LineKind::Comment;
      if (!line.empty() && !comment) out.lines.push_back({LineKind::Input, "> " + line});
      for (auto& l : o.lines) out.lines.push_back(std::move(l));
      if (!o.ok) break;
    }
  } else if (cmd == "echo") {
    text(w.empty() ? "" : w[0]);
  } else if (cmd == "use") {
    if (w.size() != 1) return refuse(out, "use takes a process id: use 2", st.target_span);
    auto mapped = typed_pid(w[0]);
    if (!mapped) return refuse(out, "use takes a process id (a number from 1, as ps shows), got '" + w[0] + "'", word_span(st, 0));
    const Process* p = kernel_.process(*mapped);
    if (!p) return refuse(out, "no process with pid " + w[0], word_span(st, 0));
    if (p->state != ProcState::Running) return refuse(out, "process " + w[0] + " has exited", word_span(st, 0));
    current_ = *mapped;
    out.lines.push_back({LineKind::Note, "lines now run as pid " + std::to_string(current_)});
  } else if (cmd == "ps") {
    text("  PID  PPID STATE   VSZ(kB)  RSS(kB) COMM");
    for (Pid id : kernel_.pids()) {
      const Process* p = kernel_.process(id);
      char buf[160];
      std::string state = p->state == ProcState::Running ? (id == current_ ? "R *" : "R") : "Z";
      std::snprintf(buf, sizeof buf, "%5d %5d %-5s %9" PRIu64 " %8" PRIu64 " %s", id, p->ppid, state.c_str(),
                    p->mm.total_vm * 4, p->mm.rss() * 4, p->comm.c_str());
      text(buf);
    }
  } else if (cmd == "pmap") {
    bool extended = !w.empty() && w[0] == "-x";
    Pid target = pid;
    if (w.size() > (extended ? 1u : 0u)) {
      auto mapped = typed_pid(w.back());
      if (!mapped) return refuse(out, "pmap takes a process id (a number from 1, as ps shows), got '" + w.back() + "'", word_span(st, w.size() - 1));
      if (!kernel_.process(*mapped)) return refuse(out, "no process with pid " + w.back(), word_span(st, w.size() - 1));
      target = *mapped;
    }
    const Process* p = kernel_.process(target);
    if (!p || p->state != ProcState::Running) return refuse(out, "pmap: process " + std::to_string(target) + " is not running", st.target_span);
    text(std::to_string(target) + ":   " + p->comm);
    if (extended) text("Address           Kbytes     RSS   Dirty Mode  Mapping");
    uint64_t total = 0, total_rss = 0, total_dirty = 0;
    for (const auto& [s, v] : p->mm.vmas) {
      uint64_t rss = 0, dirty = 0;
      for (uint64_t a = v.start; a < v.end; a += kPageSize) {
        auto e = kernel_.pagemap_entry(target, a);
        if (e && (*e >> 63)) {
          Walk wk = kernel_.walk(target, a);
          if (wk.reached_pte && !(wk.pte() & _PAGE_SPECIAL)) {
            ++rss;
            if (wk.pte() & _PAGE_DIRTY) ++dirty;
          }
        }
      }
      std::string name = kernel_.vma_name(*p, v);
      if (name.empty()) name = "[ anon ]";
      else if (name[0] == '[') name = "[ " + name.substr(1, name.size() - 2) + " ]";
      else name = name.substr(name.rfind('/') + 1);
      char mode[6] = {(v.flags & VM_READ) ? 'r' : '-', (v.flags & VM_WRITE) ? 'w' : '-', (v.flags & VM_EXEC) ? 'x' : '-',
                      (v.flags & VM_MAYSHARE) ? 's' : '-', '-', 0};
      char buf[200];
      if (extended)
        std::snprintf(buf, sizeof buf, "%016" PRIx64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %s %s", v.start,
                      v.pages() * 4, rss * 4, dirty * 4, mode, name.c_str());
      else
        std::snprintf(buf, sizeof buf, "%016" PRIx64 " %6" PRIu64 "K %s %s", v.start, v.pages() * 4, mode, name.c_str());
      text(buf);
      total += v.pages();
      total_rss += rss;
      total_dirty += dirty;
    }
    char buf[160];
    if (extended) {
      text("---------------- ------- ------- ------- ");
      std::snprintf(buf, sizeof buf, "total kB         %7" PRIu64 " %7" PRIu64 " %7" PRIu64, total * 4, total_rss * 4,
                    total_dirty * 4);
    } else {
      std::snprintf(buf, sizeof buf, " total %15" PRIu64 "K", total * 4);
    }
    text(buf);
  } else if (cmd == "frames" && !w.empty()) {
    // One frame: what it is, who maps it, its contents.
    if (w.size() != 1) return refuse(out, "frames takes one frame number: frames 0x1a3", word_span(st, 1));
    char* end = nullptr;
    unsigned long long n = std::strtoull(w[0].c_str(), &end, 0);
    if (w[0].empty() || !end || *end || w[0][0] == '-')
      return refuse(out, "frames wants a frame number (pfn), got '" + w[0] + "'", word_span(st, 0));
    if (n >= kernel_.phys().total())
      return refuse(out, "no frame " + w[0] + ": RAM has frames 0 to " + hex(kernel_.phys().total() - 1), word_span(st, 0));
    const Pfn pfn{n};
    const auto mappers = kernel_.mappers(pfn);
    std::vector<std::string> lines = describe_frame(kernel_, pfn, &mappers);
    std::vector<std::string> reclaim = describe_frame_reclaim(kernel_, pfn);
    lines.insert(lines.begin() + 3, reclaim.begin(), reclaim.end());  // after the flags
    for (auto& l : lines) text(l);
    const PageData& data = kernel_.phys().frame(pfn).data;
    text(data.empty() ? "contents: all zeros (never written)" : "contents:");
    if (!data.empty())
      for (auto& l : hexdump_page(data, n << PAGE_SHIFT)) text(l);
  } else if (cmd == "frames") {
    uint64_t count[8] = {};
    for (const Frame& f : kernel_.phys().frames()) ++count[static_cast<size_t>(f.owner)];
    const char* names[] = {"free", "reserved", "zero page", "page tables", "anonymous", "page cache", "shmem", "vDSO"};
    std::string line = std::to_string(kernel_.phys().total()) + " frames (" +
                       std::to_string(kernel_.phys().total() * 4) + " kB):";
    for (size_t i = 0; i < 8; ++i) line += std::string(i ? "," : "") + " " + std::to_string(count[i]) + " " + names[i];
    text(line);
  } else if (cmd == "free") {
    // procps free, in KiB, from the kernel's counts (available = free + page cache).
    uint64_t total = 0, free_pages = kernel_.phys().free_count(), cache = 0, shmem = 0;
    for (const Frame& f : kernel_.phys().frames()) {
      if (f.owner == FrameOwner::Reserved || f.owner == FrameOwner::ZeroPage || f.owner == FrameOwner::Vdso) continue;
      ++total;
      if (f.owner == FrameOwner::File || f.owner == FrameOwner::Shmem) ++cache;
      if (f.owner == FrameOwner::Shmem) ++shmem;
    }
    char buf[200];
    text("               total        used        free      shared  buff/cache   available");
    std::snprintf(buf, sizeof buf, "Mem:      %10s  %10s  %10s  %10s  %10s  %10s", kb(total).c_str(),
                  kb(total - free_pages - cache).c_str(), kb(free_pages).c_str(), kb(shmem).c_str(), kb(cache).c_str(),
                  kb(free_pages + cache - shmem).c_str());
    text(buf);
    const SwapArea& sw = kernel_.swap();
    std::snprintf(buf, sizeof buf, "Swap:     %10s  %10s  %10s", kb(sw.total()).c_str(), kb(sw.used()).c_str(),
                  kb(sw.free()).c_str());
    text(buf);
  } else if (cmd == "ls") {
    std::string dir = w.empty() ? "/" : w[0];
    size_t shown = 0;
    for (const auto& [key, ino] : kernel_.inodes()) {
      if (ino.unlinked || ino.kind != InodeKind::Regular || ino.path.rfind(dir, 0) != 0) continue;
      char buf[200];
      std::snprintf(buf, sizeof buf, "%10" PRIu64 " %10" PRIu64 "  %-52s %3zu cached", ino.ino, ino.size, ino.path.c_str(),
                    ino.cache.size());
      text(buf);
      ++shown;
    }
    if (!shown) return refuse(out, "ls: no files under " + dir, word_span(st, 0));
  } else if (cmd == "config") {
    if (w.empty()) {
      const char* verb = cfg_.verbosity == Verbosity::Quiet ? "quiet" : cfg_.verbosity == Verbosity::All ? "all" : "faults";
      text("ram " + std::to_string(kernel_.phys().total()) + " frames (" + std::to_string(kernel_.phys().total() * 4) +
           " kB)");
      text("swap " + (kernel_.swap().total() ? std::to_string(cfg_.kernel.swap_pages * 4) + "K (" +
                                                  std::to_string(kernel_.swap().total()) + " slots after the header page)"
                                            : std::string("off")));
      text("overcommit " + std::to_string(cfg_.kernel.overcommit_memory) + " (vm.overcommit_memory), overcommit_ratio " +
           std::to_string(cfg_.kernel.overcommit_ratio));
      text("aslr " + (cfg_.kernel.aslr_seed ? std::to_string(*cfg_.kernel.aslr_seed) : std::string("off")));
      text(std::string("verbosity ") + verb);
      return;
    }
    // config KEY=VALUE is config KEY VALUE.
    if (w.size() == 1 && w[0].find('=') != std::string::npos) {
      std::string kv = w[0];
      w = {kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1)};
    }
    const char* kUsage = "config KEY VALUE (or KEY=VALUE): ram FRAMES, swap SIZE|off, overcommit 0|1|2, "
                         "overcommit_ratio PERCENT, aslr SEED|off, verbosity quiet|faults|all";
    if (w.size() != 2) return refuse(out, kUsage, st.target_span);
    if (w[0] == "overcommit" || w[0] == "overcommit_ratio") {
      // sysctl vm.overcommit_memory / vm.overcommit_ratio: the running machine changes.
      char* end = nullptr;
      unsigned long long n = std::strtoull(w[1].c_str(), &end, 10);
      bool mode = w[0] == "overcommit";
      if (w[1].empty() || !end || *end || w[1][0] == '-' || (mode && n > 2) || (!mode && n > 100000))
        return refuse(out, mode ? "overcommit is 0 (heuristic), 1 (always) or 2 (never), not '" + w[1] + "'"
                                : "overcommit_ratio wants a percentage of RAM (0 to 100000), not '" + w[1] + "'",
                      word_span(st, 1));
      if (mode) cfg_.kernel.overcommit_memory = static_cast<int>(n);
      else cfg_.kernel.overcommit_ratio = n;
      kernel_.set_overcommit(cfg_.kernel.overcommit_memory, cfg_.kernel.overcommit_ratio);
      records_ = true;
      out.lines.push_back({LineKind::Note, "vm." + std::string(mode ? "overcommit_memory" : "overcommit_ratio") + " = " +
                                               w[1] + " (CommitLimit " + std::to_string(kernel_.commit_limit() * 4) +
                                               " kB)"});
      return;
    }
    if (w[0] == "verbosity") {
      if (w[1] == "quiet") cfg_.verbosity = Verbosity::Quiet;
      else if (w[1] == "faults") cfg_.verbosity = Verbosity::Faults;
      else if (w[1] == "all") cfg_.verbosity = Verbosity::All;
      else return refuse(out, "verbosity is quiet, faults or all, not '" + w[1] + "'", word_span(st, 1));
      out.lines.push_back({LineKind::Note, "verbosity " + w[1]});
      return;
    }
    if (w[0] == "ram" || w[0] == "aslr" || w[0] == "swap") {
      SessionConfig next = cfg_;
      if (w[0] == "swap") {
        auto pages = parse_swap_size(w[1]);
        if (!pages)
          return refuse(out, "swap wants a size such as 16M or 512K (at most 256M, in whole 4 KiB pages), or off; got '" +
                                 w[1] + "'", word_span(st, 1));
        next.kernel.swap_pages = *pages;
      } else if (w[0] == "ram") {
        char* end = nullptr;
        unsigned long long n = std::strtoull(w[1].c_str(), &end, 0);
        if (!end || *end || n < PhysMem::kMinFrames || n > 65536)
          return refuse(out, "ram wants a number of 4 KiB frames from " + std::to_string(PhysMem::kMinFrames) +
                                 " to 65536, got '" + w[1] + "'", word_span(st, 1));
        next.kernel.phys.frames = n;
      } else if (w[1] == "off") {
        next.kernel.aslr_seed.reset();
      } else {
        char* end = nullptr;
        unsigned long long seed = std::strtoull(w[1].c_str(), &end, 0);
        if (!end || *end) return refuse(out, "aslr wants a seed (a number) or off, got '" + w[1] + "'", word_span(st, 1));
        next.kernel.aslr_seed = seed;
      }
      cfg_ = next;
      reset();
      records_ = true;
      out.lines.push_back({LineKind::Note, "machine reset with " + w[0] + " " + w[1]});
      return;
    }
    return refuse(out, "unknown setting '" + w[0] + "' (ram, swap, overcommit, overcommit_ratio, aslr, verbosity)",
                  word_span(st, 0));
  } else if (cmd == "undo" || cmd == "redo" || cmd == "goto") {
    const size_t last = timeline_.size() - 1;
    size_t to = pos_;
    if (cmd == "goto") {
      if (w.size() != 1) return refuse(out, "goto takes a step of the timeline: goto 3 (timeline lists them)", st.target_span);
      char* end = nullptr;
      unsigned long long n = std::strtoull(w[0].c_str(), &end, 10);
      if (w[0].empty() || !end || *end || w[0][0] == '-')
        return refuse(out, "goto wants a step number, got '" + w[0] + "'", word_span(st, 0));
      if (n > last)
        return refuse(out, "no step " + w[0] + ": the timeline has steps 0 to " + std::to_string(last), word_span(st, 0));
      to = static_cast<size_t>(n);
    } else if (!w.empty()) {
      return refuse(out, cmd + " takes nothing after it", word_span(st, 0));
    } else if (cmd == "undo") {
      if (pos_ == 0) return refuse(out, "nothing to undo: this is the start of the timeline", st.target_span);
      to = pos_ - 1;
    } else {
      if (pos_ == last) return refuse(out, "nothing to redo: this is the newest step of the timeline", st.target_span);
      to = pos_ + 1;
    }
    const std::string undone = timeline_[pos_].label;
    go_to(to, out);
    if (!out.lines.empty()) return;  // the replay failed and said so
    if (cmd == "undo")
      out.lines.push_back({LineKind::Note, "undone: " + undone});
    else
      out.lines.push_back({LineKind::Note, "at step " + std::to_string(pos_) + " of " + std::to_string(last) + ": " +
                                               timeline_[pos_].label});
  } else if (cmd == "timeline") {
    // Long sessions: the steps around the current one.
    const size_t from = pos_ > 40 ? pos_ - 40 : 0, to = std::min(timeline_.size(), pos_ + 41);
    if (from > 0) text("  ... " + std::to_string(from) + " earlier steps");
    for (size_t i = from; i < to; ++i) {
      const TimelineEntry& e = timeline_[i];
      std::string row = (i == pos_ ? "> " : "  ") + std::to_string(i) + "  " + e.label;
      if (e.event_count) row += "   (" + std::to_string(e.event_count) + " events)";
      text(row);
    }
    if (to < timeline_.size()) text("  ... " + std::to_string(timeline_.size() - to) + " later steps");
    text("goto N returns to the state after step N; undo and redo step one at a time");
  }
}

}  // namespace vmplay::shell
