// The integration tests' HTTP client; see http_test_client.h.
#include "tests/util/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "internal/server/header_text.h"

namespace keyva::testing {

nlohmann::json HttpReply::Json() const { return nlohmann::json::parse(body); }
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

}  // namespace

std::string HttpReply::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

struct HttpTestClient::Impl {
  Impl(uint16_t p, bool t) : port(p), tls(t), tls_ctx(ssl::context::tls_client) {
    tls_ctx.set_verify_mode(ssl::verify_none);
  }

  void Connect() {
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    buffer.clear();
    requests = 0;
    if (tls) {
      tls_stream.emplace(ioc, tls_ctx);
      beast::get_lowest_layer(*tls_stream).connect(ep);
      tls_stream->handshake(ssl::stream_base::client);
    } else {
      plain.emplace(ioc);
      plain->connect(ep);
    }
  }

  bool connected() const { return tls ? tls_stream.has_value() : plain.has_value(); }
  void Disconnect() {
    plain.reset();
    tls_stream.reset();
  }

  template <class Stream>
  HttpReply Exchange(Stream& stream, http::request<http::string_body>& req) {
    http::write(stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (req.method() == http::verb::head) parser.skip(true);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    HttpReply reply;
    reply.status = res.result_int();
    for (const auto& f : res) {
      reply.headers[server::AsciiLower(std::string(f.name_string()))] = std::string(f.value());
    }
    reply.body = std::move(res.body());
    if (!res.keep_alive()) Disconnect();
    return reply;
  }

  HttpReply SendOnce(http::request<http::string_body>& req) {
    if (!connected()) Connect();
    requests++;
    if (tls) return Exchange(*tls_stream, req);
    return Exchange(*plain, req);
  }

  HttpReply Send(http::request<http::string_body>& req) {
    const bool reused = connected();
    try {
      return SendOnce(req);
    } catch (const boost::system::system_error&) {
      Disconnect();
      if (!reused) throw;
    }
    // The server had closed the kept-alive connection: once more on a new one.
    return SendOnce(req);
  }

  uint16_t port;
  bool tls;
  net::io_context ioc;
  ssl::context tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  beast::flat_buffer buffer;
  int requests = 0;
};

HttpTestClient::HttpTestClient(uint16_t port, bool tls)
    : impl_(std::make_unique<Impl>(port, tls)) {}
HttpTestClient::~HttpTestClient() = default;

int HttpTestClient::requests_on_connection() const { return impl_->requests; }

HttpReply HttpTestClient::Send(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "PUT" || method == "POST") req.prepare_payload();
  return impl_->Send(req);
}

RawConnection::RawConnection(uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("cannot connect to keyvad");
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

void RawConnection::Write(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    off += static_cast<size_t>(n);
  }
}

std::string RawConnection::ReadUntil(const std::string& until, int timeout_ms) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (until.empty() || got.find(until) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

bool RawConnection::WaitForClose(int timeout_ms, std::string* rest) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return true;
    if (rest) rest->append(buf, static_cast<size_t>(n));
  }
}

std::string RawExchange(uint16_t port, const std::string& raw, int timeout_ms) {
  RawConnection c(port);
  c.Write(raw);
  std::string out;
  c.WaitForClose(timeout_ms, &out);
  return out;
}

int StatusOf(const std::string& raw) {
  if (raw.compare(0, 5, "HTTP/") != 0) return 0;
  size_t sp = raw.find(' ');
  if (sp == std::string::npos) return 0;
  return std::atoi(raw.c_str() + sp + 1);
}

bool WaitUntilHealthy(uint16_t port, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    try {
      HttpTestClient c(port);
      if (c.Get("/healthz").status == 200) return true;
    } catch (const std::exception&) {
      // not listening yet
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace keyva::testing
