// Memory pressure: LRU lists, watermarks, kswapd and direct reclaim, swap, the OOM
// killer, overcommit and the advice that works on the LRU. Every step checks the
// invariants (a swapped page is in exactly one place; slot counts match the PTEs and
// the swap cache that name them; the LRU lists hold exactly the user pages).
#include <doctest/doctest.h>

#include <string>

#include "tests/engine/world.h"

using namespace vmplay::test;

namespace {
constexpr uint64_t P = 4096;
constexpr uint64_t RW = PROT_READ | PROT_WRITE;

KernelConfig machine(uint64_t frames, uint64_t swap_pages, int overcommit = 0) {
  KernelConfig cfg;
  cfg.phys.frames = frames;
  cfg.swap_pages = swap_pages;
  cfg.overcommit_memory = overcommit;
  return cfg;
}

uint64_t pte_at(World& w, uint64_t addr, Pid pid = 0) { return w.k.walk(pid ? pid : w.pid, addr).pte(); }

const Frame& frame_at(World& w, uint64_t addr) { return w.k.phys().frame(pte_pfn(pte_at(w, addr))); }

// The smaps entry of the VMA holding addr.
std::string smaps_of(World& w, uint64_t addr, Pid pid = 0) {
  const Vma* v = w.k.process(pid ? pid : w.pid)->mm.vma_at(addr);
  REQUIRE(v);
  addr = v->start;
  std::string all = w.k.proc_smaps(pid ? pid : w.pid).value();
  char head[32];
  std::snprintf(head, sizeof head, "%012llx-", static_cast<unsigned long long>(addr));
  size_t at = all.find(head);
  REQUIRE(at != std::string::npos);
  return all.substr(at, all.find("VmFlags", at) - at);
}

uint64_t field_kb(const std::string& text, const std::string& key) {
  size_t at = text.find("\n" + key + ":");
  if (at == std::string::npos) at = text.rfind(key + ":", 0) == 0 ? 0 : std::string::npos;
  REQUIRE(at != std::string::npos);
  return std::stoull(text.substr(text.find(':', at) + 1));
}

uint64_t meminfo(World& w, const std::string& key) { return field_kb("\n" + w.k.proc_meminfo(), key); }

// A file of `pages` pages of `byte` on the simulated disk (clean, not yet cached),
// opened and mapped private with `prot`: the mapping's address.
uint64_t map_disk_file(World& w, const std::string& path, uint64_t ino, uint64_t pages, uint8_t byte,
                       uint64_t prot = PROT_READ) {
  w.k.create_file(path, ino, std::vector<uint8_t>(static_cast<size_t>(pages * P), byte));
  auto fd = w.k.sys_openat(w.pid, AT_FDCWD_, path, O_RDONLY_, 0);
  REQUIRE(fd.is_ok());
  SysResult m = w.mmap({0, pages * P, prot, MAP_PRIVATE, static_cast<int64_t>(fd.value), 0});
  REQUIRE(m.is_ok());
  return m.value;
}

uint64_t vmstat(World& w, const std::string& key) {
  std::string all = "\n" + w.k.proc_vmstat();
  size_t at = all.find("\n" + key + " ");
  REQUIRE(at != std::string::npos);
  return std::stoull(all.substr(at + key.size() + 2));
}

// Writes byte v to every page of [p, p + n pages), checking each access.
void fill(World& w, uint64_t p, uint64_t pages, uint8_t v) {
  for (uint64_t i = 0; i < pages; ++i) REQUIRE(w.write(p + i * P, static_cast<uint8_t>(v + i)).ok);
}

int64_t open_file(World& w, const std::string& path, const std::string& text) {
  auto fd = w.k.sys_openat(w.pid, AT_FDCWD_, path, O_RDWR_ | O_CREAT_ | O_TRUNC_, 0644);
  REQUIRE(fd.is_ok());
  std::vector<uint8_t> bytes(text.begin(), text.end());
  REQUIRE(w.k.sys_write(w.pid, static_cast<int64_t>(fd.value), 0, bytes.size(), &bytes).is_ok());
  require_coherent(w.k);
  return static_cast<int64_t>(fd.value);
}
}  // namespace

TEST_CASE("watermarks: min_free_kbytes = sqrt(16 * lowmem kB), low and high a quarter of it apart") {
  Kernel k;  // 1024 frames, 1014 managed
  Watermarks wm = k.watermarks();
  CHECK(wm.min == 63);  // sqrt(4056 * 16) = 254 kB
  CHECK(wm.low == 78);
  CHECK(wm.high == 93);
  Kernel big(machine(65536, 0));
  CHECK(big.watermarks().min == 2047 / 4);  // sqrt(262104 * 16) = 2047 kB
}

