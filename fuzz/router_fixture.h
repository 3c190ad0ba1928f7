// RouterFixture: what the request fuzz targets share — a Router over a StorageThread whose DB
// lives on the in-memory FaultEnv, with a write token configured. `configure` adjusts the
// ServerConfig before the router is built; `start` runs the storage thread (targets that only
// call Router::CheckHeader leave it stopped).
#pragma once

#include <cstdlib>
#include <functional>
#include <memory>

#include "internal/engine/db.h"
#include "internal/engine/testing/fault_env.h"
#include "internal/server/config.h"
#include "internal/server/metrics.h"
#include "internal/server/router.h"
#include "internal/server/storage_thread.h"

namespace keyva::server {

struct RouterFixture {
  explicit RouterFixture(bool start,
                         const std::function<void(ServerConfig*)>& configure = nullptr) {
    config.auth_token = "secret";
    if (configure) configure(&config);
    keyva::Options o;
    o.env = &env;
    std::unique_ptr<keyva::DB> db;
    if (!keyva::DB::Open(o, "/db", &db).ok()) abort();
    StorageThread::Settings s;
    s.sync = keyva::SyncMode::kNone;
    storage = std::make_unique<StorageThread>(std::move(db), s, [] { return int64_t{1} << 50; });
    if (start && !storage->Start().ok()) abort();
    router = std::make_unique<Router>(config, storage.get(), &metrics);
  }

  keyva::FaultEnv env;
  ServerConfig config;
  ServerMetrics metrics;
  std::unique_ptr<StorageThread> storage;
  std::unique_ptr<Router> router;
};

}  // namespace keyva::server
