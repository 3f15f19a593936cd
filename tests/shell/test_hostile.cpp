// Hostile and careless input: random bytes, random glue of the language's words, huge
// numbers, deep nesting, long lines, invalid UTF-8, NUL bytes, fragments of strace
// lines. Whatever comes in, a refused line changes nothing, the kernel's invariants
// hold after every line, and nothing runs away. Then the resource limits: processes,
// VMAs per process, bytes per line.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shell/session.h"
#include "tests/shell/empty_session.h"

using namespace vmplay::shell;

namespace {

// Deterministic (splitmix64): the same lines on every build and platform.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

// Native builds feed a few megabytes; wasm under Node is much slower.
#ifdef __EMSCRIPTEN__
constexpr size_t kRandomLines = 600;
constexpr size_t kLongLines = 2;
#else
constexpr size_t kRandomLines = 1800;
constexpr size_t kLongLines = 4;
#endif

// A session with little RAM, so that state_json (taken before every line) is cheap,
// and a mapping, a file and a child to aim at.
SessionConfig small_config() {
  SessionConfig c = testing::kEmpty;
  c.kernel.phys.frames = 256;
  return c;
}

void setup(Session& s) {
  for (const char* line : {"p = mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
                           "p[0] = 'A'", "fd = open(\"/home/user/words.txt\", O_RDONLY)", "fork()"})
    REQUIRE(s.exec(line).ok);
}

Session armed() {
  Session s(small_config());
  setup(s);
  return s;
}

struct Tally {
  size_t lines = 0, refused = 0, bytes = 0;
};

// Runs one line; a refused one must leave the state exactly as it was. Returns
// whether the line ran.
bool feed(Session& s, std::string_view line, Tally& t) {
  const std::string state = s.state_json();
  const auto vars = s.variables();
  const uint64_t lines_run = s.lines_run();
  Output o = s.exec(line);
  ++t.lines;
  t.bytes += line.size();
  if (!o.ok) {
    ++t.refused;
    INFO("refused line of " << line.size() << " bytes: " << std::string(line.substr(0, 200)));
    REQUIRE(!o.error_message.empty());
    REQUIRE(o.error_span);
    CHECK(o.error_span->begin <= o.error_span->end);
    CHECK(o.error_span->begin <= line.size());
    CHECK(s.state_json() == state);
    CHECK(s.variables() == vars);
    CHECK(s.lines_run() == lines_run);
  }
  CHECK(o.lines.size() <= Session::kMaxOutputLines + 1);
  const auto bad = s.kernel().check_invariants();
  INFO("line: " << std::string(line.substr(0, 200)));
  REQUIRE(bad.empty());
  return o.ok;
}

// Lines that must all be refused.
void feed_refused(Session& s, const std::vector<std::string>& lines, Tally& t) {
  for (const std::string& line : lines) {
    INFO("line: " << line.substr(0, 200));
    CHECK_FALSE(feed(s, line, t));
  }
}

// The words of the language, and pieces of them. memset, memcpy, strcpy and touch are
// left out: one of them may take a second a line (each byte goes through the MMU).
const std::vector<std::string_view> kVocab = {
    "mmap", "munmap", "mprotect", "madvise", "mremap", "mlock", "mlockall", "mincore", "msync", "brk",
    "fork", "exit", "wait4", "kill", "getpid", "open", "read", "write", "close", "lseek", "dump",
    "pagemap", "cat", "/proc/self/maps", "/proc/2/smaps", "walk", "smaps", "ps", "use", "pmap", "frames",
    "free", "ls", "echo", "help", "undo", "p", "q", "fd", "_", "x", "NULL", "PROT_READ", "PROT_WRITE",
    "PROT_NONE", "MAP_PRIVATE", "MAP_SHARED", "MAP_ANONYMOUS", "MAP_FIXED", "MADV_DONTNEED", "O_RDONLY",
    "SIGKILL", "(", ")", "[", "]", "{", "}", ",", "=", "|", "&", "^", "~", "-", "+", "*", "/", "%",
    "<<", ">>", "#", "'", "\"", "...", "/*", "*/", "(int *)", "(unsigned long *)", "0", "1", "-1",
    "4096", "8192", "0x7f0000000000", "4K", "2M", "1G", "'A'", "'\\x41'", "'\\0'", "\"hi\\n\"", "[pid",
    "[pid 2]", "[pid 1]", "4613 ", "<unfinished ...>", "<... mmap resumed>", "resumed>", "= ", "= -1 ENOMEM",
    "(Cannot allocate memory)", "= ?", "+++ exited with 0 +++", "--- SIGSEGV {si_signo=SIGSEGV} ---",
    " ", " ", " ", "\t", "\xff", "\xc3\x28", "\xe2\x82", "\xf0\x9f\x98\x80", std::string_view("\0", 1)};

std::string random_bytes(Rng& r, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(r.next());
  return s;
}

std::string random_tokens(Rng& r) {
  std::string s;
  size_t n = 1 + r.below(24);
  for (size_t i = 0; i < n; ++i) {
    s += kVocab[r.below(kVocab.size())];
    if (r.below(3) == 0) s += ' ';
  }
  return s;
}

// A plausible line with one part spoiled: a byte replaced, dropped or inserted.
std::string mutated(Rng& r) {
  static const std::vector<std::string> kGood = {
      "q = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
      "mprotect(p, 4096, PROT_READ)", "p[4096] = 'B'", "*(int *)(p + 8) = 42", "munmap(p + 8192, 4096)",
      "[pid 2] p[0] = 'C'", "read(fd, p, 100)", "write(1, \"hi\\n\", 3) = 3", "cat /proc/self/maps",
      "x = (1 << 12) * 3 + ~0 / 2", "dump(p, 64)", "madvise(p, 4096, MADV_DONTNEED)", "walk p + 4096",
      "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f3c12345000",
      "4613  brk(NULL) = 0x5555",
  };
  std::string s = kGood[r.below(kGood.size())];
  size_t edits = 1 + r.below(3);
  for (size_t i = 0; i < edits && !s.empty(); ++i) {
    size_t at = r.below(s.size());
    switch (r.below(3)) {
      case 0: s[at] = static_cast<char>(r.next()); break;
      case 1: s.erase(at, 1); break;
      default: s.insert(at, 1, static_cast<char>(r.next())); break;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("hostile: random bytes, random tokens and spoiled lines") {
  Session s = armed();
  Rng r{0x5eed1234};
  Tally t;
  for (size_t i = 0; i < kRandomLines; ++i) {
    std::string line;
    switch (i % 3) {
      case 0: line = random_bytes(r, r.below(400)); break;
      case 1: line = random_tokens(r); break;
      default: line = mutated(r); break;
    }
    feed(s, line, t);
    // Keep the machine alive: a random exit or kill may end pid 1.
    if (!s.kernel().process(s.current_pid()) ||
        s.kernel().process(s.current_pid())->state != vmplay::engine::ProcState::Running) {
      feed(s, "reset", t);
      setup(s);
    }
  }
  // Most of it is refused, and some of it runs.
  CHECK(t.refused > t.lines / 2);
  CHECK(t.refused < t.lines);
  MESSAGE("random: " << t.lines << " lines, " << t.bytes << " bytes, " << t.refused << " refused");
}

TEST_CASE("hostile: lines longer than the limit, megabytes of them") {
  Session s = armed();
  Rng r{42};
  Tally t;
  for (size_t i = 0; i < kLongLines; ++i) {
    std::string line = random_bytes(r, (1 << 20) + i);
    feed(s, line, t);
    feed(s, "# " + std::string((1 << 20), 'x'), t);
    feed(s, "p = " + std::string(kMaxLineLength, '1'), t);
  }
  CHECK(t.refused == t.lines);
  CHECK(t.bytes > kLongLines << 20);
  Output o = s.exec(std::string(5000, '('));
  CHECK(o.error_message == "line is 5000 bytes long; the limit is 4096");
}

TEST_CASE("hostile: huge numbers") {
  Session s = armed();
  Tally t;
  const std::string dec(100, '9'), hex = "0x" + std::string(100, 'f');
  for (const std::string& line : std::vector<std::string>{
           "x = " + dec, "x = " + hex, "x = 18446744073709551616", "x = 0x10000000000000000",
        "x = 0" + std::string(30, '7'), "x = 99999999999999999999K", "x = 17179869184G", "p[" + dec + "] = 1",
        "mmap(" + hex + ", 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)", "[pid " + dec + "] getpid()",
        dec + " getpid()", "munmap(p, 4096) = " + dec, "'\\777'", "x = 0x", "x = 0xg", "x = 09"}) {
    feed(s, line, t);
  }
  CHECK(t.refused == t.lines);
  CHECK(s.exec("x = " + dec).error_message == "number does not fit in 64 bits");
  // The largest numbers that fit are values, and arithmetic wraps as in C.
  CHECK(s.exec("x = 0xffffffffffffffff + 18446744073709551615").lines[0].text == "x = 0xfffffffffffffffe");
  CHECK(s.exec("x = 16383P").ok == false);
}

TEST_CASE("hostile: deep nesting is refused before it can use up the stack") {
  Session s = armed();
  Tally t;
  const std::string msg = "expression nested too deeply: more than 256 levels of parentheses, signs or operators";
  auto chain = [](size_t n, std::string_view op) {
    std::string e = "1";
    for (size_t i = 0; i < n; ++i) (e += op) += "1";
    return e;
  };
  const std::vector<std::string> deep = {
      std::string(2000, '(') + "1" + std::string(2000, ')'),
      "x = " + std::string(2000, '(') + "1" + std::string(2000, ')'),
      "x = " + std::string(4000, '-') + "1",
      "x = " + std::string(4000, '~') + "1",
      chain(2000, "+"),
      "p[" + chain(1500, "|") + "] = 1",
      "mmap(NULL, " + chain(1000, "*") + ", PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
      "*(" + std::string(2000, '(') + "p" + std::string(2000, ')') + ")",
      "walk " + std::string(2000, '(') + "p",
  };
  feed_refused(s, deep, t);
  for (const std::string& line : deep) {
    INFO("line: " << line.substr(0, 200));
    CHECK(s.exec(line).error_message == msg);
  }
  // 10^5 deep: the line limit refuses it first.
  feed(s, std::string(100000, '(') + "1" + std::string(100000, ')'), t);
  CHECK(t.refused == t.lines);
  // The limit itself is allowed, for each kind of level.
  CHECK(s.exec(std::string(256, '(') + "1" + std::string(256, ')')).ok);
  CHECK(s.exec(std::string(256, '-') + "1").ok);
  CHECK(s.exec(chain(256, "+")).lines[0].text == "= 0x101 (257)");
  CHECK(s.exec(std::string(257, '(') + "1" + std::string(257, ')')).error_span->begin == 256);
  // Structs strace prints are skipped without recursion, however deep.
  CHECK(s.exec("fstat(fd, " + std::string(2000, '{') + std::string(2000, '}') + ")").ok);
}

TEST_CASE("hostile: invalid UTF-8, NUL bytes, lone quotes") {
  Session s = armed();
  Tally t;
  using namespace std::string_literals;
  const std::vector<std::string> refused = {
      "\xff\xfe", "p = \xc3\x28", "x\xe2\x82 = 1", "\xc0\xaf", "mmap\xf0\x9f\x98\x80()", "p = 1\0 2"s,
      "getpid()\0"s, "\0getpid()"s, "\0"s, "[pid 2\0] getpid()"s, "x = '\0"s, "'", "\"", "p = '",
      "p = \"", "write(1, \"abc, 3)", "x = 'ab'", "x = ''", "x = '\\", "open(\"\\", "p[0] = '",
      "p[0] = \"A\"", "x = \"unterminated \\\"", "cat /proc/self/maps\0junk"s, "walk p\0"s,
  };
  feed_refused(s, refused, t);
  CHECK(s.exec("p = 1\0 2"s).error_message == "unexpected byte 0");
  CHECK(s.exec("p = \xc3\x28").error_message == "unexpected byte 195");
  // Inside a string or a comment, any byte is data.
  for (const std::string& line : std::vector<std::string>{"# caf\xc3\xa9 \xff\0 ok"s, "write(1, \"\xff\xfe\0\", 3)"s, "echo \xff\0x"s,
                                  "open(\"/tmp/\xff\0\", O_RDONLY)"s}) {
    feed(s, line, t);
    CHECK(s.exec(line).ok);
  }
  // The state as JSON stays valid ASCII JSON whatever names held.
  REQUIRE(s.exec("open(\"/tmp/\xff\x01\", O_RDWR|O_CREAT, 0644)").ok);
  for (char c : s.state_json()) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

TEST_CASE("hostile: fragments of strace lines") {
  Session s = armed();
  Tally t;
  const std::vector<std::string> refused = {
      "[pid", "[pid ", "[pid 1", "[pid -1] getpid()", "[pid 0x] getpid()", "[pid 2",
      "[pid 2]]", "[pid 60] getpid()", "[", "]", "[pid 1] [pid 1] getpid()", "<... mmap resumed>) = 0",
      "[pid 2] <... mmap resumed>) = 0", "<... ", "<...", "resumed>", "mmap(NULL, 4096 resumed>",
      "4613 <... mmap resumed>) = 0", "mmap(", "mmap(NULL,", "mmap(NULL, 4096, PROT_READ",
      "munmap(p, 4096) = ", "munmap(p, 4096) = -", "munmap(p, 4096) = -1 EINVAL (", "getpid() = ?x",
  };
  feed_refused(s, refused, t);
  // A pid tag alone runs nothing, as an empty line.
  CHECK(feed(s, "[pid 1]", t));
  CHECK(feed(s, "[pid 2] # narration", t));
  // An unfinished call waits for its half; garbage after it in the resumed line is
  // refused, and a lone marker is no call.
  CHECK(feed(s, "[pid 2] mmap(NULL, 4096, PROT_READ, <unfinished ...>", t));
  const std::string junk = "[pid 2] <... mmap resumed>MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1000 ) junk";
  CHECK_FALSE(feed(s, junk, t));
  // The error's column is in the line as typed, not in the two halves joined.
  Output o = s.exec(junk);
  CHECK(o.error_span->begin == junk.rfind(')'));
  CHECK(o.lines[0].text == "error: column " + std::to_string(junk.rfind(')') + 1) +
                               ": expected end of line, found ')'");
  // ... and the unfinished half is still there for the right one.
  CHECK(feed(s, "[pid 2] <... mmap resumed>MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1000", t));
  CHECK(feed(s, "<unfinished ...>", t));
  CHECK_FALSE(feed(s, "[pid 3] <... mmap resumed>) = 0", t));
  CHECK(feed(s, "+++ exited with 0 +++", t));
  CHECK(feed(s, "--- SIGSEGV", t));
  CHECK(feed(s, "[pid 2] mmap(NULL, 4096, <unfinished ...>", t));
  CHECK(feed(s, "[pid 2] <... mmap resumed>PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1000", t));
}

TEST_CASE("limits: a fork loop stops at the process limit with EAGAIN, as RLIMIT_NPROC does") {
  // Linux (measured as an unprivileged user with RLIMIT_NPROC 20): the 20th process's
  // fork fails with EAGAIN; zombies count until reaped. vmplay's limit is 64.
  Session s(testing::kEmpty);
  const uint32_t limit = s.kernel().config().max_processes;
  size_t again = 0;
#ifdef __EMSCRIPTEN__
  constexpr size_t kForks = 500;
#else
  constexpr size_t kForks = 1000;
#endif
  for (size_t i = 0; i < kForks; ++i) {
    Output o = s.exec("fork()");
    REQUIRE(o.ok);
    if (o.lines[0].text == "fork() = -1 EAGAIN (Resource temporarily unavailable)") ++again;
  }
  CHECK(s.kernel().pids().size() == limit);
  CHECK(again == kForks - (limit - 1));
  CHECK(s.kernel().check_invariants().empty());
  // Reaping one makes room for one more.
  REQUIRE(s.exec("[pid 2] exit(0)").ok);
  CHECK(s.exec("fork()").lines[0].text == "fork() = -1 EAGAIN (Resource temporarily unavailable)");
  REQUIRE(s.exec("wait4(2, NULL, 0, NULL)").ok);
  CHECK(s.exec("fork()").lines[0].text == "fork() = 65");
}

TEST_CASE("limits: an mmap loop stops at vm.max_map_count with ENOMEM, as Linux does") {
  // Linux 6.18 (measured): mmap refuses with ENOMEM once map_count exceeds
  // vm.max_map_count, so a process ends with max_map_count + 1 VMAs.
  SessionConfig c = testing::kEmpty;
  c.kernel.max_map_count = 300;
  Session s(c);
  size_t mapped = 0;
  std::string last;
  for (size_t i = 0; i < 400; ++i) {
    // Alternate protections so that neighbours never merge.
    Output o = s.exec(std::string("mmap(NULL, 4096, ") + (i % 2 ? "PROT_READ" : "PROT_READ|PROT_WRITE") +
                      ", MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
    REQUIRE(o.ok);
    last = o.lines[0].text;
    if (last.find("= -1") == std::string::npos) ++mapped;
  }
  CHECK(last.find("= -1 ENOMEM (Cannot allocate memory)") != std::string::npos);
  CHECK(s.kernel().process(1)->mm.vmas.size() == 301);
  CHECK(mapped == 301);
  CHECK(s.kernel().check_invariants().empty());
  // A split that would pass the limit fails too (mprotect's ENOMEM).
  const auto& vmas = s.kernel().process(1)->mm.vmas;
  uint64_t big = 0;
  REQUIRE(s.exec("munmap(" + std::to_string(vmas.begin()->first) + ", 4096)").ok);
  REQUIRE(s.exec("big = mmap(NULL, 16384, PROT_READ, MAP_SHARED|MAP_ANONYMOUS, -1, 0)").ok);
  big = s.variables().at("big");
  CHECK(s.exec("mprotect(" + std::to_string(big + 4096) + ", 4096, PROT_NONE)").lines[0].text.find("ENOMEM") !=
        std::string::npos);
}

#ifndef __EMSCRIPTEN__
TEST_CASE("limits: the default vm.max_map_count, 65530, straight on the kernel") {
  // Without the shell's undo snapshots: each mmap is O(log n), the whole loop well under a second.
  vmplay::engine::Kernel k;
  auto pid = k.spawn("loop");
  REQUIRE(pid);
  vmplay::engine::SysResult r;
  size_t n = 0;
  for (; n < 70000; ++n) {
    r = k.sys_mmap(*pid, {0, 4096, n % 2 ? uint64_t{1} : uint64_t{3}, 0x22, -1, 0});
    if (!r.is_ok()) break;
    if (n % 1024 == 0) k.drain_events();
  }
  CHECK(r.err == vmplay::engine::Errno::NoMem);
  CHECK(k.process(*pid)->mm.vmas.size() == 65531);
}
#endif

TEST_CASE("limits: bytes per line, output per line") {
  Session s(testing::kEmpty);
  REQUIRE(s.exec("p = mmap(NULL, 1G, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)").ok);
  const std::string state = s.state_json();
  CHECK(s.exec("memset(p, 0, 1G)").error_message ==
        "memset copies at most 1 MiB per line (each byte goes through the MMU); asked for 1073741824");
  CHECK(s.exec("memcpy(p, p + 512M, 1G)").error_message ==
        "memcpy copies at most 1 MiB per line (each byte goes through the MMU); asked for 1073741824");
  CHECK(s.exec("touch(p, 1G, \"w\")").error_message == "touch covers at most 65536 pages (256 MiB) per line");
  CHECK(s.exec("memset(p, 0, -1)").ok == false);
  CHECK(s.state_json() == state);
}
