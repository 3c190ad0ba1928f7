// Tests for TableCache (table_cache.h): one reader per open file, the max_open_files bound over
// the shards, LRU order, Evict (also of the file's cached blocks), and many threads at once.
// Every file holds the same SST, so every open reader pins the same number of bytes in the block
// cache: PinnedUsage() / that number is how many readers are alive.
#include "internal/engine/db/table_cache.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_builder.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/unit/engine/engine_test_util.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

constexpr char kDir[] = "/db";
constexpr int kKeys = 300;

// Writes files 1..count into env (one SST content under every number); returns their metas.
std::vector<FileMeta> MakeFiles(FaultEnv* env, uint64_t count) {
  REQUIRE(env->CreateDir(kDir).ok());
  const std::string first = SstFileName(kDir, 1);
  {
    std::unique_ptr<WritableFile> file;
    REQUIRE(env->NewWritableFile(first, &file).ok());
    SstOptions options;
    options.block_size = 1024;
    SstBuilder builder(options, file.get());
    for (int i = 0; i < kKeys; i++) {
      builder.Add(MakeInternalKey(test::NumberedKey(i), 1, ValueType::kValue),
                  "value of " + test::NumberedKey(i));
    }
    REQUIRE(builder.Finish().ok());
    REQUIRE(file->Close().ok());
  }
  std::string contents;
  REQUIRE(env->ReadRaw(first, &contents).ok());
  std::vector<FileMeta> files;
  for (uint64_t number = 1; number <= count; number++) {
    if (number > 1) REQUIRE(env->WriteRaw(SstFileName(kDir, number), contents).ok());
    FileMeta f;
    f.number = number;
    f.file_size = contents.size();
    files.push_back(f);
  }
  return files;
}

// Bytes one open reader pins in the block cache (all files are alike).
size_t PinnedPerReader(FaultEnv* env, const FileMeta& f) {
  BlockCache cache(1 << 20);
  TableCache tables(env, kDir, 10, &cache);
  std::shared_ptr<SstReader> reader;
  REQUIRE(tables.Get(f, &reader).ok());
  REQUIRE(reader->IndexAndFilterBytes() > 0);
  return reader->IndexAndFilterBytes();
}

// Looks key i up through reader; no Catch assertions, so threads may call it.
bool ReadsKey(const SstReader& reader, int i) {
  bool found = false;
  std::string key, value;
  Status s =
      reader.Get(MakeInternalKey(test::NumberedKey(i), kMaxSequenceNumber, kValueTypeForSeek), true,
                 &found, &key, &value);
  return s.ok() && found && value == "value of " + test::NumberedKey(i);
}

}  // namespace

TEST_CASE("table cache: the number of shards follows max_open_files", "[table_cache]") {
  FaultEnv env;
  auto shards = [&](int max_open_files) {
    return TableCache(&env, kDir, max_open_files, nullptr).NumShards();
  };
  CHECK(shards(0) == 1);
  CHECK(shards(1) == 1);
  CHECK(shards(31) == 1);
  CHECK(shards(32) == 2);
  CHECK(shards(100) == 4);
  CHECK(shards(256) == 16);
  CHECK(shards(1000) == 16);
}

TEST_CASE("table cache: Get opens a file once, Evict closes it and drops its blocks",
          "[table_cache]") {
  FaultEnv env;
  const auto files = MakeFiles(&env, 3);
  BlockCache cache(1 << 20);
  TableCache tables(&env, kDir, 1000, &cache);
  std::shared_ptr<SstReader> a, b;
  REQUIRE(tables.Get(files[0], &a).ok());
  CHECK(a->file_number() == 1);
  const uint64_t ops = env.OperationCount();
  REQUIRE(tables.Get(files[0], &b).ok());
  CHECK(b == a);                       // the same reader
  CHECK(env.OperationCount() == ops);  // and no file was opened or read
  // Each key is read twice: the block cache takes a block on its second read (BlockCache::Admit).
  CHECK(ReadsKey(*a, 7));
  CHECK(ReadsKey(*a, 7));
  REQUIRE(tables.Get(files[1], &b).ok());
  CHECK(ReadsKey(*b, 7));
  CHECK(ReadsKey(*b, 7));
  CHECK(cache.NumEntries() == 2);

  // Evict: the next Get opens the file anew, and file 1's cached block is gone (file 2's stays).
  tables.Evict(1);
  CHECK(cache.NumEntries() == 1);
  std::shared_ptr<SstReader> c;
  REQUIRE(tables.Get(files[0], &c).ok());
  CHECK(c != a);
  CHECK(ReadsKey(*a, 8));  // a reader handed out earlier stays usable
  tables.Evict(12345);     // not open: nothing happens

  // A live file that is missing is corruption, naming the file.
  FileMeta missing;
  missing.number = 99;
  missing.file_size = files[0].file_size;
  Status s = tables.Get(missing, &c);
  CHECK(s.IsCorruption());
  CHECK(s.ToString().find(SstFileName(kDir, 99)) != std::string::npos);
}

