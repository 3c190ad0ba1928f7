// AccessControl: the tokens keyvad accepts right now, and who a request's credentials name.
//
// The set is built from --auth-token (one token named "auth-token" with every right) and
// --tokens-file (access_tokens.h); both may be given. Reload() re-reads the file (on SIGHUP):
// a good file replaces the set for every request that starts afterwards; a bad one leaves the
// old set in place and returns the error. Requests in flight and open connections keep the
// token they were checked with.
//
// With neither flag, access control is off: every request is allowed as before tokens existed.
// With one, writes, deletes and admin routes need a token with the right; with --auth-reads,
// reads do too (otherwise they stay open).
//
// Thread-safety: every method may be called from any thread; the set is a shared_ptr swapped
// under a mutex, so a reader holds a consistent set for as long as it keeps the pointer.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "internal/server/access_tokens.h"
#include "internal/server/config.h"

namespace keyva::server {

class AccessControl {
 public:
  // From config.auth_token alone (no file): what a router gets when nobody configured one.
  explicit AccessControl(const ServerConfig& config);

  // Builds the set from config, reading config.tokens_file if set. nullptr and *error when the
  // file cannot be read or parsed, or --auth-reads is set without any token.
  static std::unique_ptr<AccessControl> Open(const ServerConfig& config, std::string* error);

  // True when any token is configured (requests may then need one).
  bool enabled() const { return enabled_; }
  // True when reads need a token with the read right.
  bool auth_reads() const { return enabled_ && auth_reads_; }
  // The --tokens-file path, or "".
  const std::string& tokens_file() const { return tokens_file_; }

  // Re-reads the tokens file. True (and *summary: how many tokens) when it replaced the set;
  // false and *error when there is no file or it is bad (the old set stays).
  bool Reload(std::string* summary, std::string* error);

  // The credentials of a request, from its Authorization header value.
  struct Identity {
    enum class Outcome {
      kMissing,  // no Authorization header
      kInvalid,  // neither Bearer nor valid Basic, or no such token
      kExpired,  // a known token past its expiry
      kOk,
    };
    Outcome outcome = Outcome::kMissing;
    std::shared_ptr<const AccessToken> token;  // set when kOk
  };
  // has_header false: the request had no Authorization header.
  Identity Identify(bool has_header, std::string_view authorization,
                    std::chrono::system_clock::time_point now) const;

  // The current set (never null).
  std::shared_ptr<const TokenSet> tokens() const;

 private:
  AccessControl(const ServerConfig& config, std::shared_ptr<const TokenSet> file_tokens);
  void Install(std::shared_ptr<const TokenSet> file_tokens);

  const std::string auth_token_;
  const std::string tokens_file_;
  const bool auth_reads_;
  const bool enabled_;
  mutable std::mutex mu_;
  std::shared_ptr<const TokenSet> tokens_;  // guarded by mu_
};

}  // namespace keyva::server
