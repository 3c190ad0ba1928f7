// The vital-signs ring behind GET /api/stats/history; see stats_history.h.
#include "internal/server/stats_history.h"

#include <cmath>
#include <utility>

namespace keyva::server {
namespace {

// after - before, or 0 when a counter went backwards (it never should).
uint64_t Delta(uint64_t before, uint64_t after) { return after > before ? after - before : 0; }

nlohmann::json OrNull(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

VitalsSnapshot TakeVitalsSnapshot(const StorageThread& storage, const ServerMetrics& metrics) {
  VitalsSnapshot v;
  v.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  v.at = std::chrono::steady_clock::now();
  v.http = metrics.TakeVitals();
  const DBStats db = storage.EngineStats();
  v.user_bytes_written = db.user_bytes_written;
  v.cache_hits = db.cache_hits;
  v.cache_misses = db.cache_misses;
  v.stall_micros = db.stall_micros;
  v.memtable_bytes = db.memtable_bytes;
  v.wal_bytes = db.wal_bytes;
  v.sst_bytes = db.live_sst_bytes;
  v.compaction_debt_bytes = db.compaction_debt_bytes;
  v.l0_files = db.levels.empty() ? 0 : db.levels[0].files;
  v.l0_slowdown_files = db.l0_slowdown_files;
  v.l0_stop_files = db.l0_stop_files;
  v.queue_depth = storage.QueueDepth();
  return v;
}

std::optional<double> LatencyQuantile(const ServerMetrics::Histogram& before,
                                      const ServerMetrics::Histogram& after, double q) {
  const uint64_t total = Delta(before.count, after.count);
  if (total == 0) return std::nullopt;
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total) - 1e-9));
  uint64_t seen = 0;
  for (size_t i = 0; i < ServerMetrics::kLatencyBuckets.size(); i++) {
    seen += Delta(before.buckets[i], after.buckets[i]);
    if (seen >= rank) return ServerMetrics::kLatencyBuckets[i];
  }
  return ServerMetrics::kLatencyBuckets.back();  // beyond the last bound
}

nlohmann::json SampleBetween(const VitalsSnapshot& before, const VitalsSnapshot& after) {
  const double seconds =
      std::max(1e-3, std::chrono::duration<double>(after.at - before.at).count());
  const auto rate = [seconds](uint64_t b, uint64_t a) {
    return static_cast<double>(Delta(b, a)) / seconds;
  };
  nlohmann::json by_class = nlohmann::json::object();
  for (size_t c = 1; c <= 5; c++) {
    by_class[std::to_string(c) + "xx"] =
        rate(before.http.responses_by_class[c], after.http.responses_by_class[c]);
  }
  const uint64_t hits = Delta(before.cache_hits, after.cache_hits);
  const uint64_t lookups = hits + Delta(before.cache_misses, after.cache_misses);
  const auto ms = [](const std::optional<double>& s) {
    return s ? std::optional<double>(*s * 1000) : std::nullopt;
  };
  return {
      {"t", after.unix_ms},
      {"seconds", seconds},
      {"requests_per_second", std::move(by_class)},
      {"read_p99_ms", OrNull(ms(LatencyQuantile(before.http.reads, after.http.reads, 0.99)))},
      {"write_p99_ms", OrNull(ms(LatencyQuantile(before.http.writes, after.http.writes, 0.99)))},
      {"write_bytes_per_second", rate(before.user_bytes_written, after.user_bytes_written)},
      {"cache_hit_ratio",
       lookups == 0 ? nlohmann::json(nullptr)
                    : nlohmann::json(static_cast<double>(hits) / static_cast<double>(lookups))},
      {"stalled_fraction", std::min(1.0, rate(before.stall_micros, after.stall_micros) / 1e6)},
      {"memtable_bytes", after.memtable_bytes},
      {"wal_bytes", after.wal_bytes},
      {"disk_bytes", after.wal_bytes + after.sst_bytes},
      {"l0_files", after.l0_files},
      {"l0_slowdown_files", after.l0_slowdown_files},
      {"l0_stop_files", after.l0_stop_files},
      {"compaction_debt_bytes", after.compaction_debt_bytes},
      {"queue_depth", after.queue_depth},
  };
}

StatsHistory::StatsHistory(std::chrono::milliseconds interval, size_t capacity)
    : interval_(interval), capacity_(std::max<size_t>(1, capacity)) {}

StatsHistory::~StatsHistory() { Stop(); }

void StatsHistory::Start(std::function<VitalsSnapshot()> take) {
  Add(take());
  sampler_ = std::thread([this, take = std::move(take)] {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      Add(take());
      lock.lock();
    }
  });
}

void StatsHistory::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

void StatsHistory::Add(const VitalsSnapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_) {
    samples_.push_back(SampleBetween(*last_, snapshot));
    while (samples_.size() > capacity_) samples_.pop_front();
  }
  last_ = snapshot;
}

nlohmann::json StatsHistory::Json(std::optional<int64_t> since) const {
  nlohmann::json samples = nlohmann::json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const nlohmann::json& s : samples_) {
    if (!since || s["t"].get<int64_t>() > *since) samples.push_back(s);
  }
  return {{"interval_seconds", std::chrono::duration<double>(interval_).count()},
          {"capacity", capacity_},
          {"samples", std::move(samples)}};
}

}  // namespace keyva::server
