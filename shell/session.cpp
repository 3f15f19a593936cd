#include "shell/session.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>

#include "shell/format.h"
#include "shell/startup.h"

namespace vmplay::shell {

using namespace vmplay::engine;

namespace {

struct SyscallInfo {
  const char* name;
  size_t min_args, max_args;
  const char* signature;
  // One letter per argument: n a number, s a "string", b a buffer (an address or a
  // "string" of the bytes themselves), x anything (a {struct} strace printed).
  const char* kinds;
};

constexpr SyscallInfo kSyscalls[] = {
    {"mmap", 6, 6, "mmap(addr, length, prot, flags, fd, offset)", "nnnnnn"},
    {"munmap", 2, 2, "munmap(addr, length)", "nn"},
    {"mprotect", 3, 3, "mprotect(addr, length, prot)", "nnn"},
    {"madvise", 3, 3, "madvise(addr, length, advice)", "nnn"},
    {"mlock", 2, 2, "mlock(addr, length)", "nn"},
    {"mlock2", 3, 3, "mlock2(addr, length, flags)", "nnn"},
    {"munlock", 2, 2, "munlock(addr, length)", "nn"},
    {"mlockall", 1, 1, "mlockall(flags)", "n"},
    {"munlockall", 0, 0, "munlockall()", ""},
    {"mincore", 3, 3, "mincore(addr, length, vec)", "nnx"},
    {"pagemap", 2, 2, "pagemap(addr, length)", "nn"},
    {"mremap", 4, 5, "mremap(addr, old_len, new_len, flags[, new_addr])", "nnnnn"},
    {"msync", 3, 3, "msync(addr, length, flags)", "nnn"},
    {"getpid", 0, 0, "getpid()", ""},
    {"vfork", 0, 0, "vfork()", ""},
    {"clone", 0, 5, "clone(child_stack=NULL, flags=..., ...)", "nnnnn"},
    {"newfstatat", 4, 4, "newfstatat(fd, \"path\", buf, flags)", "nsxn"},
    {"brk", 1, 1, "brk(addr)", "n"},
    {"execve", 1, 3, "execve(\"path\", argv, envp)", "sxx"},
    {"fork", 0, 0, "fork()", ""},
    {"exit_group", 1, 1, "exit_group(status)", "n"},
    {"exit", 1, 1, "exit(status)", "n"},
    {"wait4", 4, 4, "wait4(pid, NULL, 0, NULL)", "nnnn"},
    {"kill", 2, 2, "kill(pid, sig)", "nn"},
    {"open", 2, 3, "open(\"path\", flags[, mode])", "snn"},
    {"openat", 3, 4, "openat(AT_FDCWD, \"path\", flags[, mode])", "nsnn"},
    {"close", 1, 1, "close(fd)", "n"},
    {"read", 3, 3, "read(fd, buf, count)", "nbn"},
    {"write", 3, 3, "write(fd, buf or \"bytes\", count)", "nbn"},
    {"pread64", 4, 4, "pread64(fd, buf, count, offset)", "nbnn"},
    {"pwrite64", 4, 4, "pwrite64(fd, buf or \"bytes\", count, offset)", "nbnn"},
    {"lseek", 3, 3, "lseek(fd, offset, whence)", "nnn"},
    {"ftruncate", 2, 2, "ftruncate(fd, length)", "nn"},
    {"fstat", 2, 2, "fstat(fd, buf)", "nx"},
    {"unlink", 1, 1, "unlink(\"path\")", "s"},
    {"memfd_create", 2, 2, "memfd_create(\"name\", flags)", "sn"},
};

const SyscallInfo* find_syscall(std::string_view name) {
  for (const auto& s : kSyscalls)
    if (name == s.name) return &s;
  return nullptr;
}

std::string known_syscalls() {
  std::string out;
  for (const auto& s : kSyscalls) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}


std::string json_hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "\"0x%" PRIx64 "\"", v);
  return b;
}

std::string char_repr(uint8_t v) {
  if (v >= 0x20 && v < 0x7f) {
    if (v == '\'') return "'\\''";
    if (v == '\\') return "'\\\\'";
    return std::string("'") + static_cast<char>(v) + "'";
  }
  switch (v) {
    case 0: return "'\\0'";
    case '\n': return "'\\n'";
    case '\t': return "'\\t'";
    case '\r': return "'\\r'";
  }
  char b[8];
  std::snprintf(b, sizeof b, "'\\x%02x'", v);
  return b;
}

const char* owner_name(FrameOwner o) {
  switch (o) {
    case FrameOwner::Free: return "free";
    case FrameOwner::Reserved: return "reserved";
    case FrameOwner::ZeroPage: return "zero";
    case FrameOwner::PageTable: return "pagetable";
    case FrameOwner::Anon: return "anon";
    case FrameOwner::File: return "file";
    case FrameOwner::Shmem: return "shmem";
    case FrameOwner::Vdso: return "vdso";
  }
  return "?";
}

}  // namespace

std::string Output::text() const {
  std::string out;
  for (const auto& l : lines) {
    out += l.text;
    out += '\n';
  }
  return out;
}

Session::Session(SessionConfig cfg) : cfg_(cfg), kernel_(cfg.kernel) {
  reset();
  timeline_.clear();
  record("", cfg_.program ? "start: pid 1 runs /home/user/a.out, stopped at main()" : "start: an empty process",
         std::nullopt);
}

Session::Snapshot Session::snapshot() const {
  return {cfg_, kernel_, current_, vars_, last_, unfinished_, pid_map_, lines_run_};
}

void Session::restore(const Snapshot& s) {
  const Verbosity verbosity = cfg_.verbosity;  // a display setting: goto keeps the current one
  cfg_ = s.cfg;
  cfg_.verbosity = verbosity;
  kernel_ = s.kernel;
  current_ = s.current;
  vars_ = s.vars;
  last_ = s.last;
  unfinished_ = s.unfinished;
  pid_map_ = s.pid_map;
  lines_run_ = s.lines_run;
}

std::vector<size_t> Session::checkpoint_steps() const {
  std::vector<size_t> steps;
  for (const auto& entry : checkpoints_) steps.push_back(entry.first);
  return steps;
}

void Session::record(std::string_view line, std::string label, std::optional<uint64_t> last_before) {
  if (pos_ + 1 < timeline_.size()) {
    // A new line after an undo: the steps that were ahead are gone.
    timeline_.resize(pos_ + 1);
    checkpoints_.erase(checkpoints_.upper_bound(pos_), checkpoints_.end());
    thinned_ = std::min(thinned_, pos_);
    checkpoint_next_ = true;  // the next step starts afresh
  }
  TimelineEntry e;
  e.line = std::string(line);
  e.label = std::move(label);
  e.pid = current_;
  e.last_before = last_before;
  if (!timeline_.empty()) {
    const TimelineEntry& prev = timeline_.back();
    e.faults_minor = prev.faults_minor;
    e.faults_major = prev.faults_major;
    e.faults_cow = prev.faults_cow;
    e.signals = prev.signals;
  }
  e.event_count = last_events_.size();
  e.events.assign(last_events_.begin(),
                  last_events_.begin() + static_cast<std::ptrdiff_t>(std::min(last_events_.size(), kMaxTimelineEvents)));
  for (const Event& ev : last_events_) {
    if (ev.kind == EventKind::Signal) ++e.signals;
    if (ev.kind != EventKind::Fault) continue;
    switch (ev.fault) {
      case FaultKind::None:
      case FaultKind::BadArea:
      case FaultKind::AccessError:
      case FaultKind::Oom:
      case FaultKind::SigBus:
        break;
      case FaultKind::FileReadMajor:
        ++e.faults_major;
        break;
      case FaultKind::SwapIn:
        ++(ev.level ? e.faults_major : e.faults_minor);
        break;
      case FaultKind::WpCopy:
      case FaultKind::FileCow:
        ++e.faults_cow;
        ++e.faults_minor;
        break;
      default:
        ++e.faults_minor;
        break;
    }
  }
  size_t vmas = 0;
  for (Pid id : kernel_.pids())
    if (const Process* p = kernel_.process(id)) {
      e.rss.emplace_back(id, p->mm.rss());
      vmas += p->mm.vmas.size();
    }
  e.free_frames = kernel_.phys().free_count();
  for (const auto& [ino, inode] : kernel_.inodes()) e.cache_pages += inode.cache.size();
  const VmEvents& vm = kernel_.vm_events();
  e.swap_outs = vm.pswpout + vm.swpout_zero;
  e.swap_ins = vm.pswpin + vm.swpin_zero;
  e.reclaimed = vm.pgsteal_kswapd + vm.pgsteal_direct;
  e.oom_kills = vm.oom_kill;
  e.swap_used = kernel_.swap().used();
  timeline_.push_back(std::move(e));
  pos_ = timeline_.size() - 1;
  // A checkpoint copies the whole machine; replaying a line usually costs less. So one is
  // taken after entry 0, then once enough has run since the last that the copy is a
  // small part of it: on the default machine 64 lines or 512 events (a memset of a
  // megabyte is worth keeping). A copy costs about one simple line's replay per 1,024
  // frames and per 40 VMAs (measured natively: 250 us for 65,536 frames, 400 us more
  // for 4,000 VMAs), so the interval is eight times that, at least 64 lines: a large
  // machine is copied less often, and going back replays at most that many lines.
  events_since_checkpoint_ += timeline_.back().event_count;
  const size_t since = pos_ - (checkpoints_.empty() ? 0 : checkpoints_.rbegin()->first);
  const size_t interval =
      std::max<size_t>(kCheckpointLines, static_cast<size_t>(kernel_.phys().total() / 128) + vmas / 5);
  const uint64_t events_interval = kCheckpointEvents * interval / kCheckpointLines;
  if (pos_ == 0 || ((checkpoint_next_ || since >= interval || events_since_checkpoint_ >= events_interval) &&
                    vmas <= cfg_.undo_vma_limit)) {
    checkpoints_.insert_or_assign(pos_, snapshot());  // not [ ]: that would boot a machine first
    events_since_checkpoint_ = 0;
    checkpoint_next_ = false;
  }
  // Far behind the newest step they thin out to about one per kCheckpointFar steps: a
  // checkpoint that falls behind kCheckpointNear goes when the one before it (kept) is in
  // the same bucket of steps. Only those that fell behind since the last line are looked
  // at, so a long session does not walk all its checkpoints on every line.
  for (auto it = checkpoints_.upper_bound(thinned_); it != checkpoints_.end() && it->first + kCheckpointNear < pos_;) {
    thinned_ = it->first;
    if (it != checkpoints_.begin() && std::prev(it)->first / kCheckpointFar == it->first / kCheckpointFar)
      it = checkpoints_.erase(it);
    else
      ++it;
  }
}

