// Tests for BlockBuilder and Block (block_builder.h, block.h): round trips with restarts, Seek to
// and between keys, a randomized comparison with std::map, and hostile-input parsing.
#include "internal/engine/table/block.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/table/block_builder.h"
#include "internal/engine/util/coding.h"
#include "tests/unit/engine/engine_test_util.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

std::shared_ptr<const Block> BuildBlock(const Entries& entries, int restart_interval) {
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  const size_t estimate = builder.CurrentSizeEstimate();
  std::string contents(builder.Finish());
  CHECK(contents.size() == estimate);
  std::shared_ptr<const Block> block;
  REQUIRE(Block::Create(std::move(contents), &block).ok());
  return block;
}

Entries ReadAll(const std::shared_ptr<const Block>& block) {
  Entries out;
  auto it = NewBlockIterator(block);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  REQUIRE(it->status().ok());
  return out;
}

// Even-numbered user keys, each with versions at seq 30, 20, 10 (newest first in internal order).
Entries SampleEntries(int user_keys) {
  Entries entries;
  for (int i = 0; i < user_keys; i++) {
    for (SequenceNumber seq : {30, 20, 10}) {
      ValueType t = seq == 10 ? ValueType::kDeletion : ValueType::kValue;
      entries.emplace_back(MakeInternalKey(test::NumberedKey(2 * i), seq, t),
                           t == ValueType::kDeletion ? "" : "v" + std::to_string(i * 100 + seq));
    }
  }
  return entries;
}

// Drives an iterator over arbitrary block bytes; must never crash or loop, and any error is
// Corruption. Returns the number of entries seen by a full scan.
size_t Exercise(std::string contents) {
  const size_t size = contents.size();
  std::shared_ptr<const Block> block;
  Status s = Block::Create(std::move(contents), &block);
  if (!s.ok()) {
    CHECK(s.IsCorruption());
    return 0;
  }
  auto it = NewBlockIterator(block);
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    CHECK(it->key().size() >= 8);
    n++;
    REQUIRE(n <= size);  // every entry takes at least 3 bytes
  }
  CHECK((it->status().ok() || it->status().IsCorruption()));
  for (const std::string& target : {MakeInternalKey("", 0, ValueType::kDeletion),
                                    MakeInternalKey("key000100", 20, ValueType::kValue),
                                    MakeInternalKey("zzzz", 5, ValueType::kValue)}) {
    auto seek_it = NewBlockIterator(block);
    seek_it->Seek(target);
    size_t m = 0;
    while (seek_it->Valid() && m++ <= size) seek_it->Next();
    CHECK((seek_it->status().ok() || seek_it->status().IsCorruption()));
  }
  return n;
}

}  // namespace

TEST_CASE("block: round trip with every restart interval", "[block]") {
  const Entries entries = SampleEntries(200);
  for (int interval : {1, 2, 3, 16, 1000}) {
    INFO("restart interval " << interval);
    auto block = BuildBlock(entries, interval);
    CHECK(block->NumRestarts() == (entries.size() + interval - 1) / interval);
    CHECK(ReadAll(block) == entries);
  }
}

TEST_CASE("block: prefix compression shrinks shared prefixes", "[block]") {
  const Entries entries = SampleEntries(200);
  size_t raw = 0;
  for (const auto& [k, v] : entries) raw += k.size() + v.size();
  auto compressed = BuildBlock(entries, 16);
  auto uncompressed = BuildBlock(entries, 1);  // every entry a restart: no sharing
  CHECK(compressed->size() < uncompressed->size());
  CHECK(compressed->size() < raw);
}

TEST_CASE("block: empty block", "[block]") {
  BlockBuilder builder(16);
  CHECK(builder.empty());
  std::string contents(builder.Finish());
  CHECK(contents.size() == 8);  // one restart (0) and the count
  std::shared_ptr<const Block> block;
  REQUIRE(Block::Create(contents, &block).ok());
  auto it = NewBlockIterator(block);
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
  it->Seek(MakeInternalKey("a", 1, ValueType::kValue));
  CHECK_FALSE(it->Valid());
  CHECK(it->status().ok());
}

TEST_CASE("block: builder reset and reuse", "[block]") {
  BlockBuilder builder(4);
  builder.Add(MakeInternalKey("zzz", 1, ValueType::kValue), "old");
  builder.Finish();
  builder.Reset();
  CHECK(builder.empty());
  CHECK(builder.NumEntries() == 0);
  const Entries entries = SampleEntries(10);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  CHECK(builder.last_key() == entries.back().first);
  std::shared_ptr<const Block> block;
  REQUIRE(Block::Create(std::string(builder.Finish()), &block).ok());
  CHECK(ReadAll(block) == entries);
}

