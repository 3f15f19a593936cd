#include "engine/kernel.h"

#include <algorithm>
#include <cstdio>

namespace vmplay::engine {

namespace {

constexpr uint64_t STACK_RLIMIT = 8ULL << 20;              // ulimit -s 8192
constexpr uint64_t STACK_GUARD_GAP = 256ULL << PAGE_SHIFT; // stack_guard_gap
constexpr uint64_t MIN_GAP = 128ULL << 20;                 // arch/x86/mm/mmap.c
constexpr uint64_t MAX_GAP = TASK_SIZE / 6 * 5;

// arch/x86/mm/mmap.c mmap_base() with ASLR off: the stack's rlimit plus the guard
// gap, clamped to [128 MiB, 5/6 of the address space], below TASK_SIZE.
}  // namespace

uint64_t legacy_mmap_base(uint64_t rnd) {
  // The gap below the stack: its rlimit plus the guard gap, plus the stack's own
  // random range when randomizing (stack_maxrandom_size: 22 bits of pages).
  uint64_t gap = STACK_RLIMIT + STACK_GUARD_GAP;
  if (rnd) gap += (0x3fffffULL << PAGE_SHIFT);
  gap = std::clamp(gap, MIN_GAP, MAX_GAP);
  return page_align(TASK_SIZE - gap - rnd);
}


uint64_t vm_get_page_prot(uint64_t vm_flags) {
  // arch/x86/mm/pgprot.c protection_map, indexed by READ|WRITE|EXEC|SHARED.
  constexpr uint64_t P = _PAGE_PRESENT, RW = _PAGE_RW, U = _PAGE_USER, A = _PAGE_ACCESSED,
                     NX = _PAGE_NX;
  constexpr uint64_t PAGE_NONE = A | _PAGE_PROTNONE;
  constexpr uint64_t PAGE_READONLY = P | U | A | NX;
  constexpr uint64_t PAGE_READONLY_EXEC = P | U | A;
  constexpr uint64_t PAGE_COPY_NOEXEC = P | U | A | NX;
  constexpr uint64_t PAGE_COPY_EXEC = P | U | A;
  constexpr uint64_t PAGE_SHARED = P | RW | U | A | NX;
  constexpr uint64_t PAGE_SHARED_EXEC = P | RW | U | A;
  static constexpr uint64_t map[16] = {
      PAGE_NONE,          PAGE_READONLY,      PAGE_COPY_NOEXEC, PAGE_COPY_NOEXEC,
      PAGE_READONLY_EXEC, PAGE_READONLY_EXEC, PAGE_COPY_EXEC,   PAGE_COPY_EXEC,
      PAGE_NONE,          PAGE_READONLY,      PAGE_SHARED,      PAGE_SHARED,
      PAGE_READONLY_EXEC, PAGE_READONLY_EXEC, PAGE_SHARED_EXEC, PAGE_SHARED_EXEC,
  };
  return map[vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)];
}

