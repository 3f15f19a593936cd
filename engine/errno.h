// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// Errors are values: a syscall returns a SysResult carrying Linux's errno.
#pragma once
#include <cstdint>

namespace vmplay::engine {

// Linux x86-64 errno numbers. (Named without the E prefix: <cerrno> defines EINVAL
// and friends as macros.)
enum class Errno : int32_t {
  None = 0,
  Perm = 1,
  NoEnt = 2,
  Srch = 3,
  Intr = 4,
  Io = 5,
  NoExec = 8,
  BadF = 9,
  Child = 10,
  Again = 11,
  NoMem = 12,
  Acces = 13,
  Fault = 14,
  Busy = 16,
  Exist = 17,
  NoDev = 19,
  Inval = 22,
  NFile = 23,
  MFile = 24,
  FBig = 27,
  NoSpc = 28,
  SPipe = 29,
  NoSys = 38,
  Overflow = 75,
  OpNotSupp = 95,
};

// "EINVAL"
const char* errno_name(Errno e);
// "Invalid argument" (glibc's strerror text, as strace prints it)
const char* errno_message(Errno e);

// The outcome of a system call: a value, or an errno. The raw return value a
// program sees is value() on success and -errno otherwise.
struct [[nodiscard]] SysResult {
  uint64_t value = 0;
  Errno err = Errno::None;

  static SysResult ok(uint64_t v) { return {v, Errno::None}; }
  static SysResult fail(Errno e) { return {0, e}; }
  bool is_ok() const { return err == Errno::None; }
  // What the C library returns: -1 (as an unsigned 64-bit pattern) on error.
  uint64_t c_value() const { return is_ok() ? value : ~0ULL; }
};

}  // namespace vmplay::engine
