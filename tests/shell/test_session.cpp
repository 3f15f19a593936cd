#include <algorithm>
#include <doctest/doctest.h>

#include "shell/lessons.h"
#include "shell/session.h"
#include "tests/shell/empty_session.h"

using namespace vmplay::shell;
using namespace vmplay::engine;

namespace {
using testing::kEmpty;
const char* kMmap = "p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)";

Output run(Session& s, std::string_view line) {
  Output o = s.exec(line);
  auto bad = s.kernel().check_invariants();
  REQUIRE(bad.empty());
  return o;
}
}  // namespace

TEST_CASE("session: the vertical slice, line by line") {
  Session s(kEmpty);
  Output o = run(s, kMmap);
  REQUIRE(o.ok);
  REQUIRE(o.lines.size() == 1);
  CHECK(o.lines[0].kind == LineKind::Result);
  CHECK(o.lines[0].text ==
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffd000");
  CHECK(s.variables().at("p") == 0x7ffff7ffd000);

  o = run(s, "p[0] = 1");
  REQUIRE(o.lines.size() == 1);
  CHECK(o.lines[0].kind == LineKind::Event);
  CHECK(o.lines[0].text ==
        "--- page fault: write, anonymous, minor (zero-filled frame 0x6) at 0x7ffff7ffd000 ---");
  CHECK_FALSE(s.last_events().empty());

  o = run(s, "p[0]");
  REQUIRE(o.lines.size() == 1);
  CHECK(o.lines[0].text == "p[0] = 1 '\\x01'");

  o = run(s, "cat /proc/self/maps");
  CHECK(o.text() == "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");

  o = run(s, "munmap(p, 8192)");
  CHECK(o.lines[0].text == "munmap(0x7ffff7ffd000, 8192) = 0");
  CHECK(run(s, "cat /proc/self/maps").lines.empty());
}

TEST_CASE("session: failed calls print errno like strace and assign -1") {
  Session s(kEmpty);
  Output o = run(s, "q = mmap(NULL, 0, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  CHECK(o.ok);
  CHECK(o.lines[0].text == "mmap(NULL, 0, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 EINVAL (Invalid argument)");
  CHECK(s.variables().at("q") == ~0ULL);
}

TEST_CASE("session: refused lines change nothing and say where") {
  Session s(kEmpty);
  run(s, kMmap);
  std::string before = s.state_json();
  uint64_t seq = s.kernel().event_seq();
  for (const char* line : {"p[0] = 300", "q[0] = 1", "munmap(p)", "swapon(\"/swapfile\", 0)",
                           "p = mmap(NULL, 8192, PROT_NONE, FOO, -1, 0)", "cat /proc/self/environ",
                           "cat /etc/passwd", "[pid 7] p[0] = 1", "MAP_SHARED = 3", "p[0] = = 1"}) {
    Output o = run(s, line);
    INFO(line);
    CHECK_FALSE(o.ok);
    REQUIRE(o.error_span);
    CHECK(o.lines.back().kind == LineKind::Error);
    CHECK(s.state_json() == before);
    CHECK(s.kernel().event_seq() == seq);
  }
  Output o = s.exec("p[0] = 300");
  CHECK(o.error_message == "value 300 does not fit in one byte (use 0..255, -128..-1 or a 'c'haracter)");
  CHECK(o.error_span->begin == 7);
  o = s.exec("munmap(p)");
  CHECK(o.error_message == "munmap takes 2 arguments, got 1: munmap(addr, length)");
  o = s.exec("swapon(\"/swapfile\", 0)");
  CHECK(o.error_message.find("unknown system call 'swapon'") == 0);
  o = s.exec("p = mmap(NULL, 8192, PROT_NONE, FOO, -1, 0)");
  CHECK(o.error_message == "unknown name 'FOO' (not a variable, not a PROT_/MAP_ constant)");
  CHECK(o.error_span->begin == 32);
}

TEST_CASE("session: a segfault kills the process; reset starts over") {
  Session s(kEmpty);
  run(s, "q = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  Output o = run(s, "q[1] = 'x'");
  REQUIRE(o.lines.size() == 3);
  CHECK(o.lines[1].text == "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x7ffff7ffe001} ---");
  CHECK(o.lines[2].text == "+++ killed by SIGSEGV +++");
  o = run(s, "getpid()");
  CHECK_FALSE(o.ok);
  CHECK(o.error_message == "process 1 was killed by SIGSEGV; type 'reset' to start a new one");
  o = run(s, "reset");
  CHECK(o.ok);
  CHECK(run(s, "getpid()").lines[0].text == "getpid() = 1");
  CHECK(s.variables().empty());
}

TEST_CASE("session: a recorded result that differs gets a note") {
  Session s(kEmpty);
  Output o = run(s, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000");
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[1].kind == LineKind::Note);
  CHECK(o.lines[1].text == "note: recorded 0x7f0000000000, simulated 0x7ffff7ffe000");
  o = run(s, "munmap(0x1001, 1) = -1 EINVAL (Invalid argument)");
  CHECK(o.lines.size() == 1);
}

TEST_CASE("session: state_json lists processes, VMAs, PTEs, frames and variables") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "p[4096] = 'A'");
  std::string j = s.state_json();
  CHECK(j.find("\"processes\":[{\"pid\":1,") != std::string::npos);
  CHECK(j.find("{\"start\":\"0x7ffff7ffd000\",\"end\":\"0x7ffff7fff000\",\"perms\":\"rw-p\"") != std::string::npos);
  CHECK(j.find("\"ptes\":[{\"addr\":\"0x7ffff7ffe000\",\"entry\":\"0x8000000000006067\"}]") != std::string::npos);
  CHECK(j.find("\"total\":1024,\"free\":1009") != std::string::npos);
  CHECK(j.find("\"variables\":{\"p\":\"0x7ffff7ffd000\"}") != std::string::npos);
}

TEST_CASE("session: fork, [pid N], exit, wait4 and kill in strace form") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "p[0] = 'A'");
  CHECK(run(s, "fork()").lines[0].text == "fork() = 2");
  Output o = run(s, "[pid 2] p[0] = 'B'");
  REQUIRE(o.lines.size() == 1);
  CHECK(o.lines[0].text ==
        "[pid 2] --- page fault: write, write-protected, minor (copy-on-write: frame 0x6 copied into frame 0xb) at 0x7ffff7ffd000 ---");
  o = run(s, "wait4(-1, NULL, 0, NULL)");
  CHECK_FALSE(o.ok);
  CHECK(o.error_message.find("wait4 would block") == 0);
  o = run(s, "kill(2, SIGTERM)");
  REQUIRE(o.lines.size() == 3);
  CHECK(o.lines[0].text == "kill(2, SIGTERM) = 0");
  CHECK(o.lines[1].text == "[pid 2] --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0} ---");
  CHECK(o.lines[2].text == "[pid 2] +++ killed by SIGTERM +++");
  CHECK(run(s, "wait4(-1, NULL, 0, NULL)").lines[0].text == "wait4(-1, NULL, 0, NULL) = 2");
  CHECK(run(s, "wait4(-1, NULL, 0, NULL)").lines[0].text == "wait4(-1, NULL, 0, NULL) = -1 ECHILD (No child processes)");
  o = run(s, "x = exit(0)");
  CHECK_FALSE(o.ok);
  o = run(s, "exit_group(0)");
  CHECK(o.lines[0].text == "exit_group(0) = ?");
  CHECK(o.lines[1].text == "+++ exited with 0 +++");
}

