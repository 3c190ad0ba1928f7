// Unit tests of content_encoding.h: Accept-Encoding negotiation, the compressible types, the
// gzip and Brotli round trips, and EncodeResponse's decisions (Vary, ETag, 304, memory).
#include "internal/server/content_encoding.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "internal/server/entity_tag.h"

namespace keyva::server {
namespace {

ContentCoding Negotiate(std::string_view header) { return NegotiateContentCoding(header); }

std::string Text(size_t n) {
  std::string s;
  while (s.size() < n)
    s += "the quick brown fox jumps over the lazy dog " + std::to_string(s.size());
  s.resize(n);
  return s;
}

std::string RandomBytes(size_t n) {
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Random hex digits: about half the size coded, so the coded copy of a large one is still large.
std::string Hex(size_t n) {
  std::string s = RandomBytes(n);
  for (char& c : s) c = "0123456789abcdef"[static_cast<unsigned char>(c) % 16];
  return s;
}

Response Ok(std::string_view type, std::string body, std::string_view etag = "") {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, type);
  if (!etag.empty()) res.set(http::field::etag, etag);
  res.body() = Payload(std::move(body));
  res.prepare_payload();
  return res;
}

EncodingPlan Plan(ContentCoding coding, uint64_t min_size = 1024) {
  EncodingPlan plan;
  plan.min_size = min_size;
  plan.coding = coding;
  return plan;
}

std::string Decoded(const Response& res) {
  std::string out;
  const std::string coding(res[http::field::content_encoding]);
  ContentCoding c = coding == "gzip" ? ContentCoding::kGzip
                    : coding == "br" ? ContentCoding::kBrotli
                                     : ContentCoding::kIdentity;
  REQUIRE(Decompress(c, res.body().view(), 64u << 20, &out));
  return out;
}

}  // namespace

TEST_CASE("Accept-Encoding: q-values, q=0 refusals, identity, * and the br preference") {
  CHECK(NegotiateContentCoding(std::nullopt) == ContentCoding::kIdentity);
  CHECK(Negotiate("") == ContentCoding::kIdentity);
  CHECK(Negotiate("gzip") == ContentCoding::kGzip);
  CHECK(Negotiate("x-gzip") == ContentCoding::kGzip);
  CHECK(Negotiate("GZIP") == ContentCoding::kGzip);
  CHECK(Negotiate("br") == ContentCoding::kBrotli);
  // Equally acceptable: br.
  CHECK(Negotiate("gzip, deflate, br") == ContentCoding::kBrotli);
  CHECK(Negotiate("gzip;q=1.0, br;q=1") == ContentCoding::kBrotli);
  // Weights decide.
  CHECK(Negotiate("br;q=0.5, gzip;q=0.8") == ContentCoding::kGzip);
  CHECK(Negotiate("br;q=0.801, gzip;q=0.8") == ContentCoding::kBrotli);
  CHECK(Negotiate("gzip ; q=0.3 ; foo=bar") == ContentCoding::kGzip);
  // q=0 refuses.
  CHECK(Negotiate("gzip;q=0") == ContentCoding::kIdentity);
  CHECK(Negotiate("br;q=0, gzip") == ContentCoding::kGzip);
  CHECK(Negotiate("br;q=0.000, gzip;q=0") == ContentCoding::kIdentity);
  // identity, and *.
  CHECK(Negotiate("identity") == ContentCoding::kIdentity);
  CHECK(Negotiate("identity;q=1, gzip;q=0.5") == ContentCoding::kIdentity);
  CHECK(Negotiate("identity;q=0.5, gzip") == ContentCoding::kGzip);
  CHECK(Negotiate("*") == ContentCoding::kBrotli);
  CHECK(Negotiate("*;q=0.5, br;q=0.4") == ContentCoding::kGzip);
  CHECK(Negotiate("*;q=0") == ContentCoding::kIdentity);
  CHECK(Negotiate("gzip;q=0, *") == ContentCoding::kBrotli);
  CHECK(Negotiate("identity;q=0, *;q=0") == ContentCoding::kIdentity);  // sent anyway
  CHECK(Negotiate("deflate, compress") == ContentCoding::kIdentity);
  CHECK(Negotiate(" , gzip ,, ") == ContentCoding::kGzip);  // empty elements are allowed
  // Malformed: disregarded (identity).
  for (const char* bad : {"gzip;q=2", "gzip;q=1.5", "gzip;q=0.1234", "gzip;q=", "gzip;q=abc",
                          "gzip;q", "g zip", "gzip;q=-1", "br;q=1.01"}) {
    INFO(bad);
    CHECK(Negotiate(bad) == ContentCoding::kIdentity);
  }
}

TEST_CASE("compressible types: text, JSON, XML and friends, never already-compressed ones") {
  for (const char* yes :
       {"text/plain", "text/html; charset=utf-8", "TEXT/CSS", "text/csv", "application/json",
        "application/json; charset=utf-8", "application/problem+json", "application/ld+json",
        "application/javascript", "application/xml", "image/svg+xml", "application/x-ndjson",
        "application/yaml", "application/toml", "application/wasm", "font/ttf",
        " application/atom+xml ;x=y"}) {
    INFO(yes);
    CHECK(IsCompressibleType(yes));
  }
  for (const char* no : {"", "application/octet-stream", "image/png", "image/jpeg", "image/gif",
                         "image/webp", "video/mp4", "audio/mpeg", "application/zip",
                         "application/gzip", "application/zstd", "application/x-brotli",
                         "application/pdf", "font/woff2", "text/event-stream", "text", "json"}) {
    INFO(no);
    CHECK_FALSE(IsCompressibleType(no));
  }
}

TEST_CASE("gzip and br round-trip the exact bytes, and the decoders refuse bad streams") {
  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kBrotli}) {
    INFO(ContentCodingName(c));
    for (const std::string& in : {std::string(), Text(100), Text(5u << 20), RandomBytes(70000)}) {
      std::string coded = Compress(c, in);
      std::string out;
      REQUIRE(Decompress(c, coded, in.size(), &out));
      CHECK(out == in);
      if (in.size() > 1000 && in[0] == 't') CHECK(coded.size() < in.size() / 3);
      // Truncated, corrupted, or larger than allowed: refused.
      if (!in.empty()) {
        CHECK_FALSE(Decompress(c, coded.substr(0, coded.size() / 2), in.size(), &out));
        CHECK_FALSE(Decompress(c, coded, in.size() - 1, &out));
      }
      CHECK_FALSE(Decompress(c, coded + "junk", in.size() + 4, &out));
    }
  }
  // gzip is real gzip: the RFC 1952 magic.
  CHECK(Compress(ContentCoding::kGzip, "x").substr(0, 2) == "\x1f\x8b");
}

