// The acceptor, I/O threads and graceful shutdown; see http_server.h.
#include "internal/server/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "internal/server/http_session.h"

namespace keyva::server {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

// Pause before accepting again after running out of descriptors or memory.
constexpr std::chrono::milliseconds kAcceptRetryPause{100};

bool IsResourceExhaustion(const error_code& ec) {
  return ec == net::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, SessionContext& ctx, ssl::context* tls)
      : ioc_(ioc),
        ctx_(ctx),
        tls_(tls),
        acceptor_(net::make_strand(ioc)),
        retry_(acceptor_.get_executor()) {}

  Status Bind(const tcp::endpoint& endpoint) {
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on " + endpoint.address().to_string() + ":" +
                             std::to_string(endpoint.port()) + ": " + ec.message());
    }
    return Status::OK();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void Close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ec;
      self->acceptor_.close(ec);
      self->retry_.cancel();
    });
  }

 private:
  void OnAccept(error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // closed for shutdown
    if (ec) {
      ctx_.metrics.AcceptFailed();
      const bool exhausted = IsResourceExhaustion(ec);
      auto now = std::chrono::steady_clock::now();
      if (now - last_warning_ > std::chrono::seconds(1)) {
        last_warning_ = now;
        spdlog::warn("accept failed: {}{}", ec.message(), exhausted ? "; retrying shortly" : "");
      }
      if (exhausted) {
        // Never stop accepting: wait for descriptors to be freed, then try again.
        retry_.expires_after(kAcceptRetryPause);
        retry_.async_wait([self = shared_from_this()](error_code wait_ec) {
          if (!wait_ec && self->acceptor_.is_open()) self->Accept();
        });
        return;
      }
      return Accept();
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls_ != nullptr) {
      StartTlsSession(std::move(socket), *tls_, ctx_);
    } else {
      StartPlainSession(std::move(socket), ctx_);
    }
    Accept();
  }

  net::io_context& ioc_;
  SessionContext& ctx_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace

struct HttpServer::Impl {
  Impl(const ServerConfig& c, Router* r, ServerMetrics* m)
      : config(c),
        ctx{config, *r, *m, registry, shutting_down},
        ioc(c.threads),
        signals(ioc, SIGINT, SIGTERM),
        reload_signals(ioc) {}

  // Runs on_reload for each SIGHUP until shutdown.
  void WaitForReload() {
    reload_signals.async_wait([this](const error_code& ec, int) {
      if (ec || shutting_down.load()) return;
      on_reload();
      WaitForReload();
    });
  }

  void BeginShutdown() {
    if (shutting_down.exchange(true)) return;
    if (listener) listener->Close();
    net::post(ioc, [this] {
      error_code ec;
      signals.cancel(ec);
      reload_signals.cancel(ec);
    });
    registry.RequestShutdownAll();
    {
      std::lock_guard<std::mutex> lock(mu);
      shutdown_requested = true;
    }
    cv.notify_all();
  }

  const ServerConfig& config;
  SessionRegistry registry;
  std::atomic<bool> shutting_down{false};
  SessionContext ctx;
  std::optional<ssl::context> tls;
  // Declared after what sessions refer to: destroying the io_context destroys the sessions
  // still held by its handlers, and they must find the registry alive.
  net::io_context ioc;
  net::signal_set signals;
  net::signal_set reload_signals;  // SIGHUP, when on_reload is set
  std::function<void()> on_reload;
  std::shared_ptr<Listener> listener;
  uint16_t port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool shutdown_requested = false;  // guarded by mu
  int running_threads = 0;          // guarded by mu
};

HttpServer::HttpServer(const ServerConfig& config, Router* router, ServerMetrics* metrics)
    : impl_(std::make_unique<Impl>(config, router, metrics)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Listen() {
  const ServerConfig& config = impl_->config;
  if (config.tls()) {
    try {
      impl_->tls.emplace(ssl::context::tls_server);
      impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      impl_->tls->use_certificate_chain_file(config.tls_cert);
      impl_->tls->use_private_key_file(config.tls_key, ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return Status::InvalidArgument("cannot load TLS certificate '" + config.tls_cert +
                                     "' / key '" + config.tls_key + "': " + e.what());
    }
  }
  error_code ec;
  net::ip::address address = net::ip::make_address(config.host, ec);
  if (ec) {
    tcp::resolver resolver(impl_->ioc);
    auto results =
        resolver.resolve(config.host, std::to_string(config.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("cannot resolve listen address '" + config.host +
                                     "': " + ec.message());
    }
    address = results.begin()->endpoint().address();
  }
  impl_->listener =
      std::make_shared<Listener>(impl_->ioc, impl_->ctx, impl_->tls ? &*impl_->tls : nullptr);
  Status s = impl_->listener->Bind(tcp::endpoint(address, config.port));
  if (!s.ok()) return s;
  impl_->port = impl_->listener->port();
  return Status::OK();
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Shutdown() { impl_->BeginShutdown(); }

void HttpServer::OnReload(std::function<void()> reload) { impl_->on_reload = std::move(reload); }

void HttpServer::Run() {
  Impl& im = *impl_;
  im.signals.async_wait([&im](const error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("received {}; shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    im.BeginShutdown();
  });
  if (im.on_reload) {
    error_code ec;
    im.reload_signals.add(SIGHUP, ec);
    if (ec) {
      spdlog::warn("cannot handle SIGHUP ({}); the tokens file will not be reloaded", ec.message());
    } else {
      im.WaitForReload();
    }
  }
  im.listener->Accept();

  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.running_threads = im.config.threads;
  }
  for (int i = 0; i < im.config.threads; i++) {
    threads.emplace_back([&im] {
      // An exception thrown by a handler unwinds out of run(): the session whose handler it was
      // is destroyed with that handler (its connection closes), and this thread serves on.
      for (;;) {
        try {
          im.ioc.run();
          break;
        } catch (const std::exception& e) {
          im.ctx.metrics.InternalError();
          spdlog::error("internal error in an HTTP session (its connection is closed): {}",
                        e.what());
        }
      }
      std::lock_guard<std::mutex> lock(im.mu);
      im.running_threads--;
      im.cv.notify_all();
    });
  }

  std::unique_lock<std::mutex> lock(im.mu);
  im.cv.wait(lock, [&im] { return im.shutdown_requested || im.running_threads == 0; });
  // Draining: the threads return once every connection is closed and no request is queued.
  if (!im.cv.wait_for(lock, im.config.shutdown_timeout,
                      [&im] { return im.running_threads == 0; })) {
    spdlog::warn("{} connections still open after {} ms; closing them", im.registry.Size(),
                 im.config.shutdown_timeout.count());
    lock.unlock();
    im.registry.ForceCloseAll();
    lock.lock();
    if (!im.cv.wait_for(lock, std::chrono::seconds(2), [&im] { return im.running_threads == 0; })) {
      im.ioc.stop();
    }
  }
  lock.unlock();
  for (std::thread& t : threads) t.join();
}

}  // namespace keyva::server