TEST_CASE("session: files in strace form; a string where a number belongs is refused") {
  Session s(kEmpty);
  CHECK(run(s, "fd = openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY|O_CLOEXEC)").lines[0].text ==
        "openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY|O_CLOEXEC) = 3");
  run(s, "b = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  Output o = run(s, "read(fd, b, 4096)");
  CHECK(o.lines[0].text == "read(3, \"127.0.0.1\\tlocalhost\\n::1\\tlocalhos\"..., 4096) = 61");
  CHECK(run(s, "write(1, b, 9)").lines[0].text == "write(1, \"127.0.0.1\", 9) = 9");
  CHECK(run(s, "fstat(fd, {})").lines[0].text == "fstat(3, {st_mode=S_IFREG|0644, st_size=61, ...}) = 0");
  o = run(s, "read(\"3\", b, 1)");
  CHECK_FALSE(o.ok);
  CHECK(o.error_message == "argument 1 of read is a number or an address, not a string");
  o = run(s, "open(/etc/hosts, O_RDONLY)");
  CHECK_FALSE(o.ok);
  o = run(s, "open(fd, O_RDONLY)");
  CHECK(o.error_message == "argument 1 of open is a \"string\" in double quotes");
}

TEST_CASE("session: walk shows each level's index, entry and decoded bits") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "p[5] = 1");
  Output o = run(s, "walk p + 5");
  REQUIRE(o.lines.size() == 5);
  CHECK(o.lines[0].text == "walk of 0x7ffff7ffd005 in pid 1, CR3 = frame 0x2:");
  CHECK(o.lines[1].text == "  PGD[255] = 0x0000000000003067  P RW US A D  -> PUD table in frame 0x3");
  CHECK(o.lines[4].text == "  PTE[509] = 0x8000000000006067  P RW US A D NX  -> frame 0x6 + offset 0x5");
  o = run(s, "walk 0x1000");
  CHECK(o.lines.back().text == "  PGD[  0] = 0x0000000000000000  empty: the walk ends here");
  o = s.exec("walk");
  CHECK_FALSE(o.ok);
  CHECK(o.error_message == "expected an address after 'walk' (for example walk p), found end of line");
  o = s.exec("walk 0xffffffffff600000");
  CHECK(o.error_message == "0xffffffffff600000 is not a user address (user space ends at 0x7ffffffff000)");
}

