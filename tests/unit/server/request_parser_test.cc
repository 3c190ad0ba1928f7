// Unit tests of RequestParser: limits, framing, Host, absolute-form and version rules, fed the
// bytes directly (the integration tests send the same over sockets to the real keyvad).
#include "internal/server/request_parser.h"

#include <boost/asio/buffer.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>

namespace keyva::server {
namespace {

struct Parsed {
  boost::system::error_code ec;
  std::optional<Refusal> refusal;
  bool done = false;
  Request request;
};

// Feeds raw (all at once, as a session's buffer would hold it) to a fresh parser.
Parsed Parse(const std::string& raw, RequestLimits limits = {}) {
  RequestParser parser(limits);
  parser.eager(true);
  Parsed out;
  parser.put(boost::asio::buffer(raw), out.ec);
  out.refusal = parser.refusal();
  out.done = parser.is_done();
  if (out.done) out.request = parser.release();
  return out;
}

http::status RefusedWith(const std::string& raw, RequestLimits limits = {}) {
  Parsed p = Parse(raw, limits);
  REQUIRE(RequestParser::IsRefusal(p.ec));
  REQUIRE(p.refusal);
  return p.refusal->status;
}

}  // namespace

TEST_CASE("a plain request parses, with its body and fields") {
  Parsed p = Parse("PUT /kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi");
  REQUIRE(p.done);
  CHECK(p.request.method() == http::verb::put);
  CHECK(p.request.target() == "/kv/a");
  CHECK(p.request.body() == "hi");
  CHECK(p.request["X-A"] == "b");
  Parsed c = Parse(
      "PUT /kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2;e=1\r\nhi\r\n1\r\n!\r\n0\r\nX-Trailer: t\r\n\r\n");
  REQUIRE(c.done);
  CHECK(c.request.body() == "hi!");
  CHECK(c.request.find("X-Trailer") == c.request.end());  // trailers are dropped
}

TEST_CASE("the header limit counts the request line, and a field has a hard ceiling") {
  RequestLimits small;
  small.max_header_bytes = 1024;
  CHECK(RefusedWith("GET /" + std::string(600, 'a') +
                        " HTTP/1.1\r\nHost: x\r\nX: " + std::string(500, 'b') + "\r\n\r\n",
                    small) == http::status::request_header_fields_too_large);
  RequestLimits big;
  big.max_header_bytes = 1u << 20;
  CHECK(RefusedWith("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(66'000, 'b') + "\r\n\r\n",
                    big) == http::status::request_header_fields_too_large);
  CHECK(
      Parse("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(64'000, 'b') + "\r\n\r\n", big).done);
}

TEST_CASE("framing: Transfer-Encoding must end in chunked and never meet Content-Length") {
  for (const char* te : {"identity", "gzip", "xchunked", "chunked, identity", "", "chunked;a=b"}) {
    INFO(te);
    CHECK(RefusedWith(std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + te +
                      "\r\n\r\n") == http::status::bad_request);
  }
  CHECK(RefusedWith("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                    "Content-Length: 1\r\n\r\nx") == http::status::bad_request);
  CHECK(RefusedWith("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") ==
        http::status::bad_request);
  CHECK(RefusedWith("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") ==
        http::status::not_implemented);
  CHECK(RefusedWith("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        http::status::bad_request);
  // Beast's own checks catch Content-Length after chunked (a parse error, not a refusal).
  Parsed p = Parse(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 1\r\n\r\n");
  CHECK(p.ec);
  CHECK_FALSE(p.done);
}

TEST_CASE("chunk extensions and trailers are bounded in total") {
  std::string chunks;
  for (int i = 0; i < 100; i++) chunks += "1;" + std::string(50, 'e') + "\r\nx\r\n";
  CHECK(RefusedWith("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
                    "0\r\n\r\n") == http::status::bad_request);
  RequestLimits limits;
  limits.max_trailer_bytes = 100;
  CHECK(RefusedWith("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: " +
                        std::string(200, 't') + "\r\n\r\n",
                    limits) == http::status::request_header_fields_too_large);
  // What a full read-ahead buffer means depends on where the parser stopped.
  RequestParser parser(limits);
  boost::system::error_code ec;
  std::string head = "PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  parser.put(boost::asio::buffer(head), ec);
  REQUIRE(parser.is_header_done());
  CHECK(parser.OverflowRefusal("5;aaaaaaaa").status == http::status::bad_request);
  CHECK(parser.OverflowRefusal("0\r\nX: aaaa").status ==
        http::status::request_header_fields_too_large);
  CHECK(RequestParser(limits).OverflowRefusal("GET / HTTP/1.1\r\nX: a").status ==
        http::status::request_header_fields_too_large);
}

TEST_CASE("Host: exactly one valid one in HTTP/1.1") {
  CHECK(RefusedWith("GET / HTTP/1.1\r\n\r\n") == http::status::bad_request);
  CHECK(RefusedWith("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == http::status::bad_request);
  CHECK(RefusedWith("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") == http::status::bad_request);
  CHECK(Parse("GET / HTTP/1.0\r\n\r\n").done);
  for (const char* ok :
       {"", "a", "a:1", "[::1]", "[::1]:8080", "x.y-z_~", "%41", "1.2.3.4:65535"}) {
    INFO(ok);
    CHECK(IsValidHostValue(ok));
  }
  for (const char* bad :
       {"a b", "a/b", "a:b", ":1", "[::1", "[]", "a:123456", "@a", "a%4", "[::1]x"}) {
    INFO(bad);
    CHECK_FALSE(IsValidHostValue(bad));
  }
}

TEST_CASE("absolute-form targets become origin form") {
  Parsed p = Parse("GET http://h:1/kv/a?b=c HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(p.done);
  CHECK(p.request.target() == "/kv/a?b=c");
  CHECK(Parse("GET HTTPS://h HTTP/1.1\r\nHost: x\r\n\r\n").request.target() == "/");
  CHECK(Parse("GET http://h?q HTTP/1.1\r\nHost: x\r\n\r\n").request.target() == "/?q");
  CHECK(RefusedWith("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n") == http::status::bad_request);
  // Other schemes are left for the router to refuse.
  CHECK(Parse("GET ftp://h/x HTTP/1.1\r\nHost: x\r\n\r\n").request.target() == "ftp://h/x");
}

TEST_CASE("version errors: newer 1.x is patched to 1.1, other majors are 505") {
  size_t at = 0;
  using V = RequestParser::VersionVerdict;
  const std::string line = "GET / HTTP/1.2\r\nHost: x\r\n\r\n";
  REQUIRE(RequestParser::ClassifyVersionError(line, &at) == V::kNewerMinor);
  CHECK(line.substr(at, 1) == "2");
  CHECK(RequestParser::ClassifyVersionError("GET / HTTP/1.9", &at) == V::kNewerMinor);
  CHECK(RequestParser::ClassifyVersionError("GET / HTTP/2.0\r\n", &at) == V::kOtherMajor);
  CHECK(RequestParser::ClassifyVersionError("GET / HTTP/3\r\n", &at) == V::kOtherMajor);
  CHECK(RequestParser::ClassifyVersionError("GET / HTTP/0.9\r\n", &at) == V::kOtherMajor);
  CHECK(RequestParser::ClassifyVersionError("GET / HTTP/1.1\r\n", &at) == V::kMalformed);
  CHECK(RequestParser::ClassifyVersionError("GET / HTTP/1.x\r\n", &at) == V::kMalformed);
  CHECK(RequestParser::ClassifyVersionError("GET / FTP/1.2\r\n", &at) == V::kMalformed);
}

}  // namespace keyva::server
