// keyva_watch_bench: what the change feed (GET /watch, docs/server.md) costs writers, and how
// soon a change reaches a watcher, against a keyvad that is already running (bench/watch/run.sh
// starts one with --sync=none; this tool starts no server).
//
// Each round runs three phases with the same writers for the same time:
//   - without watchers: --writers keep-alive connections PUT --value_size-byte values to
//     uniformly random keys out of --keys, one request in flight each, for --duration seconds;
//     key k is "wb/" + (k mod --watchers, 3 digits) + "/" + k (7 digits), so the keys fall
//     evenly into one folder per watcher;
//   - every change to every watcher: --watchers SSE streams on everything (GET /watch, from the
//     current revision) are connected first, then the same writers run for the same time; each
//     change is delivered --watchers times (the worst case: every client of the store follows
//     all of it);
//   - a folder per watcher: the same number of streams, watcher i on `prefix=wb/i/` (its own
//     folder, as services follow their own configuration), so each change is delivered once.
// Writers run on one thread and watchers on another (each an io_context), so parsing the
// streams does not delay the writers' next requests (they still share the machine's cores with
// keyvad). Every PUT answer's X-Keyva-Revision is its revision; every watcher notes when each
// event (its `id:` line) arrives, and the latency from a PUT's acknowledgement (the writer
// reading its answer) to its event reaching a watcher is recorded for every (PUT, watcher)
// pair; an event that arrives before the writer has read the answer counts as 0 (and is
// counted apart, as before_ack). After the writers stop, each watcher must receive the last
// acknowledged revision (bounded by --drain seconds); the events of acknowledged PUTs a
// watcher never got are counted as missed.
//
// Output: a line per phase on stdout, and --json (every phase, the settings, and the summary:
// the median PUT/s of each kind of phase, the ratios of the two watched kinds to the unwatched,
// and the event latency of each over all rounds).
// Exit status 1 with --check when any request failed, a watcher could not connect or missed an
// event; 2 on bad flags.
//
// Usage: keyva_watch_bench --port=N [--host=127.0.0.1] [--writers=32] [--watchers=100]
//        [--duration=5] [--rounds=1] [--keys=10000] [--value_size=100] [--drain=30]
//        [--server_pid=PID] [--json=FILE] [--check]
#include <sys/resource.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bench/engine/latency_histogram.h"
#include "tests/util/process_probe.h"

namespace keyva::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr double kGoal = 0.9;  // PUT/s with watchers ÷ without

struct Flags {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int writers = 32;
  int watchers = 100;
  double duration = 5;
  int rounds = 1;
  int keys = 10000;
  int value_size = 100;
  double drain = 30;
  pid_t server_pid = 0;
  std::string json_path;
  bool check = false;
};

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(stderr,
               "keyva_watch_bench: %s\n"
               "usage: keyva_watch_bench --port=N [--host=H] [--writers=N] [--watchers=N] "
               "[--duration=S] [--rounds=N] [--keys=N] [--value_size=B] [--drain=S] "
               "[--server_pid=PID] [--json=FILE] [--check]\n",
               error.c_str());
  std::exit(2);
}

double ParsePositive(const std::string& name, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno != 0 || !(d > 0)) {
    Usage("--" + name + " wants a positive number, got '" + v + "'");
  }
  return d;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") Usage("help");
    if (arg.rfind("--", 0) != 0) Usage("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name != "check") {
      if (i + 1 >= argc) Usage("--" + name + " needs a value");
      value = argv[++i];
    }
    auto whole = [&](double max) {
      const double d = ParsePositive(name, value);
      if (d != static_cast<double>(static_cast<long>(d)) || d > max) {
        Usage("--" + name + " wants a whole number up to " + std::to_string(long(max)));
      }
      return static_cast<int>(d);
    };
    if (name == "host") {
      f.host = value;
    } else if (name == "port") {
      f.port = static_cast<uint16_t>(whole(65535));
    } else if (name == "writers") {
      f.writers = whole(10000);
    } else if (name == "watchers") {
      f.watchers = whole(100000);
    } else if (name == "duration") {
      f.duration = ParsePositive(name, value);
    } else if (name == "rounds") {
      f.rounds = whole(1000);
    } else if (name == "keys") {
      f.keys = whole(1e7);
    } else if (name == "value_size") {
      f.value_size = whole(16 << 20);
    } else if (name == "drain") {
      f.drain = ParsePositive(name, value);
    } else if (name == "server_pid") {
      f.server_pid = static_cast<pid_t>(whole(1 << 30));
    } else if (name == "json") {
      f.json_path = value;
    } else if (name == "check") {
      f.check = true;
    } else {
      Usage("unknown flag --" + name);
    }
  }
  if (f.port == 0) Usage("--port is required");
  return f;
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of the server in seconds; -1 when unknown.
double ServerCpuSeconds(pid_t pid) { return pid > 0 ? testing::ProcCpuSeconds(pid) : -1; }