std::string Session::script() const {
  // The settings a reset keeps: the machine's RAM, swap, overcommit policy and ASLR.
  // (The page saves the script after every change: no allocation per line here, and the
  // result is built in place at its final size.)
  auto is_config = [](std::string_view l) {
    constexpr std::string_view kConfig = "config ";
    if (l.substr(0, kConfig.size()) != kConfig) return false;
    l.remove_prefix(kConfig.size());
    for (std::string_view key : {"ram", "aslr", "swap", "overcommit", "overcommit_ratio"})
      if (l.size() > key.size() && l.substr(0, key.size()) == key && (l[key.size()] == ' ' || l[key.size()] == '='))
        return true;
    return false;
  };
  auto is_reset = [](std::string_view l) { return l == "reset" || l == "reset()"; };
  size_t from = 1;  // the first step after the last reset
  for (size_t i = pos_; i >= 1; --i)
    if (is_reset(timeline_[i].line) || is_config(timeline_[i].line)) {
      from = i;
      break;
    }
  // The settings a reset keeps come first; a plain reset itself is not needed.
  auto kept = [&](size_t i) {
    if (i < from) return is_config(timeline_[i].line);
    return !(i == from && is_reset(timeline_[i].line));
  };
  size_t bytes = 0;
  for (size_t i = 1; i <= pos_; ++i)
    if (kept(i)) bytes += timeline_[i].line.size() + 1;
  std::string out;
  out.reserve(bytes);
  for (size_t i = 1; i <= pos_; ++i)
    if (kept(i)) out.append(timeline_[i].line).push_back('\n');
  return out;
}

void Session::go_to(size_t n, Output& out) {
  auto it = std::prev(checkpoints_.upper_bound(n));
  restore(it->second);
  replaying_ = true;
  for (size_t i = it->first + 1; i <= n; ++i) {
    last_ = timeline_[i].last_before;
    Output o = exec(timeline_[i].line);
    if (!o.ok) {
      // Cannot happen while the engine is deterministic; say so rather than pretend.
      replaying_ = false;
      pos_ = i - 1;
      timeline_.resize(i);
      out.lines.push_back({LineKind::Error, "error: replaying step " + std::to_string(i) + " (" + timeline_.back().label +
                                                ") failed; the timeline ends before it"});
      return;
    }
  }
  replaying_ = false;
  pos_ = n;
  last_events_ = timeline_[n].events;
}

void Session::reset() {
  kernel_ = Kernel(cfg_.kernel);
  auto pid = kernel_.spawn("a.out");
  current_ = pid.value_or(1);
  if (cfg_.program && pid) {
    (void)kernel_.sys_execve(current_, "/home/user/a.out");
    if (const Process* p = kernel_.process(current_)) {
      vars_["aout"] = p->mm.load_base;
      vars_["ld"] = p->mm.interp_base;
      vars_["stk"] = p->mm.start_stack & PAGE_MASK;
    }
    // The start-up lines leave no undo snapshots (each would copy the whole machine).
    starting_ = true;
    for (size_t i = 0; i < kLoaderStartupLines; ++i) {
      Output o = exec(kLoaderStartup[i]);
      if (!o.ok) break;  // only with too little RAM; the process shows what happened
    }
    starting_ = false;
  }
  kernel_.clear_events();
  vars_.clear();
  last_.reset();
  unfinished_.clear();
  pid_map_.clear();
  last_events_.clear();
  last_walk_.reset();
  lines_run_ = 0;
}

void Session::refuse(Output& out, std::string msg, Span span) {
  out.ok = false;
  out.error_span = span;
  out.error_message = msg;
  out.lines.push_back({LineKind::Error, "error: column " + std::to_string(span.begin + 1) + ": " + msg});
}

std::string Session::caret_line(const Span& span, size_t indent) {
  std::string s(indent + span.begin, ' ');
  size_t n = span.end > span.begin ? span.end - span.begin : 1;
  s.append(n, '^');
  return s;
}

Session::Eval Session::eval(const Expr& e) const {
  switch (e.kind) {
    case Expr::Kind::Number:
    case Expr::Kind::Char:
      return {e.number, std::nullopt};
    case Expr::Kind::String:
      return {0, ParseError{"a string cannot be used as a number here", e.span}};
    case Expr::Kind::Struct:
      return {0, ParseError{"a {struct} cannot be used as a number here", e.span}};
    case Expr::Kind::Name: {
      if (e.name == "_") {
        if (!last_) return {0, ParseError{"'_' is the last result, and there is none yet", e.span}};
        return {*last_, std::nullopt};
      }
      auto v = vars_.find(e.name);
      if (v != vars_.end()) return {v->second, std::nullopt};
      if (auto c = constant_value(e.name)) return {*c, std::nullopt};
      std::vector<std::string> names = constant_names();
      for (const auto& [n, val] : vars_) names.push_back(n);
      if (auto guess = closest(e.name, names))
        return {0, ParseError{"unknown name '" + e.name + "'; did you mean " + *guess + "?", e.span}};
      return {0, ParseError{"unknown name '" + e.name + "' (not a variable, not a PROT_/MAP_ constant)", e.span}};
    }
    case Expr::Kind::Neg: {
      Eval k = eval(e.kids[0]);
      if (k.error) return k;
      return {~k.value + 1, std::nullopt};
    }
    case Expr::Kind::Not: {
      Eval k = eval(e.kids[0]);
      if (k.error) return k;
      return {~k.value, std::nullopt};
    }
    case Expr::Kind::Binary: {
      Eval a = eval(e.kids[0]);
      if (a.error) return a;
      Eval b = eval(e.kids[1]);
      if (b.error) return b;
      switch (e.op) {
        case '|': return {a.value | b.value, std::nullopt};
        case '^': return {a.value ^ b.value, std::nullopt};
        case '&': return {a.value & b.value, std::nullopt};
        case '+': return {a.value + b.value, std::nullopt};
        case '-': return {a.value - b.value, std::nullopt};
        case '*': return {a.value * b.value, std::nullopt};
        case 'L': return {b.value >= 64 ? 0 : a.value << b.value, std::nullopt};
        case 'R': return {b.value >= 64 ? 0 : a.value >> b.value, std::nullopt};
        case '/':
        case '%':
          if (b.value == 0) return {0, ParseError{"division by zero", e.kids[1].span}};
          return {e.op == '/' ? a.value / b.value : a.value % b.value, std::nullopt};
        default: break;
      }
      return {0, ParseError{"unknown operator", e.span}};
    }
  }
  return {0, ParseError{"bad expression", e.span}};
}

bool Session::replay_prefilter(std::string_view line, Output& out, std::string& joined) {
  // Lines of a strace log that are not calls, and calls strace split in two.
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  std::string pid_text;
  size_t rest_at = i;
  if (line.substr(i, 5) == "[pid ") {
    size_t close = line.find(']', i);
    if (close != std::string_view::npos) {
      pid_text = std::string(line.substr(i + 5, close - i - 5));
      rest_at = close + 1;
    }
  } else {
    size_t j = i;
    while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i && j < line.size() && line[j] == ' ') {
      pid_text = std::string(line.substr(i, j - i));
      rest_at = j;
    }
  }
  while (rest_at < line.size() && line[rest_at] == ' ') ++rest_at;
  std::string_view rest = line.substr(rest_at);
  while (!pid_text.empty() && pid_text.front() == ' ') pid_text.erase(pid_text.begin());
  if (rest.rfind("---", 0) == 0 || rest.rfind("+++", 0) == 0) {
    // What the kernel reported in the log: shown, not acted on.
    out.lines.push_back({LineKind::Comment, "# log: " + std::string(line.substr(i))});
    return true;
  }
  constexpr std::string_view kUnfinished = "<unfinished ...>";
  if (rest.size() >= kUnfinished.size() && rest.substr(rest.size() - kUnfinished.size()) == kUnfinished) {
    std::string part(rest.substr(0, rest.size() - kUnfinished.size()));
    while (!part.empty() && part.back() == ' ') part.pop_back();
    unfinished_[pid_text] = part;
    records_ = true;  // the resumed line needs it
    out.lines.push_back({LineKind::Note, "(unfinished in the log: runs when its resumed line comes)"});
    return true;
  }
  if (rest.rfind("<... ", 0) == 0) {
    size_t close = rest.find('>');
    auto it = unfinished_.find(pid_text);
    if (close == std::string_view::npos || it == unfinished_.end()) {
      refuse(out, "a resumed line without the unfinished call it belongs to", Span{0, static_cast<uint32_t>(line.size())});
      return true;
    }
    std::string prefix = pid_text.empty() ? "" : "[pid " + pid_text + "] ";
    joined = prefix + it->second + std::string(rest.substr(close + 1));
    unfinished_.erase(it);
  }
  return false;
}

