#include "shell/parser.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace vmplay::shell {

namespace {

// Character classes of the C locale, inline (the C library's go through a call and a
// locale table per character).
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
constexpr bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

struct Token {
  enum class Kind { End, Ident, Number, Char, String, Punct, Bad } kind = Kind::End;
  Span span;
  std::string text;  // Ident text, the punctuation, or a string's bytes
  uint64_t number = 0;
  std::string bad;   // Bad: why
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) { advance(); }

  ParseResult parse();

 private:
  // ---- lexer ----
  // Spaces, and /* comments */ as strace writes them ("0x7ffe... /* 37 vars */): where
  // the next token starts, from i.
  size_t skip_space_from(size_t i) const {
    while (i < s_.size()) {
      if (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\r') {
        ++i;
      } else if (s_.substr(i, 2) == "/*") {
        size_t e = s_.find("*/", i + 2);
        i = e == std::string_view::npos ? s_.size() : e + 2;
      } else {
        break;
      }
    }
    return i;
  }
  void skip_space() { pos_ = skip_space_from(pos_); }
  // Whether the token after the current one starts with c: a look ahead that does not
  // lex it.
  bool next_char_is(char c) const {
    size_t i = skip_space_from(pos_);
    return i < s_.size() && s_[i] == c;
  }
  void advance();
  bool lex_number(Token& t);
  bool lex_char(Token& t);
  bool lex_string(Token& t);
  bool lex_escape(Token& t, uint64_t& v);

  // ---- grammar, one function per rule ----
  bool parse_pidtag(Stmt& st);
  bool parse_stmt(Stmt& st);
  bool parse_deref(Stmt& st);
  bool parse_eval(Stmt& st);
  bool parse_call(Call& c, const Token& name);
  bool parse_recorded(Recorded& r);
  bool parse_expr(Expr& e);
  bool parse_binary(Expr& e, size_t level);
  bool parse_term(Expr& e);

  bool is_punct(char c) const { return tok_.kind == Token::Kind::Punct && tok_.text[0] == c; }
  bool fail(std::string msg, Span sp) {
    if (!err_) err_ = ParseError{std::move(msg), sp};
    return false;
  }
  bool fail_here(const std::string& expected) {
    if (tok_.kind == Token::Kind::Bad) return fail(tok_.bad, tok_.span);
    std::string found = describe(tok_);
    return fail("expected " + expected + ", found " + found, tok_.span);
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Token::Kind::End: return "end of line";
      case Token::Kind::Ident: return "'" + t.text + "'";
      case Token::Kind::Number: return "number " + t.text;
      case Token::Kind::Char: return "character " + t.text;
      case Token::Kind::String: return "a string";
      case Token::Kind::Punct: return "'" + t.text + "'";
      case Token::Kind::Bad: return t.bad;
    }
    return "?";
  }
  bool at_end_or_comment() const {
    return tok_.kind == Token::Kind::End || is_punct('#');
  }
  Span here() const { return Span{static_cast<uint32_t>(pos_), static_cast<uint32_t>(pos_)}; }
  // One more level of the expression tree (a parenthesis, a sign or an operator).
  bool nest() {
    if (++nest_ <= kMaxNesting) return true;
    return fail("expression nested too deeply: more than " + std::to_string(kMaxNesting) +
                    " levels of parentheses, signs or operators",
                tok_.span);
  }

  std::string_view s_;
  size_t pos_ = 0;
  Token tok_;
  std::optional<ParseError> err_;
  int nest_ = 0;  // levels of the expression tree above the term being parsed
};

