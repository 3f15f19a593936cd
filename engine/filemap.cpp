// Files: the page cache, file-backed faults (do_read_fault with read-around and
// fault-around, do_cow_fault, do_shared_fault), shmem, and the file system calls.
#include <algorithm>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {
constexpr uint64_t kFaultAroundPages = 16;  // fault_around_bytes = 64 KiB
constexpr uint64_t kRaPages = 32;           // read_ahead_kb = 128

uint64_t roundup_pow_of_two(uint64_t v) {
  uint64_t r = 1;
  while (r < v) r <<= 1;
  return r;
}
// get_init_ra_size: the first readahead window of a read() that misses.
uint64_t init_ra_size(uint64_t req, uint64_t max) {
  uint64_t n = roundup_pow_of_two(req);
  if (n <= max / 32) return n * 4;
  if (n <= max / 4) return n * 2;
  return max;
}
}  // namespace

const Inode* Kernel::inode(uint64_t ino) const {
  auto it = inodes_.find(ino);
  return it == inodes_.end() ? nullptr : &it->second;
}

std::optional<uint64_t> Kernel::lookup(const std::string& path) const {
  auto it = names_.find(path);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

uint64_t Kernel::create_file(const std::string& path, uint64_t ino, const std::vector<uint8_t>& contents,
                             uint32_t mode) {
  Inode n;
  n.ino = ino;
  n.path = path;
  n.mode = mode;
  n.uid = path.rfind("/home/user/", 0) == 0 ? kUserUid : 0;  // the system's files are root's
  n.size = contents.size();
  for (uint64_t off = 0; off < contents.size(); off += kPageSize) {
    uint64_t len = std::min<uint64_t>(kPageSize, contents.size() - off);
    auto first = contents.begin() + static_cast<std::ptrdiff_t>(off);
    auto last = first + static_cast<std::ptrdiff_t>(len);
    if (std::any_of(first, last, [](uint8_t b) { return b != 0; }))
      std::copy(first, last, n.disk[off >> PAGE_SHIFT].mut());
  }
  inodes_[ino] = std::move(n);
  names_[path] = ino;
  return ino;
}

std::optional<std::string> Kernel::read_whole_file(const std::string& path) {
  auto key = lookup(path);
  if (!key) return std::nullopt;
  Inode& ino = inodes_.at(*key);
  if (ino.kind == InodeKind::Tty) return std::string();
  std::string out;
  for (uint64_t index = 0; index < ino.pages(); ++index) {
    auto pfn = filemap_get_page(ino, index, index, index + kRaPages, nullptr);
    if (!pfn) break;
    uint64_t n = std::min<uint64_t>(kPageSize, ino.size - index * kPageSize);
    for (uint64_t i = 0; i < n; ++i) out.push_back(static_cast<char>(mem_.read_byte(*pfn, i)));
  }
  return out;
}

std::optional<uint64_t> Kernel::shmem_zero_setup(uint64_t len, bool accounted) {
  // shmem_zero_setup: shared anonymous memory is a tmpfs file named /dev/zero that
  // nobody can open again.
  Inode n;
  n.ino = next_shmem_ino_++;
  n.kind = InodeKind::Shmem;
  n.path = "/dev/zero";
  n.unlinked = true;
  n.size = len;
  n.uid = kUserUid;
  n.accounted = accounted;
  n.dev_major = 0;
  n.dev_minor = 1;
  uint64_t ino = (1ULL << 32) + n.ino;  // keep tmpfs inode keys apart from disk ones
  n.ino = ino - (1ULL << 32);
  inodes_[ino] = std::move(n);
  return ino;
}

// ---- the page cache ----

std::optional<Pfn> Kernel::page_cache_fill(Inode& ino, uint64_t index, bool from_disk) {
  bool shmem = ino.kind == InodeKind::Shmem;
  uint64_t key = shmem ? (1ULL << 32) + ino.ino : ino.ino;
  auto pfn = alloc_frame(shmem ? FrameOwner::Shmem : FrameOwner::File, key, index,
                         PG_uptodate | (shmem ? uint32_t{PG_swapbacked | PG_shmem} : uint32_t{PG_file}));
  if (!pfn) return std::nullopt;
  if (ino.cache.count(index)) {  // filled while the allocator reclaimed (cannot happen, but be sure)
    mem_.free(*pfn);
    return ino.cache.at(index);
  }
  lru_new_page(*pfn, nullptr);
  if (auto d = ino.disk.find(index); d != ino.disk.end()) mem_.frame(*pfn).data = d->second;
  ino.cache[index] = *pfn;
  emit({.kind = EventKind::PageCacheAdd, .addr = index, .value = key, .pfn = *pfn,
        .level = int16_t{from_disk}});
  return pfn;
}

std::optional<Pfn> Kernel::filemap_get_page(Inode& ino, uint64_t index, uint64_t ra_start,
                                            uint64_t ra_end, bool* major) {
  if (major) *major = false;
  if (auto it = ino.cache.find(index); it != ino.cache.end()) return it->second;
  if (ino.kind == InodeKind::Shmem) {
    if (ino.swapped.count(index)) {
      if (major) *major = true;
      return shmem_swapin(ino, index);
    }
    return page_cache_fill(ino, index, false);
  }
  // A miss reads the page and its readahead window from disk in one go.
  auto target = page_cache_fill(ino, index, true);
  if (!target) return std::nullopt;
  vm_.pgpgin += 4;
  Pin hold(*this, *target);
  if (major) *major = true;
  ra_end = std::min(ra_end, ino.pages());
  for (uint64_t i = ra_start; i < ra_end; ++i) {
    if (i == index || ino.cache.count(i)) continue;
    if (!page_cache_fill(ino, i, true)) break;  // readahead is best effort
    vm_.pgpgin += 4;
  }
  return target;
}

void Kernel::map_file_page(Process& p, const Vma& v, const Inode& ino, PteSlot slot, uint64_t addr, Pfn pfn,
                           bool write) {
  uint64_t prot = vm_get_page_prot(v.flags);
  // vma_wants_writenotify: shared mappings of files with dirty accounting start
  // write-protected so that the first write can mark the page dirty; tmpfs does not.
  if ((v.flags & VM_SHARED) && ino.kind == InodeKind::Regular) prot &= ~uint64_t{_PAGE_RW};
  uint64_t e = mk_pte(pfn, prot);
  if (write) e |= _PAGE_RW | _PAGE_DIRTY;
  set_pte(p, slot, addr, e);
  Frame& f = mem_.frame(pfn);
  ++f.mapcount;
  ++f.refcount;
  ++rss_counter(p.mm, f);
  if (write) f.flags |= PG_dirty;
}

std::optional<Pfn> Kernel::alloc_anon_page(Process& p, Vma& vma, uint64_t page) {
  if (!vma.anon) vma.anon = find_mergeable_anon_vma(p.mm, vma).value_or(0);
  if (!vma.anon) vma.anon = next_anon_id_++;
  // The page's index is linear_page_index: the VMA's pgoff plus the offset into it.
  auto pfn = alloc_frame(FrameOwner::Anon, vma.anon, vma.pgoff + ((page - vma.start) >> PAGE_SHIFT),
                         PG_anon | PG_swapbacked | PG_anon_exclusive);
  if (!pfn) return std::nullopt;
  emit({.kind = EventKind::FrameAlloc, .pid = p.pid, .addr = page, .pfn = *pfn});
  mem_.frame(*pfn).mapcount = 1;
  lru_new_page(*pfn, &vma);
  ++p.mm.rss_anon;
  return pfn;
}

void Kernel::do_file_fault(Process& p, Vma& vma, uint64_t addr, Access kind, AccessResult& r, bool user) {
  Mm& mm = p.mm;
  auto fault_event = [&](FaultKind k, Pfn pfn, uint64_t value = 0, bool was_major = false) {
    this->fault_event(p, addr, kind, r, k, pfn, value, was_major ? 1 : 0);
  };
  auto oom = [&]() { fault_oom(p, addr, kind, r, user); };
  Inode& ino = inodes_.at(vma.inode);
  PageTables pt = tables(p);
  uint64_t page = addr & PAGE_MASK;
  uint64_t index = vma.pgoff + ((page - vma.start) >> PAGE_SHIFT);
  // filemap_fault / shmem_fault: nothing exists past the end of the file.
  if (index >= ino.pages()) {
    fault_event(FaultKind::SigBus, Pfn{});
    if (user) force_sig_fault(p, kSigBus, kBusAdrErr, addr, r);
    return;
  }
  auto slot = pt.alloc_pte(page);
  if (!slot) {
    oom();
    return;
  }
  // Readahead for an mmap miss: none for MADV_RANDOM, forward for MADV_SEQUENTIAL,
  // otherwise "read-around": ra_pages centred on the fault.
  uint64_t ra_start = index, ra_end = index + 1;
  if (vma.flags & VM_SEQ_READ) {
    ra_end = index + kRaPages;
  } else if (!(vma.flags & VM_RAND_READ)) {
    ra_start = index > kRaPages / 2 ? index - kRaPages / 2 : 0;
    ra_end = ra_start + kRaPages;
  }
  bool major = false;
  auto pfn = filemap_get_page(ino, index, ra_start, ra_end, &major);
  if (!pfn) {
    oom();
    return;
  }
  bool shared = (vma.flags & VM_SHARED) != 0;
  Pin hold(*this, *pfn);
  if (kind == Access::Write && !shared) {
    // do_cow_fault: a private copy; the page-cache page itself is not mapped.
    auto copy = alloc_anon_page(p, vma, page);
    if (!copy) {
      oom();
      return;
    }
    mem_.copy_frame(*copy, *pfn);
    set_pte(p, *slot, page, mk_pte(*copy, vm_get_page_prot(vma.flags)) | _PAGE_RW | _PAGE_DIRTY);
    mm.hiwater_rss = std::max(mm.hiwater_rss, mm.rss());
    fault_event(FaultKind::FileCow, *copy, pfn->value, major);
    return;
  }
  if (kind == Access::Write) {
    // do_shared_fault: page_mkwrite, then the page-cache page mapped writable.
    map_file_page(p, vma, ino, *slot, page, *pfn, true);
    mm.hiwater_rss = std::max(mm.hiwater_rss, mm.rss());
    fault_event(FaultKind::FileShared, *pfn, 0, major);
    return;
  }
  // do_read_fault: map the page, and with it every cached page in the fault-around
  // window: 16 PTEs aligned by virtual address, clamped to the VMA and the page table.
  // (Linux maps the window before reading and then the whole large folio that
  // readahead created; without large folios this gives the same result.)
  map_file_page(p, vma, ino, *slot, page, *pfn, false);
  uint64_t mapped = 1;
  uint64_t pte_off = pt_index(page, 1);
  uint64_t vma_off = (page - vma.start) >> PAGE_SHIFT;
  uint64_t from = std::max(pte_off & ~(kFaultAroundPages - 1), pte_off - std::min(pte_off, vma_off));
  uint64_t to = std::min({from + kFaultAroundPages, uint64_t{512}, pte_off + vma.pages() - vma_off});
  uint64_t table_base = page - (pte_off << PAGE_SHIFT);
  // The window's file pages are consecutive: one walk of the page cache from its first.
  const uint64_t first_idx = vma.pgoff + (((table_base + (from << PAGE_SHIFT)) - vma.start) >> PAGE_SHIFT);
  const uint64_t end_idx = std::min(first_idx + (to - from), ino.pages());
  for (auto it = ino.cache.lower_bound(first_idx); it != ino.cache.end() && it->first < end_idx; ++it) {
    uint64_t i = from + (it->first - first_idx);
    if (i == pte_off) continue;
    PteSlot s{slot->table, i};
    if (!pte_none(pt.get(s))) continue;
    map_file_page(p, vma, ino, s, table_base + (i << PAGE_SHIFT), it->second, false);
    ++mapped;
  }
  mm.hiwater_rss = std::max(mm.hiwater_rss, mm.rss());
  fault_event(major ? FaultKind::FileReadMajor : FaultKind::FileReadMinor, *pfn, mapped);
}

// ---- file descriptors ----

OpenFile* Kernel::fd_get(Process& p, int64_t fd) {
  if (fd < 0 || static_cast<uint64_t>(fd) >= p.fds.size()) return nullptr;
  auto& slot = p.fds[static_cast<size_t>(fd)];
  return slot ? &*slot : nullptr;
}

void Kernel::iput(uint64_t key) {
  auto it = inodes_.find(key);
  if (it == inodes_.end()) return;
  Inode& ino = it->second;
  if (!ino.unlinked || ino.open_count || ino.map_count) return;
  // The last reference to a deleted file: its page cache and its swap go with it.
  for (const auto& sw : ino.swapped) swap_free_entry(sw.second);
  for (const auto& [index, pfn] : ino.cache) {
    emit({.kind = EventKind::PageCacheRemove, .addr = index, .value = key, .pfn = pfn});
    Frame& f = mem_.frame(pfn);
    if (f.refcount) --f.refcount;
    if (f.refcount == 0) {
      mem_.free(pfn);
      emit({.kind = EventKind::FrameFree, .pfn = pfn});
    }
  }
  inodes_.erase(it);
}

SysResult Kernel::sys_openat(Pid pid, int64_t dirfd, const std::string& path, uint64_t flags, uint64_t mode) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](SysResult r) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::openat, .err = r.err});
    return r;
  };
  if (path.empty()) return finish(SysResult::fail(Errno::NoEnt));
  if (path[0] != '/' && dirfd != AT_FDCWD_) return finish(SysResult::fail(Errno::BadF));
  std::string full = path[0] == '/' ? path : "/home/user/" + path;
  auto found = lookup(full);
  if (found && (flags & O_CREAT_) && (flags & O_EXCL_)) return finish(SysResult::fail(Errno::Exist));
  if (!found && !(flags & O_CREAT_)) return finish(SysResult::fail(Errno::NoEnt));
  // The lowest free descriptor.
  size_t fd = 0;
  while (fd < p->fds.size() && p->fds[fd]) ++fd;
  if (fd >= kMaxFds) return finish(SysResult::fail(Errno::MFile));
  uint64_t key;
  if (found) {
    key = *found;
    Inode& ino = inodes_.at(key);
    if ((flags & O_TRUNC_) && (flags & O_ACCMODE_) != O_RDONLY_ && ino.kind == InodeKind::Regular)
      truncate_inode(ino, 0);
  } else {
    key = 100000 + inodes_.size();
    while (inodes_.count(key)) ++key;
    create_file(full, key, {}, static_cast<uint32_t>(mode & 07777));
    inodes_.at(key).uid = kUserUid;
  }
  inodes_.at(key).open_count++;
  if (fd >= p->fds.size()) p->fds.resize(fd + 1);
  p->fds[fd] = OpenFile{key, flags & (O_ACCMODE_ | O_APPEND_ | O_CLOEXEC_), 0};
  return finish(SysResult::ok(fd));
}