std::optional<Pid> Session::resolve_pid(int32_t pid) {
  // A pid typed by a user names a simulated process; one from a log (e.g. 4613) is
  // mapped: the first one seen is the current process, later ones are fork results.
  if (kernel_.process(pid) && !pid_map_.count(pid)) return pid;
  if (auto it = pid_map_.find(pid); it != pid_map_.end()) return it->second;
  if (pid_map_.empty() && pid > 64) {
    pid_map_[pid] = current_;
    return current_;
  }
  return std::nullopt;
}

std::optional<Pid> Session::typed_pid(const std::string& word) const {
  // A pid typed as a command's argument: a simulated pid, or one a pasted log mapped.
  // Unlike a log line's prefix it never creates a mapping.
  char* end = nullptr;
  long long n = std::strtoll(word.c_str(), &end, 10);
  if (word.empty() || !end || *end || n <= 0 || n > INT32_MAX) return std::nullopt;
  if (auto it = pid_map_.find(static_cast<int32_t>(n)); it != pid_map_.end()) return it->second;
  return static_cast<Pid>(n);
}

Output Session::exec(std::string_view line) {
  // A refused line changes nothing, including which log pids map to which process
  // and the unfinished call a resumed line would have completed.
  auto pid_map_before = pid_map_;
  auto unfinished_before = unfinished_;
  const bool records_outer = records_;
  const auto last_before = last_;
  records_ = false;
  Output out = exec_line(line);
  const bool records = records_;
  records_ = records_outer;
  if (!out.ok) {
    pid_map_ = std::move(pid_map_before);
    unfinished_ = std::move(unfinished_before);
  } else if (records && !starting_ && !replaying_) {
    record(line, std::string(line), last_before);
  }
  return out;
}

Output Session::exec_line(std::string_view line) {
  Output out;
  std::string joined;
  if (replay_prefilter(line, out, joined)) return out;
  if (!joined.empty()) {
    // The two halves joined run as one line; an error's columns are mapped back to the
    // line as typed (a column in the unfinished half points at the resumed marker).
    const size_t marker = line.find("<... ");
    const size_t tail_at = line.find('>', marker) + 1;
    const size_t head = joined.size() - (line.size() - tail_at);
    Output o = exec_line(joined);
    if (!o.ok && o.error_span) {
      Span& sp = *o.error_span;
      auto map = [&](uint32_t c) { return static_cast<uint32_t>(c - head + tail_at); };
      sp = sp.begin >= head ? Span{map(sp.begin), map(sp.end)}
                            : Span{static_cast<uint32_t>(marker), static_cast<uint32_t>(tail_at)};
      for (auto& l : o.lines)
        if (l.kind == LineKind::Error)
          l.text = "error: column " + std::to_string(sp.begin + 1) + ": " + o.error_message;
    }
    return o;
  }
  ParseResult pr = parse_line(line);
  if (pr.error) {
    refuse(out, pr.error->message, pr.error->span);
    return out;
  }
  Stmt& st = *pr.stmt;
  last_events_.clear();

  if (st.pid) {
    auto mapped = resolve_pid(*st.pid);
    if (!mapped) {
      refuse(out, "no process with pid " + std::to_string(*st.pid), Span{0, static_cast<uint32_t>(line.size())});
      return out;
    }
    st.pid = *mapped;
  }
  Pid pid = st.pid.value_or(current_);
  bool is_reset = st.kind == Stmt::Kind::CallStmt && st.call->name == "reset";
  bool needs_process = (st.kind == Stmt::Kind::CallStmt && !is_reset) || st.kind == Stmt::Kind::Walk ||
                       st.kind == Stmt::Kind::Deref || st.kind == Stmt::Kind::Load ||
                       st.kind == Stmt::Kind::Store ||
                       (st.kind == Stmt::Kind::Assign && st.call.has_value());
  if (needs_process || st.pid) {
    const Process* p = kernel_.process(pid);
    if (!p) {
      refuse(out, st.pid ? "no process with pid " + std::to_string(pid)
                         : "the current process, pid " + std::to_string(pid) +
                               ", is gone: 'use N' picks another (ps lists them), 'reset' starts over",
             Span{0, static_cast<uint32_t>(line.size())});
      return out;
    }
    if (p->state != ProcState::Running) {
      std::string how = p->exit_signal ? std::string("was killed by ") + signal_name(p->exit_signal)
                                       : "has exited";
      refuse(out, "process " + std::to_string(pid) + " " + how + "; type 'reset' to start a new one",
             Span{0, static_cast<uint32_t>(line.size())});
      return out;
    }
  }

  // Lines that may change the machine, or the process lines run as, go on the timeline
  // (config ram/aslr and use say so themselves; lesson records its own lines).
  records_ = !(st.kind == Stmt::Kind::Empty || st.kind == Stmt::Kind::Comment || st.kind == Stmt::Kind::Help ||
               st.kind == Stmt::Kind::Walk || st.kind == Stmt::Kind::Eval ||
               (st.kind == Stmt::Kind::Command && st.target != "use"));
  switch (st.kind) {
    case Stmt::Kind::Empty:
      break;
    case Stmt::Kind::Comment:
      out.lines.push_back({LineKind::Comment, "# " + st.text});
      break;
    case Stmt::Kind::Help:
      run_help(st, out);
      break;
    case Stmt::Kind::Command:
      run_command(st, pid, out);
      break;
    case Stmt::Kind::Cat:
      run_cat(st, pid, out);
      break;
    case Stmt::Kind::Walk:
      run_walk(st, pid, out);
      break;
    case Stmt::Kind::CallStmt:
      run_call(st, pid, out);
      break;
    case Stmt::Kind::Assign:
      if (st.call) {
        if (st.call->name == "reset" || st.call->name == "help") {
          refuse(out, "'" + st.call->name + "' gives no value to assign", st.call->name_span);
          break;
        }
        run_call(st, pid, out);
      } else {
        Eval v = eval(*st.value);
        if (v.error) {
          refuse(out, v.error->message, v.error->span);
          break;
        }
        if (constant_value(st.target)) {
          refuse(out, "'" + st.target + "' is a constant and cannot be assigned", st.target_span);
          break;
        }
        vars_[st.target] = v.value;
        last_ = v.value;
        out.lines.push_back({LineKind::Result, st.target + " = " + hex(v.value)});
      }
      break;
    case Stmt::Kind::Eval: {
      Eval v = eval(*st.value);
      if (v.error) {
        refuse(out, v.error->message, v.error->span);
        break;
      }
      last_ = v.value;
      out.lines.push_back({LineKind::Result, "= " + hex(v.value) + " (" + std::to_string(v.value) + ")"});
      break;
    }
    case Stmt::Kind::Load:
    case Stmt::Kind::Store:
      run_access(st, pid, out);
      break;
    case Stmt::Kind::Deref:
      run_deref(st, pid, out);
      break;
  }
  // Showing a file is a step only when it read pages into the page cache.
  if (st.kind == Stmt::Kind::Cat && last_events_.empty()) records_ = false;
  if (out.ok) ++lines_run_;
  if (out.lines.size() > kMaxOutputLines) {
    size_t cut = out.lines.size() - kMaxOutputLines;
    out.lines.resize(kMaxOutputLines);
    out.lines.push_back({LineKind::Note, "(" + std::to_string(cut) + " more lines not shown: the limit is " +
                                             std::to_string(kMaxOutputLines) + " lines of output per line run)"});
  }
  return out;
}

