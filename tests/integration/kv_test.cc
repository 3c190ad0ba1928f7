// Integration tests of /kv/{key}: store, read, replace, delete, conditional requests, expiry,
// content types, and every refusal (bad keys, parameters, methods, sizes).
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {
namespace {

// The first bytes of a PNG (signature + IHDR of a 1x1 image), enough for any sniffer, with
// every byte value that could upset a text path.
std::string PngBytes() {
  static const unsigned char kPng[] = {
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
      0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
      0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
      0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00,
      0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  return std::string(reinterpret_cast<const char*>(kPng), sizeof(kPng));
}

void CheckErrorJson(const HttpReply& r, int status) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.Header("content-type") == "application/json");
  nlohmann::json j = r.Json();
  CHECK(j["status"] == status);
  CHECK(j["error"].is_string());
  CHECK(!j["error"].get<std::string>().empty());
}

}  // namespace

TEST_CASE("PUT stores a value that GET and HEAD serve with its headers") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply put = c.Put("/kv/greeting", "hello", "text/plain");
  REQUIRE(put.status == 201);
  CHECK(put.Header("location") == "/kv/greeting");
  const std::string etag = put.Header("etag");
  CHECK(etag.size() == 18);
  CHECK(etag.front() == '"');
  CHECK(put.Json()["etag"] == etag);
  CHECK(put.Json()["size"] == 5);

  HttpReply get = c.Get("/kv/greeting");
  REQUIRE(get.status == 200);
  CHECK(get.body == "hello");
  CHECK(get.Header("content-type") == "text/plain");
  CHECK(get.Header("etag") == etag);
  CHECK(get.Header("last-modified").find(" GMT") != std::string::npos);
  CHECK(get.Header("x-content-type-options") == "nosniff");
  CHECK(get.Header("content-security-policy") == "sandbox");

  HttpReply head = c.Send("HEAD", "/kv/greeting");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.Header("content-length") == "5");
  CHECK(head.Header("etag") == etag);
  CHECK(head.Header("content-type") == "text/plain");

  // Replacing: 200, a new ETag even for the same bytes.
  HttpReply again = c.Put("/kv/greeting", "hello", "text/plain");
  CHECK(again.status == 200);
  CHECK(again.Header("etag") != etag);
  CHECK(c.Get("/kv/greeting").Header("etag") == again.Header("etag"));
  // One connection served all of it.
  CHECK(c.requests_on_connection() == 5);
}

TEST_CASE("POST stores like PUT, keys keep slashes and are percent-decoded") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  CHECK(c.Send("POST", "/kv/images/logo", "x",
               {{"Content-Type", "application/x-www-form-urlencoded"}})
            .status == 201);
  HttpReply get = c.Get("/kv/images/logo");
  CHECK(get.status == 200);
  CHECK(get.body == "x");
  // curl's type for every -d upload is not kept: the bytes are sniffed (docs/server.md).
  CHECK(get.Header("content-type").rfind("text/plain", 0) == 0);

  CHECK(c.Put("/kv/a%20b%2Fc+d", "v", "text/plain").status == 201);
  CHECK(c.Get("/kv/a%20b/c+d").body == "v");
  nlohmann::json list = c.Get("/kv/?prefix=a").Json();
  REQUIRE(list["keys"].size() == 1);
  CHECK(list["keys"][0]["key"] == "a b/c+d");

  CHECK(c.Put("/kv/%E2%9C%93", "check", "text/plain").status == 201);
  CHECK(c.Get("/kv/\xE2\x9C\x93").body == "check");
}

TEST_CASE("the original keyva examples: PNG bytes round-trip as image/png") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string png = PngBytes();
  // POSTed with its type.
  REQUIRE(c.Send("POST", "/kv/images/logo", png, {{"Content-Type", "image/png"}}).status == 201);
  HttpReply get = c.Get("/kv/images/logo");
  CHECK(get.status == 200);
  CHECK(get.body == png);
  CHECK(get.Header("content-type") == "image/png");
  // PUT without a Content-Type: sniffed.
  REQUIRE(c.Put("/kv/images/sniffed", png).status == 201);
  get = c.Get("/kv/images/sniffed");
  CHECK(get.body == png);
  CHECK(get.Header("content-type") == "image/png");
  // An empty Content-Type also means "sniff".
  REQUIRE(c.Send("PUT", "/kv/images/empty-type", png, {{"Content-Type", ""}}).status == 201);
  CHECK(c.Get("/kv/images/empty-type").Header("content-type") == "image/png");
  // Text without a type.
  REQUIRE(c.Put("/kv/notes/plain", "just some words").status == 201);
  CHECK(c.Get("/kv/notes/plain").Header("content-type").rfind("text/plain", 0) == 0);
}

