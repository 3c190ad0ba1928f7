// Prometheus exposition and JSON stats; see metrics.h.
#include "internal/server/metrics.h"

#include <charconv>

#include "internal/server/route_table.h"
#include "internal/server/stats_fields.h"

namespace keyva::server {
namespace {

// Label values come from fixed sets (routes, methods), but escape anyway.
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The shortest text that reads back as v.
std::string Num(double v) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, ptr) : "NaN";
}

void Metric(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Sample(std::string* out, const char* name, const std::string& labels, double value) {
  *out += name;
  if (!labels.empty()) *out += "{" + labels + "}";
  *out += ' ' + Num(value) + '\n';
}

void Gauge(std::string* out, const char* name, const char* help, double value,
           const char* type = "gauge") {
  Metric(out, name, type, help);
  Sample(out, name, "", value);
}

}  // namespace

void ServerMetrics::RecordRequest(std::string_view route, std::string_view method, unsigned status,
                                  std::chrono::nanoseconds latency) {
  double secs = std::chrono::duration<double>(latency).count();
  size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && secs > kLatencyBuckets[bucket]) bucket++;
  const auto add = [bucket, secs](Histogram* h) {
    if (bucket < kLatencyBuckets.size()) h->buckets[bucket]++;
    h->count++;
    h->sum += secs;
  };
  const boost::beast::http::verb verb = boost::beast::http::string_to_verb(method);
  const bool read = verb == boost::beast::http::verb::get || verb == boost::beast::http::verb::head;
  const bool write = IsWriteMethod(verb);
  std::lock_guard<std::mutex> lock(mu_);
  requests_[RequestKey(std::string(route), std::string(method), status)]++;
  add(&latency_[std::string(route)]);
  vitals_.responses_by_class[status >= 100 && status < 600 ? status / 100 : 0]++;
  if (read) add(&vitals_.reads);
  if (write) add(&vitals_.writes);
}

ServerMetrics::Vitals ServerMetrics::TakeVitals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return vitals_;
}

