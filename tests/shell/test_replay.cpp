// Replaying a real strace log: tests/data/fork-mmap.strace was captured on this
// machine with `setarch -R strace -f -e trace=memory,process,desc -o LOG ./prog`
// (the program is tests/data/fork-mmap.c).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "shell/session.h"

using namespace vmplay::shell;

namespace {
std::vector<std::string> log_lines() {
  std::ifstream in(VMPLAY_TEST_DATA "/fork-mmap.strace");
  REQUIRE(in);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
}  // namespace

TEST_CASE("replay: a real log runs line by line and every recorded result matches") {
  Session s;
  std::vector<std::string> notes, refused;
  std::string all;
  for (const std::string& line : log_lines()) {
    Output o = s.exec(line);
    REQUIRE(s.kernel().check_invariants().empty());
    if (!o.ok) refused.push_back(line + " -> " + o.error_message);
    for (const auto& l : o.lines) {
      all += l.text + "\n";
      if (l.kind == LineKind::Note && l.text.rfind("note: recorded", 0) == 0) notes.push_back(l.text);
    }
  }
  INFO(all);
  CHECK(refused.empty());
  CHECK(notes.empty());  // the same addresses, results and pids as on the real kernel
  CHECK(all.find("[pid 1] mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fbe000\n") !=
        std::string::npos);
  CHECK(all.find("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 2\n") !=
        std::string::npos);
  CHECK(all.find("[pid 1] wait4(2, NULL, 0, NULL) = 2\n") != std::string::npos);
  CHECK(all.find("# log: 4613  --- SIGCHLD") != std::string::npos);
  CHECK(all.find("note: vmplay runs /home/user/a.out in place of ./prog") != std::string::npos);
}

TEST_CASE("replay: prefixes, unfinished/resumed pairs, unknown calls and mismatches") {
  Session s;
  Output o = s.exec("4321  arch_prctl(ARCH_SET_FS, 0x7ffff7d8f740) = 0");
  REQUIRE(o.ok);
  CHECK(o.lines[0].text == "[pid 1] skipped: arch_prctl() is not modelled by vmplay");
  o = s.exec("4321  mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>");
  CHECK(o.lines[0].kind == LineKind::Note);
  o = s.exec("4321  <... mmap resumed>) = 0x7f1234567000");
  REQUIRE(o.ok);
  CHECK(o.lines[0].text == "[pid 1] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fbf000");
  CHECK(o.lines[1].text == "note: recorded 0x7f1234567000, simulated 0x7ffff7fbf000");
  o = s.exec("[pid  4321] munmap(0x7ffff7fbf000, 4096) = 0");
  CHECK(o.ok);
  o = s.exec("4999  <... wait4 resumed>NULL, 0, NULL) = 5000");
  CHECK_FALSE(o.ok);
  CHECK(o.error_message == "a resumed line without the unfinished call it belongs to");
  // A typed unknown call is still an error (only a log line, with its result, is skipped).
  CHECK_FALSE(s.exec("arch_prctl(1, 2)").ok);
}
