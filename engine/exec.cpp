// execve, brk, stack growth and the vDSO: the parts of an address space the kernel
// lays out itself.
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {

constexpr uint64_t R = PROT_READ, RX = PROT_READ | PROT_EXEC, RW = PROT_READ | PROT_WRITE;
constexpr uint64_t STACK_GUARD_GAP = 256ULL << PAGE_SHIFT;  // stack_guard_gap: 1 MiB
constexpr uint64_t STACK_RLIMIT = 8ULL << 20;               // ulimit -s 8192

struct Segment {
  uint64_t vaddr, len, off, prot;
};
// The PT_LOAD segments, page-rounded as elf_map() maps them, of this machine's
// /home/user/a.out (a small PIE built by gcc -O2) and of ld-linux-x86-64.so.2, read
// off /proc/PID/maps at the post-execve ptrace stop (setarch -R).
constexpr Segment kAout[] = {
    {0x0000, 0x1000, 0x0000, R}, {0x1000, 0x1000, 0x1000, RX},
    {0x2000, 0x1000, 0x2000, R}, {0x3000, 0x2000, 0x2000, RW},
};
constexpr Segment kLdso[] = {
    {0x00000, 0x01000, 0x00000, R}, {0x01000, 0x26000, 0x01000, RX},
    {0x27000, 0x0a000, 0x27000, R}, {0x31000, 0x04000, 0x31000, RW},
};
constexpr uint64_t kAoutBase = 0x555555554000;  // ELF_ET_DYN_BASE without randomization
constexpr uint64_t kStackTop = 0x7ffffffff000;
constexpr uint64_t kStackSize = 0x21000;        // 132 KiB after setup_arg_pages
constexpr uint64_t kStartStack = 0x7fffffffe7b0;

}  // namespace

bool Kernel::expand_stack(Process& p, uint64_t addr) {
  // expand_downwards: grow the VMA above addr down to addr's page, within the stack
  // rlimit and keeping stack_guard_gap from an accessible mapping below.
  Mm& mm = p.mm;
  Vma* v = mm.find_vma(addr);
  if (!v || !(v->flags & VM_GROWSDOWN) || v->start <= addr) return false;
  uint64_t new_start = addr & PAGE_MASK;
  if (new_start < cfg_.mmap_min_addr) return false;
  if (v->end - new_start > STACK_RLIMIT) return false;
  if (const Vma* prev = mm.prev_of(v->start)) {
    bool accessible = prev->flags & (VM_READ | VM_WRITE | VM_EXEC);
    if (prev->end > new_start || (accessible && new_start - prev->end < STACK_GUARD_GAP)) return false;
  }
  // acct_stack_growth: the new pages are charged like any other private memory.
  if ((v->flags & VM_ACCOUNT) && !vm_enough_memory(mm, (v->start - new_start) >> PAGE_SHIFT)) return false;
  Vma grown = *v;
  mm.vmas.erase(v->start);
  uint64_t pages = (grown.start - new_start) >> PAGE_SHIFT;
  grown.pgoff -= pages;
  grown.start = new_start;
  mm.vmas.emplace(grown.start, grown);
  mm.sync_gaps(grown.start, grown.end);
  vm_stat_account(mm, grown.flags, static_cast<int64_t>(pages));
  emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = grown.start, .end = grown.end});
  return true;
}

void Kernel::do_special_fault(Process& p, Vma& vma, uint64_t addr, Access kind, AccessResult& r,
                              bool user) {
  // vvar pages are raw PFNs (VM_PFNMAP: special PTEs, not counted); vdso pages are
  // ordinary pages of the kernel image, counted like file pages.
  PageTables pt = tables(p);
  uint64_t page = addr & PAGE_MASK;
  auto slot = pt.alloc_pte(page);
  if (!slot) {
    fault_oom(p, addr, kind, r, user);
    return;
  }
  uint64_t first = vma.special == Special::Vvar ? 0 : vma.special == Special::VvarVclock ? 4 : 6;
  Pfn pfn = mem_.vdso_pfn(first + ((page - vma.start) >> PAGE_SHIFT));
  uint64_t e = mk_pte(pfn, vm_get_page_prot(vma.flags));
  if (vma.special == Special::Vdso) {
    Frame& f = mem_.frame(pfn);
    ++f.mapcount;
    ++f.refcount;
    ++p.mm.rss_file;
  } else {
    e |= _PAGE_SPECIAL;
  }
  set_pte(p, *slot, page, e);
  fault_event(p, addr, kind, r, FaultKind::Special, pfn);
}

