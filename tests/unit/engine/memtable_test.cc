// MemTable (and Arena) tests: versions and snapshot reads, deletions, iterator order, exact
// ShadowedBytes, memory accounting, and reads concurrent with the writer.
#include "internal/engine/db/memtable.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "internal/engine/util/arena.h"
#include "internal/engine/util/coding.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

// The arena encoding size of an entry, computed independently of memtable.cc.
size_t EncodedSize(std::string_view user_key, std::string_view value) {
  size_t ikey = user_key.size() + 8;
  return VarintLength(ikey) + ikey + VarintLength(value.size()) + value.size();
}

struct Found {
  bool found = false;
  ValueType type = ValueType::kValue;
  std::string value;
  SequenceNumber seq = 0;
};

Found Lookup(const MemTable& mem, std::string_view key, SequenceNumber snapshot) {
  Found f;
  f.value = "<untouched>";
  f.found = mem.Get(key, snapshot, &f.type, &f.value, &f.seq);
  return f;
}

// A model of a memtable: internal key -> value, plus the exact shadowed bytes recomputed from it.
using Model = std::map<std::string, std::string, InternalKeyLess>;

size_t ModelShadowedBytes(const Model& model, uint64_t* entries) {
  size_t bytes = 0;
  *entries = 0;
  std::string_view prev_user_key;
  bool first = true;
  for (const auto& [ikey, value] : model) {
    std::string_view user_key = ExtractUserKey(ikey);
    if (!first && user_key == prev_user_key) {  // not the newest version of its key
      bytes += EncodedSize(user_key, value);
      ++*entries;
    }
    prev_user_key = user_key;
    first = false;
  }
  return bytes;
}

void CheckIteratorMatchesModel(const MemTable& mem, const Model& model) {
  auto it = mem.NewIterator();
  it->SeekToFirst();
  for (const auto& [ikey, value] : model) {
    REQUIRE(it->Valid());
    REQUIRE(it->key() == ikey);
    REQUIRE(it->value() == value);
    it->Next();
  }
  CHECK_FALSE(it->Valid());
  CHECK(it->status().ok());
}

}  // namespace

TEST_CASE("arena hands out aligned, stable memory and counts its blocks", "[memtable][arena]") {
  Arena arena;
  CHECK(arena.MemoryUsage() == 0);
  std::mt19937 rng(301);
  std::vector<std::pair<char*, size_t>> allocs;
  size_t requested = 0;
  for (int i = 0; i < 4000; i++) {
    size_t n =
        i % 97 == 0 ? 6000 + rng() % 3000 : (i % 13 == 0 ? 1 + rng() % 1500 : 1 + rng() % 60);
    char* p = (i % 2 == 0) ? arena.AllocateAligned(n) : arena.Allocate(n);
    if (i % 2 == 0) {
      REQUIRE(reinterpret_cast<uintptr_t>(p) % Arena::kAlign == 0);
    }
    std::memset(p, static_cast<int>(i % 251), n);
    allocs.emplace_back(p, n);
    requested += n;
    REQUIRE(arena.MemoryUsage() >= requested);
  }
  // Nothing was overwritten by a later allocation.
  for (size_t i = 0; i < allocs.size(); i++) {
    auto [p, n] = allocs[i];
    for (size_t j = 0; j < n; j++) {
      if (static_cast<unsigned char>(p[j]) != i % 251) FAIL("allocation " << i << " overwritten");
    }
  }
  // Waste is bounded: at most a quarter block lost per block, plus bookkeeping.
  CHECK(arena.MemoryUsage() < requested * 3 / 2 + 2 * Arena::kBlockSize);
}

TEST_CASE("arena gives a large allocation its own block", "[memtable][arena]") {
  Arena arena;
  char* small = arena.Allocate(10);
  size_t after_small = arena.MemoryUsage();
  CHECK(after_small >= Arena::kBlockSize);
  char* big = arena.Allocate(100000);
  CHECK(arena.MemoryUsage() >= after_small + 100000);
  CHECK(arena.MemoryUsage() < after_small + 100000 + 64);
  // The small block's remaining space is still used for the next small allocation.
  char* small2 = arena.Allocate(10);
  CHECK(small2 == small + 10);
  CHECK(big != nullptr);
}

