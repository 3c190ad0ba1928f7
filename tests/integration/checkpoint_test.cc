// Integration tests of POST /api/checkpoint: a checkpoint taken under a concurrent write load,
// restored into a new directory and served by a fresh keyvad, holds every write acknowledged
// before the checkpoint was requested and none sent after it was answered; and the route's
// refusals (disabled, bad names, existing name, method, auth).
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/test_util.h"

namespace keyva::testing {
namespace {

std::string ValueFor(const std::string& key) { return "value of " + key + std::string(300, '.'); }

}  // namespace

TEST_CASE("a checkpoint under write load restores every write acknowledged before it",
          "[checkpoint]") {
  TempDir dir;
  const std::string backups = dir.path() + "/backups";
  KeyvadProcess keyvad(
      {.args = {"--backup-dir=" + backups, "--memtable-size=64KiB", "--sync=always"}});
  const size_t before_target = keyva::test::Scaled<size_t>(2000, 200);
  constexpr int kWriters = 4;

  std::atomic<bool> checkpoint_requested{false}, checkpoint_answered{false}, stop{false};
  std::atomic<size_t> acknowledged{0};
  std::mutex mu;
  std::vector<std::string> acked_before;  // acknowledged before the checkpoint was requested
  std::vector<std::string> sent_after;    // sent after the checkpoint was answered
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; w++) {
    writers.emplace_back([&, w] {
      HttpTestClient c(keyvad.port());
      for (int i = 0; !stop.load(); i++) {
        const std::string key = "w" + std::to_string(w) + "/" + std::to_string(i);
        const bool after = checkpoint_answered.load();
        HttpReply r = c.Put("/kv/" + key, ValueFor(key), "text/plain");
        if (r.status != 201) {
          failures++;
          continue;
        }
        acknowledged++;
        std::lock_guard<std::mutex> l(mu);
        if (after) {
          sent_after.push_back(key);
        } else if (!checkpoint_requested.load()) {
          acked_before.push_back(key);
        }
      }
    });
  }
  while (acknowledged.load() < before_target && failures.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  HttpTestClient admin(keyvad.port());
  checkpoint_requested = true;
  HttpReply r = admin.Send("POST", "/api/checkpoint?name=under-load");
  checkpoint_answered = true;
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.Json()["name"] == "under-load");
  const size_t at_answer = acknowledged.load();
  while (acknowledged.load() < at_answer + 200 && failures.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : writers) t.join();
  REQUIRE(failures.load() == 0);
  REQUIRE(keyvad.Stop(SIGTERM) == 0);
  REQUIRE(acked_before.size() >= before_target);
  REQUIRE(!sent_after.empty());

  // Restore: copy the checkpoint into a new directory and serve it.
  const std::string restored = dir.path() + "/restored";
  std::filesystem::copy(backups + "/under-load", restored,
                        std::filesystem::copy_options::recursive);
  KeyvadProcess second({.data_dir = restored});
  HttpTestClient c(second.port());
  size_t missing = 0;
  for (const std::string& key : acked_before) {
    HttpReply got = c.Get("/kv/" + key);
    if (got.status != 200 || got.body != ValueFor(key)) {
      if (missing++ < 5) UNSCOPED_INFO("missing or wrong: " << key << " -> " << got.status);
    }
  }
  CHECK(missing == 0);
  size_t present_after = 0;
  for (const std::string& key : sent_after) {
    if (c.Get("/kv/" + key).status != 404) present_after++;
  }
  CHECK(present_after == 0);
  CHECK(second.Stop(SIGTERM) == 0);
}

TEST_CASE("/api/checkpoint refuses what it must and never overwrites", "[checkpoint]") {
  SECTION("disabled without --backup-dir") {
    KeyvadProcess keyvad;
    HttpTestClient c(keyvad.port());
    CHECK(c.Send("POST", "/api/checkpoint?name=x").status == 403);
  }
  SECTION("names, methods, an existing name and the auth token") {
    TempDir dir;
    const std::string backups = dir.path() + "/b";
    KeyvadProcess keyvad({.args = {"--backup-dir=" + backups, "--auth-token=s3cret"}});
    HttpTestClient c(keyvad.port());
    const std::vector<std::pair<std::string, std::string>> auth = {
        {"Authorization", "Bearer s3cret"}};
    CHECK(c.Send("POST", "/api/checkpoint?name=one").status == 401);
    CHECK(c.Send("POST", "/api/checkpoint?name=one", "", {{"Authorization", "Bearer no"}}).status ==
          401);
    for (const char* bad :
         {"..", ".hidden", "a%2Fb", "a%2F..%2F..%2Fetc", "sp%20ace", "%00", "%C3%A9t%C3%A9"}) {
      INFO(bad);
      CHECK(c.Send("POST", std::string("/api/checkpoint?name=") + bad, "", auth).status == 400);
    }
    CHECK(c.Send("POST", "/api/checkpoint?name=" + std::string(129, 'x'), "", auth).status == 400);
    CHECK(c.Send("POST", "/api/checkpoint?other=1", "", auth).status == 400);
    CHECK(c.Send("GET", "/api/checkpoint").status == 405);

    REQUIRE(c.Put("/kv/k", "v").status == 401);
    REQUIRE(c.Send("PUT", "/kv/k", "v", auth).status == 201);
    HttpReply r = c.Send("POST", "/api/checkpoint?name=nightly-1.0_a", "", auth);
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(std::filesystem::exists(backups + "/nightly-1.0_a/CURRENT"));
    CHECK(c.Send("POST", "/api/checkpoint?name=nightly-1.0_a", "", auth).status == 409);

    r = c.Send("POST", "/api/checkpoint", "", auth);
    REQUIRE(r.status == 201);
    const std::string name = r.Json()["name"];
    CHECK(name.rfind("checkpoint-", 0) == 0);
    CHECK(std::filesystem::exists(backups + "/" + name + "/CURRENT"));
    // Nothing was written outside the backup directory.
    int entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(backups)) {
      (void)e;
      entries++;
    }
    CHECK(entries == 2);
    CHECK(keyvad.Stop(SIGTERM) == 0);
  }
}

}  // namespace keyva::testing

namespace keyva::testing {

TEST_CASE("keyva health and keyva checkpoint", "[checkpoint]") {
  TempDir dir;
  const std::string backups = dir.path() + "/backups";
  KeyvadProcess keyvad({.args = {"--backup-dir=" + backups}});
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(keyvad.port());
  std::string out;
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "health"}, &out) == 0);
  CHECK(out == "healthy\n");
  REQUIRE(RunProgram(KEYVA_CLI_PATH, {url, "put", "k"}, &out, {}, "v") == 0);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "checkpoint", "cli-1"}, &out) == 0);
  CHECK(out == backups + "/cli-1\n");
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "checkpoint", "cli-1"}, &out) == 1);  // exists: 409
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "checkpoint", "../up"}, &out) == 1);  // refused: 400
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "checkpoint"}, &out) == 0);
  CHECK(out.rfind(backups + "/checkpoint-", 0) == 0);
  REQUIRE(keyvad.Stop(SIGTERM) == 0);
  // Nothing listens any more: unreachable is exit code 3.
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "health"}, &out) == 3);
}

}  // namespace keyva::testing
