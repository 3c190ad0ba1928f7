// Integration tests of /healthz, /metrics, /api/stats (and its history), the web page, and
// overload (503).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("/healthz answers ok") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Get("/healthz");
  CHECK(r.status == 200);
  CHECK(r.Json()["status"] == "ok");
  CHECK(c.Send("HEAD", "/healthz").status == 200);
  CHECK(c.Get("/healthz?x=1").status == 400);
}

TEST_CASE("/metrics exposes requests by route and status, latency, queue and engine stats") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/a", "v", "text/plain").status == 201);
  REQUIRE(c.Get("/kv/missing").status == 404);
  HttpReply r = c.Get("/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& m = r.body;
  for (const char* want : {
           "keyva_http_requests_total{route=\"/kv/{key}\",method=\"PUT\",code=\"201\"} 1",
           "keyva_http_requests_total{route=\"/kv/{key}\",method=\"GET\",code=\"404\"} 1",
           "keyva_http_request_duration_seconds_bucket{route=\"/kv/{key}\",le=\"+Inf\"} 2",
           "keyva_http_request_duration_seconds_count{route=\"/kv/{key}\"} 2",
           "# TYPE keyva_queue_depth gauge",
           "keyva_queue_capacity 4096",
           "keyva_wal_syncs_total",
           "keyva_engine_level_files{level=\"0\"}",
           "keyva_engine_memtable_bytes",
           "keyva_engine_write_amplification",
           "keyva_engine_cache_hits_total",
       }) {
    INFO(want);
    CHECK(m.find(want) != std::string::npos);
  }
}

TEST_CASE("/api/stats is JSON of engine stats and server counters") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/a", "v", "text/plain").status == 201);
  nlohmann::json j = c.Get("/api/stats").Json();
  REQUIRE(j.contains("engine"));
  REQUIRE(j.contains("server"));
  CHECK(j["engine"]["levels"].is_array());
  CHECK(j["engine"]["levels"].size() >= 1);
  CHECK(j["engine"]["levels"][0].contains("files"));
  CHECK(j["engine"].contains("write_amplification"));
  CHECK(j["engine"].contains("cache_hits"));
  CHECK(j["engine"]["last_sequence"].get<uint64_t>() >= 1);
  CHECK(j["engine"]["background_error"].is_null());
  CHECK(j["server"]["requests"].get<uint64_t>() >= 1);
  CHECK(j["server"]["queue_capacity"] == 4096);
  CHECK(j["server"]["wal_syncs"].get<uint64_t>() >= 1);
  CHECK(j["server"]["version"].is_string());
  CHECK(j["server"]["uptime_seconds"].get<double>() >= 0);
  CHECK(j["server"]["started"].get<std::string>().back() == 'Z');
  CHECK(j["engine"]["l0_stop_files"].get<int>() > j["engine"]["l0_slowdown_files"].get<int>());
  CHECK(j["engine"]["compaction_debt_bytes"] == 0);
}