TEST_CASE("session: expressions with C's precedence, size suffixes, PAGE_SIZE and _") {
  Session s(kEmpty);
  auto val = [&](const std::string& e) {
    Output o = run(s, "v = " + e);
    REQUIRE(o.ok);
    return s.variables().at("v");
  };
  CHECK(val("1 + 2 * 3") == 7);
  CHECK(val("(1 + 2) * 3") == 9);
  CHECK(val("1 << 4 | 1") == 17);
  CHECK(val("0xff & ~0xf") == 0xf0);
  CHECK(val("6 ^ 3") == 5);
  CHECK(val("4K") == 4096);
  CHECK(val("2M + 1G") == (2ULL << 20) + (1ULL << 30));
  CHECK(val("PAGE_SIZE * 3") == 12288);
  CHECK(val("17 % 5 / 2") == 1);
  CHECK(val("-1 >> 60") == 15);
  run(s, kMmap);
  CHECK(val("_ + 4096") == 0x7ffff7ffe000);
  Output o = s.exec("v = 1 / 0");
  CHECK(o.error_message == "division by zero");
  o = s.exec("v = 12Q");
  CHECK_FALSE(o.ok);
}

TEST_CASE("session: typos get a suggestion") {
  Session s(kEmpty);
  Output o = s.exec("mmap(NULL, 4096, PROT_READ, MAP_PRIVTE|MAP_ANONYMOUS, -1, 0)");
  CHECK(o.error_message == "unknown name 'MAP_PRIVTE'; did you mean MAP_PRIVATE?");
  CHECK(o.error_span->begin == 28);
  o = s.exec("munmpa(0, 4096)");
  CHECK(o.error_message == "unknown system call 'munmpa'; did you mean munmap?");
  o = s.exec("frobnicate(1)");
  CHECK(o.error_message.find("unknown system call 'frobnicate' (vmplay knows: mmap,") == 0);
}

TEST_CASE("session: typed stores and loads, memset, memcpy, strcpy, dump, touch") {
  Session s(kEmpty);
  run(s, kMmap);
  CHECK(run(s, "strcpy(p, \"hello\")").lines[0].text == "strcpy(0x7ffff7ffd000, \"hello\") = 0x7ffff7ffd000");
  run(s, "*(int *)(p + 8) = -2");
  CHECK(run(s, "*(int *)(p + 8)").lines[0].text == "*(int *)0x7ffff7ffd008 = -2 (0xfffffffe)");
  CHECK(run(s, "*(uint16_t *)(p + 8)").lines[0].text == "*(uint16_t *)0x7ffff7ffd008 = 65534 (0xfffe)");
  CHECK(run(s, "*(unsigned long *)p").lines[0].text == "*(unsigned long *)0x7ffff7ffd000 = 478560413032 (0x6f6c6c6568)");
  CHECK(run(s, "*p").lines[0].text == "*0x7ffff7ffd000 = 104 (0x68)");
  Output o = run(s, "memset(p + 4096, 'A', 3)");
  CHECK(o.lines[0].text == "memset(0x7ffff7ffe000, 0x41, 3) = 0x7ffff7ffe000");
  CHECK(o.lines[1].kind == LineKind::Event);  // the write faulted a page in
  run(s, "memcpy(p + 16, p + 4096, 3)");
  o = run(s, "dump(p, 20)");
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[0].text == "7ffff7ffd000  68 65 6c 6c 6f 00 00 00  fe ff ff ff 00 00 00 00  |hello...........|");
  CHECK(o.lines[1].text == "7ffff7ffd010  41 41 41 00                                       |AAA.|");
  CHECK(run(s, "touch(p, 8192, \"w\")").lines[0].text == "touch(0x7ffff7ffd000, 8192, \"w\"): 2 pages");
  CHECK(run(s, "*p").lines[0].text == "*0x7ffff7ffd000 = 104 (0x68)");  // touching changed nothing
  CHECK(s.exec("*(float *)p").error_message.find("unknown type 'float'") == 0);
  CHECK(s.exec("memset(p, 0, 2M)").error_message.find("at most 1 MiB") != std::string::npos);
  CHECK(s.exec("touch(p, 4096, \"q\")").error_message == "touch's mode is \"r\", \"w\" or \"x\"");
  o = run(s, "touch(p, 4096, \"x\")");  // not executable: SIGSEGV with SEGV_ACCERR
  CHECK(o.lines.back().text == "+++ killed by SIGSEGV +++");
}