SysResult Kernel::sys_close(Pid pid, int64_t fd) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  OpenFile* f = fd_get(*p, fd);
  if (!f) {
    r = SysResult::fail(Errno::BadF);
  } else {
    uint64_t key = f->ino;
    p->fds[static_cast<size_t>(fd)].reset();
    Inode& ino = inodes_.at(key);
    if (ino.open_count) --ino.open_count;
    iput(key);
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::close, .err = r.err});
  return r;
}

bool Kernel::uaccess(Process& p, uint64_t addr, Access kind, uint8_t& byte) {
  PageTables pt = tables(p);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (addr < TASK_SIZE) {
      if (auto slot = pt.find_pte(addr)) {
        uint64_t e = pt.get(*slot);
        if ((e & _PAGE_PRESENT) && (kind == Access::Read || (e & _PAGE_RW))) {
          pt.set(*slot, e | _PAGE_ACCESSED | (kind == Access::Write ? uint64_t{_PAGE_DIRTY} : 0));
          Pfn pfn = pte_pfn(e);
          if (kind == Access::Write) {
            mem_.write_byte(pfn, addr & ~PAGE_MASK, byte);
            if (!(mem_.frame(pfn).flags & PG_anon)) mem_.frame(pfn).flags |= PG_dirty;  // as access() does
          } else {
            byte = mem_.read_byte(pfn, addr & ~PAGE_MASK);
          }
          return true;
        }
      }
    }
    if (attempt == 1) break;
    AccessResult r;
    handle_mm_fault(p, addr, kind, r, false);
    if (r.fault == FaultKind::BadArea || r.fault == FaultKind::AccessError ||
        r.fault == FaultKind::Oom || r.fault == FaultKind::SigBus)
      return false;
  }
  return false;
}

