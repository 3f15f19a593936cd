// vmplay: the command-line front end. Runs a script (FILE, or - for stdin), replays
// a strace log, or offers an interactive prompt with line editing and history.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "shell/format.h"

#ifdef VMPLAY_HAVE_EDITLINE
#include <editline/readline.h>
#endif

#include "shell/session.h"

namespace {

constexpr const char* kVersion = "vmplay 0.2 (Linux 6.x x86-64 model)";
constexpr size_t kMaxScriptLines = 200000;

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: vmplay [options] [FILE | -]\n"
               "Runs lines of strace syntax against a simulated Linux x86-64 kernel. With FILE,\n"
               "runs the script; with -, reads standard input; with nothing, starts a prompt.\n\n"
               "options:\n"
               "  -q, --quiet            print only what the kernel did, not the input lines\n"
               "  --replay LOG           replay a strace log (strace -f -o LOG ...) and summarize\n"
               "  --follow-recorded      with a log: place mappings where the log says they were\n"
               "  --expect OUT           compare the transcript with OUT; show a diff, exit 1 if it differs\n"
               "  --json                 print the final state as JSON\n"
               "  --ram FRAMES           physical memory in 4 KiB frames (default 1024)\n"
               "  --swap SIZE            a swap file of SIZE (16M, 512K; at most 256M; default none)\n"
               "  --overcommit MODE      vm.overcommit_memory: 0 heuristic (default), 1 always, 2 never\n"
               "  --seed N               randomize the layout (ASLR) from seed N\n"
               "  --verbosity LEVEL      quiet, faults (the default) or all events\n"
               "  --empty                start pid 1 with an empty address space instead of a.out\n"
               "  --check                check the kernel's invariants after every line\n"
               "  --version, -h, --help\n"
               "exit status: 0 when the script ran (simulated signals are results), 1 when a\n"
               "line was refused or --expect differs, 2 on usage errors\n");
}

bool parse_number(const char* s, unsigned long long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s, &end, 0);
  return end && *end == 0 && errno == 0;
}