void Session::run_call(const Stmt& st, Pid pid, Output& out) {
  const Call& c = *st.call;
  const uint64_t seq0 = kernel_.event_seq();
  if (c.name == "reset" && c.args.empty() && st.kind == Stmt::Kind::CallStmt) {
    reset();
    out.lines.push_back({LineKind::Note, "machine reset: pid " + std::to_string(current_) +
                                             (cfg_.program ? " runs /home/user/a.out, stopped at main()"
                                                           : " has an empty address space")});
    return;
  }
  if (run_libc(st, pid, out)) return;
  const SyscallInfo* info = find_syscall(c.name);
  if (!info && st.recorded.present) {
    // A line of a log: calls the engine does not model are passed over, not refused.
    std::string tag = st.pid ? "[pid " + std::to_string(pid) + "] " : "";
    out.lines.push_back({LineKind::Note, tag + "skipped: " + c.name + "() is not modelled by vmplay"});
    return;
  }
  if (!info) {
    std::vector<std::string> names;
    for (const auto& sc : kSyscalls) names.push_back(sc.name);
    if (auto guess = closest(c.name, names)) {
      refuse(out, "unknown system call '" + c.name + "'; did you mean " + *guess + "?", c.name_span);
      return;
    }
    refuse(out, "unknown system call '" + c.name + "' (vmplay knows: " + known_syscalls() + ")", c.name_span);
    return;
  }
  if (c.args.size() < info->min_args || c.args.size() > info->max_args) {
    std::string want = info->min_args == info->max_args
                           ? std::to_string(info->min_args)
                           : std::to_string(info->min_args) + " or " + std::to_string(info->max_args);
    refuse(out, c.name + " takes " + want + " argument" + (info->max_args == 1 ? "" : "s") + ", got " +
                    std::to_string(c.args.size()) + ": " + info->signature,
           c.span);
    return;
  }
  std::vector<uint64_t> a(info->max_args, 0);
  std::vector<std::optional<std::string>> strs(info->max_args);
  for (size_t i = 0; i < c.args.size(); ++i) {
    const Expr& e = c.args[i];
    char kind = info->kinds[i];
    if (e.kind == Expr::Kind::String) {
      if (kind == 's' || kind == 'b') {
        strs[i] = e.name;
        continue;
      }
      refuse(out, "argument " + std::to_string(i + 1) + " of " + c.name + " is a number or an address, not a string",
             e.span);
      return;
    }
    if (e.kind == Expr::Kind::Struct) {
      if (kind == 'x') continue;
      refuse(out, "a {struct} or [array] is only accepted where strace prints one (fstat's buffer, execve's argv and envp)",
             e.span);
      return;
    }
    if (kind == 's') {
      refuse(out, "argument " + std::to_string(i + 1) + " of " + c.name + " is a \"string\" in double quotes",
             e.span);
      return;
    }
    Eval v = eval(e);
    if (v.error) {
      refuse(out, v.error->message, v.error->span);
      return;
    }
    a[i] = v.value;
  }
  if (!st.target.empty() && constant_value(st.target)) {
    refuse(out, "'" + st.target + "' is a constant and cannot be assigned", st.target_span);
    return;
  }

  std::string text;
  SysResult r;
  bool pointer = false;
  bool follow = cfg_.follow_recorded && st.recorded.present && !st.recorded.negative && !st.recorded.unknown;
  if (c.name == "mmap") {
    MmapArgs m{a[0], a[1], a[2], a[3], static_cast<int64_t>(a[4]), a[5]};
    if (follow && st.recorded.value != a[0]) {
      m.addr = st.recorded.value;  // --follow-recorded: where the log says it went
      m.flags |= MAP_FIXED;
    }
    r = kernel_.sys_mmap(pid, m);
    pointer = true;
    text = "mmap(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ", " + format_prot(a[2]) +
           ", " + format_map_flags(a[3]) + ", " + std::to_string(static_cast<int32_t>(a[4])) + ", " +
           hex(a[5]) + ")";
  } else if (c.name == "munmap") {
    r = kernel_.sys_munmap(pid, a[0], a[1]);
    text = "munmap(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ")";
  } else if (c.name == "mprotect") {
    r = kernel_.sys_mprotect(pid, a[0], a[1], a[2]);
    text = "mprotect(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ", " + format_prot(a[2]) + ")";
  } else if (c.name == "madvise") {
    auto advice = static_cast<int64_t>(static_cast<int32_t>(a[2]));
    if (madvise_behavior_valid(advice) && !madvise_behavior_modelled(advice)) {
      refuse(out, format_madvise(a[2]) + " is valid Linux advice that vmplay does not model yet "
                  "(modelled: NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED, FREE, REMOVE, DONTFORK, "
                  "DOFORK, DONTDUMP, DODUMP, WIPEONFORK, KEEPONFORK, COLD, PAGEOUT)", c.args[2].span);
      return;
    }
    r = kernel_.sys_madvise(pid, a[0], a[1], advice);
    text = "madvise(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ", " + format_madvise(a[2]) + ")";
  } else if (c.name == "mremap") {
    if (follow && st.recorded.value != a[0] && (a[3] & MREMAP_MAYMOVE))
      r = kernel_.sys_mremap(pid, a[0], a[1], a[2], a[3] | MREMAP_FIXED, st.recorded.value);
    else
      r = kernel_.sys_mremap(pid, a[0], a[1], a[2], a[3], a[4]);
    pointer = true;
    text = "mremap(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ", " + std::to_string(a[2]) + ", " +
           format_mremap_flags(a[3]) + (c.args.size() > 4 ? ", " + format_pointer(a[4]) : std::string()) + ")";
  } else if (c.name == "mlock" || c.name == "mlock2" || c.name == "munlock") {
    Sysno which = c.name == "mlock" ? Sysno::mlock : c.name == "mlock2" ? Sysno::mlock2 : Sysno::munlock;
    r = kernel_.sys_mlock(pid, a[0], a[1], which == Sysno::mlock2 ? a[2] : 0, which);
    text = c.name + "(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) +
           (which == Sysno::mlock2 ? ", " + format_mlock2_flags(a[2]) : std::string()) + ")";
  } else if (c.name == "mlockall") {
    r = kernel_.sys_mlockall(pid, a[0]);
    text = "mlockall(" + format_mlockall_flags(a[0]) + ")";
  } else if (c.name == "munlockall") {
    r = kernel_.sys_munlockall(pid);
    text = "munlockall()";
  } else if (c.name == "mincore") {
    if (c.args[2].kind == Expr::Kind::Struct) {
      refuse(out, "mincore needs the address of a buffer for its vector (the [...] is what strace printed)",
             c.args[2].span);
      return;
    }
    std::vector<uint8_t> vec;
    r = kernel_.sys_mincore(pid, a[0], a[1], a[2], &vec);
    std::string shown = hex(a[2]);
    if (r.is_ok()) {
      shown = "[";
      for (size_t i = 0; i < vec.size() && i < 64; ++i) shown += (i ? ", " : "") + std::to_string(vec[i] & 1);
      if (vec.size() > 64) shown += ", ...";
      shown += "]";
    }
    text = "mincore(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ", " + shown + ")";
  } else if (c.name == "pagemap") {
    // Not a system call: what a program would read from /proc/PID/pagemap, decoded.
    uint64_t start = a[0] & PAGE_MASK;
    uint64_t pages = (page_align(a[0] + a[1]) - start) >> PAGE_SHIFT;
    if (pages > 512) {
      refuse(out, "pagemap shows at most 512 pages (2 MiB) at a time; asked for " + std::to_string(pages), c.span);
      return;
    }
    out.lines.push_back({LineKind::Text, "/proc/" + std::to_string(pid) + "/pagemap, " + std::to_string(pages) +
                                             (pages == 1 ? " page" : " pages") + " from " + hex(start) + ":"});
    for (uint64_t i = 0; i < pages; ++i) {
      uint64_t addr = start + i * kPageSize;
      uint64_t e = kernel_.pagemap_entry(pid, addr).value_or(0);
      bool mapped = kernel_.process(pid)->mm.vma_at(addr) != nullptr;
      out.lines.push_back({LineKind::Text, format_pagemap_entry(addr, e, mapped)});
    }
    append_events(out, pid, st.pid.has_value());
    return;
  } else if (c.name == "msync") {
    r = kernel_.sys_msync(pid, a[0], a[1], a[2]);
    text = "msync(" + format_pointer(a[0]) + ", " + std::to_string(a[1]) + ", " + format_msync_flags(a[2]) + ")";
  } else if (c.name == "open" || c.name == "openat") {
    size_t o = c.name == "openat" ? 1 : 0;
    int64_t dirfd = o ? static_cast<int64_t>(static_cast<int32_t>(a[0])) : AT_FDCWD_;
    const std::string& path = *strs[o];
    uint64_t flags = a[o + 1], mode = c.args.size() > o + 2 ? a[o + 2] : 0;
    r = kernel_.sys_openat(pid, dirfd, path, flags, mode);
    text = c.name + "(" + (o ? format_dirfd(dirfd) + ", " : std::string()) + format_string(path, path.size()) +
           ", " + format_open_flags(flags) + ((flags & O_CREAT_) ? ", " + format_mode(mode) : std::string()) + ")";
  } else if (c.name == "close") {
    r = kernel_.sys_close(pid, static_cast<int32_t>(a[0]));
    text = "close(" + std::to_string(static_cast<int32_t>(a[0])) + ")";
  } else if (c.name == "read" || c.name == "pread64") {
    bool p64 = c.name == "pread64";
    // A log shows the bytes read, not where they went: read them nowhere.
    bool sink = strs[1].has_value();
    IoResult io = p64 ? kernel_.sys_pread64(pid, static_cast<int32_t>(a[0]), a[1], a[2], a[3], sink)
                      : kernel_.sys_read(pid, static_cast<int32_t>(a[0]), a[1], a[2], sink);
    r = io.r;
    std::string shown = r.is_ok() ? format_string(std::string(io.data.begin(), io.data.end()), 32) : hex(a[1]);
    text = c.name + "(" + std::to_string(static_cast<int32_t>(a[0])) + ", " + shown + ", " + std::to_string(a[2]) +
           (p64 ? ", " + std::to_string(static_cast<int64_t>(a[3])) : std::string()) + ")";
  } else if (c.name == "write" || c.name == "pwrite64") {
    bool p64 = c.name == "pwrite64";
    std::vector<uint8_t> bytes;
    if (strs[1]) bytes.assign(strs[1]->begin(), strs[1]->end());
    const std::vector<uint8_t>* lit = strs[1] ? &bytes : nullptr;
    r = p64 ? kernel_.sys_pwrite64(pid, static_cast<int32_t>(a[0]), a[1], a[2], a[3], lit)
            : kernel_.sys_write(pid, static_cast<int32_t>(a[0]), a[1], a[2], lit);
    // The bytes shown are the ones the program handed over, as strace shows them
    // (read after the call, when copy_from_user has faulted the buffer in).
    std::string shown;
    if (strs[1]) {
      shown = format_string(std::string(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(
                                                             std::min<uint64_t>(a[2], bytes.size()))), 32);
    } else if (auto got = kernel_.peek(pid, a[1], std::min<uint64_t>(a[2], 33))) {
      shown = format_string(std::string(got->begin(), got->end()), 32);
    } else {
      shown = hex(a[1]);
    }
    text = c.name + "(" + std::to_string(static_cast<int32_t>(a[0])) + ", " + shown + ", " + std::to_string(a[2]) +
           (p64 ? ", " + std::to_string(static_cast<int64_t>(a[3])) : std::string()) + ")";
  } else if (c.name == "lseek") {
    r = kernel_.sys_lseek(pid, static_cast<int32_t>(a[0]), static_cast<int64_t>(a[1]), static_cast<int64_t>(a[2]));
    text = "lseek(" + std::to_string(static_cast<int32_t>(a[0])) + ", " + std::to_string(static_cast<int64_t>(a[1])) +
           ", " + format_whence(a[2]) + ")";
  } else if (c.name == "ftruncate") {
    r = kernel_.sys_ftruncate(pid, static_cast<int32_t>(a[0]), static_cast<int64_t>(a[1]));
    text = "ftruncate(" + std::to_string(static_cast<int32_t>(a[0])) + ", " + std::to_string(static_cast<int64_t>(a[1])) + ")";
  } else if (c.name == "fstat") {
    StatResult stat;
    r = kernel_.sys_fstat(pid, static_cast<int32_t>(a[0]), &stat);
    text = "fstat(" + std::to_string(static_cast<int32_t>(a[0])) + ", " +
           (r.is_ok() ? format_stat(stat.mode, stat.size) : hex(a[1])) + ")";
  } else if (c.name == "unlink") {
    r = kernel_.sys_unlink(pid, *strs[0]);
    text = "unlink(" + format_string(*strs[0], strs[0]->size()) + ")";
  } else if (c.name == "memfd_create") {
    r = kernel_.sys_memfd_create(pid, *strs[0], a[1]);
    text = "memfd_create(" + format_string(*strs[0], strs[0]->size()) + ", " + format_mfd_flags(a[1]) + ")";
  } else if (c.name == "brk") {
    r = kernel_.sys_brk(pid, a[0]);
    pointer = true;
    text = "brk(" + format_pointer(a[0]) + ")";
  } else if (c.name == "execve") {
    if (!st.target.empty()) {
      refuse(out, "execve does not return on success, so there is nothing to assign", st.target_span);
      return;
    }
    std::string path = *strs[0];
    if (st.recorded.present && !st.recorded.negative && path != "/home/user/a.out") {
      // A log's program: vmplay knows one ELF layout, a.out's, and runs that instead.
      out.lines.push_back({LineKind::Note, "note: vmplay runs /home/user/a.out in place of " + path});
      path = "/home/user/a.out";
    }
    r = kernel_.sys_execve(pid, path);
    text = "execve(" + format_string(path, path.size()) + ", [" + format_string(path, path.size()) + "], NULL)";
  } else if (c.name == "getpid") {
    r = kernel_.sys_getpid(pid);
    text = "getpid()";
  } else if (c.name == "fork" || c.name == "vfork" || c.name == "clone") {
    // clone without CLONE_VM is a fork; a thread (CLONE_VM) is not modelled.
    constexpr uint64_t kCloneVm = 0x100, kCloneThread = 0x10000;  // CLONE_VM, CLONE_THREAD
    uint64_t flags = c.name == "clone" && c.args.size() > 1 ? a[1] : 0;
    if (flags & (kCloneVm | kCloneThread)) {
      out.lines.push_back({LineKind::Note, "skipped: clone() of a thread (CLONE_VM) is not modelled by vmplay"});
      return;
    }
    r = kernel_.sys_fork(pid);
    text = c.name == "clone" ? "clone(child_stack=NULL, flags=" + format_clone_flags(flags) + ")" : c.name + "()";
    // A log's child pid now names the new process.
    if (st.recorded.present && !st.recorded.negative && r.is_ok())
      pid_map_[static_cast<int32_t>(st.recorded.value)] = static_cast<Pid>(r.value);
  } else if (c.name == "newfstatat") {
    constexpr uint64_t kAtEmptyPath = 0x1000;  // AT_EMPTY_PATH
    StatResult stat;
    if (strs[1]->empty() && (a[3] & kAtEmptyPath)) {
      r = kernel_.sys_fstat(pid, static_cast<int32_t>(a[0]), &stat);
    } else {
      r = kernel_.lookup(*strs[1]) ? SysResult::ok(0) : SysResult::fail(Errno::NoEnt);
      if (auto ino = kernel_.lookup(*strs[1])) {
        const Inode* n = kernel_.inode(*ino);
        stat = {n->mode | S_IFREG_, n->size, n->ino};
      }
    }
    text = "newfstatat(" + format_dirfd(static_cast<int64_t>(static_cast<int32_t>(a[0]))) + ", " +
           format_string(*strs[1], strs[1]->size()) + ", " +
           (r.is_ok() ? format_stat(stat.mode, stat.size) : hex(a[2])) + ", " +
           ((a[3] & kAtEmptyPath) ? "AT_EMPTY_PATH" : hex(a[3])) + ")";
  } else if (c.name == "exit_group" || c.name == "exit") {
    if (!st.target.empty()) {
      refuse(out, c.name + " does not return, so there is nothing to assign", st.target_span);
      return;
    }
    auto status = static_cast<int32_t>(a[0]);
    kernel_.sys_exit_group(pid, status);
    std::string tag = st.pid ? "[pid " + std::to_string(pid) + "] " : "";
    out.lines.push_back({LineKind::Result, tag + c.name + "(" + std::to_string(status) + ") = ?"});
    append_events(out, pid, st.pid.has_value());
    return;
  } else if (c.name == "wait4") {
    auto target = static_cast<Pid>(static_cast<int32_t>(a[0]));
    if (auto it = pid_map_.find(target); it != pid_map_.end()) target = it->second;
    if (a[1] != 0 || a[2] != 0 || a[3] != 0) {
      refuse(out, "wait4 takes NULL, 0, NULL after the pid here (no status, options or rusage)",
             c.args[1].span);
      return;
    }
    auto res = kernel_.sys_wait4(pid, target);
    if (!res) {
      refuse(out, "wait4 would block: the child is still running (end it with [pid N] exit(0) or kill first)",
             c.span);
      return;
    }
    r = *res;
    text = "wait4(" + std::to_string(target) + ", NULL, 0, NULL)";
  } else {
    auto target = static_cast<Pid>(static_cast<int32_t>(a[0]));
    if (auto it = pid_map_.find(target); it != pid_map_.end()) target = it->second;
    auto sig = static_cast<int32_t>(a[1]);
    r = kernel_.sys_kill(pid, target, sig);
    std::string sname = signal_name(sig);
    text = "kill(" + std::to_string(target) + ", " + (sname == "SIG?" ? std::to_string(sig) : sname) + ")";
  }
  std::string tag = st.pid ? "[pid " + std::to_string(pid) + "] " : "";
  out.lines.push_back({LineKind::Result, tag + text + format_result(r, pointer)});
  if (!r.is_ok() && r.err == Errno::NoMem) {
    // Say when the overcommit policy was the reason.
    const auto& why = kernel_.last_commit_refusal();
    if (why && why->seq >= seq0) {
      auto kb = [](uint64_t pages) { return std::to_string(pages * 4) + " kB"; };
      out.lines.push_back(
          {LineKind::Note,
           why->mode == 0 ? "note: overcommit mode 0 refuses a charge of " + kb(why->pages) + ", more than RAM + swap (" +
                                kb(why->limit) + "); MAP_NORESERVE, config overcommit 1 or more ram/swap would allow it"
                          : "note: overcommit mode 2: Committed_AS " + kb(why->committed) + " + " + kb(why->pages) +
                                " would pass the limit of " + kb(why->limit) +
                                " (CommitLimit less the admin and user reserves)"});
    }
  }
  if (!st.target.empty()) vars_[st.target] = r.c_value();
  last_ = r.c_value();

  if (st.recorded.present) {
    bool rec_ok = !st.recorded.negative;
    uint64_t rec_val = st.recorded.negative ? ~st.recorded.value + 1 : st.recorded.value;
    // Pids in a log are the real ones: compare them through the mapping.
    bool returns_pid = c.name == "fork" || c.name == "vfork" || c.name == "clone" || c.name == "wait4";
    if (returns_pid && rec_ok) {
      if (auto it = pid_map_.find(static_cast<int32_t>(rec_val)); it != pid_map_.end())
        rec_val = static_cast<uint64_t>(it->second);
    }
    bool same = rec_ok ? (r.is_ok() && r.value == rec_val)
                       : (!r.is_ok() && (st.recorded.errno_name.empty() ||
                                         st.recorded.errno_name == errno_name(r.err)));
    if (!same && !st.recorded.unknown) {
      std::string rec = st.recorded.negative ? "-" + std::to_string(st.recorded.value)
                        : pointer ? hex(st.recorded.value) : std::to_string(st.recorded.value);
      if (!st.recorded.errno_name.empty()) rec += " " + st.recorded.errno_name;
      std::string sim = r.is_ok() ? (pointer ? hex(r.value) : std::to_string(static_cast<int64_t>(r.value)))
                                  : std::string("-1 ") + errno_name(r.err);
      out.lines.push_back({LineKind::Note, "note: recorded " + rec + ", simulated " + sim});
    }
  }
  append_events(out, pid, st.pid.has_value());
}