// When each acknowledged PUT reached each watcher that follows its key. The writer thread records
// acks, the watcher thread arrivals (a batch per read, one lock each); an entry is dropped once
// every watcher had it.
class LatencyTable {
 public:
  // expect: the watchers each revision goes to.
  explicit LatencyTable(int expect) : watchers_(expect) {}

  void Acked(uint64_t revision, Clock::time_point at) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = map_[revision];
    e.acked = true;
    e.ack = at;
    acked_++;
    before_ack_ += e.early;
    hist_.Add(0, e.early);
    e.early = 0;
    if (e.seen == watchers_) map_.erase(revision);
  }

  void Arrived(const std::vector<uint64_t>& revisions, Clock::time_point at) {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t r : revisions) {
      events_++;
      Entry& e = map_[r];
      e.seen++;
      if (e.acked) {
        hist_.Add(static_cast<uint64_t>(std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::nanoseconds>(at - e.ack).count())));
        if (e.seen == watchers_) map_.erase(r);
      } else {
        e.early++;
      }
    }
  }

  // After the phase: (PUT, watcher) pairs that never arrived, and events no PUT answered.
  void Tally(uint64_t* missed, uint64_t* unmatched) {
    std::lock_guard<std::mutex> lock(mu_);
    *missed = *unmatched = 0;
    for (const auto& [r, e] : map_) {
      if (e.acked) {
        *missed += static_cast<uint64_t>(watchers_ - e.seen);
      } else {
        *unmatched += static_cast<uint64_t>(e.seen);
      }
    }
  }

  const LatencyHistogram& histogram() const { return hist_; }
  uint64_t before_ack() const { return before_ack_; }
  uint64_t events() const { return events_; }

 private:
  struct Entry {
    bool acked = false;
    Clock::time_point ack;
    int seen = 0;
    uint64_t early = 0;  // arrivals before the ack
  };
  const int watchers_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Entry> map_;  // guarded by mu_
  LatencyHistogram hist_;                    // guarded by mu_
  uint64_t acked_ = 0, before_ack_ = 0, events_ = 0;
};

// What the writers of one phase share (their thread only).
struct WriterState {
  Clock::time_point deadline;
  LatencyTable* table = nullptr;  // null: no watchers
  const Flags* flags = nullptr;
  std::string value;
  uint64_t puts = 0, errors = 0, max_revision = 0;
  std::vector<uint64_t> max_in_folder;  // the newest acknowledged revision in each folder
  std::string first_error;
  LatencyHistogram put_latency;

  void Error(const std::string& what) {
    if (errors++ == 0) first_error = what;
  }
};

// One keep-alive connection PUTting until the deadline.
class Writer : public std::enable_shared_from_this<Writer> {
 public:
  Writer(net::io_context& ioc, uint64_t seed, WriterState* state)
      : stream_(ioc), rng_(seed), state_(state) {}

