// engine/: the simulated kernel. No UI, no text parsing, no I/O.
// An ordered map from uint64_t keys, as a B+tree: what the maple tree is to Linux's VMAs.
// Keys sit 32 to a node, so a lookup among 40,000 VMAs reads four short arrays instead of
// chasing sixteen red-black nodes through memory.
//
// The interface is the part of std::map the engine uses, with std::map's value_type:
// each value lives in a node of its own, so references and pointers to values stay valid
// until the value is erased, as with std::map. Iterators do not: any insert or erase
// invalidates every iterator (erase(it) returns a fresh one to the next element). Debug
// builds check this: an iterator used after its tree changed fails an assertion.
//
// Each element also carries a weight (for the VMA tree: the length of the free gap below
// the VMA), and every inner node knows the largest weight below each child, as the maple
// tree knows its largest gap: highest_weighing(max_key, w) finds the last element at or
// below max_key weighing at least w by descending only into children that have one.
#pragma once
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <utility>

namespace vmplay::engine {

template <typename V>
class BTreeMap {
 public:
  using key_type = uint64_t;
  using mapped_type = V;
  using value_type = std::pair<const uint64_t, V>;
  using size_type = size_t;

 private:
  static constexpr int kMax = 32;       // keys (leaf) or children (inner) per node
  static constexpr int kMergeBelow = 8;  // a node this empty merges with a neighbour that has room

  struct Node {
    bool leaf = true;
    int n = 0;
    uint64_t keys[kMax];  // leaf: the keys; inner: keys[i] bounds child i from below (i >= 1)
    void* slots[kMax];    // leaf: value_type*; inner: Node*
    uint64_t aux[kMax];   // leaf: the element's weight; inner: the largest weight below the child
    value_type* val(int j) const { return static_cast<value_type*>(slots[j]); }
    Node* kid(int j) const { return static_cast<Node*>(slots[j]); }
    Node* prev = nullptr;  // leaves only: the neighbours in key order
    Node* next = nullptr;
  };

  template <bool Const>
  class Iter {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = BTreeMap::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;

    Iter() = default;
    template <bool C = Const, typename = std::enable_if_t<C>>
    Iter(const Iter<false>& o) : t_(o.t_), leaf_(o.leaf_), i_(o.i_)
#ifndef NDEBUG
      , version_(o.version_)
#endif
    {}

    reference operator*() const {
      check();
      return *leaf_->val(i_);
    }
    pointer operator->() const { return &**this; }
    Iter& operator++() {
      check();
      if (++i_ == leaf_->n) {
        leaf_ = leaf_->next;
        i_ = 0;
      }
      return *this;
    }
    Iter operator++(int) {
      Iter o = *this;
      ++*this;
      return o;
    }
    Iter& operator--() {
      check();
      if (!leaf_) {
        leaf_ = t_->last_leaf();
        i_ = leaf_->n - 1;
      } else if (i_ == 0) {
        leaf_ = leaf_->prev;
        i_ = leaf_->n - 1;
      } else {
        --i_;
      }
      return *this;
    }
    Iter operator--(int) {
      Iter o = *this;
      --*this;
      return o;
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.leaf_ == b.leaf_ && a.i_ == b.i_; }
    friend bool operator!=(const Iter& a, const Iter& b) { return !(a == b); }

   private:
    friend class BTreeMap;
    friend class Iter<!Const>;
    Iter(const BTreeMap* t, Node* leaf, int i) : t_(t), leaf_(leaf), i_(i)
#ifndef NDEBUG
      , version_(t->version_)
#endif
    {}
    void check() const {
#ifndef NDEBUG
      assert(t_ && version_ == t_->version_ && "a BTreeMap iterator used after its map changed");
#endif
    }
    const BTreeMap* t_ = nullptr;
    Node* leaf_ = nullptr;  // nullptr: end()
    int i_ = 0;
#ifndef NDEBUG
    uint64_t version_ = 0;
#endif
  };

