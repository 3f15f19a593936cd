// /proc/PID/{maps,smaps,status} in fs/proc/task_mmu.c's and fs/proc/array.c's formats.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "engine/kernel.h"

namespace vmplay::engine {

namespace {

constexpr const char* kVsyscallLine =
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

// show_vma_header_prefix + the name padded to column 73 (seq_pad).
void vma_header(std::string& out, const Vma& v, const Inode* ino, const std::string& name) {
  char buf[160];
  uint64_t off = ino ? v.pgoff << PAGE_SHIFT : 0;
  int n = std::snprintf(buf, sizeof buf,
                        "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                        v.start, v.end, (v.flags & VM_READ) ? 'r' : '-', (v.flags & VM_WRITE) ? 'w' : '-',
                        (v.flags & VM_EXEC) ? 'x' : '-', (v.flags & VM_MAYSHARE) ? 's' : 'p', off,
                        ino ? ino->dev_major : 0u, ino ? ino->dev_minor : 0u, ino ? ino->ino : uint64_t{0});
  out.append(buf, static_cast<size_t>(n));
  if (!name.empty()) {
    if (n < 72) out.append(static_cast<size_t>(72 - n), ' ');
    out.push_back(' ');
    out += name;
  }
  out.push_back('\n');
}

// "Size:" padded to 16 columns, the value in 8, then " kB".
void kb_line(std::string& out, const char* key, uint64_t kb) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-16s%8" PRIu64 " kB\n", key, kb);
  out += buf;
}

// show_smap_vma_flags: two letters per vm_flags bit, in bit order.
std::string vm_flag_mnemonics(uint64_t flags) {
  static const char* const names[64] = {
      "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms",  // 0-7
      "gd", nullptr, "pf", nullptr, nullptr, "lo", "io", "sr",  // 8-15
      "rr", "dc", "de", "lf", "ac", "nr", "ht", "sf",  // 16-23
      "ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg",  // 24-31
  };
  std::string out = "VmFlags: ";
  for (int bit = 0; bit < 64; ++bit) {
    if ((flags >> bit) & 1) {
      if (names[bit]) {
        out += names[bit];
        out += ' ';
      }
    }
  }
  out += '\n';
  return out;
}

}  // namespace

// get_vma_name: the file, a special mapping's name, or [heap]/[stack] by position.
std::string Kernel::vma_name(const Process& p, const Vma& v) const {
  const Mm& mm = p.mm;
  if (v.inode) {
    const Inode* ino = inode(v.inode);
    return ino ? ino->display_name() : std::string();
  }
  switch (v.special) {
    case Special::Vvar: return "[vvar]";
    case Special::VvarVclock: return "[vvar_vclock]";
    case Special::Vdso: return "[vdso]";
    case Special::None: break;
  }
  if (!v.name.empty()) return v.name;
  if (v.start < mm.brk && v.end > mm.start_brk) return "[heap]";  // vma_is_initial_heap
  if (mm.start_stack && v.start <= mm.start_stack && v.end >= mm.start_stack) return "[stack]";
  return "";
}

std::optional<uint64_t> Kernel::pagemap_entry(Pid pid, uint64_t addr) const {
  // fs/proc/task_mmu.c pte_to_pagemap_entry, as root (PFNs shown).
  constexpr uint64_t PM_SOFT_DIRTY = 1ULL << 55, PM_MMAP_EXCLUSIVE = 1ULL << 56, PM_FILE = 1ULL << 61,
                     PM_PRESENT = 1ULL << 63, PM_PFRAME_MASK = (1ULL << 55) - 1;
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return std::nullopt;
  const Vma* v = p->mm.vma_at(addr);
  if (!v) return 0;
  uint64_t flags = (v->flags & VM_SOFTDIRTY) ? PM_SOFT_DIRTY : 0;
  PageTables pt = tables(*p);
  auto slot = pt.find_pte(addr);
  uint64_t e = slot ? pt.get(*slot) : 0;
  if (is_swap_pte(e)) {
    // A swap entry: PM_SWAP, with the type in bits 0-4 and the offset above them.
    constexpr uint64_t PM_SWAP = 1ULL << 62, MAX_SWAPFILES_SHIFT = 5;
    return flags | PM_SWAP | ((pte_swp_type(e) | (pte_swp_offset(e) << MAX_SWAPFILES_SHIFT)) & PM_PFRAME_MASK);
  }
  if (!pte_present(e)) return flags;
  uint64_t out = flags | PM_PRESENT | (pte_pfn(e).value & PM_PFRAME_MASK);
  if (!(e & _PAGE_SPECIAL)) {  // vm_normal_page: not the zero page, not a raw PFN
    const Frame& f = mem_.frame(pte_pfn(e));
    if (!(f.flags & PG_anon)) out |= PM_FILE;
    if (f.mapcount == 1) out |= PM_MMAP_EXCLUSIVE;
  }
  return out;
}

