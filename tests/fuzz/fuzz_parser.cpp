// libFuzzer harness for the shell: the input is a script. Each line goes to the
// parser on its own and then to a Session (pid 1 with an empty address space, as in
// the shell tests). Nothing may crash or hang, and a refused line must leave the
// state exactly as it was (Session::exec's promise): state_json() before and after
// are compared, and any difference aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shell/empty_session.h"
#include "shell/parser.h"
#include "shell/session.h"

namespace {

using vmplay::shell::Session;

[[noreturn]] void fail(std::string_view line, const std::string& what) {
  std::fprintf(stderr, "fuzz_parser: %s\nline: %.*s\n", what.c_str(), static_cast<int>(line.size()), line.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Built once and copied: a fresh machine's constructor is slow under coverage
  // instrumentation (it fills the simulated disk).
  // 256 frames (a quarter of the default): cheaper undo snapshots, and RAM runs out.
  static const Session fresh([] {
    vmplay::shell::SessionConfig cfg = vmplay::shell::testing::kEmpty;
    cfg.kernel.phys.frames = 256;
    return cfg;
  }());
  Session session = fresh;
  size_t at = 0;
  while (at <= input.size()) {
    size_t nl = input.find('\n', at);
    if (nl == std::string_view::npos) nl = input.size();
    std::string_view line = input.substr(at, nl - at);
    at = nl + 1;

    vmplay::shell::ParseResult pr = vmplay::shell::parse_line(line);
    if (pr.stmt.has_value() == pr.error.has_value()) fail(line, "parse_line gave both or neither of stmt and error");
    if (pr.error && (pr.error->span.begin > pr.error->span.end || pr.error->span.begin > line.size()))
      fail(line, "parse error span out of the line");

    std::string before = session.state_json();
    vmplay::shell::Output out = session.exec(line);
    if (!out.ok) {
      if (!out.error_span) fail(line, "refused line without an error span");
      std::string after = session.state_json();
      if (after != before) fail(line, "a refused line changed the state:\n" + out.text());
    }
  }
  return 0;
}
