// The route table: every route of keyvad in one place — how its path matches, its metrics label,
// the methods it allows (the Allow header), what the rest of its path names, whether writes need
// the token, and the query parameters each method takes. Router::Resolve, Router::RouteLabel and
// the 405 answers all read it; a new route is one row here plus its handler.
//
// Also the one parser of integer query parameters (ttl, limit, by), with their ranges.
//
// Thread-safety: constant data and pure functions.
#pragma once

#include <array>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <ostream>  // Boost's verb.hpp uses std::ostream without including it
#include <string>
#include <string_view>

namespace keyva::server {

enum class RouteId {
  kWeb,
  kKv,
  kKvList,
  kSeq,
  kSeqList,  // GET /seq/: the counters
  kWatch,
  kHealth,
  kMetrics,
  kStats,
  kStatsHistory,  // GET /api/stats/history: the last minutes, sampled (stats_history.h)
  kCheckpoint,
  kLimits,
  kToken,  // GET /api/token: what the request's token may do (access_route.cc)
};

struct RouteSpec {
  RouteId id;
  std::string_view label;  // bounded metrics label: "/kv/{key}"
  std::string_view path;   // matched exactly, or as a prefix when prefix is true
  std::string_view alias;  // another exact path for the same route ("/kv" for "/kv/"), or ""
  bool prefix;             // path is a prefix; the rest names a key (see key_kind)
  std::string_view allow;  // the methods allowed, as the Allow header lists them
  const char* key_kind;    // what the rest of the path names ("key", "counter name"), or null
  bool writes_need_token;  // with tokens configured, PUT/POST/DELETE need one (access_route.cc)
  std::array<std::string_view, 6> read_params;   // query parameters of GET and HEAD ("": none)
  std::array<std::string_view, 3> write_params;  // query parameters of PUT and POST ("": none)
};

// A page of a listing holds at most this many keys (?limit=), and this many by default.
inline constexpr int64_t kListLimitMax = 1000;
inline constexpr int64_t kListLimitDefault = 100;

// PUT, POST, DELETE, LOCK and UNLOCK: the methods that change what is stored (they need the
// write or delete right, and are the writes of the latency figures).
bool IsWriteMethod(boost::beast::http::verb method);

// The route a request path belongs to; nullptr when none matches (the web page's files are
// looked up separately: RouteId::kWeb has no row).
const RouteSpec* FindRoute(std::string_view path);

// The rest of path after a prefix route's prefix ("" for its alias).
std::string_view RouteRest(const RouteSpec& route, std::string_view path);

// True when method (e.g. "PUT") is in route.allow.
bool RouteAllows(const RouteSpec& route, std::string_view method);

// An integer query parameter and the whole numbers it takes.
struct IntegerParam {
  std::string_view name;
  int64_t min;
  int64_t max;
  std::string_view unit;  // for the error message: "seconds", or ""
};

// The integer parameters of every route: ttl (1..10^10 seconds), limit (1..kMaxListLimit),
// by (any int64), since (a revision: 0..2^63-1).
const IntegerParam* FindIntegerParam(std::string_view name);

// Parses value as param requires. nullopt and *error (naming the parameter and its range) when
// it is not a whole number in range.
std::optional<int64_t> ParseIntegerParam(const IntegerParam& param, std::string_view value,
                                         std::string* error);

}  // namespace keyva::server
