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
//
// With concurrent readers (the second test case) the owner thread runs the same operations while
// reader threads Get, Seek + Next and read at snapshots of their own, and every read they make is
// checked against the model's history. Each write batch gets a number; before it can be seen the
// owner appends every key's new state, with that number, to the key's history; just before the
// call that publishes it (a Write with publish on, or Publish) it raises "visible" to that number,
// after the call returns "acked". A third of the writes use publish=false; the owner publishes
// before its own reads and every few batches. A read is right when some batch number p, between
// the acked bound loaded before it and the visible bound loaded after it and not before what the
// same reader saw earlier, gives every key it covered exactly the state it showed (Get: one key;
// a scan: every key of the key space from the seek target to the last key shown, absent ones
// included; a snapshot: everything read at it, re-reads included, at ONE p). Readers pause while
// the owner reopens or loses power (after which the histories restart from the recovered state).
// The third test case shows this checker catches what it looks for: runs that inject a stale read
// (a scan at an old snapshot), a scan mixing two states, and writes published although the
// bookkeeping says publish=false must each be reported, as that kind of fault.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "internal/engine/db.h"
#include "internal/engine/testing/fault_env.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

using ExpectedContents = std::map<std::string, std::string>;
using Batch = std::vector<std::pair<std::string, std::optional<std::string>>>;

void ApplyBatch(ExpectedContents* m, const Batch& b) {
  for (const auto& [k, v] : b) {
    if (v) {
      (*m)[k] = *v;
    } else {
      m->erase(k);
    }
  }
}

// Faults a model run can inject into its concurrent reads, to show that their checker catches them.
enum class ReaderFault {
  kNone,
  kStale,         // readers read at a snapshot older than the acked bound they check against
  kMixed,         // scans continue from a fresh iterator halfway: two states in one read
  kEarlyPublish,  // writes the bookkeeping calls publish=false are published at once
};