TEST_CASE("table cache: LRU order with one shard", "[table_cache]") {
  FaultEnv env;
  const auto files = MakeFiles(&env, 4);
  BlockCache cache(1 << 20);
  TableCache tables(&env, kDir, 3, &cache);
  REQUIRE(tables.NumShards() == 1);
  const size_t per_reader = PinnedPerReader(&env, files[0]);
  auto get = [&](uint64_t number) {  // true if the file had to be opened
    const uint64_t ops = env.OperationCount();
    std::shared_ptr<SstReader> reader;
    REQUIRE(tables.Get(files[number - 1], &reader).ok());
    REQUIRE(reader->file_number() == number);
    return env.OperationCount() != ops;
  };
  CHECK(get(1));
  CHECK(get(2));
  CHECK(get(3));
  CHECK_FALSE(get(1));  // 2 is now the least recently used
  CHECK(get(4));        // evicts 2
  CHECK(cache.PinnedUsage() == 3 * per_reader);
  CHECK_FALSE(get(1));
  CHECK_FALSE(get(3));
  CHECK(get(2));  // evicts 4
  CHECK_FALSE(get(3));
  CHECK(get(4));
  CHECK(cache.PinnedUsage() == 3 * per_reader);
}

TEST_CASE("table cache: at most max_open_files readers stay open, over all shards",
          "[table_cache]") {
  FaultEnv env;
  const auto files = MakeFiles(&env, 400);
  const size_t per_reader = PinnedPerReader(&env, files[0]);
  for (int limit : {1, 7, 32, 100}) {
    INFO("max_open_files " << limit);
    BlockCache cache(1 << 20);
    {
      TableCache tables(&env, kDir, limit, &cache);
      const size_t n = 3 * static_cast<size_t>(limit) + 40;  // enough to fill every shard
      for (size_t i = 0; i < n; i++) {
        std::shared_ptr<SstReader> reader;
        REQUIRE(tables.Get(files[i], &reader).ok());
        reader.reset();
        REQUIRE(cache.PinnedUsage() <= limit * per_reader);
      }
      CHECK(cache.PinnedUsage() == limit * per_reader);
    }
    CHECK(cache.PinnedUsage() == 0);  // the cache's destructor closes every reader
  }
}

TEST_CASE("table cache: threads opening one file at once get one reader", "[table_cache]") {
  FaultEnv env;
  const auto files = MakeFiles(&env, 20);
  const size_t per_reader = PinnedPerReader(&env, files[0]);
  BlockCache cache(1 << 20);
  TableCache tables(&env, kDir, 1000, &cache);
  constexpr int kThreads = 4;
  for (const FileMeta& f : files) {
    std::vector<std::shared_ptr<SstReader>> got(kThreads);
    std::vector<Status> status(kThreads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        ready++;
        while (ready < kThreads) std::this_thread::yield();  // start together
        status[t] = tables.Get(f, &got[t]);
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; t++) {
      REQUIRE(status[t].ok());
      CHECK(got[t] == got[0]);  // the losers of the race returned the winner's reader
    }
  }
  // Only the cached readers are alive: the losers' own readers were closed.
  CHECK(cache.PinnedUsage() == files.size() * per_reader);
}

TEST_CASE("table cache: threads Get and Evict across shards", "[table_cache]") {
  const uint64_t seed = test::PrintedTestSeed("table cache threads");
  FaultEnv env;
  const auto files = MakeFiles(&env, 120);
  const size_t per_reader = PinnedPerReader(&env, files[0]);
  BlockCache cache(64 << 10);
  constexpr int kLimit = 40;
  {
    TableCache tables(&env, kDir, kLimit, &cache);
    REQUIRE(tables.NumShards() == 2);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(seed + t);
        for (int i = 0; i < 2000; i++) {
          const FileMeta& f = files[rng() % files.size()];
          if (rng() % 20 == 0) {
            tables.Evict(f.number);
            continue;
          }
          std::shared_ptr<SstReader> reader;
          if (!tables.Get(f, &reader).ok() || reader->file_number() != f.number) {
            wrong++;
            continue;
          }
          if (rng() % 4 == 0 && !ReadsKey(*reader, static_cast<int>(rng() % kKeys))) wrong++;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong == 0);
    // No reader is held outside the cache now: the pins count exactly the cached ones.
    CHECK(cache.PinnedUsage() <= kLimit * per_reader);
    CHECK(cache.PinnedUsage() % per_reader == 0);
    CHECK(cache.Usage() <= std::max(cache.Capacity(), cache.PinnedUsage()));
  }
  CHECK(cache.PinnedUsage() == 0);
}

}  // namespace keyva
