// Every error the shell can print: each fail()/fail_here() of the parser (and the
// lexer's reasons that reach the user through fail_here), each refuse() of the
// session and its commands. One table row per way in; each row checks the exact
// message, the column the caret points at, and that the refused line changed nothing.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "shell/session.h"
#include "tests/shell/empty_session.h"

using namespace vmplay::shell;

namespace {

using testing::kEmpty;

const std::string kMmap = "p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)";

struct Refusal {
  std::vector<std::string> setup;  // run first, each must succeed
  std::string line;                // the line that is refused
  std::string message;             // Output::error_message, exactly
  uint32_t at;                     // error_span->begin: 0-based byte offset of the caret
};

void check_refused(const Refusal& r) {
  Session s(kEmpty);
  for (const auto& line : r.setup) {
    INFO("setup: " << line);
    REQUIRE(s.exec(line).ok);
  }
  // state_json covers processes, VMAs, PTEs, frames and variables.
  const std::string state = s.state_json();
  const auto vars = s.variables();
  const uint64_t seq = s.kernel().event_seq();
  const uint64_t lines_run = s.lines_run();
  const auto pid = s.current_pid();

  Output o = s.exec(r.line);
  INFO("line: " << r.line);
  CHECK_FALSE(o.ok);
  CHECK(o.error_message == r.message);
  REQUIRE(o.error_span);
  CHECK(o.error_span->begin == r.at);
  CHECK(o.error_span->end >= o.error_span->begin);
  REQUIRE(o.lines.size() == 1);
  CHECK(o.lines[0].kind == LineKind::Error);
  CHECK(o.lines[0].text == "error: column " + std::to_string(r.at + 1) + ": " + r.message);

  CHECK(s.state_json() == state);
  CHECK(s.variables() == vars);
  CHECK(s.kernel().event_seq() == seq);
  CHECK(s.lines_run() == lines_run);
  CHECK(s.current_pid() == pid);
  CHECK(s.kernel().check_invariants().empty());
}

void check_all(const std::vector<Refusal>& rows) {
  for (const auto& r : rows) check_refused(r);
}

}  // namespace

TEST_CASE("errors: syntax") {
  check_all({
      // Line structure: a pid prefix, then a statement, then the end or a # comment.
      {{}, "99999999999 mmap()", "process id too large", 0},
      // A number followed by a name is a strace -f pid prefix; otherwise an expression.
      {{}, "4613 x", "expected a system call after the process id, found 'x'", 5},
      {{}, "4613 5", "expected end of line, found number 5", 5},
      {{}, "4096 * ", "expected a value (a number, a 'c'haracter, a name or a flag), found end of line", 7},
      {{}, "[foo 2] getpid()", "expected 'pid' after '[', found 'foo'", 1},
      {{}, "[pid x] getpid()", "expected a process id after '[pid', found 'x'", 5},
      {{}, "[pid 99999999999] getpid()", "process id too large", 5},
      {{}, "[pid 2 getpid()", "expected ']' to close '[pid N', found 'getpid'", 7},
      {{}, ", x", "expected a statement (a system call, a variable, 'cat' or 'help'), found ','", 0},
      {{}, "x = 1 2", "expected end of line, found number 2", 6},
      // Terms and expressions.
      {{}, "x = )", "expected a value (a number, a 'c'haracter, a name or a flag), found ')'", 4},
      {{}, "x = ~", "expected a value (a number, a 'c'haracter, a name or a flag), found end of line", 5},
      {{}, "x = (1 + 2", "expected ')', found end of line", 10},
      {{}, "x = {1, 2", "unterminated '{': expected '}'", 4},
      {{}, "x = [1", "unterminated '[': expected ']'", 4},
      {{}, "p[1", "expected ']' to close the index, found end of line", 3},
      // Calls and their recorded results.
      {{}, "f(1 2)", "expected ',' or ')' after argument 1, found number 2", 4},
      {{}, "f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)", "too many arguments", 57},
      {{}, "getpid() = x", "expected the recorded result (a number) after '=', found 'x'", 11},
      {{}, "getpid() = -", "expected the recorded result (a number) after '=', found end of line", 12},
      {{}, "getpid() = -1 ENOENT (No such", "expected ')' to close the error text, found '('", 21},
  });
}

