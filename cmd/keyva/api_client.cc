// Blocking Beast client for the keyva CLI; see api_client.h.
#include "cmd/keyva/api_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace keyva::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

}  // namespace

struct ApiClient::Impl {
  std::string host, port, base;
  bool tls = false;
  std::string token;
  net::io_context ioc;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

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
    ApiResponse out;
    out.status = res.result_int();
    for (const auto& f : res) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) Disconnect();
    return out;
  }

  ApiResponse SendOnce(http::request<http::string_body>& req) {
    if (!connected()) Connect();
    if (secure) return Exchange(*secure, req);
    return Exchange(*plain, req);
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

}  // namespace keyva::cli
