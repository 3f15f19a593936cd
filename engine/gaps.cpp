#include "engine/gaps.h"

#include <algorithm>

namespace vmplay::engine {

namespace {
// A fixed hash of the key as the treap priority: deterministic, well mixed.
uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

void GapIndex::pull(int32_t t) {
  Node& n = nodes_[static_cast<size_t>(t)];
  n.max_len = n.gap.len();
  if (n.left >= 0) n.max_len = std::max(n.max_len, nodes_[static_cast<size_t>(n.left)].max_len);
  if (n.right >= 0) n.max_len = std::max(n.max_len, nodes_[static_cast<size_t>(n.right)].max_len);
}

int32_t GapIndex::rotate_right(int32_t t) {
  int32_t l = nodes_[static_cast<size_t>(t)].left;
  nodes_[static_cast<size_t>(t)].left = nodes_[static_cast<size_t>(l)].right;
  nodes_[static_cast<size_t>(l)].right = t;
  pull(t);
  pull(l);
  return l;
}

int32_t GapIndex::rotate_left(int32_t t) {
  int32_t r = nodes_[static_cast<size_t>(t)].right;
  nodes_[static_cast<size_t>(t)].right = nodes_[static_cast<size_t>(r)].left;
  nodes_[static_cast<size_t>(r)].left = t;
  pull(t);
  pull(r);
  return r;
}

int32_t GapIndex::insert(int32_t t, int32_t n) {
  if (t < 0) return n;
  Node& node = nodes_[static_cast<size_t>(t)];
  const Node& nn = nodes_[static_cast<size_t>(n)];
  if (nn.gap.owner < node.gap.owner) {
    int32_t l = insert(node.left, n);
    nodes_[static_cast<size_t>(t)].left = l;
    if (nodes_[static_cast<size_t>(l)].prio > nodes_[static_cast<size_t>(t)].prio) return rotate_right(t);
  } else {
    int32_t r = insert(node.right, n);
    nodes_[static_cast<size_t>(t)].right = r;
    if (nodes_[static_cast<size_t>(r)].prio > nodes_[static_cast<size_t>(t)].prio) return rotate_left(t);
  }
  pull(t);
  return t;
}

int32_t GapIndex::remove(int32_t t, uint64_t owner) {
  if (t < 0) return t;
  Node& node = nodes_[static_cast<size_t>(t)];
  if (owner < node.gap.owner) {
    nodes_[static_cast<size_t>(t)].left = remove(node.left, owner);
  } else if (owner > node.gap.owner) {
    nodes_[static_cast<size_t>(t)].right = remove(node.right, owner);
  } else {
    // Rotate the node down until it is a leaf, then drop it.
    int32_t l = node.left, r = node.right;
    if (l < 0 && r < 0) {
      free_.push_back(t);
      --count_;
      return -1;
    }
    int32_t top;
    if (r < 0 || (l >= 0 && nodes_[static_cast<size_t>(l)].prio > nodes_[static_cast<size_t>(r)].prio)) {
      top = rotate_right(t);
      nodes_[static_cast<size_t>(top)].right = remove(nodes_[static_cast<size_t>(top)].right, owner);
    } else {
      top = rotate_left(t);
      nodes_[static_cast<size_t>(top)].left = remove(nodes_[static_cast<size_t>(top)].left, owner);
    }
    pull(top);
    return top;
  }
  pull(t);
  return t;
}

int32_t GapIndex::find(int32_t t, uint64_t owner) const {
  while (t >= 0) {
    const Node& n = nodes_[static_cast<size_t>(t)];
    if (owner == n.gap.owner) return t;
    t = owner < n.gap.owner ? n.left : n.right;
  }
  return -1;
}

bool GapIndex::update(int32_t t, const Gap& g) {
  if (t < 0) return false;
  Node& n = nodes_[static_cast<size_t>(t)];
  if (g.owner != n.gap.owner) {
    if (!update(g.owner < n.gap.owner ? n.left : n.right, g)) return false;
  } else {
    n.gap = g;
  }
  pull(t);
  return true;
}

void GapIndex::set(const Gap& g) {
  // The priority is a hash of the owner, so the tree's shape depends only on the set of
  // owners: a gap that changes in place keeps its node, and only the maxima on the path
  // from the root are refreshed.
  if (int32_t at = find(root_, g.owner); at >= 0) {
    const Gap& old = nodes_[static_cast<size_t>(at)].gap;
    if (old.start != g.start || old.end != g.end) update(root_, g);
    return;
  }
  int32_t n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = static_cast<int32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& node = nodes_[static_cast<size_t>(n)];
  node = Node{};
  node.gap = g;
  node.prio = mix(g.owner);
  node.max_len = g.len();
  ++count_;
  root_ = insert(root_, n);
}

void GapIndex::erase(uint64_t owner) {
  if (find(root_, owner) < 0) return;
  root_ = remove(root_, owner);
}

std::optional<GapIndex::Gap> GapIndex::get(uint64_t owner) const {
  int32_t at = find(root_, owner);
  if (at < 0) return std::nullopt;
  return nodes_[static_cast<size_t>(at)].gap;
}

std::optional<GapIndex::Gap> GapIndex::query(int32_t t, uint64_t max_owner, uint64_t len) const {
  if (t < 0) return std::nullopt;
  const Node& n = nodes_[static_cast<size_t>(t)];
  if (n.max_len < len) return std::nullopt;
  if (n.gap.owner > max_owner) return query(n.left, max_owner, len);
  if (auto r = query(n.right, max_owner, len)) return r;
  if (n.gap.len() >= len) return n.gap;
  return query(n.left, max_owner, len);
}

std::optional<GapIndex::Gap> GapIndex::highest_fitting(uint64_t max_owner, uint64_t len) const {
  return query(root_, max_owner, len);
}

void GapIndex::collect(int32_t t, std::vector<Gap>& out) const {
  if (t < 0) return;
  collect(nodes_[static_cast<size_t>(t)].left, out);
  out.push_back(nodes_[static_cast<size_t>(t)].gap);
  collect(nodes_[static_cast<size_t>(t)].right, out);
}

void GapIndex::collect_range(int32_t t, uint64_t lo, uint64_t hi, std::vector<uint64_t>& out) const {
  if (t < 0) return;
  const Node& n = nodes_[static_cast<size_t>(t)];
  if (n.gap.owner > lo) collect_range(n.left, lo, hi, out);
  if (n.gap.owner >= lo && n.gap.owner <= hi) out.push_back(n.gap.owner);
  if (n.gap.owner < hi) collect_range(n.right, lo, hi, out);
}

void GapIndex::owners_in(uint64_t lo, uint64_t hi, std::vector<uint64_t>& out) const {
  collect_range(root_, lo, hi, out);
}

std::vector<GapIndex::Gap> GapIndex::all() const {
  std::vector<Gap> out;
  collect(root_, out);
  return out;
}

void GapIndex::clear() {
  nodes_.clear();
  free_.clear();
  root_ = -1;
  count_ = 0;
}

}  // namespace vmplay::engine
