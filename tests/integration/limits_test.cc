// Integration tests of the session limits: body and header sizes, Content-Length rules,
// malformed requests, Expect: 100-continue, chunked bodies and timeouts.
#include <catch2/catch.hpp>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("a body over --max-value-size is refused with 413 and nothing is stored") {
  KeyvadProcess keyvad({.args = {"--max-value-size=1KiB"}});
  HttpTestClient c(keyvad.port());
  CHECK(c.Put("/kv/fits", std::string(1024, 'a'), "text/plain").status == 201);

  HttpReply r = c.Put("/kv/big", std::string(1025, 'b'), "text/plain");
  CHECK(r.status == 413);
  CHECK(r.Json()["status"] == 413);
  CHECK(r.Header("connection") == "close");
  CHECK(c.Get("/kv/big").status == 404);

  // Decided from Content-Length alone: the body is never sent here.
  std::string raw = RawExchange(keyvad.port(),
                                "PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                                "Content-Type: text/plain\r\n\r\n");
  CHECK(StatusOf(raw) == 413);
  CHECK(raw.find("\"status\":413") != std::string::npos);

  // A large body actually sent is still answered (the server drains it before closing).
  raw = RawExchange(keyvad.port(),
                    "PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" +
                        std::string(300000, 'z'));
  CHECK(StatusOf(raw) == 413);

  // A chunked body that grows past the limit.
  std::string chunk(800, 'c');
  raw = RawExchange(keyvad.port(),
                    "PUT /kv/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "320\r\n" +
                        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
  CHECK(StatusOf(raw) == 413);
  CHECK(c.Get("/kv/big").status == 404);

  // A chunked body within the limit is fine.
  raw = RawExchange(keyvad.port(),
                    "PUT /kv/chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  CHECK(StatusOf(raw) == 201);
  CHECK(c.Get("/kv/chunked").body == "hello");
}

TEST_CASE("Expect: 100-continue gets 100 before the body, or the refusal instead") {
  KeyvadProcess keyvad({.args = {"--max-value-size=1KiB"}});
  {
    RawConnection conn(keyvad.port());
    conn.Write(
        "PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Expect: 100-continue\r\n\r\n");
    std::string got = conn.ReadUntil("\r\n\r\n");
    CHECK(StatusOf(got) == 100);
    conn.Write("hello");
    got = conn.ReadUntil("}");
    CHECK(StatusOf(got) == 201);
  }
  {
    RawConnection conn(keyvad.port());
    conn.Write(
        "PUT /kv/k2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
        "Expect: 100-continue\r\n\r\n");
    std::string got = conn.ReadUntil("}");
    CHECK(StatusOf(got) == 413);
  }
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/kv/k").body == "hello");
  CHECK(c.Get("/kv/k2").status == 404);
}

TEST_CASE("headers over --max-header-size get 431") {
  KeyvadProcess keyvad({.args = {"--max-header-size=2KiB"}});
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Send("GET", "/kv/k", "", {{"X-Big", std::string(4000, 'h')}});
  CHECK(r.status == 431);
  CHECK(r.Json()["status"] == 431);
  // A long URL counts too.
  r = c.Get("/kv/" + std::string(3000, 'u'));
  CHECK(r.status == 431);
  CHECK(c.Get("/healthz").status == 200);
}

TEST_CASE("a value without Content-Length is 411, malformed requests are 400") {
  KeyvadProcess keyvad;
  std::string raw = RawExchange(keyvad.port(), "PUT /kv/k HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(StatusOf(raw) == 411);
  CHECK(raw.find("\"status\":411") != std::string::npos);
  raw = RawExchange(keyvad.port(), "POST /kv/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(StatusOf(raw) == 411);

  raw = RawExchange(keyvad.port(), "THIS IS NOT HTTP\r\n\r\n");
  CHECK(StatusOf(raw) == 400);
  CHECK(raw.find("\"status\":400") != std::string::npos);
  raw = RawExchange(keyvad.port(), "PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
  CHECK(StatusOf(raw) == 400);
  // An absolute-form target is served like its path (RFC 9112 §3.2.2): the key is absent.
  raw = RawExchange(keyvad.port(), "GET http://example.com/kv/k HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(StatusOf(raw) == 404);
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/kv/k").status == 404);
}

TEST_CASE("HTTP/1.0 and pipelined requests are served") {
  KeyvadProcess keyvad;
  std::string raw = RawExchange(keyvad.port(), "GET /healthz HTTP/1.0\r\n\r\n");
  CHECK(raw.rfind("HTTP/1.0 200", 0) == 0);

  RawConnection conn(keyvad.port());
  conn.Write(
      "PUT /kv/p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
      "GET /kv/p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string both;
  CHECK(conn.WaitForClose(10000, &both));
  CHECK(StatusOf(both) == 201);
  size_t second = both.find("HTTP/1.1 200");
  REQUIRE(second != std::string::npos);
  CHECK(both.substr(both.size() - 2) == "hi");
}

TEST_CASE("slow or idle connections are closed by the timeouts") {
  KeyvadProcess keyvad(
      {.args = {"--header-timeout=300ms", "--idle-timeout=300ms", "--body-timeout=300ms"}});
  {
    RawConnection conn(keyvad.port());  // never sends anything
    CHECK(conn.WaitForClose(20000));
  }
  {
    RawConnection conn(keyvad.port());  // a header that never ends
    conn.Write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    CHECK(conn.WaitForClose(20000));
  }
  {
    RawConnection conn(keyvad.port());  // a body that never comes
    conn.Write("PUT /kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(conn.WaitForClose(20000));
  }
  {
    RawConnection conn(keyvad.port());  // idle after a first request
    conn.Write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got = conn.ReadUntil("}");
    CHECK(StatusOf(got) == 200);
    CHECK(conn.WaitForClose(20000));
  }
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/kv/slow").status == 404);
}

}  // namespace keyva::testing