TEST_CASE("LRU: new pages start inactive; read() twice activates a file page; munmap takes pages off") {
  World w;
  uint64_t p = w.anon(4 * P);
  fill(w, p, 4, 1);
  const Frame& f = frame_at(w, p);
  CHECK(f.lru == LruList::InactiveAnon);
  CHECK((f.flags & PG_lru));
  CHECK(!(f.flags & PG_active));
  int64_t fd = open_file(w, "/home/user/lru.txt", std::string(P, 'x'));
  Pfn page = w.k.phys().lru_head(LruList::InactiveFile).value();
  CHECK(w.k.phys().frame(page).owner == FrameOwner::File);
  // folio_mark_accessed: the first read sets PG_referenced, the second activates.
  uint64_t buf = w.anon(P);
  REQUIRE(w.k.sys_pread64(w.pid, fd, buf, 16, 0).r.is_ok());
  CHECK((w.k.phys().frame(page).flags & PG_referenced));
  CHECK(w.k.phys().frame(page).lru == LruList::InactiveFile);
  REQUIRE(w.k.sys_pread64(w.pid, fd, buf, 16, 0).r.is_ok());
  require_coherent(w.k);
  CHECK(w.k.phys().frame(page).lru == LruList::ActiveFile);
  CHECK(vmstat(w, "pgactivate") == 1);
  uint64_t before = w.k.phys().lru_size(LruList::InactiveAnon);
  REQUIRE(w.munmap(p, 4 * P).is_ok());
  CHECK(w.k.phys().lru_size(LruList::InactiveAnon) == before - 4);
}

TEST_CASE("kswapd: below the low watermark it evicts clean page cache up to the high watermark") {
  World w(machine(1024, 0, 1));
  // Fill the page cache with a file's pages, then allocate anonymous memory.
  open_file(w, "/home/user/big", std::string(300 * P, 'c'));
  uint64_t cached = w.k.inode(*w.k.lookup("/home/user/big"))->cache.size();
  CHECK(cached == 300);
  Watermarks wm = w.k.watermarks();
  uint64_t room = w.k.phys().free_count() - wm.low;
  uint64_t p = w.anon((room + 20) * P);
  fill(w, p, room + 20, 0);
  CHECK(w.k.phys().free_count() >= wm.low);
  CHECK(vmstat(w, "pgscan_kswapd") > 0);
  CHECK(vmstat(w, "pgsteal_kswapd") > 0);
  CHECK(vmstat(w, "pgsteal_file") == vmstat(w, "pgsteal_kswapd"));
  CHECK(vmstat(w, "pageoutrun") >= 1);
  CHECK(w.k.inode(*w.k.lookup("/home/user/big"))->cache.size() < cached);
  // Nothing anonymous went anywhere: there is no swap.
  CHECK(w.mm().rss_anon == room + 20);
}

TEST_CASE("reclaim: dirty file pages: MADV_PAGEOUT keeps them; kswapd writes them back before dropping") {
  World w(machine(256, 0, 1));
  int64_t fd = open_file(w, "/home/user/dirty", std::string(64 * P, 'd'));
  uint64_t f = w.mmap({0, P, RW, MAP_SHARED, fd, 0}).value;
  REQUIRE(w.write(f + 5, 'Z').ok);
  const Inode* ino = w.k.inode(*w.k.lookup("/home/user/dirty"));
  CHECK(!ino->disk.count(0));  // written with write(): only in the page cache so far
  // Only kswapd writes file pages: MADV_PAGEOUT marks the page and keeps it, active.
  REQUIRE(w.madvise(f, P, MADV_PAGEOUT).is_ok());
  REQUIRE(ino->cache.count(0));
  Pfn page = ino->cache.at(0);
  CHECK((w.k.phys().frame(page).flags & (PG_dirty | PG_reclaim)) == (PG_dirty | PG_reclaim));
  CHECK(w.k.phys().frame(page).lru == LruList::ActiveFile);
  CHECK(vmstat(w, "nr_vmscan_write") == 0);
  // Pressure: kswapd meets the dirty pages twice, writes them, then drops them.
  uint64_t q = w.anon(200 * P);
  for (uint64_t i = 0; i < 200 && vmstat(w, "nr_vmscan_write") == 0; ++i) REQUIRE(w.write(q + i * P, 1).ok);
  CHECK(vmstat(w, "nr_vmscan_write") > 0);
  uint64_t gone = 0;
  for (uint64_t i = 1; i < 64; ++i) {
    if (ino->cache.count(i)) continue;
    ++gone;
    REQUIRE(ino->disk.count(i));  // written back before it was dropped
    CHECK(ino->disk.at(i)[0] == 'd');
  }
  CHECK(gone > 0);
  CHECK(w.read(f + 5).value == 'Z');
}

