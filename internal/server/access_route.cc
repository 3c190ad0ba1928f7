// Who may do what: the 401 and 403 checks of Router::Resolve (router.h, access_control.h).
//
// Which right a request needs:
//   GET|HEAD /kv/{key}             read:kv over the key      (only with --auth-reads)
//   PUT|POST /kv/{key}             write:kv over the key
//   DELETE /kv/{key}               delete:kv over the key
//   LOCK|UNLOCK /kv/{key}          write:kv over the key
//   GET|HEAD /kv/?prefix=P         read:kv over some key under P (the page holds only the
//                                  readable ones; only with --auth-reads)
//   GET|HEAD /seq/{name}           read:seq; POST write:seq; DELETE delete:seq (a reset)
//   GET /watch?prefix=P|key=K      read:kv or read:seq over some key under P, or over K (events
//                                  on other keys are left out; only with --auth-reads)
//   POST /api/checkpoint           admin
//   GET|HEAD /api/stats, /metrics  admin (only with --auth-reads)
//   GET|HEAD /api/token            a valid token, any right (when tokens are configured)
//   /healthz, /api/limits, the web page: never a token.
//
// 401 {"error","status"} with WWW-Authenticate: Bearer realm="keyva", Basic realm="keyva" when
// the request needs a token and has none, an unknown one or an expired one. 403
// {"error","status","token","right","key"} when the token is known but lacks the right.
#include <chrono>

#include "internal/server/http_date.h"
#include "internal/server/router.h"

