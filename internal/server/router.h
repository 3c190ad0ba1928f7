// Router: maps each HTTP request to its handler — the /kv, /seq, admin and web-page routes.
//
// Routes (see docs and DESIGN §4):
//   GET|HEAD|PUT|POST|DELETE /kv/{key}   a value ({key} = rest of the path, percent-decoded)
//   LOCK|UNLOCK /kv/{key}[?ttl=&ID=]      the key's lock (lock_routes.cc, key_lock.h): a held
//                                         lock refuses writes without its id (?ID= or
//                                         X-Keyva-Lock) with 423 and the holder's document
//   GET|HEAD /kv/?prefix=&after=&limit=   a page of keys
//   GET /watch?prefix=|key=&since=&format=&wait=&limit=
//                                         the change feed (watch_route.cc): served by the session
//                                         itself through OpenWatch, as SSE or a long poll
//   GET|HEAD|POST|DELETE /seq/{name}      a counter (POST ?by=N adds; GET of an unused counter
//                                         is 0; DELETE resets it and is 204 either way)
//   GET|HEAD /healthz, /metrics, /api/stats, / (and the other embedded web files)
//   GET|HEAD /api/limits                  the limits a client must respect (HandleLimits)
//   GET|HEAD /api/token                   what the request's token may do (HandleToken)
//   POST /api/checkpoint?name=NAME        a consistent copy of the database in
//                                         <--backup-dir>/NAME (checkpoint_route.cc)
//
// Work is split so the body is never read for a request that will be refused: CheckHeader runs
// on the header alone (route, method, key and query syntax, auth, body length), then the session
// reads the body and calls Handle. Handle answers directly (errors, health, web page, stats and
// metrics), runs a read on the calling I/O thread (GET/HEAD of values, listings, counter reads:
// StorageThread::Read over the published view), or submits a write as a StorageJob to the
// storage thread; a full storage channel is answered with 503 + Retry-After.
//
// Build caches (--cache-quota, cache_quota.h): a PUT under a cache prefix whose key + value
// exceed the quota is 413 — from the header when it has a Content-Length (before the body is read,
// and before any 100 Continue), else once the body is in; the storage thread evicts to make room
// for the others.
//
// Access (access_route.cc, with the tokens of access_control.h): when a token is configured,
// CheckHeader answers 401 (no, unknown or expired credentials; WWW-Authenticate offers Bearer
// and Basic) or 403 (the token lacks the right on the key; the body names both) before the body
// is read. Writes and deletes that reach a handler are recorded in the AuditLog.
//
// CORS (cors.h, --cors-origins): a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) on any route is answered by Resolve right after the route is
// found — before the 405 check and before any token is asked for; the session adds the CORS
// headers of every other response.
//
// Every response should carry X-Keyva-Revision: the handlers set it where they know the revision
// (writes, reads, listings); the session adds Revision() to the others.
//
// Thread-safety: CheckHeader, Handle, OpenWatch and Revision may be called from any I/O thread
// concurrently; the
// Responder is called exactly once, from an I/O thread or from the storage thread, so it must
// be safe to call from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "internal/server/access_control.h"
#include "internal/server/audit_log.h"
#include "internal/server/config.h"
#include "internal/server/cors.h"
#include "internal/server/http_response.h"
#include "internal/server/key_lock.h"
#include "internal/server/metrics.h"
#include "internal/server/response_memory.h"
#include "internal/server/route_table.h"
#include "internal/server/stats_history.h"
#include "internal/server/storage_thread.h"

namespace keyva::server {

class Router {
 public:
  using Responder = std::function<void(Response&&)>;

  // The largest ?limit= of a listing, and its default (route_table.h).
  static constexpr size_t kMaxListLimit = kListLimitMax;
  static constexpr size_t kDefaultListLimit = kListLimitDefault;
  // The longest Content-Type stored with a value.
  static constexpr size_t kMaxContentTypeSize = 256;

  // All must outlive the router. Without access, the router makes its own from
  // config.auth_token (no tokens file); without audit, writes are not audited.
  // Without history, /api/stats/history answers no samples.
  Router(const ServerConfig& config, StorageThread* storage, ServerMetrics* metrics,
         AccessControl* access = nullptr, AuditLog* audit = nullptr,
         const StatsHistory* history = nullptr);

  // The budget and sharing of value bytes held by responses in flight.
  const ResponseMemory& response_memory() const { return memory_; }

  // The route template of a request target ("/kv/{key}", "/kv/", "/seq/{name}", "/healthz",
  // "/metrics", "/api/stats", "/web", "other"): a bounded label for metrics and logs.
  static std::string_view RouteLabel(std::string_view target);

  // The checks that need only the header. Returns the error response to send (the body is then
  // not read), or nullopt when the request may proceed.
  std::optional<Response> CheckHeader(const Request& req) const;

  // Handles a complete request (header and body). respond is called exactly once, even when a
  // handler throws (500; the exception is logged and counted in /metrics).
  void Handle(Request&& req, Responder respond);

  // The newest published revision (the X-Keyva-Revision of responses that reflect no read).
  uint64_t Revision() const { return storage_->PublishedRevision(); }