IoResult Kernel::sys_pread64(Pid pid, int64_t fd, uint64_t buf, uint64_t count, uint64_t offset, bool sink) {
  return sys_read_common(pid, fd, buf, count, &offset, sink);
}

IoResult Kernel::sys_read(Pid pid, int64_t fd, uint64_t buf, uint64_t count, bool sink) {
  return sys_read_common(pid, fd, buf, count, nullptr, sink);
}

IoResult Kernel::sys_read_common(Pid pid, int64_t fd, uint64_t buf, uint64_t count, const uint64_t* offset,
                                 bool sink) {
  IoResult out;
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) {
    out.r = SysResult::fail(Errno::Srch);
    return out;
  }
  auto finish = [&]() {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = out.r.c_value(),
          .sysno = offset ? Sysno::pread64 : Sysno::read, .err = out.r.err});
    return out;
  };
  OpenFile* f = fd_get(*p, fd);
  if (!f || !f->readable()) {
    out.r = SysResult::fail(Errno::BadF);
    return finish();
  }
  if (offset && static_cast<int64_t>(*offset) < 0) {
    out.r = SysResult::fail(Errno::Inval);
    return finish();
  }
  Inode& ino = inodes_.at(f->ino);
  if (ino.kind == InodeKind::Tty) {
    out.r = SysResult::ok(0);  // nobody types on the simulated terminal: end of file
    return finish();
  }
  uint64_t pos = offset ? *offset : f->pos;
  uint64_t end = pos >= ino.size ? pos : std::min(ino.size, pos + std::min<uint64_t>(count, 0x7ffff000));
  uint64_t done = 0;
  bool fault = false;
  uint64_t ra_left_until = 0;
  for (uint64_t at = pos; at < end && !fault;) {
    uint64_t index = at >> PAGE_SHIFT;
    uint64_t req = ((end - 1) >> PAGE_SHIFT) - index + 1;
    uint64_t ra_end = index + (index >= ra_left_until ? init_ra_size(req, kRaPages) : 1);
    ra_left_until = ra_end;
    auto pfn = filemap_get_page(ino, index, index, ra_end, nullptr);
    if (!pfn) break;
    mark_accessed(*pfn);  // filemap_read
    Pin hold(*this, *pfn);
    uint64_t page_end = std::min(end, (index + 1) << PAGE_SHIFT);
    for (; at < page_end; ++at) {
      uint8_t b = mem_.read_byte(*pfn, at & ~PAGE_MASK);
      if (!sink && !uaccess(*p, buf + (at - pos), Access::Write, b)) {
        fault = true;
        break;
      }
      out.data.push_back(b);
      ++done;
    }
  }
  if (fault && done == 0) {
    out.r = SysResult::fail(Errno::Fault);
    return finish();
  }
  if (!offset) f = fd_get(*p, fd), f->pos = pos + done;
  out.r = SysResult::ok(done);
  return finish();
}

