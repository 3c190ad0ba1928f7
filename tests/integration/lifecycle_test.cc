// Integration tests of keyvad as a process: flags, environment, graceful shutdown, persistence
// and running out of file descriptors.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("SIGTERM stops keyvad with exit 0 and the data survives a restart") {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    KeyvadProcess keyvad({.data_dir = data});
    HttpTestClient c(keyvad.port());
    REQUIRE(c.Put("/kv/kept", "across restarts", "text/plain").status == 201);
    REQUIRE(c.Send("POST", "/seq/boots").status == 200);
    REQUIRE(c.Put("/kv/gone", "x", "text/plain").status == 201);
    REQUIRE(c.Delete("/kv/gone").status == 200);
    const int code = keyvad.Stop(SIGTERM);
    INFO(keyvad.Log());
    CHECK(code == 0);
    CHECK(keyvad.Log().find("keyvad stopped") != std::string::npos);
  }
  {
    KeyvadProcess keyvad({.data_dir = data, .args = {"--sync=none"}});
    HttpTestClient c(keyvad.port());
    HttpReply r = c.Get("/kv/kept");
    CHECK(r.status == 200);
    CHECK(r.body == "across restarts");
    CHECK(r.Header("content-type") == "text/plain");
    CHECK(c.Get("/kv/gone").status == 404);
    CHECK(c.Send("POST", "/seq/boots").Json()["value"] == 2);
    CHECK(keyvad.Stop(SIGINT) == 0);
  }
}

