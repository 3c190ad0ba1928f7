// A full disk (Status::NoSpace) is not fatal: the failing write gets NoSpace, reads keep working,
// the next write moves to a new WAL, failed flushes are retried, and once there is room again
// writes succeed - with every acknowledged write still there after a reopen or a power loss.
#include <catch2/catch.hpp>
#include <map>

#include "internal/engine/db.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/unit/engine/engine_test_util.h"

namespace keyva {
namespace {

Options DiskOptions(FaultEnv* env, bool background) {
  Options o;
  o.env = env;
  o.memtable_bytes = 8 * 1024;
  o.background_work = background;
  return o;
}

std::unique_ptr<DB> MustOpen(const Options& o) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, "/db", &db);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return db;
}

int CountWals(FaultEnv* env) {
  std::vector<std::string> children;
  REQUIRE(env->GetChildren("/db", &children).ok());
  int n = 0;
  for (const auto& c : children) {
    uint64_t number;
    if (ParseFileName(c, &number) == FileType::kWal) n++;
  }
  return n;
}

Status PutSync(DB* db, const std::string& k, const std::string& v, SyncMode mode) {
  WriteBatch b;
  b.Put(k, v);
  WriteOptions wo;
  wo.has_sync = true;
  wo.sync = mode;
  return db->Write(wo, &b);
}

}  // namespace

TEST_CASE("disk full: a failed WAL write returns NoSpace, and writes resume in a new WAL",
          "[db][nospace]") {
  for (bool power_loss : {false, true}) {
    INFO("power loss: " << power_loss);
    FaultEnv env;
    env.SetFailureCode(Status::Code::kNoSpace);
    auto db = MustOpen(DiskOptions(&env, false));
    std::map<std::string, std::string> acked;
    for (int i = 0; i < 10; i++) {
      std::string k = "a" + std::to_string(i);
      REQUIRE(PutSync(db.get(), k, "value" + std::to_string(i), SyncMode::kAlways).ok());
      acked[k] = "value" + std::to_string(i);
    }
    int wals_before = CountWals(&env);

    env.FailOperation(1, /*sticky=*/true);  // the disk is full from now on
    for (int i = 0; i < 5; i++) {
      Status s = PutSync(db.get(), "full" + std::to_string(i), "x", SyncMode::kAlways);
      INFO(s.ToString());
      REQUIRE(s.IsNoSpace());
    }
    REQUIRE(db->SyncWal().ok());  // nothing new to sync
    // Reads keep working (they need no space) and do not see the failed writes.
    env.ClearFaults();
    CHECK(test::GetOr(db.get(), "a3") == "value3");
    CHECK(test::GetOr(db.get(), "full0") == "<absent>");
    DBStats st = db->GetStats();
    CHECK(st.background_error.empty());
    CHECK(st.write_failures >= 5);

    // Room again: the next write succeeds, in a new WAL.
    REQUIRE(PutSync(db.get(), "b", "after", SyncMode::kAlways).ok());
    acked["b"] = "after";
    CHECK(CountWals(&env) == wals_before + 1);
    for (int i = 0; i < 50; i++) {  // enough for a flush
      std::string k = "c" + std::to_string(i);
      REQUIRE(PutSync(db.get(), k, std::string(300, 'c'), SyncMode::kAlways).ok());
      acked[k] = std::string(300, 'c');
    }
    REQUIRE(db->Flush().ok());

    if (power_loss) {
      env.FailOperation(1, true);
      db.reset();
      env.ClearFaults();
      env.SimulatePowerLoss();
    } else {
      REQUIRE(db->Close().ok());
      db.reset();
    }
    db = MustOpen(DiskOptions(&env, false));
    for (const auto& [k, v] : acked) {
      INFO(k);
      CHECK(test::GetOr(db.get(), k) == v);
    }
    // A failed write may or may not come back, but a key is never half-written.
    for (int i = 0; i < 5; i++) {
      std::string got = test::GetOr(db.get(), "full" + std::to_string(i));
      CHECK((got == "<absent>" || got == "x"));
    }
    REQUIRE(db->VerifyIntegrity().ok());
  }
}

