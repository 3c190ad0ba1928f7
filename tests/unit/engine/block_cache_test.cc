// Tests for BlockCache (block_cache.h): byte bound, LRU order, hit/miss counts, pinned bytes,
// EraseFile, and blocks that stay valid after eviction; then the sharding: how many shards, the
// exact byte bound with the capacity and the pins split over 16 shards, and many threads at once.
// The tests written for the unsharded cache use caches under 1 MiB, which have one shard and so
// still one exact LRU order.
#include "internal/engine/table/block_cache.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/table/block_builder.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

// A block with one entry whose value tells which (file, offset) it was made for. The helpers use
// no Catch assertions, so threads may call them.
std::shared_ptr<const Block> MakeBlock(uint64_t file, uint64_t offset, size_t value_size = 16) {
  BlockBuilder builder(16);
  std::string value = std::to_string(file) + ":" + std::to_string(offset);
  value.resize(std::max(value.size(), value_size), '.');
  builder.Add(MakeInternalKey("k", 1, ValueType::kValue), value);
  std::shared_ptr<const Block> block;
  if (!Block::Create(std::string(builder.Finish()), &block).ok()) std::abort();
  return block;
}

std::string Tag(const std::shared_ptr<const Block>& block) {
  auto it = NewBlockIterator(block);
  it->SeekToFirst();
  if (!it->Valid()) return "<invalid>";
  std::string v(it->value());
  return v.substr(0, v.find('.'));
}

}  // namespace

TEST_CASE("block cache: usage stays within capacity while inserting many", "[block_cache]") {
  std::mt19937_64 rng(test::PrintedTestSeed("block cache usage"));
  BlockCache cache(10000);
  CHECK(cache.Capacity() == 10000);
  size_t max_usage = 0;
  for (int i = 0; i < 5000; i++) {
    const size_t charge = 100 + rng() % 1900;
    cache.Insert(rng() % 8, rng() % 200, MakeBlock(0, 0), charge);
    REQUIRE(cache.Usage() <= cache.Capacity());
    max_usage = std::max(max_usage, cache.Usage());
  }
  CHECK(max_usage > cache.Capacity() - 2000);  // it does fill up
  CHECK(cache.NumEntries() > 0);
}

TEST_CASE("block cache: LRU eviction order", "[block_cache]") {
  BlockCache cache(300);
  cache.Insert(1, 0, MakeBlock(1, 0), 100);
  cache.Insert(1, 100, MakeBlock(1, 100), 100);
  cache.Insert(1, 200, MakeBlock(1, 200), 100);
  CHECK(cache.Usage() == 300);
  REQUIRE(cache.Lookup(1, 0) != nullptr);  // (1,0) is now the most recent; (1,100) the oldest
  cache.Insert(1, 300, MakeBlock(1, 300), 100);
  CHECK(cache.Lookup(1, 100) == nullptr);
  CHECK(cache.Lookup(1, 0) != nullptr);
  CHECK(cache.Lookup(1, 200) != nullptr);
  CHECK(cache.Lookup(1, 300) != nullptr);
  // Order now (oldest first): (1,0), (1,200), (1,300). A 200-byte insert evicts the two oldest.
  cache.Insert(2, 0, MakeBlock(2, 0), 200);
  CHECK(cache.Lookup(1, 0) == nullptr);
  CHECK(cache.Lookup(1, 200) == nullptr);
  CHECK(cache.Lookup(1, 300) != nullptr);
  CHECK(cache.Lookup(2, 0) != nullptr);
  CHECK(cache.Usage() == 300);
  CHECK(cache.NumEntries() == 2);
}

TEST_CASE("block cache: hits, misses, replacement and oversized blocks", "[block_cache]") {
  BlockCache cache(1000);
  CHECK(cache.Lookup(7, 0) == nullptr);
  CHECK(cache.Misses() == 1);
  CHECK(cache.Hits() == 0);
  cache.Insert(7, 0, MakeBlock(7, 0), 100);
  auto got = cache.Lookup(7, 0);
  REQUIRE(got != nullptr);
  CHECK(Tag(got) == "7:0");
  CHECK(cache.Lookup(7, 0) != nullptr);
  CHECK(cache.Lookup(7, 1) == nullptr);  // another offset of the same file
  CHECK(cache.Lookup(8, 0) == nullptr);  // the same offset of another file
  CHECK(cache.Hits() == 2);
  CHECK(cache.Misses() == 3);

  // Re-inserting a key replaces the entry and its charge.
  cache.Insert(7, 0, MakeBlock(7, 1000), 300);
  CHECK(cache.Usage() == 300);
  CHECK(cache.NumEntries() == 1);
  CHECK(Tag(cache.Lookup(7, 0)) == "7:1000");

  // A block larger than the whole cache is not cached (and does not flush the others).
  cache.Insert(9, 0, MakeBlock(9, 0), 1001);
  CHECK(cache.Lookup(9, 0) == nullptr);
  CHECK(cache.Lookup(7, 0) != nullptr);
  CHECK(cache.Usage() == 300);

  BlockCache none(0);
  none.Insert(1, 0, MakeBlock(1, 0), 1);
  CHECK(none.Lookup(1, 0) == nullptr);
  CHECK(none.Usage() == 0);
}

