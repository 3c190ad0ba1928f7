// The route table and integer query parameters; see route_table.h.
#include "internal/server/route_table.h"

#include <charconv>
#include <limits>

namespace keyva::server {
namespace {

constexpr int64_t kMaxTtlSeconds = int64_t{10'000'000'000};  // ~317 years

const RouteSpec kRoutes[] = {
    // Exact routes first: "/kv/" is the listing, "/kv/{key}" a value; "/seq/" and "/seq/{name}"
    // alike.
    {RouteId::kKvList,
     "/kv/",
     "/kv/",
     "/kv",
     false,
     "GET, HEAD",
     nullptr,
     false,
     {"prefix", "after", "limit", "delimiter", "glob", "contains"},
     {}},
    {RouteId::kKv,
     "/kv/{key}",
     "/kv/",
     "",
     true,
     "GET, HEAD, PUT, POST, DELETE, LOCK, UNLOCK",
     "key",
     true,
     {},
     {"ttl"}},
    {RouteId::kSeqList,
     "/seq/",
     "/seq/",
     "/seq",
     false,
     "GET, HEAD",
     nullptr,
     false,
     {"prefix", "after", "limit"},
     {}},
    {RouteId::kSeq,
     "/seq/{name}",
     "/seq/",
     "",
     true,
     "GET, HEAD, POST, DELETE",
     "counter name",
     true,
     {},
     {"by"}},
    {RouteId::kWatch,
     "/watch",
     "/watch",
     "",
     false,
     "GET",
     nullptr,
     false,
     {"prefix", "key", "since", "format", "wait", "limit"},
     {}},
    {RouteId::kHealth, "/healthz", "/healthz", "", false, "GET, HEAD", nullptr, false, {}, {}},
    {RouteId::kMetrics, "/metrics", "/metrics", "", false, "GET, HEAD", nullptr, false, {}, {}},
    {RouteId::kStats, "/api/stats", "/api/stats", "", false, "GET, HEAD", nullptr, false, {}, {}},
    {RouteId::kStatsHistory,
     "/api/stats/history",
     "/api/stats/history",
     "",
     false,
     "GET, HEAD",
     nullptr,
     false,
     {"since"},
     {}},
    {RouteId::kCheckpoint,
     "/api/checkpoint",
     "/api/checkpoint",
     "",
     false,
     "POST",
     nullptr,
     true,
     {},
     {"name"}},
    {RouteId::kLimits,
     "/api/limits",
     "/api/limits",
     "",
     false,
     "GET, HEAD",
     nullptr,
     false,
     {},
     {}},
    {RouteId::kToken, "/api/token", "/api/token", "", false, "GET, HEAD", nullptr, false, {}, {}},
};

const IntegerParam kIntegerParams[] = {
    {"ttl", 1, kMaxTtlSeconds, "seconds"},
    {"limit", 1, kListLimitMax, ""},
    {"by", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), ""},
    {"since", 0, std::numeric_limits<int64_t>::max(), ""},
};

}  // namespace

bool IsWriteMethod(boost::beast::http::verb m) {
  using boost::beast::http::verb;
  return m == verb::put || m == verb::post || m == verb::delete_ || m == verb::lock ||
         m == verb::unlock;
}

const RouteSpec* FindRoute(std::string_view path) {
  for (const RouteSpec& r : kRoutes) {
    if (path == r.path && !r.prefix) return &r;
    if (!r.alias.empty() && path == r.alias) return &r;
    if (r.prefix && path.substr(0, r.path.size()) == r.path) return &r;
  }
  return nullptr;
}

std::string_view RouteRest(const RouteSpec& route, std::string_view path) {
  if (!route.prefix || path.size() < route.path.size()) return {};
  return path.substr(route.path.size());
}

bool RouteAllows(const RouteSpec& route, std::string_view method) {
  std::string_view rest = route.allow;
  while (!rest.empty()) {
    const size_t comma = rest.find(", ");
    if (rest.substr(0, comma) == method) return true;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  return false;
}

const IntegerParam* FindIntegerParam(std::string_view name) {
  for (const IntegerParam& p : kIntegerParams) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::optional<int64_t> ParseIntegerParam(const IntegerParam& param, std::string_view value,
                                         std::string* error) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc() && ptr == value.data() + value.size() && n >= param.min && n <= param.max) {
    return n;
  }
  *error = std::string(param.name) + " must be a whole number" +
           (param.unit.empty() ? "" : " of " + std::string(param.unit)) + " from " +
           std::to_string(param.min) + " to " + std::to_string(param.max) + ", not '" +
           std::string(value.substr(0, 40)) + "'";
  return std::nullopt;
}

}  // namespace keyva::server
