// ApiClient: a blocking HTTP/1.1 (or HTTPS) client for keyvad's API, used by the keyva CLI.
//
// One connection, kept alive across calls and reopened when the server closes it. Base URLs
// look like http://host[:port][/base] or https://...; with https the server certificate is
// verified against the system's trust store unless `insecure` is set.
//
// Send() exchanges one request for one whole response. Stream() is for responses that do not end
// (the watch feed): it hands the body over piece by piece as it arrives, gives up on a connection
// that stays silent for too long, and can be stopped by a signal (StopOnSignals) wherever it is
// waiting, connect included; Pause() is a wait that the same signals end.
//
// Thread-safety: one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keyva::cli {

struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A connection failure or malformed URL (as opposed to an HTTP error status).
class ApiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server's message for an error response: the "error" of its JSON body, else the body.
std::string ServerMessage(const ApiResponse& response);

// v percent-encoded for a query string (its '/' as %2F, '+' as %2B).
std::string QueryValue(const std::string& v);

// How a Stream() call ended.
enum class StreamEnd {
  kComplete,  // the response ended as its framing says (a stream: the server ended it)
  kClosed,    // the connection broke or was closed before the response was complete
  kIdle,      // nothing arrived for StreamOptions::idle_timeout
  kStopped,   // a signal given to StopOnSignals arrived (now or earlier)
  kLeft,      // on_body returned false
};

struct StreamOptions {
  std::vector<std::pair<std::string, std::string>> headers;  // added to the request as given
  std::chrono::milliseconds connect_timeout{10000};  // resolve + connect + TLS handshake + request
  std::chrono::milliseconds idle_timeout{90000};     // longest silence while reading the response
};

class ApiClient {
 public:
  // Throws ApiError when url is not http(s)://host[:port][/base].
  ApiClient(const std::string& url, std::string token, bool insecure);
  ~ApiClient();

  // Sends method target (appended to the base path) with body and headers; the bearer token,
  // when set, goes along. Throws ApiError when the server cannot be reached.
  ApiResponse Send(const std::string& method, const std::string& target, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Sends GET target on a new connection and hands the response over as it arrives: on_header
  // once with its status and headers (body empty), then on_body with each piece of the body, in
  // order, until the response ends or on_body returns false. Throws ApiError when the server cannot
  // be reached or the connection fails before the response header has arrived (a stop signal
  // meanwhile returns kStopped instead). The connection is closed when it returns.
  StreamEnd Stream(const std::string& target, const StreamOptions& options,
                   const std::function<void(const ApiResponse&)>& on_header,
                   const std::function<bool(std::string_view)>& on_body);

  // From now on each of signals (e.g. SIGINT, SIGTERM) stops the Stream() or Pause() in progress,
  // or the next one, instead of its default action; stopped() then says so. Call once.
  void StopOnSignals(const std::vector<int>& signals);
  bool stopped() const;

  // Waits for duration; false when a stop signal ended (or had ended) the wait.
  bool Pause(std::chrono::milliseconds duration);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyva::cli
