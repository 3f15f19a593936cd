// vmplay: the command-line front end. Runs a script (FILE, or - for stdin) or an
// interactive prompt, printing what each line did in strace form.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "shell/session.h"

namespace {

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: vmplay [options] [FILE | -]\n"
               "Runs lines of strace syntax against a simulated Linux x86-64 kernel.\n"
               "With FILE, runs the script; with -, reads standard input; with nothing,\n"
               "starts an interactive prompt.\n\n"
               "options:\n"
               "  -q, --quiet        print only what the kernel did, not the input lines\n"
               "  --frames N         physical memory in 4 KiB frames (default 1024)\n"
               "  --check            check the kernel's invariants after every line\n"
               "  --empty            start pid 1 with an empty address space instead of a.out\n"
               "  --aslr SEED        randomize the layout (deterministically, from SEED)\n"
               "  --state            print the final state as JSON\n"
               "  -h, --help         this text\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vmplay::shell;
  bool quiet = false, check = false, state = false;
  std::string file;
  SessionConfig cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "--check") {
      check = true;
    } else if (a == "--aslr") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vmplay: --aslr needs a seed (a number)\n");
        return 2;
      }
      char* end = nullptr;
      unsigned long long seed = std::strtoull(argv[++i], &end, 0);
      if (!end || *end) {
        std::fprintf(stderr, "vmplay: --aslr wants a number as its seed, got '%s'\n", argv[i]);
        return 2;
      }
      cfg.kernel.aslr_seed = seed;
    } else if (a == "--empty") {
      cfg.program = false;
    } else if (a == "--state") {
      state = true;
    } else if (a == "--frames") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vmplay: --frames needs a number\n");
        return 2;
      }
      char* end = nullptr;
      unsigned long long n = std::strtoull(argv[++i], &end, 0);
      if (!end || *end || n < vmplay::engine::PhysMem::kMinFrames || n > vmplay::engine::PhysMem::kMaxFrames) {
        std::fprintf(stderr, "vmplay: --frames wants a number from %llu to %llu, got '%s'\n",
                     static_cast<unsigned long long>(vmplay::engine::PhysMem::kMinFrames),
                     static_cast<unsigned long long>(vmplay::engine::PhysMem::kMaxFrames), argv[i]);
        return 2;
      }
      cfg.kernel.phys.frames = n;
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

  std::ifstream in_file;
  std::istream* in = &std::cin;
  std::string name = "<stdin>";
  bool interactive = file.empty() && isatty(0);
  if (!file.empty() && file != "-") {
    in_file.open(file);
    if (!in_file) {
      std::fprintf(stderr, "vmplay: cannot open '%s': %s\n", file.c_str(), std::strerror(errno));
      return 2;
    }
    in = &in_file;
    name = file;
  }

  Session session(cfg);
  std::string line;
  int lineno = 0;
  if (interactive) std::printf("vmplay: a Linux virtual-memory playground. Type 'help'.\n");
  while (true) {
    if (interactive) {
      std::printf("vmplay> ");
      std::fflush(stdout);
    }
    if (!std::getline(*in, line)) break;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Output out = session.exec(line);
    bool comment = !out.lines.empty() && out.lines[0].kind == LineKind::Comment;
    if (!quiet && !interactive && !line.empty() && !comment) std::printf("> %s\n", line.c_str());
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
      return 1;
    }
    for (const auto& l : out.lines) std::printf("%s\n", l.text.c_str());
    if (check) {
      auto bad = session.kernel().check_invariants();
      if (!bad.empty()) {
        for (const auto& b : bad) std::fprintf(stderr, "%s:%d: invariant broken: %s\n", name.c_str(), lineno, b.c_str());
        return 3;
      }
    }
  }
  if (state) std::printf("%s\n", session.state_json().c_str());
  return 0;
}
