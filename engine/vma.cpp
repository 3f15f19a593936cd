#include "engine/vma.h"

#include "engine/kernel.h"

namespace vmplay::engine {

const Vma* Mm::find_vma(uint64_t addr) const {
  auto it = vmas.upper_bound(addr);
  if (it != vmas.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > addr) return &prev->second;
  }
  return it == vmas.end() ? nullptr : &it->second;
}

Vma* Mm::find_vma(uint64_t addr) {
  return const_cast<Vma*>(static_cast<const Mm*>(this)->find_vma(addr));
}

const Vma* Mm::vma_at(uint64_t addr) const {
  const Vma* v = find_vma(addr);
  return v && v->start <= addr ? v : nullptr;
}

const Vma* Mm::prev_of(uint64_t addr) const {
  auto it = vmas.lower_bound(addr);
  if (it == vmas.begin()) return nullptr;
  return &std::prev(it)->second;
}

Mm::Gap Mm::gap_of(uint64_t owner) const {
  // The gap below the VMA starting at owner (or below TASK_SIZE for the top gap).
  Gap g;
  g.owner = owner;
  const Vma* prev = prev_of(owner);
  g.start = prev ? prev->end : 0;
  if (owner >= TASK_SIZE) {
    g.end = TASK_SIZE;
  } else {
    g.end = vm_start_gap(vmas.at(owner));
  }
  return g;
}

void Mm::sync_gaps(uint64_t lo, uint64_t hi) {
  // The gaps of the VMAs in [lo, hi] and of the first one above hi (whose gap starts at
  // the last end below it) are recomputed, in one walk from lo, each gap starting at the
  // end of the VMA before it. (VMAs that are gone took their gaps with them; the top gap
  // is computed when asked for.) Setting a weight leaves the iterators valid.
  auto it = vmas.lower_bound(lo);
  uint64_t prev_end = it == vmas.begin() ? 0 : std::prev(it)->second.end;
  for (; it != vmas.end(); ++it) {
    vmas.set_weight(it->first, Gap{it->first, prev_end, vm_start_gap(it->second)}.len());
    if (it->first > hi) break;
    prev_end = it->second.end;
  }
}

void Mm::rebuild_gaps() {
  uint64_t prev_end = 0;
  for (auto it = vmas.begin(); it != vmas.end(); ++it) {
    vmas.set_weight(it->first, Gap{it->first, prev_end, vm_start_gap(it->second)}.len());
    prev_end = it->second.end;
  }
}

std::optional<Mm::Gap> Mm::highest_gap(uint64_t max_owner, uint64_t len) const {
  // The top gap's owner, TASK_SIZE, is above every VMA's.
  if (max_owner >= TASK_SIZE) {
    Gap top = gap_of(TASK_SIZE);
    if (top.len() >= len) return top;
  }
  auto it = vmas.highest_weighing(max_owner, len);
  if (it == vmas.end()) return std::nullopt;
  return gap_of(it->first);
}

bool Mm::intersects(uint64_t start, uint64_t end) const {
  const Vma* v = find_vma(start);
  return v && v->start < end;
}

uint64_t vm_start_gap(const Vma& v) {
  constexpr uint64_t STACK_GUARD_GAP = 256ULL << PAGE_SHIFT;
  if (!(v.flags & VM_GROWSDOWN)) return v.start;
  return v.start > STACK_GUARD_GAP ? v.start - STACK_GUARD_GAP : 0;
}

// mm/internal.h
bool is_exec_mapping(uint64_t flags) {
  return (flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) == VM_EXEC;
}
bool is_stack_mapping(uint64_t flags) { return (flags & VM_GROWSDOWN) == VM_GROWSDOWN; }
bool is_data_mapping(uint64_t flags) {
  return (flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE;
}

}  // namespace vmplay::engine