TEST_CASE("block: Seek to every key and between keys", "[block]") {
  const Entries entries = SampleEntries(150);
  for (int interval : {1, 4, 16}) {
    INFO("restart interval " << interval);
    auto block = BuildBlock(entries, interval);
    auto it = NewBlockIterator(block);
    for (size_t i = 0; i < entries.size(); i++) {
      it->Seek(entries[i].first);
      REQUIRE(it->Valid());
      CHECK(it->key() == entries[i].first);
      CHECK(it->value() == entries[i].second);
    }
    for (int i = 0; i < 150; i++) {
      // Between versions: (key, 25) lands on (key, 20); (key, 5) on the next user key's newest.
      it->Seek(MakeInternalKey(test::NumberedKey(2 * i), 25, ValueType::kValue));
      REQUIRE(it->Valid());
      CHECK(it->key() == MakeInternalKey(test::NumberedKey(2 * i), 20, ValueType::kValue));
      // Newer than every version: lands on the newest.
      it->Seek(MakeInternalKey(test::NumberedKey(2 * i), kMaxSequenceNumber, kValueTypeForSeek));
      REQUIRE(it->Valid());
      CHECK(it->key() == MakeInternalKey(test::NumberedKey(2 * i), 30, ValueType::kValue));
      // An absent user key between two present ones.
      it->Seek(
          MakeInternalKey(test::NumberedKey(2 * i + 1), kMaxSequenceNumber, kValueTypeForSeek));
      if (i + 1 < 150) {
        REQUIRE(it->Valid());
        CHECK(it->key() == MakeInternalKey(test::NumberedKey(2 * i + 2), 30, ValueType::kValue));
      } else {
        CHECK_FALSE(it->Valid());
      }
      it->Seek(MakeInternalKey(test::NumberedKey(2 * i), 5, ValueType::kValue));
      if (i + 1 < 150) {
        REQUIRE(it->Valid());
        CHECK(it->key() == MakeInternalKey(test::NumberedKey(2 * i + 2), 30, ValueType::kValue));
      } else {
        CHECK_FALSE(it->Valid());
      }
    }
    it->Seek(MakeInternalKey("", kMaxSequenceNumber, kValueTypeForSeek));
    REQUIRE(it->Valid());
    CHECK(it->key() == entries.front().first);
    it->Seek(MakeInternalKey("zzz", 0, ValueType::kDeletion));
    CHECK_FALSE(it->Valid());
    CHECK(it->status().ok());
    // Seek then Next walks on in order.
    it->Seek(entries[100].first);
    for (size_t i = 100; i < entries.size(); i++) {
      REQUIRE(it->Valid());
      CHECK(it->key() == entries[i].first);
      it->Next();
    }
    CHECK_FALSE(it->Valid());
  }
}

TEST_CASE("block: random keys behave like std::map", "[block]") {
  std::mt19937_64 rng(test::PrintedTestSeed("block random"));
  const int rounds = 30;
  for (int round = 0; round < rounds; round++) {
    std::map<std::string, std::string, InternalKeyLess> model;
    const int n = std::uniform_int_distribution<int>(0, 400)(rng);
    auto random_user_key = [&]() {
      // A small alphabet and short lengths make shared prefixes and duplicates common.
      std::string k(std::uniform_int_distribution<int>(0, 12)(rng), 'a');
      for (char& c : k) c = static_cast<char>('a' + rng() % 3);
      if (rng() % 10 == 0) k.push_back(static_cast<char>(rng() % 256));
      return k;
    };
    for (int i = 0; i < n; i++) {
      std::string value(std::uniform_int_distribution<int>(0, 60)(rng), 'x');
      for (char& c : value) c = static_cast<char>(rng());
      model[MakeInternalKey(random_user_key(), rng() % 100,
                            rng() % 4 == 0 ? ValueType::kDeletion : ValueType::kValue)] = value;
    }
    Entries entries(model.begin(), model.end());
    const int interval = std::uniform_int_distribution<int>(1, 20)(rng);
    INFO("round " << round << " entries " << entries.size() << " interval " << interval);
    auto block = BuildBlock(entries, interval);
    REQUIRE(ReadAll(block) == entries);
    auto it = NewBlockIterator(block);
    for (int q = 0; q < 200; q++) {
      std::string target =
          (q % 2 == 0 && !entries.empty())
              ? entries[rng() % entries.size()].first
              : MakeInternalKey(random_user_key(), rng() % 100, ValueType(rng() % 2));
      it->Seek(target);
      auto expected = model.lower_bound(target);
      if (expected == model.end()) {
        REQUIRE_FALSE(it->Valid());
      } else {
        REQUIRE(it->Valid());
        REQUIRE(it->key() == expected->first);
        REQUIRE(it->value() == expected->second);
        // A few Next steps agree too.
        for (int step = 0; step < 3; step++) {
          it->Next();
          ++expected;
          REQUIRE(it->Valid() == (expected != model.end()));
          if (!it->Valid()) break;
          REQUIRE(it->key() == expected->first);
        }
      }
    }
    CHECK(it->status().ok());
  }
}

