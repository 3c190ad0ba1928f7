// Behaviour of the DB as a whole: reads and writes, iteration, snapshots, expiry, reopen, the
// directory lock, recovery from torn and damaged files, and the hot-key footprint.
#include "internal/engine/db.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>

#include "internal/engine/db/filename.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/unit/engine/engine_test_util.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

Options FaultOptions(FaultEnv* env) {
  Options o;
  o.env = env;
  o.memtable_bytes = 64 * 1024;
  return o;
}

std::unique_ptr<DB> MustOpen(const Options& o, const std::string& dir) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, dir, &db);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return db;
}

std::map<std::string, std::string> Contents(DB* db, const Snapshot* snap = nullptr) {
  ReadOptions ro;
  ro.snapshot = snap;
  std::map<std::string, std::string> out;
  auto it = db->NewIterator(ro);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out[std::string(it->key())] = std::string(it->value());
  }
  REQUIRE(it->status().ok());
  return out;
}

}  // namespace

TEST_CASE("put, get, overwrite and delete", "[db]") {
  FaultEnv env;
  auto db = MustOpen(FaultOptions(&env), "/db");
  REQUIRE(db->Put("a", "1").ok());
  REQUIRE(db->Put("b", "2", ValueMeta{"text/plain", 42, 0}).ok());
  CHECK(test::GetOr(db.get(), "a") == "1");
  REQUIRE(db->Put("a", "one").ok());
  CHECK(test::GetOr(db.get(), "a") == "one");
  REQUIRE(db->Delete("a").ok());
  CHECK(test::GetOr(db.get(), "a") == "<absent>");
  std::string v;
  ValueMeta m;
  REQUIRE(db->Get(ReadOptions(), "b", &v, &m).ok());
  CHECK(m.content_type == "text/plain");
  CHECK(m.modified_us == 42);
  CHECK(db->Get(ReadOptions(), "zz", &v, &m).IsNotFound());
}

TEST_CASE("values survive reopen and flushes of many memtables", "[db]") {
  FaultEnv env;
  std::map<std::string, std::string> model;
  {
    auto db = MustOpen(FaultOptions(&env), "/db");
    for (int i = 0; i < 5000; i++) {
      std::string k = "key" + std::to_string(i % 1777), v = std::string(50, 'a' + i % 26);
      REQUIRE(db->Put(k, v).ok());
      model[k] = v;
    }
    REQUIRE(db->Flush().ok());
    int files = 0;
    for (const auto& l : db->GetStats().levels) files += l.files;
    CHECK(files >= 1);
    for (int i = 0; i < 300; i++) {
      REQUIRE(db->Delete("key" + std::to_string(i * 3)).ok());
      model.erase("key" + std::to_string(i * 3));
    }
  }
  auto db = MustOpen(FaultOptions(&env), "/db");
  CHECK(Contents(db.get()) == model);
  for (const auto& [k, v] : model) CHECK(test::GetOr(db.get(), k) == v);
  CHECK(test::GetOr(db.get(), "key0") == "<absent>");
}

TEST_CASE("iterator seeks and skips deleted keys", "[db]") {
  FaultEnv env;
  auto db = MustOpen(FaultOptions(&env), "/db");
  for (const char* k : {"a", "b", "c", "d", "e"}) REQUIRE(db->Put(k, k).ok());
  REQUIRE(db->Flush().ok());
  REQUIRE(db->Delete("c").ok());
  REQUIRE(db->Put("bb", "new").ok());
  auto it = db->NewIterator(ReadOptions());
  it->Seek("b");
  std::vector<std::string> seen;
  for (; it->Valid(); it->Next()) seen.emplace_back(it->key());
  CHECK(seen == std::vector<std::string>{"b", "bb", "d", "e"});
  it->Seek("zzz");
  CHECK_FALSE(it->Valid());
}