TEST_CASE("memtable get on an empty table finds nothing", "[memtable]") {
  MemTable mem;
  CHECK_FALSE(Lookup(mem, "a", kMaxSequenceNumber).found);
  CHECK(mem.NumEntries() == 0);
  CHECK(mem.ShadowedBytes() == 0);
  auto it = mem.NewIterator();
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
}

TEST_CASE("memtable serves each snapshot the newest version at or below it", "[memtable]") {
  MemTable mem;
  mem.Add(10, ValueType::kValue, "key", "v10");
  mem.Add(20, ValueType::kValue, "key", "v20");
  mem.Add(30, ValueType::kDeletion, "key", "");
  mem.Add(40, ValueType::kValue, "key", "v40");
  mem.Add(25, ValueType::kValue, "other", "o25");

  CHECK_FALSE(Lookup(mem, "key", 0).found);
  CHECK_FALSE(Lookup(mem, "key", 9).found);
  for (SequenceNumber s : {10, 11, 19}) {
    Found f = Lookup(mem, "key", s);
    REQUIRE(f.found);
    CHECK(f.type == ValueType::kValue);
    CHECK(f.value == "v10");
    CHECK(f.seq == 10);
  }
  for (SequenceNumber s : {20, 29}) {
    Found f = Lookup(mem, "key", s);
    REQUIRE(f.found);
    CHECK(f.value == "v20");
    CHECK(f.seq == 20);
  }
  for (SequenceNumber s : {30, 39}) {
    Found f = Lookup(mem, "key", s);
    REQUIRE(f.found);
    CHECK(f.type == ValueType::kDeletion);
    CHECK(f.seq == 30);
    CHECK(f.value == "<untouched>");  // a deletion leaves *value alone
  }
  for (SequenceNumber s :
       {SequenceNumber{40}, SequenceNumber{1000}, kMaxSequenceNumber, ~SequenceNumber{0}}) {
    Found f = Lookup(mem, "key", s);
    REQUIRE(f.found);
    CHECK(f.value == "v40");
    CHECK(f.seq == 40);
  }
  CHECK_FALSE(Lookup(mem, "other", 24).found);
  CHECK(Lookup(mem, "other", 25).value == "o25");
  CHECK(mem.NumEntries() == 5);

  // seq and value may be left out.
  ValueType type;
  CHECK(mem.Get("key", 35, &type, nullptr, nullptr));
  CHECK(type == ValueType::kDeletion);
}

TEST_CASE("memtable get never confuses keys that share a prefix", "[memtable]") {
  MemTable mem;
  const std::vector<std::string> keys = {
      "", "a", std::string("a\0", 2), "ab", "abc", std::string("a\xff", 2), "b", "\xff\xff\xff"};
  SequenceNumber seq = 1;
  for (const auto& k : keys) mem.Add(seq++, ValueType::kValue, k, "value of " + k);
  for (const auto& k : keys) {
    Found f = Lookup(mem, k, kMaxSequenceNumber);
    REQUIRE(f.found);
    CHECK(f.value == "value of " + k);
  }
  CHECK_FALSE(Lookup(mem, "aa", kMaxSequenceNumber).found);
  CHECK_FALSE(Lookup(mem, "abcd", kMaxSequenceNumber).found);
  CHECK_FALSE(Lookup(mem, std::string("a\0\0", 3), kMaxSequenceNumber).found);
  CHECK_FALSE(Lookup(mem, "c", kMaxSequenceNumber).found);
  // "ab" was written at seq 4: invisible before.
  CHECK_FALSE(Lookup(mem, "ab", 3).found);
}

TEST_CASE("memtable stores large values and long keys", "[memtable]") {
  MemTable mem;
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i);
  std::string long_key(5000, 'k');
  mem.Add(1, ValueType::kValue, long_key, big);
  mem.Add(2, ValueType::kValue, "small", "s");
  Found f = Lookup(mem, long_key, 5);
  REQUIRE(f.found);
  CHECK(f.value == big);
  CHECK(Lookup(mem, "small", 5).value == "s");
  CHECK(mem.ApproximateMemoryUsage() >= big.size() + long_key.size());
}

