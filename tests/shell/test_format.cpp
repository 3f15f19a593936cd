#include <doctest/doctest.h>

#include "shell/format.h"

using namespace vmplay::shell;
using namespace vmplay::engine;

TEST_CASE("format: prot and flags the way strace prints them") {
  CHECK(format_prot(PROT_READ | PROT_WRITE) == "PROT_READ|PROT_WRITE");
  CHECK(format_prot(0) == "PROT_NONE");
  CHECK(format_prot(PROT_EXEC | 0x100) == "PROT_EXEC|0x100");
  CHECK(format_map_flags(MAP_PRIVATE | MAP_ANONYMOUS) == "MAP_PRIVATE|MAP_ANONYMOUS");
  CHECK(format_map_flags(MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE) == "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
  CHECK(format_map_flags(MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE) == "MAP_SHARED_VALIDATE|MAP_FIXED_NOREPLACE");
  CHECK(format_map_flags(MAP_ANONYMOUS) == "0 /* MAP_??? */|MAP_ANONYMOUS");
}

TEST_CASE("format: results") {
  CHECK(format_result(SysResult::ok(0x7ffff7ffd000), true) == " = 0x7ffff7ffd000");
  CHECK(format_result(SysResult::ok(0), false) == " = 0");
  CHECK(format_result(SysResult::fail(Errno::NoMem), true) == " = -1 ENOMEM (Cannot allocate memory)");
  CHECK(hex(0) == "0");
  CHECK(format_pointer(0) == "NULL");
}

TEST_CASE("format: constants") {
  CHECK(constant_value("MAP_ANONYMOUS") == MAP_ANONYMOUS);
  CHECK(constant_value("MAP_ANON") == MAP_ANONYMOUS);
  CHECK(constant_value("NULL") == 0u);
  CHECK_FALSE(constant_value("MAP_NOPE"));
}

TEST_CASE("format: fault and signal events") {
  Kernel k;
  Event f{.kind = EventKind::Fault, .addr = 0x7ffff7ffa000, .pfn = Pfn{0x1a3},
          .access = Access::Write, .fault = FaultKind::AnonNewPage};
  CHECK(*format_event(f, k) ==
        "--- page fault: write, anonymous, minor (zero-filled frame 0x1a3) at 0x7ffff7ffa000 ---");
  Event s{.kind = EventKind::Signal, .addr = 0x10, .signo = kSigSegv, .si_code = kSegvMapErr};
  CHECK(*format_event(s, k) == "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---");
  Event x{.kind = EventKind::ProcessExit, .signo = kSigSegv};
  CHECK(*format_event(x, k) == "+++ killed by SIGSEGV +++");
  CHECK_FALSE(format_event(Event{.kind = EventKind::PteSet}, k));
}

TEST_CASE("format: strings, flags and structs the way strace prints them") {
  CHECK(format_string("hello\n", 32) == "\"hello\\n\"");
  CHECK(format_string(std::string("\177ELF\2\1\1\0", 8), 32) == "\"\\177ELF\\2\\1\\1\\0\"");
  CHECK(format_string(std::string("\0" "12", 3), 32) == "\"\\00012\"");  // padded before a digit
  CHECK(format_string(std::string(40, 'a'), 32) == "\"" + std::string(32, 'a') + "\"...");
  CHECK(format_open_flags(O_RDONLY_) == "O_RDONLY");
  CHECK(format_open_flags(O_RDWR_ | O_CREAT_ | O_TRUNC_ | O_CLOEXEC_) == "O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC");
  CHECK(format_mode(0644) == "0644");
  CHECK(format_stat(S_IFREG_ | 0644, 62) == "{st_mode=S_IFREG|0644, st_size=62, ...}");
  CHECK(format_msync_flags(MS_SYNC | MS_INVALIDATE) == "MS_INVALIDATE|MS_SYNC");
  CHECK(format_mfd_flags(0) == "0");
  CHECK(format_whence(SEEK_END_) == "SEEK_END");
}
