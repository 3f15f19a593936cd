// check_invariants(): proves the state is coherent, naming each violation.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {
std::string fmt(const char* f, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}
}  // namespace

std::vector<std::string> Kernel::check_invariants() const {
  std::vector<std::string> bad;
  const auto& frames = mem_.frames();
  std::vector<uint64_t> mapped(frames.size(), 0);     // PTEs mapping each frame
  std::vector<uint64_t> table_refs(frames.size(), 0); // page-table pages found by walks
  std::map<uint64_t, uint64_t> vma_refs, fd_refs;     // inode -> VMAs / descriptors using it
  std::vector<uint64_t> swap_refs(static_cast<size_t>(swap_.total() + 1), 0);  // swap PTEs per slot

  for (const auto& [pid_key, p] : procs_) {
    const Pid pid = pid_key;  // a plain local: lambdas below capture it
    const Mm& mm = p.mm;
    if (p.state != ProcState::Running) {
      if (!mm.vmas.empty() || mm.rss() != 0)
        bad.push_back(fmt("pid %d: exited but still has an address space", pid));
      continue;
    }
    // VMAs: ordered, aligned, non-overlapping, non-empty, inside user space.
    uint64_t prev_end = 0;
    uint64_t total = 0;
    for (const auto& [start, v] : mm.vmas) {
      if (start != v.start) bad.push_back(fmt("pid %d: VMA keyed at %" PRIx64 " starts at %" PRIx64, pid, start, v.start));
      if (offset_in_page(v.start) || offset_in_page(v.end))
        bad.push_back(fmt("pid %d: VMA %" PRIx64 "-%" PRIx64 " not page aligned", pid, v.start, v.end));
      if (v.end <= v.start) bad.push_back(fmt("pid %d: empty VMA at %" PRIx64, pid, v.start));
      if (v.start < prev_end)
        bad.push_back(fmt("pid %d: VMA %" PRIx64 "-%" PRIx64 " overlaps the one before", pid, v.start, v.end));
      if (v.end > TASK_SIZE) bad.push_back(fmt("pid %d: VMA %" PRIx64 " ends above TASK_SIZE", pid, v.start));
      prev_end = v.end;
      total += v.pages();
    }
    // The VMA tree is well formed, and each VMA weighs the gap it leaves below it.
    if (const char* err = mm.vmas.check_structure(); *err) bad.push_back(fmt("pid %d: VMA tree: %s", pid, err));
    for (auto it = mm.vmas.begin(); it != mm.vmas.end(); ++it) {
      uint64_t want = mm.gap_of(it->first).len();
      if (mm.vmas.weight(it) != want)
        bad.push_back(fmt("pid %d: the gap below %" PRIx64 " is indexed as %" PRIu64 " bytes, not %" PRIu64, pid, it->first,
                          mm.vmas.weight(it), want));
    }
    if (total != mm.total_vm)
      bad.push_back(fmt("pid %d: total_vm %" PRIu64 " but VMAs cover %" PRIu64 " pages", pid, mm.total_vm, total));

    // Page tables: walk every table, count tables and mapped frames.
    uint64_t anon_rss = 0, file_rss = 0, shmem_rss = 0, swap_ptes = 0;
    uint64_t tables_seen[5] = {0, 0, 0, 0, 0};
    auto visit = [&](auto&& self, Pfn table, int level, uint64_t base) -> void {
      if (table.value >= frames.size()) {
        bad.push_back(fmt("pid %d: table pfn %" PRIx64 " out of range", pid, table.value));
        return;
      }
      ++table_refs[static_cast<size_t>(table.value)];
      ++tables_seen[level];
      const Frame& tf = frames[static_cast<size_t>(table.value)];
      if (!(tf.flags & PG_pagetable) || tf.owner != FrameOwner::PageTable)
        bad.push_back(fmt("pid %d: level-%d table in frame %#" PRIx64 " is not marked as a page table", pid, level, table.value));
      for (uint64_t i = 0; i < 512; ++i) {
        uint64_t e = mem_.read_u64(table, i);
        if (e == 0) continue;
        uint64_t addr = base + i * pt_entry_span(level);
        if (level > 1) {
          if (!(e & _PAGE_PRESENT)) {
            bad.push_back(fmt("pid %d: non-present level-%d entry %#" PRIx64, pid, level, e));
            continue;
          }
          self(self, pte_pfn(e), level - 1, addr);
          continue;
        }
        const Vma* v = mm.vma_at(addr);
        if (!v) {
          bad.push_back(fmt("pid %d: PTE for %" PRIx64 " outside every VMA", pid, addr));
          continue;
        }
        if (is_swap_pte(e)) {
          uint64_t s = pte_swp_offset(e);
          if (!swap_.valid(s) || !swap_.slot(s).allocated)
            bad.push_back(fmt("pid %d: swap PTE for %" PRIx64 " names free or missing slot %" PRIu64, pid, addr, s));
          else
            ++swap_refs[static_cast<size_t>(s)];
          ++swap_ptes;
          if (!v->anon) bad.push_back(fmt("pid %d: swap entry at %" PRIx64 " in a VMA without anon_vma", pid, addr));
          continue;
        }
        if (!pte_present(e)) continue;  // PROT_NONE maps a frame
        Pfn pfn = pte_pfn(e);
        if (pfn.value >= frames.size()) {
          bad.push_back(fmt("pid %d: PTE for %" PRIx64 " maps pfn %#" PRIx64 " beyond RAM", pid, addr, pfn.value));
          continue;
        }
        if ((e & _PAGE_RW) && !(v->flags & VM_WRITE))
          bad.push_back(fmt("pid %d: PTE for %" PRIx64 " writable in a VMA without VM_WRITE", pid, addr));
        if (e & _PAGE_SPECIAL) {  // the zero page or a vvar PFN: no struct page accounting
          if (e & _PAGE_RW) bad.push_back(fmt("pid %d: special page mapped writable at %" PRIx64, pid, addr));
          if (pfn != mem_.zero_pfn() && frames[static_cast<size_t>(pfn.value)].owner != FrameOwner::Vdso)
            bad.push_back(fmt("pid %d: special PTE at %" PRIx64 " maps an ordinary frame", pid, addr));
          continue;
        }
        const Frame& f = frames[static_cast<size_t>(pfn.value)];
        if (f.owner == FrameOwner::Free)
          bad.push_back(fmt("pid %d: PTE for %" PRIx64 " maps free frame %#" PRIx64, pid, addr, pfn.value));
        if ((e & _PAGE_RW) && (f.flags & PG_anon) && f.mapcount != 1)
          bad.push_back(fmt("pid %d: PTE for %" PRIx64 " writable but frame %#" PRIx64 " has mapcount %u", pid, addr, pfn.value, f.mapcount));
        if ((e & _PAGE_RW) && !(f.flags & PG_anon) && !(v->flags & VM_SHARED))
          bad.push_back(fmt("pid %d: page-cache page writable in a private mapping at %" PRIx64, pid, addr));
        if (f.owner == FrameOwner::File || f.owner == FrameOwner::Shmem) {
          uint64_t want = v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
          if (f.owner_id != v->inode || f.index != want)
            bad.push_back(fmt("pid %d: PTE for %" PRIx64 " maps page %" PRIu64 " of inode %" PRIu64
                              ", not page %" PRIu64 " of the VMA's file", pid, addr, f.index, f.owner_id, want));
        } else if (f.owner == FrameOwner::Anon && v->is_anonymous() == false && (v->flags & VM_SHARED)) {
          bad.push_back(fmt("pid %d: anonymous page in a shared file mapping at %" PRIx64, pid, addr));
        }
        if (f.owner == FrameOwner::Anon) {
          // The reverse map must find this mapping: the page's index is the VMA's
          // linear index and its anon_vma is the VMA's or an ancestor's.
          uint64_t want = v->pgoff + ((addr - v->start) >> PAGE_SHIFT);
          if (f.index != want || !anon_related(v->anon, f.owner_id))
            bad.push_back(fmt("pid %d: anon page %#" PRIx64 " at %" PRIx64 " (index %" PRIu64 ", anon %" PRIu64
                              ") is out of the reach of the reverse map", pid, pfn.value, addr, f.index, f.owner_id));
        }
        ++mapped[static_cast<size_t>(pfn.value)];
        if (f.flags & PG_anon) ++anon_rss;
        else if (f.owner == FrameOwner::Shmem) ++shmem_rss;
        else ++file_rss;
      }
    };
    visit(visit, mm.pgd, 4, 0);
    if (tables_seen[1] != mm.pgtables.nr_pte_tables || tables_seen[2] != mm.pgtables.nr_pmd_tables ||
        tables_seen[3] != mm.pgtables.nr_pud_tables)
      bad.push_back(fmt("pid %d: page-table counters (pte %" PRIu64 ", pmd %" PRIu64 ", pud %" PRIu64
                        ") disagree with the walk (%" PRIu64 ", %" PRIu64 ", %" PRIu64 ")",
                        pid, mm.pgtables.nr_pte_tables, mm.pgtables.nr_pmd_tables, mm.pgtables.nr_pud_tables,
                        tables_seen[1], tables_seen[2], tables_seen[3]));
    if (anon_rss != mm.rss_anon)
      bad.push_back(fmt("pid %d: RssAnon counter %" PRIu64 " but the page tables map %" PRIu64, pid, mm.rss_anon, anon_rss));
    if (file_rss != mm.rss_file)
      bad.push_back(fmt("pid %d: RssFile counter %" PRIu64 " but the page tables map %" PRIu64, pid, mm.rss_file, file_rss));
    if (swap_ptes != mm.swapents)
      bad.push_back(fmt("pid %d: MM_SWAPENTS %" PRIu64 " but the page tables hold %" PRIu64 " swap entries", pid, mm.swapents, swap_ptes));
    if (shmem_rss != mm.rss_shmem)
      bad.push_back(fmt("pid %d: RssShmem counter %" PRIu64 " but the page tables map %" PRIu64, pid, mm.rss_shmem, shmem_rss));
    for (const auto& [s, v] : mm.vmas) {
      if (v.inode) ++vma_refs[v.inode];
    }
    for (const auto& f : p.fds)
      if (f) ++fd_refs[f->ino];
  }

  // Inodes: the page cache holds one reference per page; counts of users agree.
  std::vector<uint64_t> cached(frames.size(), 0);
  for (const auto& [key, ino] : inodes_) {
    for (const auto& [index, pfn] : ino.cache) {
      if (pfn.value >= frames.size()) continue;
      ++cached[static_cast<size_t>(pfn.value)];
      const Frame& f = frames[static_cast<size_t>(pfn.value)];
      if (f.owner_id != key || f.index != index)
        bad.push_back(fmt("inode %" PRIu64 ": cache page %" PRIu64 " is frame %#" PRIx64 " owned by %" PRIu64 "/%" PRIu64,
                          key, index, pfn.value, f.owner_id, f.index));
      if (index >= ino.pages())
        bad.push_back(fmt("inode %" PRIu64 ": cache page %" PRIu64 " past the end of the file", key, index));
    }
    for (const auto& [index, slot] : ino.swapped) {
      if (ino.cache.count(index))
        bad.push_back(fmt("inode %" PRIu64 ": page %" PRIu64 " both in the page cache and in swap", key, index));
      if (!swap_.valid(slot) || !swap_.slot(slot).allocated)
        bad.push_back(fmt("inode %" PRIu64 ": page %" PRIu64 " swapped to a free slot", key, index));
      else
        ++swap_refs[slot];
    }
    if (ino.map_count != vma_refs[key])
      bad.push_back(fmt("inode %" PRIu64 ": map_count %u but %" PRIu64 " VMAs map it", key, ino.map_count, vma_refs[key]));
    if (ino.open_count < fd_refs[key])
      bad.push_back(fmt("inode %" PRIu64 ": open_count %u but %" PRIu64 " descriptors", key, ino.open_count, fd_refs[key]));
  }

  // Frames: mapcount equals the PTEs mapping it; refcounts agree; free means unused.
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    switch (f.owner) {
      case FrameOwner::Free:
        if (f.refcount || f.mapcount || f.flags)
          bad.push_back(fmt("frame %#zx: free but refcount %u mapcount %u", i, f.refcount, f.mapcount));
        if (mapped[i] || table_refs[i]) bad.push_back(fmt("frame %#zx: free but in use", i));
        break;
      case FrameOwner::Anon: {
        uint32_t cache = (f.flags & PG_swapcache) ? 1 : 0;
        if (f.mapcount != mapped[i])
          bad.push_back(fmt("frame %#zx: mapcount %u but %" PRIu64 " PTEs map it", i, f.mapcount, mapped[i]));
        if (f.refcount != f.mapcount + cache)
          bad.push_back(fmt("frame %#zx: refcount %u but mapcount %u + swap cache %u", i, f.refcount, f.mapcount, cache));
        if (f.mapcount == 0 && !cache) bad.push_back(fmt("frame %#zx: anonymous page mapped nowhere", i));
        if (cache && (!swap_.valid(f.swap) || swap_.slot(f.swap).cache != i))
          bad.push_back(fmt("frame %#zx: in the swap cache for slot %u, which does not know it", i, f.swap));
        break;
      }
      case FrameOwner::File:
      case FrameOwner::Shmem:
        if (f.mapcount != mapped[i])
          bad.push_back(fmt("frame %#zx: mapcount %u but %" PRIu64 " PTEs map it", i, f.mapcount, mapped[i]));
        if (cached[i] != 1) bad.push_back(fmt("frame %#zx: page-cache page in %" PRIu64 " caches", i, cached[i]));
        if (f.refcount != f.mapcount + cached[i])
          bad.push_back(fmt("frame %#zx: refcount %u but mapcount %u + cache %" PRIu64, i, f.refcount, f.mapcount, cached[i]));
        break;
      case FrameOwner::PageTable:
        if (table_refs[i] != 1)
          bad.push_back(fmt("frame %#zx: page table reached %" PRIu64 " times", i, table_refs[i]));
        if (f.refcount != 1) bad.push_back(fmt("frame %#zx: page table with refcount %u", i, f.refcount));
        break;
      case FrameOwner::Vdso:
        if (f.mapcount != mapped[i])
          bad.push_back(fmt("frame %#zx: mapcount %u but %" PRIu64 " PTEs map it", i, f.mapcount, mapped[i]));
        if (f.refcount != 1 + f.mapcount)
          bad.push_back(fmt("frame %#zx: vDSO page with refcount %u, mapcount %u", i, f.refcount, f.mapcount));
        break;
      case FrameOwner::ZeroPage:
      case FrameOwner::Reserved:
        if (mapped[i] && f.owner == FrameOwner::Reserved)
          bad.push_back(fmt("frame %#zx: reserved frame mapped", i));
        break;
    }
  }
  // With no process running, only the page cache, the zero page and the kernel's own
  // frames may be in use.
  bool any_running = false;
  for (const auto& [pid, p] : procs_) any_running |= p.state == ProcState::Running;
  if (!any_running) {
    for (size_t i = 0; i < frames.size(); ++i) {
      FrameOwner o = frames[i].owner;
      if (o == FrameOwner::Anon || o == FrameOwner::PageTable)
        bad.push_back(fmt("frame %#zx: still in use with no process running", i));
      if ((o == FrameOwner::File || o == FrameOwner::Shmem) && frames[i].mapcount)
        bad.push_back(fmt("frame %#zx: still mapped with no process running", i));
    }
  }
  // LRU lists: each list links exactly the frames that say they are on it; every
  // user page is on one, on the right kind of list.
  {
    uint64_t on_lists = 0;
    for (int l = 1; l < kLruLists; ++l) {
      LruList list = static_cast<LruList>(l);
      uint64_t n = 0;
      std::optional<Pfn> last;
      for (auto at = mem_.lru_head(list); at && n <= frames.size(); at = mem_.lru_next(*at)) {
        const Frame& f = frames[static_cast<size_t>(at->value)];
        if (f.lru != list) bad.push_back(fmt("frame %#" PRIx64 ": linked on %s but says %s", at->value, lru_list_name(list), lru_list_name(f.lru)));
        if (mem_.lru_prev(*at).has_value() != last.has_value() || (last && mem_.lru_prev(*at)->value != last->value))
          bad.push_back(fmt("frame %#" PRIx64 ": broken back link on %s", at->value, lru_list_name(list)));
        last = at;
        ++n;
      }
      if (n != mem_.lru_size(list)) bad.push_back(fmt("%s holds %" PRIu64 " frames but counts %" PRIu64, lru_list_name(list), n, mem_.lru_size(list)));
      on_lists += n;
    }
    uint64_t claim = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      const Frame& f = frames[i];
      if (f.lru != LruList::None) ++claim;
      bool user = f.owner == FrameOwner::Anon || f.owner == FrameOwner::File || f.owner == FrameOwner::Shmem;
      if (user != (f.lru != LruList::None)) {
        bad.push_back(fmt("frame %#zx: %s page %s an LRU list", i, user ? "a user" : "a non-user", user ? "missing from" : "on"));
        continue;
      }
      if (!user) continue;
      bool mlocked = (f.flags & PG_mlocked) != 0;
      bool file = !(f.flags & PG_swapbacked);
      bool ok = mlocked ? f.lru == LruList::Unevictable
                        : (f.lru == (file ? LruList::InactiveFile : LruList::InactiveAnon) ||
                           f.lru == (file ? LruList::ActiveFile : LruList::ActiveAnon));
      if (!ok) bad.push_back(fmt("frame %#zx: %s page on %s", i, mlocked ? "mlocked" : file ? "file-backed" : "swap-backed", lru_list_name(f.lru)));
      bool active = f.lru == LruList::ActiveAnon || f.lru == LruList::ActiveFile;
      if (active != ((f.flags & PG_active) != 0)) bad.push_back(fmt("frame %#zx: PG_active disagrees with %s", i, lru_list_name(f.lru)));
    }
    if (claim != on_lists) bad.push_back(fmt("%" PRIu64 " frames say they are on an LRU list, %" PRIu64 " are linked", claim, on_lists));
  }
  // Swap: each slot's count is the swap PTEs and shmem pages that name it; a slot in
  // use has a reference or a swap-cache page; the swap cache and its frames agree.
  {
    uint64_t used = 0;
    for (uint64_t s = 1; s <= swap_.total(); ++s) {
      const SwapSlot& sl = swap_.slot(s);
      if (!sl.allocated) {
        if (sl.count || sl.cache != kNoFrame) bad.push_back(fmt("swap slot %" PRIu64 ": free but referenced", s));
        continue;
      }
      ++used;
      if (sl.count != swap_refs[static_cast<size_t>(s)])
        bad.push_back(fmt("swap slot %" PRIu64 ": count %u but %" PRIu64 " entries name it", s, sl.count, swap_refs[static_cast<size_t>(s)]));
      if (sl.count == 0 && sl.cache == kNoFrame) bad.push_back(fmt("swap slot %" PRIu64 ": allocated but unused (leaked)", s));
      if (sl.cache != kNoFrame) {
        const Frame& f = frames.at(sl.cache);
        if (!(f.flags & PG_swapcache) || f.swap != s || f.owner != FrameOwner::Anon)
          bad.push_back(fmt("swap slot %" PRIu64 ": swap cache names frame %#x, which is not its page", s, sl.cache));
      }
    }
    if (used != swap_.used()) bad.push_back(fmt("swap has %" PRIu64 " slots in use but counts %" PRIu64, used, swap_.used()));
  }
  uint64_t free_frames = 0;
  for (const Frame& f : frames) free_frames += f.owner == FrameOwner::Free;
  if (free_frames != mem_.free_count())
    bad.push_back(fmt("free list has %" PRIu64 " frames but %" PRIu64 " are marked free", mem_.free_count(), free_frames));
  return bad;
}

}  // namespace vmplay::engine