TEST_CASE("swap: pages go out as swap entries in Linux's encoding and come back as major faults") {
  World w(machine(256, 64));
  CHECK(w.k.swap().total() == 63);  // the first page of the swap file is its header
  uint64_t p = w.anon(16 * P);
  fill(w, p, 16, 0x40);
  REQUIRE(w.madvise(p, 16 * P, MADV_PAGEOUT).is_ok());
  uint64_t e = pte_at(w, p);
  CHECK(is_swap_pte(e));
  CHECK(!(e & _PAGE_PRESENT));
  CHECK(pte_swp_type(e) == 0);
  CHECK(pte_swp_offset(e) == 1);
  CHECK((e & _PAGE_SWP_EXCLUSIVE));  // PG_anon_exclusive travels in bit 3
  CHECK(e == (swp_entry_pte(0, 1) | _PAGE_SWP_EXCLUSIVE));
  CHECK(e == 0x7fffffffffffc08ULL);  // ~1 << 9 in bits 9-58, bit 3
  CHECK(w.mm().swapents == 16);
  CHECK(w.mm().rss_anon == 0);
  CHECK(w.k.swap().used() == 16);
  CHECK(meminfo(w, "SwapFree") == (63 - 16) * 4);
  CHECK(field_kb(smaps_of(w, p), "Swap") == 64);
  CHECK(field_kb(smaps_of(w, p), "SwapPss") == 64);
  CHECK(field_kb("\n" + w.k.proc_status(w.pid).value(), "VmSwap") == 64);
  CHECK(*w.k.pagemap_entry(w.pid, p) == ((1ULL << 62) | (1ULL << 5)));
  CHECK(vmstat(w, "pswpout") == 16);
  // Written out but still in the swap cache (the write is asynchronous on Linux; the
  // page waits at the inactive tail for the next look).
  CHECK(meminfo(w, "SwapCached") == 64);
  CHECK(vmstat(w, "pgrotated") == 16);
  // A read now finds the page there: a minor fault.
  AccessResult r = w.read(p + 3 * P);
  CHECK(r.ok);
  CHECK(r.value == 0x43);
  CHECK(r.fault == FaultKind::SwapIn);
  CHECK(vmstat(w, "pswpin") == 0);
  CHECK(vmstat(w, "pgmajfault") == 0);
  // Pressure: kswapd takes the clean swap-cache pages from the tail first.
  uint64_t n = w.k.phys().free_count() - w.k.watermarks().low + 4;
  uint64_t q = w.anon(n * P);
  fill(w, q, n, 1);
  uint64_t slot5 = pte_swp_offset(pte_at(w, p + 5 * P));
  REQUIRE(w.k.swap().slot(slot5).cache == kNoFrame);
  // Now a read is a major fault: do_swap_page reads the slot back.
  r = w.read(p + 5 * P);
  CHECK(r.value == 0x45);
  CHECK(r.fault == FaultKind::SwapIn);
  CHECK(vmstat(w, "pswpin") == 1);
  CHECK(vmstat(w, "pgmajfault") == 1);
  // Read: it stays in the swap cache (SwapCached), its slot still taken; the PTE is
  // writable because nobody else can see the page.
  const Frame& f = frame_at(w, p + 5 * P);
  CHECK((f.flags & PG_swapcache));
  CHECK((pte_at(w, p + 5 * P) & _PAGE_RW));
  // A write fault swaps in and frees the slot at once.
  uint64_t used = w.k.swap().used();
  r = w.write(p + 4 * P, 9);
  CHECK(r.ok);
  CHECK(!(frame_at(w, p + 4 * P).flags & PG_swapcache));
  CHECK(w.k.swap().used() == used - 1);
  CHECK(w.read(p + 4 * P).value == 9);
  // munmap frees the rest: slots and the swap-cache page.
  REQUIRE(w.munmap(p, 16 * P).is_ok());
  CHECK(w.k.swap().used() == 0);
  CHECK(meminfo(w, "SwapCached") == 0);
}