TEST_CASE("errors: tokens the lexer cannot read") {
  check_all({
      {{}, "x = $", "unexpected character '$'", 4},
      {{}, "x = 1 . 2", "unexpected character '.'", 6},
      {{}, "x = \x01", "unexpected byte 1", 4},
      {{}, "x = \xc3\xa9", "unexpected byte 195", 4},
      {{}, "x = 09", "'9' is not a digit of a base-8 number", 4},
      {{}, "x = 0xZ", "'Z' is not a digit of a base-16 number", 4},
      {{}, "x = 1G0", "'G' is not a digit of a base-10 number", 4},
      {{}, "x = 0x", "'0x' needs hexadecimal digits after it", 4},
      {{}, "x = 99999999999999999999", "number does not fit in 64 bits", 4},
      {{}, "x = 99999999999G", "number does not fit in 64 bits", 4},
      {{}, "x = '", "unterminated character literal", 4},
      {{}, "x = '\\", "unterminated character literal", 4},
      {{}, "x = ''", "empty character literal", 4},
      {{}, "x = 'ab'", "character literal holds one character; expected closing '", 4},
      {{}, "x = '\\q'", "unknown escape '\\q'", 4},
      {{}, "x = '\\x'", "'\\x' needs one or two hexadecimal digits", 4},
      {{}, "x = '\\777'", "octal escape above \\377", 4},
      {{}, "x = \"abc", "unterminated string: expected a closing \"", 4},
      {{}, "x = \"\\q\"", "unknown escape '\\q'", 4},
      {{}, "x = \"\\400\"", "octal escape above \\377", 4},
  });
}

TEST_CASE("errors: names, values and assignments") {
  check_all({
      {{}, "x = \"a\"", "a string cannot be used as a number here", 4},
      {{}, "x = {1}", "a {struct} cannot be used as a number here", 4},
      {{}, "x = _", "'_' is the last result, and there is none yet", 4},
      {{}, "x = PROT_RAED", "unknown name 'PROT_RAED'; did you mean PROT_READ?", 4},
      {{}, "x = zzzzzzzz", "unknown name 'zzzzzzzz' (not a variable, not a PROT_/MAP_ constant)", 4},
      {{}, "x = 1 / 0", "division by zero", 8},
      {{}, "x = 1 % (2 - 2)", "division by zero", 8},
      {{}, "MAP_SHARED = 1", "'MAP_SHARED' is a constant and cannot be assigned", 0},
      {{}, "foo + 1", "unknown name 'foo' (not a variable, not a PROT_/MAP_ constant)", 0},
      {{}, "x = reset()", "'reset' gives no value to assign", 4},
      {{}, "x = help()", "'help' gives no value to assign", 4},
  });
}