namespace {
// The state without the count of lines run (undo is a line too).
std::string machine(const Session& s) {
  std::string j = s.state_json();
  size_t a = j.find("\"lines_run\":");
  return j.erase(a, j.find(',', a) - a + 1);
}
}  // namespace

TEST_CASE("session: undo goes back one changing line at a time, exactly") {
  Session s(kEmpty);
  std::string s0 = machine(s);
  run(s, kMmap);
  std::string s1 = machine(s);
  run(s, "p[0] = 1");
  run(s, "cat /proc/self/maps");  // reads no file into the page cache: not a step
  run(s, "help");  // changes nothing: not a step
  CHECK(run(s, "undo").lines[0].text == "undone: p[0] = 1");
  CHECK(machine(s) == s1);
  s.exec("p[0] = 300");  // refused: no snapshot either
  run(s, "undo");
  CHECK(machine(s) == s0);
  CHECK(s.exec("undo").error_message == "nothing to undo: this is the start of the timeline");
}

TEST_CASE("session: redo and goto move along the timeline; a new line drops the steps ahead") {
  Session s(kEmpty);
  std::vector<std::string> states{machine(s)};
  const char* lines[] = {kMmap, "p[0] = 1", "fork()", "[pid 2] p[0] = 2", "munmap(p, 4096)"};
  for (const char* l : lines) {
    run(s, l);
    states.push_back(machine(s));
  }
  REQUIRE(s.timeline().size() == 6);
  CHECK(s.timeline_pos() == 5);
  CHECK(s.timeline()[2].label == "p[0] = 1");
  CHECK(s.timeline()[0].label == "start: an empty process");
  // Every step, in any order, gives back exactly the state after it.
  for (size_t n : {2u, 0u, 5u, 3u, 1u, 4u}) {
    Output o = run(s, "goto " + std::to_string(n));
    CHECK(s.timeline_pos() == n);
    CHECK(machine(s) == states[n]);
    CHECK(o.lines[0].text == "at step " + std::to_string(n) + " of 5: " + s.timeline()[n].label);
  }
  run(s, "goto 2");
  CHECK(run(s, "redo").lines[0].text == "at step 3 of 5: fork()");
  CHECK(machine(s) == states[3]);
  CHECK(run(s, "undo").lines[0].text == "undone: fork()");
  // The highlight after a move is what the step did: p[0] = 1 faulted.
  bool fault = false;
  for (const auto& e : s.last_events()) fault |= e.kind == vmplay::engine::EventKind::Fault;
  CHECK(fault);
  // A line that changes nothing keeps the steps ahead; one that changes something drops them.
  run(s, "cat /proc/self/status");
  CHECK(s.timeline().size() == 6);
  run(s, "p[4096] = 7");
  CHECK(s.timeline().size() == 4);
  CHECK(s.timeline_pos() == 3);
  CHECK(s.exec("redo").error_message == "nothing to redo: this is the newest step of the timeline");
  CHECK(s.exec("goto 4").error_message == "no step 4: the timeline has steps 0 to 3");
  CHECK(s.exec("goto x").error_message == "goto wants a step number, got 'x'");
  CHECK(s.exec("undo 2").error_message == "undo takes nothing after it");
  // Fault counters are counted through the session, so they go back with the state.
  CHECK(s.timeline()[3].faults_minor == 2);
  CHECK(s.timeline()[1].faults_minor == 0);
}

TEST_CASE("session: a value shown between steps does not change a replayed _") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "0x1000");  // shown, not a step: but later lines may use _
  run(s, "q = _ + 1");
  for (int i = 0; i < 10; ++i) run(s, "p[" + std::to_string(i) + "] = 1");  // past a checkpoint
  run(s, "goto 1");
  run(s, "goto 12");
  CHECK(s.variables().at("q") == 0x1001);
}