TEST_CASE("swap: fork shares a swap slot; each side's fault finds the other's copy in the swap cache") {
  World w(machine(256, 64));
  uint64_t p = w.anon(2 * P);
  fill(w, p, 2, 0x10);
  REQUIRE(w.madvise(p, 2 * P, MADV_PAGEOUT).is_ok());
  SysResult c = w.checked(w.k.sys_fork(w.pid));
  REQUIRE(c.is_ok());
  Pid child = static_cast<Pid>(c.value);
  uint64_t slot = pte_swp_offset(pte_at(w, p));
  CHECK(w.k.swap().slot(slot).count == 2);
  CHECK(!(pte_at(w, p) & _PAGE_SWP_EXCLUSIVE));  // no longer exclusive on either side
  CHECK(field_kb(smaps_of(w, p), "SwapPss") == 4);  // two pages of 4 kB, each shared by two
  // The child reads: major; the page lands in the swap cache, mapped read-only.
  AccessResult r = w.k.access(child, p, Access::Read);
  require_coherent(w.k);
  CHECK(r.fault == FaultKind::SwapIn);
  CHECK(r.value == 0x10);
  CHECK(!(pte_at(w, p, child) & _PAGE_RW));
  // The parent finds it there: minor, the same frame.
  uint64_t maj = vmstat(w, "pgmajfault");
  r = w.read(p);
  CHECK(r.fault == FaultKind::SwapIn);
  CHECK(vmstat(w, "pgmajfault") == maj);
  CHECK(pte_pfn(pte_at(w, p)) == pte_pfn(pte_at(w, p, child)));
  // A write copies (both map it).
  r = w.write(p, 0x77);
  CHECK(r.ok);
  CHECK(pte_pfn(pte_at(w, p)) != pte_pfn(pte_at(w, p, child)));
  CHECK(w.k.access(child, p, Access::Read).value == 0x10);
  require_coherent(w.k);
  // The child's exit drops its reference to the second page's slot.
  uint64_t slot2 = pte_swp_offset(pte_at(w, p + P));
  CHECK(w.k.swap().slot(slot2).count == 2);
  w.k.sys_exit_group(child, 0);
  require_coherent(w.k);
  CHECK(w.k.swap().slot(slot2).count == 1);
}

TEST_CASE("swap: shared anonymous memory (tmpfs) is swapped from the page cache and read back") {
  World w(machine(256, 64));
  uint64_t s = w.mmap({0, 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0}).value;
  fill(w, s, 4, 0x30);
  REQUIRE(w.madvise(s, 4 * P, MADV_PAGEOUT).is_ok());
  CHECK(w.k.swap().used() == 4);
  CHECK(pte_none(pte_at(w, s)));  // shmem leaves no swap entry in the PTE
  CHECK(field_kb(smaps_of(w, s), "Swap") == 16);
  CHECK(w.mm().rss_shmem == 0);
  AccessResult r = w.read(s + 2 * P);
  CHECK(r.value == 0x32);
  CHECK(r.fault == FaultKind::FileReadMajor);
  CHECK(w.k.swap().used() == 3);  // shmem_swapin_folio frees the slot at once
}

TEST_CASE("OOM killer: the process with the largest badness dies, and its memory comes back") {
  World w(machine(256, 0, 1));
  uint64_t small = w.anon(8 * P);
  fill(w, small, 8, 1);
  SysResult c = w.checked(w.k.sys_fork(w.pid));
  Pid child = static_cast<Pid>(c.value);
  // The child grows until memory runs out; it is the biggest, so it is chosen.
  uint64_t big = w.checked(w.k.sys_mmap(child, {0, 400 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0})).value;
  AccessResult r;
  uint64_t i = 0;
  for (; i < 400; ++i) {
    r = w.k.access(child, big + i * P, Access::Write, 1);
    require_coherent(w.k);
    if (!r.ok) break;
  }
  CHECK(i < 400);
  CHECK(r.killed);
  CHECK(r.signo == kSigKill);
  CHECK(w.k.process(child)->state == ProcState::Zombie);
  CHECK(w.k.process(w.pid)->state == ProcState::Running);
  REQUIRE(w.k.oom_reports().size() == 1);
  CHECK(w.k.oom_reports()[0].pid == child);
  CHECK(w.k.oom_reports()[0].anon_rss >= i);
  CHECK(vmstat(w, "oom_kill") == 1);
  CHECK(w.k.phys().free_count() > w.k.watermarks().high);  // its memory came back
}

TEST_CASE("OOM killer: a bigger bystander dies instead of the process that faulted") {
  World w(machine(256, 0, 1));
  SysResult c = w.checked(w.k.sys_fork(w.pid));
  Pid child = static_cast<Pid>(c.value);
  uint64_t big = w.checked(w.k.sys_mmap(child, {0, 150 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0})).value;
  for (uint64_t i = 0; i < 150; ++i) REQUIRE(w.k.access(child, big + i * P, Access::Write, 1).ok);
  require_coherent(w.k);
  // The parent now wants more than is left.
  uint64_t p = w.anon(100 * P);
  for (uint64_t i = 0; i < 100; ++i) REQUIRE(w.write(p + i * P, 2).ok);
  CHECK(w.k.process(child)->state == ProcState::Zombie);
  CHECK(w.k.process(child)->exit_signal == kSigKill);
  CHECK(w.k.oom_reports().at(0).pid == child);
  CHECK(w.k.oom_reports().at(0).points == w.k.oom_reports().at(0).anon_rss + w.k.oom_reports().at(0).pgtables);
  bool seen = false;
  for (const Event& e : w.k.events()) seen |= e.kind == EventKind::OomKill && e.pid == child;
  CHECK(seen);
}