 public:
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  BTreeMap() = default;
  BTreeMap(const BTreeMap& o) : size_(o.size_) {
    Node* prev_leaf = nullptr;
    if (o.root_) root_ = clone(o.root_, prev_leaf);
  }
  BTreeMap(BTreeMap&& o) noexcept { swap(o); }
  BTreeMap& operator=(const BTreeMap& o) {
    if (this != &o) {
      BTreeMap copy(o);
      swap(copy);
    }
    return *this;
  }
  BTreeMap& operator=(BTreeMap&& o) noexcept {
    if (this != &o) {
      clear();
      swap(o);
    }
    return *this;
  }
  ~BTreeMap() { clear(); }

  void swap(BTreeMap& o) noexcept {
    std::swap(root_, o.root_);
    std::swap(size_, o.size_);
    ++version_;
    ++o.version_;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    destroy(root_);
    root_ = nullptr;
    size_ = 0;
    ++version_;
  }

  iterator begin() { return iterator(this, first_leaf(), 0); }
  iterator end() { return iterator(this, nullptr, 0); }
  const_iterator begin() const { return const_iterator(this, first_leaf(), 0); }
  const_iterator end() const { return const_iterator(this, nullptr, 0); }

  iterator lower_bound(uint64_t k) {
    Seek s = seek(k);
    return iterator(this, s.leaf, s.i);
  }
  const_iterator lower_bound(uint64_t k) const {
    Seek s = seek(k);
    return const_iterator(this, s.leaf, s.i);
  }
  iterator upper_bound(uint64_t k) { return k == UINT64_MAX ? end() : lower_bound(k + 1); }
  const_iterator upper_bound(uint64_t k) const { return k == UINT64_MAX ? end() : lower_bound(k + 1); }
  iterator find(uint64_t k) {
    iterator it = lower_bound(k);
    return it != end() && it->first == k ? it : end();
  }
  const_iterator find(uint64_t k) const {
    const_iterator it = lower_bound(k);
    return it != end() && it->first == k ? it : end();
  }
  size_t count(uint64_t k) const { return find(k) != end() ? 1 : 0; }
  V& at(uint64_t k) { return const_cast<V&>(static_cast<const BTreeMap*>(this)->at(k)); }
  const V& at(uint64_t k) const {
    const_iterator it = find(k);
    if (it == end()) {
      std::fprintf(stderr, "BTreeMap::at: no key %#llx\n", static_cast<unsigned long long>(k));
      std::abort();
    }
    return it->second;
  }

  // Inserts (k, v) unless k is present; the iterator is to the element with key k. A new
  // element weighs 0.
  template <typename... Args>
  std::pair<iterator, bool> emplace(uint64_t k, Args&&... args) {
    ++version_;
    if (!root_) root_ = new Node();
    Path path;
    Node* leaf = descend(k, path);
    int pos = lower_index(leaf, k);
    if (pos < leaf->n && leaf->keys[pos] == k) return {iterator(this, leaf, pos), false};
    auto* kv = new value_type(std::piecewise_construct, std::forward_as_tuple(k), std::forward_as_tuple(std::forward<Args>(args)...));
    insert_at(leaf, pos, k, kv, 0);
    ++size_;
    // No largest weight changes (the new element weighs 0; a split sets the slots of the
    // two halves).
    if (leaf->n == kMax) {
      split(leaf, path);
      if (pos >= leaf->n) return {iterator(this, leaf->next, pos - leaf->n), true};
    }
    return {iterator(this, leaf, pos), true};
  }

  size_t erase(uint64_t k) {
    if (!root_) return 0;
    Path path;
    Node* leaf = descend(k, path);
    int pos = lower_index(leaf, k);
    if (pos == leaf->n || leaf->keys[pos] != k) return 0;
    ++version_;
    delete leaf->val(pos);
    const uint64_t w = leaf->aux[pos];
    remove_at(leaf, pos);
    --size_;
    rebalance(leaf, path);
    // Merges set their own slots; only the erased weight can lower a largest one.
    if (w) refresh(k);
    return 1;
  }
  iterator erase(const_iterator it) {
    const_iterator next = std::next(it);
    if (next == end()) {
      erase(it->first);
      return end();
    }
    const uint64_t nk = next->first;
    erase(it->first);
    return lower_bound(nk);
  }

