// The change feed's test client; see sse_client.h.
#include "tests/util/sse_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "internal/server/header_text.h"

namespace keyva::testing {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

}  // namespace

nlohmann::json SseEvent::Json() const { return nlohmann::json::parse(data); }

struct SseClient::Parser {
  Parser() {
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(true);
  }
  http::response_parser<http::string_body> parser;
  std::string in;  // bytes read, not yet taken by the parser
};

SseClient::SseClient(uint16_t port, const std::string& target, const Options& options)
    : parser_(std::make_unique<Parser>()) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  if (options.receive_buffer > 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer, sizeof(int));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to keyvad");
  }
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    local_port_ = ntohs(local.sin_port);
  }
  std::string request =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  if (!options.last_event_id.empty()) request += "Last-Event-ID: " + options.last_event_id + "\r\n";
  if (!options.authorization.empty()) request += "Authorization: " + options.authorization + "\r\n";
  request += "\r\n";
  size_t off = 0;
  while (off < request.size()) {
    const ssize_t n = send(fd_, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("cannot send the watch request");
    off += static_cast<size_t>(n);
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.header_timeout_ms);
  while (!header_done_ && !ended_) {
    if (!ReadSome(MillisLeft(deadline))) break;
  }
  if (!header_done_) throw std::runtime_error("no response header from keyvad's /watch");
  // Not a stream: read the whole (error) body.
  while (!streaming_ && !ended_) {
    if (!ReadSome(MillisLeft(deadline))) break;
  }
}

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  ended_ = true;
}

bool SseClient::ReadSome(int timeout_ms) {
  if (fd_ < 0 || ended_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[65536];
  const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n > 0) {
    Feed(buf, static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  // Closed (0) or reset: a body delimited by the end of the connection ends here.
  boost::beast::error_code ec;
  if (header_done_) parser_->parser.put_eof(ec);
  if (!streaming_ && header_done_) response_.body = std::move(parser_->parser.get().body());
  ended_ = true;
  return true;
}

void SseClient::Feed(const char* data, size_t n) {
  auto& p = parser_->parser;
  parser_->in.append(data, n);
  while (!parser_->in.empty() && !p.is_done()) {
    boost::beast::error_code ec;
    const size_t used = p.put(boost::asio::buffer(parser_->in.data(), parser_->in.size()), ec);
    parser_->in.erase(0, used);
    if (ec == http::error::need_more) break;
    if (ec) {
      ended_ = true;  // not HTTP: nothing more can be framed
      break;
    }
    if (used == 0) break;
  }
  if (!header_done_ && p.is_header_done()) {
    header_done_ = true;
    const auto& res = p.get();
    response_.status = res.result_int();
    for (const auto& f : res) {
      response_.headers[server::AsciiLower(std::string(f.name_string()))] = std::string(f.value());
    }
    streaming_ = response_.status == 200 &&
                 response_.Header("content-type").rfind("text/event-stream", 0) == 0;
  }
  if (!header_done_) return;
  std::string& body = p.get().body();
  if (streaming_) {
    stream_ += body;
    body.clear();
    ParseStream();
  }
  if (p.is_done()) {
    if (!streaming_) response_.body = std::move(body);
    ended_ = true;
  }
}

void SseClient::ParseStream() {
  size_t at = 0;
  while (true) {
    const size_t nl = stream_.find('\n', at);
    if (nl == std::string::npos) break;
    size_t end = nl;
    if (end > at && stream_[end - 1] == '\r') end--;
    ParseLine(stream_.substr(at, end - at));
    at = nl + 1;
  }
  stream_.erase(0, at);
}

void SseClient::ParseLine(const std::string& line) {
  if (line.empty()) {
    // The block ends: its id (or the last one before) becomes the last event ID, with or
    // without data; only a block with data is an event.
    last_event_id_ = id_buffer_;
    if (pending_data_) {
      pending_.data.pop_back();  // the '\n' after the last data line
      events_.push_back(std::move(pending_));
    }
    pending_ = SseEvent{};
    pending_data_ = false;
    return;
  }
  if (line[0] == ':') {
    comments_++;
    return;
  }
  const size_t colon = line.find(':');
  const std::string field = line.substr(0, colon);
  std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  if (field == "id") {
    if (value.find('\0') != std::string::npos) return;  // ignored, as the specification says
    pending_.id = value;
    id_buffer_ = value;
  } else if (field == "event") {
    pending_.type = value;
  } else if (field == "data") {
    pending_.data += value;
    pending_.data += '\n';  // the last one is dropped when the event ends
    pending_data_ = true;
  }  // retry: and unknown fields are ignored
}

std::optional<SseEvent> SseClient::Next(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (events_.empty() && !ended_) {
    const int left = MillisLeft(deadline);
    if (left <= 0 || !ReadSome(left)) break;
  }
  if (events_.empty()) return std::nullopt;
  SseEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

bool SseClient::WaitForEnd(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!ended_) {
    const int left = MillisLeft(deadline);
    if (left <= 0 || !ReadSome(left)) break;
  }
  return ended_;
}

}  // namespace keyva::testing
