// Plain and TLS HTTP sessions; see http_session.h.
#include "internal/server/http_session.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>

#include "internal/server/request_parser.h"

namespace keyva::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// How long a closing connection keeps discarding input so the client can read our error.
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kLingerMaxBytes = 64u << 20;
constexpr std::chrono::seconds kTlsShutdownTime{3};
// A response is written in pieces of at most this many bytes, each with its own deadline: a
// client must keep reading at --min-send-rate or be cut (response bytes cannot pile up behind
// clients that stopped reading).
constexpr size_t kWritePieceBytes = 64u << 10;
// The slack every piece gets on top of the time the minimum rate allows for it.
constexpr std::chrono::seconds kWritePieceGrace{10};
// A watch stream writes at most about this many bytes of events at once (its send buffer), and
// asks the feed for this many events per step.
constexpr size_t kWatchPieceBytes = 64u << 10;
constexpr size_t kWatchEventsPerStep = 256;
// Feed steps one turn of a watch may take before it yields the thread (a long backlog of
// changes that do not match its filter is read a page at a time).
constexpr int kWatchStepsPerTurn = 16;
// A long-poll answer holds at most about this many bytes.
constexpr size_t kPollMaxBytes = 4u << 20;

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

template <bool kTls>
class HttpSession final : public SessionBase,
                          public std::enable_shared_from_this<HttpSession<kTls>> {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  HttpSession(tcp::socket&& socket, SessionContext& ctx) requires(!kTls)
      : stream_(std::move(socket)), ctx_(ctx) {
    Init();
  }
  HttpSession(tcp::socket&& socket, ssl::context& tls, SessionContext& ctx) requires(kTls)
      : stream_(std::move(socket), tls), ctx_(ctx) {
    Init();
  }

  ~HttpSession() override {
    ctx_.registry.Remove(this);
    ctx_.metrics.ConnectionClosed();
  }

  void Start() {
    net::dispatch(executor_,
                  beast::bind_front_handler(&HttpSession::OnStart, this->shared_from_this()));
  }

  void RequestShutdown() override {
    net::post(executor_, [self = this->shared_from_this()] { self->OnShutdownRequested(); });
  }

  void ForceClose() override {
    net::post(executor_, [self = this->shared_from_this()] { self->CloseNow(); });
  }

 private:
  enum class Phase { kStarting, kIdle, kReading, kBusy, kWriting, kStreaming, kClosing };

  void Init() {
    executor_ = stream_.get_executor();
    limits_.max_header_bytes = ctx_.config.max_header_size;
    limits_.max_body_bytes = ctx_.config.max_value_size;
    limits_.max_trailer_bytes = ctx_.config.max_header_size;
    buffer_.max_size(limits_.ReadAheadLimit());
    beast::error_code ec;
    auto ep = Lowest().socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    ctx_.metrics.ConnectionOpened();
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnStart() {
    if constexpr (kTls) {
      phase_ = Phase::kStarting;
      Lowest().expires_after(ctx_.config.header_timeout);
      stream_.async_handshake(
          ssl::stream_base::server,
          beast::bind_front_handler(&HttpSession::OnHandshake, this->shared_from_this()));
    } else {
      WaitForRequest(ctx_.config.header_timeout);
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("TLS handshake with {} failed: {}", remote_, ec.message());
      return CloseNow();
    }
    WaitForRequest(ctx_.config.header_timeout);
  }

  void OnShutdownRequested() {
    shutdown_ = true;
    // An idle connection has nothing in flight: end it now. Busy ones close after answering; a
    // watch ends its stream (or answers its long poll) now.
    if (phase_ == Phase::kIdle || phase_ == Phase::kStarting) Lowest().cancel();
    if (phase_ == Phase::kStreaming) {
      watch_ending_ = true;
      if (watch_idle_) watch_timer_->cancel();
      if (watch_pacing_) coalesce_timer_->cancel();
    }
  }

  // Waits (up to timeout) for the first bytes of the next request, unless some are buffered.
  void WaitForRequest(std::chrono::milliseconds timeout) {
    if (shutdown_ || ctx_.shutting_down.load(std::memory_order_acquire)) return CloseGracefully();
    if (buffer_.size() > 0) return ReadHeader();
    phase_ = Phase::kIdle;
    Lowest().expires_after(timeout);
    stream_.async_read_some(
        buffer_.prepare(4096),
        beast::bind_front_handler(&HttpSession::OnFirstBytes, this->shared_from_this()));
  }

  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec) return CloseNow();  // idle timeout, the client closed, or shutdown
    buffer_.commit(n);
    ReadHeader();
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    start_ = Clock::now();
    method_ = "-";
    route_ = "other";
    target_.clear();
    version_ = 11;
    keep_alive_ = false;
    parser_.emplace(limits_);
    Lowest().expires_after(ctx_.config.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&HttpSession::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    const Request& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    method_ = http::to_string(req.method());
    target_ = std::string(req.target());
    route_ = Router::RouteLabel(target_);
    if (ctx_.config.fault_injection && req[kFaultInjectionHeader] == "throw-in-session") {
      throw std::runtime_error("fault injected into the session (X-Keyva-Fault)");
    }
    if (std::optional<Response> refusal = ctx_.router.CheckHeader(req)) {
      const bool body_pending = !parser_->is_done();
      return Send(std::move(*refusal), body_pending, body_pending);
    }
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, version_);
      Lowest().expires_after(ctx_.config.body_timeout);
      http::async_write(stream_, *continue_,
                        [self = this->shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    Lowest().expires_after(ctx_.config.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  void OnReadError(beast::error_code ec) {
    if (RequestParser::IsRefusal(ec)) {
      const Refusal& r = *parser_->refusal();
      return Send(MakeErrorResponse(r.status, r.message), true, true);
    }
    if (ec == http::error::buffer_overflow) {
      const auto unparsed = buffer_.cdata();
      Refusal r = parser_->OverflowRefusal(
          std::string_view(static_cast<const char*>(unparsed.data()), unparsed.size()));
      return Send(MakeErrorResponse(r.status, r.message), true, true);
    }
    if (ec == http::error::header_limit) {
      return Send(MakeErrorResponse(http::status::request_header_fields_too_large,
                                    "the request line and headers are larger than " +
                                        std::to_string(ctx_.config.max_header_size) + " bytes"),
                  true, true);
    }
    if (ec == http::error::body_limit) {
      return Send(MakeErrorResponse(http::status::payload_too_large,
                                    "the value is larger than the limit of " +
                                        std::to_string(ctx_.config.max_value_size) + " bytes"),
                  true, true);
    }
    if (ec == http::error::bad_version) return OnBadVersion();
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        !IsHttpParseError(ec)) {
      // The client went away, a timeout fired, or the server is shutting down.
      if (ec == beast::error::timeout) spdlog::debug("{}: read timed out", remote_);
      return CloseNow();
    }
    Send(MakeErrorResponse(http::status::bad_request, "malformed HTTP request: " + ec.message()),
         true, true);
  }

  // Beast parses HTTP/1.0 and 1.1 only. A newer 1.x is served as 1.1 (RFC 9110 §2.5: the bytes
  // are the same once the minor digit reads 1); another major version gets 505.
  void OnBadVersion() {
    version_ = 11;
    const auto buffered = buffer_.data();
    char* bytes = static_cast<char*>(buffered.data());
    size_t patch_at = 0;
    switch (
        RequestParser::ClassifyVersionError(std::string_view(bytes, buffered.size()), &patch_at)) {
      case RequestParser::VersionVerdict::kNewerMinor:
        bytes[patch_at] = '1';
        return ReadHeader();
      case RequestParser::VersionVerdict::kOtherMajor:
        return Send(MakeErrorResponse(http::status::http_version_not_supported,
                                      "keyvad speaks HTTP/1.1 (and 1.0)"),
                    true, true);
      default:
        return Send(MakeErrorResponse(http::status::bad_request,
                                      "malformed HTTP request: bad HTTP version"),
                    true, true);
    }
  }

  void Dispatch() {
    if (Router::IsWatch(parser_->get())) return StartWatch();
    phase_ = Phase::kBusy;
    // Tracked: the io_context keeps running while this request waits in the storage queue.
    auto ex = net::prefer(executor_, net::execution::outstanding_work.tracked);
    ctx_.router.Handle(parser_->release(), [self = this->shared_from_this(), ex](Response&& res) {
      net::post(
          ex, [self, res = std::move(res)]() mutable { self->Send(std::move(res), false, false); });
    });
  }

  // Sends res; then closes (close), after discarding unread input for a while (linger).
  void Send(Response&& res, bool close, bool linger) {
    phase_ = Phase::kWriting;
    const bool keep =
        !close && keep_alive_ && !shutdown_ && !ctx_.shutting_down.load(std::memory_order_acquire);
    res.version(version_);
    res.keep_alive(keep);
    res.set(http::field::server, "keyva");
    if (res.find(kRevisionHeader) == res.end()) SetRevision(&res, ctx_.router.Revision());
    if (res.find("X-Content-Type-Options") == res.end()) {
      res.set("X-Content-Type-Options", "nosniff");
    }
    status_ = res.result_int();
    keep_ = keep;
    linger_ = linger;
    written_ = 0;
    res_.emplace(std::move(res));
    serializer_.emplace(*res_);
    serializer_->limit(kWritePieceBytes);
    WritePiece();
  }

  // Writes the next piece of the response under its own deadline (see kWritePieceBytes).
  void WritePiece() {
    auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(kWritePieceGrace);
    if (ctx_.config.min_send_rate > 0) {
      deadline += std::chrono::milliseconds(kWritePieceBytes * 1000 / ctx_.config.min_send_rate);
    } else {
      deadline = ctx_.config.body_timeout;
    }
    Lowest().expires_after(deadline);
    http::async_write_some(
        stream_, *serializer_,
        beast::bind_front_handler(&HttpSession::OnWritePiece, this->shared_from_this()));
  }

  void OnWritePiece(beast::error_code ec, size_t bytes) {
    written_ += bytes;
    if (!ec && !serializer_->is_done()) return WritePiece();
    if (ec == beast::error::timeout) {
      ctx_.metrics.SlowClientCut();
      spdlog::debug("{}: cut off, reading its response slower than the minimum send rate", remote_);
    }
    OnWrite(ec, written_);
  }

  void OnWrite(beast::error_code ec, size_t bytes) {
    const auto latency = Clock::now() - start_;
    ctx_.metrics.RecordRequest(route_, method_, status_, latency);
    if (ctx_.config.access_log) {
      spdlog::info("access {} \"{} {}\" {} {} {:.3f}ms", remote_, method_, target_, status_, bytes,
                   std::chrono::duration<double, std::milli>(latency).count());
    }
    serializer_.reset();
    res_.reset();
    if (ec) return CloseNow();
    if (!keep_) {
      if (linger_) return Linger();
      return CloseGracefully();
    }
    WaitForRequest(ctx_.config.idle_timeout);
  }

  void CloseGracefully() {
    phase_ = Phase::kClosing;
    if constexpr (kTls) {
      Lowest().expires_after(kTlsShutdownTime);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->CloseNow(); });
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      CloseNow();
    }
  }

  // Half-closes, then reads and drops input until the client closes (or kLingerTime passes),
  // so an error sent before the request was fully read reaches the client.
  void Linger() {
    if constexpr (kTls) {
      CloseGracefully();
    } else {
      phase_ = Phase::kClosing;
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().expires_after(kLingerTime);
      DrainSome();
    }
  }

  void DrainSome() {
    drain_.resize(16384);
    Lowest().async_read_some(net::buffer(drain_),
                             [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                               self->drained_ += n;
                               if (ec || self->drained_ > kLingerMaxBytes) return self->CloseNow();
                               self->DrainSome();
                             });
  }

  // GET /watch. The session serves it itself (router.h, Router::OpenWatch): an SSE stream of
  // frames written one piece at a time (at most kWatchPieceBytes of events taken from the feed
  // per write, so a watcher never holds more), idle waits on the hub's Waiter with a heartbeat
  // timer; or a long poll that waits for a first change and is answered as an ordinary response.
  // A write that takes nothing for --watch-stall-timeout marks the watcher lagging: if the
  // connection drains within another such period the watcher gets a last `lagging` event and
  // the stream ends, else the connection is cut.
  void StartWatch() {
    Router::WatchOpening w = ctx_.router.OpenWatch(parser_->get());
    if (w.refusal) return Send(std::move(*w.refusal), false, false);
    phase_ = Phase::kStreaming;
    watch_ = std::move(w.stream);
    watch_sse_ = w.sse;
    watch_ending_ = watch_lagging_ = watch_final_ = watch_idle_ = watch_pacing_ = false;
    heartbeat_due_ = false;
    poll_max_events_ = w.max_events;
    poll_deadline_ = Clock::now() + w.wait;
    watch_timer_.emplace(executor_);
    stall_timer_.emplace(executor_);
    coalesce_timer_.emplace(executor_);
    wake_scheduled_ = false;
    if (w.sse) WatchForPeerClose();
    std::weak_ptr<HttpSession> weak = this->shared_from_this();
    waiter_ = ctx_.router.hub().NewWaiter(watch_->filter(), [weak, ex = executor_] {
      net::post(ex, [weak] {
        if (auto self = weak.lock()) self->OnWatchWake();
      });
    });
    if (!watch_sse_) return PollOnce();
    status_ = 200;
    watch_chunked_ = version_ >= 11;
    std::string head = version_ >= 11 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.0 200 OK\r\n";
    head +=
        "Server: keyva\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "X-Content-Type-Options: nosniff\r\nX-Accel-Buffering: no\r\nConnection: close\r\n";
    head.append(kRevisionHeader).append(": ").append(std::to_string(watch_->cursor()));
    head += watch_chunked_ ? "\r\nTransfer-Encoding: chunked\r\n\r\n" : "\r\n\r\n";
    // EventSource reconnects after a second (its default is three).
    WatchWrite("retry: 1000\n\n", std::move(head));
  }

  // Sends the next events (or ends the stream, or waits for a wake or the heartbeat).
  void WatchPump() {
    if (phase_ == Phase::kClosing) return;
    if (shutdown_ || ctx_.shutting_down.load(std::memory_order_acquire)) watch_ending_ = true;
    std::string frames;
    bool caught_up = false;
    for (int step = 0; !watch_ending_ && step < kWatchStepsPerTurn; step++) {
      if (frames.size() >= kWatchPieceBytes) break;
      waiter_->Arm();  // before looking, so an Append right after the look still wakes us
      const uint64_t before = watch_->events();
      const WatchStream::Step next = watch_->Next(&frames, kWatchEventsPerStep);
      ctx_.metrics.WatchEventsSent(watch_->events() - before);
      if (next == WatchStream::Step::kCaughtUp) {
        caught_up = true;
        break;
      }
      waiter_->Disarm();
      if (next == WatchStream::Step::kGone) {
        ctx_.metrics.WatcherGone();
        frames += watch_->GoneFrame();
        watch_ending_ = true;
      } else if (next == WatchStream::Step::kError) {
        spdlog::warn("{}: the change feed could not be read: {}", remote_,
                     watch_->error().ToString());
        watch_ending_ = true;
      }
    }
    if (watch_ending_) return EndWatch(std::move(frames));
    // While a write is out (and its pacing after), the next look happens anyway: no wake needed.
    if (!frames.empty()) {
      waiter_->Disarm();
      heartbeat_due_ = false;
      return WatchWrite(std::move(frames));
    }
    if (caught_up && heartbeat_due_) {  // after the look, so its id is the feed's position
      waiter_->Disarm();
      heartbeat_due_ = false;
      return WatchWrite(watch_->HeartbeatFrame());
    }
    if (!caught_up) {  // a long stretch of changes this watcher does not want: yield, go on
      net::post(executor_, [self = this->shared_from_this()] { self->WatchPump(); });
      return;
    }
    WaitForChange(Clock::now() + ctx_.config.watch_heartbeat);
  }

  // The waiter is armed: wait until it fires (OnWatchWake cancels the timer) or until deadline.
  void WaitForChange(Clock::time_point deadline) {
    watch_idle_ = true;
    watch_timer_->expires_at(deadline);
    watch_timer_->async_wait(
        [self = this->shared_from_this()](beast::error_code ec) { self->OnWatchTimer(ec); });
  }

  void OnWatchWake() {
    if (!watch_idle_ || wake_scheduled_) return;
    const Clock::time_point due = last_watch_write_ + watch_interval_;
    if (Clock::now() >= due) {
      watch_timer_->cancel();
      return;
    }
    wake_scheduled_ = true;
    coalesce_timer_->expires_at(due);
    coalesce_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      self->wake_scheduled_ = false;
      if (!ec && self->watch_idle_) self->watch_timer_->cancel();
    });
  }

  // A plain connection is watched for the client going away (it never sends on a stream), so a
  // closed watcher gives its place back at once instead of at its next write. TLS records cannot
  // be peeked at below the TLS layer: there, the next write notices.
  void WatchForPeerClose() {
    if constexpr (!kTls) {
      Lowest().socket().async_wait(
          tcp::socket::wait_read,
          [self = this->shared_from_this()](beast::error_code ec) { self->OnPeerReadable(ec); });
    }
  }

  void OnPeerReadable(beast::error_code ec) {
    if (ec || phase_ != Phase::kStreaming || !watch_) return;
    // Peek without blocking: 0 is the end of the stream, EAGAIN a readiness that was not (read
    // again later); bytes a client sends on a stream are read and dropped.
    char byte;
    const ssize_t n = ::recv(Lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return WatchForPeerClose();
    }
    if (n <= 0) {  // end of stream or reset: the client is gone
      if (watch_idle_ || watch_pacing_) return FinishWatch(net::error::eof);
      return CloseNow();  // the pending write fails and finishes the watch
    }
    beast::error_code e;
    drain_.resize(std::min<size_t>(Lowest().socket().available(e), 16384));
    if (!e && !drain_.empty()) (void)Lowest().socket().read_some(net::buffer(drain_), e);
    if (e) return CloseNow();
    WatchForPeerClose();
  }

  // ec is success when the deadline passed (heartbeat, or the long poll's wait), aborted when
  // woken or asked to shut down.
  void OnWatchTimer(beast::error_code ec) {
    watch_idle_ = false;
    if (phase_ == Phase::kClosing || !watch_) return;
    if (!watch_sse_) return PollOnce();
    if (!ec) heartbeat_due_ = true;
    WatchPump();
  }

  // Writes frames as the body's next bytes (one chunk under HTTP/1.1, as they are under 1.0),
  // after head (the response head, at the start) and, when last, followed by the body's end.
  void WatchWrite(std::string frames, std::string head = {}, bool last = false) {
    watch_out_ = std::move(frames);
    watch_head_ = std::move(head);
    std::string_view tail;
    if (watch_chunked_) {
      if (!watch_out_.empty()) {
        char size[20];
        const int n = std::snprintf(size, sizeof(size), "%zx\r\n", watch_out_.size());
        watch_head_.append(size, n);
      }
      tail = watch_out_.empty() ? (last ? "0\r\n\r\n" : "") : (last ? "\r\n0\r\n\r\n" : "\r\n");
    }
    last_watch_write_ = Clock::now();
    const auto stall = ctx_.config.watch_stall_timeout;
    Lowest().expires_after(2 * stall);  // the hard cut; the stall timer marks it lagging first
    stall_timer_->expires_after(stall);
    stall_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec && !self->watch_lagging_ && self->phase_ == Phase::kStreaming) {
        self->watch_lagging_ = true;
        self->ctx_.metrics.WatcherCut();
        spdlog::debug("{}: a watcher took nothing for the stall timeout", self->remote_);
      }
    });
    const std::array<net::const_buffer, 3> pieces{net::buffer(watch_head_), net::buffer(watch_out_),
                                                  net::buffer(tail.data(), tail.size())};
    net::async_write(stream_, pieces,
                     [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                       self->OnWatchWritten(ec, n);
                     });
  }

  void OnWatchWritten(beast::error_code ec, size_t bytes) {
    stall_timer_->cancel();
    written_ += bytes;
    if (ec || watch_final_) return FinishWatch(ec);
    if (watch_out_.capacity() > 4 * kWatchPieceBytes) std::string().swap(watch_out_);
    if (watch_lagging_) {
      watch_ending_ = true;
      return EndWatch(watch_->LaggingFrame());
    }
    if (bytes >= kWatchPieceBytes || watch_ending_) return WatchPump();
    // Keeping up with a busy feed: let the rest of the period's changes gather first.
    watch_interval_ = ctx_.router.hub().BeginPacing();
    const Clock::time_point due = last_watch_write_ + watch_interval_;
    if (Clock::now() >= due) {
      ctx_.router.hub().EndPacing();
      return WatchPump();
    }
    watch_pacing_ = true;
    coalesce_timer_->expires_at(due);
    coalesce_timer_->async_wait([self = this->shared_from_this()](beast::error_code) {
      self->watch_pacing_ = false;
      self->ctx_.router.hub().EndPacing();
      if (self->phase_ == Phase::kStreaming && self->watch_) self->WatchPump();
    });
  }

  // Writes the last frames and the end of the body; FinishWatch then closes.
  void EndWatch(std::string frames) {
    watch_final_ = true;
    if (frames.empty() && !watch_chunked_) return FinishWatch({});
    WatchWrite(std::move(frames), {}, true);
  }

  void FinishWatch(beast::error_code ec) {
    const auto latency = Clock::now() - start_;
    ctx_.metrics.RecordRequest(route_, method_, status_, latency);
    if (ctx_.config.access_log) {
      spdlog::info("access {} \"{} {}\" {} {} {:.3f}ms (watch, {} events)", remote_, method_,
                   target_, status_, written_,
                   std::chrono::duration<double, std::milli>(latency).count(), watch_->events());
    }
    ReleaseWatch();
    if (ec) return CloseNow();
    CloseGracefully();
  }

  // The long poll: answers with the events after since, or waits for the first of them.
  void PollOnce() {
    if (shutdown_ || ctx_.shutting_down.load(std::memory_order_acquire)) watch_ending_ = true;
    std::string body;
    WatchStream::Step next = WatchStream::Step::kMore;
    waiter_->Arm();
    const uint64_t before = watch_->events();
    for (int step = 0; step < kWatchStepsPerTurn && body.size() < kPollMaxBytes; step++) {
      const size_t taken = watch_->events() - before;
      if (taken >= poll_max_events_) break;
      next = watch_->Next(&body, std::min(kWatchEventsPerStep, poll_max_events_ - taken));
      if (next != WatchStream::Step::kMore) break;
    }
    ctx_.metrics.WatchEventsSent(watch_->events() - before);
    const bool answer = !body.empty() || next == WatchStream::Step::kGone ||
                        next == WatchStream::Step::kError || watch_ending_ ||
                        Clock::now() >= poll_deadline_;
    if (!answer) {
      if (next == WatchStream::Step::kCaughtUp) return WaitForChange(poll_deadline_);
      net::post(executor_, [self = this->shared_from_this()] { self->PollOnce(); });
      return;
    }
    Response res;
    if (next == WatchStream::Step::kGone) {
      ctx_.metrics.WatcherGone();
      res = ctx_.router.GoneResponse(watch_->cursor());
    } else if (next == WatchStream::Step::kError) {
      res = MakeEngineErrorResponse(watch_->error(), "reading the change feed");
    } else {
      res = Response{http::status::ok, 11};
      res.set(http::field::content_type, "application/x-ndjson");
      res.set(http::field::cache_control, "no-store");
      res.body() = std::move(body);
      res.prepare_payload();
    }
    SetRevision(&res, watch_->cursor());
    ReleaseWatch();
    Send(std::move(res), false, false);
  }

  void ReleaseWatch() {
    watch_.reset();
    waiter_.reset();
  }

  void CloseNow() {
    phase_ = Phase::kClosing;
    if (watch_timer_) watch_timer_->cancel();
    if (stall_timer_) stall_timer_->cancel();
    if (coalesce_timer_) coalesce_timer_->cancel();
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  Stream stream_;
  SessionContext& ctx_;
  net::any_io_executor executor_;  // the strand; set once in Init
  std::string remote_ = "?";
  RequestLimits limits_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::optional<Response> res_;
  std::optional<http::serializer<false, PayloadBody>> serializer_;
  bool keep_ = false;    // keep the connection after this response
  bool linger_ = false;  // drain unread input before closing
  size_t written_ = 0;   // bytes of this response written so far
  std::optional<http::response<http::empty_body>> continue_;
  std::string drain_;
  size_t drained_ = 0;
  Phase phase_ = Phase::kStarting;
  bool shutdown_ = false;

  // GET /watch (StartWatch).
  std::unique_ptr<WatchStream> watch_;
  std::shared_ptr<WatchHub::Waiter> waiter_;
  std::optional<net::steady_timer> watch_timer_;  // heartbeat, or the long poll's deadline
  std::optional<net::steady_timer> stall_timer_;
  std::optional<net::steady_timer> coalesce_timer_;  // OnWatchWake's short wait, the pacing
  bool wake_scheduled_ = false;
  Clock::time_point last_watch_write_{};
  std::string watch_head_;  // the bytes being written: head (response head, chunk size line),
  std::string watch_out_;   // frames, and a constant tail (WatchWrite)
  std::chrono::milliseconds watch_interval_ = WatchHub::kMinWriteInterval;
  bool watch_sse_ = true;
  bool watch_chunked_ = true;
  bool watch_idle_ = false;     // waiting on watch_timer_ for a change
  bool watch_pacing_ = false;   // waiting on coalesce_timer_ after a write (OnWatchWritten)
  bool watch_ending_ = false;   // write what is pending, then the end of the stream
  bool watch_lagging_ = false;  // a write took nothing for the stall timeout
  bool watch_final_ = false;    // the last bytes are being written
  bool heartbeat_due_ = false;  // the heartbeat timer fired: send one unless events go out
  size_t poll_max_events_ = 0;
  Clock::time_point poll_deadline_;

  // The request being served, for the response, metrics and the access log.
  Clock::time_point start_ = Clock::now();
  std::string_view method_ = "-";
  std::string_view route_ = "other";
  std::string target_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  unsigned status_ = 0;
};

}  // namespace

void SessionRegistry::Add(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[session.get()] = session;
}

void SessionRegistry::Remove(SessionBase* session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(session);
}

size_t SessionRegistry::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void SessionRegistry::RequestShutdownAll() {
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->RequestShutdown();
}

void SessionRegistry::ForceCloseAll() {
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->ForceClose();
}

void StartPlainSession(tcp::socket&& socket, SessionContext& ctx) {
  auto session = std::make_shared<HttpSession<false>>(std::move(socket), ctx);
  ctx.registry.Add(session);
  session->Start();
}

void StartTlsSession(tcp::socket&& socket, ssl::context& tls, SessionContext& ctx) {
  auto session = std::make_shared<HttpSession<true>>(std::move(socket), tls, ctx);
  ctx.registry.Add(session);
  session->Start();
}

}  // namespace keyva::server
