// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// Every state change is a typed event. The shell prints them, the UI highlights
// them, golden transcripts diff them.
#pragma once
#include <cstdint>

#include "engine/errno.h"
#include "engine/types.h"

namespace vmplay::engine {

enum class EventKind : uint8_t {
  ProcessStart,   // pid
  ProcessExit,    // pid, signo (0 for a normal exit), value = exit status
  Syscall,        // pid, sysno, value = return value, err
  Fault,          // pid, addr, access, fault, pfn (the frame now mapped)
  Signal,         // pid, signo, si_code, addr = si_addr
  FrameAlloc,     // pfn, owner in `fault`-independent detail (see Frame)
  FrameFree,      // pfn
  PteSet,         // pid, addr, value = new entry, pfn
  PteClear,       // pid, addr, value = old entry, pfn
  PageTableAlloc, // pid, pfn, level
  PageTableFree,  // pid, pfn, level
  VmaInsert,      // pid, addr..end
  VmaExpand,      // pid, addr..end = the VMA's new range (a merge into it)
  VmaSplit,       // pid, addr = the split point, end = end of the original VMA
  VmaRemove,      // pid, addr..end
  PageCacheAdd,   // pfn, value = inode, addr = page index; level 1 when read from disk
  PageCacheRemove,// pfn, value = inode, addr = page index
  Writeback,      // pfn, value = inode, addr = page index: a dirty page written to disk
  SwapOut,        // pfn, value = swap slot: the page written to swap (pid 0)
  SwapCacheDrop,  // pfn, value = swap slot: the page left the swap cache
  Reclaim,        // level 0 kswapd, 1 direct reclaim, 2 MADV_PAGEOUT; addr = pages scanned, value = reclaimed
  OomKill,        // pid = the victim, value = index into Kernel::oom_reports()
  LazyFreed,      // pid, addr, pfn: a clean MADV_FREE page dropped by reclaim
};

enum class Access : uint8_t { Read, Write, Exec };  // Exec: an instruction fetch

// The path the fault handler took, after Linux's function names.
enum class FaultKind : uint8_t {
  None,
  AnonZeroPage,  // do_anonymous_page, read: the shared zero page mapped read-only
  AnonNewPage,   // do_anonymous_page, write: a zero-filled frame
  WpCopy,        // do_wp_page -> wp_page_copy: a private copy (of the zero page or a shared page)
  WpReuse,       // do_wp_page -> wp_page_reuse: the only user gets write access back
  BadArea,       // no VMA (or below it and not a stack): kSigSegv, kSegvMapErr
  AccessError,   // VMA forbids the access: SIGSEGV with SEGV_ACCERR
  Oom,           // no frame could be had: VM_FAULT_OOM
  FileReadMajor, // do_read_fault: the page had to be read from disk (VM_FAULT_MAJOR)
  FileReadMinor, // do_read_fault: the page was in the page cache
  FileCow,       // do_cow_fault: a private copy of a page-cache page
  FileShared,    // do_shared_fault: the page-cache page mapped writable, now dirty
  WpShared,      // do_wp_page -> wp_page_shared: a clean shared page becomes dirty
  SigBus,        // past the end of the file: SIGBUS, BUS_ADRERR
  Special,       // special_mapping_fault: a vvar or vdso page of the kernel mapped
  SwapIn,        // do_swap_page: the page read back from swap (level 1) or found in the swap cache; value = slot
};

enum class Sysno : uint16_t {
  mmap, munmap, mprotect, mremap, madvise, msync, mlock, mlock2, munlock, mlockall, munlockall, mincore, brk, execve, getpid, fork, exit_group, wait4, kill,
  openat, close, read, write, pread64, pwrite64, lseek, ftruncate, fstat, unlink, memfd_create,
};

// Signal numbers and si_codes with Linux's values (named apart from <signal.h>'s macros).
constexpr int kSigBus = 7;
constexpr int kSigKill = 9;
constexpr int kSigTerm = 15;
constexpr int kSigSegv = 11;
constexpr int kSegvMapErr = 1;
constexpr int kSegvAccErr = 2;
constexpr int kBusAdrErr = 2;

struct Event {
  uint64_t seq = 0;
  EventKind kind = EventKind::ProcessStart;
  Pid pid = 0;
  uint64_t addr = 0;
  uint64_t end = 0;
  uint64_t value = 0;
  Pfn pfn{};
  Sysno sysno = Sysno::getpid;
  Errno err = Errno::None;
  Access access = Access::Read;
  FaultKind fault = FaultKind::None;
  // Small values (a signal number, an si_code, a page-table level or a 0/1 flag) in 16
  // bits, so that an event is 64 bytes: the log holds one per PTE change, and wasm
  // copies 64 bytes with inline stores but calls memcpy for more.
  int16_t signo = 0;
  int16_t si_code = 0;
  int16_t level = 0;
};
static_assert(sizeof(Event) == 64, "an event is one 64-byte cache line");

const char* fault_kind_name(FaultKind k);   // "do_anonymous_page (zero page)"
const char* signal_name(int signo);         // "SIGSEGV"
const char* si_code_name(int signo, int code);  // "SEGV_MAPERR"

}  // namespace vmplay::engine