TEST_CASE("block cache: pinned bytes share the budget with cached blocks", "[block_cache]") {
  BlockCache cache(1000);
  for (uint64_t offset = 0; offset < 1000; offset += 100) {
    cache.Insert(1, offset, MakeBlock(1, offset), 100);
  }
  REQUIRE(cache.Usage() == 1000);
  REQUIRE(cache.Lookup(1, 0) != nullptr);  // (1,0) is now the most recent; (1,100) the oldest

  // Pinning 250 bytes (an opened file's index and filter) evicts the three oldest blocks.
  cache.Pin(250);
  CHECK(cache.PinnedUsage() == 250);
  CHECK(cache.Usage() == 950);
  CHECK(cache.NumEntries() == 7);
  CHECK(cache.Lookup(1, 100) == nullptr);
  CHECK(cache.Lookup(1, 300) == nullptr);
  CHECK(cache.Lookup(1, 400) != nullptr);
  CHECK(cache.Lookup(1, 0) != nullptr);

  // Inserts stay within what the pins leave; a block that cannot fit beside them is not cached.
  cache.Insert(2, 0, MakeBlock(2, 0), 700);
  CHECK(cache.Usage() <= 1000);
  CHECK(cache.Lookup(2, 0) != nullptr);
  cache.Insert(3, 0, MakeBlock(3, 0), 751);
  CHECK(cache.Lookup(3, 0) == nullptr);
  CHECK(cache.Lookup(2, 0) != nullptr);

  // Pins beyond the capacity empty the cache; usage then exceeds the capacity by the pins alone.
  cache.Pin(900);
  CHECK(cache.NumEntries() == 0);
  CHECK(cache.Usage() == 1150);
  cache.Insert(4, 0, MakeBlock(4, 0), 1);
  CHECK(cache.Lookup(4, 0) == nullptr);

  // Unpinning gives the room back.
  cache.Unpin(900);
  cache.Unpin(250);
  CHECK(cache.PinnedUsage() == 0);
  CHECK(cache.Usage() == 0);
  cache.Insert(4, 0, MakeBlock(4, 0), 1000);
  CHECK(cache.Lookup(4, 0) != nullptr);
  CHECK(cache.Usage() == 1000);
}

TEST_CASE("block cache: EraseFile drops exactly that file's blocks", "[block_cache]") {
  BlockCache cache(1 << 20);
  for (uint64_t file : {1ull, 2ull, 3ull, ~0ull}) {
    for (uint64_t offset = 0; offset < 50; offset++) {
      cache.Insert(file, offset * 4096, MakeBlock(file, offset * 4096), 10 + file % 7);
    }
  }
  const size_t before = cache.Usage();
  cache.EraseFile(2);
  CHECK(cache.Usage() == before - 50 * (10 + 2));
  CHECK(cache.NumEntries() == 150);
  for (uint64_t offset = 0; offset < 50; offset++) {
    CHECK(cache.Lookup(2, offset * 4096) == nullptr);
    CHECK(cache.Lookup(1, offset * 4096) != nullptr);
    CHECK(cache.Lookup(3, offset * 4096) != nullptr);
  }
  cache.EraseFile(~0ull);
  CHECK(cache.NumEntries() == 100);
  cache.EraseFile(12345);  // no such file: nothing happens
  CHECK(cache.NumEntries() == 100);
  cache.EraseFile(1);
  cache.EraseFile(3);
  CHECK(cache.NumEntries() == 0);
  CHECK(cache.Usage() == 0);
}