TEST_CASE("session: a lesson is steps on the timeline: a fresh machine, then its lines") {
  Session s;
  run(s, "x = 5");
  run(s, "lesson 2");
  const auto& t = s.timeline();
  REQUIRE(t.size() > 4);
  CHECK(t[2].label.rfind("lesson 02-", 0) == 0);
  CHECK(t[2].label.find(": a fresh machine") != std::string::npos);
  CHECK(t[2].line == "reset()");
  std::string end = machine(s);
  run(s, "goto 1");
  CHECK(s.variables().at("x") == 5);
  run(s, "goto " + std::to_string(t.size() - 1));
  CHECK(machine(s) == end);
  // timeline lists the steps, the current one marked.
  Output o = run(s, "timeline");
  CHECK(o.lines[0].text == "  0  start: pid 1 runs /home/user/a.out, stopped at main()");
  CHECK(o.lines[t.size() - 1].text.rfind("> " + std::to_string(t.size() - 1) + "  ", 0) == 0);
}

TEST_CASE("session: processes, inspection and settings commands") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "p[0] = 1");
  run(s, "fork()");
  Output o = run(s, "ps");
  REQUIRE(o.lines.size() == 3);
  CHECK(o.lines[1].text == "    1     0 R *           8        4 a.out");
  CHECK(o.lines[2].text == "    2     1 R             8        4 a.out");
  CHECK(run(s, "use 2").lines[0].text == "lines now run as pid 2");
  CHECK(run(s, "getpid()").lines[0].text == "getpid() = 2");
  CHECK(s.exec("use 9").error_message == "no process with pid 9");
  o = run(s, "pmap -x");
  CHECK(o.lines[2].text == "00007ffff7ffd000       8       4       4 rw--- [ anon ]");
  CHECK(o.lines.back().text == "total kB               8       4       4");
  CHECK(run(s, "frames").lines[0].text.find("1024 frames (4096 kB): 1005 free,") == 0);
  CHECK(run(s, "free").lines[1].text.rfind("Mem:            4056", 0) == 0);
  CHECK(run(s, "ls /etc").lines.size() == 2);
  CHECK(run(s, "echo hello there  # not shown").lines[0].text == "hello there");
  CHECK(run(s, "help mlock2").lines[0].text.find("lock pages in memory") == 0);
  CHECK(s.exec("help mmapp").error_message == "no help on 'mmapp'; did you mean mmap?");
  // Verbosity: quiet drops fault lines, all adds every event.
  run(s, "config verbosity quiet");
  CHECK(run(s, "p[4096] = 1").lines.empty());
  run(s, "config verbosity all");
  o = run(s, "p[8] = 1");
  CHECK(o.lines.size() >= 2);  // the copy-on-write frame and its PTE, then the fault
  CHECK(s.exec("config verbosity loud").error_message == "verbosity is quiet, faults or all, not 'loud'");
  CHECK(run(s, "config ram 256").lines[0].text == "machine reset with ram 256");
  CHECK(run(s, "config").lines[0].text == "ram 256 frames (1024 kB)");
}

TEST_CASE("session: an expression alone shows its value and sets _") {
  Session s(kEmpty);
  run(s, "x = 5");
  CHECK(run(s, "x").lines[0].text == "= 0x5 (5)");
  CHECK(run(s, "x + 4096 * 2").lines[0].text == "= 0x2005 (8197)");
  CHECK(run(s, "_ >> 12").lines[0].text == "= 0x2 (2)");
  CHECK(run(s, "MAP_SHARED | MAP_FIXED").lines[0].text == "= 0x11 (17)");
  Output o = s.exec("nosuch");
  CHECK(o.error_message == "unknown name 'nosuch' (not a variable, not a PROT_/MAP_ constant)");
  o = s.exec("x y");
  CHECK(o.error_message == "expected end of line, found 'y'");
  CHECK(o.error_span->begin == 2);
  // Showing a value changes nothing, so there is nothing to undo.
  CHECK(s.exec("undo").lines[0].text.find("undone: x = 5") == 0);
}