TEST_CASE("an iterator over SSTs may outlive its DB", "[db]") {
  // Its table readers pin index and filter bytes in the DB's block cache and give them back when
  // destroyed: the cache must still be there (ASan checks this).
  FaultEnv env;
  auto db = MustOpen(FaultOptions(&env), "/db");
  for (const char* k : {"a", "b", "c"}) REQUIRE(db->Put(k, k).ok());
  REQUIRE(db->Flush().ok());
  auto it = db->NewIterator(ReadOptions());
  it->SeekToFirst();
  REQUIRE(it->Valid());
  CHECK(it->key() == "a");
  REQUIRE(db->Close().ok());
  db.reset();
  it.reset();
}

TEST_CASE("a snapshot keeps seeing its point in time across flushes", "[db]") {
  FaultEnv env;
  auto db = MustOpen(FaultOptions(&env), "/db");
  REQUIRE(db->Put("k", "old").ok());
  REQUIRE(db->Put("gone", "here").ok());
  const Snapshot* snap = db->GetSnapshot();
  REQUIRE(db->Put("k", "new").ok());
  REQUIRE(db->Delete("gone").ok());
  for (int i = 0; i < 3000; i++) REQUIRE(db->Put("k", "v" + std::to_string(i)).ok());
  REQUIRE(db->Flush().ok());
  ReadOptions ro;
  ro.snapshot = snap;
  std::string v;
  ValueMeta m;
  REQUIRE(db->Get(ro, "k", &v, &m).ok());
  CHECK(v == "old");
  REQUIRE(db->Get(ro, "gone", &v, &m).ok());
  CHECK(v == "here");
  CHECK(Contents(db.get(), snap) ==
        std::map<std::string, std::string>{{"gone", "here"}, {"k", "old"}});
  db->ReleaseSnapshot(snap);
  CHECK(test::GetOr(db.get(), "k") == "v2999");
  CHECK(test::GetOr(db.get(), "gone") == "<absent>");
}

TEST_CASE("expired values are absent to readers", "[db]") {
  FaultEnv env;
  env.SetNowMicros(1'000'000);
  auto db = MustOpen(FaultOptions(&env), "/db");
  REQUIRE(db->Put("t", "short", ValueMeta{"", 1'000'000, 2'000'000}).ok());
  REQUIRE(db->Put("p", "forever").ok());
  CHECK(test::GetOr(db.get(), "t") == "short");
  env.SetNowMicros(2'000'000);
  CHECK(test::GetOr(db.get(), "t") == "<absent>");
  CHECK(Contents(db.get()) == std::map<std::string, std::string>{{"p", "forever"}});
  REQUIRE(db->Flush().ok());
  CHECK(test::GetOr(db.get(), "t") == "<absent>");
}

TEST_CASE("a second open of the same directory is refused while the first holds it", "[db]") {
  test::TempDir dir;
  Options o;
  auto db = MustOpen(o, dir.path());
  std::unique_ptr<DB> second;
  Status s = DB::Open(o, dir.path(), &second);
  CHECK(s.IsBusy());
  db.reset();
  REQUIRE(DB::Open(o, dir.path(), &second).ok());
}

TEST_CASE("open without create_if_missing on an empty directory fails clearly", "[db]") {
  FaultEnv env;
  Options o = FaultOptions(&env);
  o.create_if_missing = false;
  REQUIRE(env.CreateDir("/db").ok());
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, "/db", &db);
  CHECK(s.IsInvalidArgument());
}

