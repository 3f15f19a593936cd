// mlock, mlock2, munlock, mlockall, munlockall, mincore, and populating ranges
// (__mm_populate, which MAP_POPULATE, MAP_LOCKED and mlock share).
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {
constexpr uint64_t VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
constexpr uint64_t VM_SPECIAL_FLAGS = VM_IO | VM_DONTEXPAND | VM_PFNMAP;
}  // namespace

Errno Kernel::mm_populate(Process& p, uint64_t start, uint64_t len, bool ignore_errors) {
  // __mm_populate -> populate_vma_page_range: fault every page in, for write where the
  // mapping is private and writable (so copy-on-write is broken now, not later).
  Mm& mm = p.mm;
  uint64_t end = start + len;
  uint64_t nstart = start;
  while (nstart < end) {
    const Vma* v = mm.find_vma(nstart);
    if (!v || v->start >= end) break;
    nstart = std::max(nstart, v->start);
    uint64_t nend = std::min(end, v->end);
    if ((v->flags & VM_LOCKONFAULT) || (v->flags & (VM_IO | VM_PFNMAP))) {
      nstart = nend;
      continue;
    }
    bool accessible = v->flags & (VM_READ | VM_WRITE | VM_EXEC);
    bool write = (v->flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
    for (uint64_t a = nstart; a < nend; a += kPageSize) {
      if (!accessible) {
        if (ignore_errors) break;
        return Errno::Fault;  // get_user_pages refuses PROT_NONE
      }
      PageTables pt = tables(p);
      auto slot = pt.find_pte(a);
      uint64_t e = slot ? pt.get(*slot) : 0;
      bool done = (e & _PAGE_PRESENT) && (!write || (e & _PAGE_RW));
      if (done) continue;
      AccessResult r;
      handle_mm_fault(p, a, write ? Access::Write : Access::Read, r, false);
      if (r.fault == FaultKind::Oom || r.fault == FaultKind::SigBus || r.fault == FaultKind::BadArea ||
          r.fault == FaultKind::AccessError) {
        if (ignore_errors) break;
        return r.fault == FaultKind::Oom ? Errno::NoMem : Errno::Fault;
      }
      v = mm.find_vma(a);  // a fault may have merged or split nothing, but stay safe
    }
    nstart = nend;
  }
  return Errno::None;
}

Errno Kernel::mlock_fixup(Process& p, uint64_t vma_start, uint64_t start, uint64_t end, uint64_t new_flags,
                          uint64_t& next) {
  Mm& mm = p.mm;
  const Vma& v = mm.vmas.at(vma_start);
  uint64_t old_flags = v.flags;
  next = v.end;
  // VM_SPECIAL mappings (vvar, vdso) are never locked or counted.
  if (new_flags == old_flags || (old_flags & VM_SPECIAL_FLAGS)) return Errno::None;
  ModifyResult m = vma_modify_flags(p, vma_start, start, end, new_flags);
  if (m.err != Errno::None) return m.err;
  next = mm.vmas.at(m.vma_start).end;
  // mlock_vma_pages_range: the pages already mapped follow the new state.
  PageTables pt = tables(p);
  pt.for_each_pte(start, end, [&](uint64_t, PteSlot, uint64_t e) {
    if (!pte_present(e) || (e & _PAGE_SPECIAL)) return;
    Pfn pfn = pte_pfn(e);
    Frame& f = mem_.frame(pfn);
    if (f.owner == FrameOwner::Vdso) return;
    // mlock_folio / munlock_folio: onto the unevictable list and back.
    if (new_flags & VM_LOCKED) f.flags |= PG_mlocked;
    else f.flags &= ~uint32_t{PG_mlocked};
    if (f.lru != LruList::None) lru_putback(pfn);
  });
  int64_t pages = static_cast<int64_t>((end - start) >> PAGE_SHIFT);
  if (!(new_flags & VM_LOCKED)) pages = -pages;
  else if (old_flags & VM_LOCKED) pages = 0;
  mm.locked_vm = static_cast<uint64_t>(static_cast<int64_t>(mm.locked_vm) + pages);
  return Errno::None;
}

Errno Kernel::apply_vma_lock_flags(Process& p, uint64_t start, uint64_t len, uint64_t flags) {
  Mm& mm = p.mm;
  uint64_t end = start + len;
  if (end < start) return Errno::Inval;
  if (end == start) return Errno::None;
  const Vma* v = mm.vma_at(start);
  if (!v) return Errno::NoMem;
  uint64_t nstart = start, tmp = v->start;
  while (true) {
    v = mm.find_vma(nstart);
    if (!v || v->start >= end) break;
    if (v->start != tmp) return Errno::NoMem;
    uint64_t new_flags = (v->flags & ~VM_LOCKED_MASK) | flags;
    tmp = std::min(v->end, end);
    uint64_t next = 0;
    if (Errno e = mlock_fixup(p, v->start, nstart, tmp, new_flags, next); e != Errno::None) return e;
    tmp = std::max(tmp, std::min(next, end));
    nstart = tmp;
    if (nstart >= end) break;
  }
  if (tmp < end) return Errno::NoMem;
  return Errno::None;
}

SysResult Kernel::sys_mlock(Pid pid, uint64_t start, uint64_t len, uint64_t flags, Sysno which) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](Errno e) { return syscall_done(pid, which, e); };
  if (which == Sysno::mlock2 && (flags & ~MLOCK_ONFAULT)) return finish(Errno::Inval);
  // The start is rounded down and the length grows by what that added.
  len = page_align(len + (start & ~PAGE_MASK));
  start &= PAGE_MASK;
  if (which == Sysno::munlock) return finish(apply_vma_lock_flags(*p, start, len, 0));
  // As root (CAP_IPC_LOCK) RLIMIT_MEMLOCK does not apply.
  uint64_t vm_flags = VM_LOCKED | ((flags & MLOCK_ONFAULT) ? uint64_t{VM_LOCKONFAULT} : 0);
  if (Errno e = apply_vma_lock_flags(*p, start, len, vm_flags); e != Errno::None) return finish(e);
  Errno e = mm_populate(*p, start, len, false);
  // __mlock_posix_error_return
  if (e == Errno::Fault) e = Errno::NoMem;
  else if (e == Errno::NoMem) e = Errno::Again;
  return finish(e);
}

