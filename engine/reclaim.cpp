// Memory pressure: the frame allocator's watermarks, the LRU lists, kswapd and direct
// reclaim (mm/vmscan.c, the classic two-list LRU), the reverse map, swap-out and
// swap-in (mm/swapfile.c, mm/swap_state.c, do_swap_page), the OOM killer
// (mm/oom_kill.c) and the overcommit policy (__vm_enough_memory).
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {
constexpr uint64_t SWAP_CLUSTER_MAX = 32;
constexpr int DEF_PRIORITY = 12;
constexpr int MAX_RECLAIM_RETRIES = 16;

uint64_t isqrt(uint64_t v) {  // int_sqrt: Newton's method from above
  if (v < 2) return v;
  uint64_t x = v, y = (x + 1) / 2;
  while (y < x) {
    x = y;
    y = (x + v / x) / 2;
  }
  return x;
}
bool is_active(LruList l) { return l == LruList::ActiveAnon || l == LruList::ActiveFile; }
bool is_file_list(LruList l) { return l == LruList::InactiveFile || l == LruList::ActiveFile; }
// folio_is_file_lru: pages that are not swap-backed live on the file lists.
bool file_lru(const Frame& f) { return !(f.flags & PG_swapbacked); }
// vma_has_recency: MADV_SEQUENTIAL and MADV_RANDOM mappings give no references.
bool vma_has_recency(const Vma& v) { return !(v.flags & (VM_SEQ_READ | VM_RAND_READ)); }
// is_folio_zero_filled
bool page_is_zero(const PageData& d) {
  if (d.empty()) return true;
  for (size_t i = 0; i < kPageSize; ++i)
    if (d[i]) return false;
  return true;
}
}  // namespace

// ---------------------------------------------------------------------------------
// The swap area

SwapArea::SwapArea(uint64_t pages) {
  if (pages >= 2) {
    slots_.resize(static_cast<size_t>(pages));
    cluster_used_.resize(static_cast<size_t>((pages + kCluster - 1) / kCluster));
  }
}

uint64_t SwapArea::cluster_end(uint64_t c) const { return std::min<uint64_t>((c + 1) * kCluster, slots_.size()); }

std::optional<uint32_t> SwapArea::scan(uint64_t from, uint64_t to) {
  for (uint64_t s = from; s < to; ++s) {
    SwapSlot& sl = slots_[static_cast<size_t>(s)];
    if (sl.allocated) continue;
    sl = SwapSlot{};
    sl.allocated = true;
    ++used_;
    ++cluster_used_[static_cast<size_t>(s / kCluster)];
    cursor_ = s + 1;
    return static_cast<uint32_t>(s);
  }
  return std::nullopt;
}

std::optional<uint32_t> SwapArea::alloc() {
  if (used_ == total()) return std::nullopt;
  // alloc_swap_scan_cluster: on from the cursor, within its cluster.
  if (cursor_ % kCluster != 0 && cursor_ < slots_.size())
    if (auto s = scan(cursor_, cluster_end(cursor_ / kCluster))) return s;
  // The cluster is used up: partly used clusters first (from their start), then empty ones.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t c = 0; c < cluster_used_.size(); ++c) {
      uint64_t capacity = cluster_end(c) - cluster_first(c);
      bool partial = cluster_used_[static_cast<size_t>(c)] > 0 && cluster_used_[static_cast<size_t>(c)] < capacity;
      if (pass == 0 ? !partial : cluster_used_[static_cast<size_t>(c)] != 0) continue;
      if (auto s = scan(cluster_first(c), cluster_end(c))) return s;
    }
  }
  return std::nullopt;
}

bool SwapArea::maybe_release(uint32_t s) {
  SwapSlot& sl = slot(s);
  if (!sl.allocated || sl.count || sl.cache != kNoFrame) return false;
  sl = SwapSlot{};
  --used_;
  --cluster_used_[s / kCluster];
  return true;
}

// ---------------------------------------------------------------------------------
// Entry points, pins, watermarks

Process* Kernel::enter(Pid pid) {
  current_ = pid;
  oom_pending_ = 0;
  return proc(pid);
}

bool Kernel::pinned(Pfn pfn) const {
  return std::find(pins_.begin(), pins_.end(), pfn.value) != pins_.end();
}

Watermarks Kernel::watermarks() const { return wm_; }

Watermarks Kernel::compute_watermarks() const {
  // init_per_zone_wmark_min: min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to
  // [128, 262144] kB; then low = min + max(min / 4, managed * 10 / 10000) and high
  // adds the same step again (watermark_scale_factor 10). On machines smaller than
  // Linux runs on, min is capped at an eighth of RAM.
  uint64_t managed = mem_.managed();
  uint64_t min_free_kbytes = std::clamp<uint64_t>(isqrt(managed * 4 * 16), 128, 262144);
  Watermarks w;
  w.min = std::min(min_free_kbytes >> (PAGE_SHIFT - 10), managed / 8);
  uint64_t step = std::max(w.min / 4, managed * 10 / 10000);
  w.low = w.min + step;
  w.high = w.min + 2 * step;
  return w;
}

// ---------------------------------------------------------------------------------
// The LRU lists

LruList Kernel::lru_for(const Frame& f, bool active) const {
  if (f.flags & PG_mlocked) return LruList::Unevictable;
  if (file_lru(f)) return active ? LruList::ActiveFile : LruList::InactiveFile;
  return active ? LruList::ActiveAnon : LruList::InactiveAnon;
}

void Kernel::lru_putback(Pfn pfn) {
  Frame& f = mem_.frame(pfn);
  mem_.lru_add(pfn, lru_for(f, (f.flags & PG_active) != 0));
}

void Kernel::lru_new_page(Pfn pfn, const Vma* v) {
  // folio_add_lru: new pages start on the inactive list (unevictable when mlocked).
  Frame& f = mem_.frame(pfn);
  if (v && (v->flags & VM_LOCKED)) f.flags |= PG_mlocked;
  mem_.lru_add(pfn, lru_for(f, false));
}