std::string ServerMetrics::RenderPrometheus(const DBStats& db, const StorageThread& storage,
                                            const ResponseMemory& memory) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Metric(&out, "keyva_http_requests_total", "counter", "HTTP responses sent");
    for (const auto& [key, n] : requests_) {
      const auto& [route, method, status] = key;
      Sample(&out, "keyva_http_requests_total",
             "route=\"" + Escape(route) + "\",method=\"" + Escape(method) + "\",code=\"" +
                 std::to_string(status) + "\"",
             static_cast<double>(n));
    }
    Metric(&out, "keyva_http_request_duration_seconds", "histogram",
           "Time from a request's headers to its response being written");
    for (const auto& [route, h] : latency_) {
      std::string base = "route=\"" + Escape(route) + "\"";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kLatencyBuckets.size(); i++) {
        cumulative += h.buckets[i];
        Sample(&out, "keyva_http_request_duration_seconds_bucket",
               base + ",le=\"" + Num(kLatencyBuckets[i]) + "\"", static_cast<double>(cumulative));
      }
      Sample(&out, "keyva_http_request_duration_seconds_bucket", base + ",le=\"+Inf\"",
             static_cast<double>(h.count));
      Sample(&out, "keyva_http_request_duration_seconds_sum", base, h.sum);
      Sample(&out, "keyva_http_request_duration_seconds_count", base, static_cast<double>(h.count));
    }
  }
  Gauge(&out, "keyva_http_connections_open", "Open client connections",
        static_cast<double>(connections_open_.load()));
  Gauge(&out, "keyva_http_connections_accepted_total", "Connections accepted",
        static_cast<double>(connections_accepted_.load()), "counter");
  Gauge(&out, "keyva_http_accept_errors_total", "Failed accepts (e.g. out of descriptors)",
        static_cast<double>(accept_errors_.load()), "counter");
  Gauge(&out, "keyva_http_slow_clients_cut_total",
        "Connections cut for reading a response slower than --min-send-rate",
        static_cast<double>(slow_clients_cut_.load()), "counter");
  Gauge(&out, "keyva_internal_errors_total",
        "Exceptions caught in a request handler or session (the request ended, the server stayed)",
        static_cast<double>(internal_errors_.load()), "counter");
  Gauge(&out, "keyva_response_memory_bytes", "Value bytes held by responses in flight",
        static_cast<double>(memory.held_bytes()));
  Gauge(&out, "keyva_response_memory_budget_bytes", "--response-memory",
        static_cast<double>(memory.budget()));
  Gauge(&out, "keyva_response_memory_shared_total",
        "Responses that shared a value already held by another response in flight",
        static_cast<double>(memory.shared()), "counter");
  Gauge(&out, "keyva_response_memory_refused_total",
        "GETs answered 503 because responses in flight held --response-memory",
        static_cast<double>(memory.refused()), "counter");

  const StorageThread::Counters& c = storage.counters();
  Gauge(&out, "keyva_queue_depth", "Requests waiting for the storage thread",
        static_cast<double>(storage.QueueDepth()));
  Gauge(&out, "keyva_queue_capacity", "Capacity of the storage channel",
        static_cast<double>(storage.QueueCapacity()));
  Gauge(&out, "keyva_queue_rejected_total", "Requests refused with 503 because the queue was full",
        static_cast<double>(c.rejected.load()), "counter");
  Gauge(&out, "keyva_storage_batches_total", "Batches run by the storage thread",
        static_cast<double>(c.batches.load()), "counter");
  Gauge(&out, "keyva_storage_jobs_total", "Requests run by the storage thread",
        static_cast<double>(c.jobs.load()), "counter");
  Gauge(&out, "keyva_storage_reads_total",
        "Reads (GET, HEAD, listings, counter reads) served on the I/O threads",
        static_cast<double>(c.reads.load()), "counter");
  Gauge(&out, "keyva_wal_syncs_total", "Group commits (one WAL fsync each)",
        static_cast<double>(c.wal_syncs.load()), "counter");
  Gauge(&out, "keyva_wal_sync_failures_total", "Failed WAL fsyncs",
        static_cast<double>(c.failed_syncs.load()), "counter");
  const WatchHub& hub = storage.hub();
  Gauge(&out, "keyva_revision", "The newest published revision",
        static_cast<double>(storage.PublishedRevision()));
  Gauge(&out, "keyva_watch_trimmed_revision",
        "The highest revision dropped from the change feed by --watch-retention",
        static_cast<double>(hub.trimmed()));
  Gauge(&out, "keyva_watchers", "Watch streams and long polls open",
        static_cast<double>(hub.watchers()));
  Gauge(&out, "keyva_watch_events_sent_total", "Events sent to watchers",
        static_cast<double>(watch_events_.load()), "counter");
  Gauge(&out, "keyva_watchers_cut_total",
        "Watchers closed for taking nothing for --watch-stall-timeout",
        static_cast<double>(watchers_cut_.load()), "counter");
  Gauge(&out, "keyva_watchers_gone_total",
        "Watchers ended because the feed was trimmed past their position",
        static_cast<double>(watchers_gone_.load()), "counter");
  Gauge(&out, "keyva_expired_total", "Values removed by the server after their TTL passed",
        static_cast<double>(c.expired.load()), "counter");
  Gauge(&out, "keyva_feed_trimmed_total", "Change-feed records dropped by --watch-retention",
        static_cast<double>(c.feed_trimmed.load()), "counter");
  if (!storage.caches().empty()) {
    struct CacheMetric {
      const char* name;
      const char* type;
      const char* help;
      uint64_t (CacheQuota::*value)() const;
    };
    static constexpr CacheMetric kCacheMetrics[] = {
        {"keyva_cache_bytes", "gauge", "Bytes (keys + values) held by each build cache",
         &CacheQuota::bytes},
        {"keyva_cache_quota_bytes", "gauge", "The --cache-quota of each build cache",
         &CacheQuota::limit},
        {"keyva_cache_entries", "gauge", "Entries held by each build cache", &CacheQuota::entries},
        {"keyva_cache_evictions_total", "counter",
         "Least recently used entries evicted to keep each build cache within its quota",
         &CacheQuota::evictions},
    };
    for (const CacheMetric& m : kCacheMetrics) {
      Metric(&out, m.name, m.type, m.help);
      for (const auto& cache : storage.caches().all()) {
        Sample(&out, m.name, "prefix=\"" + Escape(cache->prefix()) + "\"",
               static_cast<double>(((*cache).*m.value)()));
      }
    }
  }

  Metric(&out, "keyva_engine_level_files", "gauge", "SST files per level");
  for (size_t i = 0; i < db.levels.size(); i++) {
    Sample(&out, "keyva_engine_level_files", "level=\"" + std::to_string(i) + "\"",
           db.levels[i].files);
  }
  Metric(&out, "keyva_engine_level_bytes", "gauge", "SST bytes per level");
  for (size_t i = 0; i < db.levels.size(); i++) {
    Sample(&out, "keyva_engine_level_bytes", "level=\"" + std::to_string(i) + "\"",
           static_cast<double>(db.levels[i].bytes));
  }
  for (const StatsField& f : EngineStatsFields()) {
    const double v = f.value(db);
    Gauge(&out, std::string(f.prometheus).c_str(), std::string(f.help).c_str(),
          f.unit == StatsField::Unit::kMicros ? v / 1e6 : v,
          f.kind == StatsField::Kind::kCounter ? "counter" : "gauge");
  }
  return out;
}