  void Start(const tcp::endpoint& ep) {
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->state_->Error("connect: " + ec.message());
      self->Next();
    });
  }

 private:
  void Next() {
    if (Clock::now() >= state_->deadline) return;
    const int k = static_cast<int>(rng_() % state_->flags->keys);
    folder_ = k % state_->flags->watchers;
    char target[32];
    std::snprintf(target, sizeof(target), "/kv/wb/%03d/%07d", folder_, k);
    req_ = {};
    req_.method(http::verb::put);
    req_.target(target);
    req_.version(11);
    req_.set(http::field::host, state_->flags->host);
    req_.set(http::field::content_type, "application/octet-stream");
    req_.body() = state_->value;
    req_.prepare_payload();
    res_ = {};
    sent_ = Clock::now();
    stream_.expires_after(std::chrono::seconds(10));
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->state_->Error("write: " + ec.message());
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec, size_t) { self->OnResponse(ec); });
    });
  }

  void OnResponse(beast::error_code ec) {
    if (ec) return state_->Error("read: " + ec.message());
    const auto now = Clock::now();
    if (res_.result_int() / 100 != 2) {
      state_->Error("PUT answered " + std::to_string(res_.result_int()) + " " + res_.body());
      return;
    }
    uint64_t revision = 0;
    const auto h = res_["X-Keyva-Revision"];
    if (std::from_chars(h.data(), h.data() + h.size(), revision).ec != std::errc() ||
        revision == 0) {
      return state_->Error("PUT answered without X-Keyva-Revision");
    }
    state_->puts++;
    state_->max_revision = std::max(state_->max_revision, revision);
    state_->max_in_folder[folder_] = std::max(state_->max_in_folder[folder_], revision);
    state_->put_latency.Add(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent_).count()));
    if (state_->table) state_->table->Acked(revision, now);
    if (!res_.keep_alive()) return state_->Error("keyvad closed the connection");
    Next();
  }

  beast::tcp_stream stream_;
  std::mt19937_64 rng_;
  WriterState* state_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  Clock::time_point sent_;
  int folder_ = 0;  // of the key being written
};

// What the watchers of one phase share (their thread only, but for the atomics).
struct WatcherState {
  LatencyTable* table = nullptr;
  std::string host;
  std::atomic<int> ready{0};  // answered 200 and streaming
  std::atomic<int> failed{0};
  std::atomic<int> ended{0};  // streams that ended before the bench closed them
  std::mutex mu;              // guards first_error
  std::string first_error;

  void Error(const std::string& what) {
    failed++;
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = what;
  }
};

// One SSE stream (of every change, or of one folder's): notes the revision (`id:` line) of each
// event it gets.
class Watcher : public std::enable_shared_from_this<Watcher> {
 public:
  Watcher(net::io_context& ioc, WatcherState* state, std::string target)
      : stream_(ioc), state_(state), target_(std::move(target)) {
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    // Beast reads as much as the buffer has room for (512 bytes when empty): a piece of the
    // server's stream (up to 64 KiB) per read instead.
    buffer_.reserve(64 << 10);
    // The parser keeps a reference to the callback: it lives in the Watcher too.
    on_chunk_ = [this](std::uint64_t, beast::string_view body, beast::error_code&) {
      Scan(std::string_view(body.data(), body.size()));
      return body.size();
    };
    parser_.on_chunk_body(on_chunk_);
  }

