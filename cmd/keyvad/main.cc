// keyvad: the keyva HTTP key-value server.
//
// Parses flags (with KEYVA_* environment fallbacks), opens the engine, starts the storage
// thread and the HTTP server, and on SIGINT/SIGTERM shuts down gracefully: stop accepting,
// finish in-flight requests, sync the WAL, close the engine, exit 0. SIGHUP re-reads
// --tokens-file (a bad file is logged and the old tokens stay).
// Exit codes: 0 clean stop, 1 startup or shutdown failure, 2 bad flags.
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "internal/engine/db.h"
#include "internal/engine/env.h"
#include "internal/server/access_control.h"
#include "internal/server/audit_log.h"
#include "internal/server/config.h"
#include "internal/server/http_server.h"
#include "internal/server/metrics.h"
#include "internal/server/router.h"
#include "internal/server/stats_history.h"
#include "internal/server/storage_thread.h"

#ifndef KEYVA_VERSION
#define KEYVA_VERSION "dev"
#endif

namespace {

using keyva::server::ServerConfig;

// Writes the port to path atomically (temp file + rename), so readers never see a partial one.
bool WritePortFile(const std::string& path, uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Blocks SIGINT and SIGTERM on the calling thread.
void BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
}

int Serve(const ServerConfig& config) {
  std::string error;
  std::unique_ptr<keyva::server::AccessControl> access =
      keyva::server::AccessControl::Open(config, &error);
  if (!access) {
    spdlog::error("{}; not starting", error);
    return 1;
  }
  std::unique_ptr<keyva::server::AuditLog> audit =
      keyva::server::AuditLog::Open(config.audit_log, access->enabled(), &error);
  if (!audit) {
    spdlog::error("{}; not starting", error);
    return 1;
  }
  keyva::Options options;
  options.sync = config.sync;
  options.block_cache_bytes = config.cache_size;
  options.memtable_bytes = config.memtable_size;
  options.info_log = [](const std::string& line) { spdlog::info("engine: {}", line); };
  // The storage thread reaps expired values itself, so each expiry is reported once (kv_store.h).
  options.drop_expired = false;
  std::unique_ptr<keyva::DB> db;
  keyva::Status s = keyva::DB::Open(options, config.data_dir, &db);
  if (!s.ok()) {
    spdlog::error("cannot open the database in '{}': {}", config.data_dir, s.ToString());
    return 1;
  }

  keyva::server::StorageThread::Settings settings;
  settings.queue_capacity = config.queue_capacity;
  settings.max_batch = config.max_batch;
  settings.sync = config.sync;
  settings.retention_revisions = config.watch_retention_revisions;
  settings.retention_age = config.watch_retention_age;
  settings.caches = config.cache_quotas;
  keyva::server::StorageThread storage(std::move(db), settings,
                                       [] { return keyva::Env::Default()->NowMicros(); });
  s = storage.Start();
  if (!s.ok()) {
    spdlog::error("cannot open the change feed in '{}': {}", config.data_dir, s.ToString());
    (void)storage.Stop();  // the feed error is what to report
    return 1;
  }

  keyva::server::ServerMetrics metrics;
  // The last 15 minutes of samples.
  const auto kept = std::chrono::minutes(15) / config.stats_interval;
  keyva::server::StatsHistory history(config.stats_interval,
                                      static_cast<size_t>(std::clamp<int64_t>(kept, 1, 100'000)));
  keyva::server::Router router(config, &storage, &metrics, access.get(), audit.get(), &history);
  keyva::server::HttpServer server(config, &router, &metrics);
  if (!access->tokens_file().empty()) {
    server.OnReload([&access] {
      std::string summary, why;
      if (access->Reload(&summary, &why)) {
        spdlog::info("SIGHUP: reloaded {}", summary);
      } else {
        spdlog::error("SIGHUP: {}; keeping the tokens in use", why);
      }
    });
  }
  s = server.Listen();
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    (void)storage.Stop();  // exiting with Listen's error already; a close error adds nothing
    return 1;
  }
  if (!config.port_file.empty() && !WritePortFile(config.port_file, server.port())) {
    // Whoever asked for the port file waits for it: failing loudly beats serving unseen.
    spdlog::error("cannot write the port file '{}': {}; not starting", config.port_file,
                  std::strerror(errno));
    (void)storage.Stop();  // not starting; the port-file error is what to report
    return 1;
  }
  spdlog::info(
      "keyvad {} listening on {}://{}:{} (data dir '{}', sync {}, {} I/O threads, queue {}{})",
      KEYVA_VERSION, config.tls() ? "https" : "http", config.host, server.port(), config.data_dir,
      config.sync == keyva::SyncMode::kAlways ? "always" : "none", config.threads,
      config.queue_capacity,
      !access->enabled()     ? ""
      : access->auth_reads() ? ", reads and writes need a token"
                             : ", writes need a token");

  history.Start([&storage, &metrics] { return TakeVitalsSnapshot(storage, metrics); });
  server.Run();
  history.Stop();  // it reads the storage thread
  // A second SIGINT/SIGTERM while the engine closes must not kill the process: destroying the
  // server gives the signals their default action back (Asio's signal_set does so), and after
  // storage.Stop() this thread is the only one left to receive them. Blocked, they stay pending
  // and the exit code is still ours.
  BlockStopSignals();
  s = storage.Stop();
  if (!s.ok()) {
    spdlog::error("keyvad stopped with an error: {}", s.ToString());
    return 1;
  }
  spdlog::info("keyvad stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  ServerConfig config;
  keyva::server::ConfigParseResult parsed = keyva::server::ParseConfig(
      argc, argv, [](const char* name) -> const char* { return std::getenv(name); }, &config);
  switch (parsed.action) {
    case keyva::server::ConfigParseResult::Action::kHelp:
      std::fputs(keyva::server::UsageText().c_str(), stdout);
      return 0;
    case keyva::server::ConfigParseResult::Action::kError:
      std::fprintf(stderr, "keyvad: %s\nRun 'keyvad --help' for the flags.\n",
                   parsed.message.c_str());
      return 2;
    case keyva::server::ConfigParseResult::Action::kRun:
      break;
  }

  auto logger = spdlog::stderr_color_mt("keyvad");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::flush_on(spdlog::level::info);
  return Serve(config);
}
