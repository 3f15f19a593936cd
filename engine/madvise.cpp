// madvise: the advice that changes VMA flags, MADV_DONTNEED and MADV_REMOVE, and the
// advice that works on the LRU and swap (MADV_FREE, COLD, PAGEOUT, WILLNEED; the
// work itself is in reclaim.cpp).
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

bool madvise_behavior_valid(int64_t advice) {
  switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK: case MADV_DOFORK:
    case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK: case MADV_KEEPONFORK:
    case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
    case MADV_DONTNEED_LOCKED: case MADV_COLLAPSE:
      return true;
    default:
      return false;
  }
}

bool madvise_behavior_modelled(int64_t advice) {
  switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTNEED: case MADV_DONTFORK: case MADV_DOFORK: case MADV_DONTDUMP:
    case MADV_DODUMP: case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_FREE:
    case MADV_COLD: case MADV_PAGEOUT: case MADV_REMOVE:
      return true;
    default:
      return false;
  }
}

SysResult Kernel::sys_madvise(Pid pid, uint64_t start, uint64_t len_in, int64_t advice) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](Errno e) { return syscall_done(pid, Sysno::madvise, e); };
  // do_madvise
  if (!madvise_behavior_valid(advice) || !madvise_behavior_modelled(advice)) return finish(Errno::Inval);
  if (offset_in_page(start)) return finish(Errno::Inval);
  uint64_t len = page_align(len_in);
  if (len_in && !len) return finish(Errno::Inval);
  uint64_t end = start + len;
  if (end < start) return finish(Errno::Inval);
  if (end == start) return finish(Errno::None);

  Mm& mm = p->mm;
  Errno unmapped_error = Errno::None;
  // madvise_walk_vmas: a hole is remembered as ENOMEM and skipped.
  const Vma* vma = mm.find_vma(start);
  while (true) {
    if (!vma) return finish(Errno::NoMem);
    if (start < vma->start) {
      unmapped_error = Errno::NoMem;
      start = vma->start;
      if (start >= end) break;
    }
    uint64_t tmp = std::min(vma->end, end);
    uint64_t flags = vma->flags;
    uint64_t new_flags = flags;
    Errno e = Errno::None;
    switch (advice) {
      case MADV_NORMAL: new_flags &= ~uint64_t{VM_SEQ_READ | VM_RAND_READ}; break;
      case MADV_RANDOM: new_flags = (new_flags & ~uint64_t{VM_SEQ_READ}) | VM_RAND_READ; break;
      case MADV_SEQUENTIAL: new_flags = (new_flags & ~uint64_t{VM_RAND_READ}) | VM_SEQ_READ; break;
      case MADV_DONTFORK: new_flags |= VM_DONTCOPY; break;
      case MADV_DOFORK: new_flags &= ~uint64_t{VM_DONTCOPY}; break;
      case MADV_DONTDUMP: new_flags |= VM_DONTDUMP; break;
      case MADV_DODUMP: new_flags &= ~uint64_t{VM_DONTDUMP}; break;
      case MADV_WIPEONFORK:
        // Only for private anonymous memory.
        if (!vma->is_anonymous() || (flags & VM_SHARED)) e = Errno::Inval;
        new_flags |= VM_WIPEONFORK;
        break;
      case MADV_KEEPONFORK: new_flags &= ~uint64_t{VM_WIPEONFORK}; break;
      case MADV_WILLNEED:
        if (vma->is_anonymous()) {
          madvise_willneed_anon(*p, *vma, start, tmp);  // swap readahead into the swap cache
        } else if (vma->inode && vma->special == Special::None) {
          // vfs_fadvise(POSIX_FADV_WILLNEED): the file's pages are read into the page cache.
          Inode& ino = inodes_.at(vma->inode);
          uint64_t first = vma->pgoff + ((start - vma->start) >> PAGE_SHIFT);
          uint64_t last = std::min(vma->pgoff + ((tmp - vma->start) >> PAGE_SHIFT), ino.pages());
          for (uint64_t i = first; i < last; ++i) {
            if (ino.cache.count(i)) continue;
            if (ino.kind == InodeKind::Shmem) {
              if (ino.swapped.count(i) && !shmem_swapin(ino, i)) break;
            } else if (!page_cache_fill(ino, i, true)) {
              break;
            } else {
              vm_.pgpgin += 4;
            }
          }
        }
        break;
      case MADV_COLD:
      case MADV_PAGEOUT:
        if (flags & (VM_LOCKED | VM_PFNMAP)) {  // can_madv_lru_vma
          e = Errno::Inval;
          break;
        }
        madvise_cold_pageout(*p, *vma, start, tmp, advice == MADV_PAGEOUT);
        break;
      case MADV_FREE:
        if (flags & (VM_LOCKED | VM_PFNMAP)) {  // madvise_dontneed_free_valid_vma
          e = Errno::Inval;
          break;
        }
        if (!vma->is_anonymous()) {  // madvise_free_single_vma
          e = Errno::Inval;
          break;
        }
        madvise_free(*p, *vma, start, tmp);
        break;
      case MADV_REMOVE:
        e = madvise_remove(*p, *vma, start, tmp);
        break;
      case MADV_DONTNEED:
        if (flags & VM_LOCKED) {  // madvise_dontneed_free_valid_vma
          e = Errno::Inval;
          break;
        }
        zap_range(*p, *vma, start, tmp);
        break;
      default: e = Errno::Inval; break;
    }
    if (e != Errno::None) return finish(e);
    // `prev` in Linux: the VMA that now holds [start, tmp); a merge may have grown it.
    uint64_t prev_end = vma->end;
    if (new_flags != flags) {
      ModifyResult m = vma_modify_flags(*p, vma->start, start, tmp, new_flags);
      // "EAGAIN if kernel resources are temporarily unavailable": a split at
      // vm.max_map_count reports EAGAIN here, not ENOMEM.
      if (m.err == Errno::NoMem) return finish(Errno::Again);
      if (m.err != Errno::None) return finish(m.err);
      prev_end = mm.vmas.at(m.vma_start).end;
    }
    start = std::max(tmp, prev_end);
    if (start >= end) break;
    vma = mm.find_vma(prev_end);
  }
  return finish(unmapped_error);
}

}  // namespace vmplay::engine
