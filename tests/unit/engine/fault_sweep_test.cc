// Fault-injection sweep: a fixed workload (open, writes in both sync modes, flushes, compactions,
// a reopen) runs once per file operation it performs, failing exactly that operation (the k-th:
// a create/open, append, flush, sync, read, rename, remove, truncate or directory sync) with an
// I/O error or a full disk. Each run then "crashes" (every later operation fails while the DB
// object is destroyed, so nothing more reaches the files), optionally loses power, clears the
// fault and reopens. Checked every time:
//   - nothing crashes (ASan/UBSan builds run this too);
//   - the failure is reported: some call returned an error or the DB counts a failure (only a
//     failed removal of an obsolete file may go unreported: it is retried later);
//   - the reopen succeeds and holds every acknowledged write: a write acknowledged with
//     sync=always survives a power loss, one acknowledged with sync=none survives a process crash;
//     a write that failed may or may not be there, but never partly (batches are atomic);
//   - the reopened DB passes VerifyIntegrity and accepts (and keeps) a new write;
//   - with a full disk (NoSpace, not sticky) the DB recovers without a reopen: once the fault is
//     gone, its failed background work succeeds when retried, and a new write succeeds (and is
//     then found after the crash, replayed from the WALs).
// The workload is driven by a fixed seed (KEYVA_TEST_SEED to change it); its size scales with
// KEYVA_TEST_SCALE.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "internal/engine/db.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

// Forwards to a FaultEnv, remembering which operation numbers were file removals (best-effort
// operations whose failure the DB may ignore).
class RemovalRecordingEnv final : public Env {
 public:
  explicit RemovalRecordingEnv(FaultEnv* base) : base_(base) {}
  Status NewSequentialFile(const std::string& n, std::unique_ptr<SequentialFile>* r) override {
    return base_->NewSequentialFile(n, r);
  }
  Status NewRandomAccessFile(const std::string& n, std::unique_ptr<RandomAccessFile>* r) override {
    return base_->NewRandomAccessFile(n, r);
  }
  Status NewWritableFile(const std::string& n, std::unique_ptr<WritableFile>* r) override {
    return base_->NewWritableFile(n, r);
  }
  bool FileExists(const std::string& n) override { return base_->FileExists(n); }
  Status GetChildren(const std::string& d, std::vector<std::string>* r) override {
    return base_->GetChildren(d, r);
  }
  Status RemoveFile(const std::string& n) override {
    removals.insert(base_->OperationCount() + 1);
    return base_->RemoveFile(n);
  }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return base_->RenameFile(f, t);
  }
  Status TruncateFile(const std::string& n, uint64_t s) override {
    return base_->TruncateFile(n, s);
  }
  Status GetFileSize(const std::string& n, uint64_t* s) override {
    return base_->GetFileSize(n, s);
  }
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Status LockFile(const std::string& n, std::unique_ptr<FileLock>* l) override {
    return base_->LockFile(n, l);
  }
  int64_t NowMicros() override { return base_->NowMicros(); }

  std::set<uint64_t> removals;  // absolute operation numbers

 private:
  FaultEnv* base_;
};

// Every write of one key, in order, and how far each was acknowledged.
enum class Ack { kFailed, kProcessCrash, kPowerLoss };
struct KeyWrite {
  std::optional<std::string> value;  // nullopt: a delete
  Ack ack;
};
using KeyHistories = std::map<std::string, std::vector<KeyWrite>>;

// The values a key may hold after recovery: that of its last write guaranteed to survive (or
// absent when there is none), or that of any later write (acknowledged more weakly, or failed).
std::vector<std::optional<std::string>> Allowed(const std::vector<KeyWrite>& writes,
                                                bool power_loss) {
  size_t first = 0;
  std::vector<std::optional<std::string>> allowed;
  for (size_t i = 0; i < writes.size(); i++) {
    Ack a = writes[i].ack;
    if (a == Ack::kPowerLoss || (a == Ack::kProcessCrash && !power_loss)) first = i + 1;
  }
  if (first == 0) {
    allowed.push_back(std::nullopt);
  } else {
    allowed.push_back(writes[first - 1].value);
  }
  for (size_t i = first; i < writes.size(); i++) allowed.push_back(writes[i].value);
  return allowed;
}

// Keys drawn at random from this many (mostly distinct writes, so a lost write is rarely hidden
// by a later write of the same key; some overwrites and deletes still happen).
constexpr uint64_t kKeys = 400;

struct Workload {
  uint64_t seed;
  int writes;
};

