// The change feed (docs/server.md, "Watch: the change feed") against the real keyvad: revisions
// on every response, GET /watch as Server-Sent Events and as an NDJSON long poll, retention and
// 410, expiry events, bad input; and, registered under their own labels (tests/integration/
// CMakeLists.txt), the long ones: 8 writers with 4 watchers across a SIGTERM and a kill -9
// restart (crash), 1,000 idle watchers and a watcher that stops reading (load).
//
// What a watcher got is compared with the writers' own logs by CheckFeed (tests/util/
// feed_check.h), whose first test below shows it failing on each fault it looks for; the SSE
// client's framing and the listing check have such tests too. Nothing asserts timing: every
// wait is bounded and generous, and what is checked is what arrived.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/feed_check.h"
#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/process_probe.h"
#include "tests/util/sse_client.h"
#include "tests/util/test_util.h"

namespace keyva::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// X-Keyva-Revision of a reply; 0 when absent or not a number.
uint64_t RevisionOf(const HttpReply& r) {
  const std::string h = r.Header("x-keyva-revision");
  if (h.empty() || h.find_first_not_of("0123456789") != std::string::npos || h.size() > 20) {
    return 0;
  }
  return std::stoull(h);
}

uint64_t CurrentRevision(HttpTestClient& c) { return RevisionOf(c.Get("/healthz")); }

// The JSON objects of an NDJSON body, one per non-empty line.
std::vector<nlohmann::json> NdjsonLines(const std::string& body) {
  std::vector<nlohmann::json> out;
  size_t at = 0;
  while (at < body.size()) {
    size_t nl = body.find('\n', at);
    if (nl == std::string::npos) nl = body.size();
    if (nl > at) out.push_back(nlohmann::json::parse(body.substr(at, nl - at)));
    at = nl + 1;
  }
  return out;
}

std::vector<FeedEvent> ParseAll(const std::vector<nlohmann::json>& lines,
                                std::vector<std::string>* problems) {
  std::vector<FeedEvent> out;
  for (const auto& j : lines) out.push_back(ParseFeedEvent(j, problems));
  return out;
}

// Reads events from s until n arrived or timeout_ms passed (or the stream ended).
std::vector<FeedEvent> ReadEvents(SseClient& s, size_t n, int timeout_ms,
                                  std::vector<std::string>* problems) {
  std::vector<FeedEvent> out;
  const auto deadline = Clock::now() + milliseconds(timeout_ms);
  while (out.size() < n && Clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    std::optional<SseEvent> e = s.Next(static_cast<int>(std::max<long long>(1, left)));
    if (!e) {
      if (s.ended()) break;
      continue;
    }
    out.push_back(ParseFeedEvent(e->Json(), problems, e->id, e->type));
  }
  return out;
}

// A change the test makes itself, as the writers' logs record it.
FeedChange Acked(const HttpReply& r, const std::string& type, const std::string& key,
                 bool ttl = false) {
  FeedChange c;
  c.revision = RevisionOf(r);
  c.type = type;
  c.key = key;
  c.ttl = ttl;
  if (type == "put") c.etag = r.Header("etag");
  if (type == "counter" && !r.body.empty()) c.value = r.Json()["value"].get<int64_t>();
  if (type == "counter" && r.body.empty()) c.reset = true;
  return c;
}

void CheckJsonError(const HttpReply& r, int status) {
  INFO("status " << r.status << " body " << r.body);
  CHECK(r.status == status);
  CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["status"] == status);
  CHECK(j["error"].is_string());
  CHECK(!j["error"].get<std::string>().empty());
}

// Polls pred every 50 ms until it holds or timeout passes; returns pred().
template <class Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return pred();
    std::this_thread::sleep_for(milliseconds(50));
  }
  return true;
}

std::string Lines(const std::vector<std::string>& problems) {
  std::string s;
  for (const std::string& p : problems) s += "  " + p + "\n";
  return s;
}

// How two key -> ETag maps differ (at most 20 keys), for messages.
std::string MapDiff(const std::map<std::string, std::string>& want,
                    const std::map<std::string, std::string>& got) {
  std::string out;
  int n = 0;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) {
      if (n++ < 20) out += "  missing " + k + " " + v + "\n";
    } else if (it->second != v) {
      if (n++ < 20) out += "  " + k + ": " + it->second + " instead of " + v + "\n";
    }
  }
  for (const auto& [k, v] : got) {
    if (!want.count(k) && n++ < 20) out += "  extra " + k + " " + v + "\n";
  }
  if (n > 20) out += "  ... " + std::to_string(n - 20) + " more\n";
  return out;
}

}  // namespace

// ---- the checker itself ---------------------------------------------------------------------

TEST_CASE("watch: the feed checker catches each fault it looks for", "[watch]") {
  auto change = [](uint64_t rev, std::string type, std::string key, std::string etag = "",
                   bool ttl = false) {
    FeedChange c;
    c.revision = rev;
    c.type = std::move(type);
    c.key = std::move(key);
    c.etag = std::move(etag);
    c.ttl = ttl;
    if (c.type == "counter") c.value = static_cast<int64_t>(rev);
    return c;
  };
  auto event = [](const FeedChange& c) {
    FeedEvent e;
    e.revision = c.revision;
    e.type = c.type;
    e.key = c.key;
    e.etag = c.etag;
    e.value = c.value;
    e.reset = c.reset;
    return e;
  };
  auto expire = [](uint64_t rev, std::string key) {
    FeedEvent e;
    e.revision = rev;
    e.type = "expire";
    e.key = std::move(key);
    return e;
  };
  const std::vector<FeedChange> acked = {
      change(10, "put", "a/1", "\"e1\""), change(12, "put", "b/1", "\"e2\""),
      change(14, "counter", "a/n"),       change(17, "put", "a/t", "\"e3\"", true),
      change(20, "delete", "a/1"),        change(23, "put", "a/1", "\"e4\""),
  };
  FeedChange maybe;  // a PUT without an answer
  maybe.type = "put";
  maybe.key = "a/2";
  const std::vector<FeedChange> unknown = {maybe};
  FeedEvent maybe_event = event(maybe);
  maybe_event.revision = 25;
  maybe_event.etag = "\"e5\"";
  const FeedWatch all{.prefix = "", .since = 5};
  const FeedWatch a{.prefix = "a/", .since = 5};
  // What a correct watcher of a/ gets: every change under a/, the expire, maybe the unknown PUT.
  const std::vector<FeedEvent> good = {event(acked[0]),   event(acked[2]), event(acked[3]),
                                       expire(19, "a/t"), event(acked[4]), event(acked[5])};
  CHECK(CheckFeed(a, good, acked, unknown).empty());
  std::vector<FeedEvent> with_maybe = good;
  with_maybe.push_back(maybe_event);
  CHECK(CheckFeed(a, with_maybe, acked, unknown).empty());
  std::vector<FeedEvent> everything = good;
  everything.insert(everything.begin() + 1, event(acked[1]));
  CHECK(CheckFeed(all, everything, acked, unknown).empty());
  // Later start: only what comes after since (the TTL put's expire is still required).
  CHECK(CheckFeed({.prefix = "a/", .since = 14},
                  {event(acked[3]), expire(19, "a/t"), event(acked[4]), event(acked[5])}, acked,
                  unknown)
            .empty());

  auto fails = [&](const FeedWatch& w, std::vector<FeedEvent> got, const std::string& what) {
    const std::vector<std::string> problems = CheckFeed(w, got, acked, unknown);
    INFO(what << ":\n" << Lines(problems));
    CHECK(!problems.empty());
    return problems;
  };
  {
    std::vector<FeedEvent> gap = good;
    gap.erase(gap.begin() + 1);  // the counter
    auto p = fails(a, gap, "a gap");
    CHECK(p[0].find("missing") != std::string::npos);
  }
  {
    std::vector<FeedEvent> dup = good;
    dup.insert(dup.begin() + 2, dup[1]);
    fails(a, dup, "a duplicate");
  }
  {
    std::vector<FeedEvent> reorder = good;
    std::swap(reorder[0], reorder[1]);
    fails(a, reorder, "a reorder");
  }
  {
    std::vector<FeedEvent> wrong = good;
    wrong[0].etag = "\"other\"";
    fails(a, wrong, "a put with another ETag");
  }
  {
    std::vector<FeedEvent> wrong = good;
    wrong[1].value = 99;
    fails(a, wrong, "a counter with another value");
  }
  {
    std::vector<FeedEvent> wrong = good;
    wrong[4].type = "put";
    fails(a, wrong, "a delete reported as a put");
  }
  {
    std::vector<FeedEvent> invented = good;
    FeedEvent e = event(acked[5]);
    e.revision = 30;
    invented.push_back(e);
    fails(a, invented, "an event no writer made");
  }
  {
    std::vector<FeedEvent> twice = with_maybe;
    FeedEvent again = maybe_event;
    again.revision = 31;
    twice.push_back(again);
    fails(a, twice, "a write without an answer showing up twice");
  }
  {
    std::vector<FeedEvent> outside = good;
    outside.insert(outside.begin() + 1, event(acked[1]));
    fails(a, outside, "an event outside the prefix");
  }
  {
    std::vector<FeedEvent> early = good;
    early.insert(early.begin(), event(change(4, "put", "a/0", "\"e0\"")));
    fails(a, early, "an event before the watch's start");
  }
  {
    std::vector<FeedEvent> no_expire = good;
    no_expire.erase(no_expire.begin() + 3);
    fails(a, no_expire, "a TTL put without its expire");
  }
  {
    std::vector<FeedEvent> two = good;
    two.insert(two.begin() + 3, expire(18, "a/t"));
    fails(a, two, "two expires for one TTL put");
  }
  {
    std::vector<FeedEvent> wrong_expire = good;
    wrong_expire.push_back(expire(24, "a/1"));
    fails(a, wrong_expire, "an expire of a key written without a TTL");
  }
  {
    std::vector<FeedEvent> before_put = good;
    before_put[3].revision = 16;  // before the TTL put (17) itself
    std::swap(before_put[2], before_put[3]);
    fails(a, before_put, "an expire before its put");
  }
  // Two writes answered with one revision is the server's fault, and shows.
  std::vector<FeedChange> same_revision = acked;
  same_revision.push_back(change(23, "put", "a/9", "\"e9\""));
  CHECK(!CheckFeed(a, good, same_revision, unknown).empty());
}