Errno Kernel::file_io_write(Inode& ino, uint64_t pos, const std::vector<uint8_t>& data) {
  uint64_t at = pos;
  size_t i = 0;
  while (i < data.size()) {
    uint64_t index = at >> PAGE_SHIFT;
    std::optional<Pfn> pfn;
    if (auto it = ino.cache.find(index); it != ino.cache.end()) {
      pfn = it->second;
    } else {
      // A page that exists on disk is read first (unless it is overwritten whole).
      bool on_disk = ino.kind == InodeKind::Regular && ino.disk.count(index);
      pfn = page_cache_fill(ino, index, on_disk);
    }
    if (!pfn) return Errno::NoSpc;
    uint64_t page_end = (index + 1) << PAGE_SHIFT;
    for (; at < page_end && i < data.size(); ++at, ++i) mem_.write_byte(*pfn, at & ~PAGE_MASK, data[i]);
    mem_.frame(*pfn).flags |= PG_dirty;
  }
  ino.size = std::max(ino.size, pos + data.size());
  return Errno::None;
}

SysResult Kernel::sys_write(Pid pid, int64_t fd, uint64_t buf, uint64_t count, const std::vector<uint8_t>* literal) {
  return sys_write_common(pid, fd, buf, count, nullptr, literal);
}

