// Integration tests of --tokens-file and --auth-reads: every right against every route (2xx,
// 401 or 403 as the file says), listings and watches limited to readable keys, Basic auth,
// expiry, SIGHUP reload (new requests see the new file, open connections and watches stay), the
// audit log, and --auth-token beside a tokens file.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/sse_client.h"
#include "tests/util/token_file.h"

namespace keyva::testing {
namespace {

// The keys of every page of GET /kv/?prefix=prefix, following next.
std::vector<std::string> ListAll(HttpTestClient& c, const std::string& prefix, int limit,
                                 const Headers& auth) {
  std::vector<std::string> keys;
  std::string after;
  for (int page = 0; page < 100; page++) {
    std::string target = "/kv/?prefix=" + prefix + "&limit=" + std::to_string(limit);
    if (!after.empty()) target += "&after=" + after;
    HttpReply r = c.Send("GET", target, "", auth);
    REQUIRE(r.status == 200);
    nlohmann::json body = r.Json();
    CHECK(body["keys"].size() <= static_cast<size_t>(limit));
    for (const auto& k : body["keys"]) keys.push_back(k["key"]);
    if (body["next"].is_null()) return keys;
    after = body["next"];
  }
  FAIL("the listing did not end");
  return keys;
}

}  // namespace

TEST_CASE("every right against every route: 2xx, 401 or 403") {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, "# rights over pub/ only\n" +
                        TokenLine("reader", "reader-tok", "read:kv/pub/ read:seq/pub/") +
                        TokenLine("writer", "writer-tok", "write:kv/pub/ write:seq/pub/") +
                        TokenLine("deleter", "deleter-tok", "delete:kv/pub/ delete:seq/pub/") +
                        TokenLine("admin", "admin-tok", "admin") +
                        TokenLine("old", "old-tok",
                                  "read write delete admin "
                                  "expires=2001-01-01T00:00:00Z"));
  KeyvadProcess keyvad({.args = {"--tokens-file=" + tokens, "--auth-reads",
                                 "--backup-dir=" + dir.path() + "/backups"}});
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Send("PUT", "/kv/pub/k", "v", Bearer("writer-tok")).status == 201);
  int checkpoint = 0;

  enum Want { kOk, k401, k403 };
  struct Route {
    const char* what;
    std::string method;
    std::string target;
    const char* need;  // the token that has the right (or "" for admin only)
  };
  const std::vector<Route> routes = {
      {"read a value", "GET", "/kv/pub/k", "reader"},
      {"head a value", "HEAD", "/kv/pub/k", "reader"},
      {"write a value", "PUT", "/kv/pub/k", "writer"},
      {"delete a value", "DELETE", "/kv/pub/k", "deleter"},
      {"read a counter", "GET", "/seq/pub/n", "reader"},
      {"add to a counter", "POST", "/seq/pub/n", "writer"},
      {"reset a counter", "DELETE", "/seq/pub/n", "deleter"},
      {"list", "GET", "/kv/?prefix=pub/", "reader"},
      {"watch", "GET", "/watch?prefix=pub/&since=0&format=ndjson&wait=0", "reader"},
      {"checkpoint", "POST", "/api/checkpoint?name=cp", "admin"},
      {"stats", "GET", "/api/stats", "admin"},
      {"metrics", "GET", "/metrics", "admin"},
  };
  const std::vector<std::pair<std::string, std::string>> callers = {
      {"none", ""},
      {"unknown", "Bearer nobody"},
      {"reader", "Bearer reader-tok"},
      {"writer", "Bearer writer-tok"},
      {"deleter", "Bearer deleter-tok"},
      {"admin", "Bearer admin-tok"},
      {"expired", "Bearer old-tok"},
  };
  for (const Route& route : routes) {
    for (const auto& [caller, authorization] : callers) {
      INFO(route.what << " as " << caller);
      const Want want = caller == "none" || caller == "unknown" || caller == "expired" ? k401
                        : caller == route.need                                         ? kOk
                                                                                       : k403;
      std::string target = route.target;
      if (route.what == std::string("checkpoint")) target += std::to_string(checkpoint++);
      Headers headers;
      if (!authorization.empty()) headers.push_back({"Authorization", authorization});
      HttpReply r = c.Send(route.method, target, route.method == "PUT" ? "v" : "", headers);
      switch (want) {
        case kOk:
          CHECK(r.status >= 200);
          CHECK(r.status < 300 + (route.method == "DELETE" ? 105 : 0));  // 404: nothing to delete
          break;
        case k401:
          CHECK(r.status == 401);
          CHECK(r.Header("www-authenticate").find("Bearer realm=\"keyva\"") == 0);
          CHECK(r.Header("www-authenticate").find("Basic realm=\"keyva\"") != std::string::npos);
          if (route.method != "HEAD") {
            CHECK(r.Json()["status"] == 401);
            if (caller == "expired") CHECK(r.Json()["error"] == "the token has expired");
          }
          break;
        case k403:
          CHECK(r.status == 403);
          if (route.method != "HEAD") {
            nlohmann::json body = r.Json();
            CHECK(body["status"] == 403);
            CHECK(body["token"] == caller);
            const std::string right = body["right"];
            CHECK(right.find(route.need == std::string("admin")    ? "admin"
                             : route.need == std::string("reader") ? "read"
                             : route.need == std::string("writer") ? "write"
                                                                   : "delete") == 0);
          }
          break;
      }
    }
  }
  // Rights stop at their prefix: keys outside pub/ are refused even to the right verb.
  HttpReply r = c.Send("PUT", "/kv/private/k", "v", Bearer("writer-tok"));
  CHECK(r.status == 403);
  CHECK(r.Json()["key"] == "private/k");
  CHECK(r.Json()["right"] == "write:kv/private/k");
  CHECK(c.Send("GET", "/kv/private/k", "", Bearer("reader-tok")).status == 403);
  CHECK(c.Send("GET", "/kv/?prefix=private/", "", Bearer("reader-tok")).status == 403);
  CHECK(
      c.Send("GET", "/watch?prefix=private/&since=0&format=ndjson&wait=0", "", Bearer("reader-tok"))
          .status == 403);
  // What never needs a token.
  CHECK(c.Get("/healthz").status == 200);
  CHECK(c.Get("/api/limits").status == 200);
  CHECK(c.Get("/").status == 200);
}

