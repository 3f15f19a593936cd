// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// Physical memory: a frame table with per-frame metadata modelled on struct page.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "engine/types.h"

namespace vmplay::engine {

// Page flags, named after Linux's PG_* bits.
enum PageFlag : uint32_t {
  PG_anon = 1u << 0,
  PG_file = 1u << 1,
  PG_shmem = 1u << 2,
  PG_dirty = 1u << 3,
  PG_referenced = 1u << 4,
  PG_active = 1u << 5,
  PG_lru = 1u << 6,
  PG_swapbacked = 1u << 7,
  PG_pagetable = 1u << 8,
  PG_zero = 1u << 9,
  PG_mlocked = 1u << 10,
  PG_reserved = 1u << 11,
  PG_anon_exclusive = 1u << 12,  // PageAnonExclusive: only one process may map it
  PG_uptodate = 1u << 13,
  PG_swapcache = 1u << 14,   // in the swap cache: Frame::swap names its slot
  PG_unevictable = 1u << 15, // on the unevictable list (mlocked)
  PG_workingset = 1u << 16,  // was active before being deactivated
  PG_reclaim = 1u << 17,     // MADV_PAGEOUT / reclaim chose it
};

// The LRU lists of mm/vmscan.c (classic two-list LRU, not MGLRU): inactive and active
// for anonymous (swap-backed) and for file pages, plus the unevictable list.
enum class LruList : uint8_t { None, InactiveAnon, ActiveAnon, InactiveFile, ActiveFile, Unevictable };
constexpr int kLruLists = 6;  // indexed by LruList, None included
const char* lru_list_name(LruList l);  // "inactive_anon"
constexpr uint32_t kNoFrame = 0xffffffffu;

// Who a frame belongs to, for the reverse map.
enum class FrameOwner : uint8_t {
  Free,       // on the free list
  Reserved,   // firmware/kernel, never handed out
  ZeroPage,   // the shared zero page
  PageTable,  // a page-table page of process `owner_id`, level `index`
  Anon,       // anonymous page of anon identity `owner_id`, at page `index`
  File,       // page-cache page of inode `owner_id`, at page `index`
  Shmem,      // tmpfs page-cache page of inode `owner_id`, at page `index`
  Vdso,       // the kernel's vvar/vdso pages (at the top of RAM), page `index`
};

// The 4 KiB contents of a frame (or of a page on disk), shared copy-on-write: copying
// the machine (an undo snapshot) copies a pointer per page, and the first write after
// it copies the page. Empty means all zeros.
class PageData {
 public:
  bool empty() const { return !bytes_; }
  size_t size() const { return bytes_ ? bytes_->size() : 0; }
  uint8_t operator[](size_t i) const { return (*bytes_)[i]; }
  const uint8_t* data() const { return bytes_->data(); }
  void clear() { bytes_.reset(); }
  // The bytes, for writing: zeros when empty, a private copy when shared.
  uint8_t* mut() { return bytes_ && bytes_.use_count() == 1 ? bytes_->data() : mut_slow(); }
  // Only for tests: whether another copy of the machine shares these bytes.
  bool shared() const { return bytes_ && bytes_.use_count() > 1; }

 private:
  uint8_t* mut_slow();  // allocates zeros, or copies shared bytes
  std::shared_ptr<std::array<uint8_t, kPageSize>> bytes_;
};

struct Frame {
  uint32_t refcount = 0;  // page_ref_count
  uint32_t mapcount = 0;  // page_mapcount: PTEs mapping this frame
  uint32_t flags = 0;     // PageFlag bits
  FrameOwner owner = FrameOwner::Free;
  LruList lru = LruList::None;  // the list it is on (PG_lru)
  uint32_t lru_prev = kNoFrame, lru_next = kNoFrame;  // neighbours on that list (towards head / tail)
  uint32_t swap = 0;      // folio->swap: the swap slot, when PG_swapcache
  uint64_t owner_id = 0;  // anon identity, inode or pid, by `owner`
  // Page index within the owner: for anon, linear_page_index (the VMA's pgoff-based
  // index, which is vaddr >> 12 unless the VMA moved).
  uint64_t index = 0;
  // Contents, allocated when the frame is first written. Empty means all zeros.
  PageData data;
};

// Where page-table pages and other frames come from: the Kernel's allocator, which
// reclaims when memory is low.
class FrameSource {
 public:
  virtual std::optional<Pfn> alloc_frame(FrameOwner owner, uint64_t owner_id, uint64_t index, uint32_t flags) = 0;

 protected:
  ~FrameSource() = default;
};

struct PhysConfig {
  uint64_t frames = 0;  // 0 means the default (1024 frames = 4 MiB)
};

class PhysMem {
 public:
  static constexpr uint64_t kDefaultFrames = 1024;
  static constexpr uint64_t kMinFrames = 16;
  static constexpr uint64_t kMaxFrames = 1ULL << 20;  // 4 GiB of simulated RAM

