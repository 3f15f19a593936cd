// Processes: fork (dup_mmap + copy_page_range), exit, wait4, kill.
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {
// mm/internal.h is_cow_mapping: private and possibly writable.
bool is_cow_mapping(uint64_t flags) { return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE; }
}  // namespace

SysResult Kernel::sys_fork(Pid pid) {
  Process* parent = enter(pid);
  if (!parent || parent->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](SysResult r) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::fork,
          .err = r.err});
    return r;
  };
  uint64_t live = procs_.size();  // zombies count until reaped
  if (live >= cfg_.max_processes) return finish(SysResult::fail(Errno::Again));

  Pid cpid = next_pid_;
  auto pgd = alloc_frame(FrameOwner::PageTable, static_cast<uint64_t>(cpid), 4, PG_pagetable);
  if (!pgd) return finish(SysResult::fail(Errno::NoMem));
  ++next_pid_;
  emit({.kind = EventKind::PageTableAlloc, .pid = cpid, .pfn = *pgd, .level = 4});

  Process child;
  child.pid = cpid;
  child.ppid = pid;
  child.comm = parent->comm;
  Mm& cm = child.mm;
  const Mm& pm = parent->mm;
  cm.pgd = *pgd;
  // dup_mm copies the whole mm_struct: the layout fields come along (the heap and the
  // stack keep their names in the child, and brk(NULL) answers the same).
  cm.mmap_base = pm.mmap_base;
  cm.start_code = pm.start_code;
  cm.end_code = pm.end_code;
  cm.start_brk = pm.start_brk;
  cm.brk = pm.brk;
  cm.start_stack = pm.start_stack;
  cm.load_base = pm.load_base;
  cm.interp_base = pm.interp_base;
  cm.total_vm = pm.total_vm;
  cm.data_vm = pm.data_vm;
  cm.exec_vm = pm.exec_vm;
  cm.stack_vm = pm.stack_vm;
  cm.locked_vm = 0;  // mlock is not inherited
  cm.def_flags = pm.def_flags & ~uint64_t{VM_LOCKED | VM_LOCKONFAULT};

  procs_.emplace(cpid, std::move(child));
  Process& c = procs_.at(cpid);
  constructing_ = cpid;  // not a candidate for the OOM killer until it is whole
  // dup_fd: the child shares every open file description.
  c.fds = parent->fds;
  for (const auto& f : c.fds)
    if (f) ++inodes_.at(f->ino).open_count;

  PageTables ppt = tables(*parent);
  PageTables cpt = tables(c);
  bool oom = false;
  for (auto& [start, pv] : parent->mm.vmas) {
    if (pv.flags & VM_DONTCOPY) {
      vm_stat_account(c.mm, pv.flags, -static_cast<int64_t>(pv.pages()));
      continue;
    }
    // dup_mmap charges every accounted mapping to the commit limit again.
    if ((pv.flags & VM_ACCOUNT) && !vm_enough_memory(c.mm, pv.pages())) {
      oom = true;
      break;
    }
    Vma cv = pv;
    cv.flags &= ~uint64_t{VM_LOCKED | VM_LOCKONFAULT};
    if (pv.flags & VM_WIPEONFORK) {
      cv.anon = 0;  // the child starts with fresh zero-filled memory here
      c.mm.vmas.emplace(cv.start, cv);
      if (cv.inode) ++inodes_.at(cv.inode).map_count;
      emit({.kind = EventKind::VmaInsert, .pid = cpid, .addr = cv.start, .end = cv.end});
      continue;
    }
    // anon_vma_fork: the child gets its own anon_vma, chained to the parent's.
    if (pv.anon) {
      cv.anon = next_anon_id_++;
      anon_parent_[cv.anon] = pv.anon;
    }
    c.mm.vmas.emplace(cv.start, cv);
    if (cv.inode) ++inodes_.at(cv.inode).map_count;
    emit({.kind = EventKind::VmaInsert, .pid = cpid, .addr = cv.start, .end = cv.end});
    if (oom || !pv.anon) continue;  // vma_needs_copy: nothing to copy without anon pages

    struct Hit {
      uint64_t addr;
      PteSlot slot;
      uint64_t e;
    };
    // One buffer for every fork (a fork of 100,000 pages would otherwise regrow it from
    // nothing, copying at each doubling); given back when it grew past a million entries.
    static thread_local std::vector<Hit> hits;
    hits.clear();
    if (hits.capacity() > (size_t{1} << 20)) std::vector<Hit>().swap(hits);
    ppt.for_each_pte(pv.start, pv.end, [&](uint64_t addr, PteSlot slot, uint64_t e) {
      hits.push_back({addr, slot, e});
    });
    // The child's PTE table is looked up once per 2 MiB, as copy_pte_range does, and
    // again whenever a page table was allocated or freed (reclaim may have run).
    uint64_t cregion = ~uint64_t{0}, cgen = 0;
    Pfn ctable{};
    for (const Hit& h : hits) {
      if ((h.addr >> 21) != cregion || mem_.table_generation() != cgen) {
        auto slot = cpt.alloc_pte(h.addr);
        if (!slot) {
          oom = true;
          break;
        }
        ctable = slot->table;
        cregion = h.addr >> 21;
        cgen = mem_.table_generation();
      }
      const PteSlot cs{ctable, pt_index(h.addr, 1)};
      // Read again: allocating the child's tables may have reclaimed the page.
      uint64_t e = ppt.get(h.slot);
      if (pte_none(e)) continue;
      if (is_swap_pte(e)) {
        // copy_nonpresent_pte: swap_duplicate, and neither side is exclusive any more.
        if (e & _PAGE_SWP_EXCLUSIVE) {
          e &= ~_PAGE_SWP_EXCLUSIVE;
          set_pte(*parent, h.slot, h.addr, e);
        }
        ++swap_.slot(pte_swp_offset(e)).count;
        ++c.mm.swapents;
        set_pte(c, cs, h.addr, e);
        continue;
      }
      bool page = pte_present(e) && !(e & _PAGE_SPECIAL);
      if (page && is_cow_mapping(pv.flags) && (e & _PAGE_RW)) {
        // Write-protect the parent's PTE: the next write by either side copies.
        set_pte(*parent, h.slot, h.addr, e & ~uint64_t{_PAGE_RW});
        e &= ~uint64_t{_PAGE_RW};
      }
      e &= ~uint64_t{_PAGE_ACCESSED};  // pte_mkold
      set_pte(c, cs, h.addr, e);
      if (page) {
        Frame& f = mem_.frame(pte_pfn(e));
        f.flags &= ~uint32_t{PG_anon_exclusive};
        ++f.mapcount;
        ++f.refcount;
        ++rss_counter(c.mm, f);
      }
    }
  }
  constructing_ = 0;
  if (oom) {
    // dup_mmap failed: the half-built child is torn down and fork returns ENOMEM.
    exit_mm(c);
    exit_files(c);
    procs_.erase(cpid);
    return finish(SysResult::fail(Errno::NoMem));
  }
  c.mm.rebuild_gaps();
  c.mm.hiwater_rss = c.mm.rss();
  c.mm.hiwater_vm = c.mm.total_vm;
  emit({.kind = EventKind::ProcessStart, .pid = cpid});
  return finish(SysResult::ok(static_cast<uint64_t>(cpid)));
}