void Parser::advance() {
  skip_space();
  // The token is built in place (its strings keep their buffers from token to token).
  Token& t = tok_;
  t.kind = Token::Kind::End;
  t.text.clear();
  t.number = 0;
  t.bad.clear();
  t.span.begin = static_cast<uint32_t>(pos_);
  if (pos_ >= s_.size()) {
    t.kind = Token::Kind::End;
    t.span.end = t.span.begin;
    return;
  }
  char c = s_[pos_];
  if (is_alpha(c) || c == '_') {
    size_t b = pos_;
    while (pos_ < s_.size() &&
           (is_alnum(s_[pos_]) || s_[pos_] == '_'))
      ++pos_;
    t.kind = Token::Kind::Ident;
    t.text.assign(s_.substr(b, pos_ - b));
  } else if (is_digit(c)) {
    lex_number(t);
  } else if (c == '\'') {
    lex_char(t);
  } else if (c == '"') {
    lex_string(t);
  } else if (c == '.' && s_.substr(pos_, 3) == "...") {
    t.kind = Token::Kind::Punct;
    t.text = "...";
    pos_ += 3;
  } else if ((c == '<' || c == '>') && pos_ + 1 < s_.size() && s_[pos_ + 1] == c) {
    t.kind = Token::Kind::Punct;
    t.text.assign(2, c);  // << or >>
    pos_ += 2;
  } else if (std::string_view("()[]{},=|+-#*/%&^~").find(c) != std::string_view::npos) {
    t.kind = Token::Kind::Punct;
    t.text.assign(1, c);
    ++pos_;
  } else {
    t.kind = Token::Kind::Bad;
    t.bad = std::string("unexpected character '") + c + "'";
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      t.bad = "unexpected byte " + std::to_string(static_cast<unsigned char>(c));
    ++pos_;
  }
  t.span.end = static_cast<uint32_t>(pos_);
}

bool Parser::lex_number(Token& t) {
  size_t b = pos_;
  int base = 10;
  if (s_[pos_] == '0' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == 'x' || s_[pos_ + 1] == 'X')) {
    base = 16;
    pos_ += 2;
  } else if (s_[pos_] == '0' && pos_ + 1 < s_.size() &&
             is_digit(s_[pos_ + 1])) {
    base = 8;
    ++pos_;
  }
  size_t digits_begin = pos_;
  uint64_t v = 0;
  bool overflow = false;
  while (pos_ < s_.size() && is_alnum(s_[pos_])) {
    // A size suffix ends a decimal number: 4K, 2M, 1G.
    char up = static_cast<char>(std::toupper(static_cast<unsigned char>(s_[pos_])));
    bool last = pos_ + 1 >= s_.size() || !is_alnum(s_[pos_ + 1]);
    if (base == 10 && pos_ > digits_begin && last && (up == 'K' || up == 'M' || up == 'G')) {
      int shift = up == 'K' ? 10 : up == 'M' ? 20 : 30;
      if (v > (UINT64_MAX >> shift)) overflow = true;
      v <<= shift;
      ++pos_;
      break;
    }
    char d = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[pos_])));
    int dv = is_digit(d) ? d - '0' : (d >= 'a' && d <= 'f') ? d - 'a' + 10 : 99;
    if (dv >= base) {
      t.kind = Token::Kind::Bad;
      t.bad = std::string("'") + s_[pos_] + "' is not a digit of a base-" + std::to_string(base) + " number";
      ++pos_;
      return false;
    }
    if (v > (UINT64_MAX - static_cast<uint64_t>(dv)) / static_cast<uint64_t>(base)) overflow = true;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(dv);
    ++pos_;
  }
  if (base == 16 && pos_ == digits_begin) {
    t.kind = Token::Kind::Bad;
    t.bad = "'0x' needs hexadecimal digits after it";
    return false;
  }
  if (overflow) {
    t.kind = Token::Kind::Bad;
    t.bad = "number does not fit in 64 bits";
    return false;
  }
  t.kind = Token::Kind::Number;
  t.number = v;
  t.text = std::string(s_.substr(b, pos_ - b));
  return true;
}

