// Blocking Beast client for the keyva CLI; see api_client.h.
#include "cmd/keyva/api_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "internal/server/uri_decoding.h"

namespace keyva::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

// The response's status and headers (names lower-cased); no body.
template <class Message>
ApiResponse HeadOf(const Message& res) {
  ApiResponse out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    out.headers[name] = std::string(f.value());
  }
  return out;
}

}  // namespace

std::string ServerMessage(const ApiResponse& response) {
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return response.body;
}

std::string QueryValue(const std::string& v) {
  std::string out = keyva::server::PercentEncodePath(v);
  // '/' is fine in a path but encode it in a query value, and '+' means space there.
  std::string encoded;
  for (char c : out) encoded += c == '/' ? "%2F" : std::string(1, c);
  return encoded;
}

struct ApiClient::Impl {
  std::string host, port, base;
  bool tls = false;
  std::string token;
  net::io_context ioc;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  // Stream() and Pause() run asynchronous operations on ioc one at a time (Await), so a stop
  // signal can end whichever is in progress.
  std::optional<net::signal_set> signals;
  bool stop_requested = false;
  std::function<void()> cancel_current;  // ends the operation Await is running

  bool connected() const { return plain.has_value() || secure.has_value(); }
  void Disconnect() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  void Connect() {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) throw ApiError("cannot resolve " + host + ": " + ec.message());
    if (tls) {
      secure.emplace(ioc, tls_ctx);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), host.c_str())) {
        throw ApiError("cannot set the TLS server name");
      }
      secure->set_verify_callback(ssl::host_name_verification(host));
      beast::get_lowest_layer(*secure).connect(endpoints, ec);
      if (!ec) secure->handshake(ssl::stream_base::client, ec);
    } else {
      plain.emplace(ioc);
      plain->connect(endpoints, ec);
    }
    if (ec) {
      Disconnect();
      throw ApiError("cannot connect to " + host + ":" + port + ": " + ec.message());
    }
  }

  template <class Stream>
  ApiResponse Exchange(Stream& stream, http::request<http::string_body>& req) {
    http::write(stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    if (req.method() == http::verb::head) parser.skip(true);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    ApiResponse out = HeadOf(res);
    out.body = std::move(res.body());
    if (!res.keep_alive()) Disconnect();
    return out;
  }

  ApiResponse SendOnce(http::request<http::string_body>& req) {
    if (!connected()) Connect();
    if (secure) return Exchange(*secure, req);
    return Exchange(*plain, req);
  }

  void ArmSignals() {
    signals->async_wait([this](const beast::error_code& ec, int) {
      if (ec) return;
      stop_requested = true;
      if (cancel_current) cancel_current();
      ArmSignals();
    });
  }

  // Starts one asynchronous operation with start(handler) and runs ioc until it completes;
  // returns its error. A stop signal meanwhile calls cancel, so the operation completes at once
  // (operation_aborted). Nothing is started once a stop signal has arrived.
  template <class Start, class Cancel>
  beast::error_code Await(Start&& start, Cancel&& cancel) {
    if (stop_requested) return net::error::operation_aborted;
    bool done = false;
    beast::error_code result;
    cancel_current = cancel;
    start([&done, &result](const beast::error_code& ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
    cancel_current = nullptr;
    return done ? result : net::error::operation_aborted;
  }

  // The connection of Stream(): connect, handshake, request, then the response piece by piece.
  template <class Stream>
  StreamEnd StreamOn(Stream& stream, const tcp::resolver::results_type& endpoints,
                     const http::request<http::empty_body>& req, const StreamOptions& options,
                     const std::function<void(const ApiResponse&)>& on_header,
                     const std::function<bool(std::string_view)>& on_body) {
    auto& socket = beast::get_lowest_layer(stream);
    auto cancel = [&socket] { socket.cancel(); };
    const std::string where = host + ":" + port;
    auto fail = [&](const std::string& what, const beast::error_code& ec) {
      Disconnect();
      if (stop_requested) return StreamEnd::kStopped;
      throw ApiError(what + ": " + ec.message());
    };

    socket.expires_after(options.connect_timeout);
    beast::error_code ec =
        Await([&](auto handler) { socket.async_connect(endpoints, std::move(handler)); }, cancel);
    if (ec) return fail("cannot connect to " + where, ec);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      socket.expires_after(options.connect_timeout);
      ec = Await(
          [&](auto handler) {
            stream.async_handshake(ssl::stream_base::client, std::move(handler));
          },
          cancel);
      if (ec) return fail("TLS handshake with " + where + " failed", ec);
    }
    socket.expires_after(options.connect_timeout);
    ec = Await([&](auto handler) { http::async_write(stream, req, std::move(handler)); }, cancel);
    if (ec) return fail("request to " + where + " failed", ec);

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    socket.expires_after(options.idle_timeout);
    ec = Await(
        [&](auto handler) { http::async_read_header(stream, buffer, parser, std::move(handler)); },
        cancel);
    if (ec) return fail("no answer from " + where, ec);
    on_header(HeadOf(parser.get()));

    char piece[16384];
    while (!parser.is_done()) {
      parser.get().body().data = piece;
      parser.get().body().size = sizeof(piece);
      socket.expires_after(options.idle_timeout);
      ec = Await(
          [&](auto handler) { http::async_read_some(stream, buffer, parser, std::move(handler)); },
          cancel);
      const size_t got = sizeof(piece) - parser.get().body().size;
      if (got > 0 && !on_body(std::string_view(piece, got))) {
        Disconnect();
        return StreamEnd::kLeft;
      }
      if (ec == http::error::need_buffer) continue;
      if (ec) {
        Disconnect();
        if (stop_requested) return StreamEnd::kStopped;
        return ec == beast::error::timeout ? StreamEnd::kIdle : StreamEnd::kClosed;
      }
    }
    Disconnect();
    return StreamEnd::kComplete;
  }
};

ApiClient::ApiClient(const std::string& url, std::string token, bool insecure)
    : impl_(std::make_unique<Impl>()) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    impl_->tls = true;
  } else {
    throw ApiError("the URL must start with http:// or https://: " + url);
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  impl_->base = slash == std::string::npos ? "" : rest.substr(slash);
  while (!impl_->base.empty() && impl_->base.back() == '/') impl_->base.pop_back();
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) throw ApiError("malformed URL: " + url);
    impl_->host = authority.substr(1, close - 1);
    impl_->port = close + 1 < authority.size() && authority[close + 1] == ':'
                      ? authority.substr(close + 2)
                      : "";
  } else if (colon != std::string::npos) {
    impl_->host = authority.substr(0, colon);
    impl_->port = authority.substr(colon + 1);
  } else {
    impl_->host = authority;
  }
  if (impl_->port.empty()) impl_->port = impl_->tls ? "443" : "80";
  if (impl_->host.empty()) throw ApiError("the URL has no host: " + url);
  impl_->token = std::move(token);
  if (impl_->tls) {
    if (insecure) {
      impl_->tls_ctx.set_verify_mode(ssl::verify_none);
    } else {
      impl_->tls_ctx.set_default_verify_paths();
      impl_->tls_ctx.set_verify_mode(ssl::verify_peer);
    }
  }
}

