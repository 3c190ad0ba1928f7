// Engine crash test with a real process.
//
// The child (this binary with --child DIR FIRST_BATCH) opens the DB with sync=always and tiny
// memtables (so flushes and compactions run all the time), writes batches of 1..20 keys whose
// values are derived from (batch, index), and after each acknowledged Write prints the batch
// number on stdout. The parent reads those numbers from a pipe, SIGKILLs the child at a random
// moment, reopens the DB itself and checks: every acknowledged batch is fully present, and no batch
// at all (acknowledged or in flight) is partially present. 50 rounds at KEYVA_TEST_SCALE=1.
#define CATCH_CONFIG_RUNNER
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "internal/engine/db.h"
#include "tests/util/test_util.h"

namespace keyva {
namespace {

const char* g_self = nullptr;

int BatchSize(uint64_t batch) { return 1 + static_cast<int>(batch * 2654435761u % 20); }
std::string BatchKey(uint64_t batch, int i) {
  return "b" + std::to_string(batch) + "/" + std::to_string(i);
}
std::string BatchValue(uint64_t batch, int i) {
  std::string v = "value-" + std::to_string(batch) + "-" + std::to_string(i) + "-";
  v.append(static_cast<size_t>(batch % 200), static_cast<char>('a' + batch % 26));
  return v;
}

Options CrashOptions() {
  Options o;
  o.sync = SyncMode::kAlways;
  o.memtable_bytes = 32 << 10;
  o.target_file_size = 64 << 10;
  return o;
}

int RunChild(const std::string& dir, uint64_t first) {
  std::unique_ptr<DB> db;
  Status s = DB::Open(CrashOptions(), dir, &db);
  if (!s.ok()) {
    std::cerr << "child: open failed: " << s.ToString() << "\n";
    return 1;
  }
  for (uint64_t batch = first;; batch++) {
    WriteBatch b;
    for (int i = 0; i < BatchSize(batch); i++) b.Put(BatchKey(batch, i), BatchValue(batch, i));
    s = db->Write(WriteOptions(), &b);
    if (!s.ok()) {
      std::cerr << "child: write failed: " << s.ToString() << "\n";
      return 1;
    }
    std::string line = std::to_string(batch) + "\n";
    if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return 1;
    }
  }
}

}  // namespace

TEST_CASE("kill -9 during writes never loses an acknowledged batch nor tears one", "[crash]") {
  uint64_t seed = test::TestSeed();
  std::cout << "crash test seed " << seed << "\n";
  std::mt19937_64 rng(seed);
  test::TempDir dir;
  int rounds = test::Scaled(50, 1);
  uint64_t total_acked = 0;
  std::vector<std::pair<uint64_t, uint64_t>> acked_rounds;
  for (int round = 0; round < rounds; round++) {
    uint64_t first = static_cast<uint64_t>(round) * 1'000'000;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::string first_s = std::to_string(first);
      ::execl(g_self, g_self, "--child", dir.path().c_str(), first_s.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 400);
    std::string buffer;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
      if (n > 0) buffer.append(chunk, static_cast<size_t>(n));
      if (n == 0) break;  // the child died on its own: the checks below will say why
      if (n < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ssize_t n;
    while ((n = ::read(fds[0], chunk, sizeof(chunk))) > 0)
      buffer.append(chunk, static_cast<size_t>(n));
    ::close(fds[0]);
    INFO("round " << round << ", seed " << seed);
    REQUIRE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));

    // Only whole lines are acknowledgements (a line cut by the kill is not).
    uint64_t acked_end = first;  // batches [first, acked_end) were acknowledged
    size_t pos = 0, nl;
    while ((nl = buffer.find('\n', pos)) != std::string::npos) {
      uint64_t b = std::stoull(buffer.substr(pos, nl - pos));
      REQUIRE(b == acked_end);
      acked_end++;
      pos = nl + 1;
    }
    total_acked += acked_end - first;

    std::unique_ptr<DB> db;
    Status s = DB::Open(CrashOptions(), dir.path(), &db);
    INFO(s.ToString());
    REQUIRE(s.ok());
    // Acknowledged batches are whole; the batch in flight (acked_end) is whole or absent.
    for (uint64_t b = first; b <= acked_end; b++) {
      int present = 0;
      for (int i = 0; i < BatchSize(b); i++) {
        std::string v;
        ValueMeta m;
        Status g = db->Get(ReadOptions(), BatchKey(b, i), &v, &m);
        if (g.ok()) {
          REQUIRE(v == BatchValue(b, i));
          present++;
        } else {
          REQUIRE(g.IsNotFound());
        }
      }
      INFO("batch " << b << " (acknowledged up to " << acked_end << ")");
      if (b < acked_end) {
        REQUIRE(present == BatchSize(b));
      } else {
        REQUIRE((present == 0 || present == BatchSize(b)));
      }
    }
    // Nothing beyond the batch in flight exists.
    std::string v;
    ValueMeta m;
    REQUIRE(db->Get(ReadOptions(), BatchKey(acked_end + 1, 0), &v, &m).IsNotFound());
    // Every batch acknowledged in an earlier round is still whole (flushes and compactions since
    // must not have lost it).
    for (const auto& [from, to] : acked_rounds) {
      for (uint64_t b = from; b < to; b += 1 + rng() % 7) {
        for (int i = 0; i < BatchSize(b); i++) {
          INFO("earlier batch " << b);
          REQUIRE(db->Get(ReadOptions(), BatchKey(b, i), &v, &m).ok());
          REQUIRE(v == BatchValue(b, i));
        }
      }
    }
    acked_rounds.emplace_back(first, acked_end);
    REQUIRE(db->VerifyIntegrity().ok());
  }
  std::cout << "crash test: " << rounds << " rounds, " << total_acked
            << " acknowledged batches verified\n";
}

}  // namespace keyva

int main(int argc, char** argv) {
  keyva::g_self = argv[0];
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0) {
    return keyva::RunChild(argv[2], std::stoull(argv[3]));
  }
  return Catch::Session().run(argc, argv);
}