void Session::run_access(const Stmt& st, Pid pid, Output& out) {
  auto base = vars_.find(st.target);
  if (base == vars_.end()) {
    refuse(out, "unknown variable '" + st.target + "' (assign it first, e.g. " + st.target +
                    " = mmap(...))",
           st.target_span);
    return;
  }
  Eval idx = eval(*st.index);
  if (idx.error) {
    refuse(out, idx.error->message, idx.error->span);
    return;
  }
  uint8_t byte = 0;
  if (st.kind == Stmt::Kind::Store) {
    Eval v = eval(*st.value);
    if (v.error) {
      refuse(out, v.error->message, v.error->span);
      return;
    }
    bool fits = v.value <= 0xff || v.value >= ~uint64_t{0x7f};  // 0..255 or -128..-1
    if (!fits) {
      refuse(out, "value " + std::to_string(static_cast<int64_t>(v.value)) +
                      " does not fit in one byte (use 0..255, -128..-1 or a 'c'haracter)",
             st.value->span);
      return;
    }
    byte = static_cast<uint8_t>(v.value);
  }
  uint64_t addr = base->second + idx.value;
  AccessResult r = kernel_.access(pid, addr, st.kind == Stmt::Kind::Store ? Access::Write : Access::Read, byte);
  append_events(out, pid, st.pid.has_value());
  if (r.ok && st.kind == Stmt::Kind::Load) {
    last_ = r.value;
    std::string tag = st.pid ? "[pid " + std::to_string(pid) + "] " : "";
    out.lines.push_back({LineKind::Result, tag + st.target + "[" + std::to_string(static_cast<int64_t>(idx.value)) +
                                               "] = " + std::to_string(r.value) + " " + char_repr(r.value)});
  }
}