TEST_CASE("shutdown finishes the request in flight, then closes idle connections") {
  KeyvadProcess keyvad;
  RawConnection idle(keyvad.port());
  idle.Write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(StatusOf(idle.ReadUntil("}")) == 200);

  // A PUT whose header the server has read (it answered 100 Continue), body not yet sent.
  RawConnection busy(keyvad.port());
  busy.Write(
      "PUT /kv/late HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  REQUIRE(StatusOf(busy.ReadUntil("\r\n\r\n")) == 100);

  kill(keyvad.pid(), SIGTERM);
  CHECK(idle.WaitForClose(20000));  // the idle connection is closed right away
  busy.Write("data");
  std::string reply = busy.ReadUntil("}");
  CHECK(StatusOf(reply) == 201);
  CHECK(reply.find("Connection: close") != std::string::npos);
  CHECK(busy.WaitForClose(20000));
  CHECK(keyvad.Stop(SIGTERM) == 0);  // already exiting; waits for it

  // What was acknowledged during shutdown is durable.
  KeyvadProcess again({.data_dir = keyvad.data_dir()});
  HttpTestClient c(again.port());
  CHECK(c.Get("/kv/late").body == "data");
}

TEST_CASE("SIGTERM sent again and again while keyvad shuts down still ends in exit 0") {
  // The signals keep coming through the drain, the engine's close and the exit itself; none of
  // them may meet the default action (death by SIGTERM, exit status 143).
  TempDir dir;
  const std::string data = dir.path() + "/data";
  for (int round = 0; round < 5; round++) {
    INFO("round " << round);
    KeyvadProcess keyvad({.data_dir = data});
    HttpTestClient c(keyvad.port());
    REQUIRE(c.Put("/kv/round" + std::to_string(round), "v", "text/plain").status == 201);
    const int code = keyvad.StopInsistently(SIGTERM);
    INFO(keyvad.Log());
    CHECK(code == 0);
  }
  KeyvadProcess again({.data_dir = data});
  HttpTestClient c(again.port());
  for (int round = 0; round < 5; round++) {
    CHECK(c.Get("/kv/round" + std::to_string(round)).body == "v");
  }
}

TEST_CASE("bad flags exit 2 with a message, --help documents every flag and its default") {
  std::string out;
  CHECK(RunProgram(KEYVAD_PATH, {"--help"}, &out) == 0);
  for (const char* flag : {"--addr",        "KEYVA_ADDR",       "0.0.0.0:8080",
                           "--data-dir",    "KEYVA_DATA_DIR",   "--sync",
                           "--cache-size",  "--memtable-size",  "--max-value-size",
                           "16MiB",         "--max-key-size",   "1024",
                           "--threads",     "--queue-capacity", "--auth-token",
                           "--tls-cert",    "--tls-key",        "--log-level",
                           "--access-log",  "--port-file",      "--header-timeout",
                           "--idle-timeout"}) {
    INFO(flag);
    CHECK(out.find(flag) != std::string::npos);
  }
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  for (const Case& bad : std::vector<Case>{
           {{"--sync=sometimes"}, "--sync"},
           {{"--max-value-size=lots"}, "--max-value-size"},
           {{"--max-value-size=16XB"}, "--max-value-size"},
           {{"--threads=0"}, "--threads"},
           {{"--addr=nowhere"}, "--addr"},
           {{"--addr=1.2.3.4:99999"}, "--addr"},
           {{"--no-such-flag"}, "--no-such-flag"},
           {{"--log-level=loud"}, "--log-level"},
           {{"--queue-capacity=-3"}, "--queue-capacity"},
           {{"--data-dir"}, "--data-dir"},
           {{"stray"}, "stray"},
       }) {
    INFO(bad.args[0]);
    CHECK(RunProgram(KEYVAD_PATH, bad.args, &out) == 2);
    CHECK(out.find(bad.mentions) != std::string::npos);
  }
  // Environment values are checked the same way.
  CHECK(RunProgram(KEYVAD_PATH, {}, &out, {{"KEYVA_SYNC", "maybe"}}) == 2);
  CHECK(out.find("KEYVA_SYNC") != std::string::npos);
}

TEST_CASE("environment variables configure keyvad, flags override them") {
  KeyvadProcess keyvad({.env = {{"KEYVA_MAX_KEY_SIZE", "4"}, {"KEYVA_MAX_VALUE_SIZE", "8"}}});
  HttpTestClient c(keyvad.port());
  CHECK(c.Put("/kv/abcd", "12345678", "text/plain").status == 201);
  CHECK(c.Put("/kv/abcde", "x", "text/plain").status == 414);
  CHECK(c.Put("/kv/abc", "123456789", "text/plain").status == 413);

  KeyvadProcess flagged({.args = {"--max-key-size=6"}, .env = {{"KEYVA_MAX_KEY_SIZE", "4"}}});
  HttpTestClient f(flagged.port());
  CHECK(f.Put("/kv/abcdef", "x", "text/plain").status == 201);
}

TEST_CASE("a second keyvad on the same data directory fails to start") {
  KeyvadProcess first;
  std::string out;
  int code =
      RunProgram(KEYVAD_PATH, {"--addr=127.0.0.1:0", "--data-dir=" + first.data_dir()}, &out);
  CHECK(code == 1);
  CHECK(out.find("cannot open the database") != std::string::npos);
}

TEST_CASE("keyvad keeps accepting after running out of file descriptors") {
  KeyvadProcess keyvad({.max_open_files = 64});
  // Far more connections than descriptors: the kernel queues them; keyvad accepts what it can
  // and keeps retrying for the rest.
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (int i = 0; i < 90; i++) conns.push_back(std::make_unique<RawConnection>(keyvad.port()));
  conns[0]->Write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(StatusOf(conns[0]->ReadUntil("}")) == 200);
  // Wait until keyvad has hit the limit (it logs the failed accept).
  for (int i = 0; i < 3000 && keyvad.Log().find("accept failed") == std::string::npos; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(keyvad.Log().find("Too many open files") != std::string::npos);
  conns.clear();  // frees the server's descriptors as it sees the closes

  try {
    HttpTestClient c(keyvad.port());
    CHECK(c.Put("/kv/after-emfile", "ok", "text/plain").status == 201);
    CHECK(c.Get("/kv/after-emfile").body == "ok");
    nlohmann::json metrics = c.Get("/api/stats").Json();
    CHECK(metrics["server"]["connections_accepted"].get<uint64_t>() >= 2);
  } catch (const std::exception& e) {
    FAIL(e.what() << "\nkeyvad log:\n" << keyvad.Log());
  }
  CHECK(keyvad.Stop(SIGTERM) == 0);
}

}  // namespace keyva::testing
