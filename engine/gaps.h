// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// The free gaps of an address space, for get_unmapped_area in O(log n): each VMA owns
// the gap below it (and a sentinel at TASK_SIZE owns the gap above the last VMA). A
// treap keyed by the owner's address, where each node knows the largest gap in its
// subtree, answers "the highest gap below X that is at least L long" by descending
// only into subtrees that can hold one (what the maple tree's gap tracking does).
// Nodes live in a vector and link by index, so copying an address space copies this.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace vmplay::engine {

class GapIndex {
 public:
  struct Gap {
    uint64_t owner = 0;  // start of the VMA above the gap (TASK_SIZE for the top gap)
    uint64_t start = 0;  // end of the VMA below (0 when none)
    uint64_t end = 0;    // where the free room ends: vm_start_gap(owner)
    uint64_t len() const { return end > start ? end - start : 0; }
  };

  void set(const Gap& g);        // insert or replace the gap of g.owner
  void erase(uint64_t owner);
  std::optional<Gap> get(uint64_t owner) const;
  // The gap with the highest owner <= max_owner whose length is at least len.
  std::optional<Gap> highest_fitting(uint64_t max_owner, uint64_t len) const;
  size_t size() const { return count_; }
  std::vector<Gap> all() const;  // in address order (for invariant checks)
  // Appends the owners in [lo, hi] to out, in order: O(log n + k).
  void owners_in(uint64_t lo, uint64_t hi, std::vector<uint64_t>& out) const;
  void clear();

 private:
  struct Node {
    Gap gap;
    uint64_t prio = 0;
    uint64_t max_len = 0;  // largest gap in this subtree
    int32_t left = -1, right = -1;
  };
  int32_t insert(int32_t t, int32_t n);
  int32_t remove(int32_t t, uint64_t owner);
  bool update(int32_t t, const Gap& g);  // replaces the gap of an owner present below t
  int32_t rotate_left(int32_t t);
  int32_t rotate_right(int32_t t);
  void pull(int32_t t);
  int32_t find(int32_t t, uint64_t owner) const;
  std::optional<Gap> query(int32_t t, uint64_t max_owner, uint64_t len) const;
  void collect(int32_t t, std::vector<Gap>& out) const;
  void collect_range(int32_t t, uint64_t lo, uint64_t hi, std::vector<uint64_t>& out) const;

  std::vector<Node> nodes_;
  std::vector<int32_t> free_;
  int32_t root_ = -1;
  size_t count_ = 0;
};

}  // namespace vmplay::engine