bool Session::touch_bytes(Pid pid, uint64_t addr, uint64_t n, Access kind, const uint8_t* src,
                          std::vector<uint8_t>* got) {
  // User-space memory traffic, a byte at a time through the MMU: stops when the
  // process dies (SIGSEGV, SIGBUS, OOM).
  for (uint64_t i = 0; i < n; ++i) {
    AccessResult r = kernel_.access(pid, addr + i, kind, src ? src[i] : 0);
    if (!r.ok) return false;
    if (got) got->push_back(r.value);
  }
  return true;
}

void Session::run_deref(const Stmt& st, Pid pid, Output& out) {
  Eval a = eval(*st.index);
  if (a.error) {
    refuse(out, a.error->message, a.error->span);
    return;
  }
  std::string lhs = st.width == 1 && st.type_name == "char" ? "*" + hex(a.value)
                                                             : "*(" + st.type_name + " *)" + hex(a.value);
  if (st.value) {
    Eval v = eval(*st.value);
    if (v.error) {
      refuse(out, v.error->message, v.error->span);
      return;
    }
    uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(v.value >> (8 * i));  // little-endian
    touch_bytes(pid, a.value, st.width, Access::Write, bytes, nullptr);
    append_events(out, pid, st.pid.has_value());
    return;
  }
  std::vector<uint8_t> got;
  bool ok = touch_bytes(pid, a.value, st.width, Access::Read, nullptr, &got);
  append_events(out, pid, st.pid.has_value());
  if (!ok) return;
  uint64_t v = 0;
  for (size_t i = 0; i < got.size(); ++i) v |= static_cast<uint64_t>(got[i]) << (8 * i);
  int bits = st.width * 8;
  std::string shown;
  if (st.is_signed && bits < 64 && (v >> (bits - 1)) & 1) {
    shown = std::to_string(static_cast<int64_t>(v | (~uint64_t{0} << bits)));
  } else {
    shown = st.is_signed ? std::to_string(static_cast<int64_t>(v)) : std::to_string(v);
  }
  last_ = v;
  out.lines.push_back({LineKind::Result, lhs + " = " + shown + " (" + hex(v) + ")"});
}

bool Session::run_libc(const Stmt& st, Pid pid, Output& out) {
  // Library calls that are memory traffic, not system calls: memset, memcpy, strcpy,
  // dump (a hexdump) and touch (one access per page, data unchanged).
  const Call& c = *st.call;
  static const struct {
    const char* name;
    size_t nargs;
    const char* signature;
  } kLibc[] = {{"memset", 3, "memset(dst, byte, n)"}, {"memcpy", 3, "memcpy(dst, src, n)"},
               {"strcpy", 2, "strcpy(dst, \"text\")"}, {"dump", 2, "dump(addr, n)"},
               {"touch", 3, "touch(addr, len, \"r\" | \"w\" | \"x\")"}};
  const auto* info = std::find_if(std::begin(kLibc), std::end(kLibc), [&](const auto& l) { return c.name == l.name; });
  if (info == std::end(kLibc)) return false;
  if (c.args.size() != info->nargs) {
    refuse(out, c.name + " takes " + std::to_string(info->nargs) + " arguments, got " + std::to_string(c.args.size()) +
                    ": " + info->signature, c.span);
    return true;
  }
  std::vector<uint64_t> a;
  std::string text_arg;
  for (size_t i = 0; i < c.args.size(); ++i) {
    const Expr& e = c.args[i];
    bool wants_string = (c.name == "strcpy" && i == 1) || (c.name == "touch" && i == 2);
    if (wants_string) {
      if (e.kind != Expr::Kind::String) {
        refuse(out, "argument " + std::to_string(i + 1) + " of " + c.name + " is a \"string\"", e.span);
        return true;
      }
      text_arg = e.name;
      a.push_back(0);
      continue;
    }
    Eval v = eval(e);
    if (v.error) {
      refuse(out, v.error->message, v.error->span);
      return true;
    }
    a.push_back(v.value);
  }
  if (!st.target.empty()) {
    // memset, memcpy and strcpy return dst, as in C; dump and touch return nothing.
    if (c.name == "dump" || c.name == "touch") {
      refuse(out, "'" + c.name + "' gives no value to assign", c.name_span);
      return true;
    }
    if (constant_value(st.target)) {
      refuse(out, "'" + st.target + "' is a constant and cannot be assigned", st.target_span);
      return true;
    }
  }
  constexpr uint64_t kMaxBytes = 1 << 20, kMaxDump = 4096;
  uint64_t n = c.name == "strcpy" ? text_arg.size() + 1 : a.size() > 2 ? a[2] : a[1];
  if (c.name == "dump" && n > kMaxDump) {
    refuse(out, "dump shows at most 4096 bytes at a time; asked for " + std::to_string(n), c.span);
    return true;
  }
  if (c.name != "touch" && n > kMaxBytes) {
    refuse(out, c.name + " copies at most 1 MiB per line (each byte goes through the MMU); asked for " +
                    std::to_string(n), c.span);
    return true;
  }
  if (c.name == "touch" && text_arg != "r" && text_arg != "w" && text_arg != "x") {
    refuse(out, "touch's mode is \"r\", \"w\" or \"x\"", c.args[2].span);
    return true;
  }
  if (c.name == "touch" && (a[1] >> PAGE_SHIFT) > 65536) {
    refuse(out, "touch covers at most 65536 pages (256 MiB) per line", c.span);
    return true;
  }
  std::string tag = st.pid ? "[pid " + std::to_string(pid) + "] " : "";
  bool ok = true;
  std::string result;
  if (c.name == "memset") {
    std::vector<uint8_t> bytes(static_cast<size_t>(n), static_cast<uint8_t>(a[1]));
    ok = touch_bytes(pid, a[0], n, Access::Write, bytes.data(), nullptr);
    result = "memset(" + hex(a[0]) + ", " + hex(a[1] & 0xff) + ", " + std::to_string(n) + ") = " + hex(a[0]);
  } else if (c.name == "memcpy") {
    std::vector<uint8_t> bytes;
    ok = touch_bytes(pid, a[1], n, Access::Read, nullptr, &bytes) &&
         touch_bytes(pid, a[0], n, Access::Write, bytes.data(), nullptr);
    result = "memcpy(" + hex(a[0]) + ", " + hex(a[1]) + ", " + std::to_string(n) + ") = " + hex(a[0]);
  } else if (c.name == "strcpy") {
    std::vector<uint8_t> bytes(text_arg.begin(), text_arg.end());
    bytes.push_back(0);
    ok = touch_bytes(pid, a[0], n, Access::Write, bytes.data(), nullptr);
    result = "strcpy(" + hex(a[0]) + ", " + format_string(text_arg, text_arg.size()) + ") = " + hex(a[0]);
  } else if (c.name == "dump") {
    std::vector<uint8_t> bytes;
    ok = touch_bytes(pid, a[0], n, Access::Read, nullptr, &bytes);
    append_events(out, pid, st.pid.has_value());
    // hexdump -C: address, 16 bytes in two groups of 8, the printable text.
    for (size_t off = 0; off < bytes.size(); off += 16)
      out.lines.push_back(
          {LineKind::Text, format_hexdump_line(a[0] + off, bytes.data() + off, std::min<size_t>(16, bytes.size() - off))});
    return true;
  } else {
    Access kind = text_arg == "w" ? Access::Write : text_arg == "x" ? Access::Exec : Access::Read;
    uint64_t pages = 0;
    for (uint64_t at = a[0] & PAGE_MASK; at < a[0] + a[1] && ok; at += kPageSize, ++pages)
      ok = kernel_.access(pid, std::max(at, a[0]), kind, 0, false).ok;
    result = "touch(" + hex(a[0]) + ", " + std::to_string(a[1]) + ", \"" + text_arg + "\"): " + std::to_string(pages) +
             (pages == 1 ? " page" : " pages");
  }
  if (ok) {
    out.lines.push_back({LineKind::Result, tag + result});
    if (!st.target.empty()) vars_[st.target] = a[0];
    if (c.name != "touch") last_ = a[0];
  }
  append_events(out, pid, st.pid.has_value());
  return true;
}

