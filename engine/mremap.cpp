// mremap: resize in place, move (MREMAP_MAYMOVE, MREMAP_FIXED), or duplicate the page
// tables elsewhere and leave the old range empty (MREMAP_DONTUNMAP).
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

uint64_t Kernel::move_vma(Process& p, uint64_t old_start, uint64_t old_len, uint64_t new_addr,
                          uint64_t new_len, bool dontunmap, Errno& err) {
  Mm& mm = p.mm;
  Vma src = mm.vmas.at(old_start);  // [old_start, old_start + old_len) is one whole VMA here
  // The growth (all of it with MREMAP_DONTUNMAP) is charged to the commit limit.
  uint64_t to_account = dontunmap ? new_len : new_len > old_len ? new_len - old_len : 0;
  if ((src.flags & VM_ACCOUNT) && to_account && !vm_enough_memory(mm, to_account >> PAGE_SHIFT)) {
    err = Errno::NoMem;
    return 0;
  }
  uint64_t moved_pgoff = src.pgoff;
  // copy_vma: anonymous memory that never had a page takes the pgoff of its new place
  // (so it can merge there); once written it keeps its old one.
  if (src.is_anonymous() && !src.anon) moved_pgoff = new_addr >> PAGE_SHIFT;
  // The pages move with their PTEs: collect them first.
  struct Hit {
    uint64_t off;
    uint64_t e;
    PteSlot slot;
  };
  std::vector<Hit> hits;
  PageTables pt = tables(p);
  pt.for_each_pte(old_start, old_start + old_len, [&](uint64_t a, PteSlot s, uint64_t e) {
    hits.push_back({a - old_start, e, s});
  });
  // Page tables for the destination first: failing there changes nothing.
  for (const Hit& h : hits) {
    if (!pt.alloc_pte(new_addr + h.off)) {
      err = Errno::NoMem;
      return 0;
    }
  }
  Vma dst = src;
  dst.start = new_addr;
  dst.end = new_addr + new_len;
  dst.pgoff = moved_pgoff;
  // vma_merge_new_range at the destination.
  auto same = [&](const Vma& n) {
    return (n.flags & ~VM_IGNORE_MERGE) == (dst.flags & ~VM_IGNORE_MERGE) && n.inode == dst.inode &&
           n.special == dst.special && n.name == dst.name;
  };
  Vma* prev = nullptr;
  Vma* next = nullptr;
  {
    auto it = mm.vmas.lower_bound(dst.start);
    if (it != mm.vmas.end() && it->second.start == dst.end) next = &it->second;
    if (it != mm.vmas.begin() && std::prev(it)->second.end == dst.start) prev = &std::prev(it)->second;
  }
  auto anon_ok = [](uint64_t a, uint64_t b) { return a == 0 || b == 0 || a == b; };
  bool left = prev && same(*prev) && prev->pgoff + prev->pages() == dst.pgoff && anon_ok(prev->anon, dst.anon);
  bool right = next && same(*next) && next->pgoff == dst.pgoff + dst.pages() && anon_ok(dst.anon, next->anon);
  if (left && right && !anon_ok(prev->anon, next->anon)) right = false;
  const uint64_t sync_lo = left ? prev->start : dst.start, sync_hi = right ? next->end : dst.end;
  if (left) {
    prev->end = right ? next->end : dst.end;
    prev->anon = prev->anon ? prev->anon : dst.anon;
    if (right) {
      prev->anon = prev->anon ? prev->anon : next->anon;
      uint64_t ns = next->start;
      if (next->inode) --inodes_.at(next->inode).map_count;
      mm.vmas.erase(ns);
    }
    emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = prev->start, .end = prev->end});
  } else if (right) {
    Vma n = *next;
    mm.vmas.erase(n.start);
    n.start = dst.start;
    n.pgoff = dst.pgoff;
    n.anon = n.anon ? n.anon : dst.anon;
    mm.vmas.emplace(n.start, n);
    emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = n.start, .end = n.end});
  } else {
    mm.vmas.emplace(dst.start, dst);
    if (dst.inode) ++inodes_.at(dst.inode).map_count;
    emit({.kind = EventKind::VmaInsert, .pid = p.pid, .addr = dst.start, .end = dst.end});
  }
  mm.sync_gaps(sync_lo, sync_hi);
  vm_stat_account(mm, dst.flags, static_cast<int64_t>(dst.pages()));
  // move_page_tables: each entry moves; frames, mapcounts and RSS stay as they are.
  // (Entries are read again: reclaim may have swapped pages out meanwhile. A page's
  // index stays: the moved VMA keeps its pgoff.)
  for (const Hit& h : hits) {
    auto slot = pt.alloc_pte(new_addr + h.off);
    uint64_t e = pt.get(h.slot);
    if (pte_none(e)) continue;
    pt.set(h.slot, 0);
    emit({.kind = EventKind::PteClear, .pid = p.pid, .addr = old_start + h.off, .value = e, .pfn = pte_pfn(e)});
    set_pte(p, *slot, new_addr + h.off, e);
  }
  if (!dontunmap) {
    Errno e = do_munmap(p, old_start, old_start + old_len);
    (void)e;  // the source is one whole VMA: no split, nothing can fail
  }
  err = Errno::None;
  return new_addr;
}