Kernel::PageCounts Kernel::count_pages() const {
  PageCounts c;
  for (const Frame& f : mem_.frames()) {
    if (f.flags & PG_mlocked) ++c.mlocked;
    if (f.flags & PG_swapcache) ++c.swapcached;
    switch (f.owner) {
      case FrameOwner::Reserved: case FrameOwner::Vdso: case FrameOwner::ZeroPage: continue;
      case FrameOwner::File:
      case FrameOwner::Shmem:
        ++c.cache;
        if (f.flags & PG_dirty) ++c.dirty;
        if (f.owner == FrameOwner::Shmem) ++c.shmem;
        if (f.mapcount) ++c.mapped;
        break;
      case FrameOwner::Anon:
        if (f.mapcount) ++c.anon;
        break;
      case FrameOwner::PageTable: ++c.pagetables; break;
      case FrameOwner::Free: break;
    }
    ++c.total;
  }
  return c;
}

std::string Kernel::proc_meminfo() const {
  // fs/proc/meminfo.c: "Key:" padded to 16 columns, the value in 8, " kB".
  const PageCounts c = count_pages();
  const uint64_t free_pages = mem_.free_count();
  std::string out;
  auto line = [&](const char* key, uint64_t pages) { kb_line(out, key, pages << (PAGE_SHIFT - 10)); };
  auto lru = [&](LruList l) { return mem_.lru_size(l); };
  // si_mem_available: free pages above the reserve, plus the page cache that could go
  // (less what the low watermark keeps).
  Watermarks wm = watermarks();
  uint64_t pagecache = lru(LruList::ActiveFile) + lru(LruList::InactiveFile);
  int64_t available = static_cast<int64_t>(free_pages) - static_cast<int64_t>(wm.high) +
                      static_cast<int64_t>(pagecache - std::min(pagecache / 2, wm.low));
  line("MemTotal:", c.total);
  line("MemFree:", free_pages);
  line("MemAvailable:", available > 0 ? static_cast<uint64_t>(available) : 0);
  line("Buffers:", 0);
  line("Cached:", c.cache);
  line("SwapCached:", c.swapcached);
  line("Active:", lru(LruList::ActiveAnon) + lru(LruList::ActiveFile));
  line("Inactive:", lru(LruList::InactiveAnon) + lru(LruList::InactiveFile));
  line("Active(anon):", lru(LruList::ActiveAnon));
  line("Inactive(anon):", lru(LruList::InactiveAnon));
  line("Active(file):", lru(LruList::ActiveFile));
  line("Inactive(file):", lru(LruList::InactiveFile));
  line("Unevictable:", lru(LruList::Unevictable));
  line("Mlocked:", c.mlocked);
  line("SwapTotal:", swap_.total());
  line("SwapFree:", swap_.free());
  line("Dirty:", c.dirty);
  line("Writeback:", 0);
  line("AnonPages:", c.anon);
  line("Mapped:", c.mapped);
  line("Shmem:", c.shmem);
  line("PageTables:", c.pagetables);
  line("CommitLimit:", commit_limit());
  line("Committed_AS:", committed_pages());
  return out;
}

std::string Kernel::proc_swaps() const {
  // mm/swapfile.c swap_show: the path padded to 40 columns, the type ("file\t" for a
  // swap file), sizes in kB (measured: "/tmp/vmpswap  ...  file\t\t252\t\t0\t\t-2").
  std::string out = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
  if (!swap_.total()) return out;
  const std::string path = "/swapfile";
  uint64_t size = swap_.total() * 4, used = swap_.used() * 4;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s%*s%s\t%" PRIu64 "\t%s%" PRIu64 "\t%s%d\n", path.c_str(),
                static_cast<int>(40 - path.size()), " ", "file\t", size, size < 10000000 ? "\t" : "", used,
                used < 10000000 ? "\t" : "", -2);
  out += buf;
  return out;
}

