// Integration tests of LOCK / UNLOCK on /kv/{key} (key_lock.h) against the real keyvad: the
// request sequence of Terraform's http state backend replayed with its headers and bodies,
// writes refused while another holder has the lock, lock ids made by keyvad, TTL expiry, a lock
// surviving kill -9, Content-MD5, and the rights LOCK and UNLOCK need.
#include <openssl/evp.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/token_file.h"

namespace keyva::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A LockInfo as Terraform marshals it (statemgr.LockInfo).
std::string LockInfo(const std::string& id, const std::string& who) {
  return R"({"ID":")" + id + R"(","Operation":"OperationTypeApply","Info":"","Who":")" + who +
         R"(","Version":"1.9.5","Created":"2026-03-01T10:00:00.123456Z","Path":""})";
}

std::string Md5Base64(const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  REQUIRE(EVP_Digest(body.data(), body.size(), digest, &len, EVP_md5(), nullptr) == 1);
  return Base64(std::string(reinterpret_cast<const char*>(digest), len));
}

// What Terraform's httpClient.httpRequest sends with a body (client.go): JSON, Content-MD5, and
// Basic auth when a username is configured.
Headers TerraformHeaders(const std::string& body, const std::string& password = "") {
  Headers h = {{"User-Agent", "Go-http-client/1.1"}};
  if (!password.empty()) h.push_back({"Authorization", BasicAuth("terraform", password)});
  if (!body.empty()) {
    h.push_back({"Content-Type", "application/json"});
    h.push_back({"Content-MD5", Md5Base64(body)});
  }
  return h;
}

void CheckHolder(const HttpReply& r, const std::string& lock_info) {
  INFO(r.body);
  REQUIRE(r.status == 423);
  CHECK(r.Header("content-type") == "application/json");
  nlohmann::json body = r.Json();
  // Terraform decodes the body as the holder's LockInfo: every member as it was sent.
  const nlohmann::json sent = nlohmann::json::parse(lock_info);
  for (auto it = sent.begin(); it != sent.end(); ++it) {
    INFO(it.key());
    CHECK(body[it.key()] == it.value());
  }
  CHECK(body["status"] == 423);
  CHECK(body["error"].get<std::string>().find("locked") != std::string::npos);
  CHECK(body["keyva"]["lock_id"] == sent["ID"]);
}

// A token made by `keyva token new`: the token, and its line for the tokens file.
std::pair<std::string, std::string> NewToken(const std::string& name, const std::string& rights) {
  std::string out;
  REQUIRE(RunProgram(KEYVA_CLI_PATH, {"token", "new", name, "--rights", rights}, &out) == 0);
  std::istringstream lines(out);
  std::string token, line;
  std::getline(lines, token);
  std::getline(lines, line);
  return {token, line + "\n"};
}

}  // namespace

TEST_CASE("locks: Terraform's http backend sequence works as Terraform expects") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  const std::string address = "/kv/tf/prod.tfstate";
  const std::string mine = LockInfo("2b6a1e3c-5f0d-4f7e-9a1b-0c3d2e1f4a5b", "alice@ci-1");
  const std::string theirs = LockInfo("9d8c7b6a-1234-4abc-8def-0123456789ab", "bob@laptop");
  const std::string id = "2b6a1e3c-5f0d-4f7e-9a1b-0c3d2e1f4a5b";

  // Get: no state yet.
  CHECK(c.Send("GET", address, "", TerraformHeaders("")).status == 404);

  // Lock: 200.
  HttpReply lock = c.Send("LOCK", address, mine, TerraformHeaders(mine));
  INFO(lock.body);
  REQUIRE(lock.status == 200);
  CHECK(lock.Json()["ID"] == id);
  CHECK(lock.Json()["keyva"]["lock_id"] == id);
  CHECK(lock.Header("x-keyva-lock") == id);

  // Another process's Lock: 423 with the holder's LockInfo.
  CheckHolder(c.Send("LOCK", address, theirs, TerraformHeaders(theirs)), mine);

  // Put: POST ?ID=<lock id> with Content-MD5. The first is 201, the next 200 (both success).
  const std::string state1 = R"({"version":4,"terraform_version":"1.9.5","serial":1,"lineage":"l",)"
                             R"("outputs":{},"resources":[]})";
  const std::string state2 = R"({"version":4,"terraform_version":"1.9.5","serial":2,"lineage":"l",)"
                             R"("outputs":{"x":{"value":1,"type":"number"}},"resources":[]})";
  HttpReply put1 = c.Send("POST", address + "?ID=" + id, state1, TerraformHeaders(state1));
  INFO(put1.body);
  CHECK(put1.status == 201);
  HttpReply put2 = c.Send("POST", address + "?ID=" + id, state2, TerraformHeaders(state2));
  CHECK(put2.status == 200);
  HttpReply get = c.Send("GET", address, "", TerraformHeaders(""));
  CHECK(get.status == 200);
  CHECK(get.body == state2);

  // A writer without the lock id (or with another's): 423 with the holder, nothing stored.
  CheckHolder(c.Send("POST", address, state1, TerraformHeaders(state1)), mine);
  CheckHolder(c.Send("POST", address + "?ID=9d8c7b6a-1234-4abc-8def-0123456789ab", state1,
                     TerraformHeaders(state1)),
              mine);
  CheckHolder(c.Send("DELETE", address, "", TerraformHeaders("")), mine);
  // A damaged body: 400, nothing stored.
  Headers damaged = TerraformHeaders(state1);
  damaged.back().second = Md5Base64(state1 + " ");
  HttpReply bad_md5 = c.Send("POST", address + "?ID=" + id, state1, damaged);
  CHECK(bad_md5.status == 400);
  CHECK(bad_md5.Json()["error"].get<std::string>().find("Content-MD5") != std::string::npos);
  damaged.back().second = "not-an-md5";
  CHECK(c.Send("POST", address + "?ID=" + id, state1, damaged).status == 400);
  CHECK(c.Get(address).body == state2);

  // Unlock: the same LockInfo; only 200 is success.
  HttpReply unlock = c.Send("UNLOCK", address, mine, TerraformHeaders(mine));
  INFO(unlock.body);
  CHECK(unlock.status == 200);
  CHECK(unlock.Json()["unlocked"] == true);

  // Delete of the state: only 200 is success.
  HttpReply del = c.Send("DELETE", address, "", TerraformHeaders(""));
  CHECK(del.status == 200);
  CHECK(del.Json()["key"] == "tf/prod.tfstate");
  CHECK(c.Send("GET", address, "", TerraformHeaders("")).status == 404);

  // Now the other process gets the lock.
  CHECK(c.Send("LOCK", address, theirs, TerraformHeaders(theirs)).status == 200);
}