void Kernel::mark_accessed(Pfn pfn) {
  // folio_mark_accessed: inactive,unreferenced -> inactive,referenced ->
  // active,unreferenced.
  Frame& f = mem_.frame(pfn);
  if (!(f.flags & PG_referenced)) {
    f.flags |= PG_referenced;
  } else if (f.lru != LruList::None && !is_active(f.lru) && f.lru != LruList::Unevictable) {
    f.flags &= ~uint32_t{PG_referenced};
    mem_.lru_add(pfn, lru_for(f, true));
    ++vm_.pgactivate;
  }
}

uint64_t Kernel::lru_position(Pfn pfn) const {
  uint64_t n = 0;
  for (auto at = mem_.lru_next(pfn); at; at = mem_.lru_next(*at)) ++n;
  return n;
}

// ---------------------------------------------------------------------------------
// The reverse map

uint64_t Kernel::anon_root(uint64_t anon) const {
  for (auto it = anon_parent_.find(anon); it != anon_parent_.end(); it = anon_parent_.find(anon)) anon = it->second;
  return anon;
}

bool Kernel::anon_related(uint64_t vma_anon, uint64_t page_anon) const {
  // A VMA can map a page of its own anon_vma or of any ancestor's (fork's chain).
  for (uint64_t a = vma_anon; a;) {
    if (a == page_anon) return true;
    auto it = anon_parent_.find(a);
    a = it == anon_parent_.end() ? 0 : it->second;
  }
  return false;
}

template <typename F>
void Kernel::rmap_walk(Pfn pfn, F&& fn) {
  const Frame f = mem_.frame(pfn);  // a copy: fn may change the frame
  bool anon = f.owner == FrameOwner::Anon;
  if (!anon && f.owner != FrameOwner::File && f.owner != FrameOwner::Shmem) return;
  for (auto& entry : procs_) {
    Process& pr = entry.second;
    if (pr.state != ProcState::Running) continue;
    std::vector<uint64_t> starts;
    for (const auto& [s, v] : pr.mm.vmas) {
      if (anon ? (v.anon && anon_related(v.anon, f.owner_id)) : v.inode == f.owner_id) starts.push_back(s);
    }
    for (uint64_t s : starts) {
      auto it = pr.mm.vmas.find(s);
      if (it == pr.mm.vmas.end()) continue;
      const Vma& v = it->second;
      if (f.index < v.pgoff || f.index - v.pgoff >= v.pages()) continue;
      uint64_t addr = v.start + ((f.index - v.pgoff) << PAGE_SHIFT);
      PageTables pt = tables(pr);
      auto slot = pt.find_pte(addr);
      if (!slot) continue;
      uint64_t e = pt.get(*slot);
      if (!pte_present(e) || (e & _PAGE_SPECIAL) || pte_pfn(e) != pfn) continue;
      fn(pr, v, addr, *slot, e);
    }
  }
}

std::vector<Kernel::Mapper> Kernel::swap_mappers(uint64_t slot) const {
  std::vector<Mapper> out;
  for (const auto& entry : procs_) {
    const Process& p = entry.second;  // a named local: clang's lambdas cannot capture bindings
    if (p.state != ProcState::Running) continue;
    for (const auto& [s, v] : p.mm.vmas) {
      tables(p).for_each_pte(v.start, v.end, [&](uint64_t addr, PteSlot, uint64_t e) {
        if (is_swap_pte(e) && pte_swp_offset(e) == slot) out.push_back({p.pid, addr});
      });
    }
  }
  return out;
}

int Kernel::folio_referenced(Pfn pfn, uint64_t& vm_flags) {
  // Counts the young PTEs mapping the page and clears them (ptep_clear_flush_young);
  // mappings without recency are skipped (invalid_folio_referenced_vma).
  int referenced = 0;
  vm_flags = 0;
  rmap_walk(pfn, [&](Process& pr, const Vma& v, uint64_t addr, PteSlot slot, uint64_t e) {
    if (v.flags & VM_LOCKED) {
      vm_flags |= VM_LOCKED;
      return;
    }
    if (!vma_has_recency(v)) return;
    if (e & _PAGE_ACCESSED) {
      tables(pr).set(slot, e & ~uint64_t{_PAGE_ACCESSED});
      (void)addr;
      ++referenced;
      vm_flags |= v.flags;
    }
  });
  return referenced;
}

bool Kernel::try_to_unmap(Pfn pfn) {
  // try_to_unmap_one for every mapping: anonymous swap-backed pages leave a swap
  // entry behind, file and shmem pages leave nothing (the next fault finds them in
  // the page cache or in swap), clean MADV_FREE pages are simply dropped.
  Frame& f = mem_.frame(pfn);
  bool lazyfree = (f.flags & PG_anon) && !(f.flags & PG_swapbacked);
  bool ok = true;
  rmap_walk(pfn, [&](Process& pr, const Vma& v, uint64_t addr, PteSlot slot, uint64_t e) {
    if (!ok) return;
    if (v.flags & VM_LOCKED) {
      ok = false;
      return;
    }
    Frame& fr = mem_.frame(pfn);
    if (e & _PAGE_DIRTY) fr.flags |= PG_dirty;
    if (lazyfree && (fr.flags & PG_dirty)) {
      // Written again since MADV_FREE: it cannot be discarded.
      fr.flags |= PG_swapbacked;
      ok = false;
      return;
    }
    if (fr.flags & PG_anon) {
      if (lazyfree) {
        clear_pte(pr, slot, addr);
        emit({.kind = EventKind::LazyFreed, .pid = pr.pid, .addr = addr, .pfn = pfn});
      } else {
        uint64_t se = swp_entry_pte(0, fr.swap);
        if (fr.flags & PG_anon_exclusive) se |= _PAGE_SWP_EXCLUSIVE;
        ++swap_.slot(fr.swap).count;
        ++pr.mm.swapents;
        set_pte(pr, slot, addr, se);
      }
    } else {
      clear_pte(pr, slot, addr);
    }
    uint64_t& c = rss_counter(pr.mm, fr);
    if (c) --c;
    --fr.mapcount;
    --fr.refcount;
  });
  if (ok && lazyfree) ++vm_.pglazyfreed;
  return ok && mem_.frame(pfn).mapcount == 0;
}