  // The weight of an element, and a new weight for the element with key k (which must be
  // present; iterators stay valid).
  template <bool C>
  uint64_t weight(Iter<C> it) const {
    it.check();
    return it.leaf_->aux[it.i_];
  }
  void set_weight(uint64_t k, uint64_t w) {
    Path path;
    Node* leaf = descend(k, path);
    int pos = lower_index(leaf, k);
    if (pos == leaf->n || leaf->keys[pos] != k) {
      std::fprintf(stderr, "BTreeMap::set_weight: no key %#llx\n", static_cast<unsigned long long>(k));
      std::abort();
    }
    if (leaf->aux[pos] == w) return;
    leaf->aux[pos] = w;
    Node* n = leaf;
    while (path.depth > 0) {  // up while a child's largest weight changes
      Step st = path.steps[--path.depth];
      const uint64_t m = node_max(n);
      if (st.node->aux[st.child] == m) return;
      st.node->aux[st.child] = m;
      n = st.node;
    }
  }
  // The last element with key <= max_key that weighs at least w, or end().
  const_iterator highest_weighing(uint64_t max_key, uint64_t w) const {
    if (!root_) return end();
    Seek s = find_weighing(root_, max_key, w, true);
    return const_iterator(this, s.leaf, s.i);
  }

  // Checks the tree's shape (for tests): keys ordered and within their separators, every
  // leaf at one depth, the leaf chain in order, the size right. Returns a complaint or "".
  const char* check_structure() const {
    if (!root_) return size_ == 0 ? "" : "size without nodes";
    int leaf_depth = -1;
    size_t seen = 0;
    const Node* last = nullptr;
    const char* err = check_node(root_, 0, 0, UINT64_MAX, true, leaf_depth, seen, last);
    if (*err) return err;
    if (seen != size_) return "size does not match the elements";
    if (last && last->next) return "last leaf has a next";
    return "";
  }

 private:
  struct Step {
    Node* node;
    int child;
  };
  struct Path {
    Step steps[24];
    int depth = 0;
  };

  // Both searches halve the range without a branch (a conditional move per step): a
  // scan's exit branch, mispredicted at every node, cost more than the comparisons.
  static int lower_index(const Node* leaf, uint64_t k) {  // the first key >= k, or n
    if (leaf->n == 0) return 0;
    int base = 0, len = leaf->n;
    while (len > 1) {
      const int half = len / 2;
      base = leaf->keys[base + half] < k ? base + half : base;
      len -= half;
    }
    return base + (leaf->keys[base] < k ? 1 : 0);
  }
  // The child of an inner node whose range holds k: the last one bounded below by <= k
  // (keys[0] is never read: child 0 takes whatever is below keys[1]).
  static int child_index(const Node* in, uint64_t k) {
    int base = 0, len = in->n;
    while (len > 1) {
      const int half = len / 2;
      base = in->keys[base + half] <= k ? base + half : base;
      len -= half;
    }
    return base;
  }
  Node* descend(uint64_t k, Path& path) const {
    Node* n = root_;
    path.depth = 0;
    while (!n->leaf) {
      int c = child_index(n, k);
      path.steps[path.depth++] = {n, c};
      n = n->kid(c);
    }
    return n;
  }
  struct Seek {
    Node* leaf;
    int i;
  };
  Seek seek(uint64_t k) const {
    if (!root_) return {nullptr, 0};
    Node* n = root_;
    while (!n->leaf) n = n->kid(child_index(n, k));
    int i = lower_index(n, k);
    if (i == n->n) return {n->next, 0};
    return {n, i};
  }
  Node* first_leaf() const {
    Node* n = root_;
    if (!n) return nullptr;
    while (!n->leaf) n = n->kid(0);
    return n->n ? n : nullptr;
  }
  Node* last_leaf() const {
    Node* n = root_;
    while (!n->leaf) n = n->kid(n->n - 1);
    return n;
  }