  void Start(const tcp::endpoint& ep) {
    stream_.expires_after(std::chrono::seconds(30));
    stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->state_->Error("connect: " + ec.message());
      self->req_.method(http::verb::get);
      self->req_.target(self->target_);
      self->req_.version(11);
      self->req_.set(http::field::host, self->state_->host);
      self->req_.set(http::field::accept, "text/event-stream");
      http::async_write(self->stream_, self->req_, [self](beast::error_code ec, size_t) {
        if (ec) return self->state_->Error("write: " + ec.message());
        http::async_read_header(self->stream_, self->buffer_, self->parser_,
                                [self](beast::error_code ec, size_t) { self->OnHeader(ec); });
      });
    });
  }

  // Closes the stream (on the watchers' thread).
  void Close() {
    closing_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  uint64_t last() const { return last_.load(std::memory_order_acquire); }

 private:
  void OnHeader(beast::error_code ec) {
    if (ec) return state_->Error("response header: " + ec.message());
    if (parser_.get().result_int() != 200) {
      return state_->Error("GET /watch answered " + std::to_string(parser_.get().result_int()));
    }
    stream_.expires_never();
    state_->ready++;
    ReadMore();
  }

  void ReadMore() {
    http::async_read_some(stream_, buffer_, parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            self->Flush();
                            if (ec || self->parser_.is_done()) {
                              if (!self->closing_) {
                                self->state_->ended++;
                                self->state_->Error("the stream ended: " + ec.message());
                              }
                              return;
                            }
                            self->ReadMore();
                          });
  }

  // SSE lines, possibly split across reads; only `id:` lines matter here.
  void Scan(std::string_view data) {
    size_t at = 0;
    while (at < data.size()) {
      const void* nl = std::memchr(data.data() + at, '\n', data.size() - at);
      if (nl == nullptr) {
        carry_.append(data.substr(at));
        return;
      }
      const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
      if (carry_.empty()) {
        Line(data.substr(at, end - at));
      } else {
        carry_.append(data.substr(at, end - at));
        Line(carry_);
        carry_.clear();
      }
      at = end + 1;
    }
  }

  void Line(std::string_view line) {
    if (line.size() < 5 || line.compare(0, 4, "id: ") != 0) return;
    uint64_t r = 0;
    if (std::from_chars(line.data() + 4, line.data() + line.size(), r).ec == std::errc()) {
      revisions_.push_back(r);
    }
  }

  void Flush() {
    if (revisions_.empty()) return;
    state_->table->Arrived(revisions_, Clock::now());
    last_.store(revisions_.back(), std::memory_order_release);
    revisions_.clear();
  }

  beast::tcp_stream stream_;
  WatcherState* state_;
  const std::string target_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> req_;
  std::function<size_t(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_;
  http::response_parser<http::string_body> parser_;
  std::string carry_;
  std::vector<uint64_t> revisions_;  // since the last Flush
  std::atomic<uint64_t> last_{0};
  bool closing_ = false;
};

// What the watchers of a phase follow.
enum class Watching { kNone, kEverything, kOwnFolder };

const char* WatchingName(Watching w) {
  switch (w) {
    case Watching::kNone:
      return "none";
    case Watching::kEverything:
      return "every change";
    case Watching::kOwnFolder:
      return "own folder";
  }
  return "?";
}

struct Phase {
  int round = 0;
  Watching watching = Watching::kNone;
  int watchers = 0;
  double seconds = 0;
  uint64_t puts = 0, errors = 0;
  std::string first_error;
  LatencyHistogram put_latency;
  double client_cpu_s = 0, server_cpu_s = -1;
  // with watchers
  int connected = 0;
  uint64_t events = 0, missed = 0, unmatched = 0, before_ack = 0;
  double connect_s = 0, drain_s = 0;
  bool drained = true;
  LatencyHistogram event_latency;

  double Rps() const { return seconds > 0 ? static_cast<double>(puts) / seconds : 0; }
};