namespace {

// A one-connection HTTP server on 127.0.0.1 that reads a request and answers it with pieces,
// each written on its own with a pause between, then closes: for the SSE client's own test.
class FakeServer {
 public:
  explicit FakeServer(std::vector<std::string> pieces) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 1) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, pieces = std::move(pieces)] {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10000) <= 0) return;
      const int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd q{conn, POLLIN, 0};
        if (poll(&q, 1, 10000) <= 0) break;
        const ssize_t n = recv(conn, buf, sizeof(buf), 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      for (const std::string& piece : pieces) {
        if (send(conn, piece.data(), piece.size(), MSG_NOSIGNAL) < 0) break;
        std::this_thread::sleep_for(milliseconds(20));
      }
      close(conn);
    });
  }
  ~FakeServer() {
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string Chunk(const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

}  // namespace

TEST_CASE("watch: the SSE test client frames events as the SSE specification says", "[watch]") {
  SECTION("an event stream in chunks split anywhere, ended by a close mid-event") {
    const std::string body =
        Chunk("retry: 1000\n\n: heartbeat\n\nid: 1\nevent: put\ndata: {\"a\":1}\n\n") +
        Chunk("id: 2\r\nevent: delete\r\ndata: line one\r\ndata:line two\r\n\r\nid: 3\nda") +
        Chunk("ta: x\n\n: heartbeat\nid: 9\n\nid: 4\ndata: never ended");
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        "X-Keyva-Revision: 7\r\n\r\n";
    // Pieces cut inside the header, a chunk-size line, a field name and a CRLF.
    const std::string all = head + body;
    std::vector<std::string> pieces;
    size_t from = 0;
    for (size_t at : {size_t{20}, head.size() + 1, head.size() + 40, head.size() + 89,
                      head.size() + 131, all.size()}) {
      pieces.push_back(all.substr(from, at - from));
      from = at;
    }
    FakeServer server(pieces);
    SseClient s(server.port(), "/watch");
    CHECK(s.status() == 200);
    CHECK(s.streaming());
    CHECK(RevisionOf(s.response()) == 7);
    std::vector<SseEvent> got;
    while (std::optional<SseEvent> e = s.Next(5000)) got.push_back(*e);
    CHECK(s.ended());
    REQUIRE(got.size() == 3);
    CHECK(got[0].id == "1");
    CHECK(got[0].type == "put");
    CHECK(got[0].Json() == nlohmann::json({{"a", 1}}));
    CHECK(got[1].id == "2");
    CHECK(got[1].type == "delete");
    CHECK(got[1].data == "line one\nline two");
    CHECK(got[2].id == "3");
    CHECK(got[2].type == "message");
    CHECK(got[2].data == "x");
    // The heartbeat's id (no data: no event) is the last event ID; the unended block's is not.
    CHECK(s.comments() == 2);
    CHECK(s.last_event_id() == "9");
  }
  SECTION("an error answer is read whole") {
    const std::string json = "{\"error\":\"gone\",\"status\":410,\"oldest\":5,\"revision\":9}";
    const std::string all =
        "HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(json.size()) + "\r\n\r\n" + json;
    FakeServer server({all.substr(0, all.size() - 10), all.substr(all.size() - 10)});
    SseClient s(server.port(), "/watch?since=1");
    CHECK(s.status() == 410);
    CHECK(!s.streaming());
    CHECK(s.response().body == json);
    CHECK(!s.Next(100).has_value());
  }
}

// ---- short integration tests ----------------------------------------------------------------

TEST_CASE("watch: every response carries X-Keyva-Revision and a write its own", "[watch]") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  HttpReply health = c.Get("/healthz");
  const uint64_t start = RevisionOf(health);
  CHECK(health.HasHeader("x-keyva-revision"));

  std::vector<uint64_t> writes;
  auto write = [&](HttpReply r, int status) {
    INFO(r.status << " " << r.body);
    CHECK(r.status == status);
    const uint64_t rev = RevisionOf(r);
    CHECK(rev > 0);
    if (!r.body.empty()) CHECK(r.Json()["revision"] == rev);
    writes.push_back(rev);
    return rev;
  };
  const uint64_t created = write(c.Put("/kv/r/a", "one", "text/plain"), 201);
  CHECK(created > start);
  write(c.Put("/kv/r/a", "two", "text/plain"), 200);
  write(c.Put("/kv/r/b?ttl=100", "b", "text/plain"), 201);
  write(c.Send("POST", "/seq/r/n"), 200);
  write(c.Send("POST", "/seq/r/n?by=5"), 200);
  write(c.Delete("/seq/r/n"), 204);
  write(c.Delete("/kv/r/b"), 200);
  for (size_t i = 1; i < writes.size(); i++) CHECK(writes[i] > writes[i - 1]);

  // Reads reflect at least every write answered before them.
  HttpReply get = c.Get("/kv/r/a");
  CHECK(get.status == 200);
  CHECK(RevisionOf(get) >= writes.back());
  HttpReply list = c.Get("/kv/?prefix=r/");
  REQUIRE(list.status == 200);
  CHECK(list.Json()["revision"] == RevisionOf(list));
  CHECK(RevisionOf(list) >= writes.back());
  CHECK(list.Json()["keys"].size() == 1);
  CHECK(RevisionOf(c.Get("/seq/r/n")) >= writes.back());
  // Answers that change nothing carry it too.
  for (HttpReply r : {c.Get("/kv/r/missing"), c.Delete("/kv/r/missing"),
                      c.Send("PUT", "/kv/r/a", "x", {{"If-Match", "\"nope\""}}),
                      c.Get("/kv/?limit=0"), c.Get("/nowhere")}) {
    INFO(r.status << " " << r.body);
    CHECK(r.status / 100 == 4);
    CHECK(RevisionOf(r) >= writes.back());
  }
  CHECK(CurrentRevision(c) >= writes.back());
}