TEST_CASE("a stored HTML value is sandboxed and not sniffed") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/page", "<script>alert(1)</script>", "text/html").status == 201);
  HttpReply get = c.Get("/kv/page");
  CHECK(get.Header("content-type") == "text/html");
  CHECK(get.Header("content-security-policy") == "sandbox");
  CHECK(get.Header("x-content-type-options") == "nosniff");
}

TEST_CASE("DELETE is 200 with the key and revision, then 404, GET of an absent key is 404 JSON") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  CheckErrorJson(c.Get("/kv/nothing"), 404);
  HttpReply head = c.Send("HEAD", "/kv/nothing");  // the same head, no body
  CHECK(head.status == 404);
  CHECK(head.Header("content-type") == "application/json");
  CHECK(head.body.empty());
  REQUIRE(c.Put("/kv/k", "v", "text/plain").status == 201);
  HttpReply del = c.Delete("/kv/k");
  CHECK(del.status == 200);
  CHECK(del.Header("content-type") == "application/json");
  CHECK(del.Json()["key"] == "k");
  CHECK(del.Json()["revision"].dump() == del.Header("x-keyva-revision"));
  CheckErrorJson(c.Get("/kv/k"), 404);
  CheckErrorJson(c.Delete("/kv/k"), 404);
  // Deleted then re-created: 201 again.
  CHECK(c.Put("/kv/k", "v2", "text/plain").status == 201);
}

TEST_CASE("If-None-Match on GET answers 304 for a current ETag") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string etag = c.Put("/kv/k", "v", "text/plain").Header("etag");
  HttpReply r = c.Send("GET", "/kv/k", "", {{"If-None-Match", etag}});
  CHECK(r.status == 304);
  CHECK(r.body.empty());
  CHECK(r.Header("etag") == etag);
  CHECK(c.Send("GET", "/kv/k", "", {{"If-None-Match", "W/" + etag}}).status == 304);
  CHECK(c.Send("GET", "/kv/k", "", {{"If-None-Match", "\"other\", " + etag}}).status == 304);
  CHECK(c.Send("GET", "/kv/k", "", {{"If-None-Match", "*"}}).status == 304);
  HttpReply stale = c.Send("GET", "/kv/k", "", {{"If-None-Match", "\"0000000000000000\""}});
  CHECK(stale.status == 200);
  CHECK(stale.body == "v");
  CheckErrorJson(c.Send("GET", "/kv/k", "", {{"If-None-Match", "\"unterminated"}}), 400);
}

TEST_CASE("If-Match and If-None-Match make compare-and-set") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  // If-None-Match: * creates only.
  CHECK(c.Send("PUT", "/kv/k", "one", {{"If-None-Match", "*"}}).status == 201);
  CheckErrorJson(c.Send("PUT", "/kv/k", "two", {{"If-None-Match", "*"}}), 412);
  CHECK(c.Get("/kv/k").body == "one");

  const std::string etag = c.Get("/kv/k").Header("etag");
  // A stale If-Match: 412, value untouched.
  CheckErrorJson(c.Send("PUT", "/kv/k", "stale", {{"If-Match", "\"0123456789abcdef\""}}), 412);
  CHECK(c.Get("/kv/k").body == "one");
  CHECK(c.Get("/kv/k").Header("etag") == etag);
  // A weak tag never matches If-Match.
  CheckErrorJson(c.Send("PUT", "/kv/k", "weak", {{"If-Match", "W/" + etag}}), 412);
  // The current ETag: replaced.
  HttpReply ok = c.Send("PUT", "/kv/k", "two", {{"If-Match", etag}});
  CHECK(ok.status == 200);
  CHECK(c.Get("/kv/k").body == "two");
  // The old ETag is now stale.
  CheckErrorJson(c.Send("PUT", "/kv/k", "three", {{"If-Match", etag}}), 412);
  CHECK(c.Get("/kv/k").body == "two");
  // "*" matches any existing value, and nothing when absent.
  CHECK(c.Send("PUT", "/kv/k", "four", {{"If-Match", "*"}}).status == 200);
  CheckErrorJson(c.Send("PUT", "/kv/absent", "x", {{"If-Match", "*"}}), 412);
  CheckErrorJson(c.Get("/kv/absent"), 404);
  // DELETE honours If-Match too.
  CheckErrorJson(c.Send("DELETE", "/kv/k", "", {{"If-Match", etag}}), 412);
  CHECK(c.Get("/kv/k").body == "four");
  const std::string current = c.Get("/kv/k").Header("etag");
  CHECK(c.Send("DELETE", "/kv/k", "", {{"If-Match", current}}).status == 200);
  CheckErrorJson(c.Send("DELETE", "/kv/k", "", {{"If-Match", current}}), 412);
  // A malformed condition is a bad request.
  CheckErrorJson(c.Send("PUT", "/kv/k", "x", {{"If-Match", "\"a\" \"b\""}}), 400);
}