SysResult Kernel::sys_pwrite64(Pid pid, int64_t fd, uint64_t buf, uint64_t count, uint64_t offset,
                               const std::vector<uint8_t>* literal) {
  return sys_write_common(pid, fd, buf, count, &offset, literal);
}

SysResult Kernel::sys_write_common(Pid pid, int64_t fd, uint64_t buf, uint64_t count, const uint64_t* offset,
                                   const std::vector<uint8_t>* literal) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  auto finish = [&]() {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(),
          .sysno = offset ? Sysno::pwrite64 : Sysno::write, .err = r.err});
    return r;
  };
  OpenFile* f = fd_get(*p, fd);
  if (!f || !f->writable()) {
    r = SysResult::fail(Errno::BadF);
    return finish();
  }
  if (offset && static_cast<int64_t>(*offset) < 0) {
    r = SysResult::fail(Errno::Inval);
    return finish();
  }
  // copy_from_user: stop at the first byte that cannot be read.
  std::vector<uint8_t> data;
  count = std::min<uint64_t>(count, 0x7ffff000);
  if (literal) {
    data.assign(literal->begin(), literal->begin() + static_cast<std::ptrdiff_t>(std::min<uint64_t>(count, literal->size())));
  } else {
    for (uint64_t i = 0; i < count; ++i) {
      uint8_t b = 0;
      if (!uaccess(*p, buf + i, Access::Read, b)) break;
      data.push_back(b);
    }
    if (data.empty() && count > 0) {
      r = SysResult::fail(Errno::Fault);
      return finish();
    }
  }
  f = fd_get(*p, fd);
  Inode& ino = inodes_.at(f->ino);
  if (ino.kind == InodeKind::Tty) {
    r = SysResult::ok(data.size());
    return finish();
  }
  uint64_t pos = offset ? *offset : ((f->flags & O_APPEND_) ? ino.size : f->pos);
  Errno e = file_io_write(ino, pos, data);
  if (e != Errno::None) {
    r = SysResult::fail(e);
    return finish();
  }
  if (!offset) f->pos = pos + data.size();
  r = SysResult::ok(data.size());
  return finish();
}