  // GET /watch, which the session serves itself: it streams (SSE) or waits (a long poll).
  struct WatchOpening {
    std::optional<Response> refusal;      // send this instead (400, 410, 503)
    std::unique_ptr<WatchStream> stream;  // counts as an open watcher until destroyed
    bool sse = true;                      // false: NDJSON long poll
    std::chrono::milliseconds wait{0};    // long poll: how long to wait for a first change
    size_t max_events = 0;                // long poll: events per answer
  };
  static bool IsWatch(const Request& req);
  // Resolves the request (as CheckHeader does), checks its position against the retention, and
  // opens the stream.
  WatchOpening OpenWatch(const Request& req);
  // 410 {"error","status","oldest","revision"}: the feed no longer holds every change after since.
  Response GoneResponse(uint64_t since) const;
  WatchHub& hub() { return storage_->hub(); }
  const ServerConfig& config() const { return config_; }
  // --cors-origins (cors.h): Resolve answers preflights with it, the session adds its headers.
  const CorsPolicy& cors() const { return cors_; }

 private:
  // Handle without the exception guard.
  void Dispatch(Request&& req, Responder respond);
  using Route = RouteId;
  struct Target {
    Route route = Route::kWeb;
    std::string path;  // kWeb: the asset path
    std::string key;   // kKv: the key; kSeq: the counter name
    std::map<std::string, std::string> params;
    // The integer parameters, parsed once by Resolve (defaults when absent).
    int64_t ttl = 0;  // seconds; 0: never expires
    std::optional<size_t> limit;
    int64_t by = 1;
    std::optional<uint64_t> since;  // kWatch: ?since=, or Last-Event-ID
    // The request's token when the request needed one (access_control.h); null otherwise.
    std::shared_ptr<const AccessToken> token;
  };

  // Access (access_control.h): 401 when the request needs a token and has no valid one (sets
  // t->token otherwise), and the header's method and route need no key yet.
  std::optional<Response> Authenticate(const Request& req, const RouteSpec& route, Target* t) const;
  // 403 when t->token lacks the right the request needs (on its key, or listing/watch prefix).
  std::optional<Response> Authorize(const Request& req, const Target& t) const;

  // Resolves and validates the target; returns the error response when it is refused.
  std::optional<Response> Resolve(const Request& req, Target* target) const;

  void HandleKvGet(Target&& t, const Request& req, Responder respond);
  void HandleKvPut(Target&& t, Request&& req, Responder respond);
  void HandleKvDelete(Target&& t, const Request& req, Responder respond);
  // LOCK and UNLOCK of /kv/{key} (lock_routes.cc).
  void HandleKvLock(Target&& t, Request&& req, Responder respond);
  void HandleKvUnlock(Target&& t, Request&& req, Responder respond);
  // The lock id a write names (?ID=, X-Keyva-Lock, and the body's "ID" when with_body): the
  // 400 when they are malformed or differ, else nullopt and *id ("" when none).
  static std::optional<Response> LockIdOf(const Target& t, const Request& req, bool with_body,
                                          std::string* id);
  // 423 with the holder's document (HolderJson) plus "error" (doing: what was refused) and
  // "status".
  static Response LockedResponse(std::string_view key, const KeyLock& holder,
                                 std::string_view doing);
  // With a token that may read only some keys under the prefix, the page holds only those.
  void HandleKvList(Target&& t, Responder respond);
  void HandleSeq(Target&& t, const Request& req, Responder respond);
  void HandleSeqList(Target&& t, Responder respond);
  void HandleHealth(Responder respond);
  void HandleMetrics(Responder respond);
  void HandleStats(Responder respond);
  void HandleStatsHistory(const Target& t, Responder respond);
  // GET /api/limits: {"max_key_size", "max_value_size", "max_content_type_size",
  // "list_limit_max", "list_limit_default"}, from the config and the constants above.
  void HandleLimits(Responder respond);
  void HandleWeb(const Target& t, Responder respond);
  // GET /api/token (access_route.cc): {"token","rights":[{"right","scope","prefix"}],"expires",
  // "all","reads_open"} for the request's token; 401 without a valid one when tokens are
  // configured; without tokens, "all":true (everything is allowed).
  void HandleToken(const Target& t, Responder respond);
  // POST /api/checkpoint (checkpoint_route.cc): the header check (route enabled, valid name)
  // and the handler.
  std::optional<Response> CheckCheckpointRequest(const Target& t) const;
  // GET /watch (watch_route.cc): the checks of its parameters that need no state but the
  // published revision (since and Last-Event-ID, prefix vs key, format, wait).
  std::optional<Response> CheckWatchRequest(const Request& req, Target* t) const;
  void HandleCheckpoint(Target&& t, Responder respond);

  // 413: an entry of entry_bytes (key + value) does not fit in cache's quota at all
  // (kv_routes.cc; from the header when Content-Length tells, else from the storage thread).
  static Response CacheEntryTooLarge(const CacheQuota& cache, uint64_t entry_bytes);

  // Submits job, or answers 503 when the storage channel is full.
  void Submit(StorageJob&& job, const Responder& respond);

  const ServerConfig& config_;
  StorageThread* const storage_;
  ServerMetrics* const metrics_;
  ResponseMemory memory_;
  std::unique_ptr<AccessControl> owned_access_;  // when the constructor got none
  AccessControl* const access_;
  AuditLog* const audit_;              // may be null
  const StatsHistory* const history_;  // may be null
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const int64_t started_unix_ms_;
  const CorsPolicy cors_;
};

}  // namespace keyva::server