TEST_CASE("watch: SSE events carry what each write answered", "[watch]") {
  KeyvadProcess keyvad({.args = {"--watch-heartbeat=1s"}});
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/other/x", "not watched", "text/plain").status == 201);
  const uint64_t since = CurrentRevision(c);
  REQUIRE(since > 0);

  std::vector<FeedChange> acked;
  HttpReply put_a = c.Put("/kv/ev/a", "hello", "text/plain");
  REQUIRE(put_a.status == 201);
  acked.push_back(Acked(put_a, "put", "ev/a"));
  HttpReply put_b = c.Put("/kv/ev/b?ttl=100", "{}", "application/json");
  REQUIRE(put_b.status == 201);
  acked.push_back(Acked(put_b, "put", "ev/b", true));
  HttpReply del_a = c.Delete("/kv/ev/a");
  REQUIRE(del_a.status == 200);
  acked.push_back(Acked(del_a, "delete", "ev/a"));
  for (int i = 0; i < 2; i++) {
    HttpReply n = c.Send("POST", "/seq/ev/n");
    REQUIRE(n.status == 200);
    acked.push_back(Acked(n, "counter", "ev/n"));
  }
  HttpReply reset = c.Delete("/seq/ev/n");
  REQUIRE(reset.status == 204);
  acked.push_back(Acked(reset, "counter", "ev/n"));
  REQUIRE(c.Put("/kv/other/y", "not watched", "text/plain").status == 201);

  SECTION("prefix: every change under it, with the fields of its answer") {
    SseClient s(keyvad.port(), "/watch?prefix=ev/&since=" + std::to_string(since));
    REQUIRE(s.status() == 200);
    CHECK(s.streaming());
    CHECK(RevisionOf(s.response()) > 0);
    std::vector<SseEvent> raw;
    for (size_t i = 0; i < acked.size(); i++) {
      std::optional<SseEvent> e = s.Next(10000);
      REQUIRE(e.has_value());
      raw.push_back(*e);
    }
    std::vector<std::string> problems;
    std::vector<FeedEvent> got;
    for (const SseEvent& e : raw) got.push_back(ParseFeedEvent(e.Json(), &problems, e.id, e.type));
    INFO(Lines(problems));
    CHECK(problems.empty());
    const std::vector<std::string> feed =
        CheckFeed({.prefix = "ev/", .since = since, .require_expires = false}, got, acked, {});
    INFO(Lines(feed));
    CHECK(feed.empty());
    // The put events carry the metadata the PUT answered.
    const nlohmann::json a = raw[0].Json(), b = raw[1].Json(), ja = put_a.Json(), jb = put_b.Json();
    CHECK(a["etag"] == put_a.Header("etag"));
    CHECK(a["size"] == 5);
    CHECK(a["content_type"] == "text/plain");
    CHECK(a["modified"] == ja["modified"]);
    CHECK(!a.contains("expires"));
    CHECK(b["expires"] == jb["expires"]);
    CHECK(b["content_type"] == "application/json");
    CHECK(raw[2].Json() ==
          nlohmann::json({{"type", "delete"}, {"key", "ev/a"}, {"revision", acked[2].revision}}));
    CHECK(raw[3].Json()["value"] == 1);
    CHECK(raw[4].Json()["value"] == 2);
    CHECK(raw[5].Json()["value"] == 0);
    CHECK(raw[5].Json()["reset"] == true);
    // Nothing else, but heartbeats (--watch-heartbeat=1s) whose id is the stream's position,
    // past changes the watcher does not want; resuming from it repeats and misses nothing.
    HttpReply elsewhere = c.Put("/kv/other/z", "not watched", "text/plain");
    REQUIRE(elsewhere.status == 201);
    CHECK(!s.Next(1500).has_value());
    CHECK(WaitFor(
        [&] {
          return s.Next(100).has_value() ||
                 (!s.last_event_id().empty() &&
                  std::stoull(s.last_event_id()) >= RevisionOf(elsewhere));
        },
        seconds(10)));
    CHECK(s.comments() > 0);
    const std::string position = s.last_event_id();
    INFO("heartbeat position " << position);
    REQUIRE(!position.empty());
    CHECK(std::stoull(position) >= RevisionOf(elsewhere));
    SseClient resumed(keyvad.port(), "/watch?prefix=ev/", {.last_event_id = position});
    REQUIRE(resumed.status() == 200);
    HttpReply next = c.Put("/kv/ev/next", "n", "text/plain");
    std::vector<FeedEvent> after = ReadEvents(resumed, 1, 10000, &problems);
    REQUIRE(after.size() == 1);
    CHECK(after[0].key == "ev/next");
    CHECK(after[0].revision == RevisionOf(next));
    CHECK(!resumed.Next(1000).has_value());
  }
  SECTION("key=: that key only") {
    SseClient s(keyvad.port(), "/watch?key=ev/a&since=" + std::to_string(since));
    REQUIRE(s.status() == 200);
    std::vector<std::string> problems;
    std::vector<FeedEvent> got = ReadEvents(s, 2, 10000, &problems);
    CHECK(!s.Next(1000).has_value());
    CHECK(problems.empty());
    std::vector<FeedChange> of_a = {acked[0], acked[2]};
    INFO(Lines(CheckFeed({.prefix = "ev/a", .since = since}, got, of_a, {})));
    CHECK(CheckFeed({.prefix = "ev/a", .since = since}, got, of_a, {}).empty());
  }
  SECTION("Last-Event-ID resumes after that revision") {
    SseClient s(keyvad.port(), "/watch?prefix=ev/",
                {.last_event_id = std::to_string(acked[2].revision)});
    REQUIRE(s.status() == 200);
    std::vector<std::string> problems;
    std::vector<FeedEvent> got = ReadEvents(s, 3, 10000, &problems);
    CHECK(problems.empty());
    const FeedWatch w{.prefix = "ev/", .since = acked[2].revision, .require_expires = false};
    INFO(Lines(CheckFeed(w, got, acked, {})));
    CHECK(CheckFeed(w, got, acked, {}).empty());
  }
  SECTION("without since: from the response's revision on") {
    SseClient s(keyvad.port(), "/watch?prefix=ev/");
    REQUIRE(s.status() == 200);
    const uint64_t from = RevisionOf(s.response());
    CHECK(from >= acked.back().revision);
    HttpReply put = c.Put("/kv/ev/c", "c", "text/plain");
    std::vector<std::string> problems;
    std::vector<FeedEvent> got = ReadEvents(s, 1, 10000, &problems);
    REQUIRE(got.size() == 1);
    CHECK(got[0].key == "ev/c");
    CHECK(got[0].revision == RevisionOf(put));
  }
  SECTION("the stream ends when keyvad shuts down") {
    SseClient s(keyvad.port(), "/watch?since=" + std::to_string(since));
    REQUIRE(s.status() == 200);
    std::vector<std::string> problems;
    // The feed holds the unwatched puts too.
    CHECK(ReadEvents(s, acked.size() + 1, 10000, &problems).size() == acked.size() + 1);
    CHECK(keyvad.Stop(SIGTERM) == 0);
    CHECK(s.WaitForEnd(5000));
  }
}

TEST_CASE("watch: the NDJSON long poll", "[watch]") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const uint64_t since = CurrentRevision(c);
  std::vector<FeedChange> acked;
  for (int i = 0; i < 3; i++) {
    const std::string key = "lp/" + std::to_string(i);
    HttpReply r = c.Put("/kv/" + key, "v", "text/plain");
    REQUIRE(r.status == 201);
    acked.push_back(Acked(r, "put", key));
  }
  std::vector<std::string> problems;

  // Events after since, at once.
  HttpReply r = c.Get("/watch?prefix=lp/&format=ndjson&wait=30s&since=" + std::to_string(since));
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type").rfind("application/x-ndjson", 0) == 0);
  std::vector<FeedEvent> got = ParseAll(NdjsonLines(r.body), &problems);
  CHECK(problems.empty());
  CHECK(CheckFeed({.prefix = "lp/", .since = since}, got, acked, {}).empty());
  const uint64_t next = RevisionOf(r);
  CHECK(next >= acked.back().revision);

  // limit: the rest comes with the next poll, from the X-Keyva-Revision of this one.
  HttpReply first = c.Get("/watch?prefix=lp/&format=ndjson&limit=2&since=" + std::to_string(since));
  REQUIRE(first.status == 200);
  std::vector<FeedEvent> paged = ParseAll(NdjsonLines(first.body), &problems);
  CHECK(paged.size() == 2);
  HttpReply rest =
      c.Get("/watch?prefix=lp/&format=ndjson&limit=2&since=" + std::to_string(RevisionOf(first)));
  REQUIRE(rest.status == 200);
  for (const FeedEvent& e : ParseAll(NdjsonLines(rest.body), &problems)) paged.push_back(e);
  CHECK(problems.empty());
  INFO(Lines(CheckFeed({.prefix = "lp/", .since = since}, paged, acked, {})));
  CHECK(CheckFeed({.prefix = "lp/", .since = since}, paged, acked, {}).empty());

  // limit goes up to 1000.
  HttpReply most =
      c.Get("/watch?prefix=lp/&format=ndjson&limit=1000&since=" + std::to_string(since));
  INFO(most.body);
  CHECK(most.status == 200);
  CHECK(NdjsonLines(most.body).size() == acked.size());

  // Nothing new: an empty body when the wait runs out, and the revision to poll from next.
  HttpReply empty = c.Get("/watch?prefix=lp/&format=ndjson&wait=1s&since=" + std::to_string(next));
  CHECK(empty.status == 200);
  CHECK(empty.body.empty());
  CHECK(RevisionOf(empty) >= next);
  // A change outside the prefix moves nothing the poll returns, and the chain still holds.
  REQUIRE(c.Put("/kv/elsewhere", "v", "text/plain").status == 201);
  HttpReply outside =
      c.Get("/watch?prefix=lp/&format=ndjson&wait=1s&since=" + std::to_string(RevisionOf(empty)));
  CHECK(outside.status == 200);
  CHECK(outside.body.empty());

  // A poll that is waiting returns the first change.
  HttpReply waited;
  std::thread poller([&] {
    HttpTestClient p(keyvad.port());
    waited = p.Get("/watch?prefix=lp/&format=ndjson&wait=30s&since=" +
                   std::to_string(RevisionOf(outside)));
  });
  std::this_thread::sleep_for(milliseconds(300));  // most likely waiting by now; either way
  HttpReply change = c.Put("/kv/lp/late", "v", "text/plain");
  poller.join();
  REQUIRE(waited.status == 200);
  std::vector<FeedEvent> late = ParseAll(NdjsonLines(waited.body), &problems);
  REQUIRE(late.size() == 1);
  CHECK(late[0].key == "lp/late");
  CHECK(late[0].revision == RevisionOf(change));
  CHECK(RevisionOf(waited) >= late[0].revision);
  CHECK(problems.empty());
}

