// SkipList tests: ordering, Seek and Insert's neighbours against std::set; one writer with
// concurrent readers (run under TSan in build-tsan).
#include "internal/engine/db/skiplist.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "internal/engine/util/arena.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

struct U64Comparator {
  int operator()(const uint64_t& a, const uint64_t& b) const {
    return a < b ? -1 : (a > b ? 1 : 0);
  }
};
using U64List = SkipList<uint64_t, U64Comparator>;

std::vector<uint64_t> Contents(const U64List& list) {
  std::vector<uint64_t> out;
  U64List::Iterator it(&list);
  for (it.SeekToFirst(); it.Valid(); it.Next()) out.push_back(it.key());
  return out;
}

}  // namespace

TEST_CASE("empty skiplist", "[skiplist]") {
  Arena arena;
  U64List list(U64Comparator(), &arena);
  CHECK_FALSE(list.Contains(0));
  CHECK_FALSE(list.Contains(10));
  U64List::Iterator it(&list);
  CHECK_FALSE(it.Valid());
  it.SeekToFirst();
  CHECK_FALSE(it.Valid());
  it.Seek(100);
  CHECK_FALSE(it.Valid());
}

TEST_CASE("skiplist insert reports its neighbours", "[skiplist]") {
  Arena arena;
  U64List list(U64Comparator(), &arena);
  auto n = list.Insert(50);
  CHECK(n.before == nullptr);
  CHECK(n.after == nullptr);
  n = list.Insert(70);
  REQUIRE(n.before != nullptr);
  CHECK(*n.before == 50);
  CHECK(n.after == nullptr);
  n = list.Insert(10);
  CHECK(n.before == nullptr);
  REQUIRE(n.after != nullptr);
  CHECK(*n.after == 50);
  n = list.Insert(60);
  REQUIRE(n.before != nullptr);
  REQUIRE(n.after != nullptr);
  CHECK(*n.before == 50);
  CHECK(*n.after == 70);
  CHECK(Contents(list) == std::vector<uint64_t>{10, 50, 60, 70});
}

TEST_CASE("skiplist matches std::set under random inserts", "[skiplist]") {
  const uint64_t seed = test::PrintedTestSeed("skiplist_test");
  INFO("KEYVA_TEST_SEED=" << seed);
  std::mt19937_64 rng(seed);
  // Never below its scale-1 size (cheap even under the sanitizers); KEYVA_TEST_SCALE > 1 grows it.
  const int n = test::Scaled(5000, 5000);
  // A key range about twice the insert count: plenty of gaps for Seek, and duplicates to skip.
  const uint64_t range = 2 * static_cast<uint64_t>(n);

  Arena arena;
  U64List list(U64Comparator(), &arena);
  std::set<uint64_t> model;
  for (int i = 0; i < n; i++) {
    uint64_t key = rng() % range;
    if (model.count(key)) {
      CHECK(list.Contains(key));
      continue;
    }
    auto neighbors = list.Insert(key);
    auto pos = model.insert(key).first;
    // The neighbours Insert reports are the model's.
    if (pos == model.begin()) {
      CHECK(neighbors.before == nullptr);
    } else {
      REQUIRE(neighbors.before != nullptr);
      CHECK(*neighbors.before == *std::prev(pos));
    }
    if (std::next(pos) == model.end()) {
      CHECK(neighbors.after == nullptr);
    } else {
      REQUIRE(neighbors.after != nullptr);
      CHECK(*neighbors.after == *std::next(pos));
    }
  }

  for (uint64_t key = 0; key < range; key++) {
    if (list.Contains(key) != (model.count(key) == 1)) {
      FAIL("Contains(" << key << ") disagrees with the model");
    }
  }
  CHECK(Contents(list) == std::vector<uint64_t>(model.begin(), model.end()));

  // Seek lands on the model's lower_bound, and iterating on from there walks the model's order.
  U64List::Iterator it(&list);
  for (int i = 0; i < 1000; i++) {
    uint64_t target = rng() % (range + 10);
    it.Seek(target);
    auto expected = model.lower_bound(target);
    for (int step = 0; step < 5; step++, ++expected) {
      if (expected == model.end()) {
        CHECK_FALSE(it.Valid());
        break;
      }
      REQUIRE(it.Valid());
      CHECK(it.key() == *expected);
      it.Next();
    }
  }
}

