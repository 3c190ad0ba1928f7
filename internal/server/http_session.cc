// Plain and TLS HTTP sessions; see http_session.h.
#include "internal/server/http_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>

#include "internal/server/request_parser.h"
#include "internal/server/watch_session.h"

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
bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

template <bool kTls>
class HttpSession final : public SessionBase,
                          public WatchSession<HttpSession<kTls>>,
                          public std::enable_shared_from_this<HttpSession<kTls>> {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
  friend class WatchSession<HttpSession>;
  static constexpr bool kIsTls = kTls;

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
    if (phase_ == Phase::kStreaming) this->OnShutdownWhileStreaming();
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
    cors_request_ = {};
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
    cors_request_ = ctx_.router.cors().Inspect(req);
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
    if (Router::IsWatch(parser_->get())) return this->StartWatch();
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
    ctx_.router.cors().Decorate(cors_request_, &res);
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

  void CloseNow() {
    phase_ = Phase::kClosing;
    this->CancelWatchTimers();
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

  // The request being served, for the response, metrics and the access log.
  Clock::time_point start_ = Clock::now();
  std::string_view method_ = "-";
  std::string_view route_ = "other";
  std::string target_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  CorsPolicy::RequestInfo cors_request_;  // its Origin, for the CORS headers (cors.h)
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