TEST_CASE(
    "without --auth-reads reads stay open, Basic auth works, --auth-token joins a tokens file, "
    "writes are audited") {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, TokenLine("writer", "writer-tok", "write:kv/pub/"));
  const std::string audit = dir.path() + "/audit.log";
  KeyvadProcess keyvad(
      {.args = {"--tokens-file=" + tokens, "--auth-token=all-tok", "--audit-log=" + audit}});
  HttpTestClient c(keyvad.port());
  CHECK(c.Put("/kv/pub/k", "v").status == 401);
  // Basic with any user name and the token as the password.
  CHECK(c.Send("PUT", "/kv/pub/k", "v", {{"Authorization", "Basic " + Base64("me:writer-tok")}})
            .status == 201);
  CHECK(c.Send("PUT", "/kv/pub/k", "v2", {{"Authorization", "basic " + Base64(":writer-tok")}})
            .status == 200);
  CHECK(c.Send("PUT", "/kv/pub/k", "v", {{"Authorization", "Basic " + Base64("writer-tok")}})
            .status == 401);
  CHECK(
      c.Send("PUT", "/kv/pub/k", "v", {{"Authorization", "Basic " + Base64("me:wrong")}}).status ==
      401);
  CHECK(c.Send("PUT", "/kv/other", "v", Bearer("writer-tok")).status == 403);
  // --auth-token is one token with every right.
  CHECK(c.Send("PUT", "/kv/other", "v", Bearer("all-tok")).status == 201);
  CHECK(c.Send("POST", "/seq/n", "", {{"Authorization", "Basic " + Base64("x:all-tok")}}).status ==
        200);
  CHECK(c.Send("DELETE", "/kv/other", "", Bearer("all-tok")).status == 200);
  // Reads need nothing.
  CHECK(c.Get("/kv/pub/k").body == "v2");
  CHECK(c.Get("/kv/?prefix=").status == 200);
  CHECK(c.Get("/seq/n").status == 200);
  CHECK(c.Get("/api/stats").status == 200);

  // The audit log: one line per write and delete that reached its handler.
  CHECK(keyvad.Stop(SIGTERM) == 0);
  std::ifstream in(audit);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].rfind("audit token=writer method=PUT route=kv key=\"pub/k\" status=201 etag=\"",
                       0) == 0);
  CHECK(lines[1].find("status=200") != std::string::npos);
  CHECK(lines[2].rfind("audit token=auth-token method=PUT route=kv key=\"other\" status=201", 0) ==
        0);
  CHECK(lines[3] == "audit token=auth-token method=POST route=seq key=\"n\" status=200 etag=-");
  CHECK(lines[4] ==
        "audit token=auth-token method=DELETE route=kv key=\"other\" status=200 etag=-");
}

