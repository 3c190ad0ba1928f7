// Crash campaign against the real keyvad (issue 7, point 4).
//
// keyvad runs with --sync=always and 64 KiB memtables, so flushes and compactions run all the time.
// Each round: start keyvad on the same data directory and time it from spawn to a healthy
// /healthz; check the whole state against the model; then 4 clients run a mixed load (PUTs,
// DELETEs, If-Match PUTs and DELETEs with current and stale ETags, GETs, their own counter and a
// shared one) and keyvad is SIGKILLed at a random moment.
//
// The model: each client owns its keys and its counter, so their acknowledged state is exact. A
// client stops at its first connection error; that request is "unknown" (either outcome is
// allowed) and is resolved by what the next restart reads. After each restart:
//   - a key reads back as its acknowledged value (with the acknowledged ETag) or, if it had an
//     unknown request, as that request's outcome; acknowledged deletes stay deleted; the listing
//     holds exactly the live keys;
//   - a counter is at least its acknowledged value and at most that plus its unknown increments
//     (so it never goes backwards); the shared counter likewise with every client's increments.
// While running, each answer is checked too (status, counter value, GET body).
//
// Rounds: KEYVA_CRASH_ROUNDS, else 10 x KEYVA_TEST_SCALE (at least 3). Prints rounds, checks,
// acknowledged operations and recovery times. KEYVA_TEST_SEED replays the choices of values and
// operations (the kill moments depend on scheduling).
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/test_util.h"

namespace keyva::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCampaignClients = 4;
constexpr int kKeysPerClient = 40;
const std::string kStaleEtag = "\"0123456789abcdef\"";

struct KeyState {
  std::optional<std::string> value;  // acknowledged: nullopt = absent
  std::string etag;                  // of the acknowledged value
  bool unknown = false;              // a request with no answer may have changed it to...
  std::optional<std::string> unknown_value;
};

struct ClientModel {
  std::vector<KeyState> keys = std::vector<KeyState>(kKeysPerClient);
  int64_t counter = 0;          // acknowledged value of /seq/client-N
  int64_t counter_unknown = 0;  // increments without an answer
  int64_t hot_acked = 0;        // acknowledged increments of /seq/hot this round
  int64_t hot_unknown = 0;
  uint64_t ops = 0;  // acknowledged operations
  std::vector<std::string> failures;
};

std::string KeyName(int client, int k) {
  return "c" + std::to_string(client) + "/k" + std::to_string(k);
}

std::string MakeValue(const std::string& key, uint64_t serial, std::mt19937_64& rng) {
  std::string v = key + "#" + std::to_string(serial) + ":";
  const size_t len = v.size() + rng() % 2000;
  while (v.size() < len) v.push_back(static_cast<char>('a' + rng() % 26));
  return v;
}

void Fail(ClientModel* m, const std::string& what) {
  if (m->failures.size() < 20) m->failures.push_back(what);
}

