// shell/: strace-syntax language. Knows the engine's types, nothing of drawing.
//
// Grammar (one line at a time):
//
//   line     := [ pidtag ] [ stmt ] [ comment ]
//   pidtag   := '[' 'pid' NUMBER ']'                   e.g. [pid 2]
//   comment  := '#' any*                               narration
//   stmt     := 'cat' PATH                             cat /proc/self/maps
//             | 'walk' expr                           the page-table walk of one address
//             | 'smaps' expr                          the smaps entry of the VMA holding an address
//             | COMMAND word*                         use 2, ps, config verbosity all, echo hi,
//                                                     help mmap, undo, pmap -x, frames, free, ls
//             | 'help'
//             | IDENT '=' call                         p = mmap(...)
//             | IDENT '=' expr                         len = 8192
//             | call [ '=' result ]                    a strace line, with its recorded result
//             | IDENT '[' expr ']' [ '=' expr ]        p[4096] = 'A'  (store) / p[4096] (load)
//             | '*' [ '(' TYPE '*' ')' ] term [ '=' expr ]   *(int *)(p + 8) = 42  (typed store/load)
//   TYPE     := char | short | int | long | long long | int8_t .. uint64_t | size_t,
//               optionally unsigned
//   call     := IDENT '(' [ expr { ',' expr } ] ')'
//   result   := [ '-' ] NUMBER [ IDENT [ '(' any* ')' ] ]   = 0x7f.. | = -1 ENOMEM (Cannot ...)
//   expr     := term { binop term }     binop, loosest first: |  ^  &  << >>  + -  * / %
//   term     := NUMBER | CHAR | STRING [ '...' ] | IDENT | '-' term | '~' term | '(' expr ')'
//             | '{' any* '}' | '[' any* ']'          a struct or array as strace prints it (ignored)
//   Comments /* like this */ are skipped anywhere, as strace writes them.
//   NUMBER   := decimal | 0x hex | 0 octal; decimal may end in K, M or G (x 1024^n)
//   CHAR     := 'A' | '\n' | '\0' | '\x41'
//   STRING   := "text" with C escapes (\n \t \" \\ \xNN \NNN octal), as strace prints buffers
//
// Every node carries its source span, so errors point at the column.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vmplay::shell {

struct Span {
  uint32_t begin = 0;  // byte offsets into the line
  uint32_t end = 0;
};

struct Expr {
  enum class Kind { Number, Char, String, Struct, Name, Neg, Not, Binary } kind = Kind::Number;
  Span span;
  uint64_t number = 0;     // Number, Char
  std::string name;        // Name; String: the bytes
  bool truncated = false;  // String followed by "..." (strace cut it short)
  char op = 0;             // Binary: | ^ & + - * / %, 'L' for <<, 'R' for >>
  std::vector<Expr> kids;  // Neg: 1, Binary: 2
};

struct Call {
  std::string name;
  Span name_span;
  Span span;  // the whole call, name to ')'
  std::vector<Expr> args;
};

struct Recorded {  // "= value" or "= -1 ERRNO (text)" after a strace line
  bool present = false;
  bool negative = false;
  bool unknown = false;  // "= ?"

  uint64_t value = 0;
  std::string errno_name;
  Span span;
};

struct Stmt {
  enum class Kind { Empty, Comment, Cat, Walk, Help, Command, CallStmt, Assign, Eval, Load, Store, Deref } kind = Kind::Empty;
  std::optional<int32_t> pid;  // from a [pid N] prefix
  std::string text;            // Comment: the narration; Cat: the path
  Span text_span;
  std::vector<std::string> words;  // Command: the words after the command name; Help: the topic
  std::vector<Span> word_spans;    // where each word is (not for echo)
  std::string target;          // Assign: the variable; Load/Store: the base variable; Command: its name
  Span target_span;
  std::optional<Call> call;    // CallStmt, Assign-from-call
  Recorded recorded;
  std::optional<Expr> value;   // Assign from expression, Eval, Store's value
  std::optional<Expr> index;   // Load/Store; Deref: the address
  uint8_t width = 1;           // Deref: bytes (1, 2, 4, 8)
  bool is_signed = true;       // Deref: how a load prints
  std::string type_name;       // Deref: "int", "unsigned long", ...
};

struct ParseError {
  std::string message;  // what was expected, in words
  Span span;
};

// Parses one line. Lines longer than kMaxLineLength are refused, and so are
// expressions nested deeper than kMaxNesting (parentheses, signs and operators on one
// path of the tree), which keeps the recursive parser, eval and Expr's destructor off
// the end of the stack.
constexpr size_t kMaxLineLength = 4096;
constexpr int kMaxNesting = 256;
struct ParseResult {
  std::optional<Stmt> stmt;
  std::optional<ParseError> error;
};
ParseResult parse_line(std::string_view line);
// The shell's command words (use, ps, undo, frames, ...).
const std::vector<std::string>& command_names();

}  // namespace vmplay::shell