TEST_CASE("listings and watches show only the keys a token may read") {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, TokenLine("ac", "ac-tok", "read:kv/a/ read:kv/c/ read:seq/a/ read:seq/c/") +
                        TokenLine("split", "split-tok", "read:kv/a/ read:seq/c/"));
  KeyvadProcess keyvad(
      {.args = {"--tokens-file=" + tokens, "--auth-token=all-tok", "--auth-reads"}});
  HttpTestClient c(keyvad.port());
  std::vector<std::string> readable;
  for (const char* folder : {"a/", "b/", "c/", "d/"}) {
    for (int i = 0; i < 7; i++) {
      const std::string key = folder + std::to_string(i);
      REQUIRE(c.Send("PUT", "/kv/" + key, "v", Bearer("all-tok")).status == 201);
      if (folder[0] == 'a' || folder[0] == 'c') readable.push_back(key);
    }
  }
  for (int limit : {1, 2, 3, 5, 100}) {
    INFO("limit " << limit);
    CHECK(ListAll(c, "", limit, Bearer("ac-tok")) == readable);
  }
  CHECK(ListAll(c, "c/", 4, Bearer("ac-tok")).size() == 7);
  CHECK(ListAll(c, "", 10, Bearer("all-tok")).size() == 28);
  CHECK(c.Send("GET", "/kv/?prefix=b/", "", Bearer("ac-tok")).status == 403);

  // A watch of every key sees only the readable ones; one wholly outside is refused.
  SseClient::Options options;
  options.authorization = "Bearer ac-tok";
  SseClient all(keyvad.port(), "/watch", options);
  REQUIRE(all.streaming());
  SseClient outside(keyvad.port(), "/watch?prefix=b/", options);
  CHECK(outside.status() == 403);
  // Values and counters are told apart live: values under a/ and counters under c/ only.
  SseClient::Options split_options;
  split_options.authorization = "Bearer split-tok";
  SseClient split(keyvad.port(), "/watch", split_options);
  REQUIRE(split.streaming());
  for (const char* key : {"b/x", "a/x", "d/x", "c/x"}) {
    REQUIRE(c.Send("PUT", std::string("/kv/") + key, "v", Bearer("all-tok")).status == 201);
  }
  REQUIRE(c.Send("POST", "/seq/d/n", "", Bearer("all-tok")).status == 200);
  REQUIRE(c.Send("POST", "/seq/a/n", "", Bearer("all-tok")).status == 200);
  std::vector<std::string> seen;
  while (seen.size() < 3) {
    std::optional<SseEvent> e = all.Next(10000);
    REQUIRE(e);
    if (e->type == "put" || e->type == "counter") seen.push_back(e->Json()["key"]);
  }
  CHECK(seen == std::vector<std::string>{"a/x", "c/x", "a/n"});
  CHECK_FALSE(all.Next(300));  // nothing else came
  REQUIRE(c.Send("POST", "/seq/c/n", "", Bearer("all-tok")).status == 200);
  std::vector<std::string> split_seen;
  while (split_seen.size() < 2) {
    std::optional<SseEvent> e = split.Next(10000);
    REQUIRE(e);
    if (e->type == "put" || e->type == "counter") {
      split_seen.push_back(e->type + " " + e->Json()["key"].get<std::string>());
    }
  }
  // Not the value c/x, nor the counter a/n.
  CHECK(split_seen == std::vector<std::string>{"put a/x", "counter c/n"});
  CHECK_FALSE(split.Next(300));
  // From the durable feed too (a long poll from the start).
  HttpReply poll = c.Send("GET", "/watch?since=0&format=ndjson&wait=0", "", Bearer("ac-tok"));
  REQUIRE(poll.status == 200);
  CHECK(poll.body.find("\"b/") == std::string::npos);
  CHECK(poll.body.find("\"d/") == std::string::npos);
  CHECK(poll.body.find("\"a/x\"") != std::string::npos);
}

