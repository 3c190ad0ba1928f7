// The engine bench's workloads (see workloads.h).
#include "bench/engine/workloads.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "bench/engine/engine_adapter.h"
#include "bench/engine/latency_histogram.h"
#include "bench/engine/workload_data.h"

namespace keyva::bench {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Nanos(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string_view KeyView(const char* key) { return std::string_view(key, kKeySize); }

// What one thread of a workload did.
struct Tally {
  LatencyHistogram hist;
  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t found = 0;
  uint64_t wrong = 0;  // answers that differ from what was written
  std::string error;   // the first engine error

  void Fail(const std::string& what) {
    if (error.empty()) error = what;
  }
  void Merge(const Tally& other) {
    hist.Merge(other.hist);
    ops += other.ops;
    bytes += other.bytes;
    found += other.found;
    wrong += other.wrong;
    if (error.empty()) error = other.error;
  }
};

class WorkloadRunner {
 public:
  WorkloadRunner(EngineAdapter* db, const BenchParams& p, const ValueSource& values)
      : db_(db), p_(p), values_(values) {}

  // Puts count keys; index_of(i) gives the i-th key index.
  template <typename IndexFn>
  void Puts(uint64_t count, size_t value_size, bool sync, IndexFn index_of, Tally* t) {
    char key[kKeySize];
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t idx = index_of(i);
      FormatKey(idx, key);
      std::string_view value = values_.For(idx, value_size);
      const auto start = Clock::now();
      Status s = db_->Put(KeyView(key), value, sync);
      t->hist.Add(Nanos(Clock::now() - start));
      if (!s.ok()) return t->Fail("put: " + s.ToString());
      ++t->ops;
      t->bytes += kKeySize + value_size;
    }
  }

  // count Gets of uniformly random present keys; every one must be found with its value.
  void ReadRandom(uint64_t count, uint64_t seed, Tally* t) {
    Random rnd(seed);
    char key[kKeySize];
    std::string value;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t idx = rnd.Uniform(p_.num);
      FormatKey(idx, key);
      const auto start = Clock::now();
      Status s = db_->Get(KeyView(key), &value);
      t->hist.Add(Nanos(Clock::now() - start));
      ++t->ops;
      if (s.ok()) {
        ++t->found;
        t->bytes += kKeySize + value.size();
        if (value != values_.For(idx, p_.value_size)) ++t->wrong;
      } else if (s.IsNotFound()) {
        t->bytes += kKeySize;
        ++t->wrong;
      } else {
        return t->Fail("get: " + s.ToString());
      }
    }
  }

  // count Gets of keys that were never written; none may be found.
  void ReadMissing(uint64_t count, uint64_t seed, Tally* t) {
    Random rnd(seed);
    char key[kKeySize];
    std::string value;
    for (uint64_t i = 0; i < count; ++i) {
      FormatMissingKey(rnd.Uniform(p_.num), key);
      const auto start = Clock::now();
      Status s = db_->Get(KeyView(key), &value);
      t->hist.Add(Nanos(Clock::now() - start));
      ++t->ops;
      t->bytes += kKeySize;
      if (s.ok()) {
        ++t->found;
        ++t->wrong;
      } else if (!s.IsNotFound()) {
        return t->Fail("get: " + s.ToString());
      }
    }
  }

  // One scan over everything. Latency is per entry, averaged over batches of 64 entries (timing
  // each step of an iterator would cost as much as the step).
  void ReadSeq(uint64_t expected_entries, Tally* t) {
    constexpr uint64_t kBatch = 64;
    uint64_t prev = 0;
    bool first = true;
    auto batch_start = Clock::now();
    Status s = db_->Scan("", SIZE_MAX, [&](std::string_view k, std::string_view v) {
      uint64_t idx = 0;
      if (!ParseKey(k, &idx) || (!first && idx <= prev)) {
        ++t->wrong;
      } else if (idx % kBatch == 0 && v != values_.For(idx, p_.value_size)) {
        ++t->wrong;
      }
      first = false;
      prev = idx;
      ++t->ops;
      ++t->found;
      t->bytes += k.size() + v.size();
      if (t->ops % kBatch == 0) {
        const auto now = Clock::now();
        t->hist.Add(Nanos(now - batch_start) / kBatch, kBatch);
        batch_start = now;
      }
      return true;
    });
    if (uint64_t rest = t->ops % kBatch; rest != 0) {
      t->hist.Add(Nanos(Clock::now() - batch_start) / rest, rest);
    }
    if (!s.ok()) return t->Fail("scan: " + s.ToString());
    if (t->ops != expected_entries) ++t->wrong;
  }