bool Parser::lex_char(Token& t) {
  size_t b = pos_;
  ++pos_;  // opening quote
  auto bad = [&](const char* why) {
    t.kind = Token::Kind::Bad;
    t.bad = why;
    while (pos_ < s_.size() && s_[pos_] != '\'') ++pos_;
    if (pos_ < s_.size()) ++pos_;
    return false;
  };
  if (pos_ >= s_.size()) return bad("unterminated character literal");
  uint64_t v = 0;
  if (s_[pos_] == '\\') {
    ++pos_;
    if (pos_ >= s_.size()) return bad("unterminated character literal");
    if (!lex_escape(t, v)) {
      std::string why = t.bad;
      bad("");
      t.bad = why;
      return false;
    }
  } else {
    v = static_cast<unsigned char>(s_[pos_++]);
    if (v == '\'') return bad("empty character literal");
  }
  if (pos_ >= s_.size() || s_[pos_] != '\'') return bad("character literal holds one character; expected closing '");
  ++pos_;
  t.kind = Token::Kind::Char;
  t.number = v;
  t.text = std::string(s_.substr(b, pos_ - b));
  return true;
}

bool Parser::lex_escape(Token& t, uint64_t& v) {
  // At the character after a backslash.
  char e = s_[pos_++];
  switch (e) {
    case 'n': v = '\n'; return true;
    case 't': v = '\t'; return true;
    case 'r': v = '\r'; return true;
    case 'v': v = '\v'; return true;
    case 'f': v = '\f'; return true;
    case '\\': v = '\\'; return true;
    case '\'': v = '\''; return true;
    case '"': v = '"'; return true;
    case 'x': {
      int n = 0;
      v = 0;
      while (n < 2 && pos_ < s_.size() && is_xdigit(s_[pos_])) {
        char d = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[pos_++])));
        v = v * 16 + static_cast<uint64_t>(is_digit(d) ? d - '0' : d - 'a' + 10);
        ++n;
      }
      if (n == 0) {
        t.kind = Token::Kind::Bad;
        t.bad = "'\\x' needs one or two hexadecimal digits";
        return false;
      }
      return true;
    }
    default:
      if (e >= '0' && e <= '7') {
        // Octal, one to three digits, as strace writes bytes it cannot show.
        v = static_cast<uint64_t>(e - '0');
        for (int n = 1; n < 3 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++n)
          v = v * 8 + static_cast<uint64_t>(s_[pos_++] - '0');
        if (v > 0xff) {
          t.kind = Token::Kind::Bad;
          t.bad = "octal escape above \\377";
          return false;
        }
        return true;
      }
      t.kind = Token::Kind::Bad;
      t.bad = std::string("unknown escape '\\") + e + "'";
      return false;
  }
}

bool Parser::lex_string(Token& t) {
  ++pos_;  // opening quote
  std::string bytes;
  while (true) {
    if (pos_ >= s_.size()) {
      t.kind = Token::Kind::Bad;
      t.bad = "unterminated string: expected a closing \"";
      return false;
    }
    char c = s_[pos_];
    if (c == '"') {
      ++pos_;
      break;
    }
    if (c == '\\') {
      ++pos_;
      if (pos_ >= s_.size()) continue;
      uint64_t v = 0;
      if (!lex_escape(t, v)) {
        while (pos_ < s_.size() && s_[pos_] != '"') ++pos_;
        if (pos_ < s_.size()) ++pos_;
        return false;
      }
      bytes.push_back(static_cast<char>(v));
      continue;
    }
    bytes.push_back(c);
    ++pos_;
  }
  t.kind = Token::Kind::String;
  t.text = std::move(bytes);
  return true;
}

// ---- grammar ----

ParseResult Parser::parse() {
  Stmt st;
  if (is_punct('[')) {
    if (!parse_pidtag(st)) return {std::nullopt, err_};
  } else if (tok_.kind == Token::Kind::Number) {
    // "4613  mmap(...)": strace -f -o writes the pid first. A number followed by
    // anything but a name starts an expression instead: 4096 * 3.
    Token number = tok_;
    advance();
    if (tok_.kind == Token::Kind::Ident) {
      if (number.number > 0x7fffffff) return {std::nullopt, ParseError{"process id too large", number.span}};
      st.pid = static_cast<int32_t>(number.number);
    } else {
      pos_ = number.span.begin;
      advance();
    }
  }
  if (is_punct('#')) {
    st.kind = Stmt::Kind::Comment;
    size_t b = tok_.span.end;
    std::string_view rest = s_.substr(b);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    st.text = std::string(rest);
    return {std::move(st), std::nullopt};
  }
  if (tok_.kind == Token::Kind::End) {
    st.kind = Stmt::Kind::Empty;
    return {std::move(st), std::nullopt};
  }
  if (!parse_stmt(st)) return {std::nullopt, err_};
  if (!at_end_or_comment()) {
    fail_here("end of line");
    return {std::nullopt, err_};
  }
  return {std::move(st), std::nullopt};
}

