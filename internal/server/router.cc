// Route resolution, header checks, and the admin and web-page routes; see router.h.
// The /kv and /seq handlers are in kv_routes.cc.
#include "internal/server/router.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <stdexcept>

#include "internal/server/content_encoding.h"
#include "internal/server/content_md5.h"
#include "internal/server/http_date.h"
#include "internal/server/key_pattern.h"
#include "internal/server/uri_decoding.h"
#include "internal/server/web_assets.h"

namespace keyva::server {
namespace {

Response MethodNotAllowed(std::string_view allow, const Request& req) {
  Response res = MakeErrorResponse(http::status::method_not_allowed,
                                   "method " + std::string(req.method_string()) +
                                       " is not allowed here; allowed: " + std::string(allow));
  res.set(http::field::allow, allow);
  return res;
}

// A HEAD response: the GET response's headers (with its Content-Length), no body.
Response StripBodyForHead(Response&& res) {
  if (res.has_content_length() || !res.body().empty()) {
    size_t n = res.body().size();
    res.body().clear();
    res.content_length(n);
  }
  return std::move(res);
}

}  // namespace

Router::Router(const ServerConfig& config, StorageThread* storage, ServerMetrics* metrics,
               AccessControl* access, AuditLog* audit, const StatsHistory* history)
    : config_(config),
      storage_(storage),
      metrics_(metrics),
      memory_(config.response_memory),
      owned_access_(access == nullptr ? std::make_unique<AccessControl>(config) : nullptr),
      access_(access == nullptr ? owned_access_.get() : access),
      audit_(audit),
      history_(history),
      started_unix_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count()),
      cors_([&config] {
        std::string error;  // ParseConfig checked it
        std::optional<CorsPolicy> cors = CorsPolicy::Parse(config.cors_origins, &error);
        if (!cors) throw std::invalid_argument("--cors-origins: " + error);
        return *cors;
      }()) {}

std::string_view Router::RouteLabel(std::string_view target) {
  std::string_view path, query;
  SplitTarget(target, &path, &query);
  if (const RouteSpec* route = FindRoute(path)) return route->label;
  if (FindWebAsset(path) != nullptr) return "/web";
  return "other";
}