namespace {
// A file's first page as a loader sees it: the ELF magic, the rest zeros.
std::vector<uint8_t> elf_image(uint64_t size) {
  std::vector<uint8_t> v(static_cast<size_t>(size), 0);
  const uint8_t magic[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
  std::copy(std::begin(magic), std::end(magic), v.begin());
  return v;
}
std::vector<uint8_t> text(const std::string& s) { return {s.begin(), s.end()}; }
}  // namespace

uint64_t Kernel::get_random_long() {
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Kernel::Kernel(KernelConfig cfg) : cfg_(cfg), mem_(cfg.phys), swap_(cfg.swap_pages) {
  wm_ = compute_watermarks();
  rng_state_ = cfg.aslr_seed.value_or(0);
  // The simulated disk, with the inode numbers and sizes of this machine's files.
  create_file("/home/user/a.out", 10952816, elf_image(0x3f50), 0755);
  create_file("/usr/lib/x86_64-linux-gnu/libc.so.6", 332835, elf_image(1926232), 0755);
  create_file("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 332383, elf_image(215000), 0755);
  // Debian's merged /usr: /lib and /lib64 lead to the same files.
  names_["/lib/x86_64-linux-gnu/libc.so.6"] = 332835;
  names_["/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"] = 332383;
  names_["/lib64/ld-linux-x86-64.so.2"] = 332383;
  {
    std::vector<uint8_t> cache(46219, 0);
    const std::string magic = "glibc-ld.so.cache1.1";
    std::copy(magic.begin(), magic.end(), cache.begin());
    create_file("/etc/ld.so.cache", 409601, cache);
  }
  create_file("/etc/hosts", 734, text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
  // 40 pages of numbered lines: big enough to watch readahead and fault-around.
  std::string words;
  for (int i = 0; words.size() < 40 * kPageSize; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "%06d the quick brown fox jumps over the lazy dog\n", i);
    words += line;
  }
  words.resize(40 * kPageSize);
  create_file("/home/user/words.txt", 10952900, text(words));
  // The terminal behind descriptors 0, 1 and 2.
  Inode tty;
  tty.ino = 3;
  tty.kind = InodeKind::Tty;
  tty.path = "/dev/pts/0";
  tty.mode = 0620;
  tty.dev_major = 0;
  tty.dev_minor = 0x1b;
  inodes_[kTtyInode] = tty;
}

void Kernel::kill_oom_pending() {
  Pid victim = oom_pending_;
  oom_pending_ = 0;
  if (Process* p = proc(victim); p && p->state == ProcState::Running) kill_process(*p, kSigKill);
}

SysResult Kernel::syscall_done(Pid pid, Sysno sysno, Errno e) {
  SysResult r = e == Errno::None ? SysResult::ok(0) : SysResult::fail(e);
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = sysno, .err = r.err});
  return r;
}

std::vector<Event> Kernel::drain_events() {
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

namespace {
// A log buffer larger than this (about 75 MB: a million events, as a fork of 300,000
// pages and its exit make) is given back rather than kept for reuse.
constexpr size_t kEventBufferKept = size_t{1} << 20;
}  // namespace

void Kernel::drain_events(std::vector<Event>& into) {
  into.clear();
  if (into.capacity() > kEventBufferKept) std::vector<Event>().swap(into);
  into.swap(events_);
}

void Kernel::clear_events() {
  events_.clear();
  if (events_.capacity() > kEventBufferKept) std::vector<Event>().swap(events_);
}

Process* Kernel::proc(Pid pid) {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : &it->second;
}

const Process* Kernel::process(Pid pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : &it->second;
}

std::vector<Pid> Kernel::pids() const {
  std::vector<Pid> out;
  for (const auto& [pid, p] : procs_) out.push_back(pid);
  return out;
}

PageTables Kernel::tables(Process& p) {
  return PageTables(mem_, p.mm.pgd, static_cast<uint64_t>(p.pid), p.mm.pgtables, this);
}

PageTables Kernel::tables(const Process& p) const {
  // PageTables only reads through a const Kernel; the casts never lead to writes.
  auto& self = const_cast<Kernel&>(*this);
  auto& pp = const_cast<Process&>(p);
  return self.tables(pp);
}

std::optional<Pid> Kernel::spawn(const std::string& comm) {
  Pid pid = next_pid_;
  current_ = 0;
  auto pgd = alloc_frame(FrameOwner::PageTable, static_cast<uint64_t>(pid), 4, PG_pagetable);
  if (!pgd) return std::nullopt;
  ++next_pid_;
  emit({.kind = EventKind::PageTableAlloc, .pid = pid, .pfn = *pgd, .level = 4});
  Process p;
  p.pid = pid;
  p.ppid = 0;
  p.comm = comm;
  p.mm.pgd = *pgd;
  p.mm.mmap_base = legacy_mmap_base();
  p.mm.rebuild_gaps();
  for (int fd = 0; fd < 3; ++fd) p.fds.push_back(OpenFile{kTtyInode, O_RDWR_, 0});
  inodes_.at(kTtyInode).open_count += 3;
  procs_.emplace(pid, std::move(p));
  emit({.kind = EventKind::ProcessStart, .pid = pid});
  return pid;
}

void Kernel::vm_stat_account(Mm& mm, uint64_t flags, int64_t pages) {
  mm.total_vm += static_cast<uint64_t>(pages);
  if (is_exec_mapping(flags)) mm.exec_vm += static_cast<uint64_t>(pages);
  else if (is_stack_mapping(flags)) mm.stack_vm += static_cast<uint64_t>(pages);
  else if (is_data_mapping(flags)) mm.data_vm += static_cast<uint64_t>(pages);
  mm.hiwater_vm = std::max(mm.hiwater_vm, mm.total_vm);
}

// ---------------------------------------------------------------------------------
// get_unmapped_area

uint64_t Kernel::unmapped_area_topdown(const Mm& mm, uint64_t len, uint64_t low,
                                       uint64_t high) const {
  // The highest gap below `high` that fits len, from the gaps the VMA tree indexes, in
  // O(log n). The gap that contains `high` is clamped to it; the lowest one to `low`.
  if (len == 0 || high < low + len) return 0;
  const Vma* above = mm.find_vma(high);  // the first VMA ending above high
  uint64_t owner = above ? above->start : TASK_SIZE;
  uint64_t limit = owner;  // owners whose gaps lie wholly below high
  if (owner >= high) {
    Mm::Gap g = mm.gap_of(owner);
    uint64_t end = std::min(g.end, high);
    uint64_t start = std::max(g.start, low);
    if (end > start && end - start >= len) return end - len;
    if (owner == 0) return 0;
    limit = owner - 1;
  }
  auto g = mm.highest_gap(limit, len);
  if (!g) return 0;
  uint64_t start = std::max(g->start, low);
  if (g->end < start || g->end - start < len) return 0;  // only the part above low counts
  return g->end - len;
}

uint64_t unmapped_area_linear(const Mm& mm, uint64_t len, uint64_t low, uint64_t high) {
  uint64_t gap_end = high;
  auto it = mm.vmas.lower_bound(high);
  // A VMA straddling `high` closes the first gap at its start.
  if (it != mm.vmas.begin()) {
    auto p = std::prev(it);
    if (p->second.end > high) gap_end = vm_start_gap(p->second), it = p;
  }
  while (true) {
    uint64_t gap_start = low;
    auto below = it;
    const Vma* prev = nullptr;
    if (below != mm.vmas.begin()) {
      prev = &std::prev(below)->second;
      gap_start = std::max(low, prev->end);
    }
    if (gap_end >= gap_start && gap_end - gap_start >= len && gap_end >= low + len) {
      return gap_end - len;
    }
    if (!prev || prev->start <= low) return 0;
    gap_end = vm_start_gap(*prev);
    it = std::prev(below);
  }
}

uint64_t Kernel::get_unmapped_area(const Mm& mm, uint64_t addr, uint64_t len, uint64_t flags,
                                   Errno& err, bool thp_align) const {
  // mm/mmap.c __get_unmapped_area + arch_get_unmapped_area_topdown.
  if (len > TASK_SIZE) {
    err = Errno::NoMem;
    return 0;
  }
  if (flags & MAP_FIXED) {
    if (addr > TASK_SIZE - len) {
      err = Errno::NoMem;
      return 0;
    }
    if (offset_in_page(addr)) {
      err = Errno::Inval;
      return 0;
    }
    return addr;
  }
  if (addr) {
    addr &= PAGE_MASK;
    // mmap_address_hint_valid: fits below TASK_SIZE.
    if (addr <= TASK_SIZE - len) {
      const Vma* next = mm.find_vma(addr);
      const Vma* prev = mm.prev_of(addr);
      bool fits_next = !next || addr + len <= vm_start_gap(*next);
      bool fits_prev = !prev || addr >= prev->end;
      if (fits_next && fits_prev) return addr;
    }
  }
  uint64_t low = std::max(kPageSize, cfg_.mmap_min_addr);
  constexpr uint64_t PMD_SIZE = 2ULL << 20;
  if (thp_align && addr == 0 && len % PMD_SIZE == 0 && len + PMD_SIZE > len) {
    // __thp_get_unmapped_area: anonymous mappings that are a whole number of 2 MiB
    // are placed on a 2 MiB boundary: find room for len + 2 MiB, then align.
    if (uint64_t ret = unmapped_area_topdown(mm, len + PMD_SIZE, low, mm.mmap_base)) {
      uint64_t off_sub = (0 - ret) & (PMD_SIZE - 1);
      return off_sub == 0 ? ret + PMD_SIZE : ret + off_sub;
    }
  }
  uint64_t found = unmapped_area_topdown(mm, len, low, mm.mmap_base);
  if (!found) {
    err = Errno::NoMem;
    return 0;
  }
  return found;
}

// ---------------------------------------------------------------------------------
// mmap

SysResult Kernel::sys_mmap(Pid pid, const MmapArgs& a) {
  auto finish = [&](SysResult r) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::mmap,
          .err = r.err});
    return r;
  };
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);

  // arch/x86/kernel/sys_x86_64.c: the offset must be page aligned.
  if (offset_in_page(a.off)) return finish(SysResult::fail(Errno::Inval));
  // ksys_mmap_pgoff: a file mapping needs an open file.
  const OpenFile* file = nullptr;
  if (!(a.flags & MAP_ANONYMOUS)) {
    file = fd_get(*p, a.fd);
    if (!file) return finish(SysResult::fail(Errno::BadF));
  }
  return finish(do_mmap(*p, a, file));
}