TEST_CASE("locks: the holder's UNLOCK, refresh, keyvad-made ids and X-Keyva-Lock") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Put("/kv/job/a", "v1", "text/plain").status == 201);

  HttpReply lock = c.Send("LOCK", "/kv/job/a", R"({"who":"worker 7"})");
  INFO(lock.body);
  REQUIRE(lock.status == 200);
  const std::string id = lock.Json()["keyva"]["lock_id"];
  CHECK(id.size() >= 32);
  CHECK(lock.Header("x-keyva-lock") == id);
  CHECK(lock.Json()["who"] == "worker 7");
  CHECK_FALSE(lock.Json().contains("ID"));

  // The same holder locks again: 200, still its lock. Another: 423 with the document.
  CHECK(c.Send("LOCK", "/kv/job/a?ID=" + id, R"({"who":"worker 7, again"})").status == 200);
  HttpReply held = c.Send("LOCK", "/kv/job/a", R"({"who":"worker 8"})");
  CHECK(held.status == 423);
  CHECK(held.Json()["who"] == "worker 7, again");

  // Writes with the id in the header proceed; others do not.
  CHECK(c.Send("PUT", "/kv/job/a", "v2", {{"X-Keyva-Lock", id}}).status == 200);
  CHECK(c.Send("PUT", "/kv/job/a", "v3", {{"X-Keyva-Lock", "nope"}}).status == 423);
  CHECK(c.Send("PUT", "/kv/job/a?ID=" + id, "v3", {{"X-Keyva-Lock", "nope"}}).status == 400);
  CHECK(c.Get("/kv/job/a").body == "v2");
  // Other keys are not locked, reads never are, and no listing shows the lock.
  CHECK(c.Put("/kv/job/b", "free", "text/plain").status == 201);
  HttpReply list = c.Get("/kv/?prefix=job/");
  REQUIRE(list.Json()["keys"].size() == 2);

  // UNLOCK by another id: 423; without any: 400; by the holder (?ID=): 200; again: 200, not held.
  CHECK(c.Send("UNLOCK", "/kv/job/a?ID=nope").status == 423);
  CHECK(c.Send("UNLOCK", "/kv/job/a").status == 400);
  HttpReply unlock = c.Send("UNLOCK", "/kv/job/a?ID=" + id);
  CHECK(unlock.status == 200);
  CHECK(unlock.Json()["unlocked"] == true);
  HttpReply again = c.Send("UNLOCK", "/kv/job/a?ID=" + id);
  CHECK(again.status == 200);
  CHECK(again.Json()["unlocked"] == false);
  CHECK(c.Put("/kv/job/a", "v4", "text/plain").status == 200);
}

