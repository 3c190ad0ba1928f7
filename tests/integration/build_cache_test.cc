// Integration tests of build caches (--cache-quota): a Bazel-style and a Gradle-style session
// replayed as those clients send them (Basic auth against a tokens file, uploads without a
// Content-Type, Expect: 100-continue), and the quota: never exceeded, least recently *used*
// entries evicted (with delete events and counters), a too-large upload refused before its body
// is read, and the accounting right after a kill -9 and a restart.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <set>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/token_file.h"

namespace keyva::testing {
namespace {

// Bytes that are no text: every byte value, NULs included.
std::string Blob(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 131 + seed * 7) & 0xff);
  return s;
}

void CheckError(const HttpReply& r, int status) {
  INFO(r.body);
  CHECK(r.status == status);
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.Json()["status"] == status);
}

// The tokens file of these tests: "ci" may read and write the two cache prefixes only.
std::string TokensFile(const TempDir& dir) {
  const std::string path = dir.path() + "/tokens";
  WriteFile(path, TokenLine("ci", "ci-token",
                            "read:kv/bazel/ write:kv/bazel/ read:kv/gradle/ "
                            "write:kv/gradle/"));
  return path;
}

nlohmann::json CacheStats(HttpTestClient& c, const Headers& auth = {}) {
  HttpReply r = c.Send("GET", "/api/stats", "", auth);
  REQUIRE(r.status == 200);
  nlohmann::json caches = r.Json()["server"]["caches"];
  REQUIRE(caches.size() == 1);
  return caches[0];
}

// Every key under prefix and the bytes they count for (key + value).
std::map<std::string, uint64_t> Listing(HttpTestClient& c, const std::string& prefix) {
  HttpReply r = c.Get("/kv/?limit=1000&prefix=" + prefix);
  REQUIRE(r.status == 200);
  std::map<std::string, uint64_t> out;
  const nlohmann::json body = r.Json();  // kept: the loop reads into it
  for (const auto& e : body["keys"]) {
    const std::string key = e["key"];
    out[key] = key.size() + e["size"].get<uint64_t>();
  }
  return out;
}

uint64_t Sum(const std::map<std::string, uint64_t>& m) {
  uint64_t total = 0;
  for (const auto& [k, b] : m) total += b;
  return total;
}

}  // namespace

TEST_CASE("build caches: a Bazel-style session (cas/ and ac/, no Content-Type, Basic auth)") {
  TempDir dir;
  KeyvadProcess keyvad({.args = {"--tokens-file=" + TokensFile(dir), "--cache-quota=bazel/=1MiB"}});
  HttpTestClient c(keyvad.port());
  // What Bazel's HTTP cache client sends (--remote_cache=http://ci:ci-token@host/kv/bazel):
  // PUT with Content-Length, Accept: */*, keep-alive, Basic credentials from the URL, no type.
  const Headers bazel = {{"Authorization", BasicAuth("ci", "ci-token")},
                         {"Accept", "*/*"},
                         {"Connection", "keep-alive"}};
  const std::string output = Blob(5000, 1);
  const std::string cas = "/kv/bazel/cas/" + Sha256Hex(output);
  const std::string action_result = Blob(300, 2);
  const std::string ac = "/kv/bazel/ac/" + Sha256Hex("the action's digest");

  // A cold cache: 404 is a miss.
  CheckError(c.Send("GET", ac, "", bazel), 404);
  // Uploads: Bazel takes 200, 201, 202 and 204 as stored.
  CHECK(c.Send("PUT", cas, output, bazel).status == 201);
  CHECK(c.Send("PUT", ac, action_result, bazel).status == 201);
  CHECK(c.Send("PUT", cas, output, bazel).status == 200);  // uploaded again by another build
  // Hits: the exact bytes.
  HttpReply hit = c.Send("GET", ac, "", bazel);
  CHECK(hit.status == 200);
  CHECK(hit.body == action_result);
  hit = c.Send("GET", cas, "", bazel);
  CHECK(hit.status == 200);
  CHECK(hit.body == output);
  CHECK(c.requests_on_connection() >= 6);  // one keep-alive connection throughout
  CheckError(c.Send("GET", "/kv/bazel/cas/" + Sha256Hex("never built"), "", bazel), 404);

  // Credentials: none, a wrong token, or a token without the prefix are refused.
  CheckError(c.Send("PUT", ac, action_result), 401);
  CheckError(c.Send("PUT", ac, action_result, {{"Authorization", BasicAuth("ci", "wrong")}}), 401);
  CheckError(c.Send("PUT", "/kv/other/ac/00", "x", bazel), 403);

  nlohmann::json stats = CacheStats(c);
  CHECK(stats["prefix"] == "bazel/");
  CHECK(stats["entries"] == 2);
  CHECK(stats["bytes"] == Sum(Listing(c, "bazel/")));
  CHECK(stats["quota"] == 1 << 20);
}

