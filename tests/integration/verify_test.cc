// `keyva verify --data-dir DIR`: the offline checker as a command. A directory keyvad wrote and
// stopped verifies (exit 0, summary on stdout); a directory held by a running keyvad is refused
// (exit 4, says it is in use) without touching it; a bit flip in an SST is found (exit 1, the
// summary names the file).
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {

TEST_CASE("keyva verify: clean, in use, and damaged data directories") {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::string out;
  {
    KeyvadProcess keyvad({.data_dir = data, .args = {"--memtable-size=64KiB"}});
    HttpTestClient c(keyvad.port());
    for (int i = 0; i < 200; i++) {
      REQUIRE(c.Put("/kv/k" + std::to_string(i), std::string(1000, 'v'), "text/plain").status ==
              201);
    }
    // In use: refused, and the server is unaffected.
    int code = RunProgram(KEYVA_CLI_PATH, {"verify", "--data-dir", data}, &out);
    INFO(out);
    CHECK(code == 4);
    CHECK(out.find("in use") != std::string::npos);
    CHECK(c.Get("/kv/k7").status == 200);
    REQUIRE(keyvad.Stop(SIGTERM) == 0);
  }
  int code = RunProgram(KEYVA_CLI_PATH, {"verify", "--data-dir", data}, &out);
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("result: OK") != std::string::npos);
  CHECK(out.find("SST files:") != std::string::npos);

  std::string sst;
  for (const auto& e : std::filesystem::directory_iterator(data)) {
    if (e.path().extension() == ".sst") sst = e.path().string();
  }
  REQUIRE(!sst.empty());
  {
    std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(50);
    char b = 0;
    f.read(&b, 1);
    b ^= 0x01;
    f.seekp(50);
    f.write(&b, 1);
  }
  code = RunProgram(KEYVA_CLI_PATH, {"verify", "--data-dir", data}, &out);
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("DAMAGED") != std::string::npos);
  CHECK(out.find(std::filesystem::path(sst).filename().string()) != std::string::npos);

  code = RunProgram(KEYVA_CLI_PATH, {"verify"}, &out);
  CHECK(code == 2);
}

}  // namespace keyva::testing