TEST_CASE("errors: system calls and their arguments") {
  check_all({
      {{}, "mmapp(1)", "unknown system call 'mmapp'; did you mean mmap?", 0},
      {{}, "zzzzzzzz(1)",
       "unknown system call 'zzzzzzzz' (vmplay knows: mmap, munmap, mprotect, madvise, mlock, mlock2, munlock, "
       "mlockall, munlockall, mincore, pagemap, mremap, msync, getpid, vfork, clone, newfstatat, brk, execve, fork, "
       "exit_group, exit, wait4, kill, open, openat, close, read, write, pread64, pwrite64, lseek, ftruncate, fstat, "
       "unlink, memfd_create)",
       0},
      {{}, "munmap(1)", "munmap takes 2 arguments, got 1: munmap(addr, length)", 0},
      {{}, "mremap(1)", "mremap takes 4 or 5 arguments, got 1: mremap(addr, old_len, new_len, flags[, new_addr])", 0},
      {{}, "mlockall()", "mlockall takes 1 argument, got 0: mlockall(flags)", 0},
      {{}, "munmap(\"a\", 1)", "argument 1 of munmap is a number or an address, not a string", 7},
      {{}, "munmap({1}, 1)",
       "a {struct} or [array] is only accepted where strace prints one (fstat's buffer, execve's argv and envp)", 7},
      {{}, "open(1, 0)", "argument 1 of open is a \"string\" in double quotes", 5},
      {{}, "munmap(q, 1)", "unknown name 'q' (not a variable, not a PROT_/MAP_ constant)", 7},
      {{}, "PROT_READ = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
       "'PROT_READ' is a constant and cannot be assigned", 0},
      {{}, "madvise(0, 4096, MADV_MERGEABLE)",
       "MADV_MERGEABLE is valid Linux advice that vmplay does not model yet (modelled: NORMAL, RANDOM, SEQUENTIAL, "
       "WILLNEED, DONTNEED, FREE, REMOVE, DONTFORK, DOFORK, DONTDUMP, DODUMP, WIPEONFORK, KEEPONFORK, COLD, PAGEOUT)",
       17},
      {{}, "mincore(0, 4096, [1])",
       "mincore needs the address of a buffer for its vector (the [...] is what strace printed)", 17},
      {{}, "x = execve(\"/home/user/a.out\")", "execve does not return on success, so there is nothing to assign", 0},
      {{}, "x = exit(0)", "exit does not return, so there is nothing to assign", 0},
      {{}, "x = exit_group(0)", "exit_group does not return, so there is nothing to assign", 0},
      {{}, "wait4(-1, 1, 0, 0)", "wait4 takes NULL, 0, NULL after the pid here (no status, options or rusage)", 10},
      {{"fork()"}, "wait4(-1, NULL, 0, NULL)",
       "wait4 would block: the child is still running (end it with [pid N] exit(0) or kill first)", 0},
      // A strace log line resumed without its "<unfinished ...>" half.
      {{}, "<... mmap resumed>) = 0", "a resumed line without the unfinished call it belongs to", 0},
  });
}

TEST_CASE("errors: memory statements") {
  check_all({
      {{}, "q[0]", "unknown variable 'q' (assign it first, e.g. q = mmap(...))", 0},
      {{kMmap}, "p[q]", "unknown name 'q'; did you mean p?", 2},
      {{kMmap}, "p[0] = q", "unknown name 'q'; did you mean p?", 7},
      {{kMmap}, "p[0] = 256", "value 256 does not fit in one byte (use 0..255, -128..-1 or a 'c'haracter)", 7},
      {{kMmap}, "p[0] = -129", "value -129 does not fit in one byte (use 0..255, -128..-1 or a 'c'haracter)", 7},
      {{}, "*q", "unknown name 'q' (not a variable, not a PROT_/MAP_ constant)", 1},
      {{kMmap}, "*(int *)p = q", "unknown name 'q'; did you mean p?", 12},
      {{}, "*(float *)p", "unknown type 'float' (use char, short, int, long, int8_t .. uint64_t)", 1},
      // *(p + 8) is the address itself: only C type words start a cast.
      {{kMmap}, "*(p + 8) = q", "unknown name 'q'; did you mean p?", 11},
      {{}, "*(foo_t *)p", "unknown type 'foo_t' (use char, short, int, long, int8_t .. uint64_t)", 1},
      {{}, "*(int)p", "expected '*' in the cast, as in *(int *)p, found ')'", 5},
      {{}, "*(int *p", "expected ')' to close the cast, found 'p'", 7},
      {{}, "memset(1, 2)", "memset takes 3 arguments, got 2: memset(dst, byte, n)", 0},
      {{}, "strcpy(1, 2)", "argument 2 of strcpy is a \"string\"", 10},
      {{}, "touch(1, 2, 3)", "argument 3 of touch is a \"string\"", 12},
      {{}, "memset(q, 1, 2)", "unknown name 'q' (not a variable, not a PROT_/MAP_ constant)", 7},
      {{}, "touch(0, 4096, \"q\")", "touch's mode is \"r\", \"w\" or \"x\"", 15},
  });
}