TEST_CASE("watch: bad input is a JSON 400 and watchers beyond --max-watchers get 503", "[watch]") {
  // Streams are not read from, so keyvad notices a closed one when it next writes to it: the
  // heartbeat every second bounds that.
  KeyvadProcess keyvad({.args = {"--max-watchers=2", "--watch-heartbeat=1s"}});
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/k", "v", "text/plain").status == 201);
  const uint64_t now = CurrentRevision(c);
  const std::string future = std::to_string(now + 1000000);
  for (const std::string& target : std::vector<std::string>{
           "/watch?prefix=a&key=b",
           "/watch?since=abc",
           "/watch?since=-1",
           "/watch?since=1.5",
           "/watch?since=18446744073709551616",
           "/watch?since=" + future,
           "/watch?format=ndjson&since=" + future,
           "/watch?format=ndjson&since=x",
           "/watch?format=ndjson",  // since is required for the long poll
           "/watch?format=ndjson&since=0&limit=0",
           "/watch?format=ndjson&since=0&limit=1001",
           "/watch?format=ndjson&since=0&limit=x",
           "/watch?format=ndjson&since=0&wait=301s",
           "/watch?format=ndjson&since=0&wait=soon",
           "/watch?wait=1s",  // wait and limit are for the long poll only
           "/watch?limit=5",
           "/watch?prefix=a&prefix=b",
           "/watch?unknown=1",
       }) {
    INFO(target);
    CheckJsonError(c.Get(target), 400);
    SseClient s(keyvad.port(), target);
    CHECK(s.status() == 400);
    CHECK(!s.streaming());
  }
  // Last-Event-ID takes the place of since, so it is held to the same rules.
  SseClient bad_id(keyvad.port(), "/watch", {.last_event_id = "abc"});
  CHECK(bad_id.status() == 400);
  SseClient future_id(keyvad.port(), "/watch", {.last_event_id = future});
  CHECK(future_id.status() == 400);

  auto first = std::make_unique<SseClient>(keyvad.port(), "/watch");
  SseClient second(keyvad.port(), "/watch?prefix=k");
  REQUIRE(first->status() == 200);
  REQUIRE(second.status() == 200);
  SseClient third(keyvad.port(), "/watch");
  CHECK(third.status() == 503);
  CHECK(nlohmann::json::parse(third.response().body)["status"] == 503);
  CheckJsonError(c.Get("/watch?format=ndjson&wait=0s&since=" + std::to_string(now)), 503);
  // A closed watcher frees its place (keyvad notices the close on its own time).
  first->Close();
  first.reset();
  CHECK(WaitFor([&] { return SseClient(keyvad.port(), "/watch").status() == 200; }, seconds(10)));
}

TEST_CASE("watch: since older than the retention window is 410 and a re-list catches up",
          "[watch]") {
  KeyvadProcess keyvad({.args = {"--watch-retention=100"}});
  HttpTestClient c(keyvad.port());
  const uint64_t since = CurrentRevision(c);
  std::vector<FeedChange> acked;
  std::map<std::string, std::string> etags;  // the state the writes left
  for (int i = 0; i < 200; i++) {
    const std::string key = "ret/" + std::to_string(i % 120);
    HttpReply r = c.Put("/kv/" + key, "v" + std::to_string(i), "text/plain");
    REQUIRE(r.status / 100 == 2);
    acked.push_back(Acked(r, "put", key));
    etags[key] = r.Header("etag");
  }
  // The server trims about once a second.
  HttpReply gone;
  const std::string old_poll = "/watch?format=ndjson&wait=0s&since=" + std::to_string(since);
  CHECK(WaitFor([&] { return (gone = c.Get(old_poll)).status == 410; }, seconds(20)));
  CheckJsonError(gone, 410);
  const nlohmann::json g = gone.Json();
  REQUIRE(g["oldest"].is_number_unsigned());
  REQUIRE(g["revision"].is_number_unsigned());
  const uint64_t oldest = g["oldest"].get<uint64_t>();
  CHECK(oldest > since);
  CHECK(g["revision"].get<uint64_t>() >= oldest);
  CHECK(g["revision"].get<uint64_t>() >= acked.back().revision);
  // The stream says the same.
  SseClient old_stream(keyvad.port(), "/watch?since=" + std::to_string(since));
  CHECK(old_stream.status() == 410);
  CHECK(nlohmann::json::parse(old_stream.response().body)["oldest"].is_number_unsigned());
  // Every change from oldest on is still held.
  std::vector<std::string> problems;
  HttpReply held =
      c.Get("/watch?format=ndjson&wait=0s&limit=1000&since=" + std::to_string(oldest - 1));
  CHECK(held.status == 200);
  if (held.status == 200) {
    const std::vector<FeedEvent> tail = ParseAll(NdjsonLines(held.body), &problems);
    const FeedWatch w{.prefix = "", .since = oldest - 1};
    INFO(Lines(CheckFeed(w, tail, acked, {})));
    CHECK(CheckFeed(w, tail, acked, {}).empty());
  }

  // Re-list: a revision within the window, and the state the writes left.
  HttpReply list = c.Get("/kv/?prefix=ret/&limit=1000");
  REQUIRE(list.status == 200);
  const nlohmann::json listing = list.Json();
  const uint64_t listed = listing["revision"].get<uint64_t>();
  CHECK(listed >= oldest);
  std::map<std::string, std::string> state;
  for (const auto& k : listing["keys"]) state[k["key"]] = k["etag"];
  INFO(MapDiff(etags, state));
  CHECK(state == etags);

  // Then watch from the listing and catch up with what follows.
  SseClient s(keyvad.port(), "/watch?prefix=ret/&since=" + std::to_string(listed));
  REQUIRE(s.status() == 200);
  std::vector<FeedChange> after;
  for (int i = 0; i < 30; i++) {
    const std::string key = "ret/" + std::to_string(i * 7 % 130);
    HttpReply r = i % 5 == 4 ? c.Delete("/kv/" + key) : c.Put("/kv/" + key, "w", "text/plain");
    if (r.status == 404) continue;  // a delete of a key never written
    REQUIRE(r.status / 100 == 2);
    after.push_back(Acked(r, i % 5 == 4 ? "delete" : "put", key));
    if (i % 5 == 4) {
      etags.erase(key);
    } else {
      etags[key] = r.Header("etag");
    }
  }
  std::vector<FeedEvent> got = ReadEvents(s, after.size(), 10000, &problems);
  CHECK(problems.empty());
  const FeedWatch w{.prefix = "ret/", .since = listed};
  INFO(Lines(CheckFeed(w, got, after, {})));
  CHECK(CheckFeed(w, got, after, {}).empty());
  for (const FeedEvent& e : got) {
    if (e.type == "put") state[e.key] = e.etag;
    if (e.type == "delete") state.erase(e.key);
  }
  INFO(MapDiff(etags, state));
  CHECK(state == etags);
}

