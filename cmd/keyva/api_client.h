// ApiClient: a blocking HTTP/1.1 (or HTTPS) client for keyvad's API, used by the keyva CLI.
//
// One connection, kept alive across calls and reopened when the server closes it. Base URLs
// look like http://host[:port][/base] or https://...; with https the server certificate is
// verified against the system's trust store unless `insecure` is set.
//
// Thread-safety: one thread.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
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

class ApiClient {
 public:
  // Throws ApiError when url is not http(s)://host[:port][/base].
  ApiClient(const std::string& url, std::string token, bool insecure);
  ~ApiClient();

  // Sends method target (appended to the base path) with body and headers; the bearer token,
  // when set, goes along. Throws ApiError when the server cannot be reached.
  ApiResponse Send(const std::string& method, const std::string& target, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyva::cli
