// Integration tests of response compression (content_encoding.h) against the real keyvad: gzip
// and br bodies decode to the exact stored bytes; binary types, small bodies, ranges and refused
// codings are sent as they are; HEAD reports what GET would; ETags differ per coding and
// conditional requests accept either form; listings, /metrics and the web page are coded too.
#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "internal/server/content_encoding.h"
#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {
namespace {

using server::ContentCoding;

std::string Text(size_t n) {
  std::string s;
  while (s.size() < n) s += "line " + std::to_string(s.size()) + ": all work and no play\n";
  s.resize(n);
  return s;
}

std::string Json(size_t n) {
  std::string s = "[";
  for (int i = 0; s.size() < n; i++) s += "{\"id\":" + std::to_string(i) + ",\"name\":\"item\"},";
  s.back() = ']';
  return s;
}

std::string RandomBytes(size_t n) {
  std::mt19937 rng(11);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The body as the client would see it after undoing Content-Encoding.
std::string Decoded(const HttpReply& r) {
  const std::string coding = r.Header("content-encoding");
  ContentCoding c = ContentCoding::kIdentity;
  if (coding == "gzip") c = ContentCoding::kGzip;
  if (coding == "br") c = ContentCoding::kBrotli;
  INFO("content-encoding: " << coding);
  REQUIRE((coding.empty() || c != ContentCoding::kIdentity));
  std::string out;
  REQUIRE(server::Decompress(c, r.body, 64u << 20, &out));
  return out;
}

HttpReply GetWith(HttpTestClient& c, const std::string& target, const std::string& accept,
                  Headers extra = {}) {
  extra.emplace_back("Accept-Encoding", accept);
  return c.Send("GET", target, "", extra);
}

// The stored tag with -coding inside the quotes.
std::string Coded(const std::string& etag, const std::string& coding) {
  return etag.substr(0, etag.size() - 1) + "-" + coding + "\"";
}

}  // namespace

TEST_CASE("gzip and br bodies decode to the exact stored bytes, with Vary and coded ETags") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  struct Value {
    std::string key, type, bytes;
  };
  const std::vector<Value> values = {
      {"doc.txt", "text/plain; charset=utf-8", Text(4000)},
      {"data.json", "application/json", Json(20000)},
      {"big.txt", "text/csv", Text(5u << 20)},
  };
  for (const Value& v : values) {
    INFO(v.key);
    HttpReply put = c.Put("/kv/" + v.key, v.bytes, v.type);
    REQUIRE(put.status == 201);
    const std::string etag = put.Header("etag");

    HttpReply plain = c.Get("/kv/" + v.key);
    REQUIRE(plain.status == 200);
    CHECK(plain.body == v.bytes);
    CHECK_FALSE(plain.HasHeader("content-encoding"));
    CHECK(plain.Header("vary") == "Accept-Encoding");
    CHECK(plain.Header("etag") == etag);

    for (const auto& [accept, coding] :
         std::vector<std::pair<std::string, std::string>>{{"gzip", "gzip"},
                                                          {"br", "br"},
                                                          {"gzip, deflate, br", "br"},
                                                          {"br;q=0.5, gzip", "gzip"}}) {
      INFO("Accept-Encoding: " << accept);
      HttpReply r = GetWith(c, "/kv/" + v.key, accept);
      REQUIRE(r.status == 200);
      CHECK(r.Header("content-encoding") == coding);
      CHECK(r.Header("vary") == "Accept-Encoding");
      CHECK(r.Header("etag") == Coded(etag, coding));
      CHECK(r.Header("content-type") == v.type);
      CHECK(r.Header("content-length") == std::to_string(r.body.size()));
      CHECK(r.body.size() < v.bytes.size() / 2);
      CHECK(Decoded(r) == v.bytes);
    }
  }
}

