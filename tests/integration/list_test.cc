// Integration tests of GET /kv/?prefix=&after=&limit=&delimiter=: order, filtering, paging,
// folders and limits.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

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

TEST_CASE("listing with a delimiter shows every folder with its count and size, paged") {
  KeyvadProcess keyvad({.args = {"--sync=none"}});
  HttpTestClient c(keyvad.port());
  // Most keys in the folder that sorts first: the page still reaches every folder.
  for (int i = 0; i < 250; i++) {
    REQUIRE(c.Put("/kv/cache/" + std::to_string(1000 + i), "12345", "text/plain").status == 201);
  }
  for (const char* k : {"config/app.json", "config/db/main.yaml", "docs/readme", "images/a.png",
                        "logs/today", "readme", "users/ann", "users/bob", "zeta"}) {
    REQUIRE(c.Put(std::string("/kv/") + k, "v", "text/plain").status == 201);
  }
  HttpReply r = c.Get("/kv/?delimiter=/");
  REQUIRE(r.status == 200);
  nlohmann::json j = r.Json();
  std::vector<std::string> folders, keys;
  for (const auto& f : j["folders"]) folders.push_back(f["prefix"]);
  for (const auto& k : j["keys"]) keys.push_back(k["key"]);
  CHECK(folders ==
        std::vector<std::string>{"cache/", "config/", "docs/", "images/", "logs/", "users/"});
  CHECK(keys == std::vector<std::string>{"readme", "zeta"});
  CHECK(j["folders"][0]["keys"] == 250);
  CHECK(j["folders"][0]["size"] == 1250);
  CHECK(j["folders"][1]["keys"] == 2);
  CHECK(j["next"].is_null());
  CHECK(r.Header("x-keyva-revision") == std::to_string(j["revision"].get<uint64_t>()));

  // One folder down; and pages of two items, folders and keys together, each cursor going on
  // after the folder it names.
  j = c.Get("/kv/?prefix=config/&delimiter=/").Json();
  CHECK(j["keys"].size() == 1);
  CHECK(j["folders"] == nlohmann::json::parse(R"([{"prefix":"config/db/","keys":1,"size":1}])"));
  std::vector<std::string> items;
  std::string after;
  for (int page = 0; page < 20; page++) {
    std::string target = "/kv/?delimiter=%2F&limit=2";
    if (!after.empty()) target += "&after=" + after;
    j = c.Get(target).Json();
    CHECK(j["keys"].size() + j["folders"].size() <= 2);
    for (const auto& f : j["folders"]) items.push_back(f["prefix"]);
    for (const auto& k : j["keys"]) items.push_back(k["key"]);
    if (j["next"].is_null()) break;
    after = j["next"];
  }
  std::sort(items.begin(), items.end());
  CHECK(items == std::vector<std::string>{"cache/", "config/", "docs/", "images/", "logs/",
                                          "readme", "users/", "zeta"});

  // Without a delimiter the listing is as before: no folders field.
  CHECK_FALSE(c.Get("/kv/?limit=1").Json().contains("folders"));
  // A delimiter of more than 16 bytes is refused with a reason.
  r = c.Get("/kv/?delimiter=" + std::string(17, '-'));
  CHECK(r.status == 400);
  CHECK(r.Json()["error"].get<std::string>().find("delimiter") != std::string::npos);
}

TEST_CASE("listing searches: glob and contains find keys anywhere, paged, with folders too") {
  KeyvadProcess keyvad({.args = {"--sync=none"}});
  HttpTestClient c(keyvad.port());
  for (const char* k :
       {"config/app/feature-flags.json", "config/app/db.yaml", "config/web/feature-x",
        "config/web/v2/feature-y", "docs/FLAGS.md", "images/logo.png"}) {
    REQUIRE(c.Put(std::string("/kv/") + k, "v", "text/plain").status == 201);
  }
  const auto keys = [&c](const std::string& target) {
    HttpReply r = c.Get(target);
    REQUIRE(r.status == 200);
    const nlohmann::json body = r.Json();  // kept: a range-for over a temporary's member dangles
    std::vector<std::string> out;
    for (const auto& k : body["keys"]) out.push_back(k["key"]);
    return out;
  };
  CHECK(keys("/kv/?glob=config/*/feature*") ==
        std::vector<std::string>{"config/app/feature-flags.json", "config/web/feature-x"});
  CHECK(keys("/kv/?glob=config/**/feature*") ==
        std::vector<std::string>{"config/app/feature-flags.json", "config/web/feature-x",
                                 "config/web/v2/feature-y"});
  CHECK(keys("/kv/?contains=flags") ==
        std::vector<std::string>{"config/app/feature-flags.json", "docs/FLAGS.md"});
  CHECK(keys("/kv/?contains=flags&prefix=docs/") == std::vector<std::string>{"docs/FLAGS.md"});
  CHECK(keys("/kv/?glob=nothing*").empty());

  // Pages of one, following next, find the same keys.
  std::vector<std::string> paged;
  std::string after;
  for (int page = 0; page < 20; page++) {
    nlohmann::json j =
        c.Get("/kv/?contains=feature&limit=1" + (after.empty() ? "" : "&after=" + after)).Json();
    for (const auto& k : j["keys"]) paged.push_back(k["key"]);
    if (j["next"].is_null()) break;
    after = j["next"];
  }
  CHECK(paged.size() == 3);

  // With a delimiter: the folders that hold matches, counting only the matches.
  nlohmann::json j = c.Get("/kv/?delimiter=/&contains=feature").Json();
  CHECK(j["folders"] == nlohmann::json::parse(R"([{"prefix":"config/","keys":3,"size":3}])"));

  // Bad searches are 400 with the reason.
  for (const char* bad :
       {"/kv/?glob=", "/kv/?contains=", "/kv/?glob=a%5C", "/kv/?glob=a&contains=b"}) {
    INFO(bad);
    HttpReply r = c.Get(bad);
    CHECK(r.status == 400);
    CHECK(r.Json()["error"].is_string());
  }
}

}  // namespace keyva::testing
