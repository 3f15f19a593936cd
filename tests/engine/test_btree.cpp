// BTreeMap (the VMA tree) against std::map: the same answers for every operation the
// engine uses, through splits, merges and a root that grows and shrinks, with the tree's
// shape checked after every step.
#include <doctest/doctest.h>

#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/btree.h"

using namespace vmplay::engine;

namespace {
struct Val {
  uint64_t x = 0;
  std::string name;  // a member with a heap buffer of its own, as a Vma's name
};
using Tree = BTreeMap<Val>;
using Model = std::map<uint64_t, Val>;

std::vector<std::pair<uint64_t, uint64_t>> contents(const Tree& t) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [k, v] : t) out.emplace_back(k, v.x);
  return out;
}
std::vector<std::pair<uint64_t, uint64_t>> contents(const Model& m) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [k, v] : m) out.emplace_back(k, v.x);
  return out;
}
std::vector<std::pair<uint64_t, uint64_t>> backwards(const Tree& t) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (auto it = t.end(); it != t.begin();) {
    --it;
    out.emplace_back(it->first, it->second.x);
  }
  return out;
}
}  // namespace

namespace {
// The last key <= max_key whose weight is at least w, by brute force over the model.
std::optional<uint64_t> brute_weighing(const Model& model, const std::map<uint64_t, uint64_t>& weights, uint64_t max_key,
                                       uint64_t w) {
  std::optional<uint64_t> found;
  for (const auto& [k, v] : model) {
    auto it = weights.find(k);
    uint64_t kw = it == weights.end() ? 0 : it->second;
    if (k <= max_key && kw >= w) found = k;
  }
  return found;
}
}  // namespace

TEST_CASE("btree: emplace, erase, find, lower_bound and upper_bound agree with std::map") {
  Tree t;
  Model model;
  std::map<uint64_t, uint64_t> weights;  // set weights; a new element weighs 0
  std::mt19937_64 rng(7);
  // Phases of mostly inserts and mostly erases, so the tree grows several levels, empties
  // almost completely and grows again (splits, merges, root changes both ways).
  for (int step = 0; step < 60000; ++step) {
    const bool growing = (step / 10000) % 2 == 0;
    uint64_t k = rng() % 8 == 0 ? rng() : (rng() % 5000) * 4096;
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {
        if (!growing && rng() % 3) break;
        Val v{rng(), "v" + std::to_string(k)};
        auto [it, fresh] = t.emplace(k, v);
        auto [mit, mfresh] = model.emplace(k, v);
        CHECK(fresh == mfresh);
        CHECK(it->first == k);
        CHECK(it->second.x == mit->second.x);
        break;
      }
      case 3:
        CHECK(t.erase(k) == model.erase(k));
        weights.erase(k);
        break;
      case 6: {  // weigh an element, as sync_gaps sets a gap's length
        auto it = model.lower_bound(k);
        if (it == model.end()) break;
        uint64_t w = rng() % 4 == 0 ? 0 : rng() % 1000;
        t.set_weight(it->first, w);
        weights[it->first] = w;
        break;
      }
      case 7: {  // the highest element at or below k weighing at least w (get_unmapped_area)
        uint64_t w = rng() % 1100;
        auto got = t.highest_weighing(k, w);
        auto want = brute_weighing(model, weights, k, w);
        REQUIRE((got == t.end()) == !want.has_value());
        if (want) {
          CHECK(got->first == *want);
          CHECK(t.weight(got) >= w);
        }
        break;
      }
      case 4: {  // erase(iterator) from lower_bound, as munmap walks its range
        auto it = t.lower_bound(k);
        auto mit = model.lower_bound(k);
        REQUIRE((it == t.end()) == (mit == model.end()));
        for (int n = 0; n < 3 && it != t.end(); ++n) {
          REQUIRE(it->first == mit->first);
          weights.erase(it->first);
          it = t.erase(it);
          mit = model.erase(mit);
          REQUIRE((it == t.end()) == (mit == model.end()));
        }
        break;
      }
      default: {
        auto lb = t.lower_bound(k);
        auto mlb = model.lower_bound(k);
        REQUIRE((lb == t.end()) == (mlb == model.end()));
        if (mlb != model.end()) CHECK(lb->first == mlb->first);
        auto ub = t.upper_bound(k);
        auto mub = model.upper_bound(k);
        REQUIRE((ub == t.end()) == (mub == model.end()));
        if (mub != model.end()) CHECK(ub->first == mub->first);
        // The predecessor, as find_vma looks for it.
        if (ub != t.begin()) CHECK(std::prev(ub)->first == std::prev(mub)->first);
        CHECK(t.count(k) == model.count(k));
        CHECK((t.find(k) == t.end()) == (model.find(k) == model.end()));
      }
    }
    REQUIRE(t.size() == model.size());
    if (step % 97 == 0) {
      REQUIRE(std::string(t.check_structure()) == "");
      REQUIRE(contents(t) == contents(model));
    }
  }
  REQUIRE(std::string(t.check_structure()) == "");
  CHECK(contents(t) == contents(model));
  auto back = backwards(t);
  auto forward = contents(model);
  std::vector<std::pair<uint64_t, uint64_t>> want(forward.rbegin(), forward.rend());
  CHECK(back == want);
  // A copy keeps the weights.
  Tree copy = t;
  REQUIRE(std::string(copy.check_structure()) == "");
  for (auto it = copy.begin(); it != copy.end(); ++it) {
    auto w = weights.find(it->first);
    CHECK(copy.weight(it) == (w == weights.end() ? 0 : w->second));
  }
}