ApiClient::~ApiClient() = default;

ApiResponse ApiClient::Send(const std::string& method, const std::string& target,
                            const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(impl_->base + target);
  req.version(11);
  req.set(http::field::host, impl_->host);
  req.set(http::field::user_agent, "keyva-cli");
  if (!impl_->token.empty()) req.set(http::field::authorization, "Bearer " + impl_->token);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (method == "PUT" || method == "POST" || !body.empty()) req.prepare_payload();
  const bool reused = impl_->connected();
  try {
    return impl_->SendOnce(req);
  } catch (const boost::system::system_error& e) {
    impl_->Disconnect();
    if (!reused) throw ApiError(std::string("request failed: ") + e.what());
  }
  try {
    return impl_->SendOnce(req);  // the kept-alive connection had been closed: retry once
  } catch (const boost::system::system_error& e) {
    impl_->Disconnect();
    throw ApiError(std::string("request failed: ") + e.what());
  }
}

StreamEnd ApiClient::Stream(const std::string& target, const StreamOptions& options,
                            const std::function<void(const ApiResponse&)>& on_header,
                            const std::function<bool(std::string_view)>& on_body) {
  Impl& d = *impl_;
  d.Disconnect();
  if (d.stop_requested) return StreamEnd::kStopped;
  http::request<http::empty_body> req{http::verb::get, d.base + target, 11};
  req.set(http::field::host, d.host);
  req.set(http::field::user_agent, "keyva-cli");
  if (!d.token.empty()) req.set(http::field::authorization, "Bearer " + d.token);
  for (const auto& [k, v] : options.headers) req.set(k, v);

  tcp::resolver resolver(d.ioc);
  tcp::resolver::results_type endpoints;
  beast::error_code ec = d.Await(
      [&](auto handler) {
        resolver.async_resolve(d.host, d.port,
                               [&endpoints, handler = std::move(handler)](
                                   const beast::error_code& e, tcp::resolver::results_type r) {
                                 endpoints = std::move(r);
                                 handler(e);
                               });
      },
      [&resolver] { resolver.cancel(); });
  if (d.stop_requested) return StreamEnd::kStopped;
  if (ec) throw ApiError("cannot resolve " + d.host + ": " + ec.message());
  if (!d.tls) {
    d.plain.emplace(d.ioc);
    return d.StreamOn(*d.plain, endpoints, req, options, on_header, on_body);
  }
  d.secure.emplace(d.ioc, d.tls_ctx);
  if (!SSL_set_tlsext_host_name(d.secure->native_handle(), d.host.c_str())) {
    d.Disconnect();
    throw ApiError("cannot set the TLS server name");
  }
  d.secure->set_verify_callback(ssl::host_name_verification(d.host));
  return d.StreamOn(*d.secure, endpoints, req, options, on_header, on_body);
}

void ApiClient::StopOnSignals(const std::vector<int>& signals) {
  impl_->signals.emplace(impl_->ioc);
  for (int s : signals) impl_->signals->add(s);
  impl_->ArmSignals();
}

bool ApiClient::stopped() const { return impl_->stop_requested; }

bool ApiClient::Pause(std::chrono::milliseconds duration) {
  net::steady_timer timer(impl_->ioc, duration);
  impl_->Await([&](auto handler) { timer.async_wait(std::move(handler)); },
               [&timer] { timer.cancel(); });
  return !impl_->stop_requested;
}

}  // namespace keyva::cli