void Session::run_walk(const Stmt& st, Pid pid, Output& out) {
  Eval v = eval(*st.value);
  if (v.error) {
    refuse(out, v.error->message, v.error->span);
    return;
  }
  uint64_t addr = v.value;
  if (st.target == "smaps") {
    const Process* p = kernel_.process(pid);
    const Vma* vma = p->mm.vma_at(addr);
    if (!vma) {
      refuse(out, "no VMA holds " + hex(addr) + " in pid " + std::to_string(pid), st.value->span);
      return;
    }
    std::string all = *kernel_.proc_smaps(pid);
    char key[32];
    std::snprintf(key, sizeof key, "%08" PRIx64 "-", vma->start);
    size_t b = all.find(key);
    size_t e = all.find("VmFlags:", b);
    e = all.find('\n', e);
    for (size_t i = b; i < e;) {
      size_t nl = all.find('\n', i);
      out.lines.push_back({LineKind::Text, all.substr(i, nl - i)});
      i = nl + 1;
    }
    return;
  }
  if (addr >= (1ULL << 47)) {
    refuse(out, hex(addr) + " is not a user address (user space ends at 0x7ffffffff000)", st.value->span);
    return;
  }
  Walk w = kernel_.walk(pid, addr);
  last_walk_ = WalkRequest{pid, addr};
  const Process* p = kernel_.process(pid);
  out.lines.push_back({LineKind::Text, "walk of " + hex(addr) + " in pid " + std::to_string(pid) +
                                           ", CR3 = frame " + hex(p->mm.pgd.value) + ":"});
  static const char* const kChild[] = {"", "frame", "PTE table in frame", "PMD table in frame", "PUD table in frame"};
  for (int i = 0; i < w.depth; ++i) {
    const WalkStep& s = w.steps[static_cast<size_t>(i)];
    EntryBits b = decode_entry(s.entry);
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %s[%3" PRIu64 "] = 0x%016" PRIx64 "  ", pt_level_name(s.level), s.index, s.entry);
    std::string line = buf;
    std::string bits;
    auto add = [&](bool on, const char* name) {
      if (!on) return;
      if (!bits.empty()) bits += ' ';
      bits += name;
    };
    add(b.present, "P"); add(b.rw, "RW"); add(b.user, "US"); add(b.pwt, "PWT"); add(b.pcd, "PCD");
    add(b.accessed, "A"); add(b.dirty, "D"); add(b.pse, "PS"); add(b.global, "G"); add(b.special, "special");
    add(b.nx, "NX"); add(b.protnone, "PROT_NONE");
    if (s.entry == 0) {
      line += "empty: the walk ends here";
    } else if (s.level == PtLevel::PTE && is_swap_pte(s.entry)) {
      // Not present: the page is in swap; the entry names the slot (Linux's encoding).
      uint64_t slot = pte_swp_offset(s.entry);
      line += "swap entry: type " + std::to_string(pte_swp_type(s.entry)) + ", offset " + std::to_string(slot) +
              ((s.entry & _PAGE_SWP_EXCLUSIVE) ? " (exclusive)" : "");
      const SwapArea& sw = kernel_.swap();
      if (sw.valid(slot) && sw.slot(slot).cache != kNoFrame) line += ", in the swap cache as frame " + hex(sw.slot(slot).cache);
    } else {
      int level = static_cast<int>(s.level);
      line += bits + "  -> " + kChild[level] + " " + hex(b.pfn.value);
      if (level == 1) line += " + offset " + hex(addr & ~PAGE_MASK);
    }
    out.lines.push_back({LineKind::Text, line});
  }
}

void Session::run_cat(const Stmt& st, Pid pid, Output& out) {
  const std::string& path = st.text;
  // /proc/self/... or /proc/<pid>/...
  Pid target = pid;
  std::string rest;
  std::optional<std::string> global;
  if (path == "/proc/meminfo") global = kernel_.proc_meminfo();
  else if (path == "/proc/vmstat") global = kernel_.proc_vmstat();
  else if (path == "/proc/swaps") global = kernel_.proc_swaps();
  else if (path == "/proc/sys/vm/overcommit_memory") global = std::to_string(cfg_.kernel.overcommit_memory) + "\n";
  else if (path == "/proc/sys/vm/overcommit_ratio") global = std::to_string(cfg_.kernel.overcommit_ratio) + "\n";
  else if (path == "/proc/sys/vm/swappiness") global = std::to_string(cfg_.kernel.swappiness) + "\n";
  else if (path == "/proc/sys/vm/min_free_kbytes") global = std::to_string(kernel_.watermarks().min * 4) + "\n";
  if (global) {
    const std::string& text = *global;
    for (size_t b = 0; b < text.size();) {
      size_t e = text.find('\n', b);
      out.lines.push_back({LineKind::Text, text.substr(b, e - b)});
      b = e + 1;
    }
    return;
  }
  if (path.rfind("/proc/self/", 0) == 0) {
    rest = path.substr(11);
  } else if (path.rfind("/proc/", 0) == 0) {
    size_t slash = path.find('/', 6);
    std::string num = path.substr(6, slash == std::string::npos ? std::string::npos : slash - 6);
    bool digits = !num.empty() && num.size() < 10 &&
                  num.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || slash == std::string::npos) {
      refuse(out, "cat: " + path + ": no such file (try /proc/self/maps)", st.text_span);
      return;
    }
    target = static_cast<Pid>(std::stol(num));
    rest = path.substr(slash + 1);
  } else {
    // An ordinary file of the simulated disk, read through the page cache as cat would.
    auto body = kernel_.read_whole_file(path[0] == '/' ? path : "/home/user/" + path);
    if (!body) {
      refuse(out, "cat: " + path + ": No such file or directory", st.text_span);
      return;
    }
    if (body->find('\0') != std::string::npos) {
      out.lines.push_back({LineKind::Text, "cat: " + path + ": a binary file of " + std::to_string(body->size()) +
                                               " bytes (dump its mapping to see it)"});
    } else {
      for (size_t b = 0; b < body->size();) {
        size_t e = body->find('\n', b);
        if (e == std::string::npos) e = body->size();
        out.lines.push_back({LineKind::Text, body->substr(b, e - b)});
        b = e + 1;
      }
    }
    append_events(out, pid, st.pid.has_value());
    return;
  }
  std::optional<std::string> text;
  if (rest == "maps") {
    text = kernel_.proc_maps(target);
  } else if (rest == "smaps") {
    text = kernel_.proc_smaps(target);
  } else if (rest == "status") {
    text = kernel_.proc_status(target);
  } else if (rest == "oom_score") {
    if (auto score = kernel_.oom_score(target)) text = std::to_string(*score) + "\n";
  } else if (rest == "pagemap") {
    // Binary in Linux (8 bytes a page); shown decoded, present pages only.
    const Process* p = kernel_.process(target);
    if (!p || p->state != ProcState::Running) {
      refuse(out, "cat: " + path + ": no such process", st.text_span);
      return;
    }
    out.lines.push_back({LineKind::Text, "# " + path + " is binary; its entries for present pages, decoded:"});
    for (const auto& [s, v] : p->mm.vmas) {
      for (uint64_t a = v.start; a < v.end; a += kPageSize) {
        uint64_t e = kernel_.pagemap_entry(target, a).value_or(0);
        if (!(e >> 63)) continue;
        char buf[96];
        std::snprintf(buf, sizeof buf, "%012" PRIx64 "  %016" PRIx64 "  pfn=0x%" PRIx64 "%s%s", a, e,
                      static_cast<uint64_t>(e & ((uint64_t{1} << 55) - 1)), ((e >> 56) & 1) ? " exclusive" : "",
                      ((e >> 61) & 1) ? " file/shared" : "");
        out.lines.push_back({LineKind::Text, buf});
      }
    }
    return;
  } else {
    refuse(out, "cat: " + path + ": no such file (vmplay shows /proc/PID/maps, smaps, status, pagemap, oom_score, "
                "/proc/meminfo, /proc/vmstat, /proc/swaps and /proc/sys/vm/overcommit_memory)",
           st.text_span);
    return;
  }
  if (!text) {
    refuse(out, "cat: " + path + ": no such process", st.text_span);
    return;
  }
  size_t b = 0;
  while (b < text->size()) {
    size_t e = text->find('\n', b);
    out.lines.push_back({LineKind::Text, text->substr(b, e - b)});
    b = e + 1;
  }
}

