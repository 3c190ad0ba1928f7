// Integration tests of GET /kv/?prefix=&after=&limit=: order, filtering, paging and limits.
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("listing returns keys in order with their metadata") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/b", "22", "text/plain").status == 201);
  REQUIRE(c.Put("/kv/a", "1", "application/json").status == 201);
  REQUIRE(c.Put("/kv/c/d", "333", "image/png").status == 201);
  HttpReply r = c.Get("/kv/");
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type") == "application/json");
  nlohmann::json j = r.Json();
  REQUIRE(j["keys"].size() == 3);
  CHECK(j["next"].is_null());
  CHECK(j["keys"][0]["key"] == "a");
  CHECK(j["keys"][1]["key"] == "b");
  CHECK(j["keys"][2]["key"] == "c/d");
  const nlohmann::json& a = j["keys"][0];
  CHECK(a["size"] == 1);
  CHECK(a["content_type"] == "application/json");
  CHECK(a["etag"] == c.Get("/kv/a").Header("etag"));
  CHECK(a["modified"].get<std::string>().back() == 'Z');
  CHECK(!a.contains("expires"));
  // "/kv" lists too, and HEAD has no body.
  CHECK(c.Get("/kv").Json() == j);
  HttpReply head = c.Send("HEAD", "/kv/");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
}

TEST_CASE("listing filters by prefix and pages with after/limit/next") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  std::set<std::string> want;
  for (int i = 0; i < 25; i++) {
    char key[32];
    std::snprintf(key, sizeof(key), "user/%03d", i);
    want.insert(key);
    REQUIRE(c.Put(std::string("/kv/") + key, "v", "text/plain").status == 201);
  }
  REQUIRE(c.Put("/kv/other", "v", "text/plain").status == 201);
  REQUIRE(c.Put("/kv/usex", "v", "text/plain").status == 201);

  std::set<std::string> got;
  std::string after;
  int pages = 0;
  while (true) {
    std::string target = "/kv/?prefix=user%2F&limit=10";
    if (!after.empty()) target += "&after=" + after;
    nlohmann::json j = c.Get(target).Json();
    pages++;
    std::string last;
    for (const auto& k : j["keys"]) {
      std::string key = k["key"];
      CHECK(key > last);
      last = key;
      CHECK(got.insert(key).second);
    }
    if (j["next"].is_null()) break;
    CHECK(j["next"] == last);
    after = j["next"];
    REQUIRE(pages < 10);
  }
  CHECK(pages == 3);
  CHECK(got == want);

  // after before the prefix starts at the prefix; after past it gives nothing.
  CHECK(c.Get("/kv/?prefix=user/&after=a&limit=1").Json()["keys"][0]["key"] == "user/000");
  CHECK(c.Get("/kv/?prefix=user/&after=z").Json()["keys"].empty());
  CHECK(c.Get("/kv/?prefix=nothing").Json()["keys"].empty());
  // '+' in a query is a space; %2B a plus.
  REQUIRE(c.Put("/kv/a+b", "v", "text/plain").status == 201);
  CHECK(c.Get("/kv/?prefix=a%2Bb").Json()["keys"].size() == 1);
  CHECK(c.Get("/kv/?prefix=a+b").Json()["keys"].empty());
}

TEST_CASE("listing limits: default 100, at most 1000, bad values 400") {
  KeyvadProcess keyvad({.args = {"--sync=none"}});
  HttpTestClient c(keyvad.port());
  for (int i = 0; i < 105; i++) {
    REQUIRE(c.Put("/kv/k" + std::to_string(1000 + i), "v", "text/plain").status == 201);
  }
  nlohmann::json j = c.Get("/kv/").Json();
  CHECK(j["keys"].size() == 100);
  CHECK(j["next"] == "k1099");
  CHECK(c.Get("/kv/?limit=1000").Json()["keys"].size() == 105);
  CHECK(c.Get("/kv/?limit=1").Json()["keys"].size() == 1);
  for (const char* bad : {"0", "1001", "-1", "ten", ""}) {
    INFO(bad);
    HttpReply r = c.Get(std::string("/kv/?limit=") + bad);
    CHECK(r.status == 400);
    CHECK(r.Json()["status"] == 400);
  }
  CHECK(c.Get("/kv/?sort=desc").status == 400);
  CHECK(c.Get("/kv/?prefix=a&prefix=b").status == 400);
  CHECK(c.Get("/kv/?prefix=" + std::string(1025, 'p')).status == 414);
}

}  // namespace keyva::testing
