// Integration tests of GET /api/token: what the request's token may do (the rights of its line
// in --tokens-file, its expiry), 401 without a valid token when tokens are configured, and
// "everything" when none are.
#include <catch2/catch.hpp>
#include <string>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/token_file.h"

namespace keyva::testing {
namespace {

TEST_CASE("GET /api/token lists the token's rights and expiry") {
  TempDir dir;
  WriteFile(dir.path() + "/tokens",
            TokenLine("ci", "ci-tok",
                      "read:kv/builds/ write:kv/builds/ delete:seq/runs/ "
                      "expires=2200-01-02T03:04:05Z") +
                TokenLine("ops", "ops-tok", "admin read") +
                TokenLine("old", "old-tok", "read expires=2001-01-01T00:00:00Z"));
  KeyvadProcess keyvad({.args = {"--tokens-file=" + dir.path() + "/tokens"}});
  HttpTestClient c(keyvad.port());

  HttpReply r = c.Send("GET", "/api/token", "", Bearer("ci-tok"));
  REQUIRE(r.status == 200);
  nlohmann::json body = r.Json();
  CHECK(body["token"] == "ci");
  CHECK(body["expires"] == "2200-01-02T03:04:05.000Z");
  CHECK(body["all"] == false);
  CHECK(body["reads_open"] == true);  // no --auth-reads
  CHECK(body["rights"] == nlohmann::json::parse(R"([
    {"right":"read","scope":"kv","prefix":"builds/"},
    {"right":"write","scope":"kv","prefix":"builds/"},
    {"right":"delete","scope":"seq","prefix":"runs/"}])"));

  body = c.Send("GET", "/api/token", "", Bearer("ops-tok")).Json();
  CHECK(body["token"] == "ops");
  CHECK(body["expires"].is_null());
  CHECK(body["rights"] == nlohmann::json::parse(R"([{"right":"admin"},
    {"right":"read","scope":"kv","prefix":""},{"right":"read","scope":"seq","prefix":""}])"));

  // Without a valid token: 401, as for any other request that needs one.
  for (const Headers& h : {Headers{}, Bearer("nope"), Bearer("old-tok")}) {
    HttpReply refused = c.Send("GET", "/api/token", "", h);
    CHECK(refused.status == 401);
    CHECK(refused.Json()["status"] == 401);
    CHECK_FALSE(refused.Header("www-authenticate").empty());
  }
  CHECK(c.Send("POST", "/api/token", "", Bearer("ci-tok")).status == 405);
}

TEST_CASE("GET /api/token without tokens configured says everything is allowed") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Get("/api/token");
  REQUIRE(r.status == 200);
  nlohmann::json body = r.Json();
  CHECK(body["token"].is_null());
  CHECK(body["all"] == true);
  CHECK(body["reads_open"] == true);
  CHECK(body["rights"].size() == 7);  // read, write, delete over kv and seq; admin
  CHECK(body["rights"].back() == nlohmann::json{{"right", "admin"}});
  // Whatever Authorization comes, it is not checked.
  CHECK(c.Send("GET", "/api/token", "", Bearer("anything")).status == 200);
}

TEST_CASE("GET /api/token with --auth-reads and --auth-token") {
  KeyvadProcess keyvad({.args = {"--auth-token=secret", "--auth-reads"}});
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/api/token").status == 401);
  nlohmann::json body = c.Send("GET", "/api/token", "", Bearer("secret")).Json();
  CHECK(body["token"] == "auth-token");
  CHECK(body["reads_open"] == false);
  CHECK(body["all"] == false);
  CHECK(body["rights"].size() == 7);
}

}  // namespace
}  // namespace keyva::testing