  explicit PhysMem(PhysConfig cfg = {});

  uint64_t total() const { return frames_.size(); }
  // Frames the allocator can ever hand out (MemTotal): all but the reserved ones.
  uint64_t managed() const { return frames_.size() - 2 - kVdsoFrames; }
  uint64_t free_count() const { return free_count_; }
  const Frame& frame(Pfn pfn) const { return frames_.at(static_cast<size_t>(pfn.value)); }
  Frame& frame(Pfn pfn) { return frames_.at(static_cast<size_t>(pfn.value)); }
  const std::vector<Frame>& frames() const { return frames_; }
  Pfn zero_pfn() const { return zero_pfn_; }
  // The vvar (6 pages: vvar and vvar_vclock) and vdso (2 pages) frames.
  static constexpr uint64_t kVdsoFrames = 8;
  Pfn vdso_pfn(uint64_t page) const { return Pfn{frames_.size() - kVdsoFrames + page}; }

  // Takes the lowest-numbered free frame (deterministic) with refcount 1 and no
  // contents; nullopt when none is free (or when a test asked the next one to fail).
  std::optional<Pfn> alloc(FrameOwner owner, uint64_t owner_id, uint64_t index, uint32_t flags);
  uint64_t allocs() const { return allocs_; }
  // Counts page-table pages allocated and freed: while it stands still, no upper-level
  // page-table entry has changed (they change only when a table is added or removed).
  uint64_t table_generation() const { return table_generation_; }
  uint64_t frees() const { return frees_; }
  // Returns a frame whose refcount reached zero to the free list.
  void free(Pfn pfn);

  // Fault injection for tests: after `after` more successful allocations, the next
  // n allocations fail.
  void fail_next_allocs(uint32_t n, uint32_t after = 0) {
    fail_next_ = n;
    fail_after_ = after;
  }

  // Contents by byte and by 64-bit word (a page-table entry); inline, as the MMU's walk
  // and every fault use them.
  uint8_t read_byte(Pfn pfn, uint64_t offset) const {
    const Frame& f = frame(pfn);
    return f.data.empty() ? 0 : f.data[offset & (kPageSize - 1)];
  }
  void write_byte(Pfn pfn, uint64_t offset, uint8_t v) {
    Frame& f = frame(pfn);
    if (f.data.empty() && v == 0) return;  // still all zeros: keep it unallocated
    f.data.mut()[offset & (kPageSize - 1)] = v;
  }
  uint64_t read_u64(Pfn pfn, uint64_t index) const {
    const Frame& f = frame(pfn);
    if (f.data.empty()) return 0;
    uint64_t v;
    std::memcpy(&v, f.data.data() + (index % 512) * 8, 8);
    return v;  // little-endian on both x86-64 and wasm32
  }
  void write_u64(Pfn pfn, uint64_t index, uint64_t v) {
    Frame& f = frame(pfn);
    if (f.data.empty() && v == 0) return;
    std::memcpy(f.data.mut() + (index % 512) * 8, &v, 8);
  }
  void copy_frame(Pfn dst, Pfn src);
  void clear_frame(Pfn pfn) { frame(pfn).data.clear(); }

  // ---- LRU lists: head = most recently added, reclaim takes from the tail ----
  void lru_add(Pfn pfn, LruList list, bool at_tail = false);
  void lru_del(Pfn pfn);  // no-op when not on a list
  uint64_t lru_size(LruList list) const { return lru_[static_cast<int>(list)].count; }
  std::optional<Pfn> lru_tail(LruList list) const;
  std::optional<Pfn> lru_head(LruList list) const;
  // The neighbour towards the head (older to younger), for walking from the tail.
  std::optional<Pfn> lru_prev(Pfn pfn) const;
  std::optional<Pfn> lru_next(Pfn pfn) const;  // towards the tail

 private:
  struct LruHead {
    uint32_t head = kNoFrame, tail = kNoFrame;
    uint64_t count = 0;
  };
  std::vector<Frame> frames_;
  std::array<LruHead, kLruLists> lru_{};
  // The free list as a bitmap (bit set = free): copying the machine copies n/8 bytes,
  // and the lowest free frame is found from a word that has one.
  std::vector<uint64_t> free_bits_;
  uint64_t free_count_ = 0;
  size_t free_hint_ = 0;  // no free frame in the words below it
  Pfn zero_pfn_{};
  uint32_t fail_next_ = 0;
  uint32_t fail_after_ = 0;
  uint64_t allocs_ = 0, frees_ = 0, table_generation_ = 0;
};

}  // namespace vmplay::engine