TEST_CASE("EncodeResponse codes large compressible 200s, with Vary and a per-coding ETag") {
  ResponseMemory memory(64u << 20);
  const std::string body = Text(5000);
  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kBrotli}) {
    const std::string name(ContentCodingName(c));
    Response res = Ok("application/json", body, "\"0123456789abcdef\"");
    EncodeResponse(Plan(c), &memory, "k", &res);
    CHECK(res[http::field::content_encoding] == name);
    CHECK(res[http::field::vary] == "Accept-Encoding");
    CHECK(res[http::field::etag] == "\"0123456789abcdef-" + name + "\"");
    CHECK(res[http::field::content_length] == std::to_string(res.body().size()));
    CHECK(res.body().size() < body.size());
    CHECK(Decoded(res) == body);
  }
  // Identity requested: not coded, but Vary says it could have been.
  Response res = Ok("text/plain", body, "\"0123456789abcdef\"");
  EncodeResponse(Plan(ContentCoding::kIdentity), &memory, "k", &res);
  CHECK(res.find(http::field::content_encoding) == res.end());
  CHECK(res[http::field::vary] == "Accept-Encoding");
  CHECK(res[http::field::etag] == "\"0123456789abcdef\"");
  CHECK(res.body() == body);
  // An existing Vary is extended once.
  Response varied = Ok("text/plain", body);
  varied.set(http::field::vary, "Origin");
  EncodeResponse(Plan(ContentCoding::kGzip), &memory, "", &varied);
  EncodeResponse(Plan(ContentCoding::kIdentity), &memory, "", &varied);
  CHECK(varied[http::field::vary] == "Origin, Accept-Encoding");
}

TEST_CASE("EncodeResponse leaves alone what must not be coded") {
  ResponseMemory memory(64u << 20);
  const std::string body = Text(5000);
  auto check_untouched = [&](Response res, const EncodingPlan& plan, bool vary) {
    const std::string before = std::string(res.body().view());
    const std::string coding_before = std::string(res[http::field::content_encoding]);
    EncodeResponse(plan, &memory, "k", &res);
    CHECK(res[http::field::content_encoding] == coding_before);
    CHECK(res.body() == before);
    CHECK((res.find(http::field::vary) != res.end()) == vary);
  };
  const EncodingPlan gzip = Plan(ContentCoding::kGzip);
  SECTION("small") { check_untouched(Ok("text/plain", Text(1023)), gzip, false); }
  SECTION("an already-compressed or binary type") {
    check_untouched(Ok("image/png", body), gzip, false);
    check_untouched(Ok("application/octet-stream", body), gzip, false);
  }
  SECTION("compression off") {
    check_untouched(Ok("text/plain", body), Plan(ContentCoding::kGzip, 0), false);
  }
  SECTION("a Range request") {
    EncodingPlan ranged = gzip;
    ranged.range = true;
    check_untouched(Ok("text/plain", body), ranged, true);
  }
  SECTION("a 206 or an already coded body") {
    Response partial = Ok("text/plain", body);
    partial.result(http::status::partial_content);
    partial.set(http::field::content_range, "bytes 0-4999/10000");
    check_untouched(partial, gzip, false);
    Response coded = Ok("text/plain", body);
    coded.set(http::field::content_encoding, "gzip");
    check_untouched(coded, gzip, false);
  }
  SECTION("an error status") {
    Response err = Ok("application/json", body);
    err.result(http::status::not_found);
    check_untouched(err, gzip, false);
  }
  SECTION("no gain") { check_untouched(Ok("text/plain", RandomBytes(5000)), gzip, true); }
}