SysResult Kernel::do_mmap(Process& p, const MmapArgs& a, const OpenFile* file) {
  uint64_t pgoff = a.off >> PAGE_SHIFT;
  uint64_t flags = a.flags;
  Mm& mm = p.mm;

  // do_mmap
  if (a.len == 0) return (SysResult::fail(Errno::Inval));
  uint64_t addr = a.addr;
  if (!(flags & MAP_FIXED) && addr < cfg_.mmap_min_addr && addr != 0) {
    addr = page_align(cfg_.mmap_min_addr);  // round_hint_to_min
  }
  uint64_t len = page_align(a.len);
  if (len == 0) return (SysResult::fail(Errno::NoMem));
  if (pgoff + (len >> PAGE_SHIFT) < pgoff) return (SysResult::fail(Errno::Overflow));
  if (mm.vmas.size() > cfg_.max_map_count) return (SysResult::fail(Errno::NoMem));
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;

  Errno err = Errno::None;
  // THP alignment applies to private anonymous memory (shmem has its own rules:
  // none while shmem_enabled is "never", as here).
  addr = get_unmapped_area(mm, addr, len, flags, err, !file && (flags & MAP_TYPE) == MAP_PRIVATE);
  if (err != Errno::None) return (SysResult::fail(err));
  if ((a.flags & MAP_FIXED_NOREPLACE) && mm.intersects(addr, addr + len)) {
    return (SysResult::fail(Errno::Exist));
  }

  uint64_t vm_flags = 0;
  if (a.prot & PROT_READ) vm_flags |= VM_READ;
  if (a.prot & PROT_WRITE) vm_flags |= VM_WRITE;
  if (a.prot & PROT_EXEC) vm_flags |= VM_EXEC;
  if (flags & MAP_GROWSDOWN) vm_flags |= VM_GROWSDOWN;
  if (flags & MAP_LOCKED) vm_flags |= VM_LOCKED;
  vm_flags |= VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | mm.def_flags;

  bool shmem_anon = false;
  if (file) {
    const Inode& ino = inodes_.at(file->ino);
    // file_mmap_ok: the offset must fit below MAX_LFS_FILESIZE.
    constexpr uint64_t MAX_LFS_FILESIZE = 0x7fffffffffffffffULL;
    if (len > MAX_LFS_FILESIZE || pgoff > ((MAX_LFS_FILESIZE - len) >> PAGE_SHIFT))
      return (SysResult::fail(Errno::Overflow));
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        flags &= LEGACY_MAP_MASK;
        [[fallthrough]];
      case MAP_SHARED_VALIDATE:
        if (flags & ~(LEGACY_MAP_MASK | (ino.kind == InodeKind::Shmem ? 0 : 0)))
          return (SysResult::fail(Errno::OpNotSupp));
        if ((a.prot & PROT_WRITE) && !file->writable()) return (SysResult::fail(Errno::Acces));
        if ((file->flags & O_APPEND_) && file->writable()) return (SysResult::fail(Errno::Acces));
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        if (!file->writable()) vm_flags &= ~uint64_t{VM_MAYWRITE | VM_SHARED};
        [[fallthrough]];
      case MAP_PRIVATE:
        if (!file->readable()) return (SysResult::fail(Errno::Acces));
        if (ino.kind == InodeKind::Tty) return (SysResult::fail(Errno::NoDev));
        if (vm_flags & VM_GROWSDOWN) return (SysResult::fail(Errno::Inval));
        break;
      default:
        return (SysResult::fail(Errno::Inval));
    }
  } else {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if (vm_flags & VM_GROWSDOWN) return (SysResult::fail(Errno::Inval));
        pgoff = 0;
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        shmem_anon = true;
        break;
      case MAP_PRIVATE:
        pgoff = addr >> PAGE_SHIFT;
        break;
      default:
        return (SysResult::fail(Errno::Inval));
    }
  }
  // MAP_NORESERVE is honoured only while overcommit is allowed (not in mode 2).
  if ((flags & MAP_NORESERVE) && cfg_.overcommit_memory != 2) vm_flags |= VM_NORESERVE;
  // accountable_mapping: private writable memory is charged to the commit limit.
  if ((vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE) vm_flags |= VM_ACCOUNT;
  {
    // security_vm_enough_memory_mm before anything is unmapped: the new pages, less
    // those of accounted mappings MAP_FIXED replaces; shared anonymous memory charges
    // its size (shmem_acct_size).
    uint64_t charge = 0;
    if (vm_flags & VM_ACCOUNT) {
      charge = len >> PAGE_SHIFT;
      if (flags & MAP_FIXED) {
        auto it = mm.vmas.upper_bound(addr);
        if (it != mm.vmas.begin() && std::prev(it)->second.end > addr) --it;
        for (; it != mm.vmas.end() && it->second.start < addr + len; ++it) {
          const Vma& v = it->second;
          if (v.flags & VM_ACCOUNT) charge -= (std::min(v.end, addr + len) - std::max(v.start, addr)) >> PAGE_SHIFT;
        }
      }
    } else if (shmem_anon && !(vm_flags & VM_NORESERVE)) {
      charge = len >> PAGE_SHIFT;
    }
    if (charge && !vm_enough_memory(mm, charge)) return SysResult::fail(Errno::NoMem);
  }

  // mmap_region: MAP_FIXED replaces whatever was there.
  if (flags & MAP_FIXED) {
    Errno e = do_munmap(p, addr, addr + len);
    if (e != Errno::None) return (SysResult::fail(e));
  }

  uint64_t end = addr + len;
  uint64_t inode_key = file ? file->ino : 0;
  if (shmem_anon) {
    // shmem_zero_setup: a fresh tmpfs file per mapping, so these never merge.
    inode_key = *shmem_zero_setup(len, !(vm_flags & VM_NORESERVE));
  }
  // vma_merge_new_range: try to extend a neighbour instead of adding a VMA.
  auto compatible = [&](const Vma& v) {
    return (v.flags & ~VM_IGNORE_MERGE) == (vm_flags & ~VM_IGNORE_MERGE) && v.inode == inode_key &&
           v.name.empty();
  };
  Vma* prev = nullptr;
  Vma* next = nullptr;
  {
    auto it = mm.vmas.lower_bound(addr);
    if (it != mm.vmas.end() && it->second.start == end) next = &it->second;
    if (it != mm.vmas.begin()) {
      auto pit = std::prev(it);
      if (pit->second.end == addr) prev = &pit->second;
    }
  }
  bool merge_left = prev && compatible(*prev) && prev->pgoff + prev->pages() == pgoff;
  bool merge_right = next && compatible(*next) && next->pgoff == pgoff + (len >> PAGE_SHIFT);
  if (merge_left && merge_right && prev->anon && next->anon && prev->anon != next->anon) {
    merge_right = false;  // are_anon_vmas_compatible
  }
  const uint64_t sync_lo = merge_left ? prev->start : addr;
  const uint64_t sync_hi = merge_right ? next->end : end;

  if (merge_left) {
    uint64_t new_end = merge_right ? next->end : end;
    if (merge_right) {
      if (!prev->anon) prev->anon = next->anon;
      Vma gone = *next;
      mm.vmas.erase(gone.start);
      emit({.kind = EventKind::VmaRemove, .pid = p.pid, .addr = gone.start, .end = gone.end});
    }
    prev->end = new_end;
    emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = prev->start, .end = prev->end});
  } else if (merge_right) {
    Vma v = *next;
    mm.vmas.erase(v.start);
    v.start = addr;
    v.pgoff = pgoff;
    mm.vmas.emplace(v.start, v);
    emit({.kind = EventKind::VmaExpand, .pid = p.pid, .addr = v.start, .end = v.end});
  } else {
    Vma v;
    v.start = addr;
    v.end = end;
    v.flags = vm_flags;
    v.pgoff = pgoff;
    v.inode = inode_key;
    mm.vmas.emplace(addr, v);
    emit({.kind = EventKind::VmaInsert, .pid = p.pid, .addr = addr, .end = end});
  }
  mm.sync_gaps(sync_lo, sync_hi);
  if (inode_key) ++inodes_.at(inode_key).map_count;  // one more VMA, or one fewer after a merge
  if (inode_key && (merge_left || merge_right)) {
    // The merged VMA already counted; a merge of both sides dropped one more.
    --inodes_.at(inode_key).map_count;
    if (merge_left && merge_right) --inodes_.at(inode_key).map_count;
  }
  vm_stat_account(mm, vm_flags, static_cast<int64_t>(len >> PAGE_SHIFT));
  if (vm_flags & VM_LOCKED) mm.locked_vm += len >> PAGE_SHIFT;
  // vm_mmap_pgoff: locked memory and MAP_POPULATE are faulted in now (errors ignored).
  if (((vm_flags & VM_LOCKED) && !(vm_flags & VM_LOCKONFAULT)) ||
      (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE)
    (void)mm_populate(p, addr, len, true);
  return SysResult::ok(addr);
}

