// keyvad on a full disk: the data directory lives on an 8 MiB tmpfs that the test mounts (it needs
// root and permission to mount; where mounting fails the test reports "SKIPPED: ..." and CTest
// counts it as skipped, never as passed). A filler file takes most of the space, then writes fill
// the rest. Checked: writes get 507 with a JSON error, reads keep working, the server stays up;
// once the filler is deleted writes succeed again (after the engine's retry back-off) and
// /healthz is ok again; after a restart every acknowledged write is there.
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"

namespace keyva::testing {
namespace {

// Mounts a tmpfs of the given size at dir for the object's lifetime.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::string opts = "size=" + size;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

uint64_t FreeBytes(const std::string& dir) {
  struct statvfs st;
  REQUIRE(::statvfs(dir.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// 16 KiB that do not compress (SST blocks are LZ4-compressed): the disk really fills.
std::string Value(int i) {
  std::mt19937 rng(static_cast<uint32_t>(i) * 7919u + 1);
  std::string v(16 * 1024, ' ');
  for (char& c : v) c = static_cast<char>('!' + rng() % 90);
  return v;
}

}  // namespace

TEST_CASE("disk full: keyvad answers 507, keeps reading, and writes again once space is free",
          "[disk-full]") {
  TempDir tmp;
  const std::string mnt = tmp.path() + "/small";
  TmpfsMount fs(mnt, "8m");
  if (!fs.mounted()) {
    WARN("SKIPPED: cannot mount a tmpfs for the disk-full test (" << fs.error()
                                                                  << "); needs root and "
                                                                     "CAP_SYS_ADMIN");
    return;
  }
  const std::string data = mnt + "/data";
  std::map<std::string, std::string> acked;
  {
    KeyvadProcess keyvad({.data_dir = data, .args = {"--memtable-size=64KiB"}});
    HttpTestClient c(keyvad.port());
    for (int i = 0; i < 20; i++) {
      std::string key = "/kv/before" + std::to_string(i);
      REQUIRE(c.Put(key, Value(i), "text/plain").status == 201);
      acked[key] = Value(i);
    }

    // A filler file takes all but about 1 MiB, then writes fill the rest.
    const std::string filler = mnt + "/filler";
    {
      uint64_t free_bytes = FreeBytes(mnt);
      REQUIRE(free_bytes > (2u << 20));
      std::ofstream out(filler, std::ios::binary);
      std::string chunk(64 * 1024, 'f');
      for (uint64_t n = 0; n + (1u << 20) < free_bytes; n += chunk.size()) out << chunk;
    }
    int full_answers = 0;
    HttpReply refused;
    for (int i = 0; i < 400 && full_answers < 5; i++) {
      std::string key = "/kv/filling" + std::to_string(i);
      HttpReply r = c.Put(key, Value(i), "text/plain");
      if (r.status == 201) {
        acked[key] = Value(i);
        continue;
      }
      INFO("status " << r.status << ": " << r.body << "\n" << keyvad.Log());
      REQUIRE(r.status == 507);
      refused = r;
      full_answers++;
    }
    INFO(keyvad.Log());
    REQUIRE(full_answers == 5);
    CHECK(refused.Header("content-type") == "application/json");
    nlohmann::json j = refused.Json();
    CHECK(j["status"] == 507);
    CHECK(j["error"].get<std::string>().find("disk is full") != std::string::npos);

    // Reads keep working; the server is up (health says why writes fail).
    for (const auto& [key, value] : acked) {
      HttpReply r = c.Get(key);
      REQUIRE(r.status == 200);
      REQUIRE(r.body == value);
    }
    CHECK(c.Get("/healthz").status == 503);

    // Free the space: writes succeed again (within the engine's retry back-off).
    std::filesystem::remove(filler);
    bool ok = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (int i = 0; !ok && std::chrono::steady_clock::now() < deadline; i++) {
      std::string key = "/kv/retry" + std::to_string(i);
      HttpReply r = c.Put(key, Value(i), "text/plain");
      if (r.status == 201) {
        acked[key] = Value(i);
        ok = true;
      } else {
        REQUIRE(r.status == 507);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    INFO(keyvad.Log());
    REQUIRE(ok);
    // Enough to flush memtables again. Flush work that failed just before the space came back
    // is retried by the next write that needs room once that failure is 100 ms old: until then
    // such a write may still get 507 (never anything else).
    for (int i = 0; i < 40; i++) {
      std::string key = "/kv/after" + std::to_string(i);
      HttpReply r = c.Put(key, Value(i), "text/plain");
      for (int attempt = 0; r.status == 507 && attempt < 20; attempt++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        r = c.Put(key, Value(i), "text/plain");
      }
      INFO(r.body);
      REQUIRE(r.status == 201);
      acked[key] = Value(i);
    }
    CHECK(c.Get("/healthz").status == 200);
    REQUIRE(keyvad.Stop(SIGTERM) == 0);
  }
  {
    KeyvadProcess keyvad({.data_dir = data});
    HttpTestClient c(keyvad.port());
    for (const auto& [key, value] : acked) {
      INFO(key);
      HttpReply r = c.Get(key);
      REQUIRE(r.status == 200);
      REQUIRE(r.body == value);
    }
    REQUIRE(keyvad.Stop(SIGTERM) == 0);
  }
}

}  // namespace keyva::testing
