// ServerConfig: every setting of keyvad, parsed from command-line flags with environment fallbacks.
//
// Precedence for each setting: the flag (--name=VALUE or --name VALUE), else the environment
// variable (KEYVA_NAME, e.g. KEYVA_DATA_DIR for --data-dir), else the built-in default. UsageText()
// lists every flag with its variable and default. Sizes accept a unit suffix (16MiB, 64KiB, 1GiB,
// 512K, 10MB; KiB/K = 1024, KB = 1000); durations accept ms, s, m or h (a bare number is seconds).
//
// Thread-safety: plain data; parse once at startup, then share read-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/options.h"
#include "internal/server/cache_quota.h"

namespace keyva::server {

inline constexpr std::string_view kFaultInjectionHeader = "X-Keyva-Fault";

struct ServerConfig {
  // Listen address as given ("host:port", "[v6]:port"); host and port are its parsed parts.
  std::string addr = "127.0.0.1:8080";
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string data_dir = "./data";
  SyncMode sync = SyncMode::kAlways;
  uint64_t cache_size = keyva::Options().block_cache_bytes;
  uint64_t memtable_size = keyva::Options().memtable_bytes;
  uint64_t max_value_size = 16u << 20;
  uint64_t max_key_size = 1024;
  uint64_t max_header_size = 16u << 10;
  int threads = 1;  // I/O threads; the parser's default is the number of cores
  uint64_t queue_capacity = 4096;
  // Requests the storage thread takes from the channel at once (one group commit).
  uint64_t max_batch = 256;
  std::string auth_token;  // empty: writes need no token (an all-rights token; access_control.h)
  // Named tokens with rights over key prefixes (access_tokens.h); re-read on SIGHUP. "": none.
  std::string tokens_file;
  // Reads (GET/HEAD of values, listings, counters, /watch, /api/stats, /metrics) need a token
  // with the read (or admin) right too. Needs auth_token or tokens_file.
  bool auth_reads = false;
  // One line per write and delete (token, method, key, ETag after) goes here; "": to the log,
  // and only when a token is configured.
  std::string audit_log;
  // --cors-origins: "*" or a comma-separated list of origins whose pages may call the API from a
  // browser (cors.h); "": no CORS headers at all.
  std::string cors_origins;
  std::string tls_cert;  // both set: serve HTTPS only
  std::string tls_key;
  std::string log_level = "info";
  bool access_log = false;
  std::string port_file;  // when set, the bound port is written here once listening
  // POST /api/checkpoint writes checkpoints only into subdirectories of this directory; empty
  // (the default) disables the route.
  std::string backup_dir;
  // Value bytes that responses in flight may hold (see ResponseMemory).
  uint64_t response_memory = 256u << 20;
  // Responses to GET/HEAD at least this large are gzip/br coded when the client accepts it
  // (content_encoding.h); 0: compression is off.
  uint64_t compress_min_size = 1u << 10;
  // Bytes per second a client must read its response at; 0: each 64 KiB piece gets body_timeout.
  uint64_t min_send_rate = 4u << 10;
  // KEYVA_FAULT_INJECTION (tests only): a request with kFaultInjectionHeader throws on purpose —
  // "throw-in-session" in the HTTP session, "throw-in-handler" in the router — so tests can show
  // that an exception ends one request, never the process.
  bool fault_injection = false;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_timeout{10'000};
  // GET /api/stats/history: one sample per stats_interval, the last 15 minutes kept
  // (stats_history.h).
  std::chrono::milliseconds stats_interval{10'000};
  // The change feed (GET /watch): kept for the last watch_retention_revisions revisions and no
  // longer than watch_retention_age (0: that bound is off; never both 0).
  uint64_t watch_retention_revisions = 1'000'000;
  std::chrono::milliseconds watch_retention_age{24 * 3'600'000};
  std::chrono::milliseconds watch_heartbeat{15'000};
  std::chrono::milliseconds watch_stall_timeout{30'000};
  uint64_t max_watchers = 10'000;
  // Build caches (--cache-quota PREFIX=SIZE, repeatable): values under each prefix are a cache
  // with that byte quota and least-recently-used eviction (cache_quota.h). Never overlapping.
  std::vector<CacheQuotaSpec> cache_quotas;

  bool tls() const { return !tls_cert.empty(); }
};

struct ConfigParseResult {
  enum class Action {
    kRun,    // *config is complete
    kHelp,   // --help was given: print UsageText() and exit 0
    kError,  // message says what is wrong: print it and exit 2
  };
  Action action = Action::kRun;
  std::string message;
};

// Looks up an environment variable; nullptr when unset. Tests pass their own.
using EnvLookup = std::function<const char*(const char* name)>;

// Parses argv[1..argc) over the defaults already in *config, with env fallbacks.
ConfigParseResult ParseConfig(int argc, const char* const* argv, const EnvLookup& getenv,
                              ServerConfig* config);

// The --help text: every flag, its environment variable and its default.
std::string UsageText();

// "16MiB" -> 16777216. False (leaving *bytes alone) on a malformed value or overflow.
bool ParseSize(std::string_view text, uint64_t* bytes);
// "500ms", "10s", "2m", "24h", "30" (seconds) -> milliseconds. False on a malformed value.
bool ParseDuration(std::string_view text, std::chrono::milliseconds* duration);
// --watch-retention: "N" (revisions), "DURATION" (with a unit: 24h, 90m) or "N,DURATION" (either
// order). A part left out is 0 (off). False when malformed, zero, or a part is repeated.
bool ParseWatchRetention(std::string_view text, uint64_t* revisions,
                         std::chrono::milliseconds* age);
// --cache-quota: "PREFIX=SIZE", several separated by commas ("bazel/=10GiB,gradle/=2GiB"); the
// size after the last '='. Appends to *specs; false and *error when malformed.
bool ParseCacheQuotas(std::string_view text, std::vector<CacheQuotaSpec>* specs,
                      std::string* error);
// "host:port" / "[v6]:port" / ":port" (all interfaces). False on a malformed address.
bool SplitHostPort(std::string_view addr, std::string* host, uint16_t* port);

}  // namespace keyva::server