// ---------------------------------------------------------------------------------
// munmap

SysResult Kernel::sys_munmap(Pid pid, uint64_t addr, uint64_t len) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  // do_vmi_munmap
  if (offset_in_page(addr) || addr > TASK_SIZE || len > TASK_SIZE - addr) {
    r = SysResult::fail(Errno::Inval);
  } else {
    len = page_align(len);
    if (len == 0) {
      r = SysResult::fail(Errno::Inval);
    } else {
      Errno e = do_munmap(*p, addr, addr + len);
      if (e != Errno::None) r = SysResult::fail(e);
    }
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::munmap,
        .err = r.err});
  return r;
}

bool Kernel::split_vma(Process& p, uint64_t vma_start, uint64_t addr) {
  Mm& mm = p.mm;
  if (mm.vmas.size() >= cfg_.max_map_count) return false;
  Vma& lo = mm.vmas.at(vma_start);
  Vma hi = lo;
  uint64_t old_end = lo.end;
  hi.start = addr;
  hi.pgoff = lo.pgoff + ((addr - lo.start) >> PAGE_SHIFT);
  lo.end = addr;
  // The one new gap is the empty one below hi (a new element weighs 0); lo's and the
  // next VMA's do not change.
  mm.vmas.emplace(addr, hi);
  if (hi.inode) ++inodes_.at(hi.inode).map_count;
  emit({.kind = EventKind::VmaSplit, .pid = p.pid, .addr = addr, .end = old_end});
  return true;
}

