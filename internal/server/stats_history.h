// StatsHistory: the last minutes of keyvad's vital signs, one sample per interval, kept on the
// server so the web page's dashboard shows history the moment it opens (GET /api/stats/history),
// not only what the page polled itself.
//
// A sampler thread (Start) takes a VitalsSnapshot every interval: cumulative counters (responses
// by status class, read and write latency histograms, user bytes written, block cache hits and
// misses, stall time) and gauges (memtable, WAL and SST bytes, L0 files, compaction debt, queue
// depth). A sample is the difference between two snapshots over the time between them — rates
// over that interval — with the gauges at its end; the first snapshot only starts the clock.
// The ring keeps `capacity` samples; older ones fall off.
//
// Latency quantiles come from the histogram buckets (ServerMetrics::kLatencyBuckets): the p99 is
// the upper bound of the bucket that holds the interval's 99th percentile request — coarse, never
// below the truth (beyond the last bound it reads as that bound, 10 s). An interval without such
// requests has no quantile (null), and one without block cache lookups no hit ratio.
//
// Thread-safety: Add and Json from any thread (one mutex); Start and Stop from one thread, Stop
// before whatever the sampling function reads goes away (keyvad: before the storage thread stops).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "internal/server/metrics.h"
#include "internal/server/storage_thread.h"

namespace keyva::server {

// Cumulative counters and gauges at one instant.
struct VitalsSnapshot {
  int64_t unix_ms = 0;
  std::chrono::steady_clock::time_point at{};
  ServerMetrics::Vitals http;
  uint64_t user_bytes_written = 0;
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t stall_micros = 0;
  uint64_t memtable_bytes = 0;
  uint64_t wal_bytes = 0;
  uint64_t sst_bytes = 0;
  uint64_t compaction_debt_bytes = 0;
  int l0_files = 0;
  int l0_slowdown_files = 0;
  int l0_stop_files = 0;
  uint64_t queue_depth = 0;
};

// keyvad's snapshot now: the engine's DBStats, the storage queue and the HTTP metrics.
VitalsSnapshot TakeVitalsSnapshot(const StorageThread& storage, const ServerMetrics& metrics);

// The upper bound (seconds) of the bucket holding quantile q (0 < q <= 1) of the requests
// recorded between two cumulative histograms; nullopt when there were none.
std::optional<double> LatencyQuantile(const ServerMetrics::Histogram& before,
                                      const ServerMetrics::Histogram& after, double q);

// One sample: what happened between before and after, as JSON (docs/server.md lists the fields).
nlohmann::json SampleBetween(const VitalsSnapshot& before, const VitalsSnapshot& after);

class StatsHistory {
 public:
  // Keeps up to capacity samples, one per interval once started.
  StatsHistory(std::chrono::milliseconds interval, size_t capacity);
  ~StatsHistory();  // stops the sampler
  StatsHistory(const StatsHistory&) = delete;
  StatsHistory& operator=(const StatsHistory&) = delete;

  // Samples take() now and then every interval on a thread of its own, until Stop.
  void Start(std::function<VitalsSnapshot()> take);
  void Stop();

  // Adds the sample from the previous snapshot to this one (the first one only starts).
  void Add(const VitalsSnapshot& snapshot);

  // {"interval_seconds","capacity","samples":[oldest … newest]}: every sample, or with since
  // (Unix ms) only those whose "t" is later, for a page that polls for what is new.
  nlohmann::json Json(std::optional<int64_t> since = std::nullopt) const;

  std::chrono::milliseconds interval() const { return interval_; }

 private:
  const std::chrono::milliseconds interval_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::optional<VitalsSnapshot> last_;  // guarded by mu_
  std::deque<nlohmann::json> samples_;  // guarded by mu_

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread sampler_;
};

}  // namespace keyva::server
