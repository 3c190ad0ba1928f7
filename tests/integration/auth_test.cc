// Integration tests of --auth-token: writes need the bearer token, reads do not.
#include <catch2/catch.hpp>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("with --auth-token, writes need the bearer token and reads stay open") {
  KeyvadProcess keyvad({.args = {"--auth-token=s3cret-token"}});
  HttpTestClient c(keyvad.port());
  const std::pair<std::string, std::string> good = {"Authorization", "Bearer s3cret-token"};

  // Missing token.
  HttpReply r = c.Put("/kv/k", "v", "text/plain");
  CHECK(r.status == 401);
  CHECK(r.Json()["status"] == 401);
  CHECK(r.Header("www-authenticate").rfind("Bearer", 0) == 0);
  // Wrong tokens: another value, a prefix, a longer one, another scheme.
  for (const char* bad : {"Bearer wrong", "Bearer s3cret", "Bearer s3cret-token-and-more",
                          "Basic czNjcmV0LXRva2Vu", "s3cret-token", "Bearer"}) {
    INFO(bad);
    r = c.Send("PUT", "/kv/k", "v", {{"Authorization", bad}});
    CHECK(r.status == 401);
    CHECK(r.Json()["status"] == 401);
  }
  CHECK(c.Get("/kv/k").status == 404);  // nothing was stored

  // The right token.
  CHECK(c.Send("PUT", "/kv/k", "v", {good, {"Content-Type", "text/plain"}}).status == 201);
  CHECK(c.Send("PUT", "/kv/k", "v2", {{"Authorization", "bearer s3cret-token"}}).status == 200);
  // Reads need none.
  CHECK(c.Get("/kv/k").body == "v2");
  CHECK(c.Get("/kv/").status == 200);
  CHECK(c.Get("/seq/n").status == 200);
  CHECK(c.Get("/healthz").status == 200);
  // Every write route is guarded.
  CHECK(c.Delete("/kv/k").status == 401);
  CHECK(c.Send("POST", "/kv/k", "v").status == 401);
  CHECK(c.Send("POST", "/seq/n").status == 401);
  CHECK(c.Delete("/seq/n").status == 401);
  CHECK(c.Get("/kv/k").body == "v2");
  CHECK(c.Send("POST", "/seq/n", "", {good}).Json()["value"] == 1);
  CHECK(c.Send("DELETE", "/kv/k", "", {good}).status == 200);

  // A refused body is not read: 401 comes before the (large) body would be accepted.
  std::string raw = RawExchange(keyvad.port(),
                                "PUT /kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                                "Expect: 100-continue\r\n\r\n");
  CHECK(StatusOf(raw) == 401);
}

}  // namespace keyva::testing