TEST_CASE("disk full: a failed group sync fails the group, later writes are durable",
          "[db][nospace]") {
  FaultEnv env;
  env.SetFailureCode(Status::Code::kNoSpace);
  auto db = MustOpen(DiskOptions(&env, false));
  REQUIRE(PutSync(db.get(), "before", "1", SyncMode::kAlways).ok());
  // A group: appended with sync off, then one SyncWal, which fails.
  REQUIRE(PutSync(db.get(), "g1", "1", SyncMode::kNone).ok());
  REQUIRE(PutSync(db.get(), "g2", "2", SyncMode::kNone).ok());
  env.FailOperation(1);  // the sync
  Status s = db->SyncWal();
  REQUIRE(s.IsNoSpace());
  REQUIRE(PutSync(db.get(), "next", "3", SyncMode::kNone).ok());  // rolls to a new WAL
  REQUIRE(db->SyncWal().ok());
  env.FailOperation(1, true);
  db.reset();
  env.ClearFaults();
  env.SimulatePowerLoss();
  db = MustOpen(DiskOptions(&env, false));
  CHECK(test::GetOr(db.get(), "before") == "1");
  CHECK(test::GetOr(db.get(), "next") == "3");
}

TEST_CASE("disk full: a failed flush is retried instead of poisoning the DB", "[db][nospace]") {
  FaultEnv env;
  env.SetFailureCode(Status::Code::kNoSpace);
  auto db = MustOpen(DiskOptions(&env, false));
  for (int i = 0; i < 20; i++)
    REQUIRE(db->Put("k" + std::to_string(i), std::string(100, 'v')).ok());
  env.FailOperation(1, true);
  Status s = db->Flush();
  INFO(s.ToString());
  REQUIRE(s.IsNoSpace());
  CHECK(db->GetStats().background_error.empty());
  CHECK(test::GetOr(db.get(), "k5") == std::string(100, 'v'));
  env.ClearFaults();
  REQUIRE(db->Flush().ok());
  DBStats st = db->GetStats();
  CHECK(st.levels[0].files + st.levels[1].files >= 1);
  CHECK(st.frozen_memtables == 0);
  REQUIRE(db->Put("after", "ok").ok());
  REQUIRE(db->Close().ok());
  db = MustOpen(DiskOptions(&env, false));
  CHECK(test::GetOr(db.get(), "k19") == std::string(100, 'v'));
  CHECK(test::GetOr(db.get(), "after") == "ok");
}

TEST_CASE("disk full: a writer that needs room retries early, not after the whole back-off",
          "[db][nospace]") {
  FaultEnv env;
  env.SetFailureCode(Status::Code::kNoSpace);
  int64_t now = 1'000'000'000'000;
  env.SetNowMicros(now);
  auto db = MustOpen(DiskOptions(&env, false));
  env.FailFilesEndingWith(".sst");  // full for SSTs; the WAL appends still fit
  // Flushes fail (writes too, once the frozen memtables pile up) until the back-off is well past
  // 100 ms. The loop ends at a failure: the clock now reads its time.
  for (int i = 0; db->GetStats().background_failures < 4; i++) {
    REQUIRE(i < 10000);
    now += 100'000;
    env.SetNowMicros(now);
    Status s = db->Put("k" + std::to_string(i), std::string(100, 'v'));
    INFO(s.ToString());
    REQUIRE((s.ok() || s.IsNoSpace()));
  }
  const uint64_t failures = db->GetStats().background_failures;  // back-off now >= 800 ms
  CHECK(db->GetStats().flushes == 0);

  // Space is back. Until 100 ms after the last failure, a write that needs room is refused
  // without another attempt (a full disk is not hammered by every write)...
  env.ClearFaults();
  Status s;
  for (int i = 0; s.ok(); i++) {
    REQUIRE(i < 10000);
    s = db->Put("soon" + std::to_string(i), std::string(100, 'v'));
  }
  INFO(s.ToString());
  CHECK(s.IsNoSpace());
  CHECK(db->GetStats().background_failures == failures);
  // ...and then it retries the flush itself instead of waiting out the back-off.
  now += 100'000;
  env.SetNowMicros(now);
  s = db->Put("after", "ok");
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(db->GetStats().background_failures == failures);
  CHECK(db->GetStats().flushes >= 1);
  REQUIRE(db->Close().ok());
  db = MustOpen(DiskOptions(&env, false));
  CHECK(test::GetOr(db.get(), "after") == "ok");
}

