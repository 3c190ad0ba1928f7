// The randomized model test: the backbone of engine correctness.
//
// A long random sequence of operations (put, delete, batch, get, iterate, seek, snapshots, sync,
// clean reopen, simulated power loss) runs against the DB on FaultEnv and against a std::map model,
// with memtables so small that flushes happen all the time and options that change at every open.
// After a power loss only synced writes are guaranteed: the recovered state must equal the durable
// model plus some PREFIX of the unsynced batches (the WAL is a log; batches are atomic).
//
// The seed is printed; KEYVA_TEST_SEED=<seed> replays a failure. KEYVA_TEST_SCALE multiplies the
// number of operations (1,000,000 at scale 1).
#include <catch2/catch.hpp>
#include <iostream>
#include <map>
#include <optional>
#include <random>

#include "internal/engine/db.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

using Model = std::map<std::string, std::string>;
using Batch = std::vector<std::pair<std::string, std::optional<std::string>>>;

void ApplyBatch(Model* m, const Batch& b) {
  for (const auto& [k, v] : b) {
    if (v) {
      (*m)[k] = *v;
    } else {
      m->erase(k);
    }
  }
}

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed) : rng_(seed) {}

  void Open() {
    Options o;
    o.env = &env_;
    const size_t memtables[] = {8 << 10, 32 << 10, 128 << 10};
    o.memtable_bytes = memtables[rng_() % 3];
    o.background_work = rng_() % 2 == 0;
    const CompressionType compressions[] = {CompressionType::kNone, CompressionType::kLz4,
                                            CompressionType::kZstd};
    o.compression = compressions[rng_() % 3];
    o.block_size = rng_() % 2 ? 4096 : 512;
    o.target_file_size = rng_() % 2 ? (64 << 10) : (256 << 10);
    o.block_cache_bytes = rng_() % 2 ? (1 << 20) : (64 << 10);
    o.max_open_files = rng_() % 2 ? 1000 : 20;
    Status s = DB::Open(o, "/db", &db_);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }

  void Run(uint64_t ops) {
    Open();
    for (uint64_t i = 0; i < ops; i++) {
      uint32_t r = rng_() % 10000;
      if (r < 3000) {
        DoWrite(Batch{{RandomKey(), RandomValue()}});
      } else if (r < 4000) {
        DoWrite(Batch{{RandomKey(), std::nullopt}});
      } else if (r < 4800) {
        Batch b;
        int n = 2 + rng_() % 9;
        for (int j = 0; j < n; j++) {
          b.emplace_back(RandomKey(),
                         rng_() % 4 ? std::optional<std::string>(RandomValue()) : std::nullopt);
        }
        DoWrite(b);
      } else if (r < 8300) {
        CheckGet(RandomKey(), nullptr, model_);
      } else if (r < 9300) {
        CheckScan();
      } else if (r < 9500) {
        REQUIRE(db_->SyncWal().ok());
        durable_ = model_;
        unsynced_.clear();
      } else if (r < 9700) {
        SnapshotOp();
      } else if (r < 9995) {
        db_->PollBackgroundWork();
      } else if (r < 9998) {
        Reopen();
      } else {
        PowerLoss();
      }
    }
    for (auto& [snap, state] : snapshots_) db_->ReleaseSnapshot(snap);
    snapshots_.clear();
    REQUIRE(db_->WaitForBackgroundWork().ok());
    REQUIRE(db_->VerifyIntegrity().ok());
    CHECK(Contents(nullptr) == model_);
    DBStats st = db_->GetStats();
    std::cout << "model test: " << ops << " ops, " << reopens_ << " reopens, " << power_losses_
              << " power losses, flushes this open " << st.flushes << ", L0 files "
              << st.levels[0].files << "\n";
    db_.reset();
  }

 private:
  std::string RandomKey() {
    uint32_t n = rng_() % 3000;
    // Shared prefixes of several lengths exercise prefix compression and restarts.
    return (n % 7 == 0 ? "user/profile/" : "k") + std::to_string(n);
  }

  std::string RandomValue() {
    size_t len = rng_() % 100 == 0 ? rng_() % 5000 : rng_() % 100;
    std::string v(len, '\0');
    for (auto& c : v) c = static_cast<char>('a' + rng_() % 26);
    return v;
  }

  void DoWrite(const Batch& b) {
    WriteBatch wb;
    for (const auto& [k, v] : b) {
      if (v) {
        wb.Put(k, *v);
      } else {
        wb.Delete(k);
      }
    }
    WriteOptions wo;
    wo.has_sync = true;
    wo.sync = rng_() % 5 == 0 ? SyncMode::kNone : SyncMode::kAlways;
    Status s = db_->Write(wo, &wb);
    INFO(s.ToString());
    REQUIRE(s.ok());
    ApplyBatch(&model_, b);
    if (wo.sync == SyncMode::kAlways) {
      durable_ = model_;
      unsynced_.clear();
    } else {
      unsynced_.push_back(b);
    }
  }

  void CheckGet(const std::string& key, const Snapshot* snap, const Model& expect) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string v;
    ValueMeta m;
    Status s = db_->Get(ro, key, &v, &m);
    auto it = expect.find(key);
    INFO("key " << key << ": " << s.ToString());
    if (it == expect.end()) {
      REQUIRE(s.IsNotFound());
    } else {
      REQUIRE(s.ok());
      REQUIRE(v == it->second);
    }
  }

  void CheckScan() {
    std::string start = RandomKey();
    auto it = db_->NewIterator(ReadOptions());
    it->Seek(start);
    auto mit = model_.lower_bound(start);
    for (int n = 0; n < 20; n++, ++mit, it->Next()) {
      if (mit == model_.end()) {
        REQUIRE_FALSE(it->Valid());
        break;
      }
      INFO("scan from " << start << " step " << n);
      REQUIRE(it->Valid());
      REQUIRE(it->key() == mit->first);
      REQUIRE(it->value() == mit->second);
    }
    REQUIRE(it->status().ok());
  }

  Model Contents(const Snapshot* snap) {
    ReadOptions ro;
    ro.snapshot = snap;
    Model out;
    auto it = db_->NewIterator(ro);
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out[std::string(it->key())] = std::string(it->value());
    INFO(it->status().ToString());
    REQUIRE(it->status().ok());
    return out;
  }

  void SnapshotOp() {
    uint32_t r = rng_() % 10;
    if (snapshots_.size() < 3 && r < 4) {
      snapshots_.emplace_back(db_->GetSnapshot(), model_);
    } else if (!snapshots_.empty() && r < 8) {
      auto& [snap, state] = snapshots_[rng_() % snapshots_.size()];
      for (int i = 0; i < 5; i++) CheckGet(RandomKey(), snap, state);
      if (rng_() % 10 == 0) REQUIRE(Contents(snap) == state);
    } else if (!snapshots_.empty()) {
      size_t i = rng_() % snapshots_.size();
      db_->ReleaseSnapshot(snapshots_[i].first);
      snapshots_.erase(snapshots_.begin() + i);
    }
  }

  void Reopen() {
    for (auto& [snap, state] : snapshots_) db_->ReleaseSnapshot(snap);
    snapshots_.clear();
    REQUIRE(db_->Close().ok());
    db_.reset();
    reopens_++;
    Open();
    // A clean close syncs the WAL: everything is durable now.
    REQUIRE(Contents(nullptr) == model_);
    durable_ = model_;
    unsynced_.clear();
  }

  void PowerLoss() {
    snapshots_.clear();                      // they die with the DB
    env_.FailOperation(1, /*sticky=*/true);  // nothing reaches "disk" after this instant
    env_.SimulatePowerLoss();
    db_.reset();
    env_.ClearFaults();
    power_losses_++;
    Open();
    Model got = Contents(nullptr);
    Model candidate = durable_;
    bool matched = got == candidate;
    for (size_t k = 0; !matched && k < unsynced_.size(); k++) {
      ApplyBatch(&candidate, unsynced_[k]);
      matched = got == candidate;
    }
    INFO("after power loss the state is not the durable state plus a prefix of the "
         << unsynced_.size() << " unsynced batches");
    REQUIRE(matched);
    model_ = got;
    durable_ = got;
    unsynced_.clear();
  }

  std::mt19937_64 rng_;
  FaultEnv env_;
  std::unique_ptr<DB> db_;
  Model model_, durable_;
  std::vector<Batch> unsynced_;
  std::vector<std::pair<const Snapshot*, Model>> snapshots_;
  uint64_t reopens_ = 0, power_losses_ = 0;
};

}  // namespace

TEST_CASE("randomized model test with reopen and power loss", "[db][model]") {
  uint64_t seed = test::TestSeed();
  auto ops = static_cast<uint64_t>(1'000'000 * test::TestScale());
  std::cout << "model test seed " << seed << " (replay with KEYVA_TEST_SEED=" << seed << ")\n";
  INFO("seed " << seed);
  ModelRun run(seed);
  run.Run(ops);
}

}  // namespace keyva
