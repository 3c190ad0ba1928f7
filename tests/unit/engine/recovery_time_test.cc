// Recovery time: a 64 MiB WAL (at KEYVA_TEST_SCALE=1; it scales) written with sync=none into a
// memtable large enough never to flush, the DB closed without a flush, then reopened. The test
// asserts that every write is back and prints how long the reopen (the WAL replay) took; it never
// asserts on the time.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "internal/engine/db.h"
#include "tests/util/test_util.h"

namespace keyva {

TEST_CASE("recovery time: reopen replays a large WAL", "[recovery][bench]") {
  const uint64_t wal_target = static_cast<uint64_t>((64u << 20) * test::TestScale());
  const size_t value_size = 1000;
  test::TempDir tmp;
  Options o;
  o.sync = SyncMode::kNone;
  o.memtable_bytes = 4 * wal_target + (8u << 20);  // never fills
  uint64_t writes = 0;
  auto key = [](uint64_t i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "key%012llu", static_cast<unsigned long long>(i));
    return std::string(buf);
  };
  auto value = [&](uint64_t i) {
    std::string v(value_size, static_cast<char>('a' + i % 26));
    std::memcpy(v.data(), &i, sizeof(i));
    return v;
  };
  {
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(o, tmp.path(), &db).ok());
    while (db->GetStats().wal_bytes < wal_target) {
      for (int j = 0; j < 256; j++, writes++) REQUIRE(db->Put(key(writes), value(writes)).ok());
    }
    DBStats st = db->GetStats();
    REQUIRE(st.flushes == 0);
    REQUIRE(st.frozen_memtables == 0);
    REQUIRE(db->Close().ok());  // no flush: everything is in the WAL
  }
  uint64_t wal_bytes = test::DirBytes(tmp.path());
  REQUIRE(test::CountFiles(tmp.path(), ".sst") == 0);

  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, tmp.path(), &db).ok());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("recovery time: reopen with a %.1f MiB WAL (%llu writes) took %.3f s (%.0f MiB/s)\n",
              wal_bytes / 1048576.0, static_cast<unsigned long long>(writes), seconds,
              wal_bytes / 1048576.0 / std::max(seconds, 1e-9));

  uint64_t seen = 0;
  auto it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next(), seen++) {
    REQUIRE(it->key() == key(seen));
    REQUIRE(it->value() == value(seen));
  }
  REQUIRE(it->status().ok());
  REQUIRE(seen == writes);
  REQUIRE(db->GetStats().last_sequence == writes);
}

}  // namespace keyva
