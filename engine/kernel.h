// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// It links neither SDL nor ImGui; the shell and the front ends sit on top of it.
//
// Kernel is the whole simulated machine: physical memory, processes with their
// address spaces and page tables, the fault handler, the system calls and the /proc
// views. State is values: copying a Kernel is a snapshot.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/errno.h"
#include "engine/events.h"
#include "engine/fs.h"
#include "engine/pagetable.h"
#include "engine/physmem.h"
#include "engine/swap.h"
#include "engine/types.h"
#include "engine/vma.h"

namespace vmplay::engine {

// mmap's prot and flags bits, with Linux's values.
enum : uint64_t {
  PROT_NONE = 0x0,
  PROT_READ = 0x1,
  PROT_WRITE = 0x2,
  PROT_EXEC = 0x4,
  PROT_GROWSDOWN = 0x01000000,
  PROT_GROWSUP = 0x02000000,
};
enum : uint64_t {
  MAP_SHARED = 0x01,
  MAP_PRIVATE = 0x02,
  MAP_SHARED_VALIDATE = 0x03,
  MAP_TYPE = 0x0f,
  MAP_FIXED = 0x10,
  MAP_ANONYMOUS = 0x20,
  MAP_GROWSDOWN = 0x0100,
  MAP_DENYWRITE = 0x0800,
  MAP_EXECUTABLE = 0x1000,
  MAP_LOCKED = 0x2000,
  MAP_NORESERVE = 0x4000,
  MAP_POPULATE = 0x8000,
  MAP_NONBLOCK = 0x10000,
  MAP_STACK = 0x20000,
  MAP_HUGETLB = 0x40000,
  MAP_SYNC = 0x80000,
  MAP_FIXED_NOREPLACE = 0x100000,
  MAP_UNINITIALIZED_ = 0x4000000,
};
// The flags MAP_SHARED has always accepted (LEGACY_MAP_MASK).
constexpr uint64_t LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE |
                                     MAP_EXECUTABLE | MAP_UNINITIALIZED_ | MAP_GROWSDOWN | MAP_LOCKED |
                                     MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;

// madvise advice values.
enum : int64_t {
  MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3, MADV_DONTNEED = 4,
  MADV_FREE = 8, MADV_REMOVE = 9, MADV_DONTFORK = 10, MADV_DOFORK = 11, MADV_MERGEABLE = 12,
  MADV_UNMERGEABLE = 13, MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_DONTDUMP = 16,
  MADV_DODUMP = 17, MADV_WIPEONFORK = 18, MADV_KEEPONFORK = 19, MADV_COLD = 20, MADV_PAGEOUT = 21,
  MADV_POPULATE_READ = 22, MADV_POPULATE_WRITE = 23, MADV_DONTNEED_LOCKED = 24, MADV_COLLAPSE = 25,
};
// Advice Linux accepts, and the subset vmplay models (the rest: KSM merging, THP
// hints and collapse, MADV_DONTNEED_LOCKED and the populate calls are refused with EINVAL).
bool madvise_behavior_valid(int64_t advice);
bool madvise_behavior_modelled(int64_t advice);

struct MmapArgs {
  uint64_t addr = 0;
  uint64_t len = 0;
  uint64_t prot = 0;
  uint64_t flags = 0;
  int64_t fd = -1;
  uint64_t off = 0;
};

enum class ProcState : uint8_t { Running, Zombie };

struct Process {
  Pid pid = 0;
  Pid ppid = 0;
  std::string comm;
  ProcState state = ProcState::Running;
  int32_t exit_signal = 0;  // the signal that killed it, or 0
  int32_t exit_status = 0;
  Mm mm;
  std::vector<std::optional<OpenFile>> fds;  // the file descriptor table
};

// The outcome of one user-mode memory access (a load or a store of one byte).
struct AccessResult {
  bool ok = false;            // the access completed
  uint8_t value = 0;          // the byte read (or written)
  FaultKind fault = FaultKind::None;  // what the fault handler did, if it ran
  bool killed = false;        // the process died of a signal
  int32_t signo = 0;
  int32_t si_code = 0;
};

// The outcome of read()/pread64(): the result and the bytes read (for strace's
// display of the buffer).
struct IoResult {
  SysResult r;
  std::vector<uint8_t> data;
};

// mremap flags.
enum : uint64_t { MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4 };

// mlock2 and mlockall flags.
enum : uint64_t { MLOCK_ONFAULT = 1, MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4 };

// msync flags.
enum : uint64_t { MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4 };

struct KernelConfig {
  PhysConfig phys;                      // RAM size
  uint64_t mmap_min_addr = 0x10000;     // CONFIG_LSM_MMAP_MIN_ADDR's default
  uint64_t max_map_count = 65530;       // vm.max_map_count
  uint32_t max_processes = 64;          // RLIMIT_NPROC for the simulated user
  // Address-space layout randomization: off (as under setarch -R) unless a seed is
  // given; with one, execve draws its offsets from a deterministic generator, so the
  // same seed gives the same layout on every build.
  std::optional<uint64_t> aslr_seed;
  // Memory pressure.
  uint64_t swap_pages = 0;         // size of the swap file in pages (0: no swap)
  int overcommit_memory = 0;       // vm.overcommit_memory: 0 heuristic, 1 always, 2 never
  uint64_t overcommit_ratio = 50;  // vm.overcommit_ratio (mode 2)
  uint64_t swappiness = 60;        // vm.swappiness
};

// /proc/vmstat's event counters that the model keeps (mm/vmstat.c names).
struct VmEvents {
  uint64_t pgpgin = 0, pgpgout = 0, pswpin = 0, pswpout = 0, pgalloc_normal = 0, allocstall_normal = 0,
           pgfree = 0, pgactivate = 0, pgdeactivate = 0, pglazyfree = 0, pgfault = 0, pgmajfault = 0,
           pglazyfreed = 0, pgrefill = 0, pgreuse = 0, pgsteal_kswapd = 0, pgsteal_direct = 0,
           pgscan_kswapd = 0, pgscan_direct = 0, pgscan_anon = 0, pgscan_file = 0, pgsteal_anon = 0,
           pgsteal_file = 0, pageoutrun = 0, pgrotated = 0, oom_kill = 0, nr_vmscan_write = 0,
           unevictable_pgs_culled = 0, swpin_zero = 0, swpout_zero = 0;
};

// The zone watermarks in pages (mm/page_alloc.c __setup_per_zone_wmarks).
struct Watermarks {
  uint64_t min = 0, low = 0, high = 0;
};

// What the OOM killer printed when it killed a process (the dmesg line's numbers).
struct OomReport {
  Pid pid = 0;
  std::string comm;
  uint64_t points = 0;  // oom_badness
  uint64_t total_vm = 0, anon_rss = 0, file_rss = 0, shmem_rss = 0, pgtables = 0;  // pages
};

class Kernel : public FrameSource {
 public:
  explicit Kernel(KernelConfig cfg = {});