Errno Kernel::map_elf(Process& p, uint64_t ino, uint64_t base, const void* segs, size_t n) {
  const auto* seg = static_cast<const Segment*>(segs);
  OpenFile f{ino, O_RDONLY_, 0};
  for (size_t i = 0; i < n; ++i) {
    SysResult r = do_mmap(p, {base + seg[i].vaddr, seg[i].len, seg[i].prot,
                              MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, -1, seg[i].off}, &f);
    if (!r.is_ok()) return r.err;
  }
  return Errno::None;
}

SysResult Kernel::sys_execve(Pid pid, const std::string& path) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](SysResult r) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::execve, .err = r.err});
    return r;
  };
  auto found = lookup(path);
  if (!found) return finish(SysResult::fail(Errno::NoEnt));
  const Inode& ino = inodes_.at(*found);
  if (ino.kind != InodeKind::Regular || !(ino.mode & 0111)) return finish(SysResult::fail(Errno::Acces));
  // Only a.out's ELF layout is known to the model (libraries are not executables).
  if (path != "/home/user/a.out") return finish(SysResult::fail(Errno::NoExec));
  auto ldso = lookup("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  if (!ldso) return finish(SysResult::fail(Errno::NoEnt));

  // The point of no return: the old address space goes (exec_mmap).
  exit_mm(*p);
  auto pgd = alloc_frame(FrameOwner::PageTable, static_cast<uint64_t>(pid), 4, PG_pagetable);
  if (!pgd) {
    kill_process(*p, kSigKill);
    return SysResult::fail(Errno::NoMem);
  }
  emit({.kind = EventKind::PageTableAlloc, .pid = pid, .pfn = *pgd, .level = 4});
  p->mm.pgd = *pgd;
  // With ASLR: arch_mmap_rnd() (28 bits of pages) for mmap_base and again for the
  // PIE's load bias, randomize_stack_top() (22 bits of pages), and the heap start
  // anywhere in the 32 MiB above the program (arch_randomize_brk).
  bool aslr = cfg_.aslr_seed.has_value();
  uint64_t mmap_rnd = aslr ? (get_random_long() & ((1ULL << 28) - 1)) << PAGE_SHIFT : 0;
  uint64_t load_rnd = aslr ? (get_random_long() & ((1ULL << 28) - 1)) << PAGE_SHIFT : 0;
  uint64_t stack_rnd = aslr ? (get_random_long() & 0x3fffffULL) << PAGE_SHIFT : 0;
  uint64_t brk_rnd = aslr ? (get_random_long() % (0x2000000ULL >> PAGE_SHIFT)) << PAGE_SHIFT : 0;
  p->mm.mmap_base = legacy_mmap_base(mmap_rnd);
  p->mm.rebuild_gaps();
  const uint64_t base = kAoutBase + load_rnd;
  const uint64_t stack_top = kStackTop - stack_rnd;
  // Descriptors opened with O_CLOEXEC close now.
  for (auto& f : p->fds) {
    if (!f || !(f->flags & O_CLOEXEC_)) continue;
    uint64_t key = f->ino;
    f.reset();
    --inodes_.at(key).open_count;
    iput(key);
  }
  p->comm = path.substr(path.rfind('/') + 1);
  Mm& mm = p->mm;

  // load_elf_binary: the program, then its interpreter at the top of the mmap area,
  // then the vDSO below that, and the stack.
  if (map_elf(*p, *found, base, kAout, std::size(kAout)) != Errno::None) return finish(SysResult::fail(Errno::NoMem));
  mm.start_code = base + 0x1000;
  mm.end_code = base + 0x1000 + 0x1000;
  mm.start_brk = mm.brk = base + 0x5000 + brk_rnd;
  mm.load_base = base;
  Errno err = Errno::None;
  uint64_t ld_base = get_unmapped_area(mm, 0, 0x35000, 0, err);
  if (err != Errno::None || map_elf(*p, *ldso, ld_base, kLdso, std::size(kLdso)) != Errno::None)
    return finish(SysResult::fail(Errno::NoMem));
  mm.interp_base = ld_base;
  uint64_t vdso_base = get_unmapped_area(mm, 0, 8 * kPageSize, 0, err);
  if (err != Errno::None) return finish(SysResult::fail(Errno::NoMem));
  struct SpecialMap {
    Special kind;
    uint64_t off, pages, flags;
  };
  const SpecialMap specials[] = {
      {Special::Vvar, 0, 4, VM_READ | VM_MAYREAD | VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP},
      {Special::VvarVclock, 4, 2, VM_READ | VM_MAYREAD | VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP},
      {Special::Vdso, 6, 2, VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND},
  };
  for (const auto& sm : specials) {
    Vma v;
    v.start = vdso_base + sm.off * kPageSize;
    v.end = v.start + sm.pages * kPageSize;
    v.flags = sm.flags;
    v.special = sm.kind;
    mm.vmas.emplace(v.start, v);
    vm_stat_account(mm, v.flags, static_cast<int64_t>(sm.pages));
    emit({.kind = EventKind::VmaInsert, .pid = pid, .addr = v.start, .end = v.end});
  }
  {
    Vma st;
    st.start = stack_top - kStackSize;
    st.end = stack_top;
    st.flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN | VM_ACCOUNT;
    st.pgoff = st.start >> PAGE_SHIFT;
    mm.vmas.emplace(st.start, st);
    vm_stat_account(mm, st.flags, static_cast<int64_t>(kStackSize >> PAGE_SHIFT));
    emit({.kind = EventKind::VmaInsert, .pid = pid, .addr = st.start, .end = st.end});
    mm.start_stack = kStartStack - stack_rnd;
  }
  mm.rebuild_gaps();
  // What the kernel writes while building the image: argv, envp and the auxiliary
  // vector at the top of the stack, and padzero() clearing the bss tail of the last
  // file-backed page of each data segment (copy-on-write: three anonymous pages).
  for (uint64_t a : {stack_top - kPageSize, base + 0x4000, ld_base + 0x34000}) {
    AccessResult r;
    uint8_t zero = 0;
    if (!uaccess(*p, a + kPageSize - 1, Access::Write, zero)) return finish(SysResult::fail(Errno::NoMem));
    (void)r;
  }
  mm.hiwater_rss = mm.rss();
  return finish(SysResult::ok(0));
}

