// Unit tests of CorsPolicy (cors.h): parsing --cors-origins, origin matching, the preflight's
// answer and the headers of other responses.
#include "internal/server/cors.h"

#include <catch2/catch.hpp>

namespace keyva::server {
namespace {

CorsPolicy MustParse(std::string_view text) {
  std::string error;
  std::optional<CorsPolicy> p = CorsPolicy::Parse(text, &error);
  INFO(error);
  REQUIRE(p);
  return *p;
}

RequestHeader Preflight(std::string_view origin, std::string_view method,
                        std::string_view headers = "") {
  RequestHeader req;
  req.method(http::verb::options);
  req.target("/kv/a");
  if (!origin.empty()) req.set("Origin", origin);
  req.set("Access-Control-Request-Method", method);
  if (!headers.empty()) req.set("Access-Control-Request-Headers", headers);
  return req;
}

std::string Get(const Response& res, std::string_view name) {
  auto it = res.find(name);
  return it == res.end() ? std::string() : std::string(it->value());
}

constexpr std::string_view kKvAllow = "GET, HEAD, PUT, POST, DELETE";

TEST_CASE("cors: --cors-origins parses '*', lists, and refuses what is no origin") {
  CHECK_FALSE(MustParse("").enabled());
  CHECK(MustParse("*").any_origin());
  CorsPolicy list = MustParse("https://App.Example.com, http://localhost:3000,http://[::1]:8080/");
  CHECK(list.enabled());
  CHECK_FALSE(list.any_origin());
  CHECK(list.Allows("https://app.example.com"));
  CHECK(list.Allows("HTTPS://APP.EXAMPLE.COM"));
  CHECK(list.Allows("http://localhost:3000"));
  CHECK(list.Allows("http://[::1]:8080"));
  CHECK_FALSE(list.Allows("http://localhost:3001"));
  CHECK_FALSE(list.Allows("http://app.example.com"));  // another scheme is another origin
  CHECK_FALSE(list.Allows("https://app.example.com.evil.test"));
  CHECK_FALSE(list.Allows("null"));
  CHECK_FALSE(list.Allows(""));

  for (const char* bad : {"app.example.com", "ftp://x", "https://", "https://a/b", "null",
                          "http://a:port", "http://a,*", "https://a b"}) {
    std::string error;
    INFO(bad);
    CHECK_FALSE(CorsPolicy::Parse(bad, &error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("cors: a preflight from a listed origin gets the route's methods and the asked headers") {
  CorsPolicy p = MustParse("http://localhost:3000");
  RequestHeader req = Preflight("http://localhost:3000", "PUT", "authorization,if-match");
  REQUIRE(p.Inspect(req).preflight);
  Response res = p.Preflight(req, kKvAllow);
  CHECK(res.result() == http::status::no_content);
  CHECK(Get(res, "Access-Control-Allow-Origin") == "http://localhost:3000");
  CHECK(Get(res, "Access-Control-Allow-Credentials") == "true");
  CHECK(Get(res, "Access-Control-Allow-Methods") == kKvAllow);
  CHECK(Get(res, "Access-Control-Allow-Headers") == "authorization,if-match");
  CHECK(Get(res, "Access-Control-Max-Age") == "600");

  // Nothing asked: every header keyva reads.
  Response plain = p.Preflight(Preflight("http://localhost:3000", "DELETE"), kKvAllow);
  CHECK(Get(plain, "Access-Control-Allow-Headers") == CorsPolicy::kAllowedHeaders);
}

TEST_CASE("cors: '*' answers any origin with '*' and never allows credentials") {
  CorsPolicy p = MustParse("*");
  Response res = p.Preflight(Preflight("https://anywhere.test", "GET"), "GET, HEAD");
  CHECK(res.result() == http::status::no_content);
  CHECK(Get(res, "Access-Control-Allow-Origin") == "*");
  CHECK_FALSE(res.count("Access-Control-Allow-Credentials"));

  Response actual{http::status::ok, 11};
  p.Decorate({"https://anywhere.test", false}, &actual);
  CHECK(Get(actual, "Access-Control-Allow-Origin") == "*");
  CHECK_FALSE(actual.count("Access-Control-Allow-Credentials"));
  CHECK(Get(actual, "Access-Control-Expose-Headers") == CorsPolicy::kExposedHeaders);
}

TEST_CASE("cors: a refused preflight is a 403 without any Allow header") {
  CorsPolicy p = MustParse("http://localhost:3000");
  struct Case {
    RequestHeader req;
    std::string allow;
    std::string error_has;
  } cases[] = {
      {Preflight("http://localhost:4000", "GET"), std::string(kKvAllow), "origin"},
      {Preflight("http://localhost:3000", "PATCH"), std::string(kKvAllow), "PATCH"},
      {Preflight("http://localhost:3000", "put"), std::string(kKvAllow), "put"},  // exact case
      {Preflight("http://localhost:3000", "PUT"), "GET, HEAD", "PUT"},
      {Preflight("http://localhost:3000", "PUT", "if-match, x-secret"), std::string(kKvAllow),
       "x-secret"},
  };
  for (const Case& c : cases) {
    INFO(c.error_has);
    Response res = p.Preflight(c.req, c.allow);
    CHECK(res.result() == http::status::forbidden);
    CHECK(Get(res, "Content-Type") == "application/json");
    CHECK(res.body().view().find(c.error_has) != std::string_view::npos);
    for (const char* name : {"Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                             "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials"}) {
      CHECK_FALSE(res.count(name));
    }
    // The session's decoration of a preflight's answer adds only Vary.
    p.Decorate(p.Inspect(c.req), &res);
    CHECK_FALSE(res.count("Access-Control-Allow-Origin"));
    CHECK(Get(res, "Vary") == "Origin");
  }
}

TEST_CASE("cors: other responses carry the headers for allowed origins only, Vary always") {
  CorsPolicy p = MustParse("https://app.example.com");
  Response allowed{http::status::not_found, 11};
  allowed.set(http::field::vary, "Accept-Encoding");
  p.Decorate({"https://app.example.com", false}, &allowed);
  CHECK(Get(allowed, "Access-Control-Allow-Origin") == "https://app.example.com");
  CHECK(Get(allowed, "Access-Control-Allow-Credentials") == "true");
  CHECK(Get(allowed, "Access-Control-Expose-Headers") == CorsPolicy::kExposedHeaders);
  CHECK(Get(allowed, "Vary") == "Accept-Encoding, Origin");

  Response other{http::status::ok, 11};
  p.Decorate({"https://other.example.com", false}, &other);
  CHECK_FALSE(other.count("Access-Control-Allow-Origin"));
  CHECK(Get(other, "Vary") == "Origin");

  Response none{http::status::ok, 11};
  p.Decorate({}, &none);
  CHECK_FALSE(none.count("Access-Control-Allow-Origin"));

  // Off: nothing at all, and nothing is a preflight.
  CorsPolicy off;
  Response res{http::status::ok, 11};
  RequestHeader req = Preflight("https://app.example.com", "PUT");
  CHECK_FALSE(off.Inspect(req).preflight);
  off.Decorate(off.Inspect(req), &res);
  CHECK(res.begin() == res.end());
}

}  // namespace
}  // namespace keyva::server
