// ServerMetrics: request counters and latency histograms, rendered as Prometheus text.
//
// Sessions call RecordRequest once per response sent, labelled by route (a fixed set of
// templates such as "/kv/{key}", never the raw path, so label cardinality stays bounded), method
// and status. RenderPrometheus adds the storage thread's counters and queue depth and the engine's
// DBStats (gathered on the storage thread) to the exposition.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tuple>

#include "internal/engine/db.h"
#include "internal/server/response_memory.h"
#include "internal/server/storage_thread.h"

namespace keyva::server {

class ServerMetrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 10};

  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};  // non-cumulative counts
    uint64_t count = 0;                                      // the +Inf bucket included
    double sum = 0;
  };
  // Cumulative counts since start, for the stats history (stats_history.h).
  struct Vitals {
    std::array<uint64_t, 6> responses_by_class{};  // [1] 1xx … [5] 5xx ([0]: other codes)
    Histogram reads;                               // GET and HEAD, every route
    Histogram writes;                              // PUT, POST, DELETE, LOCK, UNLOCK
  };
  Vitals TakeVitals() const;

  void RecordRequest(std::string_view route, std::string_view method, unsigned status,
                     std::chrono::nanoseconds latency);
  void ConnectionOpened() {
    connections_accepted_.fetch_add(1, std::memory_order_relaxed);
    connections_open_.fetch_add(1, std::memory_order_relaxed);
  }
  void ConnectionClosed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
  void AcceptFailed() { accept_errors_.fetch_add(1, std::memory_order_relaxed); }
  // A client cut off for reading its response slower than --min-send-rate.
  void SlowClientCut() { slow_clients_cut_.fetch_add(1, std::memory_order_relaxed); }
  // Events sent to watchers; a watcher closed for not reading (--watch-stall-timeout); a
  // watcher ended because the feed was trimmed past its position.
  void WatchEventsSent(uint64_t n) { watch_events_.fetch_add(n, std::memory_order_relaxed); }
  void WatcherCut() { watchers_cut_.fetch_add(1, std::memory_order_relaxed); }
  void WatcherGone() { watchers_gone_.fetch_add(1, std::memory_order_relaxed); }
  // An exception caught where it would have ended the process (a handler, a session).
  void InternalError() { internal_errors_.fetch_add(1, std::memory_order_relaxed); }

  // The whole /metrics page.
  std::string RenderPrometheus(const DBStats& db, const StorageThread& storage,
                               const ResponseMemory& memory) const;

  // Server counters for /api/stats.
  nlohmann::json ServerJson(const StorageThread& storage, const ResponseMemory& memory) const;

 private:
  using RequestKey = std::tuple<std::string, std::string, unsigned>;  // route, method, status

  mutable std::mutex mu_;
  std::map<RequestKey, uint64_t> requests_;   // guarded by mu_
  std::map<std::string, Histogram> latency_;  // by route; guarded by mu_
  Vitals vitals_;                             // guarded by mu_
  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<int64_t> connections_open_{0};
  std::atomic<uint64_t> accept_errors_{0};
  std::atomic<uint64_t> slow_clients_cut_{0};
  std::atomic<uint64_t> internal_errors_{0};
  std::atomic<uint64_t> watch_events_{0};
  std::atomic<uint64_t> watchers_cut_{0};
  std::atomic<uint64_t> watchers_gone_{0};
};

// DBStats as JSON (for /api/stats), every field of stats_fields.h.
nlohmann::json DBStatsJson(const DBStats& stats);
// The field table itself ([{"name","help","unit","kind"}]), for /api/stats "engine_fields".
nlohmann::json EngineStatsFieldsJson();

}  // namespace keyva::server
