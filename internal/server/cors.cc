// The CORS policy and its headers; see cors.h.
#include "internal/server/cors.h"

#include <algorithm>
#include <cctype>

#include "internal/server/header_text.h"

namespace keyva::server {
namespace {

// Calls f on each trimmed, non-empty item of a comma-separated list; stops when f returns false.
template <class F>
bool ForEachItem(std::string_view list, F&& f) {
  while (true) {
    const size_t comma = list.find(',');
    std::string_view item = TrimOws(list.substr(0, comma));
    if (!item.empty() && !f(item)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// "http://host[:port]" or "https://host[:port]" (lowercase), as a browser sends it.
bool IsSerializedOrigin(std::string_view o) {
  std::string_view rest;
  if (o.substr(0, 7) == "http://") {
    rest = o.substr(7);
  } else if (o.substr(0, 8) == "https://") {
    rest = o.substr(8);
  } else {
    return false;
  }
  if (rest.empty()) return false;
  std::string_view host = rest;
  if (host.front() == '[') {  // [v6]:port
    const size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    rest = host.substr(close + 1);
    host = {};
  } else {
    const size_t colon = host.find(':');
    rest = colon == std::string_view::npos ? std::string_view() : host.substr(colon);
    host = host.substr(0, colon);
    if (host.empty()) return false;
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        return false;
      }
    }
  }
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  return std::all_of(rest.begin() + 1, rest.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Header names compare case-insensitively, methods exactly.
bool ListHas(std::string_view list, std::string_view name, bool exact = false) {
  bool found = false;
  ForEachItem(list, [&](std::string_view item) {
    found = exact ? item == name : AsciiLower(item) == AsciiLower(name);
    return !found;
  });
  return found;
}

std::string_view Field(const RequestHeader& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view() : std::string_view(it->value());
}

}  // namespace

std::optional<CorsPolicy> CorsPolicy::Parse(std::string_view text, std::string* error) {
  CorsPolicy policy;
  if (TrimOws(text).empty()) return policy;
  if (TrimOws(text) == "*") {
    policy.any_ = true;
    return policy;
  }
  const bool ok = ForEachItem(text, [&](std::string_view item) {
    std::string origin = AsciiLower(item);
    while (!origin.empty() && origin.back() == '/') origin.pop_back();  // "https://a.example/"
    if (item == "*") {
      *error = "'*' allows every origin and cannot be combined with a list";
      return false;
    }
    if (!IsSerializedOrigin(origin)) {
      *error = "'" + std::string(item.substr(0, 200)) +
               "' is not an origin: expected http://HOST[:PORT] or https://HOST[:PORT] (no path)";
      return false;
    }
    policy.origins_.push_back(std::move(origin));
    return true;
  });
  if (!ok) return std::nullopt;
  return policy;
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_) return true;
  const std::string lower = AsciiLower(origin);
  return std::find(origins_.begin(), origins_.end(), lower) != origins_.end();
}

CorsPolicy::RequestInfo CorsPolicy::Inspect(const RequestHeader& req) const {
  RequestInfo info;
  if (!enabled()) return info;
  info.origin = std::string(Field(req, "Origin"));
  info.preflight = req.method() == http::verb::options && !info.origin.empty() &&
                   req.find("Access-Control-Request-Method") != req.end();
  return info;
}

Response CorsPolicy::Preflight(const RequestHeader& req, std::string_view allow) const {
  const std::string_view origin = Field(req, "Origin");
  const std::string_view method = TrimOws(Field(req, "Access-Control-Request-Method"));
  const std::string_view asked = Field(req, "Access-Control-Request-Headers");
  if (!Allows(origin)) {
    return MakeErrorResponse(
        http::status::forbidden,
        "the origin '" + std::string(origin.substr(0, 200)) + "' is not allowed (--cors-origins)");
  }
  if (method.empty() || !ListHas(allow, method, true)) {
    return MakeErrorResponse(http::status::forbidden,
                             "method " + std::string(method.substr(0, 40)) +
                                 " is not allowed here; allowed: " + std::string(allow));
  }
  std::string refused;
  ForEachItem(asked, [&](std::string_view name) {
    if (!ListHas(kAllowedHeaders, name)) refused = std::string(name.substr(0, 100));
    return refused.empty();
  });
  if (!refused.empty()) {
    return MakeErrorResponse(http::status::forbidden,
                             "the request header '" + refused +
                                 "' is not allowed; allowed: " + std::string(kAllowedHeaders));
  }
  Response res{http::status::no_content, 11};
  res.set(http::field::access_control_allow_origin, any_ ? std::string("*") : std::string(origin));
  if (!any_) res.set(http::field::access_control_allow_credentials, "true");
  res.set(http::field::access_control_allow_methods, allow);
  res.set(http::field::access_control_allow_headers,
          TrimOws(asked).empty() ? kAllowedHeaders : TrimOws(asked));
  res.set(http::field::access_control_max_age, std::to_string(kMaxAge.count()));
  return res;
}

std::vector<std::pair<std::string_view, std::string>> CorsPolicy::ResponseHeaders(
    const RequestInfo& info) const {
  std::vector<std::pair<std::string_view, std::string>> headers;
  if (!enabled()) return headers;
  headers.emplace_back("Vary", "Origin");
  if (info.preflight || !Allows(info.origin)) return headers;
  headers.emplace_back("Access-Control-Allow-Origin", any_ ? "*" : info.origin);
  if (!any_) headers.emplace_back("Access-Control-Allow-Credentials", "true");
  headers.emplace_back("Access-Control-Expose-Headers", kExposedHeaders);
  return headers;
}

void CorsPolicy::Decorate(const RequestInfo& info, Response* res) const {
  for (auto& [name, value] : ResponseHeaders(info)) {
    if (name == "Vary") {
      auto it = res->find(http::field::vary);
      if (it != res->end() && !ListHas(it->value(), value)) {
        value = std::string(it->value()) + ", " + value;
      } else if (it != res->end()) {
        continue;
      }
    }
    res->set(name, value);
  }
}

}  // namespace keyva::server