TEST_CASE("/api/stats/history holds a sample per interval, with what happened in it") {
  KeyvadProcess keyvad({.args = {"--stats-interval=100ms"}});
  HttpTestClient c(keyvad.port());
  // Writes and reads, then samples until one interval has seen them.
  for (int i = 0; i < 20; i++) {
    REQUIRE(c.Put("/kv/k" + std::to_string(i), std::string(1000, 'v'), "text/plain").status == 201);
    REQUIRE(c.Get("/kv/k" + std::to_string(i)).status == 200);
  }
  CHECK(c.Get("/kv/missing").status == 404);
  nlohmann::json history;
  bool seen = false;
  for (int attempt = 0; attempt < 200 && !seen; attempt++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    HttpReply r = c.Get("/api/stats/history");
    REQUIRE(r.status == 200);
    history = r.Json();
    for (const nlohmann::json& s : history["samples"]) {
      if (s["requests_per_second"]["2xx"].get<double>() > 0 &&
          s["requests_per_second"]["4xx"].get<double>() > 0) {
        seen = true;
        CHECK(s["write_bytes_per_second"].get<double>() > 0);
        CHECK(s["write_p99_ms"].get<double>() > 0);
        CHECK(s["read_p99_ms"].get<double>() > 0);
        CHECK(s["disk_bytes"].get<uint64_t>() > 0);  // the WAL at least
        CHECK(s["memtable_bytes"].get<uint64_t>() > 0);
        CHECK(s["l0_slowdown_files"].get<int>() > 0);
        CHECK(s["t"].get<int64_t>() > 1'600'000'000'000);
      }
    }
  }
  CHECK(seen);
  CHECK(history["interval_seconds"] == Approx(0.1));
  CHECK(history["capacity"] == 9000);  // 15 minutes of 100 ms
  CHECK(c.Send("POST", "/api/stats/history").status == 405);
  CHECK(c.Get("/api/stats/history?n=5").status == 400);
  CHECK(c.Get("/api/stats/history?since=soon").status == 400);
  // ?since= (Unix ms) leaves out the samples a poller has: those up to and including since.
  nlohmann::json all = c.Get("/api/stats/history").Json()["samples"];
  for (int attempt = 0; attempt < 200 && all.size() < 3; attempt++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    all = c.Get("/api/stats/history").Json()["samples"];
  }
  REQUIRE(all.size() >= 3);
  const int64_t second_t = all[1]["t"];
  const nlohmann::json newer =
      c.Get("/api/stats/history?since=" + std::to_string(second_t)).Json()["samples"];
  for (const nlohmann::json& sample : newer) CHECK(sample["t"].get<int64_t>() > second_t);
  CHECK(newer.size() >= all.size() - 2);  // at most two samples were up to second_t
  std::string out;
  CHECK(RunProgram(KEYVAD_PATH, {"--stats-interval=0s"}, &out) == 2);
  CHECK(out.find("--stats-interval") != std::string::npos);
}

TEST_CASE("every engine figure of the field table is in /api/stats and /metrics") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  nlohmann::json j = c.Get("/api/stats").Json();
  const std::string metrics = c.Get("/metrics").body;
  REQUIRE(j["engine_fields"].is_array());
  CHECK(j["engine_fields"].size() >= 25);
  for (const auto& f : j["engine_fields"]) {
    const std::string name = f["name"];
    INFO(name);
    CHECK(j["engine"].contains(name));
    CHECK_FALSE(f["help"].get<std::string>().empty());
  }
  // The disk-full signals reach every renderer.
  for (const char* metric :
       {"keyva_engine_background_failures_total 0", "keyva_engine_write_failures_total 0",
        "keyva_engine_compactions_running 0"}) {
    INFO(metric);
    CHECK(metrics.find(std::string("\n") + metric + "\n") != std::string::npos);
  }
}

TEST_CASE("GET / serves the web page") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Get("/");
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "text/html; charset=utf-8");
  CHECK(r.body.find("<html") != std::string::npos);
  CHECK(r.HasHeader("content-security-policy"));
  CHECK(c.Send("HEAD", "/").status == 200);
  CHECK(c.Send("POST", "/", "x").status == 405);
}

TEST_CASE(
    "when the storage queue is full, requests get 503 with Retry-After, never anything else") {
  // A queue of one slot and many concurrent clients: some requests may be refused. Whatever
  // happens, each answer is a success or a well-formed 503, and the server stays usable.
  KeyvadProcess keyvad({.args = {"--queue-capacity=1", "--threads=4"}});
  constexpr int kClients = 8;
  std::atomic<int> ok{0}, overloaded{0}, other{0}, bad_503{0};
  std::vector<std::thread> threads;
  const std::string value(64 * 1024, 'v');
  for (int t = 0; t < kClients; t++) {
    threads.emplace_back([&, t] {
      HttpTestClient c(keyvad.port());
      for (int i = 0; i < 40; i++) {
        HttpReply r = c.Put("/kv/t" + std::to_string(t) + "-" + std::to_string(i), value);
        if (r.status == 201) {
          ok++;
        } else if (r.status == 503) {
          overloaded++;
          if (r.Header("retry-after") != "1" || r.Json()["status"] != 503) bad_503++;
        } else {
          other++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(other == 0);
  CHECK(bad_503 == 0);
  CHECK(ok + overloaded == kClients * 40);
  CHECK(ok > 0);
  WARN("503 answers: " << overloaded.load());
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/healthz").status == 200);
  nlohmann::json stats = c.Get("/api/stats").Json();
  CHECK(stats["server"]["queue_rejected"] == overloaded.load());
}

}  // namespace keyva::testing