std::optional<Response> Router::Resolve(const Request& req, Target* t) const {
  const http::verb method = req.method();
  std::string_view path, query;
  SplitTarget(req.target(), &path, &query);
  if (path.empty() || path.front() != '/') {
    return MakeErrorResponse(http::status::bad_request,
                             "the request target must be a path starting with '/'");
  }

  // 1. The route, and the methods it allows.
  const RouteSpec* route = FindRoute(path);
  static const RouteSpec kWebRoute{Route::kWeb, "/web",  "",    "", false,
                                   "GET, HEAD", nullptr, false, {}, {}};
  if (route == nullptr) {
    if (FindWebAsset(path) == nullptr) {
      return MakeErrorResponse(http::status::not_found,
                               "no such route: " + std::string(path.substr(0, 200)));
    }
    route = &kWebRoute;
    t->path = std::string(path);
  }
  t->route = route->id;
  if (route->id == Route::kKvList && IsWriteMethod(method)) {
    return MakeErrorResponse(http::status::bad_request,
                             "the key is empty: use /kv/{key} to write or delete a value");
  }
  if (route->id == Route::kSeqList && IsWriteMethod(method)) {
    return MakeErrorResponse(http::status::bad_request,
                             "the counter name is empty: use /seq/{name} to add to a counter");
  }
  // A CORS preflight: answered here, before the 405 check and before any token (cors.h).
  if (cors_.Inspect(req).preflight) return cors_.Preflight(req, route->allow);
  if (!RouteAllows(*route, req.method_string())) return MethodNotAllowed(route->allow, req);
  const std::string_view raw_key = RouteRest(*route, path);
  const char* key_kind = route->key_kind;

  // 2. Credentials (401), when this request needs a token.
  if (std::optional<Response> refused = Authenticate(req, *route, t)) return refused;

  // 3. The key.
  if (key_kind != nullptr) {
    if (!PercentDecode(raw_key, false, &t->key)) {
      return MakeErrorResponse(http::status::bad_request,
                               std::string("the ") + key_kind + " has a malformed %-escape");
    }
    if (t->key.empty()) {
      return MakeErrorResponse(http::status::bad_request,
                               std::string("the ") + key_kind + " is empty");
    }
    if (t->key.size() > config_.max_key_size) {
      return MakeErrorResponse(http::status::uri_too_long,
                               std::string("the ") + key_kind + " is " +
                                   std::to_string(t->key.size()) + " bytes; the limit is " +
                                   std::to_string(config_.max_key_size));
    }
    if (!IsValidUtf8(t->key)) {
      return MakeErrorResponse(http::status::bad_request,
                               std::string("the ") + key_kind + " is not valid UTF-8");
    }
  }

  // 4. The query string: only the parameters this route and method take.
  if (t->route != Route::kWeb) {  // the web page may use its own query parameters
    std::set<std::string_view> params;
    if (method == http::verb::put || method == http::verb::post) {
      params.insert(route->write_params.begin(), route->write_params.end());
    } else if (method == http::verb::get || method == http::verb::head) {
      params.insert(route->read_params.begin(), route->read_params.end());
    }
    if (t->route == Route::kKv && IsWriteMethod(method)) {
      // The lock id of a write to a locked key (key_lock.h); LOCK takes ttl too.
      params.insert(kLockIdParam);
      if (method == http::verb::lock) params.insert("ttl");
    }
    params.erase("");
    std::string error;
    if (!ParseQuery(query, params, &t->params, &error)) {
      return MakeErrorResponse(http::status::bad_request, error);
    }
  }
  for (const char* name : {"prefix", "after"}) {
    auto it = t->params.find(name);
    if (it != t->params.end() && it->second.size() > config_.max_key_size) {
      return MakeErrorResponse(
          http::status::uri_too_long,
          std::string("query parameter '") + name + "' is longer than the key size limit");
    }
  }
  for (const auto& [name, value] : t->params) {
    const IntegerParam* param = FindIntegerParam(name);
    if (param == nullptr) continue;
    std::string error;
    std::optional<int64_t> n = ParseIntegerParam(*param, value, &error);
    if (!n) return MakeErrorResponse(http::status::bad_request, error);
    if (name == "ttl") t->ttl = *n;
    if (name == "limit") t->limit = static_cast<size_t>(*n);
    if (name == "by") t->by = *n;
    if (name == "since") t->since = static_cast<uint64_t>(*n);
  }

  // The token's rights on the key or prefix (403).
  if (std::optional<Response> refused = Authorize(req, *t)) return refused;

  if (t->route == Route::kCheckpoint) {
    if (std::optional<Response> refused = CheckCheckpointRequest(*t)) return refused;
  }
  if (t->route == Route::kWatch) {
    if (std::optional<Response> refused = CheckWatchRequest(req, t)) return refused;
  }

  // 5. The body: a holder document (LOCK, UNLOCK) is small; a value needs a declared length
  // within the limit.
  if (t->route == Route::kKv && (method == http::verb::lock || method == http::verb::unlock)) {
    auto cl = req.find(http::field::content_length);
    uint64_t n = 0;
    if (cl != req.end()) {
      std::string_view v = cl->value();
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc()) n = UINT64_MAX;
    }
    if (n > kMaxLockDocumentSize) {
      return MakeErrorResponse(http::status::payload_too_large,
                               "the holder document is larger than the limit of " +
                                   std::to_string(kMaxLockDocumentSize) + " bytes");
    }
  }
  if (t->route == Route::kKv && (method == http::verb::put || method == http::verb::post)) {
    auto cl = req.find(http::field::content_length);
    if (cl == req.end() && !req.chunked()) {
      return MakeErrorResponse(http::status::length_required,
                               "a value needs a Content-Length (or a chunked body)");
    }
    if (cl != req.end()) {
      uint64_t n = 0;
      std::string_view v = cl->value();
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || n > config_.max_value_size) {
        return MakeErrorResponse(http::status::payload_too_large,
                                 "the value is larger than the limit of " +
                                     std::to_string(config_.max_value_size) + " bytes");
      }
      if (const CacheQuota* cache = storage_->caches().Find(t->key)) {
        const uint64_t entry_bytes = CacheQuota::EntryBytes(t->key, n);
        if (entry_bytes > cache->limit()) return CacheEntryTooLarge(*cache, entry_bytes);
      }
    }
  }
  return std::nullopt;
}