nlohmann::json ServerMetrics::ServerJson(const StorageThread& storage,
                                         const ResponseMemory& memory) const {
  nlohmann::json j;
  uint64_t total = 0;
  nlohmann::json by_status = nlohmann::json::object();
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<unsigned, uint64_t> statuses;
    for (const auto& [key, n] : requests_) {
      total += n;
      statuses[std::get<2>(key)] += n;
    }
    for (const auto& [status, n] : statuses) by_status[std::to_string(status)] = n;
  }
  const StorageThread::Counters& c = storage.counters();
  j["requests"] = total;
  j["requests_by_status"] = by_status;
  j["connections_open"] = connections_open_.load();
  j["connections_accepted"] = connections_accepted_.load();
  j["queue_depth"] = storage.QueueDepth();
  j["queue_capacity"] = storage.QueueCapacity();
  j["queue_rejected"] = c.rejected.load();
  j["storage_batches"] = c.batches.load();
  j["storage_jobs"] = c.jobs.load();
  j["storage_reads"] = c.reads.load();
  j["wal_syncs"] = c.wal_syncs.load();
  j["wal_sync_failures"] = c.failed_syncs.load();
  j["slow_clients_cut"] = slow_clients_cut_.load();
  j["revision"] = storage.PublishedRevision();
  j["watch_trimmed_revision"] = storage.hub().trimmed();
  j["watchers"] = storage.hub().watchers();
  j["watch_events_sent"] = watch_events_.load();
  j["watchers_cut"] = watchers_cut_.load();
  j["watchers_gone"] = watchers_gone_.load();
  j["expired"] = c.expired.load();
  j["feed_trimmed"] = c.feed_trimmed.load();
  nlohmann::json caches = nlohmann::json::array();
  for (const auto& cache : storage.caches().all()) {
    caches.push_back({{"prefix", cache->prefix()},
                      {"bytes", cache->bytes()},
                      {"quota", cache->limit()},
                      {"entries", cache->entries()},
                      {"evictions", cache->evictions()}});
  }
  j["caches"] = std::move(caches);
  j["internal_errors"] = internal_errors_.load();
  j["response_memory_bytes"] = memory.held_bytes();
  j["response_memory_budget"] = memory.budget();
  j["response_memory_shared"] = memory.shared();
  j["response_memory_refused"] = memory.refused();
  return j;
}

nlohmann::json DBStatsJson(const DBStats& s) {
  nlohmann::json levels = nlohmann::json::array();
  for (size_t i = 0; i < s.levels.size(); i++) {
    levels.push_back({{"level", i}, {"files", s.levels[i].files}, {"bytes", s.levels[i].bytes}});
  }
  nlohmann::json j = {{"levels", levels}};
  for (const StatsField& f : EngineStatsFields()) {
    const std::string name(f.name);
    if (f.unit == StatsField::Unit::kFlag) {
      j[name] =
          s.background_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.background_error);
    } else if (f.unit == StatsField::Unit::kRatio) {
      j[name] = f.value(s);
    } else {
      j[name] = static_cast<uint64_t>(f.value(s));
    }
  }
  return j;
}

nlohmann::json EngineStatsFieldsJson() {
  nlohmann::json fields = nlohmann::json::array();
  for (const StatsField& f : EngineStatsFields()) {
    fields.push_back({{"name", f.name},
                      {"help", f.help},
                      {"unit", UnitName(f.unit)},
                      {"kind", f.kind == StatsField::Kind::kCounter ? "counter" : "gauge"}});
  }
  return fields;
}

}  // namespace keyva::server
