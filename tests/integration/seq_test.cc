// Integration tests of /seq/{name}: atomic counters; and GET /seq/, the list of them.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("counters increment, read, reset and stay apart from values") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  // An unused counter reads as 0.
  HttpReply r = c.Get("/seq/orders");
  REQUIRE(r.status == 200);
  CHECK(r.Json()["name"] == "orders");
  CHECK(r.Json()["value"] == 0);
  CHECK(r.Json()["revision"].is_number_unsigned());  // the revision the read reflects
  CHECK(r.Header("x-keyva-revision") == std::to_string(r.Json()["revision"].get<uint64_t>()));

  CHECK(c.Send("POST", "/seq/orders").Json()["value"] == 1);
  CHECK(c.Send("POST", "/seq/orders").Json()["value"] == 2);
  CHECK(c.Send("POST", "/seq/orders?by=10").Json()["value"] == 12);
  CHECK(c.Send("POST", "/seq/orders?by=-20").Json()["value"] == -8);
  CHECK(c.Send("POST", "/seq/orders?by=0").Json()["value"] == -8);
  CHECK(c.Get("/seq/orders").Json()["value"] == -8);
  CHECK(c.Send("HEAD", "/seq/orders").status == 200);

  // Names are percent-decoded like keys.
  CHECK(c.Send("POST", "/seq/a%2Fb").Json()["name"] == "a/b");

  // Counters and values do not mix.
  CHECK(c.Get("/kv/orders").status == 404);
  CHECK(c.Get("/kv/").Json()["keys"].empty());
  REQUIRE(c.Put("/kv/orders", "a value", "text/plain").status == 201);
  CHECK(c.Get("/seq/orders").Json()["value"] == -8);

  // DELETE resets (204, also when already absent).
  CHECK(c.Delete("/seq/orders").status == 204);
  CHECK(c.Get("/seq/orders").Json()["value"] == 0);
  CHECK(c.Delete("/seq/orders").status == 204);
  CHECK(c.Send("POST", "/seq/orders").Json()["value"] == 1);
  CHECK(c.Get("/kv/orders").body == "a value");
}

TEST_CASE("counter overflow is 409 and bad increments 400, changing nothing") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  CHECK(c.Send("POST", "/seq/n?by=9223372036854775807").Json()["value"] == 9223372036854775807LL);
  HttpReply r = c.Send("POST", "/seq/n");
  CHECK(r.status == 409);
  CHECK(r.Json()["status"] == 409);
  CHECK(r.Json()["error"].get<std::string>().find("overflow") != std::string::npos);
  CHECK(c.Get("/seq/n").Json()["value"] == 9223372036854775807LL);

  CHECK(c.Send("POST", "/seq/m?by=-9223372036854775808").Json()["value"] ==
        std::numeric_limits<int64_t>::min());
  CHECK(c.Send("POST", "/seq/m?by=-1").status == 409);

  for (const char* by : {"9223372036854775808", "1.5", "x", "", "0x10"}) {
    INFO(by);
    r = c.Send("POST", std::string("/seq/k?by=") + by);
    CHECK(r.status == 400);
    CHECK(r.Json()["status"] == 400);
  }
  CHECK(c.Send("POST", "/seq/k?step=2").status == 400);
  CHECK(c.Get("/seq/k?by=2").status == 400);
  CHECK(c.Get("/seq/k").Json()["value"] == 0);
  CHECK(c.Send("POST", "/seq/").status == 400);
  CHECK(c.Send("POST", "/seq").status == 400);
  CHECK(c.Send("POST", "/seq/" + std::string(1025, 's')).status == 414);
}

TEST_CASE("concurrent increments are atomic") {
  KeyvadProcess keyvad({.args = {"--sync=none"}});
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> seen(kThreads);
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      HttpTestClient c(keyvad.port());
      for (int i = 0; i < kEach; i++)
        seen[t].push_back(c.Send("POST", "/seq/hits").Json()["value"]);
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& v : seen) all.insert(v.begin(), v.end());
  CHECK(all.size() == kThreads * kEach);  // every increment returned a distinct value
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == kThreads * kEach);
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/seq/hits").Json()["value"] == kThreads * kEach);
}

TEST_CASE("GET /seq/ lists the counters with their values, paged by prefix") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply r = c.Get("/seq/");
  REQUIRE(r.status == 200);
  CHECK(r.Json()["counters"].empty());
  CHECK(r.Json()["next"].is_null());
  for (const char* name : {"orders", "visits/home", "visits/about", "visits/blog"}) {
    REQUIRE(c.Send("POST", std::string("/seq/") + name + "?by=3").status == 200);
  }
  REQUIRE(c.Put("/kv/visits/not-a-counter", "7", "text/plain").status == 201);
  REQUIRE(c.Send("POST", "/seq/orders?by=-10").status == 200);

  nlohmann::json j = c.Get("/seq").Json();
  REQUIRE(j["counters"].size() == 4);
  CHECK(j["counters"][0] == nlohmann::json::parse(R"({"name":"orders","value":-7})"));
  CHECK(j["counters"][1]["name"] == "visits/about");
  CHECK(j["revision"].is_number_unsigned());

  j = c.Get("/seq/?prefix=visits/&limit=2").Json();
  REQUIRE(j["counters"].size() == 2);
  CHECK(j["next"] == "visits/blog");
  j = c.Get("/seq/?prefix=visits/&limit=2&after=visits/blog").Json();
  REQUIRE(j["counters"].size() == 1);
  CHECK(j["counters"][0]["name"] == "visits/home");
  CHECK(j["next"].is_null());

  // A reset counter leaves the list; HEAD has no body; bad parameters are 400.
  REQUIRE(c.Delete("/seq/orders").status == 204);
  CHECK(c.Get("/seq/").Json()["counters"].size() == 3);
  r = c.Send("HEAD", "/seq/");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(c.Get("/seq/?limit=0").status == 400);
  CHECK(c.Get("/seq/?delimiter=/").status == 400);
  r = c.Send("DELETE", "/seq/");
  CHECK(r.status == 400);
  CHECK(r.Json()["error"].get<std::string>().find("counter name is empty") != std::string::npos);
}

}  // namespace keyva::testing
