// mprotect, and the VMA surgery it shares with madvise and mlock (vma_modify_flags).
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {
constexpr uint64_t VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
constexpr uint64_t PROT_SEM = 0x8;

// is_mergeable_anon_vma: one side without an anon_vma, or the same one.
bool anon_compatible(uint64_t a, uint64_t b) { return a == 0 || b == 0 || a == b; }
}  // namespace

std::optional<uint64_t> Kernel::find_mergeable_anon_vma(const Mm& mm, const Vma& v) const {
  // anon_vma_compatible(a, b): a directly below b, same file, flags equal but for the
  // access bits, and pgoff continuous.
  auto compatible = [](const Vma& a, const Vma& b) {
    return a.end == b.start && a.inode == b.inode &&
           !((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) &&
           b.pgoff == a.pgoff + ((b.start - a.start) >> PAGE_SHIFT);
  };
  auto it = mm.vmas.upper_bound(v.start);
  if (it != mm.vmas.end() && it->second.anon && compatible(v, it->second)) return it->second.anon;
  if (const Vma* prev = mm.prev_of(v.start); prev && prev->anon && compatible(*prev, v)) return prev->anon;
  return std::nullopt;
}

Kernel::ModifyResult Kernel::vma_modify_flags(Process& p, uint64_t vma_start, uint64_t start,
                                              uint64_t end, uint64_t new_flags) {
  Mm& mm = p.mm;
  Vma& mid = mm.vmas.at(vma_start);
  auto pgoff_at = [&](uint64_t addr) { return mid.pgoff + ((addr - mid.start) >> PAGE_SHIFT); };
  auto same_kind = [&](const Vma& n) {
    return (n.flags & ~VM_IGNORE_MERGE) == (new_flags & ~VM_IGNORE_MERGE) && n.inode == mid.inode &&
           n.name == mid.name;
  };
  Vma* prev = nullptr;
  Vma* next = nullptr;
  {
    auto it = mm.vmas.find(mid.start);
    if (it != mm.vmas.begin() && std::prev(it)->second.end == mid.start) prev = &std::prev(it)->second;
    auto nit = std::next(it);
    if (nit != mm.vmas.end() && nit->second.start == mid.end) next = &nit->second;
  }
  // vma_merge_existing_range: the range must touch the side it merges on.
  bool merge_left = start == mid.start && prev && same_kind(*prev) &&
                    prev->pgoff + prev->pages() == mid.pgoff && anon_compatible(prev->anon, mid.anon);
  bool merge_right = end == mid.end && next && same_kind(*next) && next->pgoff == pgoff_at(end) &&
                     anon_compatible(mid.anon, next->anon);
  if (merge_left && merge_right && !anon_compatible(prev->anon, next->anon)) merge_right = false;
  // Whatever happens below stays within prev..next: resync the gaps there on return.
  struct GapSync {
    Mm& mm;
    uint64_t lo, hi;
    ~GapSync() { mm.sync_gaps(lo, hi); }
  } gap_sync{mm, prev ? prev->start : mid.start, next ? next->end : mid.end};

  auto remove = [&](uint64_t s) {
    Vma gone = mm.vmas.at(s);
    mm.vmas.erase(s);
    if (gone.inode) --inodes_.at(gone.inode).map_count;  // merged into a neighbour
    emit({.kind = EventKind::VmaRemove, .pid = p.pid, .addr = gone.start, .end = gone.end});
  };
  if (merge_left) {
    uint64_t anon = prev->anon ? prev->anon : mid.anon;
    uint64_t new_end = end;
    if (end == mid.end) {
      if (merge_right) {
        anon = anon ? anon : next->anon;
        new_end = next->end;
        remove(next->start);
      }
      remove(mid.start);
    } else {
      // The middle keeps its tail: it starts at `end` now.
      Vma tail = mid;
      mm.vmas.erase(mid.start);
      tail.pgoff += (end - tail.start) >> PAGE_SHIFT;
      tail.start = end;
      mm.vmas.emplace(tail.start, tail);
      emit({.kind = EventKind::VmaSplit, .pid = p.pid, .addr = end, .end = tail.end});
    }
    prev->end = new_end;  // std::map nodes are stable: prev survived the erasures
    prev->anon = anon;
    emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = prev->start, .end = prev->end});
    return {Errno::None, prev->start};
  }
  if (merge_right) {
    Vma n = *next;
    mm.vmas.erase(n.start);
    n.anon = n.anon ? n.anon : mid.anon;
    n.pgoff = pgoff_at(start);
    if (start == mid.start) {
      remove(mid.start);
    } else {
      mid.end = start;
      emit({.kind = EventKind::VmaSplit, .pid = p.pid, .addr = start, .end = end});
    }
    n.start = start;
    mm.vmas.emplace(n.start, n);
    emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = n.start, .end = n.end});
    return {Errno::None, n.start};
  }
  // No merge: split off what lies outside the range (split_vma checks the map count).
  uint64_t at = mid.start;
  if (start > mid.start) {
    if (!split_vma(p, at, start)) return {Errno::NoMem, 0};
    at = start;
  }
  if (end < mm.vmas.at(at).end) {
    if (!split_vma(p, at, end)) return {Errno::NoMem, 0};
  }
  mm.vmas.at(at).flags = new_flags;
  return {Errno::None, at};
}