namespace keyva::server {
namespace {

bool IsReadRoute(RouteId id) {
  return id == RouteId::kKv || id == RouteId::kKvList || id == RouteId::kSeq ||
         id == RouteId::kSeqList || id == RouteId::kWatch || id == RouteId::kStats ||
         id == RouteId::kMetrics;
}

Response Unauthorized(std::string_view message) {
  Response res = MakeErrorResponse(http::status::unauthorized, message);
  res.set(http::field::www_authenticate, "Bearer realm=\"keyva\", Basic realm=\"keyva\"");
  return res;
}

Response Forbidden(const AccessToken& token, Right right, std::optional<KeySpace> space,
                   std::string_view key, std::string_view what) {
  std::string needed(RightName(right));
  nlohmann::json body = {{"status", 403}, {"token", token.name()}};
  std::string message = "token '" + token.name() + "' lacks the right " + needed;
  if (space) {
    Grant g{right, *space, std::string(key)};
    needed = FormatGrant(g);
    message = "token '" + token.name() + "' may not " + std::string(RightName(right)) + " " +
              std::string(what) + " (it needs the right " + needed + ")";
    body["key"] = std::string(key);
  }
  body["right"] = needed;
  body["error"] = message;
  return MakeJsonResponse(http::status::forbidden, body);
}

std::string Quoted(std::string_view kind, std::string_view key) {
  return std::string(kind) + " '" + std::string(key.substr(0, 200)) + "'";
}

nlohmann::json GrantJson(const Grant& g) {
  nlohmann::json j = {{"right", RightName(g.right)}};
  if (g.right != Right::kAdmin) {
    j["scope"] = KeySpaceName(g.space);
    j["prefix"] = g.prefix;
  }
  return j;
}

}  // namespace

void Router::HandleToken(const Target& t, Responder respond) {
  nlohmann::json rights = nlohmann::json::array();
  nlohmann::json body = {{"token", nullptr}, {"expires", nullptr}};
  if (t.token) {
    for (const Grant& g : t.token->grants()) rights.push_back(GrantJson(g));
    body["token"] = t.token->name();
    if (const auto& expires = t.token->expires()) {
      body["expires"] = FormatIso8601(
          std::chrono::duration_cast<std::chrono::microseconds>(expires->time_since_epoch())
              .count());
    }
  } else {  // no tokens configured: every right
    for (const Grant& g : AllGrants()) rights.push_back(GrantJson(g));
  }
  body["rights"] = std::move(rights);
  body["all"] = !access_->enabled();
  body["reads_open"] = !access_->auth_reads();
  respond(MakeJsonResponse(http::status::ok, body));
}

std::optional<Response> Router::Authenticate(const Request& req, const RouteSpec& route,
                                             Target* t) const {
  if (!access_->enabled()) return std::nullopt;
  const bool needs =
      route.id == RouteId::kToken || (IsWriteMethod(req.method()) && route.writes_need_token) ||
      (access_->auth_reads() && !IsWriteMethod(req.method()) && IsReadRoute(route.id));
  if (!needs) return std::nullopt;
  auto auth = req.find(http::field::authorization);
  AccessControl::Identity id = access_->Identify(
      auth != req.end(), auth != req.end() ? std::string_view(auth->value()) : std::string_view(),
      std::chrono::system_clock::now());
  switch (id.outcome) {
    case AccessControl::Identity::Outcome::kMissing:
      return Unauthorized(
          "this request needs a token: 'Authorization: Bearer <token>', or Basic auth with the "
          "token as the password");
    case AccessControl::Identity::Outcome::kInvalid:
      return Unauthorized("the token is not valid");
    case AccessControl::Identity::Outcome::kExpired:
      return Unauthorized("the token has expired");
    case AccessControl::Identity::Outcome::kOk:
      break;
  }
  t->token = std::move(id.token);
  return std::nullopt;
}

std::optional<Response> Router::Authorize(const Request& req, const Target& t) const {
  if (!t.token) return std::nullopt;
  const AccessToken& token = *t.token;
  const http::verb method = req.method();
  const Right verb = method == http::verb::delete_ ? Right::kDelete
                     : IsWriteMethod(method)       ? Right::kWrite
                                                   : Right::kRead;
  auto param = [&](const char* name) {
    auto it = t.params.find(name);
    return it == t.params.end() ? std::string() : it->second;
  };
  switch (t.route) {
    case Route::kKv:
      if (token.Allows(verb, KeySpace::kKv, t.key)) return std::nullopt;
      return Forbidden(token, verb, KeySpace::kKv, t.key, Quoted("key", t.key));
    case Route::kSeq:
      if (token.Allows(verb, KeySpace::kSeq, t.key)) return std::nullopt;
      return Forbidden(token, verb, KeySpace::kSeq, t.key, Quoted("counter", t.key));
    case Route::kKvList: {
      const std::string prefix = param("prefix");
      if (token.CanReadSome(KeySpace::kKv, prefix)) return std::nullopt;
      return Forbidden(token, Right::kRead, KeySpace::kKv, prefix,
                       "any key under " + Quoted("prefix", prefix));
    }
    case Route::kSeqList: {
      const std::string prefix = param("prefix");
      if (token.CanReadSome(KeySpace::kSeq, prefix)) return std::nullopt;
      return Forbidden(token, Right::kRead, KeySpace::kSeq, prefix,
                       "any counter under " + Quoted("prefix", prefix));
    }
    case Route::kWatch: {
      if (t.params.count("key") != 0) {
        const std::string key = param("key");
        if (token.Allows(Right::kRead, KeySpace::kKv, key) ||
            token.Allows(Right::kRead, KeySpace::kSeq, key)) {
          return std::nullopt;
        }
        return Forbidden(token, Right::kRead, KeySpace::kKv, key, Quoted("key", key));
      }
      const std::string prefix = param("prefix");
      if (token.CanReadSome(KeySpace::kKv, prefix) || token.CanReadSome(KeySpace::kSeq, prefix)) {
        return std::nullopt;
      }
      return Forbidden(token, Right::kRead, KeySpace::kKv, prefix,
                       "any key under " + Quoted("prefix", prefix));
    }
    case Route::kCheckpoint:
    case Route::kStats:
    case Route::kStatsHistory:
    case Route::kMetrics:
      if (token.Allows(Right::kAdmin, KeySpace::kKv, "")) return std::nullopt;
      return Forbidden(token, Right::kAdmin, std::nullopt, "", "");
    default:
      return std::nullopt;
  }
}

}  // namespace keyva::server
