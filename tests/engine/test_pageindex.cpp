// PageIndex (the page cache's index) against std::map: the same answers for every
// operation the engine uses, across block boundaries.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <vector>

#include "engine/pageindex.h"

using namespace vmplay::engine;

namespace {
using Model = std::map<uint64_t, uint32_t>;

std::vector<std::pair<uint64_t, uint32_t>> contents(const PageIndex<uint32_t>& ix) {
  std::vector<std::pair<uint64_t, uint32_t>> out;
  for (const auto& [index, v] : ix) out.emplace_back(index, v);
  return out;
}
std::vector<std::pair<uint64_t, uint32_t>> contents(const Model& m) { return {m.begin(), m.end()}; }
}  // namespace

TEST_CASE("pageindex: insert, find, lower_bound and erase agree with std::map") {
  PageIndex<uint32_t> ix;
  Model model;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 20000; ++step) {
    // Indices cluster in a few hundred pages (several blocks) with some far away.
    uint64_t index = rng() % 4 == 0 ? rng() % (uint64_t{1} << 40) : rng() % 700;
    switch (rng() % 5) {
      case 0:
      case 1: {
        uint32_t v = static_cast<uint32_t>(rng());
        ix[index] = v;
        model[index] = v;
        break;
      }
      case 2: CHECK(ix.erase(index) == model.erase(index)); break;
      case 3: {  // erase a run from lower_bound, as truncate does
        uint64_t last = index + rng() % 130;
        auto it = ix.lower_bound(index);
        while (it != ix.end() && it->first < last) it = ix.erase(it);
        model.erase(model.lower_bound(index), model.lower_bound(last));
        break;
      }
      default: {
        auto a = ix.lower_bound(index);
        auto b = model.lower_bound(index);
        REQUIRE((a == ix.end()) == (b == model.end()));
        if (b != model.end()) {
          CHECK(a->first == b->first);
          CHECK(a->second == b->second);
        }
      }
    }
    REQUIRE(ix.size() == model.size());
    CHECK(ix.count(index) == model.count(index));
    const uint32_t* v = ix.find_value(index);
    CHECK((v != nullptr) == (model.count(index) == 1));
    if (v) CHECK(*v == model.at(index));
  }
  CHECK(contents(ix) == contents(model));
}

TEST_CASE("pageindex: a block empties and goes; iteration crosses blocks in order") {
  PageIndex<uint32_t> ix;
  for (uint64_t i : {63ULL, 64ULL, 127ULL, 128ULL, 5000ULL}) ix[i] = static_cast<uint32_t>(i);
  CHECK(contents(ix) == std::vector<std::pair<uint64_t, uint32_t>>{{63, 63}, {64, 64}, {127, 127}, {128, 128},
                                                                   {5000, 5000}});
  CHECK(ix.lower_bound(65)->first == 127);
  CHECK(ix.lower_bound(129)->first == 5000);
  CHECK(ix.lower_bound(5001) == ix.end());
  // Erasing 64 and 127 empties their block: the iterator moves on to the next block.
  auto it = ix.erase(ix.find(64));
  CHECK(it->first == 127);
  it = ix.erase(it);
  CHECK(it->first == 128);
  CHECK(ix.size() == 3);
  ix.erase(ix.begin(), ix.end());
  CHECK(ix.empty());
  CHECK(ix.begin() == ix.end());
  CHECK(ix.find_value(63) == nullptr);  // (at() would throw: the wasm build has no exceptions to catch)
}

TEST_CASE("pageindex: a copy is independent, and erased slots release their values") {
  PageIndex<std::vector<int>> a;
  a[3] = {1, 2, 3};
  a[70] = {4};
  PageIndex<std::vector<int>> b = a;
  b[3].push_back(9);
  b.erase(70);
  CHECK(a.at(3).size() == 3);
  CHECK(a.count(70) == 1);
  CHECK(b.at(3).size() == 4);
  // An erased slot is reset: inserting there again starts from an empty value.
  b[70];
  CHECK(b.at(70).empty());
}