  // ---- processes ----
  // Creates a process with an empty address space: a PGD and nothing mapped.
  // Returns nullopt when no frame is free for its page table.
  std::optional<Pid> spawn(const std::string& comm);
  const Process* process(Pid pid) const;
  std::vector<Pid> pids() const;

  // ---- system calls (Linux's checks, in Linux's order) ----
  SysResult sys_mmap(Pid pid, const MmapArgs& a);
  SysResult sys_munmap(Pid pid, uint64_t addr, uint64_t len);
  SysResult sys_mprotect(Pid pid, uint64_t addr, uint64_t len, uint64_t prot);
  SysResult sys_mremap(Pid pid, uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t flags,
                       uint64_t new_addr);
  SysResult sys_madvise(Pid pid, uint64_t addr, uint64_t len, int64_t advice);
  // mlock (which = Sysno::mlock), mlock2 (flags: MLOCK_ONFAULT) and munlock.
  SysResult sys_mlock(Pid pid, uint64_t addr, uint64_t len, uint64_t flags, Sysno which);
  SysResult sys_mlockall(Pid pid, uint64_t flags);
  SysResult sys_munlockall(Pid pid);
  // mincore: the residency vector goes to user memory at vec (and to `shown`).
  SysResult sys_mincore(Pid pid, uint64_t addr, uint64_t len, uint64_t vec, std::vector<uint8_t>* shown);
  SysResult sys_getpid(Pid pid);
  // execve: replaces the address space with a new program image. Only
  // /home/user/a.out has a layout the model knows (ENOEXEC for other files).
  SysResult sys_execve(Pid pid, const std::string& path);
  // brk: returns the new break, or the old one when the request cannot be met.
  SysResult sys_brk(Pid pid, uint64_t brk);
  // fork(): a child with a copy of the address space; private pages are shared
  // copy-on-write. Returns the child's pid to the parent.
  SysResult sys_fork(Pid pid);
  // exit_group(status): releases the address space; the process stays a zombie
  // until its parent reaps it with wait4.
  void sys_exit_group(Pid pid, int32_t status);
  // wait4(target, ...): reaps a zombie child (target -1: any). nullopt when the call
  // would block because the children it could wait for are all still running.
  std::optional<SysResult> sys_wait4(Pid pid, Pid target);
  // kill(target, sig): every signal here has the default action of ending the process
  // (0 only checks that the target exists).
  SysResult sys_kill(Pid pid, Pid target, int32_t sig);

