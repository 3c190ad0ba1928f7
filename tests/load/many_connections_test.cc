// 1,000 concurrent keep-alive connections (issue 4, acceptance point 5).
//
// One client thread drives 1,000 connections with Beast's async API for 30 s x KEYVA_TEST_SCALE
// (at least 5 s). Each connection sends one request after another on the same TCP connection -
// GETs, PUTs and counter POSTs over a shared set of keys - and after a 503 (the designed answer
// when keyvad's queue is full; the test sets a small --queue-capacity so it happens) waits the
// Retry-After second. Passes when: every connection was established and stayed open, every answer
// was 200/201/404 or 503, no I/O error happened, keyvad is healthy afterwards and exits 0 on
// SIGTERM, and its peak RSS (VmHWM) stayed under a bound. Prints requests done, 503s and peak RSS.
//
// Both processes need more than 1,000 descriptors: the test raises its soft RLIMIT_NOFILE up to the
// hard limit and gives keyvad the same; with a hard limit too low it uses fewer connections (and
// says so).
#include <signal.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/http_test_client.h"
#include "tests/util/keyvad_process.h"
#include "tests/util/process_probe.h"
#include "tests/util/test_util.h"

namespace keyva::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long kPeakRssLimitKiB = 2048 * 1024;  // shadow memory and quarantine
#else
constexpr long kPeakRssLimitKiB = 512 * 1024;
#endif

struct LoadStats {
  std::atomic<uint64_t> connected{0}, ok{0}, not_found{0}, unavailable{0}, errors{0}, closed{0};
  std::mutex mu;
  std::vector<std::string> samples;  // guarded by mu: the first few errors

  void Error(const std::string& what) {
    errors++;
    std::lock_guard<std::mutex> lock(mu);
    if (samples.size() < 10) samples.push_back(what);
  }
};

// One keep-alive connection issuing requests until the deadline.
class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  LoadConnection(net::io_context& ioc, int id, Clock::time_point deadline, LoadStats* stats)
      : stream_(ioc), retry_(ioc), id_(id), deadline_(deadline), stats_(stats) {}

  void Start(const tcp::endpoint& ep) {
    stream_.expires_after(std::chrono::seconds(60));
    stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->stats_->Error("connect: " + ec.message());
      self->stats_->connected++;
      self->Next();
    });
  }

 private:
  void Next() {
    if (Clock::now() >= deadline_) {
      stats_->closed++;
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    const int kind = (id_ + n_) % 10;
    const std::string key = "/kv/load/" + std::to_string((id_ * 7 + n_) % 500);
    req_ = {};
    req_.version(11);
    req_.set(http::field::host, "127.0.0.1");
    if (kind < 6) {
      req_.method(http::verb::get);
      req_.target(key);
    } else if (kind < 9) {
      req_.method(http::verb::put);
      req_.target(key);
      req_.set(http::field::content_type, "text/plain");
      req_.body() = std::string(64 + (n_ * 37 + id_) % 512, static_cast<char>('a' + kind));
    } else {
      req_.method(http::verb::post);
      req_.target("/seq/load");
    }
    req_.prepare_payload();
    n_++;
    stream_.expires_after(std::chrono::seconds(60));
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->stats_->Error("write: " + ec.message());
      self->res_ = {};
      self->stream_.expires_after(std::chrono::seconds(60));
      http::async_read(self->stream_, self->buffer_, self->res_,
                       beast::bind_front_handler(&LoadConnection::OnRead, self));
    });
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return stats_->Error("read: " + ec.message());
    const unsigned code = res_.result_int();
    if (code == 503) {
      stats_->unavailable++;
    } else if (code == 404 && req_.method() == http::verb::get) {
      stats_->not_found++;
    } else if (code == 200 || (code == 201 && req_.method() == http::verb::put)) {
      stats_->ok++;
    } else {
      return stats_->Error(std::string(req_.method_string()) + " " + std::string(req_.target()) +
                           " answered " + std::to_string(code));
    }
    if (!res_.keep_alive()) return stats_->Error("keyvad closed a keep-alive connection");
    if (code != 503) return Next();
    retry_.expires_after(std::chrono::seconds(1));  // Retry-After: 1
    retry_.async_wait([self = shared_from_this()](beast::error_code) { self->Next(); });
  }

  beast::tcp_stream stream_;
  net::steady_timer retry_;
  const int id_;
  const Clock::time_point deadline_;
  LoadStats* stats_;
  int n_ = 0;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

TEST_CASE("1,000 keep-alive connections: no crash, only designed 503s, bounded RSS",
          "[many_connections]") {
  const long limit = RaiseOpenFileLimit(1000 + 256);
  const int connections = static_cast<int>(std::min<long>(1000, limit - 256));
  REQUIRE(connections >= 100);
  if (connections < 1000) {
    std::cout << "many connections: RLIMIT_NOFILE hard limit " << limit << " allows only "
              << connections << " connections" << std::endl;
  }
  const auto duration = std::chrono::milliseconds(test::Scaled<long>(30000, 5000));
  KeyvadProcess keyvad({.args = {"--queue-capacity=256", "--threads=2"}, .max_open_files = limit});

  LoadStats stats;
  net::io_context ioc;
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), keyvad.port());
  const auto start = Clock::now();
  for (int i = 0; i < connections; i++) {
    std::make_shared<LoadConnection>(ioc, i, start + duration, &stats)->Start(ep);
  }
  std::thread client([&ioc] { ioc.run(); });

  // Sample keyvad's memory while the load runs; VmHWM is the kernel's own peak.
  long peak_hwm = 0, rss_at_end = 0;
  while (Clock::now() < start + duration) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    peak_hwm = std::max(peak_hwm, ProcStatusKiB(keyvad.pid(), "VmHWM"));
  }
  client.join();
  rss_at_end = ProcStatusKiB(keyvad.pid(), "VmRSS");
  peak_hwm = std::max(peak_hwm, ProcStatusKiB(keyvad.pid(), "VmHWM"));

  const uint64_t requests = stats.ok + stats.not_found + stats.unavailable;
  std::cout << "many connections: " << connections << " connections for "
            << duration.count() / 1000.0 << " s: " << requests << " requests answered (" << stats.ok
            << " 200/201, " << stats.not_found << " 404, " << stats.unavailable << " 503), "
            << stats.errors << " errors; keyvad peak RSS (VmHWM) " << peak_hwm / 1024
            << " MiB, RSS at end " << rss_at_end / 1024 << " MiB" << std::endl;
  for (const std::string& s : stats.samples) UNSCOPED_INFO(s);
  INFO(keyvad.Log());
  CHECK(stats.errors == 0);
  CHECK(stats.connected == static_cast<uint64_t>(connections));
  CHECK(stats.closed == static_cast<uint64_t>(connections));  // each ran to the deadline
  CHECK(stats.ok > 0);
  CHECK(peak_hwm > 0);
  CHECK(peak_hwm < kPeakRssLimitKiB);

  HttpTestClient c(keyvad.port());
  CHECK(c.Get("/healthz").status == 200);
  CHECK(c.Get("/api/stats").Json()["server"]["connections_accepted"] >= connections);
  CHECK(keyvad.Stop(SIGTERM) == 0);
}

}  // namespace keyva::testing