TEST_CASE("block cache: blocks still referenced stay valid after eviction", "[block_cache]") {
  BlockCache cache(1000);
  std::vector<std::shared_ptr<const Block>> held;
  for (uint64_t i = 0; i < 100; i++) {
    cache.Insert(1, i, MakeBlock(1, i, 500), 400);
    held.push_back(cache.Lookup(1, i));
    REQUIRE(held.back() != nullptr);
  }
  CHECK(cache.NumEntries() == 2);
  cache.EraseFile(1);
  CHECK(cache.NumEntries() == 0);
  // Every block handed out earlier can still be read (ASan would catch a use after free).
  for (uint64_t i = 0; i < 100; i++) CHECK(Tag(held[i]) == "1:" + std::to_string(i));
}

TEST_CASE("block cache: concurrent use keeps its invariants", "[block_cache]") {
  BlockCache cache(20000);
  std::atomic<int> wrong_blocks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&cache, &wrong_blocks, t] {
      std::mt19937_64 rng(t);
      for (int i = 0; i < 3000; i++) {
        const uint64_t file = rng() % 5, offset = rng() % 100;
        switch (rng() % 4) {
          case 0:
          case 1:
            if (auto b = cache.Lookup(file, offset); b != nullptr) {
              if (Tag(b) != std::to_string(file) + ":" + std::to_string(offset)) wrong_blocks++;
            }
            break;
          case 2:
            cache.Insert(file, offset, MakeBlock(file, offset), 100 + rng() % 900);
            break;
          default:
            if (rng() % 50 == 0) cache.EraseFile(file);
            break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong_blocks == 0);
  CHECK(cache.Usage() <= cache.Capacity());
  CHECK(cache.Hits() + cache.Misses() > 0);
  size_t total = 0;
  for (uint64_t file = 0; file < 5; file++) {
    for (uint64_t offset = 0; offset < 100; offset++)
      total += cache.Lookup(file, offset) != nullptr;
  }
  CHECK(total == cache.NumEntries());
}

TEST_CASE("block cache: the number of shards follows the capacity", "[block_cache]") {
  CHECK(BlockCache(0).NumShards() == 1);
  CHECK(BlockCache(1000).NumShards() == 1);
  CHECK(BlockCache((1 << 20) - 1).NumShards() == 1);  // two shards would be under 512 KiB
  CHECK(BlockCache(1 << 20).NumShards() == 2);
  CHECK(BlockCache(2 << 20).NumShards() == 4);
  CHECK(BlockCache(5 << 20).NumShards() == 8);
  CHECK(BlockCache(8 << 20).NumShards() == 16);
  CHECK(BlockCache(size_t{64} << 30).NumShards() == 16);
}

TEST_CASE("block cache: 16 shards keep the exact byte bound, with and without pins",
          "[block_cache]") {
  std::mt19937_64 rng(test::PrintedTestSeed("block cache sharded bound"));
  const size_t capacity = (8 << 20) + 13;  // not a multiple of 16: the shards differ by a byte
  BlockCache cache(capacity);
  REQUIRE(cache.NumShards() == 16);
  const auto block = MakeBlock(0, 0);
  constexpr size_t kMaxCharge = 16 << 10;
  auto insert_many = [&](int n) {
    size_t max_usage = 0;
    for (int i = 0; i < n; i++) {
      cache.Insert(rng() % 8, rng() % 100000, block, 1 + rng() % kMaxCharge);
      REQUIRE(cache.Usage() <= cache.Capacity());
      max_usage = std::max(max_usage, cache.Usage());
    }
    return max_usage;
  };
  // It fills up: each shard ends less than one block short of its part.
  CHECK(insert_many(4000) > capacity - 16 * kMaxCharge);

  // Pins take room from every shard; data blocks then stay within what the pins leave.
  const size_t pinned = (3 << 20) + 7;
  cache.Pin(pinned);
  CHECK(cache.PinnedUsage() == pinned);
  CHECK(cache.Usage() <= capacity);
  CHECK(insert_many(2000) > capacity - 16 * kMaxCharge);

  // Pins of exactly the capacity leave no room in any shard; more than it, usage is the pins.
  cache.Pin(capacity - pinned);
  CHECK(cache.NumEntries() == 0);
  CHECK(cache.Usage() == capacity);
  cache.Insert(1, 0, block, 1);
  CHECK(cache.Lookup(1, 0) == nullptr);
  cache.Pin(100);
  CHECK(cache.Usage() == capacity + 100);
  cache.Unpin(100);
  cache.Unpin(capacity - pinned);
  cache.Unpin(pinned);
  CHECK(cache.Usage() == 0);

  // A block is cached only if it fits in its shard's part (about capacity / 16).
  cache.Insert(1, 0, block, capacity / 16 - 1);
  CHECK(cache.Lookup(1, 0) != nullptr);
  cache.Insert(2, 0, block, capacity / 16 + 2);
  CHECK(cache.Lookup(2, 0) == nullptr);
}

TEST_CASE("block cache: 16 shards evict their least recently used blocks first", "[block_cache]") {
  // 16 shards of exactly 1 MiB, 256 blocks of 4 KiB each.
  BlockCache cache(16 << 20);
  REQUIRE(cache.NumShards() == 16);
  const auto block = MakeBlock(0, 0);
  // Twice as many blocks as fit: every shard ends full, holding its most recent 256.
  for (uint64_t i = 0; i < 8192; i++) cache.Insert(1, i * 4096, block, 4096);
  CHECK(cache.NumEntries() == 4096);
  CHECK(cache.Usage() == cache.Capacity());
  CHECK(cache.Lookup(1, 0) == nullptr);  // the oldest went first
  // Touch 64 of the blocks still cached (the oldest survivors: the next to go), then insert half
  // a cache of new ones: the touched ones stay, the new ones are all cached, and the same number
  // of older untouched blocks made room.
  std::vector<uint64_t> touched;
  for (uint64_t i = 0; i < 8192 && touched.size() < 64; i++) {
    if (cache.Lookup(1, i * 4096) != nullptr) touched.push_back(i);
  }
  REQUIRE(touched.size() == 64);
  for (uint64_t i = 0; i < 2048; i++) cache.Insert(2, i * 4096, block, 4096);
  for (uint64_t i : touched) CHECK(cache.Lookup(1, i * 4096) != nullptr);
  size_t new_cached = 0;
  for (uint64_t i = 0; i < 2048; i++) new_cached += cache.Lookup(2, i * 4096) != nullptr;
  CHECK(new_cached == 2048);
  CHECK(cache.NumEntries() == 4096);
  CHECK(cache.Usage() == cache.Capacity());
}

namespace {

// Keys of the concurrency tests below: (file, offset) for index k, a charge that depends only on
// the key (so the final usage can be recomputed from which keys are cached), and one block each.
constexpr uint64_t kFiles = 6, kOffsetsPerFile = 2000;
uint64_t FileOf(size_t k) { return k / kOffsetsPerFile; }
uint64_t OffsetOf(size_t k) { return (k % kOffsetsPerFile) * 4096; }
size_t ChargeOf(size_t k) { return 2048 + (k * 7919) % 6000; }

}  // namespace

TEST_CASE("block cache: threads Lookup, Insert, EraseFile, Pin and Unpin across 16 shards",
          "[block_cache]") {
  const uint64_t seed = test::PrintedTestSeed("block cache sharded threads");
  BlockCache cache(8 << 20);  // 16 shards; the keys' charges add up to about 60 MiB
  REQUIRE(cache.NumShards() == 16);
  std::vector<std::shared_ptr<const Block>> blocks;
  for (size_t k = 0; k < kFiles * kOffsetsPerFile; k++) {
    blocks.push_back(MakeBlock(FileOf(k), OffsetOf(k)));
  }
  constexpr int kThreads = 4, kOps = 20000;
  constexpr size_t kFinalPin = 512 << 10;  // each thread ends holding one pin of this size
  std::atomic<int> wrong_blocks{0};
  std::atomic<uint64_t> found{0}, not_found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      std::vector<size_t> pins;
      uint64_t hits = 0, misses = 0;
      for (int i = 0; i < kOps; i++) {
        const size_t k = rng() % blocks.size();
        const uint64_t op = rng() % 100;
        if (op < 60) {
          if (auto b = cache.Lookup(FileOf(k), OffsetOf(k)); b != nullptr) {
            hits++;
            if (b != blocks[k]) wrong_blocks++;
          } else {
            misses++;
          }
        } else if (op < 93) {
          cache.Insert(FileOf(k), OffsetOf(k), blocks[k], ChargeOf(k));
        } else if (op < 94) {
          cache.EraseFile(FileOf(k));
        } else if (pins.size() < 4) {
          pins.push_back(1 + rng() % (256 << 10));
          cache.Pin(pins.back());
        } else {
          cache.Unpin(pins.back());
          pins.pop_back();
        }
      }
      for (size_t p : pins) cache.Unpin(p);
      cache.Pin(kFinalPin);
      found += hits;
      not_found += misses;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong_blocks == 0);
  CHECK(cache.Hits() == found);
  CHECK(cache.Misses() == not_found);
  CHECK(found > 0);
  CHECK(not_found > 0);
  CHECK(cache.PinnedUsage() == kThreads * kFinalPin);
  CHECK(cache.Usage() <= cache.Capacity());
  // The usage is exactly the pins plus the charges of the blocks still cached, and every cached
  // block is the one inserted under its key.
  size_t cached = 0, charges = 0;
  for (size_t k = 0; k < blocks.size(); k++) {
    auto b = cache.Lookup(FileOf(k), OffsetOf(k));
    if (b == nullptr) continue;
    cached++;
    charges += ChargeOf(k);
    if (b != blocks[k]) wrong_blocks++;
  }
  CHECK(wrong_blocks == 0);
  CHECK(cached == cache.NumEntries());
  CHECK(cache.Usage() == cache.PinnedUsage() + charges);
  CHECK(cached > 0);
  for (int t = 0; t < kThreads; t++) cache.Unpin(kFinalPin);
  CHECK(cache.Usage() == charges);
}