bool Parser::parse_pidtag(Stmt& st) {
  Token open = tok_;
  advance();
  if (tok_.kind != Token::Kind::Ident || tok_.text != "pid") return fail_here("'pid' after '['");
  advance();
  if (tok_.kind != Token::Kind::Number) return fail_here("a process id after '[pid'");
  if (tok_.number > 0x7fffffff) return fail("process id too large", tok_.span);
  st.pid = static_cast<int32_t>(tok_.number);
  advance();
  if (!is_punct(']')) return fail_here("']' to close '[pid N'");
  advance();
  (void)open;
  return true;
}

bool Parser::parse_deref(Stmt& st) {
  // '*' [ '(' TYPE '*' ')' ] term [ '=' expr ]
  advance();  // '*'
  st.kind = Stmt::Kind::Deref;
  st.type_name = "char";
  if (is_punct('(')) {
    size_t save = tok_.span.begin;
    advance();
    std::string type;
    bool is_unsigned = false;
    // A cast starts with a C type word; anything else, as in *(p + 8), is an address.
    auto type_word = [](const std::string& w) {
      return w == "unsigned" || w == "signed" || w == "char" || w == "short" || w == "int" || w == "long" ||
             w == "float" || w == "double" || w == "void" || w == "bool" ||
             (w.size() > 2 && w.compare(w.size() - 2, 2, "_t") == 0);
    };
    bool cast = tok_.kind == Token::Kind::Ident && type_word(tok_.text);
    while (cast && tok_.kind == Token::Kind::Ident) {
      if (tok_.text == "unsigned") is_unsigned = true;
      else if (tok_.text != "signed") type += (type.empty() ? "" : " ") + tok_.text;
      advance();
    }
    if (!type.empty() || is_unsigned) {
      if (type.empty()) type = "int";
      static const struct {
        const char* name;
        uint8_t width;
        bool is_signed;
      } kTypes[] = {
          {"char", 1, true},     {"short", 2, true},    {"int", 4, true},      {"long", 8, true},
          {"long long", 8, true}, {"int8_t", 1, true},  {"uint8_t", 1, false}, {"int16_t", 2, true},
          {"uint16_t", 2, false}, {"int32_t", 4, true}, {"uint32_t", 4, false}, {"int64_t", 8, true},
          {"uint64_t", 8, false}, {"size_t", 8, false}, {"ssize_t", 8, true},
      };
      bool found = false;
      for (const auto& t : kTypes) {
        if (type == t.name) {
          st.width = t.width;
          st.is_signed = t.is_signed && !is_unsigned;
          found = true;
        }
      }
      if (!found) return fail("unknown type '" + type + "' (use char, short, int, long, int8_t .. uint64_t)", Span{static_cast<uint32_t>(save), tok_.span.begin});
      st.type_name = (is_unsigned ? "unsigned " : "") + type;
      if (!is_punct('*')) return fail_here("'*' in the cast, as in *(int *)p");
      advance();
      if (!is_punct(')')) return fail_here("')' to close the cast");
      advance();
    } else {
      // Not a cast: "*(p + 8)" is the address itself.
      pos_ = save;
      advance();
    }
  }
  Expr addr;
  if (!parse_term(addr)) return false;
  st.index = std::move(addr);
  if (is_punct('=')) {
    advance();
    Expr v;
    if (!parse_expr(v)) return false;
    st.value = std::move(v);
  }
  return true;
}

