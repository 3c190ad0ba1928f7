// Compaction under sustained writes: footprint after overwrites, shrinking after deletes, writes
// accepted while compactions run, and the block cache staying within its capacity.
//
// Sizes scale with KEYVA_TEST_SCALE (2,000,000 keys at scale 1, as the acceptance asks).
#include <catch2/catch.hpp>
#include <iostream>
#include <random>

#include "internal/engine/db.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

using test::Key16;
using test::Value100;

uint64_t TotalFiles(const DBStats& s) {
  uint64_t n = 0;
  for (const auto& l : s.levels) n += l.files;
  return n;
}

}  // namespace

TEST_CASE("overwrites settle to a small footprint and deletes shrink it away",
          "[db][compaction][slow]") {
  test::TempDir dir;
  Options o;
  o.sync = SyncMode::kNone;
  const uint64_t n = static_cast<uint64_t>(2'000'000 * test::TestScale());
  const uint64_t live_bytes = n * (16 + 100);
  std::mt19937_64 rng(42);
  auto db_holder = std::unique_ptr<DB>();
  REQUIRE(DB::Open(o, dir.path(), &db_holder).ok());
  DB* db = db_holder.get();
  uint64_t peak = 0;
  for (int pass = 0; pass < 3; pass++) {  // load, then overwrite everything twice
    WriteBatch b;
    for (uint64_t i = 0; i < n; i++) {
      b.Put(Key16(i), Value100(rng));
      if (b.Count() == 100) {
        REQUIRE(db->Write(WriteOptions(), &b).ok());
        b.Clear();
      }
    }
    REQUIRE(db->Write(WriteOptions(), &b).ok());
    peak = std::max(peak, test::DirBytes(dir.path()));
  }
  REQUIRE(db->Flush().ok());
  REQUIRE(db->WaitForBackgroundWork().ok());
  DBStats st = db->GetStats();
  uint64_t settled = test::DirBytes(dir.path());
  std::cout << "compaction: " << n << " keys, live " << live_bytes << " bytes, directory "
            << settled << " bytes (" << static_cast<double>(settled) / live_bytes << "x), L0 files "
            << st.levels[0].files << ", compactions " << st.compactions << ", write amplification "
            << st.write_amplification << "\n";
  // The 1.5x bound is the acceptance figure at 2,000,000 keys (scale 1). Far smaller runs (the
  // sanitizer passes use scale 0.1: 23 MB live) are dominated by fixed sizes — a 16 MiB memtable's
  // WAL and the 10 MiB L1 floor — so there only the far looser 3x bound is meaningful.
  if (test::TestScale() >= 1) {
    CHECK(settled <= live_bytes * 3 / 2);
  } else {
    CHECK(settled <= live_bytes * 3);
  }
  CHECK(st.levels[0].files <= 4);
  REQUIRE(db->VerifyIntegrity().ok());

  // Spot-check the newest values are readable.
  std::string v;
  ValueMeta m;
  for (uint64_t i = 0; i < n; i += n / 1000 + 1)
    REQUIRE(db->Get(ReadOptions(), Key16(i), &v, &m).ok());

  // Delete everything and compact: the directory shrinks below 5% of its peak.
  WriteBatch b;
  for (uint64_t i = 0; i < n; i++) {
    b.Delete(Key16(i));
    if (b.Count() == 1000) {
      REQUIRE(db->Write(WriteOptions(), &b).ok());
      b.Clear();
    }
  }
  REQUIRE(db->Write(WriteOptions(), &b).ok());
  peak = std::max(peak, test::DirBytes(dir.path()));
  REQUIRE(db->CompactRange(nullptr, nullptr).ok());
  uint64_t after = test::DirBytes(dir.path());
  std::cout << "after deleting all and compacting: " << after << " bytes (peak " << peak << ")\n";
  CHECK(after * 20 < peak);
  auto it = db->NewIterator(ReadOptions());
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
  CHECK(it->status().ok());
  CHECK(TotalFiles(db->GetStats()) <= 1);
}

TEST_CASE("writes keep completing while a compaction runs", "[db][compaction]") {
  test::TempDir dir;
  Options o;
  o.sync = SyncMode::kNone;
  o.memtable_bytes = 256 << 10;
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, dir.path(), &db).ok());
  std::mt19937_64 rng(7);
  // Enough data that compactions into L1 and L2 take a while.
  uint64_t writes_during_compaction = 0;
  for (uint64_t i = 0; i < 300'000; i++) {
    bool running_before = db->GetStats().compactions_running > 0;
    REQUIRE(db->Put(Key16(i % 150'000), Value100(rng)).ok());
    // The write completed while a compaction was on the helper thread (it ran before and after).
    if (running_before && db->GetStats().compactions_running > 0) writes_during_compaction++;
  }
  REQUIRE(db->WaitForBackgroundWork().ok());
  DBStats st = db->GetStats();
  std::cout << "writes with compactions in progress: " << writes_during_compaction
            << ", compactions " << st.compactions << ", stall micros " << st.stall_micros << "\n";
  CHECK(st.compactions > 0);
  CHECK(writes_during_compaction > 0);
}

TEST_CASE("the block cache stays within its capacity on a dataset ten times its size",
          "[db][cache]") {
  test::TempDir dir;
  Options o;
  o.sync = SyncMode::kNone;
  o.block_cache_bytes = 1 << 20;
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, dir.path(), &db).ok());
  std::mt19937_64 rng(9);
  const uint64_t n = 120'000;  // ~14 MB of data for a 1 MiB cache
  for (uint64_t i = 0; i < n; i++) REQUIRE(db->Put(Key16(i), Value100(rng)).ok());
  REQUIRE(db->Flush().ok());
  REQUIRE(db->WaitForBackgroundWork().ok());
  uint64_t max_usage = 0;
  std::string v;
  ValueMeta m;
  for (int i = 0; i < 100'000; i++) {
    REQUIRE(db->Get(ReadOptions(), Key16(rng() % n), &v, &m).ok());
    max_usage = std::max<uint64_t>(max_usage, db->GetStats().cache_usage);
  }
  DBStats st = db->GetStats();
  std::cout << "cache: capacity " << st.cache_capacity << ", max usage " << max_usage << ", hits "
            << st.cache_hits << ", misses " << st.cache_misses << "\n";
  CHECK(max_usage <= st.cache_capacity + o.block_size + 64);
  CHECK(st.cache_hits > 0);
  CHECK(st.cache_misses > 0);
}

}  // namespace keyva
