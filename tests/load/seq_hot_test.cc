// One hot counter under concurrent increments (issue 4, acceptance point 4).
//
// 4 clients POST /seq/hot 200,000 times in all (x KEYVA_TEST_SCALE) against keyvad with its
// default settings (--sync=always, so increments are group-committed). Every answer must be 200
// (a 503 is retried: the queue was full, nothing changed); the values returned, taken together,
// are exactly 1..N (no increment lost or counted twice), each client sees its values increase, the
// counter reads N at the end and again after a restart, and the data directory holds at most one
// SST: 200,000 overwrites of one key must not pile up files.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/process_probe.h"
#include "tests/util/test_util.h"

namespace keyva::testing {

TEST_CASE("200,000 POSTs to /seq/hot from 4 clients count exactly and leave at most one SST",
          "[seq_hot]") {
  constexpr int kClients = 4;
  const int64_t per_client = test::Scaled<int64_t>(200000 / kClients, 250);
  const int64_t total = per_client * kClients;
  KeyvadProcess keyvad;
  INFO(keyvad.Log());

  std::vector<std::vector<int64_t>> seen(kClients);
  std::vector<std::string> errors(kClients);
  std::vector<int64_t> retries(kClients, 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; t++) {
    clients.emplace_back([&, t] {
      try {
        HttpTestClient c(keyvad.port());
        seen[t].reserve(static_cast<size_t>(per_client));
        while (static_cast<int64_t>(seen[t].size()) < per_client) {
          HttpReply r = c.Send("POST", "/seq/hot");
          if (r.status == 503) {
            retries[t]++;
            continue;
          }
          if (r.status != 200) {
            errors[t] = "POST /seq/hot answered " + std::to_string(r.status) + ": " + r.body;
            return;
          }
          seen[t].push_back(r.Json()["value"].get<int64_t>());
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const std::string& e : errors) CHECK(e.empty());

  std::vector<int64_t> all;
  for (const auto& values : seen) {
    CHECK(std::is_sorted(values.begin(), values.end()));
    all.insert(all.end(), values.begin(), values.end());
  }
  std::sort(all.begin(), all.end());
  REQUIRE(static_cast<int64_t>(all.size()) == total);
  int64_t gaps = 0;
  for (int64_t i = 0; i < total; i++) gaps += all[i] != i + 1 ? 1 : 0;
  CHECK(gaps == 0);  // every value 1..N was handed out exactly once

  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/seq/hot").Json()["value"] == total);
  const nlohmann::json stats = c.Get("/api/stats").Json();
  CHECK(keyvad.Stop(SIGTERM) == 0);
  const int ssts = test::CountFiles(keyvad.data_dir(), ".sst");
  CHECK(ssts <= 1);

  KeyvadProcess again({.data_dir = keyvad.data_dir()});
  HttpTestClient c2(again.port());
  CHECK(c2.Get("/seq/hot").Json()["value"] == total);
  CHECK(again.Stop(SIGTERM) == 0);
  int64_t retried = 0;
  for (int64_t r : retries) retried += r;
  std::cout << "seq hot: " << total << " increments by " << kClients << " clients in " << seconds
            << " s, " << retried << " retried after 503, final value " << total << ", " << ssts
            << " SST file(s); engine stats " << stats["engine"].dump() << std::endl;
}

}  // namespace keyva::testing