TEST_CASE("binary types, small bodies, refused codings and ranges are sent as they are") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string text = Text(4000);
  REQUIRE(c.Put("/kv/png", Text(4000), "image/png").status == 201);
  REQUIRE(c.Put("/kv/blob", RandomBytes(4000), "application/octet-stream").status == 201);
  REQUIRE(c.Put("/kv/zip", Text(4000), "application/gzip").status == 201);
  REQUIRE(c.Put("/kv/small", Text(1023), "text/plain").status == 201);
  REQUIRE(c.Put("/kv/text", text, "text/plain").status == 201);

  for (const char* key : {"png", "blob", "zip", "small"}) {
    INFO(key);
    HttpReply r = GetWith(c, std::string("/kv/") + key, "gzip, br");
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.HasHeader("content-encoding"));
    CHECK_FALSE(r.HasHeader("vary"));  // could never be coded
  }
  for (const char* refused : {"gzip;q=0", "br;q=0, gzip;q=0", "identity", "*;q=0",
                              "identity;q=1, gzip;q=0.5", "gzip;q=2"}) {
    INFO("Accept-Encoding: " << refused);
    HttpReply r = GetWith(c, "/kv/text", refused);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.HasHeader("content-encoding"));
    CHECK(r.Header("vary") == "Accept-Encoding");
    CHECK(r.body == text);
  }
  CHECK(GetWith(c, "/kv/text", "br;q=0, gzip").Header("content-encoding") == "gzip");
  // A Range request is never coded: the range is of the stored bytes (byte_range.h).
  HttpReply ranged = GetWith(c, "/kv/text", "gzip", {{"Range", "bytes=0-99"}});
  CHECK(ranged.status == 206);
  CHECK_FALSE(ranged.HasHeader("content-encoding"));
  CHECK(ranged.body == text.substr(0, 100));
}

TEST_CASE("HEAD reports what GET would, per coding") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/doc", Text(10000), "text/markdown").status == 201);
  for (const char* accept : {"gzip", "br", "identity"}) {
    INFO(accept);
    HttpReply get = GetWith(c, "/kv/doc", accept);
    HttpReply head = c.Send("HEAD", "/kv/doc", "", {{"Accept-Encoding", accept}});
    REQUIRE(get.status == 200);
    REQUIRE(head.status == 200);
    CHECK(head.body.empty());
    for (const char* h : {"content-length", "content-encoding", "etag", "vary", "content-type"}) {
      INFO(h);
      CHECK(head.Header(h) == get.Header(h));
    }
    CHECK(head.Header("content-length") == std::to_string(get.body.size()));
  }
}

TEST_CASE("If-None-Match and If-Match accept the ETag of any coding of the same value") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply put = c.Put("/kv/cfg", Json(5000), "application/json");
  REQUIRE(put.status == 201);
  const std::string etag = put.Header("etag");
  const std::string gzip_etag = GetWith(c, "/kv/cfg", "gzip").Header("etag");
  const std::string br_etag = GetWith(c, "/kv/cfg", "br").Header("etag");
  REQUIRE(gzip_etag == Coded(etag, "gzip"));
  REQUIRE(br_etag == Coded(etag, "br"));

  SECTION("304 for every form; the coded tag when the client revalidates that coding") {
    HttpReply r = GetWith(c, "/kv/cfg", "gzip", {{"If-None-Match", gzip_etag}});
    CHECK(r.status == 304);
    CHECK(r.body.empty());
    CHECK(r.Header("etag") == gzip_etag);
    CHECK(r.Header("vary") == "Accept-Encoding");
    r = GetWith(c, "/kv/cfg", "br", {{"If-None-Match", br_etag}});
    CHECK(r.status == 304);
    CHECK(r.Header("etag") == br_etag);
    r = GetWith(c, "/kv/cfg", "gzip", {{"If-None-Match", etag}});
    CHECK(r.status == 304);
    CHECK(r.Header("etag") == etag);
    r = c.Send("GET", "/kv/cfg", "", {{"If-None-Match", br_etag}});  // no Accept-Encoding
    CHECK(r.status == 304);
    CHECK(r.Header("etag") == etag);
    // Another value's tag, coded: no match.
    r = GetWith(c, "/kv/cfg", "gzip", {{"If-None-Match", "\"0000000000000000-gzip\""}});
    CHECK(r.status == 200);
    CHECK(r.Header("content-encoding") == "gzip");
  }

  SECTION("a conditional write with the gzip variant's tag works; a stale one is 412") {
    HttpReply w = c.Send("PUT", "/kv/cfg", "{\"v\":2}",
                         {{"Content-Type", "application/json"}, {"If-Match", gzip_etag}});
    CHECK(w.status == 200);
    const std::string next = w.Header("etag");
    CHECK(next != etag);
    w = c.Send("PUT", "/kv/cfg", "{\"v\":3}",
               {{"Content-Type", "application/json"}, {"If-Match", br_etag}});
    CHECK(w.status == 412);
    CHECK(c.Get("/kv/cfg").body == "{\"v\":2}");
    CHECK(c.Send("DELETE", "/kv/cfg", "", {{"If-Match", Coded(next, "br")}}).status == 200);
  }
}

