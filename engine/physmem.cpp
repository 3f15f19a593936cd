#include "engine/physmem.h"

#include <algorithm>
#include <cstring>

namespace vmplay::engine {

uint8_t* PageData::mut_slow() {
  if (!bytes_) {
    bytes_ = std::make_shared<std::array<uint8_t, kPageSize>>();
    bytes_->fill(0);
  } else if (bytes_.use_count() > 1) {
    bytes_ = std::make_shared<std::array<uint8_t, kPageSize>>(*bytes_);
  }
  return bytes_->data();
}

PhysMem::PhysMem(PhysConfig cfg) {
  uint64_t n = cfg.frames ? cfg.frames : kDefaultFrames;
  n = std::clamp(n, kMinFrames, kMaxFrames);
  frames_.resize(static_cast<size_t>(n));
  // Frame 0 is reserved, as Linux reserves the first page of RAM; frame 1 is the
  // shared zero page.
  frames_[0].owner = FrameOwner::Reserved;
  frames_[0].flags = PG_reserved;
  frames_[0].refcount = 1;
  zero_pfn_ = Pfn{1};
  frames_[1].owner = FrameOwner::ZeroPage;
  frames_[1].flags = PG_reserved | PG_zero;
  frames_[1].refcount = 1;
  for (uint64_t i = 0; i < kVdsoFrames; ++i) {
    Frame& f = frames_[static_cast<size_t>(n - kVdsoFrames + i)];
    f.owner = FrameOwner::Vdso;
    f.flags = PG_reserved;
    f.refcount = 1;
    f.index = i;
  }
  if (n >= 8 + kVdsoFrames) {
    // The vDSO image starts with an ELF header.
    Frame& text = frames_[static_cast<size_t>(n - 2)];
    const uint8_t magic[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    std::copy(std::begin(magic), std::end(magic), text.data.mut());
  }
  free_bits_.assign(static_cast<size_t>((n + 63) / 64), 0);
  for (uint64_t i = 2; i < n - kVdsoFrames; ++i) free_bits_[static_cast<size_t>(i / 64)] |= 1ULL << (i % 64);
  free_count_ = n - kVdsoFrames - 2;
}

std::optional<Pfn> PhysMem::alloc(FrameOwner owner, uint64_t owner_id, uint64_t index,
                                  uint32_t flags) {
  if (fail_next_ > 0) {
    if (fail_after_ > 0) {
      --fail_after_;
    } else {
      --fail_next_;
      return std::nullopt;
    }
  }
  if (free_count_ == 0) return std::nullopt;
  while (free_bits_[free_hint_] == 0) ++free_hint_;  // free_count_ > 0: one is set
  uint64_t word = free_bits_[free_hint_];
  uint64_t n = free_hint_ * 64 + static_cast<uint64_t>(__builtin_ctzll(word));
  free_bits_[free_hint_] = word & (word - 1);
  --free_count_;
  ++allocs_;
  if (owner == FrameOwner::PageTable) ++table_generation_;
  Frame& f = frames_[static_cast<size_t>(n)];
  f = Frame{};
  f.refcount = 1;
  f.owner = owner;
  f.owner_id = owner_id;
  f.index = index;
  f.flags = flags;
  return Pfn{n};
}

void PhysMem::free(Pfn pfn) {
  lru_del(pfn);
  ++frees_;
  Frame& f = frame(pfn);
  if (f.owner == FrameOwner::PageTable) ++table_generation_;
  f = Frame{};
  size_t w = static_cast<size_t>(pfn.value / 64);
  free_bits_[w] |= 1ULL << (pfn.value % 64);
  ++free_count_;
  if (w < free_hint_) free_hint_ = w;
}

const char* lru_list_name(LruList l) {
  switch (l) {
    case LruList::None: return "none";
    case LruList::InactiveAnon: return "inactive_anon";
    case LruList::ActiveAnon: return "active_anon";
    case LruList::InactiveFile: return "inactive_file";
    case LruList::ActiveFile: return "active_file";
    case LruList::Unevictable: return "unevictable";
  }
  return "?";
}

void PhysMem::lru_add(Pfn pfn, LruList list, bool at_tail) {
  lru_del(pfn);
  if (list == LruList::None) return;
  Frame& f = frame(pfn);
  LruHead& h = lru_[static_cast<int>(list)];
  uint32_t n = static_cast<uint32_t>(pfn.value);
  f.lru = list;
  f.flags |= PG_lru;
  if (list == LruList::ActiveAnon || list == LruList::ActiveFile) f.flags |= PG_active;
  else f.flags &= ~uint32_t{PG_active};
  if (list == LruList::Unevictable) f.flags |= PG_unevictable;
  else f.flags &= ~uint32_t{PG_unevictable};
  if (h.count == 0) {
    f.lru_prev = f.lru_next = kNoFrame;
    h.head = h.tail = n;
  } else if (at_tail) {
    f.lru_prev = h.tail;
    f.lru_next = kNoFrame;
    frames_[h.tail].lru_next = n;
    h.tail = n;
  } else {
    f.lru_prev = kNoFrame;
    f.lru_next = h.head;
    frames_[h.head].lru_prev = n;
    h.head = n;
  }
  ++h.count;
}

void PhysMem::lru_del(Pfn pfn) {
  Frame& f = frame(pfn);
  if (f.lru == LruList::None) return;
  LruHead& h = lru_[static_cast<int>(f.lru)];
  if (f.lru_prev != kNoFrame) frames_[f.lru_prev].lru_next = f.lru_next;
  else h.head = f.lru_next;
  if (f.lru_next != kNoFrame) frames_[f.lru_next].lru_prev = f.lru_prev;
  else h.tail = f.lru_prev;
  --h.count;
  f.lru = LruList::None;
  f.lru_prev = f.lru_next = kNoFrame;
  f.flags &= ~uint32_t{PG_lru | PG_active | PG_unevictable};
}

std::optional<Pfn> PhysMem::lru_tail(LruList list) const {
  uint32_t t = lru_[static_cast<int>(list)].tail;
  if (t == kNoFrame) return std::nullopt;
  return Pfn{t};
}

std::optional<Pfn> PhysMem::lru_head(LruList list) const {
  uint32_t t = lru_[static_cast<int>(list)].head;
  if (t == kNoFrame) return std::nullopt;
  return Pfn{t};
}

std::optional<Pfn> PhysMem::lru_prev(Pfn pfn) const {
  uint32_t p = frame(pfn).lru_prev;
  if (p == kNoFrame) return std::nullopt;
  return Pfn{p};
}

std::optional<Pfn> PhysMem::lru_next(Pfn pfn) const {
  uint32_t p = frame(pfn).lru_next;
  if (p == kNoFrame) return std::nullopt;
  return Pfn{p};
}

void PhysMem::copy_frame(Pfn dst, Pfn src) {
  frame(dst).data = frame(src).data;
}

}  // namespace vmplay::engine