// A short unified-style diff of two transcripts, line by line.
std::string line_diff(const std::string& want, const std::string& got) {
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream in(s);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  };
  auto a = split(want), b = split(got);
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) && shown < 40; ++i) {
    std::string x = i < a.size() ? a[i] : "", y = i < b.size() ? b[i] : "";
    if (i < a.size() && i < b.size() && x == y) continue;
    out += "@@ line " + std::to_string(i + 1) + " @@\n";
    if (i < a.size()) out += "-" + x + "\n";
    if (i < b.size()) out += "+" + y + "\n";
    ++shown;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vmplay::shell;
  bool quiet = false, check = false, json = false, replay = false;
  std::string file, expect;
  SessionConfig cfg;
  auto need = [&](int& i, const char* opt) -> const char* {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "vmplay: %s needs a value\n", opt);
      std::exit(2);
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    unsigned long long n = 0;
    if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "--check") {
      check = true;
    } else if (a == "--json" || a == "--state") {
      json = true;
    } else if (a == "--empty") {
      cfg.program = false;
    } else if (a == "--follow-recorded") {
      cfg.follow_recorded = true;
    } else if (a == "--replay") {
      replay = true;
      file = need(i, "--replay");
    } else if (a == "--expect") {
      expect = need(i, "--expect");
    } else if (a == "--ram" || a == "--frames") {
      const char* v = need(i, a.c_str());
      if (!parse_number(v, n) || n < vmplay::engine::PhysMem::kMinFrames || n > vmplay::engine::PhysMem::kMaxFrames) {
        std::fprintf(stderr, "vmplay: %s wants a number of frames from %llu to %llu, got '%s'\n", a.c_str(),
                     static_cast<unsigned long long>(vmplay::engine::PhysMem::kMinFrames),
                     static_cast<unsigned long long>(vmplay::engine::PhysMem::kMaxFrames), v);
        return 2;
      }
      cfg.kernel.phys.frames = n;
    } else if (a == "--swap") {
      const char* v = need(i, "--swap");
      auto pages = vmplay::shell::parse_swap_size(v);
      if (!pages) {
        std::fprintf(stderr, "vmplay: --swap wants a size such as 16M or 512K (at most 256M), got '%s'\n", v);
        return 2;
      }
      cfg.kernel.swap_pages = *pages;
    } else if (a == "--overcommit") {
      const char* v = need(i, "--overcommit");
      if (!parse_number(v, n) || n > 2) {
        std::fprintf(stderr, "vmplay: --overcommit is 0, 1 or 2, got '%s'\n", v);
        return 2;
      }
      cfg.kernel.overcommit_memory = static_cast<int>(n);
    } else if (a == "--seed" || a == "--aslr") {
      const char* v = need(i, a.c_str());
      if (!parse_number(v, n)) {
        std::fprintf(stderr, "vmplay: %s wants a number, got '%s'\n", a.c_str(), v);
        return 2;
      }
      cfg.kernel.aslr_seed = n;
    } else if (a == "--verbosity") {
      std::string v = need(i, "--verbosity");
      if (v == "quiet") cfg.verbosity = Verbosity::Quiet;
      else if (v == "faults") cfg.verbosity = Verbosity::Faults;
      else if (v == "all") cfg.verbosity = Verbosity::All;
      else {
        std::fprintf(stderr, "vmplay: --verbosity is quiet, faults or all, not '%s'\n", v.c_str());
        return 2;
      }
    } else if (a == "--version") {
      std::printf("%s\n", kVersion);
      return 0;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "-" || a[0] != '-') {
      if (!file.empty()) {
        std::fprintf(stderr, "vmplay: one script at a time ('%s' and '%s')\n", file.c_str(), a.c_str());
        return 2;
      }
      file = a;
    } else {
      std::fprintf(stderr, "vmplay: unknown option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (replay) quiet = true;  // a log's lines are echoed in strace form already

  std::ifstream in_file;
  std::istream* in = &std::cin;
  std::string name = "<stdin>";
  bool interactive = file.empty() && isatty(0) && expect.empty();
  if (!file.empty() && file != "-") {
    in_file.open(file);
    if (!in_file) {
      std::fprintf(stderr, "vmplay: cannot open '%s': %s\n", file.c_str(), std::strerror(errno));
      return 2;
    }
    in = &in_file;
    name = file;
  }
  std::string expected;
  if (!expect.empty()) {
    std::ifstream e(expect);
    if (!e) {
      std::fprintf(stderr, "vmplay: cannot open '%s': %s\n", expect.c_str(), std::strerror(errno));
      return 2;
    }
    std::stringstream ss;
    ss << e.rdbuf();
    expected = ss.str();
  }

  Session session(cfg);
  std::string transcript;  // what was printed, for --expect
  auto emit = [&](const std::string& s) {
    if (expect.empty()) std::printf("%s\n", s.c_str());
    transcript += s + "\n";
  };
  size_t matched = 0, differed = 0, skipped = 0;
  int status = 0;
  int lineno = 0;
  if (interactive) std::printf("%s: type 'help', or paste strace lines. Ctrl-D quits.\n", kVersion);
  while (true) {
    std::string line;
#ifdef VMPLAY_HAVE_EDITLINE
    if (interactive) {
      char* raw = readline("vmplay> ");
      if (!raw) break;
      line = raw;
      if (!line.empty()) add_history(raw);
      std::free(raw);
    } else if (!std::getline(*in, line)) {
      break;
    }
#else
    if (interactive) {
      std::printf("vmplay> ");
      std::fflush(stdout);
    }
    if (!std::getline(*in, line)) break;
#endif
    if (++lineno > static_cast<int>(kMaxScriptLines)) {
      std::fprintf(stderr, "%s: stopped after %zu lines (the limit for one script)\n", name.c_str(), kMaxScriptLines);
      return 1;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Output out = session.exec(line);
    bool comment = !out.lines.empty() && out.lines[0].kind == LineKind::Comment;
    if (!quiet && !interactive && !line.empty() && !comment) emit("> " + line);
    if (!out.ok) {
      const auto& sp = *out.error_span;
      if (interactive) {
        std::printf("%s\n%s\n", Session::caret_line(sp, 8).c_str(), out.lines.back().text.c_str());
        continue;
      }
      std::fflush(stdout);
      if (quiet) std::fprintf(stderr, "%s\n", line.c_str());
      std::fprintf(stderr, "%s\n%s:%d:%u: error: %s\n", Session::caret_line(sp, quiet ? 0 : 2).c_str(),
                   name.c_str(), lineno, sp.begin + 1, out.error_message.c_str());
      status = 1;
      if (!replay) break;
      continue;
    }
    for (const auto& l : out.lines) {
      emit(l.text);
      if (l.kind == LineKind::Note && l.text.rfind("note: recorded", 0) == 0) ++differed;
      if (l.kind == LineKind::Note && l.text.find("skipped: ") != std::string::npos) ++skipped;
    }
    if (out.ok && !out.lines.empty() && out.lines[0].kind == LineKind::Result) ++matched;
    if (check) {
      auto bad = session.kernel().check_invariants();
      if (!bad.empty()) {
        for (const auto& b : bad) std::fprintf(stderr, "%s:%d: invariant broken: %s\n", name.c_str(), lineno, b.c_str());
        return 3;
      }
    }
  }
  if (replay) {
    auto count = [](uint64_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
    emit("replayed " + count(lineno, "line", "lines") + ": " +
         count(matched - std::min(matched, differed), "call", "calls") + " as recorded, " +
         std::to_string(differed) + " different, " + std::to_string(skipped) + " skipped");
  }
  if (json) emit(session.state_json());
  if (!expect.empty() && transcript != expected) {
    std::fprintf(stderr, "vmplay: the transcript differs from %s:\n%s", expect.c_str(),
                 line_diff(expected, transcript).c_str());
    return 1;
  }
  return status;
}