  static void insert_at(Node* n, int pos, uint64_t k, void* p, uint64_t w) {
    for (int j = n->n; j > pos; --j) {
      n->keys[j] = n->keys[j - 1];
      n->slots[j] = n->slots[j - 1];
      n->aux[j] = n->aux[j - 1];
    }
    n->keys[pos] = k;
    n->slots[pos] = p;
    n->aux[pos] = w;
    ++n->n;
  }
  static void remove_at(Node* n, int pos) {
    for (int j = pos; j + 1 < n->n; ++j) {
      n->keys[j] = n->keys[j + 1];
      n->slots[j] = n->slots[j + 1];
      n->aux[j] = n->aux[j + 1];
    }
    --n->n;
  }
  static uint64_t node_max(const Node* n) {
    uint64_t m = 0;
    for (int j = 0; j < n->n; ++j) m = n->aux[j] > m ? n->aux[j] : m;
    return m;
  }
  // After an insert or erase: every node on k's path tells its parent its largest weight
  // again (a split or merge beside the path has set its own slots).
  void refresh(uint64_t k) {
    Path path;
    Node* n = descend(k, path);
    while (path.depth > 0) {
      Step st = path.steps[--path.depth];
      st.node->aux[st.child] = node_max(n);
      n = st.node;
    }
  }
  Seek find_weighing(const Node* n, uint64_t max_key, uint64_t w, bool bounded) const {
    if (n->leaf) {
      for (int j = n->n - 1; j >= 0; --j)
        if ((!bounded || n->keys[j] <= max_key) && n->aux[j] >= w) return {const_cast<Node*>(n), j};
      return {nullptr, 0};
    }
    const int top = bounded ? child_index(n, max_key) : n->n - 1;
    for (int c = top; c >= 0; --c) {
      if (n->aux[c] < w) continue;
      Seek s = find_weighing(n->kid(c), max_key, w, bounded && c == top);
      if (s.leaf) return s;
    }
    return {nullptr, 0};
  }

  // A full node gives its upper half to a new right sibling, whose lower bound goes up.
  void split(Node* n, Path& path) {
    while (n->n == kMax) {
      Node* r = new Node();
      r->leaf = n->leaf;
      const int keep = kMax / 2;
      r->n = n->n - keep;
      for (int j = 0; j < r->n; ++j) {
        r->keys[j] = n->keys[keep + j];
        r->slots[j] = n->slots[keep + j];
        r->aux[j] = n->aux[keep + j];
      }
      n->n = keep;
      if (n->leaf) {
        r->next = n->next;
        r->prev = n;
        if (n->next) n->next->prev = r;
        n->next = r;
      }
      const uint64_t sep = r->keys[0];
      if (path.depth == 0) {
        Node* root = new Node();
        root->leaf = false;
        root->n = 2;
        root->keys[0] = n->keys[0];
        root->slots[0] = n;
        root->aux[0] = node_max(n);
        root->keys[1] = sep;
        root->slots[1] = r;
        root->aux[1] = node_max(r);
        root_ = root;
        return;
      }
      Step s = path.steps[--path.depth];
      s.node->aux[s.child] = node_max(n);
      insert_at(s.node, s.child + 1, sep, r, node_max(r));
      n = s.node;
    }
  }