TEST_CASE("listings, /metrics, /api/stats and the web page are coded, watches are not") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string before = c.Get("/healthz").Header("x-keyva-revision");
  REQUIRE(!before.empty());
  for (int i = 0; i < 40; i++) {
    REQUIRE(c.Put("/kv/items/" + std::to_string(i), "v", "text/plain").status == 201);
  }
  HttpReply plain = c.Get("/kv/?prefix=items/");
  HttpReply coded = GetWith(c, "/kv/?prefix=items/", "gzip");
  REQUIRE(coded.status == 200);
  CHECK(coded.Header("content-encoding") == "gzip");
  CHECK(coded.Header("vary") == "Accept-Encoding");
  CHECK(coded.Header("x-keyva-revision") == plain.Header("x-keyva-revision"));
  CHECK(Decoded(coded) == plain.body);

  for (const char* target : {"/metrics", "/api/stats", "/"}) {
    INFO(target);
    HttpReply r = GetWith(c, target, "br");
    REQUIRE(r.status == 200);
    CHECK(r.Header("content-encoding") == "br");
    CHECK(r.Header("vary") == "Accept-Encoding");
    CHECK(!Decoded(r).empty());
  }
  CHECK(Decoded(GetWith(c, "/", "gzip")) == c.Get("/").body);

  HttpReply poll = GetWith(c, "/watch?since=" + before + "&format=ndjson&wait=0", "gzip, br");
  REQUIRE(poll.status == 200);
  CHECK_FALSE(poll.HasHeader("content-encoding"));
  CHECK(poll.body.find("items/39") != std::string::npos);
}

TEST_CASE("compression: --compress-min-size sets the threshold, and 0 turns compression off") {
  SECTION("100 bytes") {
    KeyvadProcess keyvad({.args = {"--compress-min-size=100"}});
    HttpTestClient c(keyvad.port());
    REQUIRE(c.Put("/kv/a", Text(200), "text/plain").status == 201);
    HttpReply r = GetWith(c, "/kv/a", "gzip");
    CHECK(r.Header("content-encoding") == "gzip");
    CHECK(Decoded(r) == Text(200));
  }
  SECTION("0") {
    KeyvadProcess keyvad({.args = {"--compress-min-size=0"}});
    HttpTestClient c(keyvad.port());
    REQUIRE(c.Put("/kv/a", Text(100000), "text/plain").status == 201);
    for (const char* target : {"/kv/a", "/kv/?prefix=", "/metrics", "/"}) {
      INFO(target);
      HttpReply r = GetWith(c, target, "gzip, br");
      CHECK(r.status == 200);
      CHECK_FALSE(r.HasHeader("content-encoding"));
      CHECK_FALSE(r.HasHeader("vary"));
    }
  }
}

}  // namespace keyva::testing