TEST_CASE("a torn WAL tail is truncated and everything before it recovers", "[db][recovery]") {
  FaultEnv env;
  {
    auto db = MustOpen(FaultOptions(&env), "/db");
    REQUIRE(db->Put("a", "1").ok());
    REQUIRE(db->Put("b", "2").ok());
  }
  std::vector<std::string> children;
  REQUIRE(env.GetChildren("/db", &children).ok());
  std::string wal;
  for (const auto& c : children) {
    uint64_t n;
    if (ParseFileName(c, &n) == FileType::kWal) {
      std::string data;
      REQUIRE(env.ReadRaw("/db/" + c, &data).ok());
      if (!data.empty()) wal = "/db/" + c;
    }
  }
  REQUIRE(!wal.empty());
  std::string data;
  REQUIRE(env.ReadRaw(wal, &data).ok());
  REQUIRE(env.WriteRaw(wal, data.substr(0, data.size() - 3)).ok());
  auto db = MustOpen(FaultOptions(&env), "/db");
  CHECK(test::GetOr(db.get(), "a") == "1");
  CHECK(test::GetOr(db.get(), "b") == "<absent>");
}

TEST_CASE("a damaged record in the middle of a WAL fails open with a Corruption naming the file",
          "[db][recovery]") {
  FaultEnv env;
  std::string wal;
  {
    Options o = FaultOptions(&env);
    o.memtable_bytes = 1 << 20;
    auto db = MustOpen(o, "/db");
    for (int i = 0; i < 10; i++) REQUIRE(db->Put("k" + std::to_string(i), "value").ok());
  }
  std::vector<std::string> children;
  REQUIRE(env.GetChildren("/db", &children).ok());
  for (const auto& c : children) {
    uint64_t n;
    std::string data;
    if (ParseFileName(c, &n) == FileType::kWal && env.ReadRaw("/db/" + c, &data).ok() &&
        !data.empty()) {
      wal = "/db/" + c;
      data[data.size() / 2] ^= 0x40;
      REQUIRE(env.WriteRaw(wal, data).ok());
    }
  }
  REQUIRE(!wal.empty());
  std::unique_ptr<DB> db;
  Status s = DB::Open(FaultOptions(&env), "/db", &db);
  CHECK(s.IsCorruption());
  CHECK_THAT(s.message(), Catch::Contains(wal.substr(4)));
}

TEST_CASE("a missing SST named by the MANIFEST fails open clearly", "[db][recovery]") {
  FaultEnv env;
  {
    auto db = MustOpen(FaultOptions(&env), "/db");
    REQUIRE(db->Put("a", "1").ok());
    REQUIRE(db->Flush().ok());
  }
  std::vector<std::string> children;
  REQUIRE(env.GetChildren("/db", &children).ok());
  for (const auto& c : children) {
    uint64_t n;
    if (ParseFileName(c, &n) == FileType::kSst) REQUIRE(env.RemoveFile("/db/" + c).ok());
  }
  std::unique_ptr<DB> db;
  Status s = DB::Open(FaultOptions(&env), "/db", &db);
  CHECK(s.IsCorruption());
  CHECK_THAT(s.message(), Catch::Contains(".sst"));
}

TEST_CASE("orphan files are removed at open", "[db][recovery]") {
  FaultEnv env;
  { auto db = MustOpen(FaultOptions(&env), "/db"); }
  REQUIRE(env.WriteRaw("/db/000999.sst", "junk").ok());
  REQUIRE(env.WriteRaw("/db/000998.tmp", "junk").ok());
  REQUIRE(env.WriteRaw("/db/MANIFEST-000997", "junk").ok());
  auto db = MustOpen(FaultOptions(&env), "/db");
  CHECK_FALSE(env.FileExists("/db/000999.sst"));
  CHECK_FALSE(env.FileExists("/db/000998.tmp"));
  CHECK_FALSE(env.FileExists("/db/MANIFEST-000997"));
}

