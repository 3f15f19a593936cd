// shell/: strace-syntax language. Knows the engine's types, nothing of drawing.
// What runs in a new process before main(): the dynamic loader's system calls.
#pragma once
#include <string_view>

namespace vmplay::shell {

// ld.so's startup of /home/user/a.out, as `strace -e trace=memory,file,desc` shows it
// on this machine (setarch -R), with the stores that relocation and libc's own
// initialisation make, and the first malloc's brk. Lines use variables for the
// addresses that mmap returns, so the script stays correct whatever they are; the
// session sets `aout`, `ld` and `stk` (where execve put the program, the loader and
// the top stack page) before running it.
extern const std::string_view kLoaderStartup[];
extern const size_t kLoaderStartupLines;

}  // namespace vmplay::shell
