// tests/kernel: vmplay's side of the kernel-differential runner (see kdiff.cpp).
#include <cstdio>
#include <cstdlib>

#include "shell/format.h"
#include "shell/session.h"
#include "tests/kernel/kdiff.h"

namespace vmplay::kdiff {

using shell::Stmt;

std::optional<uint64_t> constant_value(std::string_view name) { return shell::constant_value(name); }
std::string hex(uint64_t v) { return shell::hex(v); }
std::string pointer(uint64_t v) { return shell::format_pointer(v); }
std::string hexdump_line(uint64_t addr, const uint8_t* bytes, size_t n) {
  return shell::format_hexdump_line(addr, bytes, n);
}
std::string pagemap_entry(uint64_t addr, uint64_t entry, bool mapped) {
  return shell::format_pagemap_entry(addr, entry, mapped);
}
std::optional<uint64_t> swap_size_pages(const std::string& size) { return shell::parse_swap_size(size); }

Run run_sim(const std::vector<std::string>& script, const Directives& directives) {
  Run run;
  shell::SessionConfig cfg;
  cfg.verbosity = shell::Verbosity::Quiet;
  // 256 MiB of RAM (the shell's largest): overcommit mode 0 compares each charge with
  // RAM + swap, and the host has gigabytes; no case maps anywhere near 256 MiB.
  cfg.kernel.phys.frames = 65536;
  shell::Session s(cfg);
  // A swap area: `config swap` resets the machine, so it comes before everything else
  // (the kernel's side turns its swap file on after the prologue; nothing before the
  // case's lines touches swap).
  if (directives.swap) {
    shell::Output o = s.exec("config swap " + *directives.swap);
    if (!o.ok) {
      for (const auto& l : o.lines) run.lines.push_back("error: " + l.text);
      return run;
    }
  }
  prologue(
      [&](const std::string& line) {
        std::vector<std::string> v;
        for (const auto& l : s.exec(line).lines) v.push_back(l.text);
        return v;
      },
      [&](const std::string& name) { return s.variables().at(name); });
  run.fence = s.variables().at("fence");
  run.heap0 = s.variables().at("heap0");
  for (const auto& l : s.exec("cat /proc/self/status").lines) {
    char key[64];
    long long v = 0;
    if (std::sscanf(l.text.c_str(), "%63[^:]: %lld", key, &v) == 2) run.status0[key] = v;
  }
  // The machine settings the case asked for (the kernel's side sets them at this point).
  if (directives.overcommit) {
    shell::Output o = s.exec("config overcommit " + std::to_string(*directives.overcommit));
    if (!o.ok) {
      for (const auto& l : o.lines) run.lines.push_back("error: " + l.text);
      return run;
    }
  }
  for (const auto& line : script) {
    shell::ParseResult pr = shell::parse_line(line);
    shell::Output o = s.exec(line);
    bool status = pr.stmt && pr.stmt->kind == Stmt::Kind::Cat && pr.stmt->text == "/proc/self/status";
    for (const auto& l : o.lines) run.lines.push_back((status ? "\x01status " : "") + l.text);
    if (!o.ok) break;
    if (pr.stmt && pr.stmt->call) {
      auto vars = s.variables();
      // The call's result: the assigned variable or the last value printed.
      std::optional<uint64_t> result;
      if (!pr.stmt->target.empty() && vars.count(pr.stmt->target)) result = vars[pr.stmt->target];
      else if (!o.lines.empty()) {
        const std::string& t = o.lines[0].text;
        size_t eq = t.rfind("= 0x");
        if (eq != std::string::npos) result = std::strtoull(t.c_str() + eq + 2, nullptr, 16);
      }
      if (result) {
        if (auto rg = mapped_range(*pr.stmt, *result, vars)) run.ranges.push_back(*rg);
        if (pr.stmt->call->name == "brk" && *result > run.heap0) run.ranges.push_back({run.heap0, *result});
      }
    }
  }
  return run;
}

}  // namespace vmplay::kdiff
