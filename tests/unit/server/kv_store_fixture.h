// KvStoreFixture: a KvStore over a real DB on the in-memory FaultEnv, its clock the env's (which
// starts at 1,000 s and moves only when a test moves it), and the calls the KvStore tests make.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "internal/engine/testing/fault_env.h"
#include "internal/server/entity_tag.h"
#include "internal/server/key_lock.h"
#include "internal/server/kv_store.h"

namespace keyva::server::test {

struct KvStoreFixture {
  KvStoreFixture() {
    env.SetNowMicros(1'000'000'000);
    Options o;
    o.env = &env;
    REQUIRE(DB::Open(o, "/db", &db).ok());
    store = std::make_unique<KvStore>(db.get(), [this] { return env.NowMicros(); });
  }

  // A text/plain PUT; the conditions are If-Match / If-None-Match header values.
  WriteResult Put(const std::string& key, const std::string& body, const char* if_match = nullptr,
                  const char* if_none_match = nullptr, int64_t ttl = 0) {
    PutInput in;
    in.key = key;
    in.body = body;
    in.content_type = "text/plain";
    in.ttl_seconds = ttl;
    if (if_match) {
      EtagCondition c;
      REQUIRE(ParseEtagCondition(if_match, &c));
      in.if_match = c;
    }
    if (if_none_match) {
      EtagCondition c;
      REQUIRE(ParseEtagCondition(if_none_match, &c));
      in.if_none_match = c;
    }
    return store->Put(std::move(in));
  }

  // A PUT of "v" that names lock id (empty: none).
  WriteResult PutHolding(const std::string& key, const std::string& lock_id = "") {
    PutInput in;
    in.key = key;
    in.body = "v";
    in.content_type = "text/plain";
    in.lock_id = lock_id;
    return store->Put(std::move(in));
  }

  // LOCK with the holder document {"ID": id}.
  LockResult Lock(const std::string& key, const std::string& id, int64_t ttl = 0) {
    KeyLock l;
    l.id = id;
    l.document = R"({"ID":")" + id + "\"}";
    return store->Lock(key, std::move(l), ttl);
  }

  // The value at key, or "<absent>".
  std::string Value(const std::string& key) {
    KvEntry e;
    Status s = store->Get(key, &e);
    if (s.IsNotFound()) return "<absent>";
    REQUIRE(s.ok());
    return e.value;
  }

  FaultEnv env;
  std::unique_ptr<DB> db;
  std::unique_ptr<KvStore> store;
};

}  // namespace keyva::server::test