std::optional<std::vector<uint8_t>> Kernel::peek(Pid pid, uint64_t addr, uint64_t n) const {
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return std::nullopt;
  std::vector<uint8_t> out;
  PageTables pt = tables(*p);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t a = addr + i;
    if (a >= TASK_SIZE) return std::nullopt;
    auto slot = pt.find_pte(a);
    if (!slot) return std::nullopt;
    uint64_t e = pt.get(*slot);
    if (!(e & _PAGE_PRESENT)) return std::nullopt;
    out.push_back(mem_.read_byte(pte_pfn(e), a & ~PAGE_MASK));
  }
  return out;
}

std::optional<std::string> Kernel::proc_maps(Pid pid) const {
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return std::nullopt;
  std::string out;
  for (const auto& [s, v] : p->mm.vmas) {
    const Inode* ino = v.inode ? inode(v.inode) : nullptr;
    vma_header(out, v, ino, vma_name(*p, v));
  }
  if (p->mm.start_stack) out += kVsyscallLine;
  return out;
}

std::optional<std::string> Kernel::proc_smaps(Pid pid) const {
  const Process* p = process(pid);
  if (!p || p->state != ProcState::Running) return std::nullopt;
  constexpr uint64_t PSS_SHIFT = 12;
  std::string out;
  for (const auto& [s, v] : p->mm.vmas) {
    // smaps_pte_entry / smaps_account
    uint64_t resident = 0, pss = 0, pss_dirty = 0, shared_clean = 0, shared_dirty = 0,
             private_clean = 0, private_dirty = 0, referenced = 0, anonymous = 0, pss_locked = 0,
             lazyfree = 0, swap = 0, swap_pss = 0;
    bool locked = (v.flags & VM_LOCKED) != 0;
    const Inode* shm = v.inode ? inode(v.inode) : nullptr;
    if (shm && shm->kind != InodeKind::Shmem) shm = nullptr;
    tables(*p).for_each_pte(v.start, v.end, [&](uint64_t, PteSlot, uint64_t e) {
      if (is_swap_pte(e)) {
        swap += kPageSize;
        uint64_t n = swap_.valid(pte_swp_offset(e)) ? swap_.slot(pte_swp_offset(e)).count : 1;
        swap_pss += (kPageSize << PSS_SHIFT) / (n >= 2 ? n : 1);
        return;
      }
      if (!pte_present(e) || (e & _PAGE_SPECIAL)) return;  // the zero page is not "normal"
      const Frame& f = mem_.frame(pte_pfn(e));
      // A lazily freed page counts until it is written again (then it is kept).
      if ((f.flags & PG_anon) && !(f.flags & PG_swapbacked) && !(e & _PAGE_DIRTY) && !(f.flags & PG_dirty))
        lazyfree += kPageSize;
      bool young = (e & _PAGE_ACCESSED) || (f.flags & PG_referenced);
      bool dirty = (e & _PAGE_DIRTY) || (f.flags & PG_dirty);
      if (f.flags & PG_anon) anonymous += kPageSize;
      resident += kPageSize;
      if (young) referenced += kPageSize;
      bool priv = f.refcount == 1 || f.mapcount < 2;
      uint64_t share = (kPageSize << PSS_SHIFT) / (priv ? 1 : f.mapcount);
      pss += share;
      if (locked) pss_locked += share;
      if (dirty) {
        pss_dirty += share;
        (priv ? private_dirty : shared_dirty) += kPageSize;
      } else {
        (priv ? private_clean : shared_clean) += kPageSize;
      }
    });
    if (shm) {
      // shmem_swap_usage: the file's pages in swap within the VMA's range (for a private
      // writable mapping, only where no PTE is present).
      PageTables spt = tables(*p);
      for (auto it = shm->swapped.lower_bound(v.pgoff); it != shm->swapped.end() && it->first < v.pgoff + v.pages(); ++it) {
        if ((v.flags & VM_WRITE) && !(v.flags & VM_SHARED)) {
          auto sl = spt.find_pte(v.start + ((it->first - v.pgoff) << PAGE_SHIFT));
          if (sl && !pte_none(spt.get(*sl))) continue;
        }
        swap += kPageSize;
      }
    }
    const Inode* ino = v.inode ? inode(v.inode) : nullptr;
    vma_header(out, v, ino, vma_name(*p, v));
    kb_line(out, "Size:", (v.end - v.start) >> 10);
    kb_line(out, "KernelPageSize:", kPageSize >> 10);
    kb_line(out, "MMUPageSize:", kPageSize >> 10);
    kb_line(out, "Rss:", resident >> 10);
    kb_line(out, "Pss:", pss >> (10 + PSS_SHIFT));
    kb_line(out, "Pss_Dirty:", pss_dirty >> (10 + PSS_SHIFT));
    kb_line(out, "Shared_Clean:", shared_clean >> 10);
    kb_line(out, "Shared_Dirty:", shared_dirty >> 10);
    kb_line(out, "Private_Clean:", private_clean >> 10);
    kb_line(out, "Private_Dirty:", private_dirty >> 10);
    kb_line(out, "Referenced:", referenced >> 10);
    kb_line(out, "Anonymous:", anonymous >> 10);
    kb_line(out, "KSM:", 0);
    kb_line(out, "LazyFree:", lazyfree >> 10);
    kb_line(out, "AnonHugePages:", 0);
    kb_line(out, "ShmemPmdMapped:", 0);
    kb_line(out, "FilePmdMapped:", 0);
    kb_line(out, "Shared_Hugetlb:", 0);
    kb_line(out, "Private_Hugetlb:", 0);
    kb_line(out, "Swap:", swap >> 10);
    kb_line(out, "SwapPss:", swap_pss >> (10 + PSS_SHIFT));
    kb_line(out, "Locked:", pss_locked >> (10 + PSS_SHIFT));
    out += "THPeligible:           0\n";  // THP is "madvise" here and no VMA asks for it
    out += vm_flag_mnemonics(v.flags);
  }
  if (p->mm.start_stack) {
    // The vsyscall gate page (vsyscall=xonly): in every 64-bit process, in no VMA tree.
    out += kVsyscallLine;
    for (const char* key : {"Size:", "KernelPageSize:", "MMUPageSize:"}) kb_line(out, key, 4);
    for (const char* key : {"Rss:", "Pss:", "Pss_Dirty:", "Shared_Clean:", "Shared_Dirty:", "Private_Clean:",
                            "Private_Dirty:", "Referenced:", "Anonymous:", "KSM:", "LazyFree:", "AnonHugePages:",
                            "ShmemPmdMapped:", "FilePmdMapped:", "Shared_Hugetlb:", "Private_Hugetlb:", "Swap:",
                            "SwapPss:", "Locked:"})
      kb_line(out, key, 0);
    out += "THPeligible:           0\n";
    out += "VmFlags: ex \n";
  }
  return out;
}