TEST_CASE("watch: a key written with ttl=1 expires once and stays gone across restarts",
          "[watch]") {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::vector<std::string> args = {"--sync=always"};
  auto keyvad =
      std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = data, .args = args});
  HttpTestClient c(keyvad->port());
  const uint64_t since = CurrentRevision(c);
  SseClient s(keyvad->port(), "/watch?prefix=ttl/&since=" + std::to_string(since));
  REQUIRE(s.status() == 200);
  HttpReply put = c.Put("/kv/ttl/short?ttl=1", "soon gone", "text/plain");
  REQUIRE(put.status == 201);
  CHECK(put.Json().contains("expires"));
  HttpReply keep = c.Put("/kv/ttl/kept", "stays", "text/plain");
  REQUIRE(keep.status == 201);
  const std::vector<FeedChange> acked = {Acked(put, "put", "ttl/short", true),
                                         Acked(keep, "put", "ttl/kept")};

  // The expire comes within about a second of the TTL; wait up to 10 s.
  std::vector<std::string> problems;
  std::vector<FeedEvent> got = ReadEvents(s, 3, 10000, &problems);
  CHECK(problems.empty());
  REQUIRE(got.size() == 3);
  CHECK(got[2].type == "expire");
  CHECK(got[2].key == "ttl/short");
  const FeedWatch w{.prefix = "ttl/", .since = since};
  INFO(Lines(CheckFeed(w, got, acked, {})));
  CHECK(CheckFeed(w, got, acked, {}).empty());

  auto check_gone = [&](HttpTestClient& client) {
    CHECK(client.Get("/kv/ttl/short").status == 404);
    CHECK(client.Get("/kv/ttl/kept").body == "stays");
    HttpReply list = client.Get("/kv/?prefix=ttl/");
    REQUIRE(list.status == 200);
    REQUIRE(list.Json()["keys"].size() == 1);
    CHECK(list.Json()["keys"][0]["key"] == "ttl/kept");
    // The feed still holds the put, the put and one expire, and nothing follows.
    HttpReply replay =
        client.Get("/watch?prefix=ttl/&format=ndjson&wait=0s&since=" + std::to_string(since));
    REQUIRE(replay.status == 200);
    std::vector<FeedEvent> again = ParseAll(NdjsonLines(replay.body), &problems);
    CHECK(again.size() == 3);
    INFO(Lines(CheckFeed(w, again, acked, {})));
    CHECK(CheckFeed(w, again, acked, {}).empty());
    HttpReply later = client.Get("/watch?prefix=ttl/&format=ndjson&wait=2s&since=" +
                                 std::to_string(RevisionOf(replay)));
    CHECK(later.status == 200);
    CHECK(later.body.empty());
  };
  check_gone(c);
  CHECK(keyvad->Stop(SIGTERM) == 0);
  keyvad = std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = data, .args = args});
  {
    INFO("after SIGTERM\n" << keyvad->Log());
    HttpTestClient after(keyvad->port());
    check_gone(after);
  }
  CHECK(keyvad->Stop(SIGKILL) == 128 + SIGKILL);
  keyvad = std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = data, .args = args});
  {
    INFO("after kill -9\n" << keyvad->Log());
    HttpTestClient after(keyvad->port());
    check_gone(after);
  }
  CHECK(problems.empty());
}

// ---- 8 writers, 4 watchers, a SIGTERM and a kill -9 (label crash) ---------------------------

namespace {

constexpr int kWriters = 8;
const std::vector<std::string> kPrefixes = {"alpha/", "beta/", "gamma/"};

// Where keyvad listens now: a generation (one per start) and its port, 0 while it restarts.
// Only the test's main thread changes it.
class Endpoint {
 public:
  void Publish(uint16_t port) { value_.store((((value_.load() >> 16) + 1) << 16) | port); }
  void Down() { value_.store(value_.load() & ~uint64_t{0xffff}); }
  // Waits for a listening keyvad of a generation after `after` (at most timeout, or until
  // *stop); returns its generation and port, or port 0.
  std::pair<uint64_t, uint16_t> WaitAfter(uint64_t after, milliseconds timeout,
                                          const std::atomic<bool>* stop = nullptr) const {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      const uint64_t v = value_.load();
      const uint64_t gen = v >> 16;
      const auto port = static_cast<uint16_t>(v & 0xffff);
      if (gen > after && port != 0) return {gen, port};
      if ((stop && stop->load()) || Clock::now() > deadline) return {gen, 0};
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

 private:
  std::atomic<uint64_t> value_{0};
};

struct WriterLog {
  std::vector<FeedChange> acked;
  std::vector<FeedChange> unknown;  // sent, never answered (keyvad went away)
  std::vector<std::string> failures;
  long deletes_not_found = 0;
};

// One writer: ops changes under random prefixes, logged. Puts and deletes go to its own keys
// (64 per prefix), TTL puts (ttl=1) each to a fresh key; counter increments go to counters
// shared by all writers, resets to its own counter when it is known not to be 0.
// A request that fails on the connection has an unknown outcome; the writer then waits for the
// next keyvad.
void RunWriter(int w, uint64_t seed, int ops, const Endpoint& endpoint, std::atomic<long>* acked,
               WriterLog* log) {
  std::mt19937_64 rng(seed);
  std::unique_ptr<HttpTestClient> c;
  uint64_t gen = 0, failed_gen = 0;
  std::vector<std::string> live;   // its keys without a TTL that it believes are present
  std::set<std::string> doubtful;  // keys written without an answer
  std::map<std::string, int64_t> own_counters;  // its counters' values, when known
  const std::string me = "w" + std::to_string(w);
  for (int i = 0; i < ops; i++) {
    if (!c) {
      auto [g, port] = endpoint.WaitAfter(failed_gen, seconds(120));
      if (port == 0) {
        log->failures.push_back(me + ": keyvad did not come back");
        return;
      }
      gen = g;
      c = std::make_unique<HttpTestClient>(port);
    }
    const std::string& prefix = kPrefixes[rng() % kPrefixes.size()];
    const int roll = static_cast<int>(rng() % 100);
    FeedChange ch;
    std::string method = "PUT", target, body;
    if (roll < 15 && !live.empty()) {
      ch.type = "delete";
      ch.key = live[rng() % live.size()];
      method = "DELETE";
      target = "/kv/" + ch.key;
    } else if (roll < 33) {
      ch.type = "counter";
      ch.key = prefix + "n" + std::to_string(rng() % 4);
      method = "POST";
      target = "/seq/" + ch.key;
    } else if (roll < 40) {
      // Its own counter, so it knows when a reset resets something: DELETE /seq of a counter
      // at 0 changes nothing (no event; its answer carries the current revision).
      ch.type = "counter";
      ch.key = prefix + me + "/n";
      auto known = own_counters.find(ch.key);
      ch.reset = roll < 37 && known != own_counters.end() && known->second > 0;
      method = ch.reset ? "DELETE" : "POST";
      target = "/seq/" + ch.key;
    } else if (roll < 60) {
      ch.type = "put";
      ch.ttl = true;
      ch.key = prefix + me + "/t" + std::to_string(i);
      target = "/kv/" + ch.key + "?ttl=1";
      body = me + " " + std::to_string(i) + " expires";
    } else {
      ch.type = "put";
      ch.key = prefix + me + "/k" + std::to_string(rng() % 64);
      target = "/kv/" + ch.key;
      body = me + " " + std::to_string(i);
    }
    HttpReply r;
    try {
      r = c->Send(method, target, body, {{"Content-Type", "text/plain"}});
    } catch (const std::exception&) {
      log->unknown.push_back(ch);
      doubtful.insert(ch.key);
      own_counters.erase(ch.key);
      c.reset();
      failed_gen = gen;
      continue;
    }
    if (r.status / 100 != 2) {
      if (ch.type == "delete" && r.status == 404 && doubtful.count(ch.key) > 0) {
        // An earlier write of the key had no answer: it was a delete that happened, or a put
        // that did not.
        log->deletes_not_found++;
        live.erase(std::find(live.begin(), live.end(), ch.key));
        continue;
      }
      log->failures.push_back(me + ": " + method + " " + target + " answered " +
                              std::to_string(r.status) + " " + r.body);
      continue;
    }
    ch.revision = RevisionOf(r);
    if (ch.revision == 0) log->failures.push_back(me + ": no X-Keyva-Revision on " + target);
    if (!r.body.empty()) {
      const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
      if (!j.is_object() || j.value("revision", uint64_t{0}) != ch.revision) {
        log->failures.push_back(me + ": " + target + " answered revision " +
                                std::to_string(ch.revision) + " in the header and " + r.body);
      }
      if (ch.type == "counter" && j.is_object()) ch.value = j.value("value", int64_t{0});
    }
    if (ch.type == "counter") own_counters[ch.key] = ch.value;  // only its own are looked up
    if (ch.type == "put") ch.etag = r.Header("etag");
    if (ch.type == "put" && !ch.ttl && std::find(live.begin(), live.end(), ch.key) == live.end()) {
      live.push_back(ch.key);
    }
    if (ch.type == "delete") live.erase(std::find(live.begin(), live.end(), ch.key));
    log->acked.push_back(std::move(ch));
    acked->fetch_add(1);
  }
}

struct Watcher {
  std::string name;
  std::string prefix;
  uint64_t since = 0;
  bool drops = false;  // closes its connection every second and resumes with Last-Event-ID