Errno Kernel::do_munmap(Process& p, uint64_t start, uint64_t end) {
  // do_vmi_align_munmap
  Mm& mm = p.mm;
  Vma* first = mm.find_vma(start);
  if (!first || first->start >= end) return Errno::None;

  // Splitting the first VMA needs one more map slot; Linux checks before any change.
  if (start > first->start) {
    if (end < first->end && mm.vmas.size() >= cfg_.max_map_count) return Errno::NoMem;
    if (!split_vma(p, first->start, start)) return Errno::NoMem;
  }
  {
    const Vma* last = mm.find_vma(end - 1);
    if (last && last->start < end && end < last->end) {
      if (!split_vma(p, last->start, end)) return Errno::NoMem;
    }
  }

  // Detach [start, end).
  std::vector<Vma> detached;
  for (auto it = mm.vmas.lower_bound(start); it != mm.vmas.end() && it->second.start < end;) {
    detached.push_back(it->second);
    it = mm.vmas.erase(it);
  }
  mm.sync_gaps(start, end);
  const Vma* prev = mm.prev_of(start);
  auto nit = mm.vmas.lower_bound(end);
  const Vma* next = nit == mm.vmas.end() ? nullptr : &nit->second;
  uint64_t floor = prev ? prev->end : 0;
  uint64_t ceiling = next ? next->start : 0;  // USER_PGTABLES_CEILING

  for (const Vma& v : detached) {
    zap_range(p, v, v.start, v.end);
    vm_stat_account(mm, v.flags, -static_cast<int64_t>(v.pages()));
    if (v.flags & VM_LOCKED) mm.locked_vm -= v.pages();
    emit({.kind = EventKind::VmaRemove, .pid = p.pid, .addr = v.start, .end = v.end});
    if (v.inode) {
      --inodes_.at(v.inode).map_count;
      iput(v.inode);
    }
  }
  // free_pgtables: neighbouring detached VMAs within a PMD of each other go down in
  // one call, bounded by the surviving neighbours.
  PageTables pt = tables(p);
  auto freed = [&](Pfn t, int level) {
    emit({.kind = EventKind::PageTableFree, .pid = p.pid, .pfn = t, .level = static_cast<int16_t>(level)});
  };
  const uint64_t PMD_SIZE = pt_entry_span(2);
  for (size_t i = 0; i < detached.size(); ++i) {
    uint64_t a = detached[i].start;
    while (i + 1 < detached.size() && detached[i + 1].start <= detached[i].end + PMD_SIZE) ++i;
    uint64_t c = i + 1 < detached.size() ? detached[i + 1].start : ceiling;
    pt.free_pgd_range(a, detached[i].end, floor, c, freed);
  }
  return Errno::None;
}

uint64_t& Kernel::rss_counter(Mm& mm, const Frame& f) {
  // MM_ANONPAGES, MM_SHMEMPAGES or MM_FILEPAGES, by what the page is.
  if (f.flags & PG_anon) return mm.rss_anon;
  if (f.owner == FrameOwner::Shmem) return mm.rss_shmem;
  return mm.rss_file;
}

void Kernel::put_page(Process& p, Pfn pfn, bool was_mapped) {
  Frame& f = mem_.frame(pfn);
  if (was_mapped) {
    if (f.mapcount) --f.mapcount;
    if (f.mapcount == 0 && (f.flags & PG_mlocked)) {
      f.flags &= ~uint32_t{PG_mlocked};  // munlocked with its last mapping
      if (f.lru != LruList::None && f.refcount > 1) lru_putback(pfn);
    }
    uint64_t& c = rss_counter(p.mm, f);
    if (c) --c;
  }
  if (f.refcount) --f.refcount;
  if (f.refcount == 0) {
    mem_.free(pfn);
    emit({.kind = EventKind::FrameFree, .pfn = pfn});
  } else if ((f.flags & PG_swapcache) && f.mapcount == 0 && f.refcount == 1 && swap_.slot(f.swap).count == 0 &&
             !pinned(pfn)) {
    // free_swap_cache: the last user unmapped a swap-cache page nothing else refers to.
    delete_from_swap_cache(pfn);
  }
}