class ModelRun {
 public:
  // readers > 0: that many reader threads run alongside the owner (see the file comment).
  explicit ModelRun(uint64_t seed, int readers = 0, ReaderFault fault = ReaderFault::kNone)
      : rng_(seed), seed_(seed), readers_(readers), fault_(fault) {
    if (readers_ > 0) {
      for (uint32_t n = 0; n < kKeySpace; n++) universe_.push_back(KeyName(n));
      std::sort(universe_.begin(), universe_.end());
      for (uint32_t i = 0; i < universe_.size(); i++) key_id_[universe_[i]] = i;
      history_.resize(universe_.size());
      reader_lo_.assign(readers_, kNoReader);
    }
  }
  ~ModelRun() { StopReaders(); }

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
    StartReaders();
    for (uint64_t i = 0; i < ops; i++) {
      uint32_t r = rng_() % 10000;
      if (readers_ > 0 && r >= 4800 && r < 9700) PublishPending();  // before the owner's reads
      if (readers_ > 0 && i % 1024 == 0 && reader_failed_.load()) break;
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
    PublishPending();
    StopReaders();
    if (readers_ > 0) {
      std::cout << "model test readers: " << reader_gets_ << " gets, " << reader_scans_
                << " scans, " << reader_snapshots_ << " snapshots checked\n";
      std::lock_guard<std::mutex> l(hist_mu_);
      INFO(reader_failure_);
      // With a fault injected the test case checks what the readers reported (reader_failure()).
      if (fault_ == ReaderFault::kNone) {
        REQUIRE(reader_failure_.empty());
        REQUIRE(reader_gets_.load() > 0);
        REQUIRE(reader_scans_.load() > 0);
        REQUIRE(reader_snapshots_.load() > 0);
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
  static constexpr uint32_t kKeySpace = 3000;
  static std::string KeyName(uint32_t n) {
    // Shared prefixes of several lengths exercise prefix compression and restarts.
    return (n % 7 == 0 ? "user/profile/" : "k") + std::to_string(n);
  }
  std::string RandomKey() { return KeyName(rng_() % kKeySpace); }

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
    bool publish = true;
    if (readers_ > 0) {
      RecordBatch(b);
      publish = rng_() % 3 != 0;
      if (publish) visible_.store(batches_);  // this write publishes every batch so far
      wo.publish = publish || fault_ == ReaderFault::kEarlyPublish;
    }
    Status s = db_->Write(wo, &wb);
    INFO(s.ToString());
    REQUIRE(s.ok());
    if (readers_ > 0) {
      if (publish) {
        acked_.store(batches_);
        unpublished_ = 0;
      } else if (++unpublished_ >= 8 || rng_() % 4 == 0) {
        PublishPending();
      }
    }
    ApplyBatch(&model_, b);
    if (wo.sync == SyncMode::kAlways) {
      durable_ = model_;
      unsynced_.clear();
    } else {
      unsynced_.push_back(b);
    }
  }

  void CheckGet(const std::string& key, const Snapshot* snap, const ExpectedContents& expect) {
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

  ExpectedContents Contents(const Snapshot* snap) {
    ReadOptions ro;
    ro.snapshot = snap;
    ExpectedContents out;
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
    ReaderPause pause(this);
    PublishPending();
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
    ReaderPause pause(this);
    snapshots_.clear();                      // they die with the DB
    env_.FailOperation(1, /*sticky=*/true);  // nothing reaches "disk" after this instant
    env_.SimulatePowerLoss();
    db_.reset();
    env_.ClearFaults();
    power_losses_++;
    Open();
    ExpectedContents got = Contents(nullptr);
    ExpectedContents candidate = durable_;
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
    ResetHistory();  // the readers' histories restart from the recovered state
  }

  // ---- Concurrent readers (readers_ > 0) ----

  // One key's state from batch `batch` on: present with a value of hash `hash`, or absent.
  struct KeyState {
    uint64_t batch = 0;
    bool present = false;
    size_t hash = 0;
  };
  // What a read showed for one key (by its index in universe_).
  struct Shown {
    uint32_t id = 0;
    bool present = false;
    size_t hash = 0;
  };
  static size_t Hash(std::string_view v) { return std::hash<std::string_view>{}(v); }
  static constexpr uint64_t kNoReader = UINT64_MAX;

  // Holds the readers out (between two of their operations) while the owner replaces the DB. When
  // leaving by an exception (a failed REQUIRE) it stops them instead: the DB may be gone.
  class ReaderPause {
   public:
    explicit ReaderPause(ModelRun* run) : run_(run) {
      run_->pause_.store(true);
      lock_ = std::unique_lock<std::shared_mutex>(run_->gate_);
    }
    ~ReaderPause() {
      if (std::uncaught_exceptions() > 0) run_->stop_readers_.store(true);
      lock_.unlock();
      run_->pause_.store(false);
    }

   private:
    ModelRun* run_;
    std::unique_lock<std::shared_mutex> lock_;
  };

  void StartReaders() {
    if (readers_ == 0) return;
    ResetHistory();
    for (int i = 0; i < readers_; i++) reader_threads_.emplace_back([this, i] { ReaderMain(i); });
  }

  void StopReaders() {
    stop_readers_.store(true);
    for (auto& t : reader_threads_) t.join();
    reader_threads_.clear();
  }

  // Gives batch b the next number and appends its keys' new states to their histories (before the
  // batch can be seen), dropping states no reader can still ask for.
  void RecordBatch(const Batch& b) {
    std::lock_guard<std::mutex> l(hist_mu_);
    batches_++;
    uint64_t safe = acked_.load();
    for (uint64_t lo : reader_lo_) safe = std::min(safe, lo);
    for (const auto& [k, v] : b) {
      auto& h = history_[key_id_.at(k)];
      h.push_back(KeyState{batches_, v.has_value(), v ? Hash(*v) : 0});
      size_t drop = 0;
      while (drop + 1 < h.size() && h[drop + 1].batch <= safe) drop++;
      h.erase(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(drop));
    }
  }

  // Every key's history restarts at a new batch number with its state in model_ (at the start, and
  // after a power loss), everything visible.
  void ResetHistory() {
    if (readers_ == 0) return;
    std::lock_guard<std::mutex> l(hist_mu_);
    batches_++;
    for (uint32_t i = 0; i < universe_.size(); i++) {
      auto it = model_.find(universe_[i]);
      history_[i] = {
          KeyState{batches_, it != model_.end(), it != model_.end() ? Hash(it->second) : 0}};
    }
    visible_.store(batches_);
    acked_.store(batches_);
    unpublished_ = 0;
  }

  // Makes every write so far visible to the readers, with their bounds around the Publish.
  void PublishPending() {
    if (unpublished_ == 0) return;
    visible_.store(batches_);
    db_->Publish();
    acked_.store(batches_);
    unpublished_ = 0;
  }

  // The state of key id after batch p (hist_mu_ held); nullptr when its history does not reach
  // back that far (a bug of this harness).
  const KeyState* StateAt(uint32_t id, uint64_t p) const {
    const auto& h = history_[id];
    auto it = std::upper_bound(h.begin(), h.end(), p,
                               [](uint64_t q, const KeyState& s) { return q < s.batch; });
    return it == h.begin() ? nullptr : &*(it - 1);
  }

  // The first batch number p in [lo, hi] after which every key in shown had exactly the state
  // shown (hist_mu_ held); nullopt when there is none.
  std::optional<uint64_t> Consistent(const std::vector<Shown>& shown, uint64_t lo,
                                     uint64_t hi) const {
    for (uint64_t p = lo; p <= hi; p++) {
      bool all = true;
      for (const Shown& x : shown) {
        const KeyState* st = StateAt(x.id, p);
        if (st == nullptr || st->present != x.present || (x.present && st->hash != x.hash)) {
          all = false;
          break;
        }
      }
      if (all) return p;
    }
    return std::nullopt;
  }

  // What went wrong, for the report: the keys whose shown state differs at lo and at hi.
  std::string Mismatches(const std::vector<Shown>& shown, uint64_t lo, uint64_t hi) const {
    std::ostringstream o;
    for (uint64_t p : lo == hi ? std::vector<uint64_t>{lo} : std::vector<uint64_t>{lo, hi}) {
      o << " at batch " << p << ":";
      int n = 0;
      for (const Shown& x : shown) {
        const KeyState* st = StateAt(x.id, p);
        if (st != nullptr && st->present == x.present && (!x.present || st->hash == x.hash)) {
          continue;
        }
        if (n++ == 5) break;
        o << " " << universe_[x.id] << " shown " << (x.present ? "present" : "absent") << ", was "
          << (st == nullptr ? "unknown (history pruned)"
              : st->present ? "present"
                            : "absent")
          << (st != nullptr && st->present && x.present ? " (another value)" : "");
      }
      if (n == 0) o << " (matches)";
    }
    return o.str();
  }

  void ReaderMain(int id) {
    std::mt19937_64 rng(seed_ + 7919 * static_cast<uint64_t>(id + 1));
    uint64_t floor = 0;  // the oldest batch this reader may still see (reads never go back)
    while (!stop_readers_.load() && !reader_failed_.load()) {
      if (pause_.load()) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      {
        std::shared_lock<std::shared_mutex> gate(gate_);
        if (pause_.load() || stop_readers_.load()) continue;
        ReaderOp(id, rng, &floor);
      }
      // A breath between operations: the owner's run (and its length) stays about as without
      // readers; each read still overlaps the owner's writes, flushes and compactions.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  // One reader operation: register the acked bound (so the history keeps what the read may
  // need), read, load the visible bound, check.
  void ReaderOp(int id, std::mt19937_64& rng, uint64_t* floor) {
    uint64_t acked;
    {
      std::lock_guard<std::mutex> l(hist_mu_);
      acked = acked_.load();
      reader_lo_[id] = acked;
    }
    DB* db = db_.get();
    const uint32_t x = rng() % 10;
    std::vector<Shown> shown;
    std::string what, error;
    const Snapshot* snap = nullptr;
    if (fault_ == ReaderFault::kStale) {
      // The fault: a scan at a snapshot taken before the acked bound it is checked against (the
      // history is kept back to the snapshot, so the checker can say it is stale).
      what = "scan (stale, injected)";
      snap = db->GetSnapshot();
      WaitForBatches(acked + 50);
      acked = acked_.load();
      error = ReadScan(db, snap, rng, &shown);
      db->ReleaseSnapshot(snap);
      snap = nullptr;
      reader_scans_++;
    } else if (x < 5) {
      what = "Get";
      error = ReadKey(db, nullptr, static_cast<uint32_t>(rng() % universe_.size()), &shown);
      reader_gets_++;
    } else if (x < 8) {
      what = "scan";
      error = ReadScan(db, nullptr, rng, &shown);
      reader_scans_++;
    } else {
      // Everything read at one snapshot, at moments apart (the owner writes, flushes, compacts
      // meanwhile), must be one state: a Get, a scan, more Gets, and the first key again.
      what = "reads at a snapshot";
      snap = db->GetSnapshot();
      const uint32_t first = static_cast<uint32_t>(rng() % universe_.size());
      error = ReadKey(db, snap, first, &shown);
      for (int i = 0; error.empty() && i < 4; i++) {
        std::this_thread::yield();
        error = i == 1 ? ReadScan(db, snap, rng, &shown)
                       : ReadKey(db, snap, static_cast<uint32_t>(rng() % universe_.size()), &shown);
      }
      if (error.empty()) error = ReadKey(db, snap, first, &shown);
      reader_snapshots_++;
    }
    const uint64_t visible = visible_.load();
    if (snap != nullptr) db->ReleaseSnapshot(snap);
    std::lock_guard<std::mutex> l(hist_mu_);
    reader_lo_[id] = kNoReader;
    const uint64_t lo = std::max(acked, *floor);
    std::optional<uint64_t> p;
    if (error.empty()) p = Consistent(shown, lo, visible);
    if (p) {
      *floor = *p;
      return;
    }
    std::ostringstream o;
    o << "reader " << id << ", " << what << ": ";
    if (!error.empty()) {
      o << error;
    } else {
      // Which fault it is: the state of an earlier batch, of a later one, or of none at all.
      const std::optional<uint64_t> before =
          lo == 0 ? std::nullopt : Consistent(shown, lo > 20000 ? lo - 20000 : 0, lo - 1);
      const std::optional<uint64_t> after = Consistent(shown, visible + 1, batches_);
      if (before) {
        o << (*before < acked ? "stale read" : "read went back") << " (the state after batch "
          << *before << ")";
      } else if (after) {
        o << "shows a write not yet visible (the state after batch " << *after << ")";
      } else {
        o << "mixes states (no batch's state)";
      }
      o << ": no batch in [" << lo << ", " << visible << "] (acked " << acked
        << " before the read, " << visible << " visible after it, " << *floor
        << " seen before) matches what it showed;" << Mismatches(shown, lo, visible);
    }
    if (reader_failure_.empty()) reader_failure_ = o.str();
    reader_failed_.store(true);
  }

  // Waits (a bounded while) until batch n is acked, or the owner wants the readers out.
  void WaitForBatches(uint64_t n) {
    for (int i = 0; i < 20000 && acked_.load() < n && !pause_.load() && !stop_readers_.load();
         i++) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  // A Get of universe_[id] (at snap, or the latest published state).
  std::string ReadKey(DB* db, const Snapshot* snap, uint32_t id, std::vector<Shown>* shown) {
    ReadOptions ro;
    ro.snapshot = snap;
    std::string v;
    ValueMeta m;
    Status s = db->Get(ro, universe_[id], &v, &m);
    if (!s.ok() && !s.IsNotFound()) return "Get " + universe_[id] + ": " + s.ToString();
    shown->push_back(Shown{id, s.ok(), s.ok() ? Hash(v) : 0});
    return "";
  }

  // Seek to a key of the key space and up to 20 Next: every key from the target to the last key
  // shown (to the end, when the iterator ran out) is shown present or absent.
  std::string ReadScan(DB* db, const Snapshot* snap, std::mt19937_64& rng,
                       std::vector<Shown>* shown) {
    ReadOptions ro;
    ro.snapshot = snap;
    auto it = db->NewIterator(ro);
    uint32_t next = static_cast<uint32_t>(rng() % universe_.size());
    it->Seek(universe_[next]);
    for (int n = 0; n < 20 && it->Valid(); n++, it->Next()) {
      if (fault_ == ReaderFault::kMixed && n == 10 && snap == nullptr) {
        // The fault: the rest of the scan from a fresh iterator, after the owner wrote more.
        const std::string key(it->key());
        WaitForBatches(acked_.load() + 50);
        it = db->NewIterator(ro);
        it->Seek(key);
      }
      auto k = key_id_.find(std::string(it->key()));
      if (k == key_id_.end() || k->second < next) {
        return "scan from " + universe_[next] + ": key '" + std::string(it->key()) +
               (k == key_id_.end() ? "' is not in the key space" : "' out of order");
      }
      for (; next < k->second; next++) shown->push_back(Shown{next, false, 0});
      shown->push_back(Shown{next, true, Hash(it->value())});
      next++;
    }
    if (!it->status().ok()) return "scan: " + it->status().ToString();
    if (!it->Valid()) {
      for (; next < universe_.size(); next++) shown->push_back(Shown{next, false, 0});
    }
    return "";
  }

  std::mt19937_64 rng_;
  FaultEnv env_;
  std::unique_ptr<DB> db_;
  ExpectedContents model_, durable_;
  std::vector<Batch> unsynced_;
  std::vector<std::pair<const Snapshot*, ExpectedContents>> snapshots_;
  uint64_t reopens_ = 0, power_losses_ = 0;

  // Concurrent readers (readers_ > 0).
  const uint64_t seed_;
  const int readers_;
  const ReaderFault fault_;
  std::vector<std::string> universe_;  // every key RandomKey returns, sorted
  std::unordered_map<std::string, uint32_t> key_id_;
  std::mutex hist_mu_;
  std::vector<std::vector<KeyState>> history_;  // per key id; guarded by hist_mu_
  std::vector<uint64_t> reader_lo_;             // each reader's acked bound; guarded by hist_mu_
  std::string reader_failure_;                  // the first one; guarded by hist_mu_
  uint64_t batches_ = 0;                        // the owner's batch number (owner; hist_mu_)
  uint64_t unpublished_ = 0;                    // batches written with publish=false since
  std::atomic<uint64_t> acked_{0}, visible_{0};
  std::atomic<bool> pause_{false}, stop_readers_{false}, reader_failed_{false};
  std::shared_mutex gate_;  // readers hold it shared for one operation; the owner to replace db_
  std::atomic<uint64_t> reader_gets_{0}, reader_scans_{0}, reader_snapshots_{0};
  std::vector<std::thread> reader_threads_;

 public:
  std::string reader_failure() {
    std::lock_guard<std::mutex> l(hist_mu_);
    return reader_failure_;
  }
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

// The same operations with two reader threads alongside, each read checked against the model's
// history (see the file comment). Not named "randomized model test...": the TSan pass runs it.
TEST_CASE("model test with concurrent readers", "[db][model][concurrent]") {
  const uint64_t seed = test::PrintedTestSeed("model test with concurrent readers");
  const auto ops = test::Scaled<uint64_t>(100'000, 10'000);
  INFO("seed " << seed);
  ModelRun run(seed, /*readers=*/2);
  run.Run(ops);
}

// The readers' checker catches what it looks for: each fault injected, it must be reported.
TEST_CASE("model test's concurrent-read checker catches stale, mixed and early-published reads",
          "[db][model][concurrent]") {
  const uint64_t seed = test::PrintedTestSeed("model test reader faults");
  const std::pair<ReaderFault, const char*> cases[] = {
      {ReaderFault::kStale, "stale read"},
      {ReaderFault::kMixed, "mixes states"},
      {ReaderFault::kEarlyPublish, "not yet visible"},
  };
  for (const auto& [fault, expect] : cases) {
    ModelRun run(seed, /*readers=*/2, fault);
    run.Run(test::Scaled<uint64_t>(100'000, 30'000));  // ends early once a reader reports
    const std::string failure = run.reader_failure();
    std::cout << "injected fault " << static_cast<int>(fault) << ": " << failure << "\n";
    INFO("fault " << static_cast<int>(fault) << ", seed " << seed << ": " << failure);
    CHECK(failure.find(expect) != std::string::npos);
  }
}

}  // namespace keyva
