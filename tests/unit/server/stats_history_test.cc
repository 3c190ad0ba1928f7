// StatsHistory: samples as rates between snapshots, p99 from histogram buckets, the ring's
// capacity, and the sampler thread.
#include "internal/server/stats_history.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

namespace keyva::server {
namespace {

using Clock = std::chrono::steady_clock;

// A histogram with n requests of each of the given latencies (seconds) added to h.
void Record(ServerMetrics::Histogram* h, double seconds, uint64_t n) {
  size_t i = 0;
  while (i < ServerMetrics::kLatencyBuckets.size() && seconds > ServerMetrics::kLatencyBuckets[i]) {
    i++;
  }
  if (i < ServerMetrics::kLatencyBuckets.size()) h->buckets[i] += n;
  h->count += n;
  h->sum += seconds * static_cast<double>(n);
}

TEST_CASE("stats history: p99 is the bucket bound holding the interval's 99th percentile") {
  ServerMetrics::Histogram before, after;
  CHECK_FALSE(LatencyQuantile(before, after, 0.99).has_value());  // no requests: none
  Record(&before, 0.5, 1000);                                     // before the interval: ignored
  after = before;
  Record(&after, 0.0002, 990);  // the 0.25 ms bucket
  Record(&after, 0.003, 10);    // the 5 ms bucket
  CHECK(LatencyQuantile(before, after, 0.99) == 0.00025);
  CHECK(LatencyQuantile(before, after, 1.0) == 0.005);
  Record(&after, 0.003, 1);  // now 11 of 1001 are slow: the p99 is in their bucket
  CHECK(LatencyQuantile(before, after, 0.99) == 0.005);
  Record(&after, 60, 500);  // beyond the last bound: reads as that bound
  CHECK(LatencyQuantile(before, after, 0.99) == ServerMetrics::kLatencyBuckets.back());
}

TEST_CASE("stats history: a sample holds rates over its interval and the gauges at its end") {
  VitalsSnapshot a;
  a.at = Clock::time_point() + std::chrono::seconds(100);
  a.http.responses_by_class[2] = 1000;
  a.user_bytes_written = 5'000'000;
  a.cache_hits = 10;
  a.cache_misses = 10;
  a.stall_micros = 7'000'000;
  VitalsSnapshot b = a;
  b.unix_ms = 1'700'000'000'000;
  b.at = a.at + std::chrono::seconds(10);
  b.http.responses_by_class[2] += 500;
  b.http.responses_by_class[4] += 20;
  b.http.responses_by_class[5] += 1;
  b.user_bytes_written += 1'000'000;
  b.cache_hits += 30;
  b.cache_misses += 10;
  b.stall_micros += 2'500'000;
  b.memtable_bytes = 123;
  b.wal_bytes = 1000;
  b.sst_bytes = 4000;
  b.l0_files = 3;
  b.l0_slowdown_files = 20;
  b.compaction_debt_bytes = 77;
  Record(&b.http.writes, 0.0007, 100);

  nlohmann::json s = SampleBetween(a, b);
  CHECK(s["t"] == 1'700'000'000'000);
  CHECK(s["seconds"] == Approx(10));
  CHECK(s["requests_per_second"]["2xx"] == Approx(50));
  CHECK(s["requests_per_second"]["4xx"] == Approx(2));
  CHECK(s["requests_per_second"]["5xx"] == Approx(0.1));
  CHECK(s["requests_per_second"]["3xx"] == 0);
  CHECK(s["write_bytes_per_second"] == Approx(100'000));
  CHECK(s["cache_hit_ratio"] == Approx(0.75));
  CHECK(s["stalled_fraction"] == Approx(0.25));
  CHECK(s["read_p99_ms"].is_null());  // no reads in the interval
  CHECK(s["write_p99_ms"] == Approx(1.0));
  CHECK(s["memtable_bytes"] == 123);
  CHECK(s["disk_bytes"] == 5000);
  CHECK(s["l0_files"] == 3);
  CHECK(s["l0_slowdown_files"] == 20);
  CHECK(s["compaction_debt_bytes"] == 77);

  // No cache lookups: no ratio (not 0% and not 100%).
  b.cache_hits = a.cache_hits;
  b.cache_misses = a.cache_misses;
  CHECK(SampleBetween(a, b)["cache_hit_ratio"].is_null());
}

TEST_CASE(
    "stats history: the first snapshot only starts the clock, and the ring keeps the newest") {
  StatsHistory history(std::chrono::seconds(10), 3);
  VitalsSnapshot v;
  v.at = Clock::time_point() + std::chrono::seconds(1);
  history.Add(v);
  CHECK(history.Json()["samples"].empty());
  for (int i = 1; i <= 5; i++) {
    v.at += std::chrono::seconds(10);
    v.unix_ms = i;
    history.Add(v);
  }
  nlohmann::json j = history.Json();
  CHECK(j["interval_seconds"] == Approx(10));
  CHECK(j["capacity"] == 3);
  REQUIRE(j["samples"].size() == 3);
  CHECK(j["samples"][0]["t"] == 3);  // oldest first
  CHECK(j["samples"][2]["t"] == 5);
}

TEST_CASE("stats history: the sampler takes a snapshot every interval until stopped") {
  StatsHistory history(std::chrono::milliseconds(5), 1000);
  std::atomic<int> taken{0};
  history.Start([&taken] {
    VitalsSnapshot v;
    v.at = Clock::now();
    v.unix_ms = ++taken;
    return v;
  });
  for (int i = 0; i < 2000 && taken.load() < 4; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  history.Stop();
  const int after_stop = taken.load();
  REQUIRE(after_stop >= 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(taken.load() == after_stop);  // nothing after Stop
  CHECK(history.Json()["samples"].size() == static_cast<size_t>(after_stop - 1));
}

}  // namespace
}  // namespace keyva::server