TEST_CASE("memtable iterator orders versions newest first and seeks internal keys", "[memtable]") {
  MemTable mem;
  Model model;
  auto add = [&](SequenceNumber seq, ValueType t, const std::string& k, const std::string& v) {
    mem.Add(seq, t, k, v);
    model[MakeInternalKey(k, seq, t)] = v;
  };
  add(5, ValueType::kValue, "b", "b5");
  add(1, ValueType::kValue, "b", "b1");
  add(9, ValueType::kDeletion, "b", "");
  add(3, ValueType::kValue, "a", "a3");
  add(7, ValueType::kValue, "c", "c7");
  add(8, ValueType::kValue, "c", "c8");
  CheckIteratorMatchesModel(mem, model);

  auto it = mem.NewIterator();
  it->SeekToFirst();
  std::vector<std::string> order;
  for (; it->Valid(); it->Next()) {
    ParsedInternalKey p;
    REQUIRE(ParseInternalKey(it->key(), &p));
    order.push_back(std::string(p.user_key) + "@" + std::to_string(p.sequence) +
                    (p.type == ValueType::kDeletion ? "D" : ""));
  }
  CHECK(order == std::vector<std::string>{"a@3", "b@9D", "b@5", "b@1", "c@8", "c@7"});

  // Seek to (b, 6) lands on b@5: the newest version visible at 6.
  it->Seek(MakeInternalKey("b", 6, kValueTypeForSeek));
  REQUIRE(it->Valid());
  CHECK(it->key() == MakeInternalKey("b", 5, ValueType::kValue));
  CHECK(it->value() == "b5");
  it->Seek(MakeInternalKey("bb", kMaxSequenceNumber, kValueTypeForSeek));
  REQUIRE(it->Valid());
  CHECK(ExtractUserKey(it->key()) == "c");
  it->Seek(MakeInternalKey("c", 6, kValueTypeForSeek));
  CHECK_FALSE(it->Valid());
}

TEST_CASE("memtable matches a model under random writes", "[memtable]") {
  const uint64_t seed = test::PrintedTestSeed("memtable_test");
  INFO("KEYVA_TEST_SEED=" << seed);
  std::mt19937_64 rng(seed);
  MemTable mem;
  Model model;
  // Never below its scale-1 size (cheap even under the sanitizers); KEYVA_TEST_SCALE > 1 grows it.
  const int n = test::Scaled(4000, 4000);
  // Sequence numbers are handed out in a shuffled order: ShadowedBytes must not depend on
  // versions arriving oldest first.
  std::vector<SequenceNumber> seqs(n);
  for (int i = 0; i < n; i++) seqs[i] = 100 + 3 * static_cast<SequenceNumber>(i);
  std::shuffle(seqs.begin(), seqs.end(), rng);
  for (int i = 0; i < n; i++) {
    std::string key = "k" + std::to_string(rng() % 300);
    ValueType t = rng() % 5 == 0 ? ValueType::kDeletion : ValueType::kValue;
    std::string value = t == ValueType::kDeletion ? "" : std::string(rng() % 200, 'a' + i % 26);
    mem.Add(seqs[i], t, key, value);
    model[MakeInternalKey(key, seqs[i], t)] = value;
    if (i % 500 == 0) {
      uint64_t entries;
      REQUIRE(mem.ShadowedBytes() == ModelShadowedBytes(model, &entries));
      REQUIRE(mem.NumShadowedEntries() == entries);
    }
  }
  CHECK(mem.NumEntries() == model.size());
  uint64_t entries;
  CHECK(mem.ShadowedBytes() == ModelShadowedBytes(model, &entries));
  CHECK(mem.NumShadowedEntries() == entries);
  CheckIteratorMatchesModel(mem, model);

  // Get at random snapshots agrees with the model.
  for (int i = 0; i < 2000; i++) {
    std::string key = "k" + std::to_string(rng() % 310);
    SequenceNumber snap = rng() % (100 + 3 * n + 10);
    auto pos = model.lower_bound(MakeInternalKey(key, snap, kValueTypeForSeek));
    bool expect = pos != model.end() && ExtractUserKey(pos->first) == key;
    Found f = Lookup(mem, key, snap);
    REQUIRE(f.found == expect);
    if (expect) {
      ParsedInternalKey p;
      REQUIRE(ParseInternalKey(pos->first, &p));
      CHECK(f.seq == p.sequence);
      CHECK(f.type == p.type);
      if (p.type == ValueType::kValue) CHECK(f.value == pos->second);
    }
  }

  // Seek agrees with the model's lower_bound.
  auto it = mem.NewIterator();
  for (int i = 0; i < 500; i++) {
    std::string target = MakeInternalKey("k" + std::to_string(rng() % 310), rng() % (100 + 3 * n),
                                         kValueTypeForSeek);
    it->Seek(target);
    auto pos = model.lower_bound(target);
    if (pos == model.end()) {
      CHECK_FALSE(it->Valid());
    } else {
      REQUIRE(it->Valid());
      CHECK(it->key() == pos->first);
      CHECK(it->value() == pos->second);
    }
  }
}