TEST_CASE("build caches: a Gradle-style session (its type, Expect: 100-continue, Basic auth)") {
  TempDir dir;
  KeyvadProcess keyvad(
      {.args = {"--tokens-file=" + TokensFile(dir), "--cache-quota=gradle/=1MiB"}});
  const std::string type = "application/vnd.gradle.build-cache-artifact.v1";
  const std::string auth = BasicAuth("gradle-user", "ci-token");  // any user name
  const std::string key = "b1946ac92492d2347c6235b4d2611184";
  const std::string artifact = Blob(20000, 3);

  // useExpectContinue = true: the header first; the body only after 100 Continue.
  RawConnection conn(keyvad.port());
  conn.Write("PUT /kv/gradle/" + key + " HTTP/1.1\r\nHost: cache\r\nAuthorization: " + auth +
             "\r\nContent-Type: " + type + "\r\nContent-Length: " +
             std::to_string(artifact.size()) + "\r\nExpect: 100-continue\r\n\r\n");
  std::string interim = conn.ReadUntil("\r\n\r\n");
  CHECK(interim.rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
  conn.Write(artifact);
  std::string answer = conn.ReadUntil("}");
  CHECK(StatusOf(answer) == 201);

  HttpTestClient c(keyvad.port());
  const Headers gradle = {{"Authorization", auth}, {"Accept", type + ", */*"}};
  HttpReply hit = c.Send("GET", "/kv/gradle/" + key, "", gradle);
  CHECK(hit.status == 200);
  CHECK(hit.Header("content-type") == type);
  CHECK(hit.body == artifact);
  CheckError(c.Send("GET", "/kv/gradle/0000", "", gradle), 404);  // a miss

  // Refusals come from the header alone, before 100 Continue: no credentials (401), and an
  // entry larger than the quota (413, which Gradle takes as "too large, not stored").
  std::string raw = RawExchange(
      keyvad.port(), "PUT /kv/gradle/k HTTP/1.1\r\nHost: cache\r\nContent-Type: " + type +
                         "\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
  CHECK(StatusOf(raw) == 401);
  CHECK(raw.find("100 Continue") == std::string::npos);
  RawConnection big(keyvad.port());
  big.Write("PUT /kv/gradle/huge HTTP/1.1\r\nHost: cache\r\nAuthorization: " + auth +
            "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(1 << 20) +
            "\r\nExpect: 100-continue\r\n\r\n");
  std::string refused = big.ReadUntil("}");
  CHECK(StatusOf(refused) == 413);
  CHECK(refused.find("100 Continue") == std::string::npos);
  CHECK(refused.find("the build cache \\\"gradle/\\\" holds at most 1048576 bytes") !=
        std::string::npos);
  CHECK(big.WaitForClose(10000));  // the body was never read: the connection ends
  CHECK(c.Send("GET", "/kv/gradle/huge", "", gradle).status == 404);
}

TEST_CASE("build caches: the quota evicts the least recently used and is never exceeded") {
  // Keys "q/NN" (4 bytes) with 1,000-byte values: 1,004 bytes each, ten fit.
  constexpr uint64_t kEntry = 1004;
  constexpr uint64_t kQuota = 10 * kEntry;
  TempDir data;
  auto start = [&] {
    return std::make_unique<KeyvadProcess>(KeyvadProcess::Options{
        .data_dir = data.path() + "/db", .args = {"--cache-quota=q/=" + std::to_string(kQuota)}});
  };
  std::unique_ptr<KeyvadProcess> keyvad = start();
  HttpTestClient c(keyvad->port());
  auto key = [](int i) { return std::string("q/") + (i < 10 ? "0" : "") + std::to_string(i); };
  auto put = [&](int i) {
    HttpReply r = c.Put("/kv/" + key(i), Blob(1000, i));
    REQUIRE(r.status == 201);
    nlohmann::json stats = CacheStats(c);
    CHECK(stats["bytes"].get<uint64_t>() <= kQuota);
    CHECK(stats["bytes"] == Sum(Listing(c, "q/")));
    return r;
  };
  c.Put("/kv/outside",
        std::string(50000, 'x'));  // not under the prefix: neither counted nor evicted
  for (int i = 0; i < 10; i++) put(i);
  CHECK(CacheStats(c)["bytes"] == kQuota);
  // Read 0-4 (oldest written first): 5-9 become the least recently used.
  for (int i = 0; i < 5; i++) CHECK(c.Get("/kv/" + key(i)).status == 200);
  CHECK(c.Send("HEAD", "/kv/" + key(0)).status == 200);  // HEAD is a use too
  const uint64_t since = std::stoull(c.Get("/healthz").Header("x-keyva-revision"));
  for (int i = 10; i < 15; i++) put(i);

  std::set<std::string> expected;
  for (int i : {0, 1, 2, 3, 4, 10, 11, 12, 13, 14}) expected.insert(key(i));
  std::set<std::string> present;
  for (const auto& [k, b] : Listing(c, "q/")) present.insert(k);
  CHECK(present == expected);
  CHECK(c.Get("/kv/outside").status == 200);
  nlohmann::json stats = CacheStats(c);
  CHECK(stats["evictions"] == 5);
  CHECK(stats["entries"] == 10);
  CHECK(stats["bytes"] == kQuota);
  std::string metrics = c.Get("/metrics").body;
  CHECK(metrics.find("keyva_cache_evictions_total{prefix=\"q/\"} 5\n") != std::string::npos);
  CHECK(metrics.find("keyva_cache_bytes{prefix=\"q/\"} " + std::to_string(kQuota) + "\n") !=
        std::string::npos);

  // The evictions are deletes in the feed, marked as such, each before the put that caused it.
  HttpReply feed = c.Get("/watch?prefix=q/&format=ndjson&wait=0s&since=" + std::to_string(since));
  REQUIRE(feed.status == 200);
  std::vector<nlohmann::json> events;
  for (size_t pos = 0, nl; (nl = feed.body.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    events.push_back(nlohmann::json::parse(feed.body.substr(pos, nl - pos)));
  }
  REQUIRE(events.size() == 10);
  for (int i = 0; i < 5; i++) {
    CHECK(events[2 * i]["type"] == "delete");
    CHECK(events[2 * i]["key"] == key(5 + i));
    CHECK(events[2 * i]["reason"] == "evicted");
    CHECK(events[2 * i + 1]["type"] == "put");
    CHECK(events[2 * i + 1]["key"] == key(10 + i));
  }

  // An entry larger than the whole quota: 413 from the header, nothing evicted.
  CheckError(c.Put("/kv/q/big", std::string(kQuota, 'x')), 413);
  // A chunked one (no Content-Length) is refused once its body is in.
  std::string chunked = std::string(kQuota, 'y');
  std::string raw = RawExchange(
      keyvad->port(),
      "PUT /kv/q/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\nConnection: close\r\n\r\n" +
          [&] {
            char len[32];
            snprintf(len, sizeof(len), "%zx\r\n", chunked.size());
            return std::string(len);
          }() +
          chunked + "\r\n0\r\n\r\n");
  CHECK(StatusOf(raw) == 413);
  CHECK(CacheStats(c)["entries"] == 10);
  CHECK(CacheStats(c)["evictions"] == 5);

  // kill -9 and restart: the accounting is rebuilt from what is stored.
  const std::map<std::string, uint64_t> before = Listing(c, "q/");
  REQUIRE(keyvad->Stop(SIGKILL) == 128 + SIGKILL);
  keyvad = start();
  HttpTestClient c2(keyvad->port());
  stats = CacheStats(c2);
  CHECK(stats["bytes"] == Sum(before));
  CHECK(stats["entries"] == before.size());
  CHECK(Listing(c2, "q/") == before);
  // Recency restarts from the write order: the oldest written (q/00) goes first.
  REQUIRE(c2.Put("/kv/" + key(15), Blob(1000, 15)).status == 201);
  CHECK(c2.Get("/kv/" + key(0)).status == 404);
  CHECK(c2.Get("/kv/" + key(1)).status == 200);
  CHECK(CacheStats(c2)["bytes"] == kQuota);
}

}  // namespace keyva::testing
