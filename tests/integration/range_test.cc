// Integration tests of Range and If-Range on GET /kv/{key} (RFC 9110 §14): a value written
// through the API, read back in ranges and checked byte by byte.
#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {
namespace {

// 300,000 bytes of every value 0..255, in a fixed order.
std::string Bytes() {
  std::mt19937 rng(17);
  std::string v(300'000, '\0');
  for (char& c : v) c = static_cast<char>(rng() & 0xff);
  return v;
}

HttpReply GetRange(HttpTestClient& c, const std::string& range, const Headers& extra = {}) {
  Headers h = extra;
  h.emplace_back("Range", range);
  return c.Send("GET", "/kv/blob", "", h);
}

}  // namespace

TEST_CASE("ranges of a stored value: first, middle, last, suffix, open-ended, byte by byte") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string v = Bytes();
  REQUIRE(c.Put("/kv/blob", v, "application/octet-stream").status == 201);
  HttpReply whole = c.Get("/kv/blob");
  REQUIRE(whole.status == 200);
  CHECK(whole.Header("accept-ranges") == "bytes");
  const std::string size = std::to_string(v.size());

  struct Case {
    std::string range;
    size_t first, last;
  };
  for (const Case& k :
       {Case{"bytes=0-0", 0, 0}, Case{"bytes=0-65535", 0, 65535},
        Case{"bytes=123456-234567", 123456, 234567}, Case{"bytes=299999-299999", 299999, 299999},
        Case{"bytes=-1000", 299000, 299999}, Case{"bytes=250000-", 250000, 299999},
        Case{"bytes=290000-999999999", 290000, 299999}}) {
    INFO(k.range);
    HttpReply r = GetRange(c, k.range);
    REQUIRE(r.status == 206);
    CHECK(r.Header("content-range") ==
          "bytes " + std::to_string(k.first) + "-" + std::to_string(k.last) + "/" + size);
    CHECK(r.Header("content-length") == std::to_string(k.last - k.first + 1));
    CHECK(r.Header("content-type") == "application/octet-stream");
    CHECK(r.Header("etag") == whole.Header("etag"));
    CHECK(r.Header("content-encoding").empty());
    CHECK(r.body == v.substr(k.first, k.last - k.first + 1));
  }

  // Several ranges: the whole value. HEAD ignores Range.
  HttpReply several = GetRange(c, "bytes=0-9,100-109");
  CHECK(several.status == 200);
  CHECK(several.body == v);
  HttpReply head = c.Send("HEAD", "/kv/blob", "", {{"Range", "bytes=0-9"}});
  CHECK(head.status == 200);
  CHECK(head.Header("content-length") == size);
}

TEST_CASE("unsatisfiable ranges are 416 with the size, and If-Range guards a resumed download") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string v = Bytes();
  REQUIRE(c.Put("/kv/blob", v, "application/octet-stream").status == 201);
  for (const char* bad : {"bytes=300000-", "bytes=-0", "bytes=9-2", "bytes=x"}) {
    INFO(bad);
    HttpReply r = GetRange(c, bad);
    CHECK(r.status == 416);
    CHECK(r.Header("content-range") == "bytes */300000");
    CHECK(r.Json()["status"] == 416);
    CHECK(!r.Json()["error"].get<std::string>().empty());
  }

  // If-Range with the current ETag or Last-Modified: the range; with a stale one: everything.
  HttpReply first = GetRange(c, "bytes=0-99");
  REQUIRE(first.status == 206);
  const std::string etag = first.Header("etag");
  const std::string modified = first.Header("last-modified");
  CHECK(GetRange(c, "bytes=100-199", {{"If-Range", etag}}).body == v.substr(100, 100));
  CHECK(GetRange(c, "bytes=100-199", {{"If-Range", modified}}).status == 206);
  REQUIRE(c.Put("/kv/blob", v + "more", "application/octet-stream").status == 200);
  HttpReply stale = GetRange(c, "bytes=100-199", {{"If-Range", etag}});
  CHECK(stale.status == 200);
  CHECK(stale.body == v + "more");
  CHECK(GetRange(c, "bytes=100-199", {{"If-Range", "W/" + etag}}).status == 200);

  // If-None-Match still answers 304 first; a missing key is 404 whatever the range.
  const std::string now = c.Get("/kv/blob").Header("etag");
  CHECK(GetRange(c, "bytes=0-1", {{"If-None-Match", now}}).status == 304);
  CHECK(c.Send("GET", "/kv/none", "", {{"Range", "bytes=0-1"}}).status == 404);
  // A range of a compressible value is of its stored bytes, never of a coded form.
  const std::string text(100'000, 't');
  REQUIRE(c.Put("/kv/text", text, "text/plain").status == 201);
  HttpReply coded =
      c.Send("GET", "/kv/text", "", {{"Range", "bytes=10-19"}, {"Accept-Encoding", "gzip"}});
  CHECK(coded.status == 206);
  CHECK(coded.Header("content-encoding").empty());
  CHECK(coded.body == text.substr(10, 10));
  // An empty value has no byte ranges.
  REQUIRE(c.Put("/kv/empty", "", "text/plain").status == 201);
  CHECK(c.Send("GET", "/kv/empty", "", {{"Range", "bytes=0-"}}).status == 416);
}

}  // namespace keyva::testing
