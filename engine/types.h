// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// Strong types for what is easy to mix up. Every simulated address, length and
// frame number is 64-bit, so native and wasm32 builds compute the same thing.
#pragma once
#include <cstdint>

namespace vmplay::engine {

constexpr uint64_t PAGE_SHIFT = 12;
// (Not PAGE_SIZE: the wasm libc defines that as a macro.)
constexpr uint64_t kPageSize = 1ULL << PAGE_SHIFT;
constexpr uint64_t PAGE_MASK = ~(kPageSize - 1);
// x86-64 with 4-level paging: user space ends one page below 2^47.
constexpr uint64_t TASK_SIZE = (1ULL << 47) - kPageSize;  // 0x7ffffffff000

constexpr uint64_t page_align(uint64_t x) { return (x + kPageSize - 1) & PAGE_MASK; }
constexpr bool offset_in_page(uint64_t x) { return (x & ~PAGE_MASK) != 0; }

// A physical frame number.
struct Pfn {
  uint64_t value = 0;
  constexpr uint64_t phys() const { return value << PAGE_SHIFT; }
  friend constexpr bool operator==(Pfn a, Pfn b) { return a.value == b.value; }
  friend constexpr bool operator!=(Pfn a, Pfn b) { return a.value != b.value; }
  friend constexpr bool operator<(Pfn a, Pfn b) { return a.value < b.value; }
};

// A user virtual address.
struct VirtAddr {
  uint64_t value = 0;
  constexpr uint64_t page_base() const { return value & PAGE_MASK; }
  constexpr uint64_t offset() const { return value & ~PAGE_MASK; }
  constexpr bool is_page_aligned() const { return offset() == 0; }
  friend constexpr bool operator==(VirtAddr a, VirtAddr b) { return a.value == b.value; }
};

using Pid = int32_t;

}  // namespace vmplay::engine