bool Kernel::add_to_swap(Pfn pfn) {
  auto slot = swap_.alloc();
  if (!slot) return false;
  Frame& f = mem_.frame(pfn);
  f.flags |= PG_swapcache | PG_dirty;  // the copy on swap is not written yet
  f.swap = *slot;
  ++f.refcount;  // the swap cache's reference
  swap_.slot(*slot).cache = static_cast<uint32_t>(pfn.value);
  return true;
}

void Kernel::delete_from_swap_cache(Pfn pfn) {
  Frame& f = mem_.frame(pfn);
  if (!(f.flags & PG_swapcache)) return;
  uint32_t s = f.swap;
  swap_.slot(s).cache = kNoFrame;
  f.flags &= ~uint32_t{PG_swapcache};
  f.swap = 0;
  emit({.kind = EventKind::SwapCacheDrop, .value = s, .pfn = pfn});
  swap_.maybe_release(s);
  if (f.refcount) --f.refcount;
  if (f.refcount == 0) {
    mem_.free(pfn);
    emit({.kind = EventKind::FrameFree, .pfn = pfn});
  }
}

void Kernel::swap_free_entry(uint64_t slot) {
  // free_swap_and_cache: one reference fewer; an unmapped swap-cache page that nobody
  // else refers to goes too.
  if (!swap_.valid(slot)) return;
  SwapSlot& s = swap_.slot(slot);
  if (s.count) --s.count;
  if (s.count == 0 && s.cache != kNoFrame) {
    Pfn pfn{s.cache};
    const Frame& f = mem_.frame(pfn);
    if (f.mapcount == 0 && !pinned(pfn)) delete_from_swap_cache(pfn);
  }
  swap_.maybe_release(static_cast<uint32_t>(slot));
}

// shrink_folio_list for one page: unmap, write out if dirty, free. `back` says
// where it goes when it stays.
bool Kernel::reclaim_folio(Pfn pfn, ScanControl& sc, Putback& back) {
  back = Putback::Inactive;
  Frame& f = mem_.frame(pfn);
  bool anon = (f.flags & PG_anon) != 0;
  if (f.flags & PG_mlocked) return false;
  if (anon && (f.flags & PG_swapbacked) && !(f.flags & PG_swapcache)) {
    // add_to_swap: without a free slot the page is activated.
    if (!add_to_swap(pfn)) {
      back = Putback::Activate;
      return false;
    }
  }
  if (f.mapcount && !try_to_unmap(pfn)) {
    back = Putback::Activate;
    return false;
  }
  Frame& g = mem_.frame(pfn);
  if (g.mapcount) {
    back = Putback::Activate;
    return false;
  }
  if (g.flags & PG_dirty) {
    if (g.flags & PG_swapcache) {
      // pageout -> swap_writeout. A page of zeros is only noted in the swap map (no I/O)
      // and can go at once. Any other is written asynchronously: it stays in the swap
      // cache, clean, and folio_rotate_reclaimable puts it at the inactive tail, where
      // the next look reclaims it (measured: mincore shows it resident meanwhile).
      g.flags &= ~uint32_t{PG_dirty};
      ++vm_.nr_vmscan_write;
      bool zero = page_is_zero(g.data);
      swap_.slot(g.swap).data = zero ? PageData{} : g.data;
      if (zero) {
        ++vm_.swpout_zero;
      } else {
        ++vm_.pswpout;
        vm_.pgpgout += 4;
      }
      emit({.kind = EventKind::SwapOut, .value = g.swap, .pfn = pfn});
      if (!zero) {
        back = Putback::Rotate;
        return false;
      }
    } else if (g.owner == FrameOwner::Shmem) {
      // shmem_writeout: the page leaves the page cache for a swap slot.
      auto slot = swap_.alloc();
      if (!slot) {
        back = Putback::Activate;
        return false;
      }
      Inode& ino = inodes_.at(g.owner_id);
      swap_.slot(*slot).data = g.data;
      swap_.slot(*slot).count = 1;
      ino.swapped[g.index] = *slot;
      ino.cache.erase(g.index);
      emit({.kind = EventKind::PageCacheRemove, .addr = g.index, .value = g.owner_id, .pfn = pfn});
      emit({.kind = EventKind::SwapOut, .value = *slot, .pfn = pfn});
      if (page_is_zero(g.data)) {
        swap_.slot(*slot).data.clear();
        ++vm_.swpout_zero;
      } else {
        ++vm_.pswpout;
        vm_.pgpgout += 4;
      }
      ++vm_.nr_vmscan_write;
      mem_.free(pfn);
      emit({.kind = EventKind::FrameFree, .pfn = pfn});
      return true;
    } else if (g.owner == FrameOwner::File) {
      // Only kswapd writes a dirty file page, and only one it has met before (marked
      // PG_reclaim); direct reclaim and MADV_PAGEOUT mark it and keep it active.
      // (Linux leaves most of this writing to the flusher threads, which vmplay does
      // not have: kswapd's second look stands in for them.)
      if (!sc.kswapd || !(g.flags & PG_reclaim)) {
        g.flags |= PG_reclaim;
        back = Putback::Activate;
        return false;
      }
      Inode& ino = inodes_.at(g.owner_id);
      writeback_range(ino, g.index, g.index + 1);
      g.flags &= ~uint32_t{PG_reclaim};
      vm_.pgpgout += 4;
      ++vm_.nr_vmscan_write;
    }
  }
  Frame& h = mem_.frame(pfn);
  if (h.refcount != ((h.flags & PG_swapcache) || h.owner == FrameOwner::File || h.owner == FrameOwner::Shmem ? 1u : 0u)) {
    back = Putback::Activate;  // someone still holds it
    return false;
  }
  // __remove_mapping: out of the swap cache or the page cache, then freed.
  if (h.flags & PG_swapcache) {
    delete_from_swap_cache(pfn);
    return true;
  }
  if (h.owner == FrameOwner::File || h.owner == FrameOwner::Shmem) {
    Inode& ino = inodes_.at(h.owner_id);
    ino.cache.erase(h.index);
    emit({.kind = EventKind::PageCacheRemove, .addr = h.index, .value = h.owner_id, .pfn = pfn});
    mem_.free(pfn);
    emit({.kind = EventKind::FrameFree, .pfn = pfn});
    return true;
  }
  if (h.refcount == 0) {  // a discarded MADV_FREE page
    mem_.free(pfn);
    emit({.kind = EventKind::FrameFree, .pfn = pfn});
    return true;
  }
  return false;
}

