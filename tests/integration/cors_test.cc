// Integration tests of --cors-origins against the real keyvad: preflights (allowed, refused
// origin, method or header; no token needed), actual requests and their errors (401, 403, 404,
// 405), watches, '*' without credentials, and no CORS at all without the flag.
#include <catch2/catch.hpp>
#include <string>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/token_file.h"

namespace keyva::testing {
namespace {

constexpr const char* kApp = "http://app.test:3000";
constexpr const char* kOther = "https://b.example";
constexpr const char* kEvil = "http://evil.test";

Headers PreflightHeaders(const std::string& origin, const std::string& method,
                         const std::string& asked = "") {
  Headers h = {{"Origin", origin}, {"Access-Control-Request-Method", method}};
  if (!asked.empty()) h.emplace_back("Access-Control-Request-Headers", asked);
  return h;
}

void CheckNoAllowHeaders(const HttpReply& r) {
  for (const char* name : {"access-control-allow-origin", "access-control-allow-methods",
                           "access-control-allow-headers", "access-control-allow-credentials",
                           "access-control-expose-headers"}) {
    INFO(name);
    CHECK_FALSE(r.HasHeader(name));
  }
}

// The CORS headers of an actual response to a listed origin.
void CheckActualHeaders(const HttpReply& r, const std::string& origin) {
  CHECK(r.Header("access-control-allow-origin") == origin);
  CHECK(r.Header("access-control-allow-credentials") == "true");
  const std::string exposed = r.Header("access-control-expose-headers");
  for (const char* name : {"ETag", "X-Keyva-Revision", "Last-Modified", "Location", "Retry-After",
                           "WWW-Authenticate", "Content-Length"}) {
    INFO(name);
    CHECK(exposed.find(name) != std::string::npos);
  }
  CHECK(r.Header("vary").find("Origin") != std::string::npos);
}

struct Server {
  TempDir dir;
  std::unique_ptr<KeyvadProcess> keyvad;
  explicit Server(const std::string& origins) {
    WriteFile(dir.path() + "/tokens", TokenLine("all", "all-tok", "read write delete admin") +
                                          TokenLine("pub", "pub-tok", "read:kv/pub/"));
    keyvad = std::make_unique<KeyvadProcess>(KeyvadProcess::Options{
        .args = {"--cors-origins=" + origins, "--tokens-file=" + dir.path() + "/tokens",
                 "--auth-reads"}});
  }
};

TEST_CASE("cors: a preflight from a listed origin is answered before any token") {
  Server s(std::string(kApp) + ", " + kOther);
  HttpTestClient c(s.keyvad->port());

  HttpReply r = c.Send("OPTIONS", "/kv/cfg/app", "",
                       PreflightHeaders(kApp, "PUT", "authorization,if-match,content-type"));
  CHECK(r.status == 204);
  CHECK(r.Header("access-control-allow-origin") == kApp);
  CHECK(r.Header("access-control-allow-credentials") == "true");
  CHECK(r.Header("access-control-allow-methods") == "GET, HEAD, PUT, POST, DELETE, LOCK, UNLOCK");
  CHECK(r.Header("access-control-allow-headers") == "authorization,if-match,content-type");
  CHECK(r.Header("access-control-max-age") == "600");
  CHECK(r.Header("vary") == "Origin");
  CHECK_FALSE(r.HasHeader("www-authenticate"));

  // The methods are each route's own.
  r = c.Send("OPTIONS", "/seq/hits", "", PreflightHeaders(kOther, "POST"));
  CHECK(r.status == 204);
  CHECK(r.Header("access-control-allow-origin") == kOther);
  CHECK(r.Header("access-control-allow-methods") == "GET, HEAD, POST, DELETE");
  r = c.Send("OPTIONS", "/watch?prefix=a/", "", PreflightHeaders(kApp, "GET", "last-event-id"));
  CHECK(r.status == 204);
  CHECK(r.Header("access-control-allow-methods") == "GET");
  CHECK(r.Header("access-control-allow-headers") == "last-event-id");
}

TEST_CASE("cors: a refused preflight is a JSON 403 without the Allow headers") {
  Server s(kApp);
  HttpTestClient c(s.keyvad->port());
  struct Case {
    std::string target;
    Headers headers;
    std::string error_has;
  } cases[] = {
      {"/kv/a", PreflightHeaders(kEvil, "PUT"), "origin 'http://evil.test' is not allowed"},
      {"/kv/a", PreflightHeaders(kApp, "PATCH"), "method PATCH is not allowed"},
      {"/seq/a", PreflightHeaders(kApp, "PUT"), "allowed: GET, HEAD, POST, DELETE"},
      {"/kv/a", PreflightHeaders(kApp, "PUT", "if-match, x-secret"), "'x-secret'"},
  };
  for (const Case& k : cases) {
    INFO(k.error_has);
    HttpReply r = c.Send("OPTIONS", k.target, "", k.headers);
    CHECK(r.status == 403);
    CHECK(r.Json()["status"] == 403);
    CHECK(r.Json()["error"].get<std::string>().find(k.error_has) != std::string::npos);
    CheckNoAllowHeaders(r);
    CHECK(r.Header("vary") == "Origin");
  }
  // Nothing was written by any of them.
  CHECK(c.Send("GET", "/kv/?prefix=", "", {{"Authorization", "Bearer all-tok"}}).Json()["keys"] ==
        nlohmann::json::array());
}

TEST_CASE("cors: actual requests and their errors carry the CORS headers for allowed origins") {
  Server s(kApp);
  HttpTestClient c(s.keyvad->port());
  const Headers app_all = {{"Origin", kApp}, {"Authorization", "Bearer all-tok"}};

  HttpReply put = c.Send("PUT", "/kv/pub/k", "v", app_all);
  CHECK(put.status == 201);
  CheckActualHeaders(put, kApp);
  HttpReply get = c.Send("GET", "/kv/pub/k", "", app_all);
  CHECK(get.status == 200);
  CheckActualHeaders(get, kApp);
  CHECK_FALSE(get.Header("etag").empty());

  // Errors too, so the page can read their JSON.
  HttpReply unauthorized = c.Send("GET", "/kv/pub/k", "", {{"Origin", kApp}});
  CHECK(unauthorized.status == 401);
  CheckActualHeaders(unauthorized, kApp);
  HttpReply forbidden =
      c.Send("PUT", "/kv/pub/k", "w", {{"Origin", kApp}, {"Authorization", "Bearer pub-tok"}});
  CHECK(forbidden.status == 403);
  CHECK(forbidden.Json()["right"] == "write:kv/pub/k");
  CheckActualHeaders(forbidden, kApp);
  HttpReply missing = c.Send("GET", "/kv/none", "", app_all);
  CHECK(missing.status == 404);
  CheckActualHeaders(missing, kApp);
  HttpReply patch = c.Send("PATCH", "/kv/pub/k", "", app_all);
  CHECK(patch.status == 405);
  CheckActualHeaders(patch, kApp);
  // OPTIONS that is no preflight (no Access-Control-Request-Method) is a 405 as without CORS.
  HttpReply options = c.Send("OPTIONS", "/kv/pub/k", "", {{"Origin", kApp}});
  CHECK(options.status == 405);
  CHECK(options.Header("allow") == "GET, HEAD, PUT, POST, DELETE, LOCK, UNLOCK");

  // Another origin gets the answer (browsers enforce CORS) but no CORS headers, so its page
  // cannot read it; requests without Origin get none either.
  for (const Headers& h : {Headers{{"Origin", kEvil}, {"Authorization", "Bearer all-tok"}},
                           Headers{{"Authorization", "Bearer all-tok"}}}) {
    HttpReply r = c.Send("GET", "/kv/pub/k", "", h);
    CHECK(r.status == 200);
    CheckNoAllowHeaders(r);
    CHECK(r.Header("vary") == "Origin");
  }
}

TEST_CASE("cors: watches (SSE and long poll) carry the CORS headers") {
  Server s(kApp);
  HttpTestClient c(s.keyvad->port());
  const std::string revision = c.Get("/healthz").Header("x-keyva-revision");
  HttpReply poll = c.Send("GET", "/watch?since=" + revision + "&format=ndjson&wait=0", "",
                          {{"Origin", kApp}, {"Authorization", "Bearer all-tok"}});
  CHECK(poll.status == 200);
  CheckActualHeaders(poll, kApp);

  RawConnection sse(s.keyvad->port());
  sse.Write(std::string("GET /watch?prefix=a/ HTTP/1.1\r\nHost: x\r\nOrigin: ") + kApp +
            "\r\nAuthorization: Bearer all-tok\r\n\r\n");
  const std::string head = sse.ReadUntil("retry: 1000");
  CHECK(StatusOf(head) == 200);
  CHECK(head.find(std::string("Access-Control-Allow-Origin: ") + kApp + "\r\n") !=
        std::string::npos);
  CHECK(head.find("Access-Control-Allow-Credentials: true\r\n") != std::string::npos);
  CHECK(head.find("Access-Control-Expose-Headers: ETag") != std::string::npos);
  CHECK(head.find("Vary: Origin\r\n") != std::string::npos);
}

TEST_CASE("cors: '*' answers every origin with '*' and never with credentials") {
  Server s("*");
  HttpTestClient c(s.keyvad->port());
  HttpReply pre = c.Send("OPTIONS", "/kv/a", "", PreflightHeaders(kEvil, "DELETE"));
  CHECK(pre.status == 204);
  CHECK(pre.Header("access-control-allow-origin") == "*");
  CHECK_FALSE(pre.HasHeader("access-control-allow-credentials"));
  HttpReply get =
      c.Send("GET", "/kv/a", "", {{"Origin", kEvil}, {"Authorization", "Bearer all-tok"}});
  CHECK(get.status == 404);
  CHECK(get.Header("access-control-allow-origin") == "*");
  CHECK_FALSE(get.HasHeader("access-control-allow-credentials"));
  CHECK(get.Header("access-control-expose-headers").find("X-Keyva-Revision") != std::string::npos);
}

TEST_CASE("cors: without --cors-origins nothing changes, a bad value stops keyvad") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply pre = c.Send("OPTIONS", "/kv/a", "", PreflightHeaders(kApp, "PUT"));
  CHECK(pre.status == 405);
  CHECK(pre.Header("allow") == "GET, HEAD, PUT, POST, DELETE, LOCK, UNLOCK");
  CheckNoAllowHeaders(pre);
  HttpReply get = c.Send("GET", "/kv/a", "", {{"Origin", kApp}});
  CHECK(get.status == 404);
  CheckNoAllowHeaders(get);
  CHECK_FALSE(get.HasHeader("vary"));

  TempDir dir;
  std::string out;
  CHECK(RunProgram(KEYVAD_PATH,
                   {"--cors-origins=https://a.example/path", "--data-dir=" + dir.path()},
                   &out) == 2);
  CHECK(out.find("--cors-origins") != std::string::npos);
  CHECK(out.find("is not an origin") != std::string::npos);
  CHECK(RunProgram(KEYVAD_PATH, {"--data-dir=" + dir.path()}, &out,
                   {{"KEYVA_CORS_ORIGINS", "ftp://x"}}) == 2);
  CHECK(out.find("is not an origin") != std::string::npos);
}

}  // namespace
}  // namespace keyva::testing