SysResult Kernel::sys_lseek(Pid pid, int64_t fd, int64_t offset, int64_t whence) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  OpenFile* f = fd_get(*p, fd);
  if (!f) {
    r = SysResult::fail(Errno::BadF);
  } else if (inodes_.at(f->ino).kind == InodeKind::Tty) {
    r = SysResult::fail(Errno::SPipe);
  } else {
    int64_t base = whence == SEEK_SET_ ? 0 : whence == SEEK_CUR_ ? static_cast<int64_t>(f->pos)
                 : whence == SEEK_END_ ? static_cast<int64_t>(inodes_.at(f->ino).size) : -1;
    if (whence < SEEK_SET_ || whence > SEEK_END_ || base + offset < 0) {
      r = SysResult::fail(Errno::Inval);
    } else {
      f->pos = static_cast<uint64_t>(base + offset);
      r = SysResult::ok(f->pos);
    }
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::lseek, .err = r.err});
  return r;
}

void Kernel::truncate_inode(Inode& ino, uint64_t new_size) {
  uint64_t old_pages = ino.pages();
  uint64_t keep = (new_size + kPageSize - 1) >> PAGE_SHIFT;
  if (keep < old_pages) {
    // unmap_mapping_range(even_cows): every PTE for the cut pages goes, in every
    // process, page-cache pages and private copies alike.
    for (auto& [pid, proc_] : procs_) {
      if (proc_.state != ProcState::Running) continue;
      for (auto& [s, v] : proc_.mm.vmas) {
        if (v.inode == 0 || &inodes_.at(v.inode) != &ino) continue;
        uint64_t first_idx = std::max(keep, v.pgoff);
        uint64_t last_idx = v.pgoff + v.pages();
        if (first_idx >= last_idx) continue;
        zap_range(proc_, v, v.start + ((first_idx - v.pgoff) << PAGE_SHIFT), v.end);
      }
    }
    uint64_t key = ino.kind == InodeKind::Shmem ? (1ULL << 32) + ino.ino : ino.ino;
    for (auto it = ino.cache.lower_bound(keep); it != ino.cache.end();) {
      emit({.kind = EventKind::PageCacheRemove, .addr = it->first, .value = key, .pfn = it->second});
      put_cache_ref(it->second);
      it = ino.cache.erase(it);
    }
    ino.disk.erase(ino.disk.lower_bound(keep), ino.disk.end());
    for (auto it = ino.swapped.lower_bound(keep); it != ino.swapped.end(); it = ino.swapped.erase(it))
      swap_free_entry(it->second);
  }
  // The tail of the last page beyond the new size reads as zeros from now on.
  if (new_size & ~PAGE_MASK) {
    uint64_t last = new_size >> PAGE_SHIFT;
    if (auto it = ino.cache.find(last); it != ino.cache.end())
      for (uint64_t o = new_size & ~PAGE_MASK; o < kPageSize; ++o) mem_.write_byte(it->second, o, 0);
    if (auto d = ino.disk.find(last); d != ino.disk.end())
      std::fill(d->second.mut() + (new_size & ~PAGE_MASK), d->second.mut() + kPageSize, 0);
  }
  ino.size = new_size;
}

