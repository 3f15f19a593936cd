#include "shell/startup.h"

#include <iterator>

namespace vmplay::shell {

const std::string_view kLoaderStartup[] = {
    "brk(NULL)",
    // _dl_important_hwcaps and the link map: two pages, written at once.
    "ldm = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
    "ldm[0] = 1",
    "cfd = openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC)",
    "fstat(cfd, {})",
    "cache = mmap(NULL, 46219, PROT_READ, MAP_PRIVATE, cfd, 0)",
    "cache[0]",
    "close(cfd)",
    "lfd = openat(AT_FDCWD, \"/usr/lib/x86_64-linux-gnu/libc.so.6\", O_RDONLY|O_CLOEXEC)",
    "read(lfd, stk, 832)",
    "pread64(lfd, stk + 0x340, 784, 64)",
    "fstat(lfd, {})",
    "pread64(lfd, stk + 0x340, 784, 64)",
    "libc = mmap(NULL, 1974096, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, lfd, 0)",
    "mmap(libc + 0x26000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, lfd, 0x26000)",
    "mmap(libc + 0x17c000, 339968, PROT_READ, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, lfd, 0x17c000)",
    "mmap(libc + 0x1cf000, 24576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, lfd, 0x1cf000)",
    "mmap(libc + 0x1d5000, 53072, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0)",
    "close(lfd)",
    // The static TLS block and the thread control block.
    "tls = mmap(NULL, 12288, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
    "tls[8192] = 1",
    // Relocation writes the GOTs, which then become read-only (RELRO); libc's data and
    // bss are written as it initialises.
    "libc[0x1cf000] = 1",
    "libc[0x1d3000] = 1",
    "libc[0x1d5000] = 1",
    "mprotect(libc + 0x1cf000, 16384, PROT_READ)",
    "aout[0x3000] = 1",
    "mprotect(aout + 0x3000, 4096, PROT_READ)",
    "ld[0x31000] = 1",
    "mprotect(ld + 0x31000, 8192, PROT_READ)",
    "munmap(cache, 46219)",
    // main() calls printf: malloc's first arena comes from brk.
    "heap = brk(NULL)",
    "brk(heap + 0x21000)",
    "heap[0] = 1",
};
const size_t kLoaderStartupLines = std::size(kLoaderStartup);

}  // namespace vmplay::shell
