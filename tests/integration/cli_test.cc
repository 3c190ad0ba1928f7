// Integration tests of the keyva command-line client against a real keyvad.
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("keyva get/put/del/ls/seq talk to keyvad") {
  KeyvadProcess keyvad({.args = {"--auth-token=tok"}});
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(keyvad.port());
  const std::map<std::string, std::string> env = {{"KEYVA_AUTH_TOKEN", "tok"}};
  TempDir dir;
  const std::string file = dir.path() + "/value.bin";
  const std::string bytes("binary\0bytes\xff", 13);
  {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  }
  std::string out;
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "put", "files/one", file, "--type=application/x-test"},
                   &out, env) == 0);
  CHECK(out.find("created files/one") != std::string::npos);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "put", "files/two words"}, &out, env, "from stdin") == 0);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "files/one"}, &out) == 0);
  CHECK(out == bytes);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "files/two words"}, &out) == 0);
  CHECK(out == "from stdin");

  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "ls", "files/"}, &out) == 0);
  CHECK(out.find("files/one\t13\tapplication/x-test\t") == 0);
  CHECK(out.find("\nfiles/two words\t10\t") != std::string::npos);

  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "seq", "n"}, &out, env) == 0);
  CHECK(out == "1\n");
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "seq", "n", "--by", "-11"}, &out, env) == 0);
  CHECK(out == "-10\n");

  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "del", "files/one"}, &out, env) == 0);
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "get", "files/one"}, &out) == 1);
  CHECK(out.find("HTTP 404") != std::string::npos);
  // Without the token the server refuses the write.
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "del", "files/two words"}, &out) == 1);
  CHECK(out.find("HTTP 401") != std::string::npos);
  // Usage errors and an unreachable server.
  CHECK(RunProgram(KEYVA_CLI_PATH, {url, "frobnicate"}, &out) == 2);
  CHECK(RunProgram(KEYVA_CLI_PATH, {"--url=http://127.0.0.1:1", "get", "k"}, &out) == 3);
}

}  // namespace keyva::testing