TEST_CASE("block cache: Usage() read while threads insert never exceeds the capacity",
          "[block_cache]") {
  const uint64_t seed = test::PrintedTestSeed("block cache usage under threads");
  BlockCache cache(8 << 20);
  REQUIRE(cache.NumShards() == 16);
  cache.Pin(1 << 20);  // fixed while the threads run: every shard's room stays the same
  const auto block = MakeBlock(0, 0);
  std::atomic<int> inserters_done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; t++) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      for (int i = 0; i < 20000; i++) {
        const size_t k = rng() % (kFiles * kOffsetsPerFile);
        cache.Insert(FileOf(k), OffsetOf(k), block, ChargeOf(k));
        if (rng() % 500 == 0) cache.EraseFile(FileOf(k));
      }
      inserters_done++;
    });
  }
  // Each shard is within its room whenever its lock is free, so the sum read shard by shard is
  // within the capacity too, however the reads interleave with the inserts.
  int over = 0, reads = 0;
  for (; reads < 20000 && inserters_done < 2; reads++) over += cache.Usage() > cache.Capacity();
  for (auto& th : threads) th.join();
  INFO(reads << " reads of Usage() while the threads inserted");
  CHECK(over == 0);
  CHECK(cache.Usage() <= cache.Capacity());
  CHECK(cache.NumEntries() > 0);
}