TEST_CASE("SIGHUP reloads the tokens file while open connections and watches stay") {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, TokenLine("first", "first-tok", "read write"));
  KeyvadProcess keyvad({.args = {"--tokens-file=" + tokens, "--auth-reads"}});
  HttpTestClient kept(keyvad.port());
  REQUIRE(kept.Send("PUT", "/kv/k", "v1", Bearer("first-tok")).status == 201);
  const int before = kept.requests_on_connection();
  SseClient::Options options;
  options.authorization = "Bearer first-tok";
  SseClient watch(keyvad.port(), "/watch?prefix=k", options);
  REQUIRE(watch.streaming());

  WriteFile(tokens, TokenLine("second", "second-tok", "read write") +
                        TokenLine("soon", "soon-tok", "read expires=2001-01-01T00:00:00Z"));
  REQUIRE(::kill(keyvad.pid(), SIGHUP) == 0);
  HttpTestClient fresh(keyvad.port());
  int status = 0;
  for (int i = 0; i < 200 && status != 200; i++) {
    status = fresh.Send("GET", "/kv/k", "", Bearer("second-tok")).status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  REQUIRE(status == 200);
  CHECK(fresh.Send("GET", "/kv/k", "", Bearer("soon-tok")).status == 401);
  // The kept-alive connection is still the same one; its new requests use the new file.
  CHECK(kept.Send("GET", "/kv/k", "", Bearer("first-tok")).status == 401);
  CHECK(kept.Send("PUT", "/kv/k", "v2", Bearer("second-tok")).status == 200);
  CHECK(kept.requests_on_connection() == before + 2);
  // The watch opened under the old file goes on.
  std::optional<SseEvent> e;
  do {
    e = watch.Next(10000);
  } while (e && e->type != "put");
  REQUIRE(e);
  CHECK(e->Json()["key"] == "k");

  // A bad file is refused: the tokens in use stay.
  WriteFile(tokens, "broken line\n");
  REQUIRE(::kill(keyvad.pid(), SIGHUP) == 0);
  bool logged = false;
  for (int i = 0; i < 200 && !logged; i++) {
    logged = keyvad.Log().find("SIGHUP: tokens file") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  INFO(keyvad.Log());
  CHECK(logged);
  CHECK(keyvad.Log().find("line 1: expected NAME SHA256-HEX RIGHT") != std::string::npos);
  CHECK(fresh.Send("GET", "/kv/k", "", Bearer("second-tok")).status == 200);
  CHECK_FALSE(watch.ended());
}

TEST_CASE("a bad tokens file stops keyvad at startup with the line named") {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, TokenLine("a", "t", "read") + TokenLine("b", "u", "reed"));
  std::string out;
  CHECK(RunProgram(KEYVAD_PATH,
                   {"--tokens-file=" + tokens, "--data-dir=" + dir.path() + "/data", "--addr=:0"},
                   &out) == 1);
  CHECK(out.find("line 2: token 'b': unknown right 'reed'") != std::string::npos);
  CHECK(RunProgram(KEYVAD_PATH, {"--auth-reads", "--data-dir=" + dir.path() + "/data"}, &out) == 1);
  CHECK(out.find("--auth-reads needs --auth-token or --tokens-file") != std::string::npos);
}