TEST_CASE("memtable shadowed bytes: one key written many times", "[memtable]") {
  MemTable mem;
  // "k" + 8-byte trailer = 9-byte internal key: 1 + 9 + 1 + 2 = 13 bytes per "vv" entry.
  CHECK(EncodedSize("k", "vv") == 13);
  mem.Add(1, ValueType::kValue, "k", "vv");
  CHECK(mem.ShadowedBytes() == 0);
  mem.Add(2, ValueType::kValue, "k", "vv");
  CHECK(mem.ShadowedBytes() == 13);
  for (SequenceNumber s = 3; s <= 1000; s++) mem.Add(s, ValueType::kValue, "k", "vv");
  CHECK(mem.ShadowedBytes() == 999 * 13);
  CHECK(mem.NumShadowedEntries() == 999);
  CHECK(mem.NumEntries() == 1000);
  // Values of differing sizes: what counts is the size of the entry being shadowed.
  mem.Add(1001, ValueType::kValue, "k", std::string(200, 'x'));  // shadows a 13-byte entry
  CHECK(mem.ShadowedBytes() == 1000 * 13);
  mem.Add(1002, ValueType::kValue, "k", "");  // shadows the 200-byte one: 1 + 9 + 2 + 200
  CHECK(mem.ShadowedBytes() == 1000 * 13 + 212);
}

TEST_CASE("memtable shadowed bytes: interleaved keys and deletions", "[memtable]") {
  MemTable mem;
  mem.Add(1, ValueType::kValue, "a", "1");    // 1+9+1+1 = 12
  mem.Add(2, ValueType::kValue, "bb", "22");  // 1+10+1+2 = 14
  mem.Add(3, ValueType::kValue, "a", "333");  // 14; shadows a@1 (12)
  CHECK(mem.ShadowedBytes() == 12);
  mem.Add(4, ValueType::kValue, "c", "4");  // new key: nothing shadowed
  CHECK(mem.ShadowedBytes() == 12);
  mem.Add(5, ValueType::kDeletion, "bb", "");  // 1+10+1 = 12; shadows bb@2 (14)
  CHECK(mem.ShadowedBytes() == 26);
  mem.Add(6, ValueType::kValue, "bb", "666666");  // shadows the tombstone (12)
  CHECK(mem.ShadowedBytes() == 38);
  mem.Add(7, ValueType::kDeletion, "a", "");  // shadows a@3 (14)
  CHECK(mem.ShadowedBytes() == 52);
  // A key sorting between existing ones, and a prefix of one: no shadowing across user keys.
  mem.Add(8, ValueType::kValue, "b", "8");
  mem.Add(9, ValueType::kValue, "bbb", "9");
  mem.Add(10, ValueType::kValue, "", "10");
  CHECK(mem.ShadowedBytes() == 52);
  CHECK(mem.NumShadowedEntries() == 4);
  // An older version arriving late (e.g. a rewrite) is shadowed itself.
  mem.Add(0, ValueType::kValue, "c", "old");  // 1+9+1+3 = 14
  CHECK(mem.ShadowedBytes() == 66);
  CHECK(mem.NumShadowedEntries() == 5);
  // A version between two existing ones is shadowed by the newer one.
  mem.Add(2, ValueType::kValue, "c", "mid");  // 14
  CHECK(mem.ShadowedBytes() == 80);
  CHECK(mem.NumEntries() == 12);
}

