// HttpServer: the acceptor, the I/O threads and graceful shutdown of keyvad's HTTP side.
//
// Listen() binds the configured address (and loads the TLS certificate and key when configured,
// so every connection is then HTTPS). Run() serves on config.threads threads running one
// io_context until SIGINT or SIGTERM arrives (or Shutdown() is called); then it stops accepting,
// closes idle connections, lets every in-flight request finish (its response carries
// "Connection: close") and returns once all connections are gone — or, after
// config.shutdown_timeout, cuts the stragglers. The caller then stops the storage thread, which
// syncs the WAL and closes the engine.
//
// An exception that escapes a session's handler ends that session (its connection closes), is
// logged and counted (keyva_internal_errors_total), and the I/O thread keeps serving.
//
// SIGHUP (when OnReload is set) runs the reload hook — keyvad re-reads its tokens file.
//
// The accept loop never ends on its own: after an accept error it retries, pausing briefly when
// the process is out of file descriptors (EMFILE/ENFILE) or memory.
//
// Thread-safety: Shutdown() may be called from any thread (and from signal-free contexts such as
// tests); everything else from the owning thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "internal/engine/status.h"
#include "internal/server/config.h"
#include "internal/server/metrics.h"
#include "internal/server/router.h"

namespace keyva::server {

class HttpServer {
 public:
  // router and metrics must outlive the server.
  HttpServer(const ServerConfig& config, Router* router, ServerMetrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads TLS material and binds the listening socket. InvalidArgument naming the problem when
  // the certificate or key cannot be loaded; IOError when the address cannot be bound.
  Status Listen();

  // The bound port (the real one when config.port was 0). REQUIRES: Listen() succeeded.
  uint16_t port() const;

  // Serves until a signal or Shutdown(), then drains as described above. REQUIRES: Listen().
  void Run();

  // Starts a graceful shutdown; Run() returns when it is done. Safe from any thread.
  void Shutdown();

  // While Run() serves, each SIGHUP runs reload on an I/O thread (connections stay open).
  // Without it, SIGHUP keeps its default action. REQUIRES: called before Run().
  void OnReload(std::function<void()> reload);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyva::server