TEST_CASE("overcommit mode 0: one charge larger than RAM + swap fails; MAP_NORESERVE is not charged") {
  World w(machine(1024, 256));
  uint64_t limit = w.k.phys().managed() + w.k.swap().total();
  SysResult r = w.mmap({0, (limit + 1) * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0});
  CHECK(r.err == Errno::NoMem);
  CHECK(w.k.last_commit_refusal()->pages == limit + 1);
  CHECK(w.mmap({0, limit * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0}).is_ok());
  CHECK(w.mmap({0, (limit + 1) * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0}).is_ok());
  // Read-only private and PROT_NONE reservations are not charged either.
  CHECK(w.mmap({0, 4 * limit * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0}).is_ok());
  // Shared anonymous memory charges its size (shmem_acct_size).
  CHECK(w.mmap({0, (limit + 1) * P, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0}).err == Errno::NoMem);
  // Mode 1 allows it all.
  w.k.set_overcommit(1, 50);
  CHECK(w.mmap({0, (limit + 1) * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0}).is_ok());
}

TEST_CASE("overcommit mode 2: CommitLimit = RAM * ratio + swap; MAP_NORESERVE ignored; refusals everywhere") {
  World w(machine(1024, 256, 2));
  uint64_t limit = w.k.phys().managed() * 50 / 100 + w.k.swap().total();
  CHECK(w.k.commit_limit() == limit);
  CHECK(meminfo(w, "CommitLimit") == limit * 4);
  uint64_t committed = w.k.committed_pages();
  CHECK(meminfo(w, "Committed_AS") == committed * 4);
  // Up to the limit less the admin reserve (RAM / 32) and the user reserve (total_vm / 32).
  uint64_t admin = w.k.phys().managed() / 32;
  uint64_t room = limit - admin - w.mm().total_vm / 32 - committed - 1;
  SysResult big = w.mmap({0, (room + 1) * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0});
  CHECK(big.err == Errno::NoMem);
  SysResult ok = w.mmap({0, (room - 40) * P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0});
  REQUIRE(ok.is_ok());
  CHECK(w.k.committed_pages() == committed + room - 40);
  // MAP_NORESERVE does not help in mode 2 (and the VMA is charged: no "nr").
  CHECK(w.mmap({0, 64 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0}).err == Errno::NoMem);
  // mprotect making a large PROT_NONE mapping writable is charged.
  uint64_t none = w.mmap({0, 64 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0}).value;
  CHECK(w.mprotect(none, 64 * P, RW).err == Errno::NoMem);
  CHECK(w.mprotect(none, 8 * P, RW).is_ok());
  // brk cannot grow either, and fork fails to charge the child's copy.
  CHECK(w.checked(w.k.sys_fork(w.pid)).err == Errno::NoMem);
  // Freeing the mapping gives the room back.
  REQUIRE(w.munmap(ok.value, (room - 40) * P).is_ok());
  CHECK(w.checked(w.k.sys_fork(w.pid)).is_ok());
}

TEST_CASE("MADV_FREE: LazyFree pages move to the file list; clean ones are dropped under pressure") {
  World w(machine(256, 0, 1));
  uint64_t p = w.anon(8 * P);
  fill(w, p, 8, 0x55);
  REQUIRE(w.madvise(p, 8 * P, MADV_FREE).is_ok());
  CHECK(field_kb(smaps_of(w, p), "LazyFree") == 32);
  CHECK(frame_at(w, p).lru == LruList::InactiveFile);
  CHECK(!(frame_at(w, p).flags & PG_swapbacked));
  CHECK(!(pte_at(w, p) & _PAGE_DIRTY));
  CHECK(vmstat(w, "pglazyfree") == 8);
  // Written again: the data stays; smaps stops counting it (its PTE is dirty), but
  // only reclaim will put it back on the anonymous list.
  REQUIRE(w.write(p + P, 0x99).ok);
  CHECK(field_kb(smaps_of(w, p), "LazyFree") == 28);
  CHECK(frame_at(w, p + P).lru == LruList::InactiveFile);
  // Pressure without swap (below the low watermark, short of the min one): kswapd
  // drops the clean ones; the written one goes back to the anonymous list.
  uint64_t n = w.k.phys().free_count() - w.k.watermarks().low + 4;
  uint64_t q = w.anon(n * P);
  fill(w, q, n, 1);
  CHECK(vmstat(w, "pglazyfreed") == 7);
  CHECK(w.k.process(w.pid)->state == ProcState::Running);
  CHECK(frame_at(w, p + P).lru == LruList::ActiveAnon);
  CHECK((frame_at(w, p + P).flags & PG_swapbacked));
  CHECK(w.read(p + P).value == 0x99);
  CHECK(pte_none(pte_at(w, p + 2 * P)));
  CHECK(w.read(p + 2 * P).value == 0);  // dropped: reads as the zero page
  CHECK(field_kb(smaps_of(w, p), "LazyFree") == 0);
}