namespace {
// The pages at the tail of a list, oldest first (collected before any of them moves).
std::vector<Pfn> tail_pages(const PhysMem& mem, LruList list, uint64_t nr) {
  std::vector<Pfn> out;
  for (auto at = mem.lru_tail(list); at && out.size() < nr; at = mem.lru_prev(*at)) out.push_back(*at);
  return out;
}
}  // namespace

void Kernel::shrink_active_list(LruList list, uint64_t nr, ScanControl& sc) {
  (void)sc;
  for (Pfn pfn : tail_pages(mem_, list, nr)) {
    ++vm_.pgrefill;
    if (pinned(pfn)) continue;
    uint64_t vm_flags = 0;
    int refs = folio_referenced(pfn, vm_flags);
    Frame& f = mem_.frame(pfn);
    if (vm_flags & VM_LOCKED) {
      f.flags |= PG_mlocked;
      mem_.lru_add(pfn, LruList::Unevictable);
      ++vm_.unevictable_pgs_culled;
      continue;
    }
    // Referenced executable file pages stay active: the VM_EXEC protection.
    if (refs && (vm_flags & VM_EXEC) && file_lru(f)) {
      mem_.lru_add(pfn, list);
      continue;
    }
    f.flags &= ~uint32_t{PG_referenced};
    f.flags |= PG_workingset;
    mem_.lru_add(pfn, lru_for(f, false));
    ++vm_.pgdeactivate;
  }
}

void Kernel::shrink_inactive_list(LruList list, uint64_t nr, ScanControl& sc) {
  bool file = is_file_list(list);
  for (Pfn pfn : tail_pages(mem_, list, nr)) {
    ++sc.scanned;
    ++(sc.kswapd ? vm_.pgscan_kswapd : vm_.pgscan_direct);
    ++(file ? vm_.pgscan_file : vm_.pgscan_anon);
    if (pinned(pfn)) {
      mem_.lru_add(pfn, list);
      continue;
    }
    // folio_check_references
    uint64_t vm_flags = 0;
    int refs = folio_referenced(pfn, vm_flags);
    Frame& f = mem_.frame(pfn);
    bool referenced_folio = (f.flags & PG_referenced) != 0;
    f.flags &= ~uint32_t{PG_referenced};
    if (vm_flags & VM_LOCKED) {
      f.flags |= PG_mlocked;
      mem_.lru_add(pfn, LruList::Unevictable);
      ++vm_.unevictable_pgs_culled;
      continue;
    }
    if (refs) {
      f.flags |= PG_referenced;
      if (referenced_folio || refs > 1 || ((vm_flags & VM_EXEC) && file_lru(f))) {
        mem_.lru_add(pfn, lru_for(f, true));
        ++vm_.pgactivate;
      } else {
        mem_.lru_add(pfn, list);  // FOLIOREF_KEEP: another trip round the list
      }
      continue;
    }
    // FOLIOREF_RECLAIM_CLEAN: a recently read dirty file page waits for the flusher.
    if (referenced_folio && file_lru(f) && (f.flags & PG_dirty) && !(f.flags & PG_anon)) {
      mem_.lru_add(pfn, list);
      continue;
    }
    Putback back;
    if (reclaim_folio(pfn, sc, back)) {
      ++sc.reclaimed;
      ++(sc.kswapd ? vm_.pgsteal_kswapd : vm_.pgsteal_direct);
      ++(file ? vm_.pgsteal_file : vm_.pgsteal_anon);
      continue;
    }
    putback(pfn, back);
  }
}

void Kernel::putback(Pfn pfn, Putback back) {
  Frame& g = mem_.frame(pfn);
  if (g.owner == FrameOwner::Free) return;
  if (g.flags & PG_mlocked) {
    lru_putback(pfn);
  } else if (back == Putback::Activate) {
    mem_.lru_add(pfn, lru_for(g, true));
    ++vm_.pgactivate;
  } else if (back == Putback::Rotate) {
    mem_.lru_add(pfn, lru_for(g, false), true);
    ++vm_.pgrotated;
  } else {
    lru_putback(pfn);
  }
}

uint64_t Kernel::shrink_node(uint64_t target, ScanControl& sc) {
  // shrink_node -> shrink_lruvec, priority by priority: each pass scans size >> priority
  // pages of each list. Anonymous lists are scanned only while swap has room
  // (can_reclaim_anon_pages); while the inactive file list has pages at this priority,
  // only file pages are (cache_trim_mode). Active lists are aged when their inactive
  // list is smaller than them (inactive_is_low, ratio 1 below 1 GiB).
  Watermarks wm = watermarks();
  for (int priority = DEF_PRIORITY; priority >= 0; --priority) {
    bool anon_ok = swap_.free() > 0;
    uint64_t inactive_file = mem_.lru_size(LruList::InactiveFile);
    bool file_only = !anon_ok || (inactive_file >> priority) > 0;
    for (LruList inactive : {LruList::InactiveAnon, LruList::InactiveFile}) {
      bool file = inactive == LruList::InactiveFile;
      if (!file && file_only) continue;
      LruList active = file ? LruList::ActiveFile : LruList::ActiveAnon;
      uint64_t weight = file ? 200 - cfg_.swappiness : cfg_.swappiness;
      auto scan_of = [&](LruList l) {
        uint64_t n = mem_.lru_size(l) >> priority;
        if (!file_only) n = n * weight / 200;
        if (n == 0 && priority == 0) n = mem_.lru_size(l);
        return n;
      };
      if (mem_.lru_size(inactive) < mem_.lru_size(active)) shrink_active_list(active, scan_of(active), sc);
      shrink_inactive_list(inactive, scan_of(inactive), sc);
    }
    if (sc.reclaimed >= target) break;
    if (sc.kswapd && mem_.free_count() > wm.high) break;
  }
  return sc.reclaimed;
}