TEST_CASE("block: malformed restart arrays are Corruption", "[block]") {
  std::shared_ptr<const Block> block;
  auto create = [&](std::string contents) { return Block::Create(std::move(contents), &block); };
  CHECK(create("").IsCorruption());
  CHECK(create("abc").IsCorruption());
  std::string zero_restarts(4, '\0');
  CHECK(create(zero_restarts).IsCorruption());
  std::string huge;
  PutFixed32(&huge, 0xffffffffu);
  CHECK(create(huge).IsCorruption());
  std::string too_many;
  PutFixed32(&too_many, 0);
  PutFixed32(&too_many, 2);  // claims 2 restarts, room for 1
  CHECK(create(too_many).IsCorruption());

  // A valid block, then damage its restart array.
  const Entries entries = SampleEntries(10);
  std::string good(BuildBlock(entries, 4)->contents());
  const uint32_t num = DecodeFixed32(good.data() + good.size() - 4);
  REQUIRE(num == 8);  // 30 entries / 4
  const size_t array = good.size() - 4 - 4 * num;
  std::string bad = good;
  EncodeFixed32(bad.data() + array, 5);  // first restart not 0
  CHECK(create(bad).IsCorruption());
  bad = good;
  EncodeFixed32(bad.data() + array + 8, DecodeFixed32(good.data() + array + 4));  // not increasing
  CHECK(create(bad).IsCorruption());
  bad = good;
  EncodeFixed32(bad.data() + array + 4, static_cast<uint32_t>(array));  // points at the array
  CHECK(create(bad).IsCorruption());
  bad = good;
  EncodeFixed32(bad.data() + good.size() - 4, num + 1000);
  CHECK(create(bad).IsCorruption());
  CHECK(create(good).ok());
}

TEST_CASE("block: malformed entries stop iteration with Corruption", "[block]") {
  auto block_of = [](const std::string& entries_bytes) {
    std::string contents = entries_bytes;
    PutFixed32(&contents, 0);
    PutFixed32(&contents, 1);
    std::shared_ptr<const Block> block;
    REQUIRE(Block::Create(contents, &block).ok());
    return block;
  };
  auto entry = [](uint32_t shared, uint32_t non_shared, uint32_t value_len, std::string rest) {
    std::string e;
    PutVarint32(&e, shared);
    PutVarint32(&e, non_shared);
    PutVarint32(&e, value_len);
    return e + rest;
  };
  const std::string key = MakeInternalKey("abc", 7, ValueType::kValue);  // 11 bytes
  const std::string good = entry(0, 11, 2, key + "v1");
  REQUIRE(ReadAll(block_of(good)).size() == 1);

  struct Case {
    const char* what;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"shared longer than the previous key", good + entry(12, 0, 0, "")},
      {"first entry shares a prefix", entry(3, 8, 0, key.substr(3))},
      {"key runs past the entries", entry(0, 200, 0, key)},
      {"value runs past the entries", entry(0, 11, 200, key)},
      {"key shorter than 8 bytes", entry(0, 3, 0, "abc")},
      {"truncated header", good + std::string("\x80", 1)},
      {"overlong varint", good + std::string(6, '\xff')},
      {"value length overflows", entry(0, 11, 0xffffffffu, key)},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto block = block_of(c.bytes);
    auto it = NewBlockIterator(block);
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
    CHECK(it->status().IsCorruption());
    CHECK(n <= 1);
    // Seek hits the same entry (restart 0) and reports it too; errors are sticky.
    auto seek_it = NewBlockIterator(block);
    seek_it->Seek(MakeInternalKey("zzz", 1, ValueType::kValue));
    CHECK_FALSE(seek_it->Valid());
    CHECK(seek_it->status().IsCorruption());
    seek_it->SeekToFirst();
    CHECK_FALSE(seek_it->Valid());
    CHECK(seek_it->status().IsCorruption());
  }
}

TEST_CASE("block: random damage never crashes", "[block]") {
  std::mt19937_64 rng(test::PrintedTestSeed("block fuzz"));
  const Entries entries = SampleEntries(40);
  const std::string good(BuildBlock(entries, 4)->contents());
  REQUIRE(Exercise(good) == entries.size());
  // Every truncation.
  for (size_t len = 0; len < good.size(); len++) Exercise(good.substr(0, len));
  // Every single byte set to a few interesting values.
  for (size_t pos = 0; pos < good.size(); pos++) {
    for (unsigned char v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      std::string bad = good;
      bad[pos] = static_cast<char>(v);
      Exercise(bad);
    }
  }
  // Random multi-byte damage and pure garbage.
  for (int i = 0; i < 1500; i++) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; f++) bad[rng() % bad.size()] = static_cast<char>(rng());
    Exercise(bad);
    std::string garbage(rng() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    if (garbage.size() >= 8 && rng() % 2 == 0) {
      EncodeFixed32(garbage.data() + garbage.size() - 4, 1);
      EncodeFixed32(garbage.data() + garbage.size() - 8, 0);
    }
    Exercise(garbage);
  }
}

}  // namespace keyva