  SysResult sys_msync(Pid pid, uint64_t addr, uint64_t len, uint64_t flags);

  // ---- files ----
  SysResult sys_openat(Pid pid, int64_t dirfd, const std::string& path, uint64_t flags, uint64_t mode);
  SysResult sys_close(Pid pid, int64_t fd);
  // read(fd, buf, count): bytes go to user memory at buf (faulting it in; EFAULT
  // where nothing is mapped). pread64 reads at `offset` without moving the position.
  // `sink`: the bytes go nowhere (a replayed log does not say where they went).
  IoResult sys_read(Pid pid, int64_t fd, uint64_t buf, uint64_t count, bool sink = false);
  IoResult sys_pread64(Pid pid, int64_t fd, uint64_t buf, uint64_t count, uint64_t offset, bool sink = false);
  // write(fd, buf, count): bytes come from user memory at buf, or from `literal`
  // when the line gave the bytes themselves (as strace prints them).
  SysResult sys_write(Pid pid, int64_t fd, uint64_t buf, uint64_t count,
                      const std::vector<uint8_t>* literal = nullptr);
  SysResult sys_pwrite64(Pid pid, int64_t fd, uint64_t buf, uint64_t count, uint64_t offset,
                         const std::vector<uint8_t>* literal = nullptr);
  SysResult sys_lseek(Pid pid, int64_t fd, int64_t offset, int64_t whence);
  SysResult sys_ftruncate(Pid pid, int64_t fd, int64_t length);
  SysResult sys_fstat(Pid pid, int64_t fd, StatResult* st);
  SysResult sys_unlink(Pid pid, const std::string& path);
  SysResult sys_memfd_create(Pid pid, const std::string& name, uint64_t flags);
  const std::map<uint64_t, Inode>& inodes() const { return inodes_; }
  const Inode* inode(uint64_t ino) const;
  std::optional<uint64_t> lookup(const std::string& path) const;
  // What `cat FILE` would print: the file read through the page cache (which it fills).
  std::optional<std::string> read_whole_file(const std::string& path);
  // Adds a file to the simulated disk (used at boot and by tests).
  uint64_t create_file(const std::string& path, uint64_t ino, const std::vector<uint8_t>& contents,
                       uint32_t mode = 0644);

  // ---- user-mode memory access: walks the page tables, faults when needed ----
  // store false: a write access that faults like one but leaves the byte as it was
  // (touching a page for writing).
  AccessResult access(Pid pid, uint64_t addr, Access kind, uint8_t value = 0, bool store = true);

