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