TEST_CASE("memtable memory usage grows with the data it holds", "[memtable]") {
  MemTable mem;
  size_t initial = mem.ApproximateMemoryUsage();
  CHECK(initial < 2 * Arena::kBlockSize);  // the skiplist head only
  size_t data = 0;
  size_t last = initial;
  for (int i = 0; i < 10000; i++) {
    std::string key = "key" + std::to_string(i);
    std::string value(100, 'v');
    mem.Add(static_cast<SequenceNumber>(i + 1), ValueType::kValue, key, value);
    data += EncodedSize(key, value);
    size_t now = mem.ApproximateMemoryUsage();
    REQUIRE(now >= last);
    last = now;
  }
  CHECK(last >= data);
  // Node overhead (a pointer per level, 1.33 levels on average) and block waste stay small.
  CHECK(last < data + data / 2);
  // Rewriting one key keeps growing usage: versions are never overwritten in place.
  for (int i = 0; i < 1000; i++) {
    mem.Add(static_cast<SequenceNumber>(20000 + i), ValueType::kValue, "hot",
            std::string(100, 'h'));
  }
  CHECK(mem.ApproximateMemoryUsage() >= last + 999 * EncodedSize("hot", std::string(100, 'h')));
}

// Readers Get and iterate while the single writer adds (run under TSan in build-tsan).
TEST_CASE("memtable reads run concurrently with one writer", "[memtable]") {
  MemTable mem;
  const int n = 20000;
  std::atomic<int> published{0};
  std::atomic<bool> failed{false};
  std::atomic<int> rounds{0};
  auto value_of = [](int i) { return "value" + std::to_string(i); };

  std::thread reader([&] {
    std::string value;
    while (true) {
      int before = published.load(std::memory_order_acquire);
      bool ok = true;
      // Keys are "k<i % 1000>" and versions are i + 1: the newest published version of a key is
      // visible, and at snapshot before it never a newer one.
      for (int i = before - 1; ok && i >= 0 && i >= before - 50; i--) {
        ValueType type;
        SequenceNumber seq;
        ok = mem.Get("k" + std::to_string(i % 1000), static_cast<SequenceNumber>(before), &type,
                     &value, &seq) &&
             type == ValueType::kValue && static_cast<int>(seq) <= before &&
             static_cast<int>(seq) >= i + 1 && value == "value" + std::to_string(seq - 1);
      }
      if (ok && before > 0 && rounds.load() % 8 == 0) {
        size_t count = 0;
        auto it = mem.NewIterator();
        for (it->SeekToFirst(); it->Valid(); it->Next()) count++;
        ok = count >= static_cast<size_t>(before);
      }
      if (!ok) failed.store(true);
      rounds.fetch_add(1);
      if (!ok || before == n) break;
    }
  });
  int rounds_seen = 0;
  for (int i = 0; i < n; i++) {
    mem.Add(static_cast<SequenceNumber>(i + 1), ValueType::kValue, "k" + std::to_string(i % 1000),
            value_of(i));
    published.store(i + 1, std::memory_order_release);
    if (i % 1000 == 999) {
      while (!failed.load() && rounds.load() <= rounds_seen) std::this_thread::yield();
      rounds_seen = rounds.load();
    }
  }
  reader.join();
  CHECK_FALSE(failed.load());
  CHECK(mem.NumEntries() == static_cast<uint64_t>(n));
  CHECK(mem.NumShadowedEntries() == static_cast<uint64_t>(n - 1000));
}

}  // namespace keyva
