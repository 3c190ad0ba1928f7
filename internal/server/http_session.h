// HTTP/1.1 sessions: one per accepted connection, plain TCP or TLS.
//
// A session runs on its own strand and serves one request at a time (keep-alive, no pipelining
// in flight):
//   wait for the first bytes  (idle timeout; the header timeout on a fresh connection)
//   read the header           (header timeout; header limit -> 431)
//   Router::CheckHeader       (refusals are sent before any body is read; Content-Length over
//                              the body limit -> 413; nothing is stored)
//   "100 Continue" when asked, then read the body (body timeout; body limit -> 413)
//   Router::Handle            (the response arrives later, possibly from the storage thread,
//                              posted back to the strand with outstanding work tracked so the
//                              io_context cannot run dry while a request is queued)
//   write the response in 64 KiB pieces, each within 10 s plus what --min-send-rate allows
//                             for it (a client that stops reading is cut, never holds memory
//                             for long), then loop or close.
// GET /watch leaves this loop after the header (watch_session.h): the session streams the
// change feed as Server-Sent Events until the client goes, the feed is trimmed past it, it stops
// reading (--watch-stall-timeout), or the server shuts down — or, as a long poll, waits for the
// first change and answers it as an ordinary response.
// A fresh RequestParser (request_parser.h: limits, framing, Host, versions) is made for every
// message; its refusals are answered and the connection closed. After an error that
// leaves a body unread the connection is closed; a plain connection then lingers briefly,
// discarding input, so the client can still read the error instead of a reset.
//
// SessionRegistry lets the server ask every live session to shut down: idle ones close at
// once, busy ones finish their request and close.
//
// Thread-safety: SessionRegistry is thread-safe. A session's state is touched only on its strand.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "internal/server/config.h"
#include "internal/server/metrics.h"
#include "internal/server/router.h"

namespace keyva::server {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the session to close once its current request (if any) is answered. Any thread.
  virtual void RequestShutdown() = 0;
  // Closes the connection now, abandoning any request. Any thread.
  virtual void ForceClose() = 0;
};

class SessionRegistry {
 public:
  void Add(const std::shared_ptr<SessionBase>& session);
  void Remove(SessionBase* session);
  size_t Size() const;
  void RequestShutdownAll();
  void ForceCloseAll();

 private:
  mutable std::mutex mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;  // guarded by mu_
};

// What every session shares; all of it outlives the sessions.
struct SessionContext {
  const ServerConfig& config;
  Router& router;
  ServerMetrics& metrics;
  SessionRegistry& registry;
  std::atomic<bool>& shutting_down;
};

// Starts serving an accepted connection (the socket's executor must be a strand).
void StartPlainSession(boost::asio::ip::tcp::socket&& socket, SessionContext& ctx);
void StartTlsSession(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context& tls,
                     SessionContext& ctx);

}  // namespace keyva::server