void Kernel::put_cache_ref(Pfn pfn) {
  Frame& f = mem_.frame(pfn);
  if (f.refcount) --f.refcount;
  if (f.refcount == 0) {
    mem_.free(pfn);
    emit({.kind = EventKind::FrameFree, .pfn = pfn});
  } else {
    // Still mapped somewhere (a page truncated away stays with whoever maps it until
    // they unmap it; zap above removed every mapping, so this does not happen).
    f.owner = FrameOwner::Anon;
  }
}

SysResult Kernel::sys_ftruncate(Pid pid, int64_t fd, int64_t length) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  OpenFile* f = fd_get(*p, fd);
  if (length < 0) {
    r = SysResult::fail(Errno::Inval);
  } else if (!f) {
    r = SysResult::fail(Errno::BadF);
  } else if (!f->writable() || inodes_.at(f->ino).kind == InodeKind::Tty) {
    r = SysResult::fail(Errno::Inval);
  } else {
    truncate_inode(inodes_.at(f->ino), static_cast<uint64_t>(length));
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::ftruncate, .err = r.err});
  return r;
}

SysResult Kernel::sys_fstat(Pid pid, int64_t fd, StatResult* st) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  OpenFile* f = fd_get(*p, fd);
  if (!f) {
    r = SysResult::fail(Errno::BadF);
  } else {
    const Inode& ino = inodes_.at(f->ino);
    st->mode = (ino.kind == InodeKind::Tty ? S_IFCHR_ : S_IFREG_) | ino.mode;
    st->size = ino.size;
    st->ino = ino.ino;
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::fstat, .err = r.err});
  return r;
}

SysResult Kernel::sys_unlink(Pid pid, const std::string& path) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  SysResult r = SysResult::ok(0);
  std::string full = !path.empty() && path[0] == '/' ? path : "/home/user/" + path;
  auto found = lookup(full);
  if (!found) {
    r = SysResult::fail(Errno::NoEnt);
  } else {
    names_.erase(full);
    inodes_.at(*found).unlinked = true;
    iput(*found);
  }
  emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::unlink, .err = r.err});
  return r;
}

SysResult Kernel::sys_memfd_create(Pid pid, const std::string& name, uint64_t flags) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](SysResult r) {
    emit({.kind = EventKind::Syscall, .pid = pid, .value = r.c_value(), .sysno = Sysno::memfd_create, .err = r.err});
    return r;
  };
  // MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL, MFD_EXEC
  if (flags & ~uint64_t{0x1 | 0x2 | 0x4 | 0x8 | 0x10}) return finish(SysResult::fail(Errno::Inval));
  if (name.size() > 249) return finish(SysResult::fail(Errno::Inval));
  size_t fd = 0;
  while (fd < p->fds.size() && p->fds[fd]) ++fd;
  if (fd >= kMaxFds) return finish(SysResult::fail(Errno::MFile));
  auto key = shmem_zero_setup(0, false);
  Inode& ino = inodes_.at(*key);
  ino.path = "/memfd:" + name;
  ino.mode = 0777;
  ino.open_count = 1;
  if (fd >= p->fds.size()) p->fds.resize(fd + 1);
  p->fds[fd] = OpenFile{*key, O_RDWR_, 0};
  return finish(SysResult::ok(fd));
}

// ---- msync ----