  // count x (new iterator, seek to a random present key, read it and seek_nexts more).
  void SeekRandom(uint64_t count, uint64_t seed, Tally* t) {
    Random rnd(seed);
    char key[kKeySize];
    const size_t want = static_cast<size_t>(p_.seek_nexts) + 1;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t idx = rnd.Uniform(p_.num);
      FormatKey(idx, key);
      uint64_t next_idx = idx, got = 0;
      bool bad = false;
      const auto start = Clock::now();
      Status s = db_->Scan(KeyView(key), want, [&](std::string_view k, std::string_view v) {
        uint64_t ki = 0;
        if (!ParseKey(k, &ki) || ki != next_idx) {
          bad = true;
        } else if (ki % 16 == 0 && v != values_.For(ki, p_.value_size)) {
          bad = true;
        }
        ++next_idx;
        ++got;
        t->bytes += k.size() + v.size();
        return true;
      });
      t->hist.Add(Nanos(Clock::now() - start));
      if (!s.ok()) return t->Fail("seek: " + s.ToString());
      ++t->ops;
      t->found += got;
      if (bad || got != std::min<uint64_t>(want, p_.num - idx)) ++t->wrong;
    }
  }

  // count Deletes of uniformly random keys; marks them in *deleted.
  void DeleteRandom(uint64_t count, uint64_t seed, std::vector<bool>* deleted,
                    std::vector<uint64_t>* last, Tally* t) {
    Random rnd(seed);
    char key[kKeySize];
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t idx = rnd.Uniform(p_.num);
      FormatKey(idx, key);
      const auto start = Clock::now();
      Status s = db_->Delete(KeyView(key), false);
      t->hist.Add(Nanos(Clock::now() - start));
      if (!s.ok()) return t->Fail("delete: " + s.ToString());
      ++t->ops;
      t->bytes += kKeySize;
      (*deleted)[idx] = true;
      if (last->size() < 100) {
        last->push_back(idx);
      } else {
        (*last)[i % 100] = idx;
      }
    }
  }

  // Untimed: reads back `samples` random indexes in [0, n) and counts wrong answers. Indexes for
  // which absent(idx) is true must be NotFound; the others must hold their value.
  template <typename AbsentFn>
  uint64_t Check(uint64_t n, size_t value_size, uint64_t samples, uint64_t seed, AbsentFn absent,
                 std::string* error) {
    Random rnd(seed);
    uint64_t wrong = 0;
    for (uint64_t i = 0; i < samples && n > 0; ++i) {
      const uint64_t idx = rnd.Uniform(n);
      wrong += CheckOne(idx, value_size, absent(idx), error);
    }
    return wrong;
  }

  uint64_t CheckOne(uint64_t idx, size_t value_size, bool absent, std::string* error) {
    char key[kKeySize];
    std::string value;
    FormatKey(idx, key);
    Status s = db_->Get(KeyView(key), &value);
    if (!s.ok() && !s.IsNotFound()) {
      if (error->empty()) *error = "check get: " + s.ToString();
      return 1;
    }
    if (absent) return s.ok() ? 1 : 0;
    return (s.ok() && value == values_.For(idx, value_size)) ? 0 : 1;
  }

 private:
  EngineAdapter* db_;
  const BenchParams& p_;
  const ValueSource& values_;
};

// Runs `threads` readers splitting count Gets; returns the wall time from the moment all
// threads are ready until the last one finishes.
double ParallelReadRandom(WorkloadRunner* runner, int threads, uint64_t count, uint64_t seed,
                          Tally* total) {
  std::vector<Tally> tallies(threads);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    const uint64_t share = count / threads + (static_cast<uint64_t>(i) < count % threads ? 1 : 0);
    pool.emplace_back([&, i, share] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      runner->ReadRandom(share, seed + 7919 * static_cast<uint64_t>(i + 1), &tallies[i]);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto start = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  const double seconds = Seconds(Clock::now() - start);
  for (const Tally& t : tallies) total->Merge(t);
  return seconds;
}

void DiskUsage(const std::string& dir, uint64_t* allocated, uint64_t* apparent) {
  *allocated = *apparent = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      *allocated += static_cast<uint64_t>(st.st_blocks) * 512;
      *apparent += static_cast<uint64_t>(st.st_size);
    }
  }
}

