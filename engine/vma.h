// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// Virtual memory areas and the address space (mm_struct) that holds them.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/btree.h"
#include "engine/pagetable.h"
#include "engine/types.h"

namespace vmplay::engine {

// vm_flags bits, with Linux's values.
enum VmFlag : uint64_t {
  VM_NONE = 0,
  VM_READ = 0x1,
  VM_WRITE = 0x2,
  VM_EXEC = 0x4,
  VM_SHARED = 0x8,
  VM_MAYREAD = 0x10,
  VM_MAYWRITE = 0x20,
  VM_MAYEXEC = 0x40,
  VM_MAYSHARE = 0x80,
  VM_GROWSDOWN = 0x100,
  VM_PFNMAP = 0x400,
  VM_LOCKED = 0x2000,
  VM_IO = 0x4000,
  VM_SEQ_READ = 0x8000,
  VM_RAND_READ = 0x10000,
  VM_DONTCOPY = 0x20000,
  VM_DONTEXPAND = 0x40000,
  VM_LOCKONFAULT = 0x80000,
  VM_ACCOUNT = 0x100000,
  VM_NORESERVE = 0x200000,
  VM_WIPEONFORK = 0x2000000,
  VM_DONTDUMP = 0x4000000,
  VM_SOFTDIRTY = 0x8000000,  // never set: the kernel modelled (this machine's) has no CONFIG_MEM_SOFT_DIRTY
};

// Flags that do not prevent two neighbours from merging (VM_IGNORE_MERGE).
constexpr uint64_t VM_IGNORE_MERGE = VM_SOFTDIRTY;

// Kernel-provided mappings that are neither anonymous memory nor a file.
enum class Special : uint8_t { None, Vvar, VvarVclock, Vdso };

struct Vma {
  uint64_t start = 0;  // vm_start, inclusive
  uint64_t end = 0;    // vm_end, exclusive
  uint64_t flags = 0;  // vm_flags
  uint64_t pgoff = 0;  // vm_pgoff: for private anonymous memory, vm_start >> 12 at creation
  uint64_t inode = 0;  // backing file's inode number; 0 for anonymous memory
  uint64_t anon = 0;   // anon_vma identity; 0 until the first anonymous page is made
  Special special = Special::None;
  std::string name;    // a name of the mapping's own (unused for files, [heap] and [stack])

  uint64_t pages() const { return (end - start) >> PAGE_SHIFT; }
  bool contains(uint64_t addr) const { return addr >= start && addr < end; }
  bool is_anonymous() const { return inode == 0 && special == Special::None; }
};

// The per-process address space, after mm_struct.
struct Mm {
  BTreeMap<Vma> vmas;  // keyed by vm_start; ordered, non-overlapping (a B+tree, as the maple tree)
  Pfn pgd;                       // root page table
  PgtableCounters pgtables;      // page-table pages below the PGD
  uint64_t mmap_base = 0;
  // The program's layout, as mm_struct keeps it.
  uint64_t start_code = 0, end_code = 0, start_brk = 0, brk = 0, start_stack = 0;
  uint64_t load_base = 0, interp_base = 0;  // where the program and ld.so were loaded
  uint64_t def_flags = 0;  // VM_LOCKED (| VM_LOCKONFAULT) after mlockall(MCL_FUTURE)
  // The free gaps, for get_unmapped_area in O(log n): each VMA owns the gap below it
  // (down to the end of the VMA before), and its weight in `vmas` is that gap's length;
  // the gap above the last VMA, up to TASK_SIZE, is owned by TASK_SIZE. Whatever changes
  // where VMAs start or end calls sync_gaps() for the range it touched;
  // check_invariants() compares the weights with gaps recomputed from the VMAs.
  struct Gap {
    uint64_t owner = 0;  // start of the VMA above the gap (TASK_SIZE for the top gap)
    uint64_t start = 0;  // end of the VMA below (0 when none)
    uint64_t end = 0;    // where the free room ends: vm_start_gap(owner)
    uint64_t len() const { return end > start ? end - start : 0; }
  };
  void sync_gaps(uint64_t lo, uint64_t hi);
  void rebuild_gaps();
  Gap gap_of(uint64_t owner) const;  // recomputed from the VMAs
  // The gap with the highest owner <= max_owner that is at least len long.
  std::optional<Gap> highest_gap(uint64_t max_owner, uint64_t len) const;
  uint64_t total_vm = 0;   // pages mapped
  uint64_t data_vm = 0;    // private writable, not stack
  uint64_t exec_vm = 0;
  uint64_t stack_vm = 0;
  uint64_t locked_vm = 0;
  uint64_t hiwater_vm = 0;
  uint64_t hiwater_rss = 0;
  uint64_t rss_anon = 0;   // MM_ANONPAGES
  uint64_t rss_file = 0;   // MM_FILEPAGES
  uint64_t rss_shmem = 0;  // MM_SHMEMPAGES
  uint64_t swapents = 0;   // MM_SWAPENTS: swap entries in the page tables

  uint64_t rss() const { return rss_anon + rss_file + rss_shmem; }
  // find_vma: the first VMA that ends above addr (it may start above addr too).
  const Vma* find_vma(uint64_t addr) const;
  Vma* find_vma(uint64_t addr);
  // The VMA containing addr, or nullptr.
  const Vma* vma_at(uint64_t addr) const;
  // The last VMA that starts below addr (the candidate predecessor).
  const Vma* prev_of(uint64_t addr) const;
  bool intersects(uint64_t start, uint64_t end) const;
};

// How vm_flags of a mapping are counted in total_vm's sub-counters (vm_stat_account).
bool is_exec_mapping(uint64_t flags);
bool is_stack_mapping(uint64_t flags);
bool is_data_mapping(uint64_t flags);

}  // namespace vmplay::engine