TEST_CASE("a million puts to one key leave at most one SST and under 1 MiB on disk",
          "[db][footprint]") {
  test::TempDir dir;
  Options o;
  o.sync = SyncMode::kNone;  // the footprint is the point here, not fsync latency
  o.memtable_bytes = 4u << 20;
  uint64_t peak_ssts = 0;
  {
    auto db = MustOpen(o, dir.path());
    for (int i = 0; i < 1'000'000; i++) {
      REQUIRE(db->Put("hot", "value-" + std::to_string(i)).ok());
      if (i % 100'000 == 0) {
        peak_ssts = std::max<uint64_t>(peak_ssts, test::CountFiles(dir.path(), ".sst"));
      }
    }
    CHECK(test::GetOr(db.get(), "hot") == "value-999999");
    DBStats stats = db->GetStats();
    CHECK(stats.memtable_compactions > 0);
  }
  auto db = MustOpen(o, dir.path());
  CHECK(test::GetOr(db.get(), "hot") == "value-999999");
  db.reset();
  CHECK(peak_ssts <= 1);
  CHECK(test::CountFiles(dir.path(), ".sst") <= 1);
  CHECK(test::DirBytes(dir.path()) < (1u << 20));
}

TEST_CASE("reopen flushes the replayed WAL entries to an L0 SST and drops the old WAL",
          "[db][recovery]") {
  FaultEnv env;
  Options o = FaultOptions(&env);
  o.memtable_bytes = 1 << 20;  // nothing is flushed before the reopen
  {
    auto db = MustOpen(o, "/db");
    for (int i = 0; i < 200; i++)
      REQUIRE(db->Put("k" + std::to_string(i), "v" + std::to_string(i)).ok());
    DBStats st = db->GetStats();
    REQUIRE(st.levels[0].files == 0);
    REQUIRE(db->Close().ok());
  }
  auto db = MustOpen(o, "/db");
  REQUIRE(db->WaitForBackgroundWork().ok());
  DBStats st = db->GetStats();
  CHECK(st.levels[0].files == 1);
  CHECK(st.flushes == 1);
  CHECK(st.memtable_bytes < 64 * 1024);
  std::vector<std::string> children;
  REQUIRE(env.GetChildren("/db", &children).ok());
  int wals = 0;
  for (const auto& name : children) {
    uint64_t number;
    if (ParseFileName(name, &number) == FileType::kWal) wals++;
  }
  CHECK(wals == 1);  // only the new, empty memtable's WAL
  for (int i = 0; i < 200; i++)
    CHECK(test::GetOr(db.get(), "k" + std::to_string(i)) == "v" + std::to_string(i));
  CHECK(Contents(db.get()).size() == 200);
  db.reset();
  db = MustOpen(o, "/db");  // and again: nothing lost, nothing doubled
  CHECK(Contents(db.get()).size() == 200);
  CHECK(test::GetOr(db.get(), "k199") == "v199");
}

TEST_CASE("lookups that keep going past a file get it compacted (seek compaction)",
          "[db][compaction]") {
  FaultEnv env;
  Options o = FaultOptions(&env);
  o.background_work = false;
  auto db = MustOpen(o, "/db");
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "k%04d", i);
    return std::string(buf);
  };
  for (int i = 0; i < 1000; i += 2) REQUIRE(db->Put(key(i), "old" + std::to_string(i)).ok());
  REQUIRE(db->Flush().ok());
  // A newer L0 file spanning the whole range but holding only its two ends.
  REQUIRE(db->Put(key(0), "new0").ok());
  REQUIRE(db->Put(key(998), "new998").ok());
  REQUIRE(db->Flush().ok());
  REQUIRE(db->GetStats().levels[0].files == 2);
  // Every lookup of a middle key probes the newer file first, then finds the key in the older.
  for (int round = 0; round < 300; round++) {
    REQUIRE(test::GetOr(db.get(), key(500)) == "old500");
  }
  REQUIRE(db->WaitForBackgroundWork().ok());
  DBStats st = db->GetStats();
  CHECK(st.levels[0].files == 0);
  CHECK(st.compactions >= 1);
  auto all = Contents(db.get());
  CHECK(all.size() == 500);
  CHECK(all[key(0)] == "new0");
  CHECK(all[key(998)] == "new998");
  CHECK(all[key(500)] == "old500");
  REQUIRE(db->VerifyIntegrity().ok());
}

}  // namespace keyva