void Kernel::sys_exit_group(Pid pid, int32_t status) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return;
  emit({.kind = EventKind::Syscall, .pid = pid, .value = static_cast<uint64_t>(status),
        .sysno = Sysno::exit_group});
  exit_mm(*p);
  exit_files(*p);
  forget_original_parent(*p);
  p->state = ProcState::Zombie;
  p->exit_status = status & 0xff;
  emit({.kind = EventKind::ProcessExit, .pid = pid, .value = static_cast<uint64_t>(status & 0xff)});
}

std::optional<SysResult> Kernel::sys_wait4(Pid pid, Pid target) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  bool any_child = false;
  for (auto& [id, c] : procs_) {
    if (c.ppid != pid) continue;
    if (target != -1 && id != target) continue;
    any_child = true;
    if (c.state == ProcState::Zombie) {
      Pid reaped = id;
      procs_.erase(reaped);  // release_task: the pid is gone
      emit({.kind = EventKind::Syscall, .pid = pid, .value = static_cast<uint64_t>(reaped),
            .sysno = Sysno::wait4});
      return SysResult::ok(static_cast<uint64_t>(reaped));
    }
  }
  if (!any_child) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = ~0ULL, .sysno = Sysno::wait4,
          .err = Errno::Child});
    return SysResult::fail(Errno::Child);
  }
  return std::nullopt;
}

SysResult Kernel::sys_kill(Pid pid, Pid target, int32_t sig) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  Process* t = proc(target);
  if (sig < 0 || sig > 64) {
    r = SysResult::fail(Errno::Inval);
  } else if (!t) {
    r = SysResult::fail(Errno::Srch);
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::kill,
        .err = r.err});
  if (r.is_ok() && sig != 0 && t->state == ProcState::Running) {
    // SI_USER from `pid`: the event's value is the sender.
    emit({.kind = EventKind::Signal, .pid = target, .value = static_cast<uint64_t>(pid), .signo = static_cast<int16_t>(sig),  // 1..64 here
          .si_code = 0});
    kill_process(*t, sig);
  }
  return r;
}

}  // namespace vmplay::engine