TEST_CASE("locks: bad holder documents and lock ids are 400, big ones 413") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  for (const char* body : {"", "not json", "[1]", R"({"ID":5})", R"({"status":"x"})"}) {
    INFO(body);
    HttpReply r = c.Send("LOCK", "/kv/k", body);
    CHECK(r.status == 400);
    CHECK(r.Json()["status"] == 400);
  }
  CHECK(c.Send("LOCK", "/kv/k?ID=b", R"({"ID":"a"})").status == 400);
  CHECK(c.Send("LOCK", "/kv/k?ttl=0", R"({})").status == 400);
  CHECK(c.Send("LOCK", "/kv/k?force=1", R"({})").status == 400);
  CHECK(c.Send("LOCK", "/kv/k", "{\"pad\":\"" + std::string(70 * 1024, 'p') + "\"}").status == 413);
  CHECK(c.Send("UNLOCK", "/kv/k", "[]").status == 400);
  // Nothing was locked by any of them.
  CHECK(c.Put("/kv/k", "v", "text/plain").status == 201);
}

TEST_CASE("locks: a lock with a TTL is as if absent once it passes") {
  KeyvadProcess keyvad;
  HttpTestClient c(keyvad.port());
  REQUIRE(c.Send("LOCK", "/kv/t?ttl=1", R"({"ID":"first"})").status == 200);
  HttpReply lock = c.Send("LOCK", "/kv/t?ttl=1&ID=first", "{}");
  REQUIRE(lock.status == 200);
  CHECK(lock.Json()["keyva"].contains("expires"));
  CHECK(c.Send("LOCK", "/kv/t", R"({"ID":"second"})").status == 423);
  // Within the second it expires, then "second" may have it (bounded wait).
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    status = c.Send("LOCK", "/kv/t", R"({"ID":"second"})").status;
    if (status != 423) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status == 200);
  CHECK(c.Send("PUT", "/kv/t", "x").status == 423);
  CHECK(c.Send("PUT", "/kv/t?ID=second", "x").status == 201);
}

TEST_CASE("locks: a lock survives kill -9 and a restart") {
  TempDir dir;
  const std::string data = dir.path() + "/db";
  const std::string mine = LockInfo("held-across-crash", "alice@ci-1");
  {
    KeyvadProcess keyvad({.data_dir = data});
    HttpTestClient c(keyvad.port());
    REQUIRE(c.Send("LOCK", "/kv/tf/s", mine, TerraformHeaders(mine)).status == 200);
    CHECK(keyvad.Stop(SIGKILL) == 128 + SIGKILL);
  }
  KeyvadProcess again({.data_dir = data});
  HttpTestClient c(again.port());
  const std::string theirs = LockInfo("someone-else", "bob@laptop");
  CheckHolder(c.Send("LOCK", "/kv/tf/s", theirs, TerraformHeaders(theirs)), mine);
  CheckHolder(c.Send("POST", "/kv/tf/s", "{}", TerraformHeaders("{}")), mine);
  CHECK(c.Send("POST", "/kv/tf/s?ID=held-across-crash", "{}", TerraformHeaders("{}")).status ==
        201);
  CHECK(c.Send("UNLOCK", "/kv/tf/s", mine, TerraformHeaders(mine)).status == 200);
  CHECK(c.Send("LOCK", "/kv/tf/s", theirs, TerraformHeaders(theirs)).status == 200);
}

TEST_CASE("locks: LOCK and UNLOCK need the write right, with Basic auth as Terraform sends it") {
  TempDir dir;
  const auto [reader, reader_line] = NewToken("reader", "read:kv/tf/");
  const auto [writer, writer_line] = NewToken("writer", "read:kv/tf/,write:kv/tf/,delete:kv/tf/");
  const std::string tokens = dir.path() + "/tokens", audit = dir.path() + "/audit.log";
  {
    std::ofstream out(tokens);
    out << reader_line << writer_line;
  }
  KeyvadProcess keyvad({.args = {"--tokens-file=" + tokens, "--audit-log=" + audit}});
  HttpTestClient c(keyvad.port());
  const std::string mine = LockInfo("w-1", "writer@ci");
  CHECK(c.Send("LOCK", "/kv/tf/s", mine, TerraformHeaders(mine)).status == 401);
  HttpReply refused = c.Send("LOCK", "/kv/tf/s", mine, TerraformHeaders(mine, reader));
  CHECK(refused.status == 403);
  CHECK(refused.Json()["right"] == "write:kv/tf/s");
  CHECK(c.Send("LOCK", "/kv/other", mine, TerraformHeaders(mine, writer)).status == 403);
  CHECK(c.Send("LOCK", "/kv/tf/s", mine, TerraformHeaders(mine, writer)).status == 200);
  CHECK(c.Send("UNLOCK", "/kv/tf/s", mine, TerraformHeaders(mine, reader)).status == 403);
  CHECK(c.Send("UNLOCK", "/kv/tf/s", mine, TerraformHeaders(mine, writer)).status == 200);

  std::ifstream in(audit);
  std::stringstream text;
  text << in.rdbuf();
  INFO(text.str());
  CHECK(text.str().find("audit token=writer method=LOCK route=kv key=\"tf/s\" status=200") !=
        std::string::npos);
  CHECK(text.str().find("audit token=writer method=UNLOCK route=kv key=\"tf/s\" status=200") !=
        std::string::npos);
}

}  // namespace keyva::testing