  std::vector<FeedEvent> events;
  std::vector<std::string> problems;
  int connections = 0;
  std::atomic<uint64_t> last{0};
  std::atomic<long> expires{0};
};

// Watches until stop, reconnecting (with Last-Event-ID) whenever the stream ends, the
// connection fails or, for a dropping watcher, every second.
void RunWatcher(Watcher* w, const Endpoint& endpoint, const std::atomic<bool>& stop) {
  uint64_t last = w->since;
  uint64_t failed_gen = 0;
  w->last = last;
  while (!stop) {
    auto [gen, port] = endpoint.WaitAfter(failed_gen, seconds(120), &stop);
    if (port == 0) {
      if (!stop) w->problems.push_back("keyvad did not come back");
      return;
    }
    try {
      std::string target = "/watch?prefix=" + w->prefix;
      SseClient::Options options;
      if (w->connections == 0) {
        target += "&since=" + std::to_string(last);
      } else {
        options.last_event_id = std::to_string(last);
      }
      SseClient s(port, target, options);
      if (s.status() != 200) {
        w->problems.push_back("watch after " + std::to_string(last) + " answered " +
                              std::to_string(s.status()) + " " + s.response().body);
        std::this_thread::sleep_for(milliseconds(100));
        continue;
      }
      w->connections++;
      const auto opened = Clock::now();
      bool dropping = false;  // taking what it has already read, then closing
      while (!stop) {
        if (w->drops && Clock::now() - opened >= seconds(1)) dropping = true;
        if (dropping && s.queued() == 0) break;
        std::optional<SseEvent> e = s.Next(dropping ? 0 : 100);
        if (!e) {
          if (s.ended()) break;
          continue;
        }
        if (e->type == "gone" || e->type == "lagging") {
          w->problems.push_back("event: " + e->type + " " + e->data);
          break;
        }
        const nlohmann::json j = nlohmann::json::parse(e->data, nullptr, false);
        if (j.is_discarded()) {
          w->problems.push_back("data is not JSON: " + e->data);
          continue;
        }
        FeedEvent f = ParseFeedEvent(j, &w->problems, e->id, e->type);
        last = std::max(last, f.revision);
        if (f.type == "expire") w->expires++;
        w->events.push_back(std::move(f));
        w->last = last;
      }
      // Resume where EventSource would: the last id (a heartbeat's is the stream's position).
      if (!s.last_event_id().empty()) {
        last = std::max<uint64_t>(last, std::stoull(s.last_event_id()));
      }
    } catch (const std::exception&) {
      failed_gen = gen;  // keyvad is going away: wait for the next one
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
}

// The first page of a listing at revision R against the writers' logs: every key without a TTL
// whose last acknowledged change at or before R is a put is listed with that put's ETag, and
// no other (keys written without an answer are left out, as are TTL keys, which may have
// expired).
std::vector<std::string> CheckListing(const nlohmann::json& page, const std::string& prefix,
                                      const std::vector<FeedChange>& acked,
                                      const std::vector<FeedChange>& unknown) {
  std::vector<std::string> problems;
  const uint64_t at = page["revision"].get<uint64_t>();
  std::set<std::string> skip;
  for (const FeedChange& c : unknown) skip.insert(c.key);
  std::map<std::string, const FeedChange*> last;
  for (const FeedChange& c : acked) {
    if (c.type == "counter" || c.key.compare(0, prefix.size(), prefix) != 0) continue;
    if (c.ttl) skip.insert(c.key);
    if (c.revision > at) continue;
    auto& l = last[c.key];
    if (l == nullptr || l->revision < c.revision) l = &c;
  }
  const nlohmann::json& keys = page["keys"];
  std::set<std::string> listed;
  for (const auto& k : keys) {
    const std::string key = k["key"].get<std::string>();
    listed.insert(key);
    if (skip.count(key)) continue;
    auto it = last.find(key);
    if (it == last.end() || it->second->type != "put") {
      problems.push_back("listed at " + std::to_string(at) + " but absent then: " + key);
    } else if (k["etag"] != it->second->etag) {
      problems.push_back("listed at " + std::to_string(at) + " with ETag " + k["etag"].dump() +
                         ", the write then was " + Describe(*it->second));
    }
  }
  const bool more = !page["next"].is_null();
  const std::string upto = keys.empty() ? "" : keys.back()["key"].get<std::string>();
  for (const auto& [key, c] : last) {
    if (c->type != "put" || skip.count(key) || (more && key > upto)) continue;
    if (!listed.count(key)) {
      problems.push_back("written at or before " + std::to_string(at) +
                         ", not listed: " + Describe(*c));
    }
  }
  return problems;
}

// Every key of the listing (all pages), key -> ETag.
std::map<std::string, std::string> ListAll(HttpTestClient& c) {
  std::map<std::string, std::string> out;
  std::string after;
  for (int page = 0; page < 10000; page++) {
    HttpReply r = c.Get("/kv/?limit=1000" + (after.empty() ? "" : "&after=" + after));
    REQUIRE(r.status == 200);
    const nlohmann::json j = r.Json();
    for (const auto& k : j["keys"]) out[k["key"].get<std::string>()] = k["etag"];
    if (j["next"].is_null()) break;
    after = j["next"].get<std::string>();
  }
  return out;
}

}  // namespace

TEST_CASE("watch: the listing checker catches missing and extra and stale keys", "[watch]") {
  auto put = [](uint64_t rev, std::string key, std::string etag, bool ttl = false) {
    FeedChange c;
    c.revision = rev;
    c.type = "put";
    c.key = std::move(key);
    c.etag = std::move(etag);
    c.ttl = ttl;
    return c;
  };
  FeedChange del;
  del.revision = 14;
  del.type = "delete";
  del.key = "g/b";
  const std::vector<FeedChange> acked = {
      put(10, "g/a", "\"1\""), put(12, "g/b", "\"2\""), del,
      put(16, "g/c", "\"3\""), put(18, "g/a", "\"4\""), put(11, "g/t", "\"5\"", true)};
  auto page = [](uint64_t revision, std::vector<std::pair<std::string, std::string>> keys) {
    nlohmann::json j = {
        {"revision", revision}, {"next", nullptr}, {"keys", nlohmann::json::array()}};
    for (auto& [k, e] : keys) j["keys"].push_back({{"key", k}, {"etag", e}});
    return j;
  };
  // At 16: a with its first ETag, c; b deleted; the TTL key may or may not be listed.
  CHECK(CheckListing(page(16, {{"g/a", "\"1\""}, {"g/c", "\"3\""}}), "g/", acked, {}).empty());
  CHECK(CheckListing(page(16, {{"g/a", "\"1\""}, {"g/c", "\"3\""}, {"g/t", "\"5\""}}), "g/", acked,
                     {})
            .empty());
  CHECK(!CheckListing(page(16, {{"g/c", "\"3\""}}), "g/", acked, {}).empty());  // a missing
  CHECK(!CheckListing(page(16, {{"g/a", "\"4\""}, {"g/c", "\"3\""}}), "g/", acked, {})
             .empty());  // a's later ETag
  CHECK(!CheckListing(page(16, {{"g/a", "\"1\""}, {"g/b", "\"2\""}, {"g/c", "\"3\""}}), "g/", acked,
                      {})
             .empty());  // b after its delete
  CHECK(!CheckListing(page(14, {{"g/a", "\"1\""}, {"g/c", "\"3\""}}), "g/", acked, {})
             .empty());  // c before its put
  // A page that is not the last covers keys up to its last one only.
  nlohmann::json first = page(16, {{"g/a", "\"1\""}});
  first["next"] = "g/a";
  CHECK(CheckListing(first, "g/", acked, {}).empty());
  // A key written without an answer may be either way.
  FeedChange maybe;
  maybe.type = "delete";
  maybe.key = "g/c";
  CHECK(CheckListing(page(16, {{"g/a", "\"1\""}}), "g/", acked, {maybe}).empty());
}

TEST_CASE("watch: 8 writers and 4 watchers across a SIGTERM and a kill -9 miss nothing",
          "[.][watch_restarts]") {
  const uint64_t seed = test::PrintedTestSeed("watch restarts");
  std::mt19937_64 rng(seed);
  const int ops = test::Scaled(10000, 100);
  const long total = static_cast<long>(ops) * kWriters;
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::vector<std::string> args = {"--sync=always"};
  auto keyvad =
      std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = data, .args = args});
  const auto began = Clock::now();
  Endpoint endpoint;
  endpoint.Publish(keyvad->port());
  uint64_t start = 0;
  {
    HttpTestClient c(keyvad->port());
    start = CurrentRevision(c);
  }

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<Watcher>> watchers;
  std::vector<std::thread> watcher_threads;
  auto watch = [&](std::string name, std::string prefix, uint64_t since, bool drops) {
    auto w = std::make_unique<Watcher>();
    w->name = std::move(name);
    w->prefix = std::move(prefix);
    w->since = since;
    w->drops = drops;
    watcher_threads.emplace_back(RunWatcher, w.get(), std::cref(endpoint), std::cref(stop));
    watchers.push_back(std::move(w));
  };
  watch("everything", "", start, false);
  watch("prefix beta/", "beta/", start, false);
  watch("prefix alpha/, reconnecting every second", "alpha/", start, true);