SysResult Kernel::sys_brk(Pid pid, uint64_t brk) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  Mm& mm = p->mm;
  uint64_t origbrk = mm.brk;
  auto finish = [&](uint64_t v) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = v, .sysno = Sysno::brk});
    return SysResult::ok(v);
  };
  // mm/mmap.c brk(): it never fails with an errno; it returns the old break instead.
  if (mm.start_brk == 0 || brk < mm.start_brk) return finish(origbrk);
  uint64_t newbrk = page_align(brk), oldbrk = page_align(mm.brk);
  if (newbrk == 0 || brk > TASK_SIZE) return finish(origbrk);
  if (oldbrk == newbrk) {
    mm.brk = brk;
    return finish(brk);
  }
  if (brk <= mm.brk) {
    // Always allow shrinking.
    mm.brk = brk;
    if (do_munmap(*p, newbrk, oldbrk) != Errno::None) {
      mm.brk = origbrk;
      return finish(origbrk);
    }
    return finish(brk);
  }
  // Leave a page between the heap and whatever comes next (its guard gap included).
  if (const Vma* next = mm.find_vma(oldbrk)) {
    uint64_t gap_start = next->start;
    if (next->flags & VM_GROWSDOWN) gap_start = gap_start > STACK_GUARD_GAP ? gap_start - STACK_GUARD_GAP : 0;
    if (next->start < newbrk + kPageSize + STACK_GUARD_GAP && newbrk + kPageSize > gap_start)
      return finish(origbrk);
  }
  if (mm.vmas.size() >= cfg_.max_map_count) return finish(origbrk);
  if (!vm_enough_memory(mm, (newbrk - oldbrk) >> PAGE_SHIFT)) return finish(origbrk);  // do_brk_flags' charge
  // do_brk_flags: grow the heap VMA (never the bss below start_brk) or make one.
  uint64_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | mm.def_flags;
  const Vma* prev = mm.prev_of(oldbrk);
  bool expand = prev && prev->start >= mm.start_brk && prev->end == oldbrk && prev->flags == flags &&
                prev->inode == 0 && prev->special == Special::None &&
                prev->pgoff + prev->pages() == (oldbrk >> PAGE_SHIFT);
  if (expand) {
    Vma& v = mm.vmas.at(prev->start);
    v.end = newbrk;
    mm.sync_gaps(v.start, v.end);
    emit({.kind = EventKind::VmaExpand, .pid = pid, .addr = v.start, .end = v.end});
  } else {
    Vma v;
    v.start = oldbrk;
    v.end = newbrk;
    v.flags = flags;
    v.pgoff = oldbrk >> PAGE_SHIFT;
    mm.vmas.emplace(v.start, v);
    mm.sync_gaps(v.start, v.end);
    emit({.kind = EventKind::VmaInsert, .pid = pid, .addr = v.start, .end = v.end});
  }
  vm_stat_account(mm, flags, static_cast<int64_t>((newbrk - oldbrk) >> PAGE_SHIFT));
  if (flags & VM_LOCKED) mm.locked_vm += (newbrk - oldbrk) >> PAGE_SHIFT;
  mm.brk = brk;
  if ((mm.def_flags & VM_LOCKED) && !(mm.def_flags & VM_LOCKONFAULT))
    (void)mm_populate(*p, oldbrk, newbrk - oldbrk, true);
  return finish(brk);
}

}  // namespace vmplay::engine
