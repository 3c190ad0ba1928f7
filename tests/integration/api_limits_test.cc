// Integration tests of GET /api/limits: the limits a client (the web page) must respect, read
// from the running server's flags instead of being copied into the client.
#include <catch2/catch.hpp>
#include <string>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("/api/limits reports the default limits as JSON") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Get("/api/limits");
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
  nlohmann::json j = r.Json();
  CHECK(j["max_key_size"] == 1024);
  CHECK(j["max_value_size"] == 16 * 1024 * 1024);
  CHECK(j["max_content_type_size"] == 256);
  CHECK(j["list_limit_max"] == 1000);
  CHECK(j["list_limit_default"] == 100);
  CHECK(j["search_max_size"] == 256);
  CHECK(j["search_max_wildcards"] == 32);
  // The search agrees: a glob of search_max_size bytes is taken, one more is not.
  CHECK(c.Get("/kv/?glob=" + std::string(256, 'g')).status == 200);
  CHECK(c.Get("/kv/?glob=" + std::string(257, 'g')).status == 400);

  // The listing agrees: list_limit_max is accepted, one more is not.
  CHECK(c.Get("/kv/?limit=1000").status == 200);
  CHECK(c.Get("/kv/?limit=1001").status == 400);
}

TEST_CASE("/api/limits follows --max-key-size and --max-value-size") {
  KeyvadProcess keyvad({.args = {"--max-key-size=16", "--max-value-size=1KiB"}});
  HttpTestClient c(keyvad.port());
  nlohmann::json j = c.Get("/api/limits").Json();
  CHECK(j["max_key_size"] == 16);
  CHECK(j["max_value_size"] == 1024);

  // And those are the limits the server enforces.
  CHECK(c.Put("/kv/" + std::string(16, 'k'), std::string(1024, 'v'), "text/plain").status == 201);
  CHECK(c.Put("/kv/" + std::string(17, 'k'), "v", "text/plain").status == 414);
  CHECK(c.Put("/kv/k", std::string(1025, 'v'), "text/plain").status == 413);
}

TEST_CASE("/api/limits answers HEAD, refuses writes and query parameters") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply head = c.Send("HEAD", "/api/limits");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.Header("content-length") == std::to_string(c.Get("/api/limits").body.size()));
  HttpReply post = c.Send("POST", "/api/limits", "x");
  CHECK(post.status == 405);
  CHECK(post.Header("allow") == "GET, HEAD");
  CHECK(c.Get("/api/limits?x=1").status == 400);
}

}  // namespace keyva::testing