TEST_CASE("btree: values keep their addresses while others come and go; copies are deep") {
  Tree t;
  for (uint64_t k = 0; k < 3000; ++k) t.emplace(k * 2, Val{k, "n" + std::to_string(k)});
  Val* kept = &t.at(2000);
  const std::string* name = &t.at(2000).name;
  for (uint64_t k = 0; k < 3000; ++k)
    if (k != 1000) t.erase(k * 2);  // every other value goes: leaves empty and merge
  for (uint64_t k = 0; k < 3000; ++k) t.emplace(k * 2 + 1, Val{k, ""});  // and new ones split them
  CHECK(&t.at(2000) == kept);
  CHECK(&t.at(2000).name == name);
  CHECK(t.at(2000).name == "n1000");
  REQUIRE(std::string(t.check_structure()) == "");

  Tree copy = t;
  copy.at(2000).name = "changed";
  copy.erase(1);
  CHECK(t.at(2000).name == "n1000");
  CHECK(t.count(1) == 1);
  CHECK(copy.size() + 1 == t.size());
  REQUIRE(std::string(copy.check_structure()) == "");

  Tree moved = std::move(copy);
  CHECK(moved.at(2000).name == "changed");
  CHECK(copy.empty());
  CHECK(copy.begin() == copy.end());
  copy = moved;
  CHECK(copy.size() == moved.size());
  t.clear();
  CHECK(t.empty());
  CHECK(t.begin() == t.end());
  CHECK(t.lower_bound(5) == t.end());
  t.emplace(5, Val{5, ""});
  CHECK(t.begin()->first == 5);
}

TEST_CASE("btree: iterators walk every element in order both ways, and the distance counts them") {
  Tree t;
  for (uint64_t k = 100; k > 0; --k) t.emplace(k * 4096, Val{k, ""});
  CHECK(std::distance(t.begin(), t.end()) == 100);
  CHECK(std::distance(t.begin(), t.find(50 * 4096)) == 49);
  uint64_t want = 4096;
  for (const auto& [k, v] : t) {
    CHECK(k == want);
    want += 4096;
  }
  Tree::const_iterator c = t.find(7 * 4096);  // iterator -> const_iterator
  CHECK(c->second.x == 7);
  CHECK((--t.end())->first == 100 * 4096);
}