std::optional<Response> Router::CheckHeader(const Request& req) const {
  Target t;
  return Resolve(req, &t);
}

void Router::Handle(Request&& req, Responder respond) {
  // respond exactly once: a handler that throws after handing respond on is answered here, and
  // whatever it handed on is then ignored.
  auto responded = std::make_shared<std::atomic<bool>>(false);
  Responder once = [responded, inner = std::move(respond)](Response&& res) {
    if (!responded->exchange(true)) inner(std::move(res));
  };
  const std::string route(RouteLabel(req.target()));
  try {
    if (config_.fault_injection && req[kFaultInjectionHeader] == "throw-in-handler") {
      throw std::runtime_error("fault injected into the handler (X-Keyva-Fault)");
    }
    Dispatch(std::move(req), once);
  } catch (const std::exception& e) {
    metrics_->InternalError();
    spdlog::error("internal error handling a request for {}: {}", route, e.what());
    once(MakeErrorResponse(http::status::internal_server_error,
                           std::string("internal error: ") + e.what()));
  }
}

void Router::Dispatch(Request&& req, Responder respond) {
  if (req.method() == http::verb::head) {
    respond = [inner = std::move(respond)](Response&& res) {
      inner(StripBodyForHead(std::move(res)));
    };
  }
  Target t;
  if (std::optional<Response> err = Resolve(req, &t)) {
    respond(std::move(*err));
    return;
  }
  if (auto md5 = req.find(kContentMd5Header); md5 != req.end()) {
    std::string error;
    if (!ContentMd5Matches(md5->value(), req.body(), &error)) {
      respond(MakeErrorResponse(http::status::bad_request, error));
      return;
    }
  }
  if (audit_ != nullptr && audit_->enabled() && IsWriteMethod(req.method()) &&
      (t.route == Route::kKv || t.route == Route::kSeq)) {
    respond = [audit = audit_, token = t.token ? t.token->name() : std::string(),
               method = std::string(req.method_string()),
               space = std::string(t.route == Route::kKv ? "kv" : "seq"), key = t.key,
               inner = std::move(respond)](Response&& res) {
      auto etag = res.find(http::field::etag);
      audit->Record(token, method, space, key, res.result_int(),
                    etag == res.end() ? std::string_view() : std::string_view(etag->value()));
      inner(std::move(res));
    };
  }
  // GET and HEAD responses may be gzip/br coded (content_encoding.h); installed after the HEAD
  // wrapper, so HEAD reports the coded headers. Their responders run on this I/O thread.
  if ((req.method() == http::verb::get || req.method() == http::verb::head) &&
      config_.compress_min_size > 0) {
    respond = [plan = PlanEncoding(req, config_.compress_min_size), memory = &memory_,
               share_key = t.route == Route::kKv ? t.key : std::string(),
               inner = std::move(respond)](Response&& res) {
      EncodeResponse(plan, memory, share_key, &res);
      inner(std::move(res));
    };
  }
  switch (t.route) {
    case Route::kKv:
      switch (req.method()) {
        case http::verb::put:
        case http::verb::post:
          HandleKvPut(std::move(t), std::move(req), std::move(respond));
          return;
        case http::verb::delete_:
          HandleKvDelete(std::move(t), req, std::move(respond));
          return;
        case http::verb::lock:
          HandleKvLock(std::move(t), std::move(req), std::move(respond));
          return;
        case http::verb::unlock:
          HandleKvUnlock(std::move(t), std::move(req), std::move(respond));
          return;
        default:
          HandleKvGet(std::move(t), req, std::move(respond));
          return;
      }
    case Route::kKvList:
      HandleKvList(std::move(t), std::move(respond));
      return;
    case Route::kSeq:
      HandleSeq(std::move(t), req, std::move(respond));
      return;
    case Route::kSeqList:
      HandleSeqList(std::move(t), std::move(respond));
      return;
    case Route::kHealth:
      HandleHealth(std::move(respond));
      return;
    case Route::kMetrics:
      HandleMetrics(std::move(respond));
      return;
    case Route::kStats:
      HandleStats(std::move(respond));
      return;
    case Route::kStatsHistory:
      HandleStatsHistory(t, std::move(respond));
      return;
    case Route::kCheckpoint:
      HandleCheckpoint(std::move(t), std::move(respond));
      return;
    case Route::kLimits:
      HandleLimits(std::move(respond));
      return;
    case Route::kToken:
      HandleToken(t, std::move(respond));
      return;
    case Route::kWatch:
      // The session serves watches itself (OpenWatch): only an in-process caller gets here.
      respond(MakeErrorResponse(http::status::not_implemented,
                                "a watch needs a streaming HTTP session"));
      return;
    case Route::kWeb:
      HandleWeb(t, std::move(respond));
      return;
  }
}