void Kernel::kswapd() {
  // balance_pgdat: reclaim until the free pages are above the high watermark. After
  // MAX_RECLAIM_RETRIES runs that reclaimed nothing, wakeup_kswapd stops waking it
  // (kswapd_failures) until some reclaim makes progress again.
  if (in_reclaim_ || kswapd_failures_ >= MAX_RECLAIM_RETRIES) return;
  in_reclaim_ = true;
  ++vm_.pageoutrun;
  Watermarks wm = watermarks();
  ScanControl sc;
  sc.kswapd = true;
  uint64_t want = wm.high + 1 > mem_.free_count() ? wm.high + 1 - mem_.free_count() : 0;
  shrink_node(std::max(want, SWAP_CLUSTER_MAX), sc);
  kswapd_failures_ = sc.reclaimed ? 0 : kswapd_failures_ + 1;
  // A run that found nothing to scan says so only when kswapd gives up.
  if (sc.scanned || kswapd_failures_ == MAX_RECLAIM_RETRIES)
    emit({.kind = EventKind::Reclaim, .addr = sc.scanned, .value = sc.reclaimed, .level = 0});
  in_reclaim_ = false;
}

// ---------------------------------------------------------------------------------
// The OOM killer

uint64_t Kernel::oom_badness(Pid pid) const {
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return 0;
  return p->mm.rss() + p->mm.swapents + p->mm.pgtables.pages();
}

std::optional<uint64_t> Kernel::oom_score(Pid pid) const {
  const Process* p = process(pid);
  if (!p) return std::nullopt;
  uint64_t total = mem_.managed() + swap_.total();
  return total ? oom_badness(pid) * 1000 / total : 0;
}

bool Kernel::out_of_memory() {
  // select_bad_process: the largest oom_badness; on a tie the later process in the
  // task list wins (oom_evaluate_task replaces the choice unless points are lower).
  // vmplay's pid 1 is the user's program, not init: it can be chosen.
  Pid victim = 0;
  uint64_t best = 0;
  for (const auto& [pid, p] : procs_) {
    if (p.state != ProcState::Running || pid == constructing_) continue;
    uint64_t points = oom_badness(pid);
    if (victim == 0 || points >= best) {
      victim = pid;
      best = points;
    }
  }
  if (!victim) return false;
  Process& v = procs_.at(victim);
  OomReport rep{victim, v.comm, best, v.mm.total_vm, v.mm.rss_anon, v.mm.rss_file, v.mm.rss_shmem,
                v.mm.pgtables.pages()};
  oom_log_.push_back(rep);
  ++vm_.oom_kill;
  emit({.kind = EventKind::OomKill, .pid = victim, .value = oom_log_.size() - 1});
  if (victim == current_) {
    // The caller is the victim: its allocation fails and it dies on the way out.
    oom_pending_ = victim;
    return false;
  }
  kill_process(v, kSigKill);
  return true;
}

// ---------------------------------------------------------------------------------
// The allocator