TEST_CASE("disk full with the helper thread: writes fail with NoSpace, then recover",
          "[db][nospace][threads]") {
  FaultEnv env;
  env.SetFailureCode(Status::Code::kNoSpace);
  auto db = MustOpen(DiskOptions(&env, true));
  std::map<std::string, std::string> acked;
  int next = 0;
  auto write_some = [&](int n, bool expect_ok) {
    int failed = 0;
    for (int i = 0; i < n; i++, next++) {
      std::string k = "k" + std::to_string(next);
      std::string v = std::string(200, static_cast<char>('a' + next % 26));
      Status s = PutSync(db.get(), k, v, next % 2 ? SyncMode::kAlways : SyncMode::kNone);
      if (s.ok()) {
        acked[k] = v;
      } else {
        INFO(s.ToString());
        REQUIRE(s.IsNoSpace());
        failed++;
      }
    }
    if (expect_ok) REQUIRE(failed == 0);
    return failed;
  };
  write_some(200, true);
  env.FailOperation(1, true);
  // Flushes fail in the background; once the frozen memtables pile up, writes fail too.
  int failed = write_some(400, false);
  CHECK(failed > 0);
  env.ClearFaults();
  // Room again: failed work is retried (at once by WaitForBackgroundWork; the storage thread's
  // polling would get there after the back-off).
  REQUIRE(db->WaitForBackgroundWork().ok());
  write_some(200, true);
  REQUIRE(db->Flush().ok());
  CHECK(db->GetStats().background_error.empty());
  REQUIRE(db->Close().ok());
  db = MustOpen(DiskOptions(&env, true));
  for (const auto& [k, v] : acked) {
    INFO(k);
    REQUIRE(test::GetOr(db.get(), k) == v);
  }
  REQUIRE(db->VerifyIntegrity().ok());
}

TEST_CASE("an I/O error (not a full disk) still stops writes until reopen", "[db][nospace]") {
  FaultEnv env;
  auto db = MustOpen(DiskOptions(&env, false));
  REQUIRE(db->Put("a", "1").ok());
  env.FailOperation(1);
  REQUIRE(db->Put("b", "2").IsIOError());
  REQUIRE_FALSE(db->Put("c", "3").ok());  // sticky
  CHECK_FALSE(db->GetStats().background_error.empty());
  CHECK(test::GetOr(db.get(), "a") == "1");
  db.reset();
  db = MustOpen(DiskOptions(&env, false));
  CHECK(test::GetOr(db.get(), "a") == "1");
  REQUIRE(db->Put("c", "3").ok());
}

}  // namespace keyva

namespace keyva {

TEST_CASE(
    "disk full: a record that reached the WAL before its write failed never hides a later "
    "write",
    "[db][nospace]") {
  // The write of "a" fails at the flush after both appends: its record is whole in the log, but it
  // was never acknowledged. The next write ("b") goes to a new WAL and must survive a crash (its
  // sequence numbers must not repeat those of the failed record, which recovery also replays).
  for (int failing = 1; failing <= 4; failing++) {
    INFO("failing operation " << failing << " of the write (append, append, flush, sync)");
    FaultEnv env;
    env.SetFailureCode(Status::Code::kNoSpace);
    auto db = MustOpen(DiskOptions(&env, false));
    REQUIRE(PutSync(db.get(), "first", "1", SyncMode::kAlways).ok());
    env.FailOperation(failing);
    REQUIRE(PutSync(db.get(), "a", "failed", SyncMode::kAlways).IsNoSpace());
    REQUIRE(PutSync(db.get(), "b", "acknowledged", SyncMode::kAlways).ok());
    env.FailOperation(1, true);  // crash: nothing more reaches the files
    db.reset();
    env.ClearFaults();
    db = MustOpen(DiskOptions(&env, false));
    CHECK(test::GetOr(db.get(), "first") == "1");
    CHECK(test::GetOr(db.get(), "b") == "acknowledged");
    std::string a = test::GetOr(db.get(), "a");
    CHECK((a == "<absent>" || a == "failed"));
  }
}

}  // namespace keyva
