// CorsPolicy: which web origins may call keyvad from a browser (--cors-origins), and the
// Cross-Origin Resource Sharing headers that say so.
//
// --cors-origins is "*" (any origin, never with credentials) or a comma-separated list of origins
// ("https://app.example.com,http://localhost:3000": scheme http or https, a host, an optional
// port; no path, no "null"). Origins are compared case-insensitively, as browsers serialize them.
// Without the flag the policy is off and adds nothing: responses are exactly as without CORS.
//
// With it:
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by
//     Preflight() before any token is asked for (browsers send none): 204 with
//     Access-Control-Allow-Origin (the origin itself for a list, "*" for "*"),
//     Access-Control-Allow-Methods (the route's Allow list, route_table.h),
//     Access-Control-Allow-Headers (the asked headers, each one keyva reads: kAllowedHeaders),
//     Access-Control-Max-Age and, for a listed origin, Access-Control-Allow-Credentials: true.
//     An origin not allowed, or a method or header not allowed, gets 403 with a JSON body naming
//     what was refused and none of those headers, so the browser blocks the request.
//   - Every other response to a request from an allowed origin (errors and watches too) gets
//     ResponseHeaders(): Access-Control-Allow-Origin, Access-Control-Expose-Headers
//     (kExposedHeaders), and Access-Control-Allow-Credentials: true for a listed origin.
//   - Every response carries Vary: Origin (the answer depends on it).
//
// Thread-safety: immutable once parsed; the functions are const or pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "internal/server/http_response.h"

namespace keyva::server {

class CorsPolicy {
 public:
  // The request headers keyva reads, which a preflight may ask for (Access-Control-Allow-Headers).
  static constexpr std::string_view kAllowedHeaders =
      "Authorization, Content-Type, If-Match, If-None-Match, If-Unmodified-Since, Last-Event-ID";
  // The response headers a page may read (Access-Control-Expose-Headers).
  static constexpr std::string_view kExposedHeaders =
      "ETag, Last-Modified, Expires, X-Keyva-Revision, Location, Retry-After, WWW-Authenticate, "
      "Allow, Content-Length";
  // How long a browser may cache a preflight's answer.
  static constexpr std::chrono::seconds kMaxAge{600};

  // Off: adds no header, answers no preflight.
  CorsPolicy() = default;
  // Parses --cors-origins ("" is off). nullopt and *error (naming the bad origin) when malformed.
  static std::optional<CorsPolicy> Parse(std::string_view text, std::string* error);

  bool enabled() const { return any_ || !origins_.empty(); }
  // True for "*".
  bool any_origin() const { return any_; }
  // True when a request with this Origin header value may read the responses.
  bool Allows(std::string_view origin) const;

  // What a request says about CORS, kept by the session for its response.
  struct RequestInfo {
    std::string origin;      // the Origin header ("" when none)
    bool preflight = false;  // OPTIONS with Origin and Access-Control-Request-Method
  };
  RequestInfo Inspect(const RequestHeader& req) const;

  // The answer to a preflight (REQUIRES: Inspect(req).preflight) for a route allowing allow
  // ("GET, HEAD, PUT": the Allow list): 204 with the Access-Control-Allow-* headers, or 403.
  Response Preflight(const RequestHeader& req, std::string_view allow) const;

  // The headers of a response to a request that is not a preflight: none when the policy is off,
  // only Vary when the origin is missing or not allowed.
  std::vector<std::pair<std::string_view, std::string>> ResponseHeaders(
      const RequestInfo& info) const;
  // Adds ResponseHeaders(info) to res (Vary: Origin appended to any Vary it has). A preflight's
  // answer (info.preflight) only gets Vary: its other headers are Preflight()'s.
  void Decorate(const RequestInfo& info, Response* res) const;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;  // lowercase
};

}  // namespace keyva::server