bool Parser::parse_stmt(Stmt& st) {
  if (is_punct('*')) return parse_deref(st);
  if (tok_.kind == Token::Kind::Number || tok_.kind == Token::Kind::Char || is_punct('(') || is_punct('-') ||
      is_punct('~')) {
    if (st.pid) return fail_here("a system call after the process id");
    return parse_eval(st);
  }
  if (tok_.kind != Token::Kind::Ident) return fail_here("a statement (a system call, a variable, 'cat' or 'help')");
  Token first = tok_;
  advance();

  const auto& commands = command_names();
  bool command = std::find(commands.begin(), commands.end(), first.text) != commands.end();
  if (command && !is_punct('(') && !is_punct('=') && !is_punct('[')) {
    // A shell command: the rest of the line, up to a comment, split into words.
    st.kind = first.text == "help" ? Stmt::Kind::Help : Stmt::Kind::Command;
    st.target = first.text;
    st.target_span = first.span;
    size_t b = first.span.end;
    size_t e = s_.find('#', b);
    std::string rest(s_.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (first.text == "echo") {
      while (!rest.empty() && rest.front() == ' ') rest.erase(rest.begin());
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.pop_back();
      st.words.push_back(rest);
    } else {
      std::string word;
      size_t at = b;
      for (char ch : rest + " ") {
        if (ch == ' ' || ch == '\t') {
          if (!word.empty()) {
            st.words.push_back(word);
            st.word_spans.push_back(Span{static_cast<uint32_t>(at - word.size()), static_cast<uint32_t>(at)});
          }
          word.clear();
        } else {
          word += ch;
        }
        ++at;
      }
    }
    pos_ = e == std::string_view::npos ? s_.size() : e;
    advance();
    return true;
  }
  if (first.text == "cat" && !is_punct('(') && !is_punct('=') && !is_punct('[')) {
    st.kind = Stmt::Kind::Cat;
    // The path is the rest of the line up to a comment.
    size_t b = first.span.end;
    while (b < s_.size() && s_[b] == ' ') ++b;
    size_t e = b;
    while (e < s_.size() && s_[e] != ' ' && s_[e] != '#' && s_[e] != '\t') ++e;
    if (e == b) return fail("expected a path after 'cat' (for example /proc/self/maps)",
                            Span{static_cast<uint32_t>(b), static_cast<uint32_t>(b)});
    st.text = std::string(s_.substr(b, e - b));
    st.text_span = Span{static_cast<uint32_t>(b), static_cast<uint32_t>(e)};
    pos_ = e;
    advance();
    return true;
  }
  if ((first.text == "walk" || first.text == "smaps") && !is_punct('(') && !is_punct('=') && !is_punct('[')) {
    if (at_end_or_comment()) return fail_here("an address after '" + first.text + "' (for example " + first.text + " p)");
    Expr e;
    if (!parse_expr(e)) return false;
    st.kind = Stmt::Kind::Walk;
    st.target = first.text;
    st.value = std::move(e);
    return true;
  }
  if (first.text == "reset" && at_end_or_comment()) {
    st.kind = Stmt::Kind::CallStmt;
    st.call = Call{"reset", first.span, first.span, {}};
    return true;
  }
  if (is_punct('(')) {
    st.kind = Stmt::Kind::CallStmt;
    Call c;
    if (!parse_call(c, first)) return false;
    st.call = std::move(c);
    if (is_punct('=')) {
      advance();
      if (!parse_recorded(st.recorded)) return false;
    }
    return true;
  }
  if (is_punct('[')) {
    st.target = first.text;
    st.target_span = first.span;
    advance();
    Expr idx;
    if (!parse_expr(idx)) return false;
    if (!is_punct(']')) return fail_here("']' to close the index");
    advance();
    st.index = std::move(idx);
    if (is_punct('=')) {
      advance();
      Expr v;
      if (!parse_expr(v)) return false;
      st.kind = Stmt::Kind::Store;
      st.value = std::move(v);
    } else {
      st.kind = Stmt::Kind::Load;
    }
    return true;
  }
  if (is_punct('=')) {
    st.target = first.text;
    st.target_span = first.span;
    advance();
    if (tok_.kind == Token::Kind::Ident) {
      Token name = tok_;
      advance();
      if (is_punct('(')) {
        Call c;
        if (!parse_call(c, name)) return false;
        st.kind = Stmt::Kind::Assign;
        st.call = std::move(c);
        if (is_punct('=')) {
          advance();
          if (!parse_recorded(st.recorded)) return false;
        }
        return true;
      }
      // An expression that starts with a name: rewind to it.
      pos_ = name.span.begin;
      advance();
    }
    Expr v;
    if (!parse_expr(v)) return false;
    st.kind = Stmt::Kind::Assign;
    st.value = std::move(v);
    return true;
  }
  // Any other expression is evaluated and its value shown: p, p + 4096, len >> 12.
  pos_ = first.span.begin;
  advance();
  if (st.pid) return fail("expected a system call after the process id, found '" + first.text + "'", first.span);
  return parse_eval(st);
}

bool Parser::parse_eval(Stmt& st) {
  Expr v;
  if (!parse_expr(v)) return false;
  st.kind = Stmt::Kind::Eval;
  st.value = std::move(v);
  return true;
}

bool Parser::parse_call(Call& c, const Token& name) {
  c.name = name.text;
  c.name_span = name.span;
  c.span.begin = name.span.begin;
  c.args.reserve(6);
  advance();  // '('
  if (is_punct(')')) {
    c.span.end = tok_.span.end;
    advance();
    return true;
  }
  while (true) {
    Expr e;
    // strace names some arguments (clone's flags=...): the name is dropped.
    if (tok_.kind == Token::Kind::Ident && next_char_is('=')) {
      advance();  // the name
      advance();  // '='
    }
    if (!parse_expr(e)) return false;
    c.args.push_back(std::move(e));
    if (c.args.size() > 16) return fail("too many arguments", c.args.back().span);
    if (is_punct(',')) {
      advance();
      continue;
    }
    if (is_punct(')')) {
      c.span.end = tok_.span.end;
      advance();
      return true;
    }
    return fail_here("',' or ')' after argument " + std::to_string(c.args.size()));
  }
}

bool Parser::parse_recorded(Recorded& r) {
  r.present = true;
  r.span.begin = tok_.span.begin;
  if (tok_.kind == Token::Kind::Bad && tok_.bad == "unexpected character '?'") {
    r.unknown = true;  // "= ?": the call did not return (exit_group)
    r.span.end = tok_.span.end;
    advance();
    return true;
  }
  if (is_punct('-')) {
    r.negative = true;
    advance();
  }
  if (tok_.kind != Token::Kind::Number) return fail_here("the recorded result (a number) after '='");
  r.value = tok_.number;
  r.span.end = tok_.span.end;
  advance();
  if (tok_.kind == Token::Kind::Ident) {
    r.errno_name = tok_.text;
    r.span.end = tok_.span.end;
    advance();
    if (is_punct('(')) {
      // "(Cannot allocate memory)": free text up to the matching ')'.
      size_t close = s_.find(')', tok_.span.begin);
      if (close == std::string_view::npos) return fail_here("')' to close the error text");
      pos_ = close + 1;
      r.span.end = static_cast<uint32_t>(pos_);
      advance();
    }
  }
  return true;
}

// Binary operators by precedence, lowest first, as in C: | ^ & (<< >>) (+ -) (* / %).
namespace {
constexpr size_t kLevelCount = 6;
// The precedence level of an operator token, or kLevelCount when it is none.
size_t binary_level(const std::string& op) {
  if (op.size() == 2) return op == "<<" || op == ">>" ? 3 : kLevelCount;
  if (op.size() != 1) return kLevelCount;
  switch (op[0]) {
    case '|': return 0;
    case '^': return 1;
    case '&': return 2;
    case '+': case '-': return 4;
    case '*': case '/': case '%': return 5;
    default: return kLevelCount;
  }
}
}  // namespace

bool Parser::parse_expr(Expr& e) { return parse_binary(e, 0); }

bool Parser::parse_binary(Expr& e, size_t level) {
  if (level == kLevelCount) return parse_term(e);
  if (!parse_binary(e, level + 1)) return false;
  const int nest_before = nest_;
  while (tok_.kind == Token::Kind::Punct && binary_level(tok_.text) == level) {
    // a + b + c is ((a + b) + c): each operator of a chain is one level deeper.
    if (!nest()) return false;
    std::string op = tok_.text;
    advance();
    Expr rhs;
    if (!parse_binary(rhs, level + 1)) return false;
    Expr bin;
    bin.kind = Expr::Kind::Binary;
    bin.op = op == "<<" ? 'L' : op == ">>" ? 'R' : op[0];
    bin.span = Span{e.span.begin, rhs.span.end};
    bin.kids.push_back(std::move(e));
    bin.kids.push_back(std::move(rhs));
    e = std::move(bin);
  }
  nest_ = nest_before;
  return true;
}

bool Parser::parse_term(Expr& e) {
  e.span = tok_.span;
  switch (tok_.kind) {
    case Token::Kind::Number:
      e.kind = Expr::Kind::Number;
      e.number = tok_.number;
      advance();
      return true;
    case Token::Kind::Char:
      e.kind = Expr::Kind::Char;
      e.number = tok_.number;
      advance();
      return true;
    case Token::Kind::Ident:
      e.kind = Expr::Kind::Name;
      e.name = tok_.text;
      advance();
      return true;
    case Token::Kind::String:
      e.kind = Expr::Kind::String;
      e.name = tok_.text;
      advance();
      if (is_punct('.') || (tok_.kind == Token::Kind::Punct && tok_.text == "...")) {
        e.truncated = true;
        e.span.end = tok_.span.end;
        advance();
      }
      return true;
    case Token::Kind::Punct:
      if (is_punct('{') || is_punct('[')) {
        // A struct or an array as strace prints it ({st_mode=S_IFREG|0644, ...},
        // ["./a.out"]): skipped whole.
        const char open = tok_.text[0], close = open == '{' ? '}' : ']';
        uint32_t b = tok_.span.begin;
        int depth = 0;
        size_t i = b;
        for (; i < s_.size(); ++i) {
          if (s_[i] == open) ++depth;
          if (s_[i] == close && --depth == 0) break;
          if (s_[i] == '"') {
            for (++i; i < s_.size() && s_[i] != '"'; ++i)
              if (s_[i] == '\\') ++i;
          }
        }
        if (i >= s_.size())
          return fail(std::string("unterminated '") + open + "': expected '" + close + "'", tok_.span);
        pos_ = i + 1;
        e.kind = Expr::Kind::Struct;
        e.span = Span{b, static_cast<uint32_t>(pos_)};
        advance();
        return true;
      }
      if (is_punct('~')) {
        if (!nest()) return false;
        advance();
        Expr k;
        if (!parse_term(k)) return false;
        --nest_;
        e.kind = Expr::Kind::Not;
        e.span.end = k.span.end;
        e.kids.push_back(std::move(k));
        return true;
      }
      if (is_punct('-')) {
        if (!nest()) return false;
        advance();
        Expr k;
        if (!parse_term(k)) return false;
        --nest_;
        e.kind = Expr::Kind::Neg;
        e.span.end = k.span.end;
        e.kids.push_back(std::move(k));
        return true;
      }
      if (is_punct('(')) {
        uint32_t b = tok_.span.begin;
        if (!nest()) return false;
        advance();
        if (!parse_expr(e)) return false;
        --nest_;
        if (!is_punct(')')) return fail_here("')'");
        e.span = Span{b, tok_.span.end};
        advance();
        return true;
      }
      break;
    default:
      break;
  }
  return fail_here("a value (a number, a 'c'haracter, a name or a flag)");
}

}  // namespace

ParseResult parse_line(std::string_view line) {
  if (line.size() > kMaxLineLength) {
    return {std::nullopt,
            ParseError{"line is " + std::to_string(line.size()) + " bytes long; the limit is " +
                           std::to_string(kMaxLineLength),
                       Span{static_cast<uint32_t>(kMaxLineLength), static_cast<uint32_t>(kMaxLineLength)}}};
  }
  Parser p(line);
  return p.parse();
}

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> kCommands = {"use",  "ps",   "config",  "echo",   "undo", "redo",
                                                     "goto", "timeline", "pmap", "frames", "free", "ls",
                                                     "help", "lessons",  "lesson"};
  return kCommands;
}

}  // namespace vmplay::shell