// A "Name:   123 kB" line of /proc/self/status, in bytes (0 when absent).
uint64_t ProcStatusBytes(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      return std::strtoull(line.c_str() + name.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

Json ToJson(const std::vector<Setting>& settings) {
  Json j = Json::object();
  for (const Setting& s : settings) j[s.name] = s.value;
  return j;
}

}  // namespace

std::vector<Workload> AllWorkloads(const BenchParams& p) {
  const std::string n = std::to_string(p.num), r = std::to_string(p.Reads());
  return {
      {"fillseq", DbUse::kFresh, false, n + " puts in ascending key order"},
      {"fillrandom", DbUse::kLoad, false,
       n + " puts, every key once in random order; this data set is reused below"},
      {"overwrite", DbUse::kShared, false, n + " puts of uniformly random existing keys"},
      {"readrandom", DbUse::kShared, true, r + " gets of uniformly random present keys, 1 thread"},
      {"readrandom2t", DbUse::kShared, true,
       "the same " + r + " gets split over " + std::to_string(p.read_threads) +
           " threads (engines whose DB is thread-safe)"},
      {"readmissing", DbUse::kShared, true,
       r + " gets of absent keys that sort between present keys"},
      {"readseq", DbUse::kShared, true, "one iterator over all " + n + " entries"},
      {"seekrandom", DbUse::kShared, true,
       r + " x (new iterator, seek to a random present key, " + std::to_string(p.seek_nexts) +
           " x next)"},
      {"deleterandom", DbUse::kSharedConsume, false, r + " deletes of uniformly random keys"},
      {"fillsync", DbUse::kFresh, false,
       std::to_string(p.sync_num) + " fsynced puts, random order, fresh DB"},
      {"fill64k", DbUse::kFresh, false,
       std::to_string(p.big_num) + " puts of " + std::to_string(p.big_value_size / 1024) +
           " KiB values, random order, fresh DB"},
  };
}

const Workload* FindWorkload(const std::vector<Workload>& all, const std::string& name) {
  for (const Workload& w : all) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

Json RunWorkload(const std::string& engine, const Workload& w, const BenchParams& p,
                 const std::string& dir) {
  Json r;
  r["engine"] = engine;
  r["workload"] = w.name;
  std::unique_ptr<EngineAdapter> db = NewAdapter(engine);
  if (!db) {
    r["error"] = "engine not compiled into this binary";
    return r;
  }
  r["version"] = db->Version();

  const bool sync = w.name == "fillsync";
  const bool big = w.name == "fill64k";
  const uint64_t entries = sync ? p.sync_num : big ? p.big_num : p.num;
  const size_t value_size = big ? p.big_value_size : p.value_size;
  AdapterConfig config;
  config.block_cache_bytes = p.cache_bytes;
  config.bloom_bits_per_key = p.bloom_bits;
  config.sync_workload = sync;
  config.max_value_bytes = value_size;
  config.max_entries = entries;

  ValueSource values(p.seed);
  WorkloadRunner run(db.get(), p, values);
  const bool fresh = w.db == DbUse::kFresh || w.db == DbUse::kLoad;

  auto t0 = Clock::now();
  Status s = db->Open(dir, fresh, config);
  r["open_seconds"] = Seconds(Clock::now() - t0);
  if (!s.ok()) {
    r["error"] = "open: " + s.ToString();
    return r;
  }
  // A reopened LSM may start flushing or compacting; let it finish before measuring reads.
  double settle_before = 0;
  if (!fresh) {
    t0 = Clock::now();
    s = db->Settle();
    settle_before = Seconds(Clock::now() - t0);
  }

  Tally t;
  int threads = 1;
  std::string note;
  uint64_t live = entries;  // entries in the DB after the workload
  std::vector<bool> deleted;
  std::vector<uint64_t> last_deleted;
  const uint64_t reads = p.Reads();
  double seconds = 0;
  const auto start = Clock::now();
  if (w.name == "fillseq") {
    run.Puts(
        p.num, value_size, false, [](uint64_t i) { return i; }, &t);
  } else if (w.name == "fillrandom" || sync || big) {
    Permutation perm(entries, p.seed + 1);
    run.Puts(
        entries, value_size, sync, [&](uint64_t i) { return perm.At(i); }, &t);
  } else if (w.name == "overwrite") {
    Random rnd(p.seed + 2);
    run.Puts(
        p.num, value_size, false, [&](uint64_t) { return rnd.Uniform(p.num); }, &t);
  } else if (w.name == "readrandom") {
    run.ReadRandom(reads, p.seed + 3, &t);
  } else if (w.name == "readrandom2t") {
    if (db->ThreadSafeReads()) {
      threads = p.read_threads;
      seconds = ParallelReadRandom(&run, threads, reads, p.seed + 4, &t);
    } else {
      note = "DB has one owner thread by design: all reads ran on it (1 thread)";
      run.ReadRandom(reads, p.seed + 4, &t);
    }
  } else if (w.name == "readmissing") {
    run.ReadMissing(reads, p.seed + 5, &t);
  } else if (w.name == "readseq") {
    run.ReadSeq(p.num, &t);
  } else if (w.name == "seekrandom") {
    run.SeekRandom(reads, p.seed + 6, &t);
  } else if (w.name == "deleterandom") {
    deleted.assign(p.num, false);
    run.DeleteRandom(reads, p.seed + 7, &deleted, &last_deleted, &t);
    live = static_cast<uint64_t>(std::count(deleted.begin(), deleted.end(), false));
  } else {
    r["error"] = "unknown workload";
    return r;
  }
  if (seconds == 0) seconds = Seconds(Clock::now() - start);

  t0 = Clock::now();
  Status settled = db->Settle();
  const double settle_after = Seconds(Clock::now() - t0);
  if (!settled.ok()) t.Fail("settle: " + settled.ToString());

  // Untimed read-back of a sample of what the workload wrote.
  std::string check_error;
  if (!w.is_read && t.error.empty()) {
    const uint64_t n = deleted.empty() ? entries : p.num;
    t.wrong += run.Check(
        n, value_size, 1000, p.seed + 8,
        [&](uint64_t idx) { return !deleted.empty() && deleted[idx]; }, &check_error);
    for (uint64_t idx : last_deleted) t.wrong += run.CheckOne(idx, value_size, true, &check_error);
  }
  if (!check_error.empty()) t.Fail(check_error);

  const Json stats = ToJson(db->Stats());
  const Json settings = ToJson(db->Settings());
  const uint64_t rss_anon = ProcStatusBytes("RssAnon");
  const uint64_t rss_file = ProcStatusBytes("RssFile");
  t0 = Clock::now();
  Status closed = db->Close();
  const double close_seconds = Seconds(Clock::now() - t0);
  if (!closed.ok()) t.Fail("close: " + closed.ToString());
  db.reset();

  uint64_t disk = 0, apparent = 0;
  DiskUsage(dir, &disk, &apparent);
  const uint64_t logical = live * (kKeySize + value_size);

  r["threads"] = threads;
  if (!note.empty()) r["note"] = note;
  r["ops"] = t.ops;
  r["seconds"] = seconds;
  r["ops_per_sec"] = seconds > 0 ? static_cast<double>(t.ops) / seconds : 0.0;
  r["mb_per_sec"] = seconds > 0 ? static_cast<double>(t.bytes) / 1048576.0 / seconds : 0.0;
  r["latency_us"] = {{"mean", t.hist.MeanMicros()},
                     {"p50", t.hist.PercentileMicros(0.50)},
                     {"p99", t.hist.PercentileMicros(0.99)},
                     {"p999", t.hist.PercentileMicros(0.999)},
                     {"max", t.hist.MaxMicros()}};
  r["found"] = t.found;
  r["wrong_answers"] = t.wrong;
  r["settle_before_seconds"] = settle_before;
  r["settle_seconds"] = settle_after;
  r["close_seconds"] = close_seconds;
  r["live_entries"] = live;
  r["logical_bytes"] = logical;
  r["disk_bytes"] = disk;
  r["disk_apparent_bytes"] = apparent;
  r["space_amp"] = logical > 0 ? static_cast<double>(disk) / static_cast<double>(logical) : 0.0;
  r["peak_rss_bytes"] = ProcStatusBytes("VmHWM");
  r["rss_anon_bytes_before_close"] = rss_anon;
  r["rss_file_bytes_before_close"] = rss_file;
  r["settings"] = settings;
  r["stats"] = stats;
  if (!t.error.empty()) {
    r["error"] = t.error;
  } else if (t.wrong > 0) {
    r["error"] = std::to_string(t.wrong) + " wrong answers";
  }
  return r;
}

}  // namespace keyva::bench