  std::atomic<long> acked{0};
  std::atomic<int> writers_done{0};
  std::vector<WriterLog> logs(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; w++) {
    writers.emplace_back([&, w, s = rng()] {
      RunWriter(w, s, ops, endpoint, &acked, &logs[w]);
      writers_done++;
    });
  }
  auto wait_acked = [&](long n) {
    CHECK(WaitFor([&] { return acked >= n || writers_done == kWriters; }, seconds(600)));
  };

  // The fourth watcher starts from a listing's revision, while the writers write.
  wait_acked(total * 15 / 100);
  nlohmann::json listing;
  {
    HttpTestClient c(keyvad->port());
    HttpReply r = c.Get("/kv/?prefix=gamma/&limit=1000");
    REQUIRE(r.status == 200);
    listing = r.Json();
    CHECK(listing["revision"] == RevisionOf(r));
  }
  watch("prefix gamma/ from a listing", "gamma/", listing["revision"].get<uint64_t>(), false);

  wait_acked(total / 3);
  endpoint.Down();
  const int term = keyvad->Stop(SIGTERM);
  const long acked_at_term = acked;
  keyvad = std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = data, .args = args});
  endpoint.Publish(keyvad->port());
  CHECK(term == 0);

  wait_acked(total * 2 / 3);
  endpoint.Down();
  const int kill = keyvad->Stop(SIGKILL);
  const long acked_at_kill = acked;
  keyvad = std::make_unique<KeyvadProcess>(KeyvadProcess::Options{.data_dir = data, .args = args});
  endpoint.Publish(keyvad->port());
  CHECK(kill == 128 + SIGKILL);
  for (std::thread& t : writers) t.join();
  const auto written = Clock::now();

  std::vector<FeedChange> all_acked, all_unknown;
  std::vector<std::string> failures;
  long not_found = 0;
  for (WriterLog& log : logs) {
    all_acked.insert(all_acked.end(), log.acked.begin(), log.acked.end());
    all_unknown.insert(all_unknown.end(), log.unknown.begin(), log.unknown.end());
    failures.insert(failures.end(), log.failures.begin(), log.failures.end());
    not_found += log.deletes_not_found;
  }
  INFO(keyvad->Log());
  INFO("writer failures:\n" << Lines(failures));
  CHECK(failures.empty());

  // Let every watcher reach the last acknowledged change of its prefix and the expire of every
  // TTL key written (ttl=1: about a second, then up to a second more for the server's sweep).
  for (auto& w : watchers) {
    uint64_t target = 0;
    long expires = 0;
    std::map<std::string, const FeedChange*> last_of;
    for (const FeedChange& c : all_acked) {
      if (c.key.compare(0, w->prefix.size(), w->prefix) != 0) continue;
      if (c.revision > w->since) target = std::max(target, c.revision);
      auto& l = last_of[c.key];
      if (l == nullptr || l->revision < c.revision) l = &c;
    }
    for (const auto& [key, c] : last_of) {
      if (c->type == "put" && c->ttl && c->revision > w->since) expires++;
    }
    CHECK(WaitFor([&] { return w->last >= target && w->expires >= expires; }, seconds(60)));
  }
  stop = true;
  for (std::thread& t : watcher_threads) t.join();

  std::cout << "watch restarts: " << kWriters << " writers x " << ops << " changes, "
            << all_acked.size() << " acknowledged (" << acked_at_term << " before SIGTERM, "
            << acked_at_kill << " before kill -9), " << all_unknown.size() << " without an answer, "
            << not_found << " deletes found nothing after one; "
            << std::chrono::duration_cast<milliseconds>(written - began).count() << " ms of writes"
            << std::endl;
  for (auto& w : watchers) {
    const std::vector<std::string> problems =
        CheckFeed({.prefix = w->prefix, .since = w->since}, w->events, all_acked, all_unknown);
    std::cout << "  watcher " << w->name << ": " << w->events.size() << " events (" << w->expires
              << " expire) from revision " << w->since << " over " << w->connections
              << " connections" << std::endl;
    INFO("watcher " << w->name << ":\n" << Lines(w->problems) << Lines(problems));
    CHECK(w->problems.empty());
    CHECK(problems.empty());
  }
  CHECK(watchers[2]->connections >= 2);
  INFO(Lines(CheckListing(listing, "gamma/", all_acked, all_unknown)));
  CHECK(CheckListing(listing, "gamma/", all_acked, all_unknown).empty());

  // The feed replayed from the start is the state keyvad holds: the same keys with the same
  // ETags (every TTL key gone), and every counter at its last value.
  std::map<std::string, std::string> from_feed;
  std::map<std::string, int64_t> counters;
  for (const FeedEvent& e : watchers[0]->events) {
    if (e.type == "put") from_feed[e.key] = e.etag;
    if (e.type == "delete" || e.type == "expire") from_feed.erase(e.key);
    if (e.type == "counter") counters[e.key] = e.value;
  }
  HttpTestClient c(keyvad->port());
  const std::map<std::string, std::string> held = ListAll(c);
  INFO("listing vs feed:\n" << MapDiff(from_feed, held));
  CHECK(held.size() == from_feed.size());
  CHECK(MapDiff(from_feed, held).empty());
  for (const auto& [name, value] : counters) {
    INFO("counter " << name);
    CHECK(c.Get("/seq/" + name).Json()["value"] == value);
  }
  CHECK(keyvad->Stop(SIGTERM) == 0);
}

// ---- many watchers, and one that never reads (label load) ---------------------------------