Options SweepOptions(Env* env) {
  Options o;
  o.env = env;
  o.memtable_bytes = 12 * 1024;  // a few flushes per run, and WALs that live a while
  o.block_size = 1024;
  o.target_file_size = 4096;
  o.block_cache_bytes = 8 * 1024;  // small: reads go to the files
  o.background_work = false;       // deterministic operation order
  return o;
}

struct RunResult {
  bool error_seen = false;  // some call failed or the DB counted a failure
  std::unique_ptr<DB> db;   // still open at the end (may be null if an open failed)
};

bool CountsFailure(DB* db) {
  DBStats st = db->GetStats();
  return !st.background_error.empty() || st.background_failures > 0 || st.write_failures > 0;
}

// Runs the workload against env from scratch, recording acknowledged writes in *model.
RunResult RunWorkload(Env* env, const Workload& w, KeyHistories* model) {
  RunResult r;
  std::mt19937_64 rng(w.seed);
  Options o = SweepOptions(env);
  auto note = [&](const Status& s) {
    if (!s.ok()) r.error_seen = true;
  };
  auto open = [&]() {
    std::unique_ptr<DB> db;
    Status s = DB::Open(o, "/db", &db);
    note(s);
    r.db = s.ok() ? std::move(db) : nullptr;
  };
  auto close = [&]() {
    if (!r.db) return;
    if (CountsFailure(r.db.get())) r.error_seen = true;
    note(r.db->Close());
    r.db.reset();
  };
  open();
  for (int i = 0; i < w.writes && r.db; i++) {
    WriteBatch batch;
    int entries = 1 + static_cast<int>(rng() % 3);
    std::vector<std::pair<std::string, std::optional<std::string>>> ops;
    for (int e = 0; e < entries; e++) {
      std::string key = "key" + std::to_string(rng() % kKeys);
      if (rng() % 8 == 0) {
        batch.Delete(key);
        ops.emplace_back(key, std::nullopt);
      } else {
        std::string value = "v" + std::to_string(i) + "." + std::to_string(e) + ":" +
                            std::string(40 + rng() % 160, static_cast<char>('a' + i % 26));
        batch.Put(key, value);
        ops.emplace_back(key, value);
      }
    }
    WriteOptions wo;
    wo.has_sync = true;
    wo.sync = i % 2 ? SyncMode::kAlways : SyncMode::kNone;
    Status s = r.db->Write(wo, &batch);
    note(s);
    Ack ack = !s.ok() ? Ack::kFailed
                      : (wo.sync == SyncMode::kAlways ? Ack::kPowerLoss : Ack::kProcessCrash);
    // Within one batch a later entry for the same key wins.
    std::map<std::string, std::optional<std::string>> last;
    for (auto& [k, v] : ops) last[k] = v;
    for (auto& [k, v] : last) (*model)[k].push_back({v, ack});

    if (i % 5 == 4) {  // reads: through memtables and files
      std::string v;
      ValueMeta m;
      Status g = r.db->Get(ReadOptions(), "key" + std::to_string(rng() % kKeys), &v, &m);
      if (!g.ok() && !g.IsNotFound()) r.error_seen = true;
    }
    if (i == w.writes / 4) note(r.db->Flush());
    if (i == w.writes / 2) {  // a clean close and reopen in the middle
      close();
      open();
    }
    if (i == 3 * w.writes / 4 && r.db) {
      note(r.db->CompactRange(nullptr, nullptr));
      auto it = r.db->NewIterator(ReadOptions());
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
      }
      note(it->status());
    }
  }
  if (r.db && CountsFailure(r.db.get())) r.error_seen = true;
  return r;
}

// Destroys db with every file operation failing: nothing more reaches the files (a crash).
void Crash(FaultEnv* env, std::unique_ptr<DB>* db) {
  env->FailOperation(1, /*sticky=*/true);
  db->reset();
  env->ClearFaults();
}

std::string Describe(const std::optional<std::string>& v) {
  return v ? "'" + v->substr(0, 12) + "...'" : std::string("<absent>");
}