TEST_CASE("MADV_FREE: EINVAL on a file mapping and on locked memory; clean shared pages are freed lazily too") {
  World w;
  int64_t fd = open_file(w, "/home/user/f", std::string(P, 'f'));
  uint64_t f = w.mmap({0, P, PROT_READ, MAP_PRIVATE, fd, 0}).value;
  CHECK(w.madvise(f, P, MADV_FREE).err == Errno::Inval);
  uint64_t l = w.anon(P, RW, 0, MAP_LOCKED);
  CHECK(w.madvise(l, P, MADV_FREE).err == Errno::Inval);
  uint64_t s = w.anon(P);
  REQUIRE(w.write(s, 1).ok);
  REQUIRE(w.checked(w.k.sys_fork(w.pid)).is_ok());
  // The page is shared with the child but not PG_dirty (only its PTEs are), so
  // madvise_free_pte_range marks it lazy and cleans this side's PTE (measured).
  REQUIRE(w.madvise(s, P, MADV_FREE).is_ok());
  CHECK(field_kb(smaps_of(w, s), "LazyFree") == 4);
  CHECK(!(pte_at(w, s) & _PAGE_DIRTY));
  CHECK(field_kb(smaps_of(w, s, 2), "LazyFree") == 0);  // the child's PTE is still dirty
}