void Kernel::set_pte(Process& p, PteSlot slot, uint64_t addr, uint64_t e) {
  tables(p).set(slot, e);
  // A page mapped into an mlocked VMA is mlocked (mlock_folio) and unevictable. (Only a
  // process with locked memory needs the VMA looked up.)
  if (p.mm.locked_vm && pte_present(e) && !(e & _PAGE_SPECIAL)) {
    const Vma* v = p.mm.vma_at(addr);
    Frame& f = mem_.frame(pte_pfn(e));
    if (v && (v->flags & VM_LOCKED) && !(f.flags & PG_mlocked) && f.owner != FrameOwner::Vdso) {
      f.flags |= PG_mlocked;
      if (f.lru != LruList::None) mem_.lru_add(pte_pfn(e), LruList::Unevictable);
    }
  }
  emit({.kind = EventKind::PteSet, .pid = p.pid, .addr = addr, .value = e, .pfn = pte_pfn(e)});
}

void Kernel::clear_pte(Process& p, PteSlot slot, uint64_t addr) {
  PageTables pt = tables(p);
  uint64_t old = pt.get(slot);
  pt.set(slot, 0);
  emit({.kind = EventKind::PteClear, .pid = p.pid, .addr = addr, .value = old,
        .pfn = pte_pfn(old)});
}

void Kernel::zap_range(Process& p, const Vma& v, uint64_t start, uint64_t end) {
  PageTables pt = tables(p);
  // Each entry is cleared as the walk meets it: the walk reads every entry afresh, and
  // nothing here adds or frees a page table.
  pt.for_each_pte(start, end, [&](uint64_t addr, PteSlot slot, uint64_t e) {
    clear_pte(p, slot, addr);
    if (is_swap_pte(e)) {  // free_swap_and_cache
      if (p.mm.swapents) --p.mm.swapents;
      swap_free_entry(pte_swp_offset(e));
      return;
    }
    if (!pte_present(e)) return;  // PROT_NONE pages are mapped too
    if (e & _PAGE_SPECIAL) return;  // the zero page is not refcounted per mapping
    // zap_present_folio_ptes: a young file page is marked accessed on its way out.
    const Frame& f = mem_.frame(pte_pfn(e));
    if (!(f.flags & PG_anon) && (e & _PAGE_ACCESSED) && (v.flags & (VM_SEQ_READ | VM_RAND_READ)) == 0 &&
        f.refcount > 1 && f.owner != FrameOwner::Vdso)
      mark_accessed(pte_pfn(e));
    if (e & _PAGE_DIRTY) mem_.frame(pte_pfn(e)).flags |= PG_dirty;
    put_page(p, pte_pfn(e), true);
  });
}

SysResult Kernel::sys_getpid(Pid pid) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  emit({.kind = EventKind::Syscall, .pid = pid, .value = static_cast<uint64_t>(pid),
        .sysno = Sysno::getpid});
  return SysResult::ok(static_cast<uint64_t>(pid));
}

// ---------------------------------------------------------------------------------
// Memory access and the fault handler

AccessResult Kernel::access(Pid pid, uint64_t addr, Access kind, uint8_t value, bool store) {
  AccessResult r;
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return r;
  PageTables pt = tables(*p);
  // The MMU: a present PTE with the right permission needs no fault.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (addr < TASK_SIZE + kPageSize && addr <= TASK_SIZE - 1) {
      // A TLB of one PTE table: the upper three levels are walked again only when the
      // access leaves the 2 MiB the last one covered, or when any page table has been
      // allocated or freed since (which is what can change an upper-level entry).
      std::optional<PteSlot> slot;
      const uint64_t region = addr >> 21;
      if (tlb_.pid == pid && tlb_.region == region && tlb_.generation == mem_.table_generation()) {
        slot = PteSlot{tlb_.table, pt_index(addr, 1)};
      } else if ((slot = pt.find_pte(addr))) {
        tlb_ = {pid, region, mem_.table_generation(), slot->table};
      }
      if (slot) {
        uint64_t e = pt.get(*slot);
        bool ok = (e & _PAGE_PRESENT) && (e & _PAGE_USER) &&
                  (kind == Access::Read || (kind == Access::Write && (e & _PAGE_RW)) ||
                   (kind == Access::Exec && !(e & _PAGE_NX)));
        if (ok) {
          uint64_t ne = e | _PAGE_ACCESSED | (kind == Access::Write ? uint64_t{_PAGE_DIRTY} : uint64_t{0});
          if (ne != e) pt.set(*slot, ne);
          Pfn pfn = pte_pfn(e);
          // The MMU sets the PTE's dirty bit; an anonymous page's PG_dirty waits for
          // reclaim or unmap to move it there. Page-cache pages are marked at once.
          Frame& fr = mem_.frame(pfn);
          if (kind == Access::Write && !(fr.flags & PG_anon)) fr.flags |= PG_dirty;
          if (kind == Access::Write && store) {
            mem_.write_byte(pfn, addr & ~PAGE_MASK, value);
            r.value = value;
          } else if (kind == Access::Write) {
            r.value = mem_.read_byte(pfn, addr & ~PAGE_MASK);
          } else {
            r.value = mem_.read_byte(pfn, addr & ~PAGE_MASK);
          }
          r.ok = true;
          return r;
        }
      }
    }
    if (attempt == 1) break;
    handle_mm_fault(*p, addr, kind, r);
    if (r.killed) return r;
  }
  return r;
}