TEST_CASE("block cache: Admit says no to a block's first read and yes to its next",
          "[block_cache]") {
  BlockCache cache(8 << 20);  // a window of 2048 blocks
  CHECK_FALSE(cache.Admit(1, 0));
  CHECK(cache.Admit(1, 0));
  CHECK(cache.Admit(1, 0));
  CHECK_FALSE(cache.Admit(1, 4096));  // another block of the file is another key
  CHECK_FALSE(cache.Admit(2, 0));     // and so is the same offset in another file

  // Keys sharing a bit get in on their first read: rare while the window fills.
  int admitted_first = 0;
  for (uint64_t i = 0; i < 1000; i++) admitted_first += cache.Admit(100 + i, 0) ? 1 : 0;
  INFO(admitted_first << " of 1000 new blocks admitted on their first read");
  CHECK(admitted_first < 100);
}

TEST_CASE("block cache: Admit forgets once a cache's worth of other blocks was turned away",
          "[block_cache]") {
  BlockCache cache(1 << 20);  // a window of 256 blocks
  int first = 0;
  for (uint64_t i = 0; i < 100; i++) first += cache.Admit(1, i * 4096) ? 1 : 0;
  CHECK(first < 20);                                                     // shared bits only
  for (uint64_t i = 0; i < 100; i++) REQUIRE(cache.Admit(1, i * 4096));  // remembered
  for (uint64_t i = 0; i < 4 * 256; i++) (void)cache.Admit(2, i * 4096);
  int still = 0;
  for (uint64_t i = 0; i < 100; i++) still += cache.Admit(1, i * 4096) ? 1 : 0;
  INFO(still << " of 100 blocks still remembered");
  CHECK(still < 40);  // only those whose bit a newer block set again
}

TEST_CASE("block cache: Admit from many threads at once", "[block_cache]") {
  BlockCache cache(1 << 20);
  std::atomic<int> readmitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&cache, &readmitted, t] {
      for (uint64_t i = 0; i < 20000; i++) {
        const uint64_t file = 1 + (i % 7), offset = (i * 31 + t) % 5000 * 4096;
        (void)cache.Admit(file, offset);
        if (cache.Admit(file, offset)) readmitted++;
      }
    });
  }
  for (auto& th : threads) th.join();
  // Asked twice in a row, a block is admitted the second time unless a reset fell in between.
  INFO(readmitted.load() << " of 80000");
  CHECK(readmitted.load() > 72000);
}

}  // namespace keyva