SysResult Kernel::sys_mremap(Pid pid, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t flags,
                             uint64_t new_addr) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](SysResult r) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::mremap, .err = r.err});
    return r;
  };
  Mm& mm = p->mm;
  // check_mremap_params
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return finish(SysResult::fail(Errno::Inval));
  if (offset_in_page(addr)) return finish(SysResult::fail(Errno::Inval));
  old_len = page_align(old_len);
  new_len = page_align(new_len);
  if (!new_len) return finish(SysResult::fail(Errno::Inval));
  if (new_len > TASK_SIZE) return finish(SysResult::fail(Errno::Inval));
  bool implies_new_addr = flags & (MREMAP_FIXED | MREMAP_DONTUNMAP);
  if (implies_new_addr) {
    if (offset_in_page(new_addr)) return finish(SysResult::fail(Errno::Inval));
    if (!(flags & MREMAP_MAYMOVE)) return finish(SysResult::fail(Errno::Inval));
    if ((flags & MREMAP_DONTUNMAP) && old_len != new_len) return finish(SysResult::fail(Errno::Inval));
    if ((flags & MREMAP_FIXED) && new_addr < addr + old_len && addr < new_addr + new_len)
      return finish(SysResult::fail(Errno::Inval));
    if ((flags & MREMAP_FIXED) && new_addr > TASK_SIZE - new_len) return finish(SysResult::fail(Errno::Inval));
    if (mm.vmas.size() + 2 >= cfg_.max_map_count - 3) return finish(SysResult::fail(Errno::NoMem));
  }
  const Vma* vma = mm.vma_at(addr);
  if (!vma) return finish(SysResult::fail(Errno::Fault));
  // "Duplicate shm area": only shared mappings may be remapped from a zero length.
  if (!old_len && !(vma->flags & VM_MAYSHARE)) return finish(SysResult::fail(Errno::Inval));

  // old_len 0 on a shared mapping: a second VMA over the same object, nothing moves.
  auto duplicate = [&](uint64_t dest) {
    const Vma& from = *mm.vma_at(addr);
    Vma dup = from;
    dup.start = dest;
    dup.end = dest + new_len;
    dup.pgoff = from.pgoff + ((addr - from.start) >> PAGE_SHIFT);
    mm.vmas.emplace(dup.start, dup);
    mm.sync_gaps(dup.start, dup.end);
    if (dup.inode) ++inodes_.at(dup.inode).map_count;
    vm_stat_account(mm, dup.flags, static_cast<int64_t>(dup.pages()));
    emit({.kind = EventKind::VmaInsert, .pid = pid, .addr = dup.start, .end = dup.end});
    return dest;
  };
  auto resize_is_valid = [&](const Vma& v) -> Errno {
    if (old_len > v.end - addr) return Errno::Fault;
    if ((v.flags & (VM_DONTEXPAND | VM_PFNMAP)) && new_len > old_len) return Errno::Fault;
    return Errno::None;
  };
  // The part of [addr, addr + old_len) being moved must be one VMA from here on:
  // split at addr and at the end of the moved part.
  auto isolate = [&](uint64_t len) -> Errno {
    const Vma* v = mm.vma_at(addr);
    if (v->start < addr && !split_vma(*p, v->start, addr)) return Errno::NoMem;
    v = mm.vma_at(addr);
    if (addr + len < v->end && !split_vma(*p, v->start, addr + len)) return Errno::NoMem;
    return Errno::None;
  };

  if (implies_new_addr) {
    // mremap_to
    if (Errno e = resize_is_valid(*vma); e != Errno::None) return finish(SysResult::fail(e));
    if ((flags & MREMAP_DONTUNMAP) && (vma->flags & (VM_DONTEXPAND | VM_PFNMAP)))
      return finish(SysResult::fail(Errno::Inval));
    if (flags & MREMAP_FIXED) {
      if (Errno e = do_munmap(*p, new_addr, new_addr + new_len); e != Errno::None) return finish(SysResult::fail(e));
    }
    if (new_len < old_len) {
      if (Errno e = do_munmap(*p, addr + new_len, addr + old_len); e != Errno::None) return finish(SysResult::fail(e));
      old_len = new_len;
    }
    uint64_t dest = new_addr;
    if (!(flags & MREMAP_FIXED)) {
      Errno e = Errno::None;
      dest = get_unmapped_area(mm, new_addr, new_len, (vma->flags & VM_MAYSHARE) ? MAP_SHARED : MAP_PRIVATE, e);
      if (e != Errno::None) return finish(SysResult::fail(e));
    }
    if (old_len == 0) return finish(SysResult::ok(duplicate(dest)));
    if (Errno e = isolate(old_len); e != Errno::None) return finish(SysResult::fail(e));
    Errno e = Errno::None;
    uint64_t r = move_vma(*p, addr, old_len, dest, new_len, flags & MREMAP_DONTUNMAP, e);
    if (e != Errno::None) return finish(SysResult::fail(e));
    return finish(SysResult::ok(r));
  }

  // mremap_at
  if (new_len == old_len) return finish(SysResult::ok(addr));  // no-op, the range is not checked
  if (new_len < old_len) {
    if (Errno e = do_munmap(*p, addr + new_len, addr + old_len); e != Errno::None) return finish(SysResult::fail(e));
    return finish(SysResult::ok(addr));
  }
  if (Errno e = resize_is_valid(*vma); e != Errno::None) return finish(SysResult::fail(e));
  // Expand in place when [addr, addr + old_len) ends the VMA and the room after it is free.
  uint64_t delta = new_len - old_len;
  if (addr + old_len == vma->end && vma->end + delta <= TASK_SIZE) {
    const Vma* next = mm.find_vma(vma->end);
    if (!next || next->start >= vma->end + delta) {
      if ((vma->flags & VM_ACCOUNT) && !vm_enough_memory(mm, delta >> PAGE_SHIFT))
        return finish(SysResult::fail(Errno::NoMem));
      Vma& v = mm.vmas.at(vma->start);
      v.end += delta;
      vm_stat_account(mm, v.flags, static_cast<int64_t>(delta >> PAGE_SHIFT));
      emit({.kind = EventKind::VmaExpand, .pid = pid, .addr = v.start, .end = v.end});
      // vma_merge_extend: the grown VMA may now meet a compatible neighbour.
      if (next && next->start == v.end && (next->flags & ~VM_IGNORE_MERGE) == (v.flags & ~VM_IGNORE_MERGE) &&
          next->inode == v.inode && next->special == v.special && next->pgoff == v.pgoff + v.pages() &&
          (next->anon == 0 || v.anon == 0 || next->anon == v.anon)) {
        Vma gone = *next;
        v.end = gone.end;
        v.anon = v.anon ? v.anon : gone.anon;
        if (gone.inode) --inodes_.at(gone.inode).map_count;
        mm.vmas.erase(gone.start);
        emit({.kind = EventKind::VmaRemove, .pid = pid, .addr = gone.start, .end = gone.end});
      }
      mm.sync_gaps(v.start, v.end);
      return finish(SysResult::ok(addr));
    }
  }
  if (!(flags & MREMAP_MAYMOVE)) return finish(SysResult::fail(Errno::NoMem));
  Errno e = Errno::None;
  uint64_t dest = get_unmapped_area(mm, 0, new_len, (vma->flags & VM_MAYSHARE) ? MAP_SHARED : MAP_PRIVATE, e);
  if (e != Errno::None) return finish(SysResult::fail(e));
  if (old_len == 0) return finish(SysResult::ok(duplicate(dest)));
  if (Errno ie = isolate(old_len); ie != Errno::None) return finish(SysResult::fail(ie));
  uint64_t r = move_vma(*p, addr, old_len, dest, new_len, false, e);
  if (e != Errno::None) return finish(SysResult::fail(e));
  return finish(SysResult::ok(r));
}

}  // namespace vmplay::engine