TEST_CASE("watch: 1000 idle watchers cost little memory and no CPU and all get a change",
          "[.][watch_idle]") {
  const long limit = RaiseOpenFileLimit(1000 + 256);
  const int n = static_cast<int>(std::min<long>(1000, limit - 256));
  if (n < 1000) std::cout << "watch idle: open-file limit " << limit << ", " << n << " watchers\n";
  KeyvadProcess keyvad({.args = {"--sync=none"}, .max_open_files = limit});
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/idle/warm", "v", "text/plain").status == 201);
  const long rss_before = ProcStatusKiB(keyvad.pid(), "VmRSS");
  std::vector<std::unique_ptr<SseClient>> watchers;
  for (int i = 0; i < n; i++) {
    // Half on everything, half on the prefix the change goes to.
    watchers.push_back(
        std::make_unique<SseClient>(keyvad.port(), i % 2 ? "/watch" : "/watch?prefix=idle/"));
    REQUIRE(watchers.back()->status() == 200);
  }
  // Idle: nothing changes for a while.
  const double cpu_before = ProcCpuSeconds(keyvad.pid());
  const auto idle_from = Clock::now();
  std::this_thread::sleep_for(seconds(3));
  const double idle_cpu = ProcCpuSeconds(keyvad.pid()) - cpu_before;
  const double idle_secs = std::chrono::duration<double>(Clock::now() - idle_from).count();
  // One change reaches every watcher.
  HttpReply put = c.Put("/kv/idle/k", "v", "text/plain");
  REQUIRE(put.status == 201);
  int delivered = 0;
  for (auto& w : watchers) {
    std::optional<SseEvent> e = w->Next(10000);
    if (e && e->type == "put" && e->id == std::to_string(RevisionOf(put))) delivered++;
  }
  const long hwm = ProcStatusKiB(keyvad.pid(), "VmHWM");
  const long rss = ProcStatusKiB(keyvad.pid(), "VmRSS");
  std::cout << "watch idle: " << n << " watchers; keyvad RSS " << rss_before / 1024
            << " MiB before, " << rss / 1024 << " MiB with them (" << (rss - rss_before) / n
            << " KiB each), peak " << hwm / 1024 << " MiB; CPU " << idle_cpu << " s over "
            << idle_secs << " s idle; " << delivered << " got the change" << std::endl;
  CHECK(delivered == n);
  // Generous bounds: a watcher holds at most one 64 KiB send buffer; idle costs nothing.
  CHECK(hwm < (kSanitized ? 2048 : 512) * 1024);
  CHECK(idle_cpu < 0.5 * idle_secs);
  watchers.clear();
  CHECK(c.Get("/healthz").status == 200);
  CHECK(keyvad.Stop(SIGTERM) == 0);
}

namespace {

// A metric's value from /metrics ("name value" lines); -1 when absent.
double Metric(HttpTestClient& c, const std::string& name) {
  const std::string page = c.Get("/metrics").body;
  const std::string needle = "\n" + name + " ";
  const size_t at = page.find(needle);
  if (at == std::string::npos) return -1;
  return std::stod(page.substr(at + needle.size()));
}

}  // namespace

TEST_CASE("watch: a watcher that stops reading is cut off while writes go on", "[.][watch_stall]") {
  // Never reads again: cut after --watch-stall-timeout and as long again. Reads again once
  // marked lagging (keyva_watchers_cut_total in /metrics): a last `lagging` event.
  bool reads_again = false;
  int stall_seconds = 2;
  SECTION("never reads again: the connection is cut") {}
  SECTION("reads again after being marked lagging: a last lagging event") {
    reads_again = true;
    stall_seconds = 5;  // time enough to notice the mark before the cut
  }
  KeyvadProcess keyvad(
      {.args = {"--sync=none", "--watch-stall-timeout=" + std::to_string(stall_seconds) + "s"}});
  HttpTestClient c(keyvad.port());
  const uint64_t since = CurrentRevision(c);
  // A tiny receive buffer, not read: keyvad's send buffer fills and stays full.
  SseClient stalled(keyvad.port(), "/watch?since=" + std::to_string(since),
                    {.receive_buffer = 4096});
  REQUIRE(stalled.status() == 200);
  // A watcher that reads keeps up meanwhile.
  SseClient reader(keyvad.port(), "/watch?since=" + std::to_string(since));
  REQUIRE(reader.status() == 200);
  std::vector<FeedEvent> read;
  std::vector<std::string> read_problems;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> read_until{0};  // once the writers stopped: their last revision
  std::thread reading([&] {
    uint64_t last = 0;
    std::optional<Clock::time_point> deadline;
    while (true) {
      std::optional<SseEvent> e = reader.Next(100);
      if (e) {
        read.push_back(ParseFeedEvent(e->Json(), &read_problems, e->id, e->type));
        last = read.back().revision;
      }
      if (read_until == 0) continue;
      if (!deadline) deadline = Clock::now() + seconds(30);
      if (last >= read_until || Clock::now() > *deadline || reader.ended()) break;
    }
  });

  // Writers with keys of ~1000 bytes, so each event is over 1 KiB and a few hundred fill
  // the socket buffers.
  std::mutex mu;  // guards acked, ack_times and failures
  std::vector<FeedChange> acked;
  std::vector<Clock::time_point> ack_times;
  std::vector<std::string> failures;
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; w++) {
    writers.emplace_back([&, w] {
      HttpTestClient wc(keyvad.port());
      const std::string stem = "stall/" + std::string(980, 'a' + w) + "/";
      for (long i = 0; !stop; i++) {
        const std::string key = stem + std::to_string(i % 500);
        HttpReply r;
        try {
          r = wc.Put("/kv/" + key, "v", "text/plain");
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(std::string("PUT failed: ") + e.what());
          return;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (r.status / 100 != 2) {
          failures.push_back("PUT answered " + std::to_string(r.status));
          continue;
        }
        acked.push_back(Acked(r, "put", key));
        ack_times.push_back(Clock::now());
      }
    });
  }
  const auto hung_from = Clock::now();
  bool ended = false;
  if (reads_again) {
    ended = WaitFor([&] { return Metric(c, "keyva_watchers_cut_total") >= 1; }, seconds(60));
  } else {
    // keyvad's side of the connection leaves ESTABLISHED (closed with data unsent, or reset).
    REQUIRE(TcpState(keyvad.port(), stalled.local_port()) == 1);  // the probe sees it
    ended =
        WaitFor([&] { return TcpState(keyvad.port(), stalled.local_port()) != 1; }, seconds(60));
  }
  const auto ended_at = Clock::now();
  // Drain what it holds (for reads_again, while the writers still write).
  CHECK(stalled.WaitForEnd(20000));
  stop = true;
  for (std::thread& t : writers) t.join();
  uint64_t last_acked = 1;
  for (const FeedChange& a : acked) last_acked = std::max(last_acked, a.revision);
  read_until = last_acked;
  reading.join();
  CHECK(ended);
  long while_hung = 0, last_window = 0;
  for (const auto& t : ack_times) {
    if (t >= hung_from && t <= ended_at) while_hung++;
    if (t >= ended_at - seconds(stall_seconds) && t <= ended_at) last_window++;
  }
  std::cout << "watch stall: keyvad " << (reads_again ? "marked" : "cut") << " the watcher after "
            << std::chrono::duration_cast<milliseconds>(ended_at - hung_from).count() << " ms; "
            << while_hung << " PUTs acknowledged while it hung (" << last_window << " in the last "
            << stall_seconds << " s), " << acked.size() << " in all" << std::endl;
  INFO(Lines(failures));
  CHECK(failures.empty());
  CHECK(while_hung > 0);

  // What it held is a gap-free start of the feed, maybe ended by event: lagging.
  std::vector<FeedEvent> got;
  std::vector<std::string> problems;
  std::optional<SseEvent> lagging;
  while (std::optional<SseEvent> e = stalled.Next(0)) {
    if (e->type == "lagging") {
      lagging = e;
      continue;
    }
    if (lagging) problems.push_back("an event after lagging: " + e->data);
    got.push_back(ParseFeedEvent(e->Json(), &problems, e->id, e->type));
  }
  REQUIRE(!got.empty());
  uint64_t resume = got.back().revision;
  if (reads_again) {
    REQUIRE(lagging.has_value());
    const nlohmann::json j = lagging->Json();
    REQUIRE(j["revision"].is_number_unsigned());
    CHECK(j["revision"].get<uint64_t>() >= got.back().revision);
    resume = j["revision"].get<uint64_t>();
  }
  std::cout << "watch stall: it had received " << got.size() << " events"
            << (lagging ? ", then event: lagging" : ", no lagging event") << std::endl;
  const FeedWatch upto{.prefix = "", .since = since, .until = resume};
  INFO(Lines(problems) << Lines(CheckFeed(upto, got, acked, {})));
  CHECK(problems.empty());
  CHECK(CheckFeed(upto, got, acked, {}).empty());
  // It resumes with Last-Event-ID and misses nothing.
  SseClient again(keyvad.port(), "/watch", {.last_event_id = std::to_string(resume)});
  REQUIRE(again.status() == 200);
  size_t after = 0;
  for (const FeedChange& a : acked) after += a.revision > resume;
  std::vector<FeedEvent> rest = ReadEvents(again, after, 30000, &problems);
  got.insert(got.end(), rest.begin(), rest.end());
  INFO(Lines(CheckFeed({.since = since}, got, acked, {})));
  CHECK(CheckFeed({.since = since}, got, acked, {}).empty());
  // The reader got everything.
  INFO(Lines(read_problems) << Lines(CheckFeed({.since = since}, read, acked, {})));
  CHECK(read_problems.empty());
  CHECK(CheckFeed({.since = since}, read, acked, {}).empty());
  CHECK(c.Get("/healthz").status == 200);
}

}  // namespace keyva::testing
