#include <doctest/doctest.h>

#include "shell/parser.h"

using namespace vmplay::shell;

namespace {
Stmt ok(std::string_view s) {
  ParseResult r = parse_line(s);
  INFO(s);
  if (r.error) INFO(r.error->message);
  REQUIRE(r.stmt);
  return *r.stmt;
}
ParseError bad(std::string_view s) {
  ParseResult r = parse_line(s);
  INFO(s);
  REQUIRE(r.error);
  CHECK_FALSE(r.stmt);
  return *r.error;
}
}  // namespace

TEST_CASE("parser: an assignment from a strace-style call") {
  Stmt st = ok("p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  CHECK(st.kind == Stmt::Kind::Assign);
  CHECK(st.target == "p");
  REQUIRE(st.call);
  CHECK(st.call->name == "mmap");
  REQUIRE(st.call->args.size() == 6);
  CHECK(st.call->args[2].kind == Expr::Kind::Binary);
  CHECK(st.call->args[2].op == '|');
  CHECK(st.call->args[4].kind == Expr::Kind::Neg);
  CHECK(st.call->name_span.begin == 4);
  CHECK(st.call->name_span.end == 8);
}

TEST_CASE("parser: a strace line with its recorded result") {
  Stmt st = ok("mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1234560000");
  CHECK(st.kind == Stmt::Kind::CallStmt);
  CHECK(st.recorded.present);
  CHECK(st.recorded.value == 0x7f1234560000);
  Stmt e = ok("munmap(0x1000, 0) = -1 EINVAL (Invalid argument)");
  CHECK(e.recorded.negative);
  CHECK(e.recorded.value == 1);
  CHECK(e.recorded.errno_name == "EINVAL");
}

TEST_CASE("parser: stores, loads, numbers and characters") {
  Stmt s = ok("p[4096] = 'A'");
  CHECK(s.kind == Stmt::Kind::Store);
  CHECK(s.index->number == 4096);
  CHECK(s.value->number == 'A');
  CHECK(ok("p[0x10] = '\\n'").value->number == '\n');
  CHECK(ok("p[0] = '\\x7f'").value->number == 0x7f);
  CHECK(ok("p[010]").index->number == 8);
  CHECK(ok("p[n + 1]").index->kind == Expr::Kind::Binary);
  CHECK(ok("p[0]").kind == Stmt::Kind::Load);
  CHECK(ok("x = 0xffffffffffffffff").value->number == ~0ULL);
}

TEST_CASE("parser: [pid N], comments, cat, help, empty lines") {
  Stmt s = ok("[pid 2] p[0] = 1   # a write");
  CHECK(s.pid == 2);
  CHECK(s.kind == Stmt::Kind::Store);
  CHECK(ok("# why the page was copied").text == "why the page was copied");
  Stmt c = ok("cat /proc/self/maps");
  CHECK(c.kind == Stmt::Kind::Cat);
  CHECK(c.text == "/proc/self/maps");
  CHECK(ok("help").kind == Stmt::Kind::Help);
  CHECK(ok("   ").kind == Stmt::Kind::Empty);
  CHECK(ok("reset").call->name == "reset");
}

TEST_CASE("parser: errors say what was expected and point at the column") {
  ParseError e = bad("p = mmap(NULL, 8192 PROT_READ)");
  CHECK(e.message == "expected ',' or ')' after argument 2, found 'PROT_READ'");
  CHECK(e.span.begin == 20);
  CHECK(bad("p[0 = 1").message == "expected ']' to close the index, found '='");
  CHECK(bad("mmap(").message.find("expected a value") == 0);
  CHECK(bad("p[0] = 'AB'").message.find("one character") != std::string::npos);
  CHECK(bad("p[0] = ''").message == "empty character literal");
  CHECK(bad("x = 0x").message == "'0x' needs hexadecimal digits after it");
  CHECK(bad("x = 99999999999999999999").message == "number does not fit in 64 bits");
  CHECK(bad("x = 12ab").message.find("not a digit") != std::string::npos);
  CHECK(bad("p q").message == "expected end of line, found 'q'");
  CHECK(bad("[pid x] p[0]").message == "expected a process id after '[pid', found 'x'");
  CHECK(bad("p[0] = 1 2").message == "expected end of line, found number 2");
  CHECK(bad("p = $").message == "unexpected character '$'");
  CHECK(bad("cat").message.find("expected a path") == 0);
  CHECK(bad(std::string(5000, 'x')).message.find("limit is 4096") != std::string::npos);
}

TEST_CASE("parser: strings with strace's escapes, truncation marks and structs") {
  Stmt s = ok("write(1, \"hi\\n\\t\\\"q\\\\ \\177ELF\\0\", 12)");
  CHECK(s.call->args[1].kind == Expr::Kind::String);
  CHECK(s.call->args[1].name == std::string("hi\n\t\"q\\ \177ELF\0", 13));
  Stmt t = ok("read(3, \"\\177ELF\\2\\1\\1\"..., 832) = 832");
  CHECK(t.call->args[1].truncated);
  CHECK(t.call->args[1].name == "\177ELF\2\1\1");
  Stmt f = ok("fstat(3, {st_mode=S_IFREG|0644, st_size=62, ...}) = 0");
  CHECK(f.call->args[1].kind == Expr::Kind::Struct);
  CHECK(bad("open(\"/etc/hosts, O_RDONLY)").message == "unterminated string: expected a closing \"");
  CHECK(bad("write(1, \"\\q\", 1)").message == "unknown escape '\\q'");
  CHECK(bad("fstat(3, {st_mode=0").message == "unterminated '{': expected '}'");
}