TEST_CASE("MADV_PAGEOUT without swap: anonymous pages stay and are activated; clean file pages go") {
  World w;
  uint64_t p = w.anon(4 * P);
  fill(w, p, 4, 3);
  REQUIRE(w.madvise(p, 4 * P, MADV_PAGEOUT).is_ok());
  CHECK(w.mm().rss_anon == 4);
  CHECK(frame_at(w, p).lru == LruList::ActiveAnon);
  // A clean file of the user's (on disk, not written since): its pages can go.
  uint64_t f = map_disk_file(w, "/home/user/po", 777777, 4, 'p');
  REQUIRE(w.read(f).ok);
  CHECK(w.mm().rss_file == 4);
  REQUIRE(w.madvise(f, 4 * P, MADV_PAGEOUT).is_ok());
  CHECK(w.mm().rss_file == 0);
  CHECK(w.k.inode(*w.k.lookup("/home/user/po"))->cache.empty());
  CHECK(w.read(f + 2 * P).value == 'p');  // read again from disk
  // A file of root's that the user cannot write is not paged out (can_do_file_pageout).
  auto libc = w.k.sys_openat(w.pid, AT_FDCWD_, "/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY_, 0);
  uint64_t l = w.mmap({0, 4 * P, PROT_READ, MAP_PRIVATE, static_cast<int64_t>(libc.value), 0}).value;
  REQUIRE(w.read(l).ok);
  uint64_t mapped = w.mm().rss_file;
  REQUIRE(w.madvise(l, 4 * P, MADV_PAGEOUT).is_ok());
  CHECK(w.mm().rss_file == mapped);
}

TEST_CASE("MADV_COLD: active pages go back to the inactive list, young bits cleared") {
  World w;
  int64_t fd = open_file(w, "/home/user/cold", std::string(P, 'c'));
  uint64_t f = w.mmap({0, P, PROT_READ, MAP_PRIVATE, fd, 0}).value;
  REQUIRE(w.read(f).ok);
  uint64_t buf = w.anon(P);
  for (int i = 0; i < 2; ++i) REQUIRE(w.k.sys_pread64(w.pid, fd, buf, 1, 0).r.is_ok());
  CHECK(frame_at(w, f).lru == LruList::ActiveFile);
  REQUIRE(w.madvise(f, P, MADV_COLD).is_ok());
  CHECK(frame_at(w, f).lru == LruList::InactiveFile);
  CHECK(!(pte_at(w, f) & _PAGE_ACCESSED));
  CHECK(!(frame_at(w, f).flags & PG_referenced));
  CHECK(vmstat(w, "pgdeactivate") == 1);
  CHECK(w.madvise(w.anon(P, RW, 0, MAP_LOCKED), P, MADV_COLD).err == Errno::Inval);
}

TEST_CASE("MADV_WILLNEED on swapped-out memory reads it into the swap cache; the touch is then minor") {
  World w(machine(256, 64));
  uint64_t p = w.anon(4 * P);
  fill(w, p, 4, 0x20);
  REQUIRE(w.madvise(p, 4 * P, MADV_PAGEOUT).is_ok());
  REQUIRE(w.madvise(p, 4 * P, MADV_WILLNEED).is_ok());
  CHECK(meminfo(w, "SwapCached") == 16);
  CHECK(is_swap_pte(pte_at(w, p)));  // not mapped yet
  uint64_t maj = vmstat(w, "pgmajfault");
  AccessResult r = w.read(p + P);
  CHECK(r.value == 0x21);
  CHECK(vmstat(w, "pgmajfault") == maj);
}

TEST_CASE("MADV_REMOVE punches a hole in shared memory; refused on private and read-only mappings") {
  World w(machine(256, 64));
  uint64_t s = w.mmap({0, 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0}).value;
  fill(w, s, 4, 0x60);
  REQUIRE(w.madvise(s, 2 * P, MADV_REMOVE).is_ok());
  CHECK(w.mm().rss_shmem == 2);
  CHECK(w.read(s).value == 0);
  CHECK(w.read(s + 3 * P).value == 0x63);
  CHECK(w.madvise(w.anon(P), P, MADV_REMOVE).err == Errno::Inval);
  int64_t fd = open_file(w, "/home/user/ro", std::string(P, 'r'));
  auto rofd = w.k.sys_openat(w.pid, AT_FDCWD_, "/home/user/ro", O_RDONLY_, 0);
  uint64_t ro = w.mmap({0, P, PROT_READ, MAP_SHARED, static_cast<int64_t>(rofd.value), 0}).value;
  CHECK(w.madvise(ro, P, MADV_REMOVE).err == Errno::Acces);
  (void)fd;
}

TEST_CASE("mlocked pages are unevictable: never swapped, back on the LRU after munlock") {
  World w(machine(256, 64));
  uint64_t p = w.anon(2 * P, RW, 0, MAP_LOCKED);
  CHECK(frame_at(w, p).lru == LruList::Unevictable);
  CHECK(w.madvise(p, 2 * P, MADV_PAGEOUT).err == Errno::Inval);
  REQUIRE(w.checked(w.k.sys_mlock(w.pid, p, 2 * P, 0, Sysno::munlock)).is_ok());
  CHECK(frame_at(w, p).lru == LruList::InactiveAnon);
}

TEST_CASE("reclaim under pressure with swap: kswapd swaps anonymous memory out, data intact") {
  World w(machine(512, 512));
  uint64_t n = 600;  // more than RAM
  uint64_t p = w.anon(n * P);
  for (uint64_t i = 0; i < n; ++i) REQUIRE(w.write(p + i * P, static_cast<uint8_t>(i)).ok);
  CHECK(vmstat(w, "pswpout") > 0);
  CHECK(w.mm().swapents > 0);
  CHECK(w.mm().rss_anon + w.mm().swapents == n);
  for (uint64_t i = 0; i < n; i += 37) CHECK(w.read(p + i * P).value == static_cast<uint8_t>(i));
  CHECK(vmstat(w, "pswpin") > 0);
}

TEST_CASE("VM_EXEC protection: executable file pages are activated on first use, data pages get a second look") {
  World w(machine(1024, 0, 1));
  uint64_t x = map_disk_file(w, "/home/user/prog", 777001, 16, 0x90, PROT_READ | PROT_EXEC);
  uint64_t d = map_disk_file(w, "/home/user/data", 777002, 160, 0x11);
  for (uint64_t i = 0; i < 16; ++i) REQUIRE(w.k.access(w.pid, x + i * P, Access::Read).ok);
  for (uint64_t i = 0; i < 160; ++i) REQUIRE(w.k.access(w.pid, d + i * P, Access::Read).ok);
  require_coherent(w.k);
  const Inode* data = w.k.inode(777002);
  const Inode* prog = w.k.inode(777001);
  // Memory fills until reclaim has taken some data pages. Every mapped page was used
  // once: a data page gets another trip round the inactive list (FOLIOREF_KEEP), an
  // executable one is activated at once.
  uint64_t q = w.anon(1000 * P);
  for (uint64_t i = 0; i < 1000 && vmstat(w, "pgsteal_file") < 32; ++i) REQUIRE(w.write(q + i * P, 1).ok);
  CHECK(vmstat(w, "pgsteal_file") >= 32);
  CHECK(data->cache.size() < 160);
  CHECK(prog->cache.size() == 16);
  for (const auto& [index, pfn] : prog->cache) CHECK(w.k.phys().frame(pfn).lru == LruList::ActiveFile);
  for (const auto& [index, pfn] : data->cache) CHECK(w.k.phys().frame(pfn).lru == LruList::InactiveFile);
}

TEST_CASE("shrink_active_list: an active list larger than its inactive one is aged (pgrefill, pgdeactivate)") {
  World w(machine(1024, 0, 1));
  w.k.create_file("/home/user/hot", 777003, std::vector<uint8_t>(64 * P, 0x22));
  auto fd = w.k.sys_openat(w.pid, AT_FDCWD_, "/home/user/hot", O_RDONLY_, 0);
  uint64_t buf = w.anon(P);
  // Reading every page twice activates it (folio_mark_accessed).
  for (int round = 0; round < 2; ++round)
    for (uint64_t i = 0; i < 64; ++i) REQUIRE(w.k.sys_pread64(w.pid, static_cast<int64_t>(fd.value), buf, 1, i * P).r.is_ok());
  require_coherent(w.k);
  CHECK(w.k.phys().lru_size(LruList::ActiveFile) == 64);
  uint64_t q = w.anon(1000 * P);
  for (uint64_t i = 0; i < 1000 && vmstat(w, "pgsteal_file") == 0; ++i) REQUIRE(w.write(q + i * P, 1).ok);
  CHECK(vmstat(w, "pgrefill") > 0);
  CHECK(vmstat(w, "pgdeactivate") > 0);
  CHECK(vmstat(w, "pgsteal_file") > 0);
}

TEST_CASE("direct reclaim: once kswapd has given up, an allocation at the min watermark reclaims for itself") {
  World w(machine(16384, 0, 1));  // 64 MiB: low - min = 40 pages, room for kswapd to fail 16 times
  Watermarks wm = w.k.watermarks();
  REQUIRE(wm.low - wm.min > 16);
  // Anonymous memory down to a few pages above min, with no swap: kswapd runs for each
  // allocation below low, finds nothing, and gives up after 16 runs.
  uint64_t free = w.k.phys().free_count();
  uint64_t n = free - wm.min - 20 - (free / 512 + 4);  // less the page tables it needs
  uint64_t q = w.anon(n * P);
  for (uint64_t i = 0; i < n; ++i) REQUIRE(w.k.access(w.pid, q + i * P, Access::Write, 1).ok);
  require_coherent(w.k);
  CHECK(vmstat(w, "pgscan_kswapd") == 0);
  CHECK(vmstat(w, "pgscan_direct") == 0);
  CHECK(w.k.phys().free_count() > wm.min);
  // Reading a file fills the page cache down to min; from there each allocation
  // reclaims for itself (kswapd is not woken any more), taking the file's older pages.
  w.k.create_file("/home/user/cache", 777004, std::vector<uint8_t>(64 * P, 0x33));
  REQUIRE(w.k.read_whole_file("/home/user/cache"));
  require_coherent(w.k);
  CHECK(w.k.inode(777004)->cache.size() < 64);
  CHECK(vmstat(w, "allocstall_normal") > 0);
  CHECK(vmstat(w, "pgscan_direct") > 0);
  CHECK(vmstat(w, "pgsteal_direct") > 0);
  // Direct reclaim's progress resets kswapd_failures: kswapd is woken again after it.
  CHECK(vmstat(w, "pgscan_kswapd") > 0);
}

TEST_CASE("MADV_RANDOM: references through such a mapping do not count, so its pages go first") {
  World w(machine(1024, 0, 1));
  uint64_t n = map_disk_file(w, "/home/user/normal", 777005, 32, 0x41);
  uint64_t r = map_disk_file(w, "/home/user/random", 777006, 32, 0x42);
  REQUIRE(w.madvise(r, 32 * P, MADV_RANDOM).is_ok());
  // The normal file's pages are read first, so they are older (nearer the tail).
  for (uint64_t i = 0; i < 32; ++i) REQUIRE(w.read(n + i * P).ok);
  for (uint64_t i = 0; i < 32; ++i) REQUIRE(w.read(r + i * P).ok);
  const Inode* normal = w.k.inode(777005);
  const Inode* random = w.k.inode(777006);
  uint64_t q = w.anon(1000 * P);
  for (uint64_t i = 0; i < 1000 && vmstat(w, "pgsteal_file") < 16; ++i) REQUIRE(w.write(q + i * P, 1).ok);
  // Both were used once; the normal pages got another trip round the list.
  CHECK(random->cache.size() <= 32 - 16);
  CHECK(normal->cache.size() == 32);
}