void Kernel::writeback_range(Inode& ino, uint64_t first, uint64_t last) {
  // filemap_write_and_wait_range: folio_clear_dirty_for_io + page_mkclean on each dirty
  // page (every mapping is cleaned and write-protected, so the next write is seen
  // again), then the page goes to disk. One pass over the mappings, not one per page.
  std::vector<uint64_t> dirty;
  for (auto it = ino.cache.lower_bound(first); it != ino.cache.end() && it->first < last; ++it)
    if (mem_.frame(it->second).flags & PG_dirty) dirty.push_back(it->first);
  if (dirty.empty()) return;
  uint64_t key = ino.kind == InodeKind::Shmem ? (1ULL << 32) + ino.ino : ino.ino;
  for (auto& entry : procs_) {
    Process& pr = entry.second;  // named locals: clang's lambdas cannot capture bindings
    if (pr.state != ProcState::Running) continue;
    for (auto& vma_entry : pr.mm.vmas) {
      const Vma& v = vma_entry.second;
      if (!(v.flags & VM_SHARED) || v.inode != key) continue;
      uint64_t lo = std::max(first, v.pgoff), hi = std::min(last, v.pgoff + v.pages());
      if (lo >= hi) continue;
      PageTables pt = tables(pr);
      pt.for_each_pte(v.start + ((lo - v.pgoff) << PAGE_SHIFT), v.start + ((hi - v.pgoff) << PAGE_SHIFT),
                      [&](uint64_t a, PteSlot slot, uint64_t e) {
                        uint64_t idx = v.pgoff + ((a - v.start) >> PAGE_SHIFT);
                        auto c = ino.cache.find(idx);
                        if (!(e & _PAGE_PRESENT) || c == ino.cache.end() || c->second != pte_pfn(e)) return;
                        if (!(mem_.frame(c->second).flags & PG_dirty) || !(e & (_PAGE_DIRTY | _PAGE_RW))) return;
                        set_pte(pr, slot, a, e & ~uint64_t{_PAGE_DIRTY | _PAGE_RW});
                      });
    }
  }
  for (uint64_t index : dirty) {
    Pfn pfn = ino.cache.at(index);
    Frame& fr = mem_.frame(pfn);
    fr.flags &= ~uint32_t{PG_dirty};
    if (fr.data.empty()) ino.disk.erase(index);
    else ino.disk[index] = fr.data;
    emit({.kind = EventKind::Writeback, .addr = index, .value = key, .pfn = pfn});
  }
}

SysResult Kernel::sys_msync(Pid pid, uint64_t start, uint64_t len, uint64_t flags) {
  Process* p = enter(pid);
  if (!p || p->state != ProcState::Running) return SysResult::fail(Errno::Srch);
  auto finish = [&](Errno e) { return syscall_done(pid, Sysno::msync, e); };
  // mm/msync.c
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return finish(Errno::Inval);
  if (offset_in_page(start)) return finish(Errno::Inval);
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return finish(Errno::Inval);
  len = page_align(len);
  uint64_t end = start + len;
  if (end < start) return finish(Errno::NoMem);
  if (end == start) return finish(Errno::None);
  Errno unmapped = Errno::None;
  const Vma* v = p->mm.find_vma(start);
  while (true) {
    if (!v) return finish(Errno::NoMem);
    if (start < v->start) {
      // A hole: ENOMEM, at once for MS_ASYNC or when nothing mapped is left.
      if (flags == MS_ASYNC) return finish(Errno::NoMem);
      start = v->start;
      if (start >= end) return finish(Errno::NoMem);
      unmapped = Errno::NoMem;
    }
    if ((flags & MS_INVALIDATE) && (v->flags & VM_LOCKED)) return finish(Errno::Busy);
    uint64_t vend = v->end;
    // vfs_fsync_range: tmpfs (shared anonymous memory, memfd) has nothing to write.
    if ((flags & MS_SYNC) && v->inode && (v->flags & VM_SHARED) &&
        inodes_.at(v->inode).kind == InodeKind::Regular) {
      Inode& ino = inodes_.at(v->inode);
      uint64_t first = v->pgoff + ((start - v->start) >> PAGE_SHIFT);
      uint64_t last = v->pgoff + ((std::min(end, vend) - v->start) >> PAGE_SHIFT);
      // vfs_fsync_range over the file range; PTE dirty bits move to the page first.
      PageTables pt = tables(*p);
      pt.for_each_pte(start, std::min(end, vend), [&](uint64_t, PteSlot, uint64_t e) {
        if (pte_present(e) && (e & _PAGE_DIRTY)) mem_.frame(pte_pfn(e)).flags |= PG_dirty;
      });
      writeback_range(ino, first, last);
    }
    start = vend;
    if (start >= end) break;
    v = p->mm.find_vma(start);
  }
  return finish(unmapped);
}

}  // namespace vmplay::engine
