// Read-your-writes with reads served on the I/O threads: a request sent after a write's
// response sees that write — on the same connection (also pipelined: many requests written at
// once), and on any other connection.
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/test_util.h"

namespace keyva::testing {
namespace {

struct RawReply {
  int status = 0;
  std::string body;
};

// Splits raw into the responses it holds (each framed by Content-Length, or without a body);
// stops at the first incomplete one.
std::vector<RawReply> ParseReplies(const std::string& raw) {
  std::vector<RawReply> out;
  size_t at = 0;
  while (true) {
    const size_t end = raw.find("\r\n\r\n", at);
    if (end == std::string::npos) break;
    const std::string head = raw.substr(at, end - at);
    RawReply r;
    r.status = StatusOf(head);
    size_t length = 0;
    const size_t cl = head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
    if (raw.size() < end + 4 + length) break;
    r.body = raw.substr(end + 4, length);
    out.push_back(std::move(r));
    at = end + 4 + length;
  }
  return out;
}

std::string PutRequest(const std::string& key, const std::string& value) {
  return "PUT /kv/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(value.size()) + "\r\n\r\n" + value;
}

std::string GetRequest(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

}  // namespace

TEST_CASE("pipelined writes and reads on one connection: each read sees the write before it",
          "[read_your_writes]") {
  KeyvadProcess keyvad;
  const int pairs = static_cast<int>(test::Scaled<long>(300, 50));
  std::string raw;
  for (int i = 0; i < pairs; i++) {
    // Few keys, so most reads follow an overwrite of what an earlier read saw.
    const std::string key = "p/" + std::to_string(i % 7);
    raw += PutRequest(key, "v" + std::to_string(i));
    raw += GetRequest("/kv/" + key);
    raw += "POST /seq/pipelined HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    raw += GetRequest("/seq/pipelined");
  }
  RawConnection conn(keyvad.port());
  conn.Write(raw);
  std::string got;
  std::vector<RawReply> replies;
  for (int tries = 0; tries < 100 && replies.size() < static_cast<size_t>(4 * pairs); tries++) {
    got += conn.ReadUntil("", 200);
    replies = ParseReplies(got);
  }
  REQUIRE(replies.size() == static_cast<size_t>(4 * pairs));
  for (int i = 0; i < pairs; i++) {
    INFO("pair " << i);
    CHECK(replies[4 * i].status / 100 == 2);
    CHECK(replies[4 * i + 1].status == 200);
    CHECK(replies[4 * i + 1].body == "v" + std::to_string(i));
    CHECK(replies[4 * i + 2].status == 200);
    const auto counter = nlohmann::json::parse(replies[4 * i + 3].body);
    CHECK(counter["value"] == i + 1);
  }
}

TEST_CASE("many connections: a read on another connection sees every acknowledged write",
          "[read_your_writes]") {
  KeyvadProcess keyvad;
  const int writers = 16;
  const int rounds = static_cast<int>(test::Scaled<long>(200, 20));
  std::atomic<int> stale{0}, failed{0};
  std::atomic<int64_t> shared_acked{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; w++) {
    threads.emplace_back([&, w] {
      HttpTestClient writer(keyvad.port());
      HttpTestClient reader(keyvad.port());
      const std::string key = "/kv/w" + std::to_string(w);
      for (int i = 0; i < rounds; i++) {
        const std::string value = std::to_string(i);
        if (writer.Put(key, value, "text/plain").status / 100 != 2) {
          failed++;
          continue;
        }
        // Its own key, through another connection: exactly what was just acknowledged.
        if (reader.Get(key).body != value) stale++;
        // A counter every writer bumps: after my POST answered n, anyone reads at least n.
        HttpReply bumped = writer.Send("POST", "/seq/shared");
        if (bumped.status != 200) {
          failed++;
          continue;
        }
        const int64_t n = bumped.Json()["value"].get<int64_t>();
        int64_t seen = shared_acked.load();
        while (seen < n && !shared_acked.compare_exchange_weak(seen, n)) {
        }
        const int64_t floor = shared_acked.load();
        const int64_t read = reader.Get("/seq/shared").Json()["value"].get<int64_t>();
        if (read < floor) stale++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(stale == 0);
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/seq/shared").Json()["value"] == writers * rounds);
  // Every read ran on the I/O threads, not through the storage queue.
  const std::string metrics = c.Get("/metrics").body;
  CHECK(metrics.find("keyva_storage_reads_total 0\n") == std::string::npos);
}

}  // namespace keyva::testing