TEST_CASE("errors: processes and pids") {
  const std::vector<std::string> zombie2 = {"fork()", "[pid 2] exit(0)"};
  check_all({
      {{}, "[pid 5] getpid()", "no process with pid 5", 0},
      {{}, "[pid 5] # a comment", "no process with pid 5", 0},
      {{}, "5 getpid()", "no process with pid 5", 0},
      // The current process was reaped by its parent.
      {{"fork()", "use 2", "exit(0)", "[pid 1] wait4(-1, NULL, 0, NULL)"}, "getpid()",
       "the current process, pid 2, is gone: 'use N' picks another (ps lists them), 'reset' starts over", 0},
      {{"exit(0)"}, "getpid()", "process 1 has exited; type 'reset' to start a new one", 0},
      {{"kill(1, SIGKILL)"}, "p[0]", "process 1 was killed by SIGKILL; type 'reset' to start a new one", 0},
      {zombie2, "[pid 2] getpid()", "process 2 has exited; type 'reset' to start a new one", 0},
      {{}, "use", "use takes a process id: use 2", 0},
      {{}, "use x", "use takes a process id (a number from 1, as ps shows), got 'x'", 4},
      {{}, "use 0", "use takes a process id (a number from 1, as ps shows), got '0'", 4},
      {{}, "use 4294967297", "use takes a process id (a number from 1, as ps shows), got '4294967297'", 4},
      {{}, "use 9", "no process with pid 9", 4},
      {{}, "use 100", "no process with pid 100", 4},  // a typed pid is never a log's pid
      {zombie2, "use 2", "process 2 has exited", 4},
      {{}, "pmap 9", "no process with pid 9", 5},
      {{}, "pmap -x 4294967297", "pmap takes a process id (a number from 1, as ps shows), got '4294967297'", 8},
      {zombie2, "pmap 2", "pmap: process 2 is not running", 0},
  });
}

TEST_CASE("errors: cat, walk and smaps") {
  check_all({
      {{}, "cat", "expected a path after 'cat' (for example /proc/self/maps)", 3},
      {{}, "cat  # no path", "expected a path after 'cat' (for example /proc/self/maps)", 5},
      {{}, "cat /proc/foo/maps", "cat: /proc/foo/maps: no such file (try /proc/self/maps)", 4},
      {{}, "cat /proc/1", "cat: /proc/1: no such file (try /proc/self/maps)", 4},
      {{}, "cat /nonexistent", "cat: /nonexistent: No such file or directory", 4},
      {{}, "cat /proc/9/pagemap", "cat: /proc/9/pagemap: no such process", 4},
      {{}, "cat /proc/self/environ",
       "cat: /proc/self/environ: no such file (vmplay shows /proc/PID/maps, smaps, status, pagemap, oom_score, "
       "/proc/meminfo, /proc/vmstat, /proc/swaps and /proc/sys/vm/overcommit_memory)",
       4},
      {{}, "cat /proc/9/maps", "cat: /proc/9/maps: no such process", 4},
      {{"exit(0)"}, "cat /proc/self/maps", "cat: /proc/self/maps: no such process", 4},
      {{}, "walk", "expected an address after 'walk' (for example walk p), found end of line", 4},
      {{}, "smaps # where?", "expected an address after 'smaps' (for example smaps p), found '#'", 6},
      {{}, "walk q", "unknown name 'q' (not a variable, not a PROT_/MAP_ constant)", 5},
      {{}, "walk 1 << 47", "0x800000000000 is not a user address (user space ends at 0x7ffffffff000)", 5},
      {{}, "smaps 0x1000", "no VMA holds 0x1000 in pid 1", 6},
  });
}