SysResult Kernel::sys_mlockall(Pid pid, uint64_t flags) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](Errno e) { return syscall_done(pid, Sysno::mlockall, e); };
  if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
    return finish(Errno::Inval);
  Mm& mm = p->mm;
  mm.def_flags &= ~VM_LOCKED_MASK;
  uint64_t to_add = VM_LOCKED | ((flags & MCL_ONFAULT) ? uint64_t{VM_LOCKONFAULT} : 0);
  if (flags & MCL_FUTURE) mm.def_flags |= to_add;
  if (flags & MCL_CURRENT) {
    for (uint64_t at = 0;;) {
      const Vma* v = mm.find_vma(at);
      if (!v) break;
      uint64_t next = 0;
      (void)mlock_fixup(*p, v->start, v->start, v->end, (v->flags & ~VM_LOCKED_MASK) | to_add, next);
      at = next;
    }
    (void)mm_populate(*p, 0, TASK_SIZE, true);
  }
  return finish(Errno::None);
}

SysResult Kernel::sys_munlockall(Pid pid) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  Mm& mm = p->mm;
  mm.def_flags &= ~VM_LOCKED_MASK;
  for (uint64_t at = 0;;) {
    const Vma* v = mm.find_vma(at);
    if (!v) break;
    uint64_t next = 0;
    (void)mlock_fixup(*p, v->start, v->start, v->end, v->flags & ~VM_LOCKED_MASK, next);
    at = next;
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = 0, .sysno = Sysno::munlockall});
  return SysResult::ok(0);
}

SysResult Kernel::sys_mincore(Pid pid, uint64_t start, uint64_t len, uint64_t vec, std::vector<uint8_t>* shown) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](Errno e) { return syscall_done(pid, Sysno::mincore, e); };
  if (offset_in_page(start)) return finish(Errno::Inval);
  if (start > TASK_SIZE || len > TASK_SIZE - start) return finish(Errno::NoMem);
  uint64_t pages = (len >> PAGE_SHIFT) + (offset_in_page(len) ? 1 : 0);
  Mm& mm = p->mm;
  uint64_t out = 0;
  while (pages) {
    // do_mincore: one VMA at a time, at most a page of vector; its bytes reach the
    // user before the next. They are all gathered first, as Linux does: storing them
    // may fault, and the fault may change this VMA (grow a stack into it, ...).
    const Vma* v = mm.vma_at(start);
    if (!v) return finish(Errno::NoMem);
    uint64_t end = std::min(v->end, start + std::min(pages, kPageSize) * kPageSize);
    PageTables pt = tables(*p);
    std::vector<uint8_t> chunk;
    for (uint64_t a = start; a < end; a += kPageSize) {
      uint8_t present = 0;
      auto slot = pt.find_pte(a);
      uint64_t e = slot ? pt.get(*slot) : 0;
      if (pte_present(e)) {
        present = 1;
      } else if (is_swap_pte(e)) {
        // mincore_swap: a swapped-out page is resident while it is in the swap cache.
        uint64_t s = pte_swp_offset(e);
        present = swap_.valid(s) && swap_.slot(s).cache != kNoFrame ? 1 : 0;
      } else if (v->inode) {
        // An unmapped file page is "resident" when it is in the page cache.
        const Inode& ino = inodes_.at(v->inode);
        present = ino.cache.count(v->pgoff + ((a - v->start) >> PAGE_SHIFT)) ? 1 : 0;
      }
      chunk.push_back(present);
    }
    for (uint8_t present : chunk) {
      if (!uaccess(*p, vec + out, Access::Write, present)) return finish(Errno::Fault);
      if (shown) shown->push_back(present);
      ++out;
      --pages;
    }
    start = end;
  }
  return finish(Errno::None);
}

}  // namespace vmplay::engine