std::optional<Pfn> Kernel::alloc_frame(FrameOwner owner, uint64_t owner_id, uint64_t index, uint32_t flags) {
  if (in_reclaim_) return mem_.alloc(owner, owner_id, index, flags);
  const Watermarks wm = watermarks();
  auto take = [&]() {
    ++vm_.pgalloc_normal;
    return mem_.alloc(owner, owner_id, index, flags);
  };
  // get_page_from_freelist's fast path: above the low watermark.
  if (mem_.free_count() > wm.low) return take();
  for (size_t kills = 0; kills <= procs_.size(); ++kills) {
    // __alloc_pages_slowpath: wake kswapd, try again down to the min watermark.
    kswapd();
    if (mem_.free_count() > wm.min) return take();
    // Direct reclaim, retried while it makes progress.
    for (int retry = 0; retry < MAX_RECLAIM_RETRIES; ++retry) {
      ++vm_.allocstall_normal;
      in_reclaim_ = true;
      ScanControl sc;
      shrink_node(SWAP_CLUSTER_MAX, sc);
      if (sc.scanned) emit({.kind = EventKind::Reclaim, .addr = sc.scanned, .value = sc.reclaimed, .level = 1});
      if (sc.reclaimed) kswapd_failures_ = 0;
      in_reclaim_ = false;
      if (mem_.free_count() > wm.min) return take();
      if (sc.reclaimed == 0) break;
    }
    if (!out_of_memory()) return std::nullopt;
    if (mem_.free_count() > wm.min) return take();
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// Overcommit

uint64_t Kernel::commit_limit() const {
  // vm_commit_limit: RAM * overcommit_ratio / 100 + swap.
  return mem_.managed() * cfg_.overcommit_ratio / 100 + swap_.total();
}

uint64_t Kernel::committed_pages() const {
  // vm_committed_as: every VM_ACCOUNT mapping, and shared anonymous memory (tmpfs
  // charges its size unless MAP_NORESERVE).
  uint64_t n = 0;
  for (const auto& [pid, p] : procs_) {
    if (p.state != ProcState::Running) continue;
    for (const auto& [s, v] : p.mm.vmas)
      if (v.flags & VM_ACCOUNT) n += v.pages();
  }
  for (const auto& [key, ino] : inodes_)
    if (ino.kind == InodeKind::Shmem) n += ino.accounted ? ino.pages() : ino.cache.size() + ino.swapped.size();
  return n;
}

bool Kernel::vm_enough_memory(const Mm& mm, uint64_t pages) {
  // __vm_enough_memory
  if (cfg_.overcommit_memory == 1) return true;
  auto refuse = [&](uint64_t limit, uint64_t committed) {
    commit_refusal_ = CommitRefusal{seq_, pages, limit, committed, cfg_.overcommit_memory};
    return false;
  };
  if (cfg_.overcommit_memory == 0)
    return pages <= mem_.managed() + swap_.total() || refuse(mem_.managed() + swap_.total(), 0);
  uint64_t allowed = commit_limit();
  // The admin reserve (3% of free memory at boot, at most 8 MiB) for a process
  // without CAP_SYS_ADMIN, and the user reserve (total_vm / 32, at most 128 MiB).
  uint64_t admin = std::min<uint64_t>(mem_.managed() / 32, (8ULL << 20) >> PAGE_SHIFT);
  uint64_t user = std::min<uint64_t>(mm.total_vm / 32, std::min<uint64_t>(mem_.managed() / 32, (128ULL << 20) >> PAGE_SHIFT));
  allowed = allowed > admin + user ? allowed - admin - user : 0;
  uint64_t committed = committed_pages();
  return committed + pages < allowed || refuse(allowed, committed);
}

// ---------------------------------------------------------------------------------
// Swap-in

void Kernel::count_swapin(const PageData& d) {
  // A slot of zeros was never written: reading it is no I/O (swpin_zero).
  if (page_is_zero(d)) {
    ++vm_.swpin_zero;
  } else {
    ++vm_.pswpin;
    vm_.pgpgin += 4;
  }
}

bool Kernel::do_swap_page(Process& p, Vma& vma, uint64_t addr, PteSlot slot, uint64_t e, Access kind,
                          AccessResult& r, bool user) {
  uint64_t s = pte_swp_offset(e);
  uint64_t page = addr & PAGE_MASK;
  if (!swap_.valid(s) || !swap_.slot(s).allocated) {
    fault_event(p, addr, kind, r, FaultKind::SigBus, Pfn{});
    if (user) force_sig_fault(p, kSigBus, kBusAdrErr, addr, r);
    return false;
  }
  bool exclusive = (e & _PAGE_SWP_EXCLUSIVE) != 0;
  bool major = false;
  Pfn pfn;
  if (swap_.slot(s).cache != kNoFrame) {
    pfn = Pfn{swap_.slot(s).cache};  // a swap-cache hit: no I/O
  } else {
    // A page of the VMA's anon_vma when exclusive, else of the oldest one (the root)
    // so that every process sharing the entry can find it.
    if (!vma.anon) vma.anon = next_anon_id_++;
    uint64_t owner = exclusive ? vma.anon : anon_root(vma.anon);
    uint64_t index = vma.pgoff + ((page - vma.start) >> PAGE_SHIFT);
    auto got = alloc_frame(FrameOwner::Anon, owner, index, PG_anon | PG_swapbacked | PG_uptodate);
    if (!got) {
      fault_oom(p, addr, kind, r, user);
      return false;
    }
    // The slot may have been touched while the allocator reclaimed: look again.
    if (!is_swap_pte(tables(p).get(slot)) || !swap_.slot(s).allocated) {
      mem_.free(*got);
      return true;
    }
    pfn = *got;
    Frame& f = mem_.frame(pfn);
    f.data = swap_.slot(s).data;
    f.flags |= PG_swapcache;
    f.swap = static_cast<uint32_t>(s);
    f.refcount = 1;  // the swap cache's
    swap_.slot(s).cache = static_cast<uint32_t>(pfn.value);
    mem_.lru_add(pfn, lru_for(f, false));
    major = true;
    count_swapin(swap_.slot(s).data);
  }
  Frame& f = mem_.frame(pfn);
  if (f.mapcount) exclusive = false;
  // Map it: the PTE's reference to the slot moves to the page.
  ++f.mapcount;
  ++f.refcount;
  ++p.mm.rss_anon;
  if (p.mm.swapents) --p.mm.swapents;
  if (swap_.slot(s).count) --swap_.slot(s).count;
  bool write = kind == Access::Write;
  // should_try_to_free_swap: swap more than half full, an mlocked page, or a write
  // by the only user frees the slot now.
  bool swap_full = swap_.used() * 2 > swap_.total();
  bool only_user = swap_.slot(s).count == 0 && f.mapcount == 1;
  if ((swap_full || (vma.flags & VM_LOCKED) || (write && only_user)) && swap_.slot(s).count == 0 && f.mapcount == 1) {
    delete_from_swap_cache(pfn);
    f.flags |= PG_dirty;  // folio_free_swap: the copy on swap is gone
    exclusive = true;
  }
  uint64_t ne = mk_pte(pfn, vm_get_page_prot(vma.flags));
  if (exclusive || (only_user && !(f.flags & PG_swapcache))) {
    f.flags |= PG_anon_exclusive;
    if (vma.flags & VM_WRITE) {
      ne |= _PAGE_RW;
      if (write) ne |= _PAGE_DIRTY;
    }
  } else {
    f.flags &= ~uint32_t{PG_anon_exclusive};
  }
  set_pte(p, slot, page, ne);
  p.mm.hiwater_rss = std::max(p.mm.hiwater_rss, p.mm.rss());
  this->fault_event(p, addr, kind, r, FaultKind::SwapIn, pfn, s, major ? 1 : 0);
  swap_.maybe_release(static_cast<uint32_t>(s));
  return true;
}

std::optional<Pfn> Kernel::shmem_swapin(Inode& ino, uint64_t index) {
  // shmem_swapin_folio: the page comes back into the page cache and its slot is freed.
  uint32_t s = ino.swapped.at(index);
  uint64_t key = (1ULL << 32) + ino.ino;
  auto pfn = alloc_frame(FrameOwner::Shmem, key, index, PG_uptodate | PG_swapbacked | PG_shmem | PG_dirty);
  if (!pfn) return std::nullopt;
  auto it = ino.swapped.find(index);
  if (it == ino.swapped.end() || it->second != s) {  // gone while the allocator reclaimed
    mem_.free(*pfn);
    return std::nullopt;
  }
  mem_.frame(*pfn).data = swap_.slot(s).data;
  ino.swapped.erase(it);
  swap_free_entry(s);
  ino.cache[index] = *pfn;
  lru_new_page(*pfn, nullptr);
  count_swapin(mem_.frame(*pfn).data);
  emit({.kind = EventKind::PageCacheAdd, .addr = index, .value = key, .pfn = *pfn, .level = 1});
  return pfn;
}

// ---------------------------------------------------------------------------------
// Advice that works on the LRU

void Kernel::madvise_cold_pageout(Process& p, const Vma& v, uint64_t start, uint64_t end, bool pageout) {
  // madvise_cold_or_pageout_pte_range: pages only this process maps are made old;
  // MADV_COLD moves active ones to the inactive list, MADV_PAGEOUT reclaims them now.
  std::vector<Pfn> list;
  const Inode* ino = v.inode ? inode(v.inode) : nullptr;
  // can_do_file_pageout: the file's owner, or someone allowed to write it.
  bool file_ok = ino && (ino->uid == kUserUid || (ino->mode & 0002));
  PageTables pt = tables(p);
  pt.for_each_pte(start, end, [&](uint64_t addr, PteSlot slot, uint64_t e) {
    if (!pte_present(e) || (e & _PAGE_SPECIAL)) return;
    Pfn pfn = pte_pfn(e);
    Frame& f = mem_.frame(pfn);
    if (f.owner == FrameOwner::Vdso || f.mapcount != 1) return;  // folio_maybe_mapped_shared
    if (pageout && !(f.flags & PG_anon) && !file_ok) return;
    // MADV_COLD makes the page old; MADV_PAGEOUT leaves the young bit (a page it
    // cannot reclaim keeps its history).
    if (!pageout && (e & _PAGE_ACCESSED)) {
      tables(p).set(slot, e & ~uint64_t{_PAGE_ACCESSED});
      (void)addr;
    }
    f.flags &= ~uint32_t{PG_referenced};
    if (pageout) {
      if (f.lru != LruList::None && f.lru != LruList::Unevictable) list.push_back(pfn);
    } else if (is_active(f.lru)) {
      // folio_deactivate
      mem_.lru_add(pfn, lru_for(f, false));
      ++vm_.pgdeactivate;
    }
  });
  if (!pageout || list.empty()) return;
  // reclaim_pages: shrink_folio_list with the references ignored.
  in_reclaim_ = true;
  ScanControl sc;
  sc.ignore_references = true;
  for (Pfn pfn : list) {
    if (mem_.frame(pfn).owner == FrameOwner::Free) continue;
    ++sc.scanned;
    Putback back;
    if (reclaim_folio(pfn, sc, back)) {
      ++sc.reclaimed;
      continue;
    }
    putback(pfn, back);
  }
  emit({.kind = EventKind::Reclaim, .pid = p.pid, .addr = sc.scanned, .value = sc.reclaimed, .level = 2});
  in_reclaim_ = false;
}

void Kernel::madvise_free(Process& p, const Vma& v, uint64_t start, uint64_t end) {
  // madvise_free_pte_range
  (void)v;
  struct Hit {
    uint64_t addr;
    PteSlot slot;
    uint64_t e;
  };
  std::vector<Hit> hits;
  tables(p).for_each_pte(start, end, [&](uint64_t addr, PteSlot slot, uint64_t e) { hits.push_back({addr, slot, e}); });
  for (const Hit& h : hits) {
    if (is_swap_pte(h.e)) {
      // A swapped-out page is simply forgotten.
      clear_pte(p, h.slot, h.addr);
      if (p.mm.swapents) --p.mm.swapents;
      swap_free_entry(pte_swp_offset(h.e));
      continue;
    }
    if (!pte_present(h.e) || (h.e & _PAGE_SPECIAL)) continue;
    Pfn pfn = pte_pfn(h.e);
    Frame& f = mem_.frame(pfn);
    if (!(f.flags & PG_anon)) continue;
    if ((f.flags & PG_swapcache) || (f.flags & PG_dirty)) {
      // Only a page nobody else maps may lose its swap copy or its dirty state.
      if (f.mapcount != 1) continue;
      if (f.flags & PG_swapcache) {
        if (swap_.slot(f.swap).count) continue;  // folio_free_swap fails
        ++f.refcount;  // keep it while it leaves the swap cache
        delete_from_swap_cache(pfn);
        --f.refcount;
      }
      f.flags &= ~uint32_t{PG_dirty};
    }
    if (h.e & (_PAGE_ACCESSED | _PAGE_DIRTY)) {
      uint64_t ne = h.e & ~uint64_t{_PAGE_ACCESSED | _PAGE_DIRTY};
      set_pte(p, h.slot, h.addr, ne);
    }
    // folio_mark_lazyfree -> lru_lazyfree: off the anon lists, onto the inactive file list.
    if ((f.flags & PG_swapbacked) && f.lru != LruList::Unevictable) {
      f.flags &= ~uint32_t{PG_swapbacked | PG_referenced | PG_active};
      mem_.lru_add(pfn, LruList::InactiveFile);
      ++vm_.pglazyfree;
    }
  }
}

void Kernel::madvise_willneed_anon(Process& p, const Vma& v, uint64_t start, uint64_t end) {
  // swapin_walk_pmd_entry: every swapped-out page in the range is read into the swap
  // cache (not mapped: the next touch is a minor fault).
  std::vector<uint64_t> slots;
  tables(p).for_each_pte(start, end, [&](uint64_t, PteSlot, uint64_t e) {
    if (is_swap_pte(e)) slots.push_back(pte_swp_offset(e));
  });
  for (uint64_t s : slots) {
    if (!swap_.valid(s) || !swap_.slot(s).allocated || swap_.slot(s).cache != kNoFrame) continue;
    uint64_t owner = anon_root(v.anon);
    auto pfn = alloc_frame(FrameOwner::Anon, owner, 0, PG_anon | PG_swapbacked | PG_uptodate);
    if (!pfn) return;
    if (!swap_.slot(s).allocated || swap_.slot(s).cache != kNoFrame) {
      mem_.free(*pfn);
      continue;
    }
    // The page index is the one the swap entry stands for (the first PTE holding it).
    Frame& f = mem_.frame(*pfn);
    for (const Mapper& m : swap_mappers(s)) {
      if (m.pid != p.pid) continue;
      f.index = v.pgoff + ((m.addr - v.start) >> PAGE_SHIFT);
      break;
    }
    f.data = swap_.slot(s).data;
    f.flags |= PG_swapcache;
    f.swap = static_cast<uint32_t>(s);
    swap_.slot(s).cache = static_cast<uint32_t>(pfn->value);
    mem_.lru_add(*pfn, lru_for(f, false));
    count_swapin(f.data);
  }
}

void Kernel::punch_hole(Inode& ino, uint64_t first, uint64_t last) {
  // fallocate(PUNCH_HOLE): unmap_mapping_range without the private copies, then the
  // page cache, the disk blocks and any swap go.
  uint64_t key = ino.kind == InodeKind::Shmem ? (1ULL << 32) + ino.ino : ino.ino;
  for (auto it = ino.cache.lower_bound(first); it != ino.cache.end() && it->first < last;) {
    Pfn pfn = it->second;
    rmap_walk(pfn, [&](Process& pr, const Vma&, uint64_t addr, PteSlot slot, uint64_t) {
      clear_pte(pr, slot, addr);
      put_page(pr, pfn, true);
    });
    emit({.kind = EventKind::PageCacheRemove, .addr = it->first, .value = key, .pfn = pfn});
    it = ino.cache.erase(it);
    put_cache_ref(pfn);
  }
  ino.disk.erase(ino.disk.lower_bound(first), ino.disk.lower_bound(last));
  for (auto it = ino.swapped.lower_bound(first); it != ino.swapped.end() && it->first < last;) {
    swap_free_entry(it->second);
    it = ino.swapped.erase(it);
  }
}

Errno Kernel::madvise_remove(Process& p, const Vma& v, uint64_t start, uint64_t end) {
  (void)p;
  if (v.flags & VM_LOCKED) return Errno::Inval;
  if (!v.inode || v.special != Special::None) return Errno::Inval;
  if ((v.flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE)) return Errno::Acces;
  Inode& ino = inodes_.at(v.inode);
  uint64_t first = v.pgoff + ((start - v.start) >> PAGE_SHIFT);
  uint64_t last = v.pgoff + ((end - v.start) >> PAGE_SHIFT);
  punch_hole(ino, first, last);
  return Errno::None;
}

// ---------------------------------------------------------------------------------
// /proc/vmstat

std::string Kernel::proc_vmstat() const {
  const PageCounts c = count_pages();
  // NR_FILE_PAGES counts the swap cache too (meminfo's Cached subtracts it again).
  const uint64_t file_pages = c.cache + c.swapcached;
  auto lru = [&](LruList l) { return mem_.lru_size(l); };
  std::string out;
  auto line = [&](const char* name, uint64_t v) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s %" PRIu64 "\n", name, v);
    out += buf;
  };
  line("nr_free_pages", mem_.free_count());
  line("nr_zone_inactive_anon", lru(LruList::InactiveAnon));
  line("nr_zone_active_anon", lru(LruList::ActiveAnon));
  line("nr_zone_inactive_file", lru(LruList::InactiveFile));
  line("nr_zone_active_file", lru(LruList::ActiveFile));
  line("nr_zone_unevictable", lru(LruList::Unevictable));
  line("nr_zone_write_pending", c.dirty);
  line("nr_mlock", c.mlocked);
  line("nr_inactive_anon", lru(LruList::InactiveAnon));
  line("nr_active_anon", lru(LruList::ActiveAnon));
  line("nr_inactive_file", lru(LruList::InactiveFile));
  line("nr_active_file", lru(LruList::ActiveFile));
  line("nr_unevictable", lru(LruList::Unevictable));
  line("nr_anon_pages", c.anon);
  line("nr_mapped", c.mapped);
  line("nr_file_pages", file_pages);
  line("nr_dirty", c.dirty);
  line("nr_writeback", 0);
  line("nr_shmem", c.shmem);
  line("nr_vmscan_write", vm_.nr_vmscan_write);
  line("nr_page_table_pages", c.pagetables);
  line("nr_swapcached", c.swapcached);
  line("pgpgin", vm_.pgpgin);
  line("pgpgout", vm_.pgpgout);
  line("pswpin", vm_.pswpin);
  line("pswpout", vm_.pswpout);
  line("pgalloc_normal", vm_.pgalloc_normal);
  line("allocstall_normal", vm_.allocstall_normal);
  line("pgfree", mem_.frees());
  line("pgactivate", vm_.pgactivate);
  line("pgdeactivate", vm_.pgdeactivate);
  line("pglazyfree", vm_.pglazyfree);
  line("pgfault", vm_.pgfault);
  line("pgmajfault", vm_.pgmajfault);
  line("pglazyfreed", vm_.pglazyfreed);
  line("pgrefill", vm_.pgrefill);
  line("pgreuse", vm_.pgreuse);
  line("pgsteal_kswapd", vm_.pgsteal_kswapd);
  line("pgsteal_direct", vm_.pgsteal_direct);
  line("pgscan_kswapd", vm_.pgscan_kswapd);
  line("pgscan_direct", vm_.pgscan_direct);
  line("pgscan_anon", vm_.pgscan_anon);
  line("pgscan_file", vm_.pgscan_file);
  line("pgsteal_anon", vm_.pgsteal_anon);
  line("pgsteal_file", vm_.pgsteal_file);
  line("pageoutrun", vm_.pageoutrun);
  line("pgrotated", vm_.pgrotated);
  line("oom_kill", vm_.oom_kill);
  line("unevictable_pgs_culled", vm_.unevictable_pgs_culled);
  line("swpin_zero", vm_.swpin_zero);
  line("swpout_zero", vm_.swpout_zero);
  return out;
}

}  // namespace vmplay::engine