void Router::Submit(StorageJob&& job, const Responder& respond) {
  if (!storage_->Submit(&job)) {
    respond(MakeErrorResponse(http::status::service_unavailable,
                              "the server is overloaded (its request queue is full); retry "
                              "shortly"));
  }
}

void Router::HandleHealth(Responder respond) {
  std::string error;
  if (!storage_->healthy(&error)) {
    respond(MakeErrorResponse(http::status::service_unavailable,
                              "the engine refuses writes after an I/O error: " + error));
    return;
  }
  respond(MakeJsonResponse(http::status::ok, {{"status", "ok"},
                                              {"queue_depth", storage_->QueueDepth()},
                                              {"queue_capacity", storage_->QueueCapacity()}}));
}

void Router::HandleMetrics(Responder respond) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = metrics_->RenderPrometheus(storage_->EngineStats(), *storage_, memory_);
  res.prepare_payload();
  respond(std::move(res));
}

void Router::HandleStats(Responder respond) {
  nlohmann::json server = metrics_->ServerJson(*storage_, memory_);
  server["version"] = KEYVA_VERSION;
  server["started"] = FormatIso8601(started_unix_ms_ * 1000);
  server["uptime_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  respond(MakeJsonResponse(http::status::ok, {{"engine", DBStatsJson(storage_->EngineStats())},
                                              {"engine_fields", EngineStatsFieldsJson()},
                                              {"server", std::move(server)}}));
}

void Router::HandleStatsHistory(const Target& t, Responder respond) {
  if (history_ == nullptr) {
    respond(MakeJsonResponse(
        http::status::ok,
        {{"interval_seconds", nullptr}, {"capacity", 0}, {"samples", nlohmann::json::array()}}));
    return;
  }
  std::optional<int64_t> since;  // Unix ms; Resolve parsed it (0..2^63-1)
  if (t.since) since = static_cast<int64_t>(*t.since);
  respond(MakeJsonResponse(http::status::ok, history_->Json(since)));
}

void Router::HandleLimits(Responder respond) {
  respond(
      MakeJsonResponse(http::status::ok, {{"max_key_size", config_.max_key_size},
                                          {"max_value_size", config_.max_value_size},
                                          {"max_content_type_size", kMaxContentTypeSize},
                                          {"list_limit_max", kMaxListLimit},
                                          {"list_limit_default", kDefaultListLimit},
                                          {"search_max_size", KeyPattern::kMaxSize},
                                          {"search_max_wildcards", KeyPattern::kMaxWildcards}}));
}

void Router::HandleWeb(const Target& t, Responder respond) {
  const WebAsset* asset = FindWebAsset(t.path);
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, asset->content_type);
  res.set(http::field::cache_control, "no-cache");
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
          "object-src 'none'; frame-src 'self' blob:; base-uri 'none'; frame-ancestors 'self'");
  res.set("Referrer-Policy", "no-referrer");
  res.body() = Payload::Static(asset->body);
  res.prepare_payload();
  respond(std::move(res));
}

}  // namespace keyva::server