TEST_CASE("a 304 carries the coded ETag only when the client revalidates that coding") {
  ResponseMemory memory(1u << 20);
  auto not_modified = [&](ContentCoding coding, std::string if_none_match) {
    Response res{http::status::not_modified, 11};
    res.set(http::field::etag, "\"0123456789abcdef\"");
    EncodingPlan plan = Plan(coding);
    plan.if_none_match = std::move(if_none_match);
    EncodeResponse(plan, &memory, "k", &res);
    CHECK(res[http::field::vary] == "Accept-Encoding");
    return std::string(res[http::field::etag]);
  };
  CHECK(not_modified(ContentCoding::kGzip, "\"0123456789abcdef-gzip\"") ==
        "\"0123456789abcdef-gzip\"");
  CHECK(not_modified(ContentCoding::kBrotli, "\"x\", W/\"0123456789abcdef-br\"") ==
        "\"0123456789abcdef-br\"");
  CHECK(not_modified(ContentCoding::kGzip, "\"0123456789abcdef\"") == "\"0123456789abcdef\"");
  // The client revalidates its gzip copy but no longer accepts gzip: the stored tag.
  CHECK(not_modified(ContentCoding::kIdentity, "\"0123456789abcdef-gzip\"") ==
        "\"0123456789abcdef\"");
  CHECK(not_modified(ContentCoding::kBrotli, "\"0123456789abcdef-gzip\"") ==
        "\"0123456789abcdef\"");
}

TEST_CASE("a coded copy of a large value is charged, shared, and refused for want of budget") {
  const std::string big = Hex(400'000);
  const std::string etag = "\"0123456789abcdef\"";
  ResponseMemory memory(1u << 20);
  Response a = Ok("text/plain", big, etag);
  EncodeResponse(Plan(ContentCoding::kGzip), &memory, "k", &a);
  REQUIRE(a[http::field::content_encoding] == "gzip");
  REQUIRE(a.body().size() >= ResponseMemory::kShareMinBytes);
  CHECK(memory.held_bytes() == a.body().size());  // the coded copy is charged
  // A second response for the same key, ETag and coding reuses it.
  Response b = Ok("text/plain", big, etag);
  EncodeResponse(Plan(ContentCoding::kGzip), &memory, "k", &b);
  CHECK(b.body().data() == a.body().data());
  CHECK(memory.shared() == 1);
  CHECK(memory.held_bytes() == a.body().size());
  a = Response();
  b = Response();
  CHECK(memory.held_bytes() == 0);

  // No room in the budget for the coded copy: identity.
  ResponseMemory full(1u << 20);
  auto hog = full.Share("other", "\"1\"", std::string((1u << 20) - 100, 'x'));
  REQUIRE(hog);
  Response c = Ok("text/plain", big, etag);
  EncodeResponse(Plan(ContentCoding::kGzip), &full, "k", &c);
  CHECK(c.find(http::field::content_encoding) == c.end());
  CHECK(c[http::field::etag] == etag);
  CHECK(c.body() == big);
  CHECK(full.refused() == 1);
}

TEST_CASE("ETag conditions accept the coded and the stored form of a tag") {
  const std::string stored = "\"0123456789abcdef\"";
  CHECK(EncodedEtag(stored, "gzip") == "\"0123456789abcdef-gzip\"");
  CHECK(EncodedEtag(EncodedEtag(stored, "gzip"), "br") == "\"0123456789abcdef-br\"");
  CHECK(EtagCoding("0123456789abcdef-br") == "br");
  CHECK(EtagCoding("0123456789abcdef").empty());
  EtagCondition c;
  REQUIRE(ParseEtagCondition("\"0123456789abcdef-gzip\"", &c));
  CHECK(MatchesStrong(c, stored));
  CHECK(MatchesWeak(c, stored));
  CHECK(MatchesStrong(c, "\"0123456789abcdef-br\""));
  CHECK_FALSE(MatchesStrong(c, "\"0123456789abcdee\""));
  REQUIRE(ParseEtagCondition("W/\"0123456789abcdef-br\"", &c));
  CHECK_FALSE(MatchesStrong(c, stored));  // weak never matches strongly
  CHECK(MatchesWeak(c, stored));
}

}  // namespace keyva::server