// One client's load until keyvad dies (or the client sees something wrong).
void RunClient(uint16_t port, int client, uint64_t seed, uint64_t round, ClientModel* m) {
  std::mt19937_64 rng(seed);
  HttpTestClient c(port);
  const std::string counter = "/seq/client-" + std::to_string(client);
  for (uint64_t serial = round << 32;; serial++) {
    const int k = static_cast<int>(rng() % kKeysPerClient);
    KeyState& s = m->keys[k];
    const std::string key = KeyName(client, k);
    const std::string path = "/kv/" + key;
    const int op = static_cast<int>(rng() % 100);
    // What an unanswered request may have left; set before sending.
    std::optional<std::string> outcome = s.value;
    int64_t* unknown_counter = nullptr;
    try {
      if (op < 30) {  // PUT
        std::string v = MakeValue(key, serial, rng);
        outcome = v;
        HttpReply r = c.Put(path, v, "text/plain");
        if (r.status != (s.value ? 200 : 201))
          return Fail(m, "PUT " + key + " -> " + std::to_string(r.status));
        s.value = std::move(v);
        s.etag = r.Header("etag");
      } else if (op < 45) {  // DELETE
        outcome = std::nullopt;
        HttpReply r = c.Delete(path);
        if (r.status != (s.value ? 200 : 404))
          return Fail(m, "DELETE " + key + " -> " + std::to_string(r.status));
        s.value.reset();
      } else if (op < 60) {  // PUT If-Match: the current ETag (or * when absent) or a stale one
        const bool stale = rng() % 4 == 0 || !s.value;
        std::string v = MakeValue(key, serial, rng);
        if (!stale) outcome = v;
        HttpReply r = c.Send("PUT", path, v,
                             {{"Content-Type", "text/plain"},
                              {"If-Match", stale ? (s.value ? kStaleEtag : "*") : s.etag}});
        if (r.status != (stale ? 412 : 200))
          return Fail(m, "If-Match PUT " + key + " -> " + std::to_string(r.status));
        if (!stale) {
          s.value = std::move(v);
          s.etag = r.Header("etag");
        }
      } else if (op < 65) {  // DELETE If-Match with the current ETag
        if (s.value) outcome = std::nullopt;
        HttpReply r = c.Send("DELETE", path, "", {{"If-Match", s.value ? s.etag : kStaleEtag}});
        if (r.status != (s.value ? 200 : 412))
          return Fail(m, "If-Match DELETE " + key + " -> " + std::to_string(r.status));
        s.value.reset();
      } else if (op < 75) {  // GET: reads what was acknowledged
        HttpReply r = c.Get(path);
        if (r.status != (s.value ? 200 : 404) ||
            (s.value && (r.body != *s.value || r.Header("etag") != s.etag))) {
          return Fail(m,
                      "GET " + key + " -> " + std::to_string(r.status) + " differs from the model");
        }
      } else if (op < 90) {  // this client's counter
        unknown_counter = &m->counter_unknown;
        HttpReply r = c.Send("POST", counter);
        if (r.status != 200 || r.Json()["value"] != m->counter + 1)
          return Fail(m, "POST " + counter + " -> " + r.body);
        m->counter++;
      } else {  // the shared counter
        unknown_counter = &m->hot_unknown;
        HttpReply r = c.Send("POST", "/seq/hot");
        if (r.status != 200) return Fail(m, "POST /seq/hot -> " + std::to_string(r.status));
        m->hot_acked++;
      }
      m->ops++;
    } catch (const std::exception&) {  // no answer: keyvad was killed
      if (unknown_counter != nullptr) {
        ++*unknown_counter;
      } else if (outcome != s.value) {
        s.unknown = true;
        s.unknown_value = std::move(outcome);
      }
      return;
    }
  }
}

// What the restarts found.
struct Tally {
  uint64_t checked = 0;          // values and counters compared with the model
  uint64_t unknown_applied = 0;  // unanswered requests whose effect is there
  uint64_t unknown_absent = 0;   // ... and whose effect is not
};

// Checks what keyvad holds against the model and resolves unknowns.
void VerifyAndResolve(uint16_t port, std::vector<ClientModel>* models, int64_t* hot, Tally* tally,
                      std::vector<std::string>* failures) {
  HttpTestClient c(port);
  uint64_t& checked = tally->checked;
  size_t live = 0;
  int64_t hot_acked = *hot, hot_unknown = 0;
  for (int t = 0; t < kCampaignClients; t++) {
    ClientModel& m = (*models)[t];
    for (int k = 0; k < kKeysPerClient; k++) {
      KeyState& s = m.keys[k];
      const std::string key = KeyName(t, k);
      HttpReply r = c.Get("/kv/" + key);
      std::optional<std::string> got;
      if (r.status == 200) got = r.body;
      const bool as_acked = got == s.value && (!got || r.Header("etag") == s.etag);
      if (r.status != 200 && r.status != 404) {
        failures->push_back(key + ": GET answered " + std::to_string(r.status));
      } else if (!as_acked && !(s.unknown && got == s.unknown_value)) {
        failures->push_back(key + ": " + (got ? std::to_string(got->size()) + " bytes" : "absent") +
                            ", acknowledged " + (s.value ? "a value" : "absent") +
                            (s.unknown ? " (unknown request pending)" : ""));
      } else if (s.unknown) {
        ++*(as_acked ? &tally->unknown_absent : &tally->unknown_applied);
      }
      s.value = got;
      s.etag = r.Header("etag");
      s.unknown = false;
      s.unknown_value.reset();
      live += got ? 1 : 0;
      checked++;
    }
    const int64_t v = c.Send("GET", "/seq/client-" + std::to_string(t)).Json()["value"];
    if (v < m.counter || v > m.counter + m.counter_unknown) {
      failures->push_back("counter client-" + std::to_string(t) + " = " + std::to_string(v) +
                          ", acknowledged " + std::to_string(m.counter) + " + " +
                          std::to_string(m.counter_unknown) + " unknown");
    }
    tally->unknown_applied += std::max<int64_t>(0, v - m.counter);
    tally->unknown_absent += std::max<int64_t>(0, m.counter + m.counter_unknown - v);
    m.counter = v;
    m.counter_unknown = 0;
    hot_acked += m.hot_acked;
    hot_unknown += m.hot_unknown;
    m.hot_acked = m.hot_unknown = 0;
    checked++;
  }
  const int64_t v = c.Send("GET", "/seq/hot").Json()["value"];
  if (v < hot_acked || v > hot_acked + hot_unknown) {
    failures->push_back("counter hot = " + std::to_string(v) + ", acknowledged " +
                        std::to_string(hot_acked) + " + " + std::to_string(hot_unknown) +
                        " unknown");
  }
  *hot = v;
  nlohmann::json listing = c.Get("/kv/?limit=1000").Json();
  if (listing["keys"].size() != live || !listing["next"].is_null()) {
    failures->push_back("listing holds " + std::to_string(listing["keys"].size()) +
                        " keys, the model " + std::to_string(live));
  }
  checked++;
}