TEST_CASE("?ttl sets an expiry after which the value is gone") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply put = c.Put("/kv/short?ttl=1", "v", "text/plain");
  REQUIRE(put.status == 201);
  CHECK(put.Json().contains("expires"));
  REQUIRE(c.Put("/kv/long?ttl=100000", "v", "text/plain").status == 201);
  HttpReply get = c.Get("/kv/long");
  CHECK(get.status == 200);
  CHECK(get.HasHeader("expires"));
  nlohmann::json list = c.Get("/kv/").Json();
  for (const auto& k : list["keys"]) CHECK(k.contains("expires"));

  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  CheckErrorJson(c.Get("/kv/short"), 404);
  CHECK(c.Get("/kv/long").status == 200);
  list = c.Get("/kv/").Json();
  REQUIRE(list["keys"].size() == 1);
  CHECK(list["keys"][0]["key"] == "long");
  // An expired key counts as absent: the next PUT creates it.
  CHECK(c.Put("/kv/short", "again", "text/plain").status == 201);
}

TEST_CASE("bad keys and parameters are refused with 400 or 414") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  // Empty key.
  CheckErrorJson(c.Put("/kv/", "v"), 400);
  CheckErrorJson(c.Put("/kv", "v"), 400);
  CheckErrorJson(c.Delete("/kv/"), 400);
  CheckErrorJson(c.Put("/kv/%", "v"), 400);
  // Bad percent-encoding.
  CheckErrorJson(c.Get("/kv/a%zz"), 400);
  CheckErrorJson(c.Get("/kv/a%2"), 400);
  CheckErrorJson(c.Put("/kv/a%G1", "v"), 400);
  // Not UTF-8 once decoded.
  CheckErrorJson(c.Put("/kv/%FF%FE", "v"), 400);
  // Too long (the default limit is 1024 bytes, counted after decoding).
  CheckErrorJson(c.Put("/kv/" + std::string(1025, 'k'), "v"), 414);
  CheckErrorJson(c.Get("/kv/" + std::string(1025, 'k')), 414);
  CHECK(c.Put("/kv/" + std::string(1024, 'k'), "v").status == 201);
  std::string encoded;
  for (int i = 0; i < 400; i++) encoded += "%E2%9C%93";  // 1200 bytes decoded
  CheckErrorJson(c.Get("/kv/" + encoded), 414);
  // Bad ttl.
  for (const char* ttl : {"0", "-1", "abc", "1.5", "", "99999999999999999999", "1e3"}) {
    INFO(ttl);
    CheckErrorJson(c.Put(std::string("/kv/t?ttl=") + ttl, "v"), 400);
  }
  CheckErrorJson(c.Put("/kv/t?ttl", "v"), 400);
  // Unknown, duplicated or misplaced query parameters.
  CheckErrorJson(c.Put("/kv/t?color=red", "v"), 400);
  CheckErrorJson(c.Put("/kv/t?ttl=5&ttl=6", "v"), 400);
  CheckErrorJson(c.Get("/kv/t?ttl=5"), 400);
  CheckErrorJson(c.Get("/kv/t?x%zz=1"), 400);
  // Nothing above was stored.
  CheckErrorJson(c.Get("/kv/t"), 404);
  // A too long Content-Type.
  CheckErrorJson(c.Put("/kv/t", "v", "text/" + std::string(300, 'x')), 400);
}

TEST_CASE("unsupported methods get 405 with Allow, unknown routes 404") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Send("PATCH", "/kv/k", "v");
  CheckErrorJson(r, 405);
  CHECK(r.Header("allow") == "GET, HEAD, PUT, POST, DELETE, LOCK, UNLOCK");
  r = c.Send("OPTIONS", "/kv/k");
  CheckErrorJson(r, 405);
  r = c.Send("PUT", "/healthz", "x");
  CheckErrorJson(r, 405);
  CHECK(r.Header("allow") == "GET, HEAD");
  r = c.Send("DELETE", "/metrics");
  CheckErrorJson(r, 405);
  r = c.Send("PUT", "/seq/n", "x");
  CheckErrorJson(r, 405);
  CHECK(r.Header("allow") == "GET, HEAD, POST, DELETE");
  r = c.Send("PATCH", "/kv/");
  CheckErrorJson(r, 405);
  CHECK(r.Header("allow") == "GET, HEAD");
  CheckErrorJson(c.Get("/nope"), 404);
  CheckErrorJson(c.Get("/kvx"), 404);
  // The connection survived all of it.
  CHECK(c.Get("/healthz").status == 200);
}

}  // namespace keyva::testing
