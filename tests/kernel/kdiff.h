// tests/kernel: what the two sides of the kernel-differential runner share (kdiff.cpp
// runs the real kernel and normalises; kdiff_sim.cpp runs vmplay). Kept apart because
// the engine's headers and the system's <sys/mman.h> define the same names.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shell/parser.h"

namespace vmplay::kdiff {

// From the shell library (declared here so kdiff.cpp need not see the engine's names).
std::optional<uint64_t> constant_value(std::string_view name);
std::string hex(uint64_t v);
std::string pointer(uint64_t v);
std::string hexdump_line(uint64_t addr, const uint8_t* bytes, size_t n);
std::string pagemap_entry(uint64_t addr, uint64_t entry, bool mapped);
// A swap size as `config swap` takes it (16M, 512K, 1G): 4 KiB pages, nullopt if malformed.
std::optional<uint64_t> swap_size_pages(const std::string& size);


struct Range {
  uint64_t start, end;
};

// What normalisation needs from one side's run.
struct Run {
  std::vector<std::string> lines;  // the transcript as printed
  uint64_t fence = 0, heap0 = 0;
  std::vector<Range> ranges;       // what the case mapped
  std::map<std::string, int64_t> status0;  // pid 1's status values after the prologue
  std::string skipped;             // set when the run could not be made (exit 77)
};

// ---- expressions, shared by both sides ----

struct Eval {
  uint64_t value = 0;
  std::string error;
};

inline Eval eval(const shell::Expr& e, const std::map<std::string, uint64_t>& vars) {
  switch (e.kind) {
    case shell::Expr::Kind::Number:
    case shell::Expr::Kind::Char:
      return {e.number, {}};
    case shell::Expr::Kind::Name: {
      if (auto it = vars.find(e.name); it != vars.end()) return {it->second, {}};
      if (auto c = constant_value(e.name)) return {*c, {}};
      return {0, "unknown name " + e.name};
    }
    case shell::Expr::Kind::Neg: {
      Eval v = eval(e.kids[0], vars);
      v.value = 0 - v.value;
      return v;
    }
    case shell::Expr::Kind::Not: {
      Eval v = eval(e.kids[0], vars);
      v.value = ~v.value;
      return v;
    }
    case shell::Expr::Kind::Binary: {
      Eval a = eval(e.kids[0], vars), b = eval(e.kids[1], vars);
      if (!a.error.empty()) return a;
      if (!b.error.empty()) return b;
      uint64_t x = a.value, y = b.value;
      switch (e.op) {
        case '+': return {x + y, {}};
        case '-': return {x - y, {}};
        case '*': return {x * y, {}};
        case '/': return y ? Eval{x / y, {}} : Eval{0, "division by zero"};
        case '%': return y ? Eval{x % y, {}} : Eval{0, "division by zero"};
        case '|': return {x | y, {}};
        case '&': return {x & y, {}};
        case '^': return {x ^ y, {}};
        case 'L': return {y < 64 ? x << y : 0, {}};
        case 'R': return {y < 64 ? x >> y : 0, {}};
      }
      return {0, "operator"};
    }
    default:
      return {0, "not a number"};
  }
}

inline uint64_t page_up(uint64_t n) { return (n + 4095) & ~uint64_t{4095}; }

// The ranges a mapping call's result covers (mmap and mremap), from its arguments.
inline std::optional<Range> mapped_range(const shell::Stmt& st, uint64_t result, const std::map<std::string, uint64_t>& vars) {
  if (!st.call || result >= uint64_t(-4096)) return std::nullopt;
  const auto& c = *st.call;
  if (c.name == "mmap" && c.args.size() == 6) return Range{result, result + page_up(eval(c.args[1], vars).value)};
  if (c.name == "mremap" && c.args.size() >= 3) return Range{result, result + page_up(eval(c.args[2], vars).value)};
  return std::nullopt;
}


// The prologue both sides run before a case, so that their address spaces look alike
// from the case's point of view. The holes among the mappings below mmap_base (the
// runner's libraries are not a.out's) are filled with PROT_NONE shared mappings; then a
// fence is placed below everything, at a 2 MiB boundary (so 2 MiB alignment lands alike),
// and everything below the fence is free on both sides. Shared mappings never merge with
// the case's private ones. `exec` runs a line and returns what it printed; `var` reads a
// variable.
template <typename Exec, typename Var>
void prologue(Exec&& exec, Var&& var) {
  constexpr uint64_t kMmapBase = 0x7ffff7fff000, kLow = 0x7f0000000000, k2M = uint64_t{2} << 20;
  std::vector<Range> maps;
  for (const std::string& l : exec("cat /proc/self/maps")) {
    unsigned long long a = 0, b = 0;
    if (std::sscanf(l.c_str(), "%llx-%llx", &a, &b) == 2 && a >= kLow && b <= kMmapBase) maps.push_back({a, b});
  }
  for (size_t i = 1; i < maps.size(); ++i) {
    if (maps[i].start > maps[i - 1].end)
      exec("mmap(" + hex(maps[i - 1].end) + ", " + hex(maps[i].start - maps[i - 1].end) +
           ", PROT_NONE, MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0)");
  }
  exec("fence0 = mmap(NULL, 4M, PROT_NONE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)");
  uint64_t f0 = var("fence0"), f = (f0 + k2M - 1) & ~(k2M - 1);
  if (f > f0) exec("munmap(" + hex(f0) + ", " + hex(f - f0) + ")");
  exec("fence = " + hex(f));
  exec("heap0 = brk(NULL)");
}

// What a case asks of the machine, from comment lines at its top, before its first
// statement:
//
//   # kdiff: overcommit=2        vm.overcommit_memory for this case (0, 1 or 2)
//   # kdiff: swap=4M             a swap file of this size (as `config swap` takes it)
//
// overcommit: the kernel's side sets it just before the case's first line and restores
// it right after the last; vmplay's side runs `config overcommit N` after the prologue.
// swap: the kernel's side makes a swap file of SIZE in the case's scratch directory
// (its own header, as mkswap writes it), turns it on at the highest priority just before
// the case's first line, and turns it off and removes it when the workers are gone; it
// skips the case when another swap area is on (the slots' offsets would not be
// vmplay's) or swapon is refused. vmplay's side runs `config swap SIZE` before the
// prologue (the command resets the machine). Such cases change machine-wide settings
// and run alone (RUN_SERIAL, CMakeLists.txt).
struct Directives {
  std::optional<int> overcommit;
  std::optional<std::string> swap;  // the size as written
  uint64_t swap_pages = 0;          // ...in 4 KiB pages, the header's included
};

// Reads the directives; on a malformed one returns nullopt and says why in `error`.
inline std::optional<Directives> parse_directives(const std::vector<std::string>& script, std::string& error) {
  Directives d;
  const std::string tag = "# kdiff:";
  bool top = true;
  for (size_t i = 0; i < script.size(); ++i) {
    const std::string& l = script[i];
    size_t b = l.find_first_not_of(" \t");
    bool comment = b == std::string::npos || l[b] == '#';
    if (!comment) top = false;
    if (b == std::string::npos || l.compare(b, tag.size(), tag) != 0) continue;
    std::string where = "line " + std::to_string(i + 1) + ": ";
    if (!top) {
      error = where + "a '# kdiff:' directive must come before the case's first statement";
      return std::nullopt;
    }
    std::string rest = l.substr(b + tag.size());
    size_t at = 0;
    while ((at = rest.find_first_not_of(" \t", at)) != std::string::npos) {
      size_t end = rest.find_first_of(" \t", at);
      std::string word = rest.substr(at, end == std::string::npos ? std::string::npos : end - at);
      at = end == std::string::npos ? rest.size() : end;
      size_t eq = word.find('=');
      std::string key = word.substr(0, eq), value = eq == std::string::npos ? "" : word.substr(eq + 1);
      if (key == "overcommit" && (value == "0" || value == "1" || value == "2")) {
        d.overcommit = value[0] - '0';
      } else if (key == "swap") {
        std::optional<uint64_t> pages = value == "off" ? std::nullopt : swap_size_pages(value);
        if (!pages || *pages == 0) {
          error = where + "swap wants a size such as 4M or 512K (whole 4 KiB pages, at least 8K, at most 1G), not '" +
                  value + "'";
          return std::nullopt;
        }
        d.swap = value;
        d.swap_pages = *pages;
      } else {
        error = where + "unknown directive '" + word + "' (known: overcommit=0|1|2, swap=SIZE)";
        return std::nullopt;
      }
    }
  }
  return d;
}

// vmplay's side: the case run by a shell Session after the same prologue.
Run run_sim(const std::vector<std::string>& script, const Directives& directives);

}  // namespace vmplay::kdiff