  // After an erase: an empty node leaves its parent; a nearly empty one merges into a
  // neighbour under the same parent when the two fit in one node; a root with one child
  // hands over to it.
  void rebalance(Node* n, Path& path) {
    while (path.depth > 0) {
      Step s = path.steps[--path.depth];
      Node* p = s.node;
      if (n->n == 0) {
        unlink_leaf(n);
        delete n;
        remove_at(p, s.child);
      } else if (n->n < kMergeBelow) {
        int li = -1;  // merge children li and li + 1 of p, the right one into the left
        if (s.child + 1 < p->n && n->n + p->kid(s.child + 1)->n < kMax) li = s.child;
        else if (s.child > 0 && n->n + p->kid(s.child - 1)->n < kMax) li = s.child - 1;
        if (li < 0) return;
        Node* l = p->kid(li);
        Node* r = p->kid(li + 1);
        // An inner node's keys[0] is not kept up to date; moved into the middle of the
        // left node it must bound its child, as p's separator for r does.
        if (!r->leaf) r->keys[0] = p->keys[li + 1];
        for (int j = 0; j < r->n; ++j) {
          l->keys[l->n + j] = r->keys[j];
          l->slots[l->n + j] = r->slots[j];
          l->aux[l->n + j] = r->aux[j];
        }
        l->n += r->n;
        r->n = 0;
        unlink_leaf(r);
        delete r;
        remove_at(p, li + 1);
        p->aux[li] = node_max(l);
      } else {
        return;
      }
      n = p;
    }
    // The root: an inner root with one child hands over to it; an empty leaf root stays.
    while (!root_->leaf && root_->n == 1) {
      Node* old = root_;
      root_ = old->kid(0);
      delete old;
    }
    if (!root_->leaf && root_->n == 0) {
      delete root_;
      root_ = new Node();
    }
  }
  static void unlink_leaf(Node* n) {
    if (!n->leaf) return;
    if (n->prev) n->prev->next = n->next;
    if (n->next) n->next->prev = n->prev;
  }

  // A copy of the subtree (values included), its leaves chained after prev_leaf.
  static Node* clone(const Node* n, Node*& prev_leaf) {
    Node* c = new Node(*n);
    for (int j = 0; j < n->n; ++j)
      c->slots[j] = n->leaf ? static_cast<void*>(new value_type(*n->val(j))) : static_cast<void*>(clone(n->kid(j), prev_leaf));
    if (c->leaf) {
      c->prev = prev_leaf;
      c->next = nullptr;
      if (prev_leaf) prev_leaf->next = c;
      prev_leaf = c;
    }
    return c;
  }

  void destroy(Node* n) {
    if (!n) return;
    for (int j = 0; j < n->n; ++j) {
      if (n->leaf) delete n->val(j);
      else destroy(n->kid(j));
    }
    delete n;
  }

  const char* check_node(const Node* n, int depth, uint64_t lo, uint64_t hi, bool hi_open, int& leaf_depth,
                         size_t& seen, const Node*& last) const {
    if (n != root_ && n->n == 0) return "an empty node below the root";
    if (n->n > kMax - (n->leaf ? 1 : 0)) return "an overfull node";
    if (n->leaf) {
      if (leaf_depth < 0) leaf_depth = depth;
      if (leaf_depth != depth) return "leaves at different depths";
      for (int j = 0; j < n->n; ++j) {
        if (n->keys[j] < lo || (!hi_open && n->keys[j] >= hi)) return "a key outside its separators";
        if (j && n->keys[j - 1] >= n->keys[j]) return "keys out of order";
        if (n->val(j)->first != n->keys[j]) return "a value under another key";
      }
      if (n->n) {
        if (n->prev != last) return "a broken leaf chain (prev)";
        if (last && last->next != n) return "a broken leaf chain (next)";
        last = n;
      }
      seen += static_cast<size_t>(n->n);
      return "";
    }
    for (int j = 0; j < n->n; ++j) {
      if (j >= 2 && n->keys[j - 1] >= n->keys[j]) return "separators out of order";
      uint64_t clo = j == 0 ? lo : n->keys[j];
      if (j && (n->keys[j] < lo || (!hi_open && n->keys[j] >= hi))) return "a separator outside its range";
      bool copen = j + 1 == n->n ? hi_open : false;
      uint64_t chi = j + 1 == n->n ? hi : n->keys[j + 1];
      const char* err = check_node(n->kid(j), depth + 1, clo, chi, copen, leaf_depth, seen, last);
      if (*err) return err;
      if (n->aux[j] != node_max(n->kid(j))) return "a child's largest weight out of date";
    }
    return "";
  }

  Node* root_ = nullptr;
  size_t size_ = 0;
  uint64_t version_ = 0;
};

}  // namespace vmplay::engine
