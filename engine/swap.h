// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// The swap area (one swap file, type 0) and swap entries in page-table entries.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/physmem.h"
#include "engine/types.h"

namespace vmplay::engine {

// x86-64's swap PTE (arch/x86/include/asm/pgtable_64.h): not present, the type in
// bits 59-63, the offset inverted in bits 9-58, PG_anon_exclusive kept in bit 3.
constexpr uint64_t SWP_TYPE_BITS = 5;
constexpr uint64_t SWP_OFFSET_SHIFT = 9 + SWP_TYPE_BITS;
constexpr uint64_t _PAGE_SWP_EXCLUSIVE = 1ULL << 3;
constexpr uint64_t swp_entry_pte(uint64_t type, uint64_t offset) {
  return (~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) | (type << (64 - SWP_TYPE_BITS));
}
constexpr uint64_t pte_swp_offset(uint64_t e) { return ~e << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT; }
constexpr uint64_t pte_swp_type(uint64_t e) { return e >> (64 - SWP_TYPE_BITS); }
// Neither empty nor present (nor a PROT_NONE page): a swap entry.
constexpr bool is_swap_pte(uint64_t e) { return e != 0 && (e & ((1ULL << 0) | (1ULL << 8))) == 0; }

struct SwapSlot {
  bool allocated = false;
  uint32_t count = 0;          // swap_map: swap PTEs and shmem pages holding the slot
  uint32_t cache = kNoFrame;   // the frame in the swap cache for this slot, if any
  PageData data;               // the page as written out
};

class SwapArea {
 public:
  // `pages` is the size of the swap file; its first page is the header, as mkswap
  // writes it, so pages - 1 slots are usable.
  explicit SwapArea(uint64_t pages = 0);
  uint64_t total() const { return slots_.empty() ? 0 : slots_.size() - 1; }
  uint64_t used() const { return used_; }
  uint64_t free() const { return total() - used_; }
  // A free slot, found as Linux's cluster allocator finds it on a rotational disk: a
  // cursor moves forward through the current 512-slot cluster (holes freed behind it
  // wait); at the cluster's end a partly used cluster is scanned from its start, else
  // an empty one. nullopt when full.
  std::optional<uint32_t> alloc();
  static constexpr uint64_t kCluster = 512;  // SWAPFILE_CLUSTER
  // Releases a slot nothing refers to any more; false if it is still referenced.
  bool maybe_release(uint32_t slot);
  SwapSlot& slot(uint64_t s) { return slots_.at(static_cast<size_t>(s)); }
  const SwapSlot& slot(uint64_t s) const { return slots_.at(static_cast<size_t>(s)); }
  bool valid(uint64_t s) const { return s >= 1 && s < slots_.size(); }

 private:
  std::optional<uint32_t> scan(uint64_t from, uint64_t to);
  uint64_t cluster_first(uint64_t c) const { return c == 0 ? 1 : c * kCluster; }
  uint64_t cluster_end(uint64_t c) const;
  std::vector<SwapSlot> slots_;
  std::vector<uint32_t> cluster_used_;  // slots in use per cluster
  uint64_t used_ = 0;
  uint64_t cursor_ = 1;  // the next slot to try (global_cluster->next)
};

}  // namespace vmplay::engine