  // ---- views ----
  const PhysMem& phys() const { return mem_; }
  Walk walk(Pid pid, uint64_t addr) const;
  // Reads user memory without faulting (as a tracer sees it): nullopt unless every
  // byte is in a present, readable page.
  std::optional<std::vector<uint8_t>> peek(Pid pid, uint64_t addr, uint64_t n) const;
  // /proc/PID/maps, smaps and status, byte for byte as Linux prints them
  // (status: the identity and memory lines). nullopt when there is no such process.
  std::optional<std::string> proc_maps(Pid pid) const;
  // The name /proc/PID/maps shows for a VMA: a path, [heap], [stack], [vdso], or "".
  std::string vma_name(const Process& p, const Vma& v) const;
  std::optional<std::string> proc_smaps(Pid pid) const;
  std::optional<std::string> proc_status(Pid pid) const;
  // /proc/PID/pagemap: the 64-bit entry for the page at addr (PFN in bits 0-54,
  // soft-dirty 55, exclusively mapped 56, file or shared-anon 61, swapped 62, present 63).
  std::optional<uint64_t> pagemap_entry(Pid pid, uint64_t addr) const;
  // /proc/meminfo: the lines the model computes, in the kernel's order and format.
  std::string proc_meminfo() const;
  // Every present-or-encoded PTE of a process, in address order.
  struct PteView {
    uint64_t addr;
    uint64_t entry;
  };
  std::vector<PteView> ptes(Pid pid) const;
  // Only those for addresses in [start, end).
  std::vector<PteView> ptes(Pid pid, uint64_t start, uint64_t end) const;
  // The reverse map of a frame: every process and virtual address whose PTE maps it,
  // found by walking every running process's page tables (exact, but not cheap).
  struct Mapper {
    Pid pid;
    uint64_t addr;
  };
  std::vector<Mapper> mappers(Pfn pfn) const;

  // ---- memory pressure ----
  const SwapArea& swap() const { return swap_; }
  const VmEvents& vm_events() const { return vm_; }
  Watermarks watermarks() const;
  // vm_commit_limit() and vm_committed_as, in pages.
  uint64_t commit_limit() const;
  uint64_t committed_pages() const;
  // Pages by use, counted over the frame table once (what meminfo and vmstat report).
  struct PageCounts {
    uint64_t total = 0;       // every frame but the reserved ones (MemTotal)
    uint64_t cache = 0;       // page cache and tmpfs pages (swap cache not included)
    uint64_t dirty = 0, anon = 0, mapped = 0, shmem = 0, pagetables = 0, mlocked = 0, swapcached = 0;
  };
  PageCounts count_pages() const;
  // /proc/vmstat: the counters and events the model keeps, in the kernel's order.
  std::string proc_vmstat() const;
  // /proc/swaps: the swap file (/swapfile) once swap is configured, else the header.
  std::string proc_swaps() const;
  // Every OOM kill so far, oldest first (an OomKill event's value indexes it).
  const std::vector<OomReport>& oom_reports() const { return oom_log_; }
  // oom_badness for a running process (rss + swap entries + page-table pages).
  uint64_t oom_badness(Pid pid) const;
  // /proc/PID/oom_score: badness scaled to 0..1000 of RAM + swap.
  std::optional<uint64_t> oom_score(Pid pid) const;
  // vm.overcommit_memory and vm.overcommit_ratio can change at run time (sysctl).
  void set_overcommit(int mode, uint64_t ratio) {
    cfg_.overcommit_memory = mode;
    cfg_.overcommit_ratio = ratio;
  }
  // The last charge the overcommit policy refused (for the shell to explain an ENOMEM).
  struct CommitRefusal {
    uint64_t seq = 0;  // event_seq() when it happened
    uint64_t pages = 0, limit = 0, committed = 0;
    int mode = 0;
  };
  const std::optional<CommitRefusal>& last_commit_refusal() const { return commit_refusal_; }
  // Position of a frame on its LRU list, counted from the tail (0 = reclaimed next).
  uint64_t lru_position(Pfn pfn) const;
  // Every process and address whose PTE holds a swap entry for `slot`.
  std::vector<Mapper> swap_mappers(uint64_t slot) const;
  // The frame allocator with watermarks, kswapd, direct reclaim and the OOM killer.
  std::optional<Pfn> alloc_frame(FrameOwner owner, uint64_t owner_id, uint64_t index, uint32_t flags) override;

  // ---- events ----
  const std::vector<Event>& events() const { return events_; }
  std::vector<Event> drain_events();
  // The same, into a buffer the caller keeps: its old contents are dropped and its
  // storage becomes the log's, so a long session reuses one buffer instead of growing a
  // new one (and having the host zero its pages) for every command.
  void drain_events(std::vector<Event>& into);
  void clear_events();
  uint64_t event_seq() const { return seq_; }