TEST_CASE("session: lessons lists the library; lesson N runs one from a fresh machine") {
  Session s(kEmpty);
  Output o = run(s, "lessons");
  REQUIRE(o.lines.size() == kLessonCount + 1);
  CHECK(o.lines[0].text.rfind("1  01-", 0) == 0);
  CHECK(o.lines[2].text.find("03-guard-page  A guard page") != std::string::npos);
  run(s, kMmap);
  o = run(s, "lesson guard-page");
  CHECK(o.lines[0].text == "lesson 03-guard-page (from a fresh machine)");
  bool echoed = false, segv = false;
  for (const auto& l : o.lines) {
    echoed |= l.kind == LineKind::Input && l.text.rfind("> buf = mmap(", 0) == 0;
    segv |= l.kind == LineKind::Signal && l.text.find("SEGV_ACCERR") != std::string::npos;
  }
  CHECK(echoed);
  CHECK(segv);
  CHECK(s.variables().count("p") == 0);  // the machine was fresh: the earlier p is gone
  CHECK(s.variables().count("buf") == 1);
  CHECK(run(s, "lesson 3").lines[0].text == "lesson 03-guard-page (from a fresh machine)");
  CHECK(s.exec("lesson 99").error_message == "no lesson '99' (lessons lists them)");
  CHECK(s.exec("lesson").error_message == "lesson takes a number or a name: lesson 3 (lessons lists them)");
  CHECK(s.exec("lesson 1 2").error_message == "lesson takes a number or a name: lesson 3 (lessons lists them)");
}

TEST_CASE("session: cat /proc/self/pagemap decodes the present pages") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "p[4096] = 7");
  Output o = run(s, "cat /proc/self/pagemap");
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[0].text == "# /proc/self/pagemap is binary; its entries for present pages, decoded:");
  CHECK(o.lines[1].text.rfind("7ffff7ffe000  8", 0) == 0);  // present bit, then the PFN
  CHECK(o.lines[1].text.find(" exclusive") != std::string::npos);
  CHECK(s.exec("cat /proc/7/pagemap").error_message == "cat: /proc/7/pagemap: no such process");
}

TEST_CASE("session: output of one line is capped, with a note") {
  Session s(kEmpty);
  run(s, "config ram 65536");
  run(s, "p = mmap(NULL, 128M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE, -1, 0)");
  Output o = run(s, "cat /proc/self/pagemap");  // 32768 pages present
  REQUIRE(o.lines.size() == Session::kMaxOutputLines + 1);
  CHECK(o.lines.back().kind == LineKind::Note);
  CHECK(o.lines.back().text.find("12769 more lines not shown: the limit is 20000 lines") != std::string::npos);
}

TEST_CASE("session: expressions may start with a number, a character or a parenthesis") {
  Session s(kEmpty);
  CHECK(run(s, "4096 * 3").lines[0].text == "= 0x3000 (12288)");
  CHECK(run(s, "'A' + 1").lines[0].text == "= 0x42 (66)");
  CHECK(run(s, "(1 << 12) - 1").lines[0].text == "= 0xfff (4095)");
  CHECK(run(s, "~0 >> 60").lines[0].text == "= 0xf (15)");
  // A number followed by a name is still strace -f's pid prefix.
  CHECK(run(s, "4613 getpid() = 4613").lines[0].text == "[pid 1] getpid() = 1");
}

TEST_CASE("session: a refused line with a log pid does not claim that pid") {
  Session s(kEmpty);
  CHECK_FALSE(s.exec("[pid 100] x = q").ok);
  // 200 is the first log pid that ran, so it names the current process.
  CHECK(run(s, "[pid 200] getpid()").lines[0].text == "[pid 1] getpid() = 1");
  CHECK(s.exec("[pid 100] getpid()").error_message == "no process with pid 100");
  // A pid typed after use or pmap is a simulated pid or an already mapped log pid.
  CHECK(run(s, "use 200").lines[0].text == "lines now run as pid 1");
  CHECK(s.exec("use 300").error_message == "no process with pid 300");
}

TEST_CASE("session: memset, memcpy and strcpy return dst; *(p + 8) is an address") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "x = memset(p + 16, 7, 16)");
  CHECK(s.variables().at("x") == 0x7ffff7ffd010);
  run(s, "y = strcpy(p + 4096, \"hi\")");
  CHECK(s.variables().at("y") == 0x7ffff7ffe000);
  CHECK(run(s, "_").lines[0].text == "= 0x7ffff7ffe000 (140737354129408)");
  run(s, "*(p + 8) = 3");
  CHECK(run(s, "*(p + 8)").lines[0].text == "*0x7ffff7ffd008 = 3 (0x3)");
  CHECK(s.exec("z = dump(p, 4)").error_message == "'dump' gives no value to assign");
  CHECK(s.exec("MAP_SHARED = memset(p, 0, 1)").error_message == "'MAP_SHARED' is a constant and cannot be assigned");
}