template <class Pred>
bool WaitUntil(Pred pred, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!pred()) {
    if (Clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

Phase RunPhase(const Flags& f, const tcp::endpoint& ep, int round, Watching watching,
               std::mt19937_64& rng) {
  Phase p;
  p.round = round;
  p.watching = watching;
  const int watchers = watching == Watching::kNone ? 0 : f.watchers;
  p.watchers = watchers;
  LatencyTable table(watching == Watching::kOwnFolder ? 1 : watchers);
  WatcherState ws;
  ws.table = &table;
  ws.host = f.host;
  net::io_context wio;
  std::vector<std::shared_ptr<Watcher>> streams;
  std::thread watch_thread;
  if (watchers > 0) {
    const auto t0 = Clock::now();
    for (int i = 0; i < watchers; i++) {
      char target[48];
      if (watching == Watching::kOwnFolder) {
        std::snprintf(target, sizeof(target), "/watch?prefix=wb/%03d/", i);
      } else {
        std::snprintf(target, sizeof(target), "/watch");
      }
      streams.push_back(std::make_shared<Watcher>(wio, &ws, target));
      streams.back()->Start(ep);
    }
    watch_thread = std::thread([&] { wio.run(); });
    WaitUntil([&] { return ws.ready + ws.failed >= watchers; }, 60);
    p.connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
    p.connected = ws.ready;
  }

  WriterState state;
  state.flags = &f;
  state.table = watchers > 0 ? &table : nullptr;
  state.max_in_folder.assign(static_cast<size_t>(f.watchers), 0);
  state.value.resize(static_cast<size_t>(f.value_size));
  for (char& c : state.value) c = static_cast<char>('a' + rng() % 26);
  net::io_context ioc;
  const double cpu0 = SelfCpuSeconds(), server0 = ServerCpuSeconds(f.server_pid);
  const auto start = Clock::now();
  state.deadline = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(f.duration));
  for (int i = 0; i < f.writers; i++) std::make_shared<Writer>(ioc, rng(), &state)->Start(ep);
  ioc.run();  // until every writer's last answer
  const auto stop = Clock::now();
  p.seconds = std::chrono::duration<double>(stop - start).count();
  p.puts = state.puts;
  p.errors = state.errors;
  p.first_error = state.first_error;
  p.put_latency = state.put_latency;

  if (watchers > 0) {
    // Every connected watcher gets the last acknowledged PUT it follows (or the drain time runs
    // out).
    p.drained = WaitUntil(
        [&] {
          int behind = 0;
          for (size_t i = 0; i < streams.size(); i++) {
            behind +=
                streams[i]->last() <
                (watching == Watching::kOwnFolder ? state.max_in_folder[i] : state.max_revision);
          }
          return behind <= watchers - p.connected;
        },
        f.drain);
    p.drain_s = std::chrono::duration<double>(Clock::now() - stop).count();
    net::post(wio, [&] {
      for (auto& s : streams) s->Close();
    });
    watch_thread.join();
    streams.clear();
    // (A watcher that never connected leaves its revisions short of their count: missed.)
    table.Tally(&p.missed, &p.unmatched);
    p.events = table.events();
    p.before_ack = table.before_ack();
    p.event_latency = table.histogram();
    if (ws.failed > 0) {
      p.errors += static_cast<uint64_t>(ws.failed.load());
      if (p.first_error.empty()) p.first_error = "watcher: " + ws.first_error;
    }
  }
  p.client_cpu_s = SelfCpuSeconds() - cpu0;
  if (server0 >= 0) p.server_cpu_s = ServerCpuSeconds(f.server_pid) - server0;
  return p;
}

nlohmann::json Percentiles(const LatencyHistogram& h) {
  return {{"count", h.Count()},
          {"p50", h.PercentileMicros(0.50)},
          {"p90", h.PercentileMicros(0.90)},
          {"p99", h.PercentileMicros(0.99)},
          {"p999", h.PercentileMicros(0.999)},
          {"max", h.MaxMicros()},
          {"mean", h.MeanMicros()}};
}

nlohmann::json PhaseJson(const Phase& p) {
  nlohmann::json j = {{"round", p.round},
                      {"watching", WatchingName(p.watching)},
                      {"watchers", p.watchers},
                      {"seconds", p.seconds},
                      {"puts", p.puts},
                      {"put_rps", p.Rps()},
                      {"errors", p.errors},
                      {"put_latency_us", Percentiles(p.put_latency)},
                      {"client_cpu_s", p.client_cpu_s},
                      {"server_cpu_s", p.server_cpu_s >= 0 ? nlohmann::json(p.server_cpu_s)
                                                           : nlohmann::json(nullptr)}};
  if (!p.first_error.empty()) j["first_error"] = p.first_error;
  if (p.watchers > 0) {
    j["connected"] = p.connected;
    j["connect_s"] = p.connect_s;
    j["events"] = p.events;
    j["missed"] = p.missed;
    j["unmatched"] = p.unmatched;
    j["before_ack"] = p.before_ack;
    j["drained"] = p.drained;
    j["drain_s"] = p.drain_s;
    j["event_latency_us"] = Percentiles(p.event_latency);
  }
  return j;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Print(const Phase& p) {
  std::printf(
      "   round %d, %d watchers (%s): %.0f PUT/s (%llu in %.1f s), PUT p50/p99 %.0f/%.0f us",
      p.round, p.watchers, WatchingName(p.watching), p.Rps(),
      static_cast<unsigned long long>(p.puts), p.seconds, p.put_latency.PercentileMicros(0.5),
      p.put_latency.PercentileMicros(0.99));
  if (p.server_cpu_s >= 0 && p.puts > 0) {
    std::printf(", CPU us/PUT: keyvad %.1f, bench %.1f", p.server_cpu_s / p.puts * 1e6,
                p.client_cpu_s / p.puts * 1e6);
  }
  if (p.watchers > 0) {
    std::printf(
        "; %d connected, %llu events, ack -> event p50/p99 %.0f/%.0f us (%llu before the ack), "
        "missed %llu",
        p.connected, static_cast<unsigned long long>(p.events),
        p.event_latency.PercentileMicros(0.5), p.event_latency.PercentileMicros(0.99),
        static_cast<unsigned long long>(p.before_ack), static_cast<unsigned long long>(p.missed));
  }
  if (p.errors > 0) {
    std::printf("; %llu errors (first: %s)", static_cast<unsigned long long>(p.errors),
                p.first_error.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  net::io_context resolve_ctx;
  tcp::resolver resolver(resolve_ctx);
  beast::error_code ec;
  auto results = resolver.resolve(f.host, std::to_string(f.port), ec);
  if (ec || results.empty()) Usage("cannot resolve " + f.host + ": " + ec.message());
  const tcp::endpoint ep = *results.begin();
  std::mt19937_64 rng(301);

  // Rotate the order each round, so a drift in the machine's load hits every kind alike.
  const Watching kinds[] = {Watching::kNone, Watching::kEverything, Watching::kOwnFolder};
  std::vector<Phase> phases;
  for (int round = 1; round <= f.rounds; round++) {
    for (int k = 0; k < 3; k++) {
      phases.push_back(RunPhase(f, ep, round, kinds[(k + round - 1) % 3], rng));
      Print(phases.back());
    }
  }

  std::vector<double> rps[3];
  LatencyHistogram events[3];
  uint64_t errors = 0, missed = 0;
  for (const Phase& p : phases) {
    const int kind = static_cast<int>(p.watching);
    rps[kind].push_back(p.Rps());
    events[kind].Merge(p.event_latency);
    errors += p.errors;
    missed += p.missed;
  }
  const double rps_without = Median(rps[0]);
  nlohmann::json summary = {
      {"put_rps_without", rps_without}, {"goal", kGoal}, {"errors", errors}, {"missed", missed}};
  for (Watching w : {Watching::kEverything, Watching::kOwnFolder}) {
    const int kind = static_cast<int>(w);
    const double with = Median(rps[kind]);
    const double ratio = rps_without > 0 ? with / rps_without : 0;
    const LatencyHistogram& h = events[kind];
    std::printf(
        "   PUT/s with %d watchers (%s) / without: %.0f / %.0f = %.2fx (goal %.1fx: %s); ack -> "
        "event p50 %.0f us, p99 %.0f us over %llu deliveries\n",
        f.watchers, WatchingName(w), with, rps_without, ratio, kGoal,
        ratio >= kGoal ? "PASS" : "MISS", h.PercentileMicros(0.5), h.PercentileMicros(0.99),
        static_cast<unsigned long long>(h.Count()));
    summary[w == Watching::kEverything ? "every_change" : "own_folder"] = {
        {"put_rps_with", with},
        {"ratio", ratio},
        {"result", ratio >= kGoal ? "PASS" : "MISS"},
        {"event_latency_us", Percentiles(h)}};
  }

  if (!f.json_path.empty()) {
    nlohmann::json doc;
    doc["settings"] = {{"writers", f.writers},     {"watchers", f.watchers},
                       {"duration_s", f.duration}, {"rounds", f.rounds},
                       {"keys", f.keys},           {"value_size", f.value_size},
                       {"drain_s", f.drain},       {"cores", std::thread::hardware_concurrency()}};
    doc["phases"] = nlohmann::json::array();
    for (const Phase& p : phases) doc["phases"].push_back(PhaseJson(p));
    doc["summary"] = summary;
    std::ofstream out(f.json_path);
    out << doc.dump(1) << "\n";
    if (!out) {
      std::fprintf(stderr, "keyva_watch_bench: cannot write %s\n", f.json_path.c_str());
      return 1;
    }
  }
  if (f.check && (errors > 0 || missed > 0)) {
    std::fprintf(stderr, "keyva_watch_bench: %llu errors, %llu missed events\n",
                 static_cast<unsigned long long>(errors), static_cast<unsigned long long>(missed));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace keyva::bench

int main(int argc, char** argv) { return keyva::bench::Main(argc, argv); }