void Kernel::force_sig_fault(Process& p, int signo, int code, uint64_t addr, AccessResult& r) {
  emit({.kind = EventKind::Signal, .pid = p.pid, .addr = addr, .signo = static_cast<int16_t>(signo), .si_code = static_cast<int16_t>(code)});
  r.signo = signo;
  r.si_code = code;
  // No handlers in this model: the default action of kSigSegv/kSigBus ends the process.
  kill_process(p, signo);
  r.killed = true;
}

void Kernel::handle_mm_fault(Process& p, uint64_t addr, Access kind, AccessResult& r, bool user) {
  Mm& mm = p.mm;
  // For WpCopy the event's value is the frame that was copied from.
  auto fault_event = [&](FaultKind k, Pfn pfn, uint64_t value = 0) {
    this->fault_event(p, addr, kind, r, k, pfn, value);
  };
  // A bad access from user mode is a signal; from the kernel (copy_to_user) it only
  // fails the access, and the system call returns EFAULT.
  auto segv = [&](FaultKind k, int code) {
    fault_event(k, Pfn{});
    if (user) force_sig_fault(p, kSigSegv, code, addr, r);
  };
  // do_user_addr_fault: lock_mm_and_find_vma
  const Vma* vp = addr < TASK_SIZE ? mm.find_vma(addr) : nullptr;
  if (vp && vp->start > addr && (vp->flags & VM_GROWSDOWN) && expand_stack(p, addr)) vp = mm.find_vma(addr);
  if (!vp || vp->start > addr) {
    segv(FaultKind::BadArea, kSegvMapErr);
    return;
  }
  Vma& vma = mm.vmas.at(vp->start);
  // access_error(): writes need VM_WRITE; reads need any access at all.
  bool denied = kind == Access::Write  ? !(vma.flags & VM_WRITE)
                : kind == Access::Exec ? !(vma.flags & VM_EXEC)
                                       : !(vma.flags & (VM_READ | VM_WRITE | VM_EXEC));
  if (denied) {
    segv(FaultKind::AccessError, kSegvAccErr);
    return;
  }
  ++vm_.pgfault;  // handle_mm_fault's count_vm_event(PGFAULT)
  PageTables pt = tables(p);
  uint64_t page = addr & PAGE_MASK;
  if (!vma.is_anonymous()) {
    auto existing = pt.find_pte(page);
    if (!existing || pte_none(pt.get(*existing))) {
      if (vma.special != Special::None) do_special_fault(p, vma, addr, kind, r, user);
      else do_file_fault(p, vma, addr, kind, r, user);  // do_fault
      return;
    }
  }
  auto slot = pt.alloc_pte(page);
  auto oom = [&]() { fault_oom(p, addr, kind, r, user); };
  if (!slot) {
    oom();
    return;
  }
  uint64_t e = pt.get(*slot);
  uint64_t prot = vm_get_page_prot(vma.flags);
  if (is_swap_pte(e)) {
    // do_swap_page; a write it could not satisfy continues as do_wp_page.
    if (!do_swap_page(p, vma, addr, *slot, e, kind, r, user)) return;
    e = pt.get(*slot);
    if (kind != Access::Write || !(e & _PAGE_PRESENT) || (e & _PAGE_RW)) return;
  }
  // anon_vma_prepare + a new anonymous folio, mapped once and counted in RssAnon.
  auto alloc_anon = [&]() -> std::optional<Pfn> {
    auto pfn = alloc_anon_page(p, vma, page);
    if (!pfn) oom();
    return pfn;
  };

  if (pte_none(e)) {
    // do_anonymous_page
    if (kind != Access::Write) {
      uint64_t ne = mk_pte(mem_.zero_pfn(), prot) | _PAGE_SPECIAL;
      set_pte(p, *slot, page, ne);
      fault_event(FaultKind::AnonZeroPage, mem_.zero_pfn());
      return;
    }
    auto pfn = alloc_anon();
    if (!pfn) return;
    uint64_t ne = mk_pte(*pfn, prot);
    if (vma.flags & VM_WRITE) ne |= _PAGE_RW | _PAGE_DIRTY;
    set_pte(p, *slot, page, ne);
    mm.hiwater_rss = std::max(mm.hiwater_rss, mm.rss());
    fault_event(FaultKind::AnonNewPage, *pfn);
    return;
  }

  // A present PTE that faulted: a write to a write-protected page (do_wp_page).
  if (kind == Access::Write && (e & _PAGE_PRESENT)) {
    Pfn old = pte_pfn(e);
    bool zero = (e & _PAGE_SPECIAL) && old == mem_.zero_pfn();
    if (!zero && (vma.flags & VM_SHARED)) {
      // wp_page_shared: the first write to a clean shared page marks it dirty.
      mem_.frame(old).flags |= PG_dirty;
      set_pte(p, *slot, page, e | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED);
      fault_event(FaultKind::WpShared, old);
      return;
    }
    if (!zero) {
      Frame& f = mem_.frame(old);
      // wp_can_reuse_anon_folio: a swap-cache page nobody else refers to leaves the
      // swap cache first.
      if ((f.flags & PG_anon) && (f.flags & PG_swapcache) && f.mapcount == 1 && swap_.slot(f.swap).count == 0) {
        delete_from_swap_cache(old);
        f.flags |= PG_dirty;  // folio_free_swap: the copy on swap is gone
      }
      if ((f.flags & PG_anon) && f.mapcount == 1 && f.refcount == 1) {
        // wp_page_reuse: nobody else can see the page.
        f.flags |= PG_anon_exclusive;
        uint64_t ne = e | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
        set_pte(p, *slot, page, ne);
        ++vm_.pgreuse;
        fault_event(FaultKind::WpReuse, old);
        return;
      }
    }
    // wp_page_copy (the old page is held while the new one is allocated)
    Pin hold(*this, old);
    auto pfn = alloc_anon();
    if (!pfn) return;
    if (!zero) mem_.copy_frame(*pfn, old);
    uint64_t ne = mk_pte(*pfn, prot) | _PAGE_RW | _PAGE_DIRTY;
    set_pte(p, *slot, page, ne);
    if (!zero) put_page(p, old, true);
    mm.hiwater_rss = std::max(mm.hiwater_rss, mm.rss());
    fault_event(FaultKind::WpCopy, *pfn, old.value);
    return;
  }
  // Present and readable, or a PROT_NONE encoding the VMA check already refused:
  // nothing else reaches here in this model.
  segv(FaultKind::AccessError, kSegvAccErr);
}