TEST_CASE("errors: shell commands") {
  // echo, ps, frames, free and lessons cannot fail.
  check_all({
      {{}, "help zzzz", "no help on 'zzzz'", 5},
      {{}, "help mmapp", "no help on 'mmapp'; did you mean mmap?", 5},
      {{}, "lesson", "lesson takes a number or a name: lesson 3 (lessons lists them)", 0},
      {{}, "lesson 1 2", "lesson takes a number or a name: lesson 3 (lessons lists them)", 0},
      {{}, "lesson 0", "no lesson '0' (lessons lists them)", 7},
      {{}, "lesson zzz", "no lesson 'zzz' (lessons lists them)", 7},
      {{}, "ls /zzz", "ls: no files under /zzz", 3},
      {{}, "config ram",
       "config KEY VALUE (or KEY=VALUE): ram FRAMES, swap SIZE|off, overcommit 0|1|2, overcommit_ratio PERCENT, "
       "aslr SEED|off, verbosity quiet|faults|all",
       0},
      {{}, "config swap 3",
       "swap wants a size such as 16M or 512K (at most 256M, in whole 4 KiB pages), or off; got '3'", 12},
      {{}, "config swap=1G",
       "swap wants a size such as 16M or 512K (at most 256M, in whole 4 KiB pages), or off; got '1G'", 12},
      {{}, "config overcommit 3", "overcommit is 0 (heuristic), 1 (always) or 2 (never), not '3'", 18},
      {{}, "config overcommit_ratio=-5", "overcommit_ratio wants a percentage of RAM (0 to 100000), not '-5'", 24},
      {{}, "config verbosity loud", "verbosity is quiet, faults or all, not 'loud'", 17},
      {{}, "config ram 1", "ram wants a number of 4 KiB frames from 16 to 65536, got '1'", 11},
      {{}, "config ram 65537", "ram wants a number of 4 KiB frames from 16 to 65536, got '65537'", 11},
      {{}, "config ram x", "ram wants a number of 4 KiB frames from 16 to 65536, got 'x'", 11},
      {{}, "config aslr x", "aslr wants a seed (a number) or off, got 'x'", 12},
      {{}, "config foo bar", "unknown setting 'foo' (ram, swap, overcommit, overcommit_ratio, aslr, verbosity)", 7},
      {{}, "undo", "nothing to undo: this is the start of the timeline", 0},
      {{"x = 1", "undo"}, "undo", "nothing to undo: this is the start of the timeline", 0},
      {{}, "redo", "nothing to redo: this is the newest step of the timeline", 0},
      {{}, "goto", "goto takes a step of the timeline: goto 3 (timeline lists them)", 0},
      {{}, "goto 1", "no step 1: the timeline has steps 0 to 0", 5},
      {{}, "goto -1", "goto wants a step number, got '-1'", 5},
      {{}, "redo now", "redo takes nothing after it", 5},
  });
}

TEST_CASE("errors: limits on line length and on output") {
  const std::string too_long(kMaxLineLength + 1, 'x');
  check_all({
      {{}, too_long, "line is 4097 bytes long; the limit is 4096", 4096},
      {{}, "dump(0, 4097)", "dump shows at most 4096 bytes at a time; asked for 4097", 0},
      {{}, "memcpy(0, 0, 2M)",
       "memcpy copies at most 1 MiB per line (each byte goes through the MMU); asked for 2097152", 0},
      {{}, "memset(0, 0, 1M + 1)",
       "memset copies at most 1 MiB per line (each byte goes through the MMU); asked for 1048577", 0},
      {{}, "touch(0, 1G, \"r\")", "touch covers at most 65536 pages (256 MiB) per line", 0},
      {{}, "pagemap(0, 4M)", "pagemap shows at most 512 pages (2 MiB) at a time; asked for 1024", 0},
      {{}, std::string(300, '(') + "1" + std::string(300, ')'),
       "expression nested too deeply: more than 256 levels of parentheses, signs or operators", 256},
      {{}, "x = " + std::string(300, '~') + "1",
       "expression nested too deeply: more than 256 levels of parentheses, signs or operators", 260},
  });
  // The limit itself is allowed.
  Session s(kEmpty);
  std::string longest = "# " + std::string(kMaxLineLength - 2, 'x');
  CHECK(s.exec(longest).ok);
}
