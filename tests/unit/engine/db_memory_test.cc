// Memory bounds under a random-read workload on a dataset ten times the block cache: the cache's
// own accounting stays within its capacity (plus at most one block), and the whole process's peak
// resident set stays below the memtable budget (active + frozen memtables) + the cache + 64 MiB.
//
// The RSS bound is checked only in uninstrumented builds (sanitizers add shadow memory and
// quarantine); the cache bound always. Sizes scale with KEYVA_TEST_SCALE.
#include <catch2/catch.hpp>
#include <iostream>
#include <random>

#include "internal/engine/db.h"
#include "internal/engine/db/dbformat.h"
#include "tests/util/test_util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KEYVA_TEST_INSTRUMENTED 1
#else
#define KEYVA_TEST_INSTRUMENTED 0
#endif

namespace keyva {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST_CASE("peak RSS stays below memtables + cache + 64 MiB on reads of ten times the cache",
          "[db][cache][memory]") {
  test::TempDir dir;
  Options o;
  o.sync = SyncMode::kNone;
  o.memtable_bytes = 4 * kMiB;
  o.block_cache_bytes = 8 * kMiB;
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, dir.path(), &db).ok());
  std::mt19937_64 rng(test::TestSeed());
  // 16 + 100 bytes per entry: 10x the cache is ~720k entries at scale 1.
  const uint64_t n = test::Scaled<uint64_t>(10 * o.block_cache_bytes / 116, 1000);
  WriteBatch b;
  for (uint64_t i = 0; i < n; i++) {
    b.Put(test::Key16(i), test::Value100(rng));
    if (b.Count() == 100 || i + 1 == n) {
      REQUIRE(db->Write(WriteOptions(), &b).ok());
      b.Clear();
    }
  }
  REQUIRE(db->Flush().ok());
  REQUIRE(db->WaitForBackgroundWork().ok());
  uint64_t max_usage = 0;
  std::string v;
  ValueMeta m;
  const uint64_t reads = std::max<uint64_t>(1000, n / 2);
  for (uint64_t i = 0; i < reads; i++) {
    REQUIRE(db->Get(ReadOptions(), test::Key16(rng() % n), &v, &m).ok());
    if (i % 64 == 0) max_usage = std::max<uint64_t>(max_usage, db->GetStats().cache_usage);
  }
  DBStats st = db->GetStats();
  const uint64_t data = test::DirBytes(dir.path());
  const uint64_t budget =
      o.memtable_bytes * (1 + config::kMaxFrozenMemtables) + o.block_cache_bytes + 64 * kMiB;
  const uint64_t peak = test::PeakRssBytes();
  std::cout << "memory: " << n << " entries, " << data / kMiB << " MiB on disk, cache capacity "
            << st.cache_capacity / kMiB << " MiB (max usage " << max_usage << " bytes, of which "
            << st.cache_pinned << " index and filter bytes pinned, hit rate "
            << (st.cache_hits * 100.0 / std::max<uint64_t>(1, st.cache_hits + st.cache_misses))
            << "%), peak RSS " << peak / kMiB << " MiB, budget " << budget / kMiB << " MiB\n";
  CHECK(max_usage <= st.cache_capacity + o.block_size + 64);
  // The open files' index and filter blocks are charged to the cache (part of its usage).
  CHECK(st.cache_pinned > 0);
  CHECK(st.cache_pinned <= st.cache_usage);
  if (test::TestScale() >= 1) CHECK(data >= 8 * o.block_cache_bytes);
  if (!KEYVA_TEST_INSTRUMENTED && peak > 0) CHECK(peak <= budget);
}

}  // namespace
}  // namespace keyva