void Kernel::fault_event(Process& p, uint64_t addr, Access kind, AccessResult& r, FaultKind k, Pfn pfn,
                         uint64_t value, int32_t level) {
  r.fault = k;
  if (level == 1) ++vm_.pgmajfault;
  emit({.kind = EventKind::Fault, .pid = p.pid, .addr = addr, .value = value, .pfn = pfn, .access = kind,
        .fault = k, .level = static_cast<int16_t>(level)});
}

void Kernel::fault_oom(Process& p, uint64_t addr, Access kind, AccessResult& r, bool user) {
  fault_event(p, addr, kind, r, FaultKind::Oom, Pfn{});
  if (!user) return;
  oom_pending_ = 0;
  kill_process(p, kSigKill);
  r.killed = true;
  r.signo = kSigKill;
}

void Kernel::exit_mm(Process& p) {
  Mm& mm = p.mm;
  std::vector<Vma> all;
  for (auto& [s, v] : mm.vmas) all.push_back(v);
  for (const Vma& v : all) {
    zap_range(p, v, v.start, v.end);
    emit({.kind = EventKind::VmaRemove, .pid = p.pid, .addr = v.start, .end = v.end});
  }
  for (const Vma& v : all) {
    if (!v.inode) continue;
    --inodes_.at(v.inode).map_count;
    iput(v.inode);
  }

  mm.vmas.clear();
  if (!all.empty()) {
    PageTables pt = tables(p);
    auto freed = [&](Pfn t, int level) {
      emit({.kind = EventKind::PageTableFree, .pid = p.pid, .pfn = t, .level = static_cast<int16_t>(level)});
    };
    pt.free_pgd_range(all.front().start, all.back().end, 0, 0, freed);
  }
  mem_.free(mm.pgd);
  emit({.kind = EventKind::PageTableFree, .pid = p.pid, .pfn = mm.pgd, .level = 4});
  mm = Mm{};
}

void Kernel::exit_files(Process& p) {
  // Every descriptor is closed.
  for (auto& f : p.fds) {
    if (!f) continue;
    uint64_t key = f->ino;
    f.reset();
    if (inodes_.at(key).open_count) --inodes_.at(key).open_count;
    iput(key);
  }
  p.fds.clear();
}

void Kernel::forget_original_parent(const Process& p) {
  // kernel/exit.c: the children of a process that exits go to the child reaper, pid 1
  // (here the first process, which stands in for init: it must wait4 them itself).
  // When pid 1 itself exits they keep their parent's pid; nothing can reap them.
  if (p.pid == 1 || !procs_.count(1)) return;
  for (auto& [id, c] : procs_)
    if (c.ppid == p.pid) c.ppid = 1;
}

void Kernel::kill_process(Process& p, int signo) {
  exit_mm(p);
  exit_files(p);
  forget_original_parent(p);
  p.state = ProcState::Zombie;
  p.exit_signal = signo;
  emit({.kind = EventKind::ProcessExit, .pid = p.pid, .signo = static_cast<int16_t>(signo)});
}

// ---------------------------------------------------------------------------------
// Views

Walk Kernel::walk(Pid pid, uint64_t addr) const {
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return Walk{};
  return tables(*p).walk(addr);
}

std::vector<Kernel::PteView> Kernel::ptes(Pid pid) const {
  std::vector<PteView> out;
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return out;
  for (const auto& [s, v] : p->mm.vmas) {
    tables(*p).for_each_pte(v.start, v.end, [&](uint64_t addr, PteSlot, uint64_t e) {
      out.push_back({addr, e});
    });
  }
  return out;
}

std::vector<Kernel::PteView> Kernel::ptes(Pid pid, uint64_t start, uint64_t end) const {
  std::vector<PteView> out;
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running || start >= end) return out;
  // The VMAs that overlap the range: the one holding start (if any), then those after it.
  auto it = p->mm.vmas.upper_bound(start);
  if (it != p->mm.vmas.begin() && std::prev(it)->second.end > start) --it;
  for (; it != p->mm.vmas.end() && it->second.start < end; ++it) {
    const Vma& v = it->second;
    tables(*p).for_each_pte(std::max(v.start, start), std::min(v.end, end), [&](uint64_t addr, PteSlot, uint64_t e) {
      out.push_back({addr, e});
    });
  }
  return out;
}

std::vector<Kernel::Mapper> Kernel::mappers(Pfn pfn) const {
  std::vector<Mapper> out;
  for (Pid pid : pids())
    for (const PteView& pte : ptes(pid))
      if (pte_present(pte.entry) && pte_pfn(pte.entry) == pfn) out.push_back({pid, pte.addr});
  return out;
}

}  // namespace vmplay::engine