void Kernel::change_protection(Process& p, const Vma& v, uint64_t start, uint64_t end) {
  PageTables pt = tables(p);
  uint64_t prot = vm_get_page_prot(v.flags);
  // pte_modify keeps the frame, caching, accessed/dirty and the software bits.
  constexpr uint64_t CHG_MASK = PTE_PFN_MASK | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL |
                                _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT_DIRTY;
  struct Hit {
    uint64_t addr;
    PteSlot slot;
    uint64_t e;
  };
  std::vector<Hit> hits;
  pt.for_each_pte(start, end, [&](uint64_t addr, PteSlot slot, uint64_t e) { hits.push_back({addr, slot, e}); });
  bool try_writable = (v.flags & VM_WRITE) && !(v.flags & VM_SHARED);
  for (const Hit& h : hits) {
    if (is_swap_pte(h.e)) continue;  // a swapped-out page keeps its entry; the fault applies the new protection
    uint64_t ne = (h.e & CHG_MASK) | prot;
    // can_change_pte_writable: a private page may be written without a fault only
    // when it is an anonymous page nobody else can see.
    if (try_writable && (ne & _PAGE_PRESENT) && !(ne & _PAGE_SPECIAL)) {
      const Frame& f = mem_.frame(pte_pfn(ne));
      if ((f.flags & PG_anon) && (f.flags & PG_anon_exclusive)) ne |= _PAGE_RW;
    }
    if (ne != h.e) set_pte(p, h.slot, h.addr, ne);
  }
}

SysResult Kernel::sys_mprotect(Pid pid, uint64_t start, uint64_t len, uint64_t prot) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](Errno e) { return syscall_done(pid, Sysno::mprotect, e); };
  // do_mprotect_pkey
  const uint64_t grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) return finish(Errno::Inval);
  if (offset_in_page(start)) return finish(Errno::Inval);
  if (len == 0) return finish(Errno::None);
  len = page_align(len);
  uint64_t end = start + len;
  if (end <= start) return finish(Errno::NoMem);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return finish(Errno::Inval);

  Mm& mm = p->mm;
  const Vma* first = mm.find_vma(start);
  if (!first || first->start >= end) return finish(Errno::NoMem);
  if (grows & PROT_GROWSDOWN) {
    start = first->start;
    if (!(first->flags & VM_GROWSDOWN)) return finish(Errno::Inval);
  } else {
    if (first->start > start) return finish(Errno::NoMem);
    if (grows & PROT_GROWSUP) return finish(Errno::Inval);  // x86 has no VM_GROWSUP
  }
  uint64_t vm_prot = 0;
  if (prot & PROT_READ) vm_prot |= VM_READ;
  if (prot & PROT_WRITE) vm_prot |= VM_WRITE;
  if (prot & PROT_EXEC) vm_prot |= VM_EXEC;

  uint64_t nstart = start;
  uint64_t tmp = first->start;
  Errno err = Errno::None;
  while (true) {
    const Vma* v = mm.find_vma(nstart);
    if (!v || v->start >= end) break;
    if (v->start != tmp) {  // a hole
      err = Errno::NoMem;
      break;
    }
    uint64_t old_flags = v->flags;
    uint64_t new_flags = vm_prot | (old_flags & ~VM_ACCESS_FLAGS);
    // Asking for a permission the mapping may never have (VM_MAY*).
    if ((new_flags & ~(new_flags >> 4)) & VM_ACCESS_FLAGS) {
      err = Errno::Acces;
      break;
    }
    tmp = std::min(v->end, end);
    uint64_t seg_end = tmp;
    if (new_flags != old_flags) {
      // mprotect_fixup: charge private memory that becomes writable; stop charging
      // anonymous memory that never had a page.
      if (new_flags & VM_WRITE) {
        if (!(old_flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) {
          if (!vm_enough_memory(mm, (seg_end - nstart) >> PAGE_SHIFT)) {
            err = Errno::NoMem;
            break;
          }
          new_flags |= VM_ACCOUNT;
        }
      } else if ((old_flags & VM_ACCOUNT) && v->is_anonymous() && !v->anon) {
        new_flags &= ~uint64_t{VM_ACCOUNT};
      }
      ModifyResult m = vma_modify_flags(*p, v->start, nstart, seg_end, new_flags);
      if (m.err != Errno::None) {
        err = m.err;
        break;
      }
      int64_t pages = static_cast<int64_t>((seg_end - nstart) >> PAGE_SHIFT);
      vm_stat_account(mm, old_flags, -pages);
      vm_stat_account(mm, new_flags, pages);
      change_protection(*p, mm.vmas.at(m.vma_start), nstart, seg_end);
    }
    nstart = tmp;
    if (tmp >= end) break;
  }
  if (err == Errno::None && tmp < end) err = Errno::NoMem;
  return finish(err);
}

}  // namespace vmplay::engine