  // ---- invariants: empty when coherent, otherwise one line per violation ----
  std::vector<std::string> check_invariants() const;

  // ---- test hooks ----
  void fail_next_frame_allocs(uint32_t n, uint32_t after = 0) { mem_.fail_next_allocs(n, after); }
  const KernelConfig& config() const { return cfg_; }

 private:
  Process* proc(Pid pid);
  PageTables tables(Process& p);
  PageTables tables(const Process& p) const;
  // Appends to the event log. Every PTE change logs one, so it is forced inline (clang,
  // which builds the wasm, otherwise calls it, and each event is built on the stack in
  // linear memory and copied), and the log's growth is a call of its own.
  __attribute__((always_inline)) void emit(const Event& e) {
    if (events_.size() == events_.capacity()) grow_events();
    events_.push_back(e);
    events_.back().seq = ++seq_;
    if (e.kind == EventKind::Syscall && oom_pending_ && e.pid == oom_pending_) kill_oom_pending();
  }
  __attribute__((noinline)) void grow_events() { events_.reserve(events_.capacity() < 1024 ? 1024 : 2 * events_.capacity()); }
  // A process the OOM killer chose during its own call dies as the call returns.
  void kill_oom_pending();
  // Records a system call that returns 0 or an errno, and returns its result.
  SysResult syscall_done(Pid pid, Sysno sysno, Errno e);

  // do_mmap: everything after the descriptor lookup (also used by execve).
  SysResult do_mmap(Process& p, const MmapArgs& a, const OpenFile* file);
  uint64_t get_unmapped_area(const Mm& mm, uint64_t addr, uint64_t len, uint64_t flags,
                             Errno& err, bool thp_align = false) const;
  uint64_t unmapped_area_topdown(const Mm& mm, uint64_t len, uint64_t low, uint64_t high) const;

  // Splits the VMA at `start` so that a VMA begins at addr. Returns false if the
  // map count limit forbids it.
  bool split_vma(Process& p, uint64_t vma_start, uint64_t addr);
  // Unmaps [start, end), which must be page aligned (do_vmi_munmap).
  Errno do_munmap(Process& p, uint64_t start, uint64_t end);
  // vma_modify_flags: gives [start, end) of the VMA at vma_start new vm_flags,
  // merging with a neighbour or splitting exactly as Linux does. Returns the start
  // of the VMA that now holds the range, or an errno (ENOMEM at vm.max_map_count).
  struct ModifyResult {
    Errno err = Errno::None;
    uint64_t vma_start = 0;
  };
  ModifyResult vma_modify_flags(Process& p, uint64_t vma_start, uint64_t start, uint64_t end,
                                uint64_t new_flags);
  // anon_vma_prepare's reuse of an adjacent VMA's anon_vma (find_mergeable_anon_vma).
  std::optional<uint64_t> find_mergeable_anon_vma(const Mm& mm, const Vma& v) const;
  // change_protection over [start, end) of VMA v after its flags changed.
  void change_protection(Process& p, const Vma& v, uint64_t start, uint64_t end);
  void zap_range(Process& p, const Vma& v, uint64_t start, uint64_t end);
  void vm_stat_account(Mm& mm, uint64_t flags, int64_t pages);