// Reopens and checks that the DB holds an allowed value for every key, and nothing else.
void CheckRecovered(FaultEnv* env, const KeyHistories& model, bool power_loss) {
  Options o = SweepOptions(env);
  std::unique_ptr<DB> db;
  Status s = DB::Open(o, "/db", &db);
  INFO("reopen: " << s.ToString());
  REQUIRE(s.ok());
  std::map<std::string, std::string> contents;
  auto it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    contents[std::string(it->key())] = std::string(it->value());
  }
  INFO("iteration: " << it->status().ToString());
  REQUIRE(it->status().ok());
  for (const auto& [key, v] : contents) {
    INFO("unexpected key " << key);
    REQUIRE(model.count(key) == 1);
  }
  for (const auto& [key, writes] : model) {
    std::optional<std::string> got;
    if (auto f = contents.find(key); f != contents.end()) got = f->second;
    std::string value;
    ValueMeta meta;
    Status g = db->Get(ReadOptions(), key, &value, &meta);
    REQUIRE((g.ok() || g.IsNotFound()));
    REQUIRE(g.ok() == got.has_value());
    if (g.ok()) REQUIRE(value == *got);
    auto allowed = Allowed(writes, power_loss);
    bool ok = std::find(allowed.begin(), allowed.end(), got) != allowed.end();
    if (!ok) {
      std::string msg = key + " holds " + Describe(got) + "; allowed:";
      for (const auto& a : allowed) msg += " " + Describe(a);
      FAIL(msg);
    }
  }
  Status v = db->VerifyIntegrity();
  INFO("verify: " << v.ToString());
  REQUIRE(v.ok());
  // The recovered state is a sound base for more work.
  REQUIRE(db->Put("after-recovery", "yes").ok());
  REQUIRE(db->Close().ok());
  db.reset();
  s = DB::Open(o, "/db", &db);
  REQUIRE(s.ok());
  std::string value;
  ValueMeta meta;
  REQUIRE(db->Get(ReadOptions(), "after-recovery", &value, &meta).ok());
}

}  // namespace

TEST_CASE("fault sweep: every file operation of a workload fails once", "[fault][sweep]") {
  const uint64_t seed = test::TestSeedOr(20240611);
  Workload w{seed, test::Scaled(160, 40)};
  std::printf("fault sweep: KEYVA_TEST_SEED=%llu, %d writes\n",
              static_cast<unsigned long long>(seed), w.writes);

  // A clean run counts the operations.
  uint64_t total_ops;
  {
    FaultEnv env;
    KeyHistories model;
    RunResult r = RunWorkload(&env, w, &model);
    REQUIRE(r.db);
    REQUIRE_FALSE(r.error_seen);
    total_ops = env.OperationCount();
    r.db.reset();
    CheckRecovered(&env, model, /*power_loss=*/false);
  }
  REQUIRE(total_ops > 100);
  std::printf("fault sweep: the workload performs %llu file operations\n",
              static_cast<unsigned long long>(total_ops));

  struct Mode {
    const char* name;
    Status::Code code;
    bool power_loss;
  };
  const Mode modes[] = {
      {"I/O error, then a process crash", Status::Code::kIOError, false},
      {"I/O error, then a power loss", Status::Code::kIOError, true},
      {"disk full, then a process crash", Status::Code::kNoSpace, false},
      {"disk full, then a power loss", Status::Code::kNoSpace, true},
  };
  // Each fault point runs under both error kinds, with the two endings alternating by k.
  uint64_t runs = 0;
  for (uint64_t k = 1; k <= total_ops; k++) {
    for (int m = 0; m < 2; m++) {
      const Mode& mode = modes[m * 2 + (k + m) % 2];
      INFO("fault at operation " << k << " of " << total_ops << " (" << mode.name
                                 << "); KEYVA_TEST_SEED=" << seed);
      FaultEnv base;
      RemovalRecordingEnv env(&base);
      base.SetFailureCode(mode.code);
      base.FailOperation(k);
      KeyHistories model;
      RunResult r = RunWorkload(&env, w, &model);
      if (!env.removals.count(k)) REQUIRE(r.error_seen);
      if (mode.code == Status::Code::kNoSpace && r.db) {
        // A full disk that has room again: the same DB object retries its failed work (at once
        // when asked to wait for it; the storage thread's polling gets there after a back-off),
        // then takes writes.
        Status s = r.db->WaitForBackgroundWork();
        INFO("background work after the disk-full fault: " << s.ToString());
        REQUIRE(s.ok());
        WriteOptions wo;
        WriteBatch b;
        b.Put("key0", "space again");
        s = r.db->Write(wo, &b);
        INFO("write after the disk-full fault: " << s.ToString());
        REQUIRE(s.ok());
        model["key0"].push_back({"space again", Ack::kPowerLoss});
        // (No flush here: the crash below must find this write in the WALs, after the log the
        // failed write broke.)
      }
      Crash(&base, &r.db);
      if (mode.power_loss) base.SimulatePowerLoss();
      CheckRecovered(&base, model, mode.power_loss);
      runs++;
    }
  }
  std::printf("fault sweep: %llu fault points x 2 = %llu runs, all recovered\n",
              static_cast<unsigned long long>(total_ops), static_cast<unsigned long long>(runs));
}

}  // namespace keyva