TEST_CASE("session: above the VMA limit lines leave no checkpoint, and undo replays from an earlier one") {
  SessionConfig cfg = kEmpty;
  cfg.undo_vma_limit = 4;
  Session s(cfg);
  std::vector<std::string> states{machine(s)};
  for (int i = 0; i < 12; ++i) {
    run(s, "mmap(" + std::to_string(0x600000000 + i * 0x2000) + ", 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
    states.push_back(machine(s));
  }
  // Only step 0 keeps a checkpoint (the next would come 64 lines on, and there are more
  // than 4 VMAs after a few lines): undo replays from the start.
  CHECK(s.checkpoint_steps() == std::vector<size_t>{0});
  for (int n = 11; n >= 0; --n) {
    CHECK(run(s, "undo").lines[0].text.rfind("undone: mmap(", 0) == 0);
    CHECK(machine(s) == states[static_cast<size_t>(n)]);
  }
}
TEST_CASE("session: checkpoints are further apart on a larger machine, and every step is still exact") {
  // The default machine (1,024 frames): one every 64 lines.
  Session small(kEmpty);
  for (int i = 0; i < 200; ++i) run(small, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  CHECK(small.checkpoint_steps() == std::vector<size_t>{0, 64, 128, 192});
  // 65,536 frames: copying the machine costs 64 times as much, so checkpoints come every
  // 512 lines and more (65,536 / 128, plus one per 5 VMAs).
  SessionConfig cfg = kEmpty;
  cfg.kernel.phys.frames = 65536;
  Session big(cfg);
  std::vector<std::string> states{machine(big)};
  for (int i = 0; i < 100; ++i) {
    run(big, "p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
    run(big, i % 3 ? "p[0] = 1" : "mprotect(p, 4096, PROT_READ)");
    states.push_back(machine(big));
  }
  CHECK(big.checkpoint_steps() == std::vector<size_t>{0});
  // Going back replays up to 200 lines from step 0, and gives each state exactly (a
  // state was kept after every second step).
  for (size_t n : {58u, 4u, 200u, 128u}) {
    run(big, "goto " + std::to_string(n));
    CHECK(machine(big) == states[n / 2]);
  }
}

TEST_CASE("session: frames PFN tells what a frame is, who maps it, and what it holds") {
  Session s(kEmpty);
  run(s, kMmap);
  run(s, "p[1] = 'A'");
  run(s, "fork()");
  const uint64_t p = s.variables().at("p");
  const uint64_t pfn = vmplay::engine::pte_pfn(s.kernel().walk(1, p).pte()).value;
  char hexpfn[32], line[160];
  std::snprintf(hexpfn, sizeof hexpfn, "0x%llx", static_cast<unsigned long long>(pfn));
  Output o = run(s, std::string("frames ") + hexpfn);
  REQUIRE(o.lines.size() == 12);
  std::snprintf(line, sizeof line, "pfn %s   phys 0x%llx", hexpfn, static_cast<unsigned long long>(pfn << 12));
  CHECK(o.lines[0].text == line);
  CHECK(o.lines[1].text.rfind("anonymous page of anon_vma ", 0) == 0);
  // After fork both processes map it, read-only, until one writes (copy-on-write).
  // (Its dirt is in the PTEs: an anonymous page gets PG_dirty only from reclaim.)
  CHECK(o.lines[2].text == "refcount 2   mapcount 2   flags anon lru swapbacked");
  // Where it stands for reclaim: the only anonymous page, so the oldest on its list.
  CHECK(o.lines[3].text == "on the inactive_anon list, at the tail (reclaim looks at it next)");
  CHECK(o.lines[4].text == "mapped by 2 PTEs:");
  std::snprintf(line, sizeof line, "  pid 1 at 0x%llx", static_cast<unsigned long long>(p));
  CHECK(o.lines[5].text == line);
  std::snprintf(line, sizeof line, "  pid 2 at 0x%llx", static_cast<unsigned long long>(p));
  CHECK(o.lines[6].text == line);
  CHECK(o.lines[7].text == "contents:");
  CHECK(o.lines[8].text.find(" 00 41 00 00 ") != std::string::npos);
  CHECK(o.lines[8].text.substr(o.lines[8].text.size() - 18) == "|.A..............|");
  // hexdump -C: the first all-zero line, then "*" for the ones like it, then the end.
  CHECK(o.lines[9].text.find(" 00 00 00 00 00 00 00 00  00 00 ") != std::string::npos);
  CHECK(o.lines[10].text == "*");
  std::snprintf(line, sizeof line, "%012llx", static_cast<unsigned long long>((pfn + 1) << 12));
  CHECK(o.lines[11].text == line);
  // A free frame: never written, mapped by nothing.
  Output f = run(s, "frames 0x300");
  CHECK(f.lines[1].text == "free: on the free list");
  CHECK(f.lines[3].text == "mapped by no page table");
  CHECK(f.lines.back().text == "contents: all zeros (never written)");
  CHECK(s.exec("frames 0x400").error_message == "no frame 0x400: RAM has frames 0 to 0x3ff");
  CHECK(s.exec("frames pfn").error_message == "frames wants a frame number (pfn), got 'pfn'");
}

TEST_CASE("session: the words Tab completes are every call, command and constant the shell knows") {
  auto words = Session::words();
  auto find = [&](const std::string& t) {
    return std::find_if(words.begin(), words.end(), [&](const Session::Word& w) { return w.text == t; });
  };
  for (const char* call : {"mmap", "mprotect", "mremap", "madvise", "msync", "fork", "memset", "dump"}) {
    REQUIRE(find(call) != words.end());
    CHECK(find(call)->is_call);
  }
  for (const char* word : {"undo", "redo", "goto", "timeline", "frames", "walk", "MAP_SHARED", "PROT_READ", "MADV_DONTNEED"}) {
    REQUIRE(find(word) != words.end());
    CHECK_FALSE(find(word)->is_call);
  }
  // Each is accepted by the shell: a call's name is known, a command parses as one.
  Session s(kEmpty);
  for (const auto& w : words)
    if (w.is_call) CHECK(s.exec(w.text + "(").error_message.find("unknown") == std::string::npos);
}

TEST_CASE("session: script() rebuilds the current state on a fresh session") {
  Session s;
  CHECK(s.script().empty());
  run(s, "config ram 2048");
  run(s, kMmap);
  run(s, "p[0] = 'A'");
  run(s, "fork()");
  run(s, "[pid 2] p[0] = 'B'");
  run(s, "cat /proc/self/maps");  // not a step
  Session t;
  for (size_t b = 0, e; b < s.script().size(); b = e + 1) {
    e = s.script().find('\n', b);
    run(t, s.script().substr(b, e - b));
  }
  CHECK(machine(t) == machine(s));
  CHECK(t.kernel().phys().total() == 2048);
  // After a reset only the settings remain; after undo, the script stops where we are.
  run(s, "reset");
  run(s, "x = 1");
  CHECK(s.script() == "config ram 2048\nx = 1\n");
  run(s, "undo");
  CHECK(s.script() == "config ram 2048\n");
  // Settings in either form (`key value`, `key=value`) are kept across a later reset, in
  // their order; the lines between them are not.
  run(s, "config overcommit_ratio=80");
  run(s, "y = 2");
  run(s, "config overcommit 1");
  run(s, "reset");
  run(s, "z = 3");
  CHECK(s.script() == "config ram 2048\nconfig overcommit_ratio=80\nconfig overcommit 1\nz = 3\n");
}

TEST_CASE("session: an orphan goes to pid 1, which can then reap it (forget_original_parent)") {
  Session s(kEmpty);
  run(s, "fork()");              // 2, child of 1
  run(s, "[pid 2] fork()");      // 3, child of 2
  CHECK(s.kernel().process(3)->ppid == 2);
  run(s, "[pid 2] exit_group(0)");
  CHECK(s.kernel().process(3)->ppid == 1);
  CHECK(run(s, "wait4(2, NULL, 0, NULL)").lines[0].text == "wait4(2, NULL, 0, NULL) = 2");
  run(s, "[pid 3] exit_group(0)");
  CHECK(run(s, "wait4(-1, NULL, 0, NULL)").lines[0].text == "wait4(-1, NULL, 0, NULL) = 3");
  CHECK(s.kernel().pids().size() == 1);
  // A zombie whose parent dies goes to pid 1 too; a kill reparents like an exit.
  run(s, "fork()");              // 4
  run(s, "[pid 4] fork()");      // 5
  run(s, "[pid 5] exit_group(7)");
  run(s, "kill(4, SIGKILL)");
  CHECK(s.kernel().process(5)->ppid == 1);
  CHECK(run(s, "wait4(5, NULL, 0, NULL)").lines[0].text == "wait4(5, NULL, 0, NULL) = 5");
}