  // `user` false: a kernel access on the process's behalf (copy_to/from_user): a bad
  // address fails the access instead of raising a signal.
  void handle_mm_fault(Process& p, uint64_t addr, Access kind, AccessResult& r, bool user = true);
  bool expand_stack(Process& p, uint64_t addr);
  Errno mm_populate(Process& p, uint64_t start, uint64_t len, bool ignore_errors);
  Errno mlock_fixup(Process& p, uint64_t vma_start, uint64_t start, uint64_t end, uint64_t new_flags,
                    uint64_t& next);
  Errno apply_vma_lock_flags(Process& p, uint64_t start, uint64_t len, uint64_t flags);
  // move_vma: [old_start, +old_len), one whole VMA, to new_addr (new_len long).
  uint64_t move_vma(Process& p, uint64_t old_start, uint64_t old_len, uint64_t new_addr, uint64_t new_len,
                    bool dontunmap, Errno& err);
  void do_special_fault(Process& p, Vma& vma, uint64_t addr, Access kind, AccessResult& r, bool user);
  Errno map_elf(Process& p, uint64_t ino, uint64_t base, const void* segments, size_t n);
  void do_file_fault(Process& p, Vma& vma, uint64_t addr, Access kind, AccessResult& r, bool user);
  // Records what the fault handler did (level 1: a major fault).
  void fault_event(Process& p, uint64_t addr, Access kind, AccessResult& r, FaultKind k, Pfn pfn,
                   uint64_t value = 0, int32_t level = 0);
  // VM_FAULT_OOM: from user mode, pagefault_out_of_memory -> the OOM killer. With
  // one candidate per fault in this model, the faulting process is the victim.
  void fault_oom(Process& p, uint64_t addr, Access kind, AccessResult& r, bool user);
  // The page-cache page at `index`, reading it in (with readahead) when missing.
  // `major` says whether the disk was read. nullopt when no frame could be had.
  std::optional<Pfn> filemap_get_page(Inode& ino, uint64_t index, uint64_t ra_start, uint64_t ra_end,
                                      bool* major);
  std::optional<Pfn> page_cache_fill(Inode& ino, uint64_t index, bool from_disk);
  void map_file_page(Process& p, const Vma& v, const Inode& ino, PteSlot slot, uint64_t addr, Pfn pfn, bool write);
  uint64_t& rss_counter(Mm& mm, const Frame& f);
  bool uaccess(Process& p, uint64_t addr, Access kind, uint8_t& byte);
  std::optional<Pfn> alloc_anon_page(Process& p, Vma& vma, uint64_t page);
  void put_cache_ref(Pfn pfn);
  IoResult sys_read_common(Pid pid, int64_t fd, uint64_t buf, uint64_t count, const uint64_t* offset, bool sink);
  SysResult sys_write_common(Pid pid, int64_t fd, uint64_t buf, uint64_t count, const uint64_t* offset,
                             const std::vector<uint8_t>* literal);
  Errno file_io_write(Inode& ino, uint64_t pos, const std::vector<uint8_t>& data);
  void writeback_range(Inode& ino, uint64_t first, uint64_t last);
  void truncate_inode(Inode& ino, uint64_t new_size);
  void iput(uint64_t ino);
  OpenFile* fd_get(Process& p, int64_t fd);
  std::optional<uint64_t> shmem_zero_setup(uint64_t len, bool accounted = true);
  void force_sig_fault(Process& p, int signo, int code, uint64_t addr, AccessResult& r);
  void kill_process(Process& p, int signo);
  void exit_mm(Process& p);
  void exit_files(Process& p);
  void forget_original_parent(const Process& p);
  // Drops a reference (and a mapping, with the RSS counter it was counted in).
  void put_page(Process& p, Pfn pfn, bool was_mapped);
  void set_pte(Process& p, PteSlot slot, uint64_t addr, uint64_t e);
  void clear_pte(Process& p, PteSlot slot, uint64_t addr);