int CampaignRounds() {
  return static_cast<int>(test::EnvCount("KEYVA_CRASH_ROUNDS").value_or(test::Scaled(10, 3)));
}

}  // namespace

TEST_CASE("crash campaign: kill -9 under mixed load keeps every acknowledged state",
          "[keyvad_crash_campaign]") {
  const uint64_t seed = test::TestSeed();
  const int rounds = CampaignRounds();
  std::cout << "keyvad crash campaign: seed " << seed << ", " << rounds << " rounds" << std::endl;
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::vector<std::string> args = {"--sync=always", "--memtable-size=64KiB"};

  std::vector<ClientModel> models(kCampaignClients);
  int64_t hot = 0;
  Tally tally;
  uint64_t ops = 0;
  std::vector<double> recovery_ms;
  std::vector<std::string> failures;
  for (int round = 0; round <= rounds; round++) {
    const auto spawn = Clock::now();
    KeyvadProcess keyvad({.data_dir = data, .args = args});
    REQUIRE(WaitUntilHealthy(keyvad.port()));
    recovery_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - spawn).count());
    VerifyAndResolve(keyvad.port(), &models, &hot, &tally, &failures);
    INFO("round " << round << ", seed " << seed << "\n" << keyvad.Log());
    for (const std::string& f : failures) UNSCOPED_INFO(f);
    REQUIRE(failures.empty());
    if (round == rounds) {  // the final restart only verifies
      CHECK(keyvad.Stop(SIGTERM) == 0);
      break;
    }
    std::vector<std::thread> clients;
    for (int t = 0; t < kCampaignClients; t++) {
      clients.emplace_back(RunClient, keyvad.port(), t, rng(), static_cast<uint64_t>(round),
                           &models[t]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 800));
    const int code = keyvad.Stop(SIGKILL);
    for (std::thread& t : clients) t.join();
    REQUIRE(code == 128 + SIGKILL);
    for (ClientModel& m : models) {
      for (const std::string& f : m.failures) UNSCOPED_INFO(f);
      REQUIRE(m.failures.empty());
      ops += m.ops;
      m.ops = 0;
    }
  }
  std::sort(recovery_ms.begin(), recovery_ms.end());
  double sum = 0;
  for (double ms : recovery_ms) sum += ms;
  std::cout << "keyvad crash campaign: " << rounds << " rounds, " << ops
            << " acknowledged operations, " << tally.checked << " values verified after restarts, "
            << tally.unknown_applied << " unanswered requests found applied and "
            << tally.unknown_absent << " not, "
            << "shared counter " << hot << "; recovery (spawn to /healthz ok) ms: min "
            << recovery_ms.front() << ", median " << recovery_ms[recovery_ms.size() / 2]
            << ", mean " << sum / recovery_ms.size() << ", max " << recovery_ms.back() << std::endl;
  CHECK(ops >= static_cast<uint64_t>(rounds));  // the load really ran
}

}  // namespace keyva::testing
