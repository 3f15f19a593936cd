// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// PageIndex: a sparse map from page index to a value, kept in blocks of 64 consecutive
// indices (a presence bitmask and 64 slots each), like the kernel's xarray keeps a
// file's pages in 64-slot nodes. Neighbouring pages share a block, so the page cache's
// sequential lookups (fault-around, readahead, a truncate's range) touch one block per
// 64 pages instead of one tree node per page, and copying a machine copies blocks.
//
// The interface is the part of std::map the engine uses: find, count, at, operator[],
// lower_bound, erase (by key, iterator or range), in-order iteration. Iterators yield
// {first, second} by value, with `second` a reference into the block; erasing an entry
// invalidates only iterators to it (and to its block when that empties).
#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <type_traits>

namespace vmplay::engine {

template <class V>
class PageIndex {
  static constexpr unsigned kShift = 6;
  static constexpr uint64_t kSlots = uint64_t{1} << kShift;
  struct Block {
    uint64_t present = 0;  // bit i: slot i holds a value
    std::array<V, kSlots> slot{};
  };
  using Blocks = std::map<uint64_t, Block>;  // key: index >> kShift

 public:
  template <bool Const>
  class Iter {
    using BlockIt = std::conditional_t<Const, typename Blocks::const_iterator, typename Blocks::iterator>;
    using Ref = std::conditional_t<Const, const V&, V&>;

   public:
    struct Entry {
      uint64_t first;
      Ref second;
    };
    struct Arrow {
      Entry e;
      const Entry* operator->() const { return &e; }
    };
    Iter() = default;
    Iter(BlockIt b, BlockIt end, unsigned bit) : b_(b), end_(end), bit_(bit) {}
    // const_iterator from iterator
    template <bool C = Const, class = std::enable_if_t<C>>
    Iter(const Iter<false>& o) : b_(o.b_), end_(o.end_), bit_(o.bit_) {}  // NOLINT(google-explicit-constructor)

    Entry operator*() const { return {(b_->first << kShift) | bit_, b_->second.slot[bit_]}; }
    Arrow operator->() const { return {**this}; }
    Iter& operator++() {
      advance(bit_ + 1);
      return *this;
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.b_ == b.b_ && a.bit_ == b.bit_; }
    friend bool operator!=(const Iter& a, const Iter& b) { return !(a == b); }

   private:
    friend class PageIndex;
    template <bool>
    friend class Iter;
    // Moves to the first present slot at or after `from` in this block, or in the next ones.
    void advance(unsigned from) {
      while (b_ != end_) {
        uint64_t rest = from >= kSlots ? 0 : b_->second.present >> from << from;
        if (rest) {
          bit_ = static_cast<unsigned>(std::countr_zero(rest));
          return;
        }
        ++b_;
        from = 0;
      }
      bit_ = 0;
    }
    BlockIt b_{}, end_{};
    unsigned bit_ = 0;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator begin() { return first_from(blocks_.begin(), 0); }
  iterator end() { return {blocks_.end(), blocks_.end(), 0}; }
  const_iterator begin() const { return first_from(blocks_.begin(), 0); }
  const_iterator end() const { return {blocks_.end(), blocks_.end(), 0}; }

  // The first entry at or after `index`.
  iterator lower_bound(uint64_t index) { return first_from(blocks_.lower_bound(index >> kShift), index); }
  const_iterator lower_bound(uint64_t index) const {
    return first_from(blocks_.lower_bound(index >> kShift), index);
  }

  iterator find(uint64_t index) {
    auto b = blocks_.find(index >> kShift);
    if (b == blocks_.end() || !has(b->second, index)) return end();
    return {b, blocks_.end(), bit(index)};
  }
  const_iterator find(uint64_t index) const {
    auto b = blocks_.find(index >> kShift);
    if (b == blocks_.end() || !has(b->second, index)) return end();
    return {b, blocks_.end(), bit(index)};
  }
  size_t count(uint64_t index) const { return find_value(index) ? 1 : 0; }
  // The value at `index`, or nullptr.
  const V* find_value(uint64_t index) const {
    auto b = blocks_.find(index >> kShift);
    return b == blocks_.end() || !has(b->second, index) ? nullptr : &b->second.slot[bit(index)];
  }
  V& at(uint64_t index) {
    auto b = blocks_.find(index >> kShift);
    if (b == blocks_.end() || !has(b->second, index)) throw std::out_of_range("PageIndex::at");
    return b->second.slot[bit(index)];
  }
  const V& at(uint64_t index) const {
    const V* v = find_value(index);
    if (!v) throw std::out_of_range("PageIndex::at");
    return *v;
  }
  // The value at `index`, inserted as V{} when absent.
  V& operator[](uint64_t index) {
    Block& b = blocks_[index >> kShift];
    const uint64_t m = uint64_t{1} << bit(index);
    if (!(b.present & m)) {
      b.present |= m;
      ++size_;
    }
    return b.slot[bit(index)];
  }

  size_t erase(uint64_t index) {
    auto it = find(index);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }
  // Erases one entry; returns the iterator to the next.
  iterator erase(iterator it) {
    Block& blk = it.b_->second;
    blk.present &= ~(uint64_t{1} << it.bit_);
    blk.slot[it.bit_] = V{};
    --size_;
    if (blk.present == 0) return first_from(blocks_.erase(it.b_), 0);
    iterator next = it;
    next.advance(it.bit_ + 1);
    return next;
  }
  // Erases [first, last).
  iterator erase(iterator first, iterator last) {
    while (first != last) first = erase(first);
    return first;
  }

 private:
  static unsigned bit(uint64_t index) { return static_cast<unsigned>(index & (kSlots - 1)); }
  static bool has(const Block& b, uint64_t index) { return (b.present >> bit(index)) & 1; }
  template <class BlockIt>
  auto first_from(BlockIt b, uint64_t index) const {
    using It = std::conditional_t<std::is_same_v<BlockIt, typename Blocks::iterator>, iterator, const_iterator>;
    auto e = const_cast<Blocks&>(blocks_).end();
    It it{b, e, 0};
    if (b == e) return it;
    // Within the block that holds `index`, start at its slot; later blocks start at 0.
    it.advance(b->first == (index >> kShift) ? bit(index) : 0);
    return it;
  }

  Blocks blocks_;
  size_t size_ = 0;
};

}  // namespace vmplay::engine