TEST_CASE("keyva token new prints a token and the tokens-file line that grants it") {
  TempDir dir;
  std::string out;
  REQUIRE(RunProgram(KEYVA_CLI_PATH,
                     {"token", "new", "ci", "--rights", "read:kv/pub/,write:kv/pub/",
                      "--expires=2200-01-01T00:00:00Z"},
                     &out) == 0);
  // stdout and stderr are combined here: the token, the line, then the advice.
  const std::string token = out.substr(0, out.find('\n'));
  const std::string rest = out.substr(token.size() + 1);
  const std::string line = rest.substr(0, rest.find('\n'));
  CHECK(token.size() == 43);
  CHECK(line ==
        "ci " + Sha256Hex(token) + " read:kv/pub/ write:kv/pub/ expires=2200-01-01T00:00:00Z");
  CHECK(line.find(token) == std::string::npos);  // never in clear
  std::string again;
  REQUIRE(RunProgram(KEYVA_CLI_PATH, {"token", "new", "ci"}, &again) == 0);
  CHECK(again.substr(0, 43) != token);
  CHECK(RunProgram(KEYVA_CLI_PATH, {"token", "new", "ci", "--rights=peek"}, &again) == 2);
  CHECK(again.find("unknown right 'peek'") != std::string::npos);

  WriteFile(dir.path() + "/tokens", line + "\n");
  KeyvadProcess keyvad({.args = {"--tokens-file=" + dir.path() + "/tokens", "--auth-reads"}});
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(keyvad.port());
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "--token", token, "put", "pub/k"}, &out, {}, "hello") ==
        0);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "--token", token, "get", "pub/k"}, &out) == 0);
  CHECK(out == "hello");
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "pub/k"}, &out) == 1);  // 401
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "--token", token, "put", "other"}, &out, {}, "x") == 1);
}

TEST_CASE("folder listings count and counter listings show only what a token may read") {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  WriteFile(tokens, TokenLine("some", "some-tok", "read:kv/a/ read:kv/mixed/open read:seq/c/"));
  KeyvadProcess keyvad(
      {.args = {"--tokens-file=" + tokens, "--auth-token=all-tok", "--auth-reads"}});
  HttpTestClient c(keyvad.port());
  for (const char* key : {"a/1", "a/2", "b/1", "mixed/open", "mixed/secret", "top"}) {
    REQUIRE(c.Send("PUT", std::string("/kv/") + key, "vv", Bearer("all-tok")).status == 201);
  }
  for (const char* name : {"a/n", "c/n", "c/m"}) {
    REQUIRE(c.Send("POST", std::string("/seq/") + name, "", Bearer("all-tok")).status == 200);
  }
  HttpReply r = c.Send("GET", "/kv/?delimiter=/", "", Bearer("some-tok"));
  REQUIRE(r.status == 200);
  CHECK(r.Json()["folders"] == nlohmann::json::parse(R"([{"prefix":"a/","keys":2,"size":4},
                                                        {"prefix":"mixed/","keys":1,"size":2}])"));
  CHECK(r.Json()["keys"].empty());
  CHECK(c.Send("GET", "/kv/?delimiter=/", "", Bearer("all-tok")).Json()["folders"].size() == 3);

  r = c.Send("GET", "/seq/", "", Bearer("some-tok"));
  REQUIRE(r.status == 200);
  CHECK(r.Json()["counters"] ==
        nlohmann::json::parse(R"([{"name":"c/m","value":1},{"name":"c/n","value":1}])"));
  CHECK(c.Send("GET", "/seq/?prefix=a/", "", Bearer("some-tok")).status == 403);
  CHECK(c.Send("GET", "/seq/", "").status == 401);
}

}  // namespace keyva::testing