void Session::append_events(Output& out, Pid pid, bool tag) {
  kernel_.drain_events(event_buf_);
  const std::vector<Event>& evs = event_buf_;
  // Page-cache traffic is summed per file: "32 pages of X read from disk".
  std::map<uint64_t, uint64_t> disk_reads, writebacks;
  for (const Event& e : evs) {
    if (e.kind == EventKind::PageCacheAdd && e.level == 1) ++disk_reads[e.value];
    if (e.kind == EventKind::Writeback) ++writebacks[e.value];
  }
  auto file_name = [&](uint64_t key) {
    const Inode* ino = kernel_.inode(key);
    return ino ? ino->display_name() : std::string("?");
  };
  auto pages = [](uint64_t n) { return std::to_string(n) + (n == 1 ? " page" : " pages"); };
  const Verbosity verb = cfg_.verbosity;
  if (verb == Verbosity::Quiet) {
    disk_reads.clear();
    writebacks.clear();
  }
  for (const auto& [key, n] : disk_reads)
    out.lines.push_back({LineKind::Event, "--- page cache: " + pages(n) + " of " + file_name(key) +
                                              " read from disk" + (n > 1 ? " (readahead)" : "") + " ---"});
  for (const auto& [key, n] : writebacks)
    out.lines.push_back({LineKind::Event, "--- writeback: " + pages(n) + " of " + file_name(key) +
                                              " written to disk ---"});
  // A line that faults in hundreds of pages shows the first few faults and then a
  // count by kind (verbosity all lists every one).
  constexpr size_t kFaultsShown = 8, kFaultsCollapse = 24;
  size_t faults = 0;
  for (const Event& e : evs) faults += e.kind == EventKind::Fault && e.fault != FaultKind::None;
  const bool collapse = verb == Verbosity::Faults && faults > kFaultsCollapse;
  std::map<std::string, uint64_t> hidden;
  size_t seen = 0;
  for (const Event& e : evs) {
    bool is_fault = e.kind == EventKind::Fault;
    bool is_signal = e.kind == EventKind::Signal || e.kind == EventKind::ProcessExit;
    if (verb == Verbosity::Quiet && !is_signal) continue;  // before formatting: nothing of it is shown
    std::optional<std::string> s = format_event(e, kernel_);
    if (!s && verb == Verbosity::All) s = format_event_detail(e, kernel_);
    if (!s) continue;
    if (is_fault && collapse && ++seen > kFaultsShown) {
      ++hidden[std::string(fault_kind_name(e.fault)) + (e.level ? " (major)" : "")];
      continue;
    }
    LineKind kind = is_signal ? LineKind::Signal : LineKind::Event;
    // Events of no process (kswapd, the page cache) carry no pid prefix.
    std::string prefix = e.pid != 0 && (tag || e.pid != pid) ? "[pid " + std::to_string(e.pid) + "] " : "";
    out.lines.push_back({kind, prefix + *s});
  }
  if (!hidden.empty()) {
    std::string by_kind;
    for (const auto& [name, n] : hidden) by_kind += (by_kind.empty() ? "" : ", ") + std::to_string(n) + " " + name;
    out.lines.push_back({LineKind::Event, "--- and " + std::to_string(faults - kFaultsShown) + " more page faults (" +
                                              by_kind + "); config verbosity all lists each ---"});
  }
  last_events_.insert(last_events_.end(), evs.begin(), evs.end());
}

std::vector<Session::Word> Session::words() {
  std::vector<Word> w;
  for (const auto& sc : kSyscalls) w.push_back({sc.name, true});
  for (const char* libc : {"memset", "memcpy", "strcpy", "dump", "touch", "reset"}) w.push_back({libc, true});
  for (const auto& c : command_names()) w.push_back({c, false});
  for (const char* word : {"cat", "walk", "smaps", "/proc/self/maps", "/proc/self/smaps", "/proc/self/status",
                           "/proc/self/pagemap", "/proc/self/oom_score", "/proc/meminfo", "/proc/vmstat",
                           "/proc/swaps", "/proc/sys/vm/overcommit_memory", "verbosity", "ram", "aslr", "swap",
                           "overcommit", "overcommit_ratio"})
    w.push_back({word, false});
  for (auto& c : constant_names()) w.push_back({std::move(c), false});
  return w;
}

std::string Session::help_text() {
  return "Type what a program asks of the kernel, in strace syntax:\n"
         "  p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n"
         "  p[0] = 'A'              store a byte (faults in a page)\n"
         "  p[4096]                 load a byte\n"
         "  munmap(p, 8192)\n"
         "  mprotect(p, 4096, PROT_READ)\n"
         "  madvise(p, 8192, MADV_DONTNEED)\n"
         "  q = mremap(p, 8192, 16384, MREMAP_MAYMOVE)\n"
         "  mlock(p, 8192), munlock, mlock2, mlockall(MCL_CURRENT), munlockall()\n"
         "  mincore(p, 8192, v)     which pages are resident (v: a buffer)\n"
         "  pagemap(p, 8192)        /proc/self/pagemap's entries for a range, decoded\n"
         "  walk p                  the page-table walk of one address, level by level\n"
         "  smaps p                 the smaps entry of the VMA that holds p\n"
         "  cat /proc/meminfo\n"
         "  cat /proc/self/maps     the address space, as Linux prints it\n"
         "  fd = open(\"/home/user/words.txt\", O_RDONLY)   files: open, read, write, lseek,\n"
         "  f = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0)    close, ftruncate, fstat, unlink,\n"
         "                                                          memfd_create, msync\n"
         "  getpid()\n"
         "  fork()                  a child sharing private pages copy-on-write\n"
         "  exit(0), wait4(-1, NULL, 0, NULL), kill(2, SIGKILL)\n"
         "  [pid N] ...             run a line as process N\n"
         "  n = 2 * PAGE_SIZE       a variable; C operators, 4K/2M/1G, _ = the last result\n"
         "  p + 4096                an expression alone shows its value\n"
         "  # text                  narration\n"
         "  lessons, lesson 5       the lesson library\n"
         "  reset()                 start again with a fresh process";
}

std::string Session::state_json() const {
  std::string j = "{";
  j += "\"current_pid\":" + std::to_string(current_) + ",";
  j += "\"lines_run\":" + std::to_string(lines_run_) + ",";
  j += "\"processes\":[";
  bool first = true;
  for (Pid pid : kernel_.pids()) {
    const Process* p = kernel_.process(pid);
    if (!first) j += ",";
    first = false;
    j += "{\"pid\":" + std::to_string(pid) + ",\"ppid\":" + std::to_string(p->ppid) + ",\"comm\":\"" +
         json_escape(p->comm) + "\",\"state\":\"" +
         (p->state == ProcState::Running ? "running" : "zombie") + "\",\"exit_signal\":" +
         std::to_string(p->exit_signal) + ",";
    const Mm& mm = p->mm;
    j += "\"rss_anon\":" + std::to_string(mm.rss_anon) + ",\"total_vm\":" + std::to_string(mm.total_vm) +
         ",\"pgtables\":" + std::to_string(mm.pgtables.pages()) + ",\"pgd\":" + std::to_string(mm.pgd.value) +
         ",\"vmas\":[";
    bool fv = true;
    for (const auto& [s, v] : mm.vmas) {
      if (!fv) j += ",";
      fv = false;
      std::string perms;
      perms += (v.flags & VM_READ) ? 'r' : '-';
      perms += (v.flags & VM_WRITE) ? 'w' : '-';
      perms += (v.flags & VM_EXEC) ? 'x' : '-';
      perms += (v.flags & VM_MAYSHARE) ? 's' : 'p';
      j += "{\"start\":" + json_hex(v.start) + ",\"end\":" + json_hex(v.end) + ",\"perms\":\"" + perms +
           "\",\"flags\":" + json_hex(v.flags) + ",\"pgoff\":" + json_hex(v.pgoff) + ",\"anon\":" +
           std::to_string(v.anon) + ",\"name\":\"" + json_escape(kernel_.vma_name(*p, v)) + "\"}";
    }
    j += "],\"ptes\":[";
    bool fp = true;
    for (const auto& pte : kernel_.ptes(pid)) {
      if (!fp) j += ",";
      fp = false;
      j += "{\"addr\":" + json_hex(pte.addr) + ",\"entry\":" + json_hex(pte.entry) + "}";
    }
    j += "]}";
  }
  j += "],\"frames\":{";
  const PhysMem& mem = kernel_.phys();
  j += "\"total\":" + std::to_string(mem.total()) + ",\"free\":" + std::to_string(mem.free_count()) +
       ",\"used\":[";
  bool ff = true;
  for (uint64_t i = 0; i < mem.total(); ++i) {
    const Frame& f = mem.frame(Pfn{i});
    if (f.owner == FrameOwner::Free) continue;
    if (!ff) j += ",";
    ff = false;
    j += "{\"pfn\":" + std::to_string(i) + ",\"owner\":\"" + owner_name(f.owner) + "\",\"refcount\":" +
         std::to_string(f.refcount) + ",\"mapcount\":" + std::to_string(f.mapcount) + ",\"flags\":" +
         std::to_string(f.flags) + "}";
  }
  j += "]},\"variables\":{";
  bool fvar = true;
  for (const auto& [name, v] : vars_) {
    if (!fvar) j += ",";
    fvar = false;
    j += "\"" + json_escape(name) + "\":" + json_hex(v);
  }
  j += "}}";
  return j;
}

}  // namespace vmplay::shell