TEST_CASE("skiplist holds many keys inserted in descending and ascending runs", "[skiplist]") {
  Arena arena;
  U64List list(U64Comparator(), &arena);
  std::vector<uint64_t> expected;
  for (uint64_t k = 20000; k > 10000; k--) list.Insert(k);
  for (uint64_t k = 0; k < 10000; k++) list.Insert(k);
  for (uint64_t k = 0; k <= 20000; k++) {
    if (k != 10000) expected.push_back(k);
  }
  CHECK(Contents(list) == expected);
  CHECK_FALSE(list.Contains(10000));
  U64List::Iterator it(&list);
  it.Seek(10000);
  REQUIRE(it.Valid());
  CHECK(it.key() == 10001);
}

// One writer inserts a known sequence of keys and publishes, after each insert, how many it has
// inserted. Readers scan concurrently and check that every scan is strictly increasing, holds only
// keys the writer inserts, and contains every key published before the scan began.
TEST_CASE("skiplist readers run concurrently with one writer", "[skiplist]") {
  const uint64_t seed = test::PrintedTestSeed("skiplist_test");
  INFO("KEYVA_TEST_SEED=" << seed);
  std::mt19937_64 rng(seed);
  // Never below its scale-1 size (cheap even under the sanitizers); KEYVA_TEST_SCALE > 1 grows it.
  const size_t n = test::Scaled<size_t>(20000, 20000);

  // Distinct keys in random order; each key carries a check value in its low bits so a reader
  // would notice a key it could not have been given (a torn or uninitialized node).
  std::vector<uint64_t> keys;
  std::set<uint64_t> unique;
  while (keys.size() < n) {
    uint64_t base = rng() >> 24;  // 40 bits
    if (!unique.insert(base).second) continue;
    keys.push_back((base << 24) | ((base * 0x9E3779B1u) & 0xffffff));
  }
  auto well_formed = [](uint64_t key) {
    uint64_t base = key >> 24;
    return (key & 0xffffff) == ((base * 0x9E3779B1u) & 0xffffff);
  };

  Arena arena;
  U64List list(U64Comparator(), &arena);
  std::atomic<size_t> published{0};
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> scans{0};

  auto reader = [&] {
    std::vector<uint64_t> seen;
    while (true) {
      size_t before = published.load(std::memory_order_acquire);
      seen.clear();
      U64List::Iterator it(&list);
      for (it.SeekToFirst(); it.Valid(); it.Next()) seen.push_back(it.key());
      bool ok = std::is_sorted(seen.begin(), seen.end()) &&
                std::adjacent_find(seen.begin(), seen.end()) == seen.end() &&
                std::all_of(seen.begin(), seen.end(), well_formed) && seen.size() >= before;
      // Everything published before the scan started must be in it (spot-check a sample, and
      // always the newest published key).
      for (size_t i = before > 0 ? before - 1 : 0; ok && i < before; i++) {
        ok = std::binary_search(seen.begin(), seen.end(), keys[i]);
      }
      for (size_t i = 0; ok && i < before; i += 97) {
        ok = std::binary_search(seen.begin(), seen.end(), keys[i]);
      }
      // Point lookups and seeks of published keys find them.
      for (size_t i = before / 2; ok && i < before; i += 1013) {
        U64List::Iterator s(&list);
        s.Seek(keys[i]);
        ok = list.Contains(keys[i]) && s.Valid() && s.key() == keys[i];
      }
      if (!ok) failed.store(true);
      scans.fetch_add(1);
      if (!ok || before == keys.size()) break;
    }
  };

  std::thread r1(reader), r2(reader);
  uint64_t scans_seen = 0;
  for (size_t i = 0; i < keys.size(); i++) {
    list.Insert(keys[i]);
    published.store(i + 1, std::memory_order_release);
    if (i % 1000 == 999) {
      // Let at least one more scan finish, so scans really overlap the inserts.
      while (!failed.load() && scans.load() <= scans_seen) std::this_thread::yield();
      scans_seen = scans.load();
    }
  }
  r1.join();
  r2.join();
  CHECK_FALSE(failed.load());
  CHECK(scans.load() >= 2);
  std::vector<uint64_t> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(Contents(list) == sorted);
}

}  // namespace keyva
