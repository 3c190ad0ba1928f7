// Slow-header clients ("slowloris") against the header timeout (issue 4, acceptance point 6).
//
// keyvad runs with --header-timeout=2s. The test keeps 500 connections open that send their
// request header one byte per second (a header far too long to finish in time); whenever keyvad
// drops one, a new one takes its place. Meanwhile two normal clients PUT and GET in a loop. It
// runs for 20 s x KEYVA_TEST_SCALE (at least 5 s) and until every one of the first 500 slow
// connections has been dropped. Passes when: every first-wave slow connection was closed by keyvad
// before its header was complete and without any response byte, no slow connection ever got a
// response, and every request of the normal clients succeeded (with at least one per client).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/process_probe.h"
#include "tests/util/test_util.h"

namespace keyva::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kSlowConnections = 500;

// A header that takes minutes at one byte per second.
const std::string kSlowHeader =
    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(200, 's') + "\r\n\r\n";

struct SlowConn {
  int fd = -1;
  size_t sent = 0;
  bool first_wave = false;
};

int ConnectNonBlocking(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

struct SlowResult {
  int opened = 0, dropped = 0, first_wave_dropped = 0;
  int got_response = 0, header_completed = 0, connect_failed = 0;
  size_t bytes_before_drop = 0;
};

// Keeps kSlowConnections slow connections going until `until` has passed and the first wave is
// gone (or a generous deadline passes, which the caller reports as a failure).
SlowResult RunSlowClients(uint16_t port, Clock::time_point until) {
  SlowResult res;
  std::vector<SlowConn> conns(kSlowConnections);
  auto open = [&](SlowConn& c, bool first) {
    c = SlowConn{ConnectNonBlocking(port), 0, first};
    if (c.fd < 0) res.connect_failed++;
    res.opened++;
  };
  for (SlowConn& c : conns) open(c, true);
  const auto give_up = until + std::chrono::seconds(120);
  auto next_drip = Clock::now();
  while (Clock::now() < give_up) {
    if (Clock::now() >= until && res.first_wave_dropped == kSlowConnections) break;
    std::vector<pollfd> fds;
    for (const SlowConn& c : conns) fds.push_back({c.fd, POLLIN, 0});
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_drip - Clock::now());
    poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(0, wait.count())));
    const bool drip = Clock::now() >= next_drip;
    if (drip) next_drip += std::chrono::seconds(1);
    for (size_t i = 0; i < conns.size(); i++) {
      SlowConn& c = conns[i];
      if (c.fd < 0) continue;
      bool closed = false;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[512];
        ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n > 0) res.got_response++;
        closed = n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
      }
      if (!closed && drip) {
        if (c.sent == kSlowHeader.size()) {
          res.header_completed++;
          closed = true;
        } else if (send(c.fd, kSlowHeader.data() + c.sent, 1, MSG_NOSIGNAL) == 1) {
          c.sent++;
        } else if (errno != EAGAIN && errno != ENOTCONN) {
          closed = true;  // reset by keyvad
        }
      }
      if (!closed) continue;
      close(c.fd);
      res.dropped++;
      res.bytes_before_drop += c.sent;
      if (c.first_wave) res.first_wave_dropped++;
      if (Clock::now() < until)
        open(c, false);
      else
        c = SlowConn{-1, 0, false};  // poll ignores negative descriptors
    }
  }
  for (SlowConn& c : conns) {
    if (c.fd >= 0) close(c.fd);
  }
  return res;
}

}  // namespace

TEST_CASE("500 slow-header connections are dropped by the header timeout, others are served",
          "[slow_clients]") {
  const long limit = RaiseOpenFileLimit(2 * kSlowConnections + 256);
  REQUIRE(limit >= kSlowConnections + 64);
  const auto duration = std::chrono::milliseconds(test::Scaled<long>(20000, 5000));
  KeyvadProcess keyvad({.args = {"--header-timeout=2s"}, .max_open_files = limit});

  std::atomic<bool> stop{false};
  std::vector<std::string> failures(2);
  std::vector<uint64_t> served(2, 0);
  std::vector<std::thread> normal;
  for (int t = 0; t < 2; t++) {
    normal.emplace_back([&, t] {
      try {
        HttpTestClient c(keyvad.port());
        for (uint64_t i = 0; !stop.load(); i++) {
          const std::string key = "/kv/normal/" + std::to_string(t) + "/" + std::to_string(i % 50);
          const std::string value = "value " + std::to_string(i);
          HttpReply put = c.Put(key, value, "text/plain");
          if (put.status != 200 && put.status != 201) {
            failures[t] = "PUT " + key + " answered " + std::to_string(put.status);
            return;
          }
          HttpReply get = c.Get(key);
          if (get.status != 200 || get.body != value) {
            failures[t] = "GET " + key + " answered " + std::to_string(get.status);
            return;
          }
          served[t] += 2;
        }
      } catch (const std::exception& e) {
        failures[t] = std::string("normal client: ") + e.what();
      }
    });
  }
  const auto start = Clock::now();
  SlowResult slow = RunSlowClients(keyvad.port(), start + duration);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (std::thread& t : normal) t.join();

  std::cout << "slow clients: " << seconds << " s, " << slow.opened << " slow connections opened, "
            << slow.dropped << " dropped by keyvad (first wave " << slow.first_wave_dropped << "/"
            << kSlowConnections << "), on average after "
            << (slow.dropped ? static_cast<double>(slow.bytes_before_drop) / slow.dropped : 0)
            << " header bytes; normal clients served " << served[0] + served[1] << " requests"
            << std::endl;
  INFO(keyvad.Log());
  CHECK(slow.connect_failed == 0);
  CHECK(slow.first_wave_dropped == kSlowConnections);
  CHECK(slow.got_response == 0);
  CHECK(slow.header_completed == 0);
  for (int t = 0; t < 2; t++) {
    CHECK(failures[t].empty());
    CHECK(served[t] > 0);
  }
  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/healthz").status == 200);
  CHECK(keyvad.Stop(SIGTERM) == 0);
}

}  // namespace keyva::testing
