// HttpTestClient: a small synchronous HTTP/1.1 client (Beast) for integration tests, plus raw
// socket helpers for requests no well-behaved client would send.
//
// A client keeps one connection alive across requests and reconnects when the server closed
// it. With tls it speaks HTTPS without verifying the certificate (tests use self-signed ones).
//
// Thread-safety: one thread per client.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace keyva::testing {

// Request headers, sent in this order.
using Headers = std::vector<std::pair<std::string, std::string>>;

// An Authorization header with a bearer token.
inline Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value, or "" when absent.
  std::string Header(const std::string& lower_name) const;
  bool HasHeader(const std::string& lower_name) const { return headers.count(lower_name) > 0; }
  // The body parsed as JSON (out of line: the parser is costly to compile into every test).
  nlohmann::json Json() const;
};

class HttpTestClient {
 public:
  explicit HttpTestClient(uint16_t port, bool tls = false);
  ~HttpTestClient();

  // Sends one request (HEAD replies have no body). headers are added as given; a body is sent
  // with its Content-Length. Throws on connection errors.
  HttpReply Send(const std::string& method, const std::string& target, const std::string& body = "",
                 const Headers& headers = {});

  HttpReply Get(const std::string& target) { return Send("GET", target); }
  HttpReply Put(const std::string& target, const std::string& body,
                const std::string& content_type = "") {
    if (content_type.empty()) return Send("PUT", target, body);
    return Send("PUT", target, body, {{"Content-Type", content_type}});
  }
  HttpReply Delete(const std::string& target) { return Send("DELETE", target); }

  // Requests sent over the current connection so far (reconnects start a new count).
  int requests_on_connection() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects to 127.0.0.1:port, writes raw, then reads until the server closes the connection
// (or timeout_ms passes) and returns everything read.
std::string RawExchange(uint16_t port, const std::string& raw, int timeout_ms = 10000);

// A raw TCP connection for step-by-step exchanges.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  void Write(const std::string& data);
  // Reads until `until` appears in what was read (returns everything read so far), or EOF or
  // timeout (returns what was read).
  std::string ReadUntil(const std::string& until, int timeout_ms = 10000);
  // Reads until the peer closes (or timeout); true when it closed.
  bool WaitForClose(int timeout_ms, std::string* rest = nullptr);

 private:
  int fd_ = -1;
};

// Parses the status code of the first response in raw ("HTTP/1.1 413 ..."); 0 if none.
int StatusOf(const std::string& raw);

// Polls GET /healthz on 127.0.0.1:port until it answers 200 (true) or timeout_ms passes (false).
bool WaitUntilHealthy(uint16_t port, int timeout_ms = 60000);

}  // namespace keyva::testing