  // ---- reclaim (reclaim.cpp) ----
  struct ScanControl {
    bool kswapd = false;
    bool ignore_references = false;  // MADV_PAGEOUT
    uint64_t scanned = 0, reclaimed = 0;
  };
  Process* enter(Pid pid);
  bool pinned(Pfn pfn) const;
  // Keeps a frame out of reclaim while an operation holds it (Linux: a reference).
  struct Pin {
    Kernel& k;
    Pin(Kernel& kernel, Pfn pfn) : k(kernel) { k.pins_.push_back(pfn.value); }
    ~Pin() { k.pins_.pop_back(); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
  };
  LruList lru_for(const Frame& f, bool active) const;
  void lru_putback(Pfn pfn);
  void lru_new_page(Pfn pfn, const Vma* v);
  void mark_accessed(Pfn pfn);
  uint64_t anon_root(uint64_t anon) const;
  bool anon_related(uint64_t vma_anon, uint64_t page_anon) const;
  // rmap_walk: calls fn(Process&, const Vma&, addr, PteSlot, entry) for every PTE that
  // maps the frame (anon: through the anon_vma chain; file: the inode's mappings).
  template <typename F>
  void rmap_walk(Pfn pfn, F&& fn);
  int folio_referenced(Pfn pfn, uint64_t& vm_flags);
  bool try_to_unmap(Pfn pfn);
  bool add_to_swap(Pfn pfn);
  void delete_from_swap_cache(Pfn pfn);
  void swap_free_entry(uint64_t slot);
  // Where a page that was not reclaimed goes back: its inactive list, the active one,
  // or the inactive list's tail (written to swap: reclaimed on the next look).
  enum class Putback : uint8_t { Inactive, Activate, Rotate };
  bool reclaim_folio(Pfn pfn, ScanControl& sc, Putback& back);
  void putback(Pfn pfn, Putback back);
  void shrink_active_list(LruList list, uint64_t nr, ScanControl& sc);
  void shrink_inactive_list(LruList list, uint64_t nr, ScanControl& sc);
  uint64_t shrink_node(uint64_t target, ScanControl& sc);
  void kswapd();
  bool out_of_memory();
  bool vm_enough_memory(const Mm& mm, uint64_t pages);
  // do_swap_page; returns false when the fault ended the access (OOM).
  bool do_swap_page(Process& p, Vma& vma, uint64_t addr, PteSlot slot, uint64_t e, Access kind, AccessResult& r,
                    bool user);
  std::optional<Pfn> shmem_swapin(Inode& ino, uint64_t index);
  void count_swapin(const PageData& d);
  void madvise_cold_pageout(Process& p, const Vma& v, uint64_t start, uint64_t end, bool pageout);
  void madvise_free(Process& p, const Vma& v, uint64_t start, uint64_t end);
  void madvise_willneed_anon(Process& p, const Vma& v, uint64_t start, uint64_t end);
  Errno madvise_remove(Process& p, const Vma& v, uint64_t start, uint64_t end);
  void punch_hole(Inode& ino, uint64_t first, uint64_t last);

  KernelConfig cfg_;
  PhysMem mem_;
  SwapArea swap_;
  VmEvents vm_;
  std::map<uint64_t, uint64_t> anon_parent_;  // anon_vma chain: a forked child's anon id -> its parent's
  std::vector<uint64_t> pins_;
  Pid current_ = 0;        // the process whose call or access is running (0: none)
  Pid oom_pending_ = 0;    // chosen by the OOM killer mid-call: dies when the call returns
  Pid constructing_ = 0;   // a child fork is still building: not an OOM victim
  bool in_reclaim_ = false;
  Watermarks compute_watermarks() const;
  Watermarks wm_;  // fixed at boot: RAM does not change
  uint32_t kswapd_failures_ = 0;  // balance runs in a row that reclaimed nothing
  std::vector<OomReport> oom_log_;
  std::optional<CommitRefusal> commit_refusal_;
  // access()'s one-entry cache of the PTE table for a 2 MiB region (see there).
  struct TableTlb {
    Pid pid = 0;
    uint64_t region = ~0ULL;
    uint64_t generation = ~0ULL;
    Pfn table;
  };
  TableTlb tlb_;
  std::map<Pid, Process> procs_;
  std::map<uint64_t, Inode> inodes_;
  std::map<std::string, uint64_t> names_;  // path -> inode
  uint64_t next_shmem_ino_ = 1;
  Pid next_pid_ = 1;
  uint64_t next_anon_id_ = 1;
  uint64_t rng_state_ = 0;  // splitmix64, for ASLR
  uint64_t get_random_long();
  std::vector<Event> events_;
  uint64_t seq_ = 0;
};

// arch/x86/mm/mmap.c mmap_base(): without randomization, or with a random offset.
uint64_t legacy_mmap_base(uint64_t rnd = 0);
// The same search as get_unmapped_area's top-down one, by walking every VMA down
// from `high`: O(n). Kept as the reference the indexed search is tested against.
uint64_t unmapped_area_linear(const Mm& mm, uint64_t len, uint64_t low, uint64_t high);
// vm_start_gap: where the free gap below a VMA ends (a stack keeps its guard gap).
uint64_t vm_start_gap(const Vma& v);

// Linux's vm_get_page_prot for x86-64: the PTE protection bits for vm_flags.
uint64_t vm_get_page_prot(uint64_t vm_flags);

}  // namespace vmplay::engine