std::optional<std::string> Kernel::proc_status(Pid pid) const {
  const Process* p = process(pid);
  if (!p) return std::nullopt;
  const Mm& mm = p->mm;
  std::string out;
  char buf[96];
  auto line = [&](const char* key, uint64_t kb) {
    std::snprintf(buf, sizeof buf, "%s\t%8" PRIu64 " kB\n", key, kb);
    out += buf;
  };
  out += "Name:\t" + p->comm + "\n";
  out += std::string("State:\t") + (p->state == ProcState::Running ? "R (running)" : "Z (zombie)") + "\n";
  out += "Tgid:\t" + std::to_string(p->pid) + "\n";
  out += "Pid:\t" + std::to_string(p->pid) + "\n";
  out += "PPid:\t" + std::to_string(p->ppid) + "\n";
  if (p->state == ProcState::Running) {
    // task_mem(): kB = pages << (PAGE_SHIFT - 10).
    auto kb = [](uint64_t pages) { return pages << (PAGE_SHIFT - 10); };
    uint64_t rss = mm.rss();
    // VmExe: the text between start_code and end_code, page-rounded; VmLib the rest
    // of the executable mappings.
    uint64_t text = mm.end_code ? (page_align(mm.end_code) - (mm.start_code & PAGE_MASK)) >> 10 : 0;
    line("VmPeak:", kb(mm.hiwater_vm));
    line("VmSize:", kb(mm.total_vm));
    line("VmLck:", kb(mm.locked_vm));
    line("VmPin:", 0);
    line("VmHWM:", kb(std::max(mm.hiwater_rss, rss)));
    line("VmRSS:", kb(rss));
    line("RssAnon:", kb(mm.rss_anon));
    line("RssFile:", kb(mm.rss_file));
    line("RssShmem:", kb(mm.rss_shmem));
    line("VmData:", kb(mm.data_vm));
    line("VmStk:", kb(mm.stack_vm));
    line("VmExe:", text);
    line("VmLib:", kb(mm.exec_vm) - text);
    line("VmPTE:", (mm.pgtables.pages() * kPageSize) >> 10);
    line("VmSwap:", kb(mm.swapents));
  }
  out += "Threads:\t1\n";
  return out;
}

}  // namespace vmplay::engine
