// The build caches' accounting (cache_quota.h) alone, and KvStore keeping it over a real DB on
// the in-memory FaultEnv: evictions in the put's own batch, delete events, overwrites, deletes,
// TTL expiry, the 413 outcome, and the rebuild at startup.
#include "internal/server/cache_quota.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "internal/engine/testing/fault_env.h"
#include "internal/server/kv_store.h"

namespace keyva::server {
namespace {

using Keys = std::vector<std::string>;

// Each key below is 2 bytes ("k1"), so an entry of value size v counts 2 + v.
TEST_CASE("CacheQuota: evicts the least recently used, reads count as uses") {
  CacheQuota q("c/", 30);
  q.Set("k1", 10);
  q.Set("k2", 10);
  q.Set("k3", 10);
  CHECK(q.bytes() == 30);
  CHECK(q.entries() == 3);
  CHECK(q.Victims("k3", 10).empty());        // replacing k3 by as much fits
  CHECK(q.Victims("k4", 10) == Keys{"k1"});  // written first, never read
  q.Touch("k1");
  CHECK(q.Victims("k4", 10) == Keys{"k2"});  // k1 was read after k2 was written
  CHECK(q.Victims("k4", 20) == Keys{"k2", "k3"});
  q.Touch("k2");
  CHECK(q.Victims("k4", 25) == Keys{"k3", "k1", "k2"});
  CHECK(q.Victims("k1", 25) == Keys{"k3", "k2"});  // never the key being written
  q.Touch("nope");                                 // unknown keys are ignored
  CHECK(q.entries() == 3);
}

TEST_CASE("CacheQuota: overwrites and erases keep the bytes exact") {
  CacheQuota q("c/", 100);
  q.Set("a", 40);
  q.Set("b", 40);
  q.Set("a", 10);  // replaced: 10 + 40, and a is now the most recently written
  CHECK(q.bytes() == 50);
  CHECK(q.entries() == 2);
  CHECK(q.BytesOf("a") == 10);
  CHECK(q.Victims("c", 60) == Keys{"b"});
  q.Erase("b");
  q.Erase("b");  // twice: no-op
  CHECK(q.bytes() == 10);
  CHECK(q.entries() == 1);
  CHECK(q.BytesOf("b") == 0);
  CHECK(q.Victims("c", 90).empty());
  q.CountEvictions(2);
  CHECK(q.evictions() == 2);
}

TEST_CASE("CacheQuota: victims are exactly a model LRU's, the limit always holds (random)") {
  std::mt19937 rng(7);
  constexpr uint64_t kLimit = 600;  // entries up to 300 bytes: often most of the cache must go
  CacheQuota q("c/", kLimit);
  struct ModelEntry {
    uint64_t bytes;
    uint64_t last_use;
  };
  std::map<std::string, ModelEntry> model;
  uint64_t clock = 0;
  for (int i = 0; i < 20000; i++) {
    const std::string key = "k" + std::to_string(rng() % 20);
    switch (rng() % 4) {
      case 0:
        q.Touch(key);
        if (model.count(key)) model[key].last_use = ++clock;
        break;
      case 1:
        q.Erase(key);
        model.erase(key);
        break;
      default: {
        const uint64_t bytes = 1 + rng() % 300;
        // The model: the others by last use, oldest first, until the new entry fits.
        std::vector<std::pair<uint64_t, std::string>> by_use;
        uint64_t total = 0;
        for (const auto& [k, e] : model) {
          if (k == key) continue;
          by_use.emplace_back(e.last_use, k);
          total += e.bytes;
        }
        std::sort(by_use.begin(), by_use.end());
        Keys expected;
        for (const auto& [use, k] : by_use) {
          if (total + bytes <= kLimit) break;
          expected.push_back(k);
          total -= model[k].bytes;
        }
        const Keys victims = q.Victims(key, bytes);
        REQUIRE(victims == expected);
        for (const std::string& v : victims) {
          q.Erase(v);
          model.erase(v);
        }
        q.Set(key, bytes);
        model[key] = {bytes, ++clock};
      }
    }
    uint64_t total = 0;
    for (const auto& [k, e] : model) total += e.bytes;
    REQUIRE(q.bytes() == total);
    REQUIRE(q.entries() == model.size());
    REQUIRE(total <= kLimit);
  }
}

TEST_CASE("CacheQuotas: finds the cache of a key, overlapping specs are refused") {
  CacheQuotas caches({{"bazel/", 10}, {"gradle/", 20}});
  CHECK(caches.Find("bazel/ac/00")->limit() == 10);
  CHECK(caches.Find("gradle/k")->prefix() == "gradle/");
  CHECK(caches.Find("bazel") == nullptr);
  CHECK(caches.Find("other") == nullptr);
  CHECK(CheckCacheQuotaSpecs({{"a/", 1}, {"b/", 1}}).empty());
  CHECK(CheckCacheQuotaSpecs({{"a/", 1}, {"a/b/", 1}}).find("overlap") != std::string::npos);
  CHECK(CheckCacheQuotaSpecs({{"a/b/", 1}, {"a/", 1}}).find("overlap") != std::string::npos);
  CHECK(CheckCacheQuotaSpecs({{"a/", 1}, {"a/", 2}}).find("overlap") != std::string::npos);
  CHECK(!CheckCacheQuotaSpecs({{"", 1}}).empty());
  CHECK(!CheckCacheQuotaSpecs({{"a/", 0}}).empty());
}

// KvStore with one cache "c/" of 3 * 12 bytes: keys "c/1".."c/9" (3 bytes) with 9-byte values
// are 12 bytes each, so three fit.
struct StoreFixture {
  explicit StoreFixture(uint64_t limit = 36) : caches({{"c/", limit}}) {
    env.SetNowMicros(1'000'000'000);
    Options o;
    o.env = &env;
    o.drop_expired = false;
    REQUIRE(DB::Open(o, "/db", &db).ok());
    Reopen();
  }
  void Reopen() {
    store = std::make_unique<KvStore>(
        db.get(), [this] { return env.NowMicros(); }, KvStore::Commit::kEach, &caches);
    uint64_t trimmed = 0;
    REQUIRE(store->OpenFeed(&trimmed).ok());
    REQUIRE(store->OpenCaches().ok());
    (void)store->TakeChanges();
  }
  WriteResult Put(const std::string& key, const std::string& body, int64_t ttl = 0) {
    env.SetNowMicros(env.NowMicros() + 1000);  // each write a little later
    PutInput in;
    in.key = key;
    in.body = body;
    in.content_type = "application/octet-stream";
    in.ttl_seconds = ttl;
    WriteResult r = store->Put(std::move(in));
    REQUIRE(r.status.ok());
    return r;
  }
  bool Has(const std::string& key) {
    KvEntry e;
    return store->Get(key, &e).ok();
  }
  // The keys of the cache as stored, and their bytes.
  uint64_t StoredBytes(size_t* n = nullptr) {
    ListResult l = store->List("c/", "", 1000);
    uint64_t total = 0;
    for (const ListEntry& e : l.entries) total += CacheQuota::EntryBytes(e.key, e.size);
    if (n) *n = l.entries.size();
    return total;
  }
  CacheQuota& cache() { return *caches.Find("c/"); }

  FaultEnv env;
  std::unique_ptr<DB> db;
  CacheQuotas caches;
  std::unique_ptr<KvStore> store;
};

const std::string kNine = "123456789";

TEST_CASE("KvStore cache: puts evict the least recently used in the same batch, with events") {
  StoreFixture f;
  f.Put("c/1", kNine);
  f.Put("c/2", kNine);
  f.Put("c/3", kNine);
  f.Put("other", std::string(100, 'x'));  // outside the cache: not counted, never evicted
  CHECK(f.cache().bytes() == 36);
  (void)f.store->TakeChanges();
  CHECK(f.Has("c/1"));  // a use: c/2 is now the least recently used
  WriteResult r = f.Put("c/4", kNine);
  CHECK(r.outcome == WriteOutcome::kCreated);
  CHECK(r.evicted == 1);
  CHECK(!f.Has("c/2"));
  CHECK(f.Has("c/1"));
  CHECK(f.Has("other"));
  std::vector<ChangeEvent> events = f.store->TakeChanges();
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == ChangeType::kDelete);
  CHECK(events[0].key == "c/2");
  CHECK(events[0].json.find("\"reason\":\"evicted\"") != std::string::npos);
  CHECK(events[1].type == ChangeType::kPut);
  CHECK(events[1].key == "c/4");
  CHECK(events[0].revision < events[1].revision);
  CHECK(f.cache().evictions() == 1);
  CHECK(f.cache().bytes() == 36);
  CHECK(f.StoredBytes() == 36);

  // A bigger entry makes room for itself: the two least recently used go (c/3, then c/1).
  CHECK(f.Has("c/4"));
  r = f.Put("c/5", kNine + kNine);  // 21 bytes
  CHECK(r.evicted == 2);
  CHECK(!f.Has("c/3"));
  CHECK(!f.Has("c/1"));
  CHECK(f.cache().bytes() == 33);
  CHECK(f.StoredBytes() == 33);
}

TEST_CASE("KvStore cache: an entry over the whole quota is refused, nothing changes") {
  StoreFixture f;
  f.Put("c/1", kNine);
  const uint64_t revision = f.db->LastSequence();
  WriteResult r = f.Put("c/big", std::string(32, 'x'));  // 5 + 32 = 37 > 36
  CHECK(r.outcome == WriteOutcome::kTooLarge);
  CHECK(!r.wrote);
  CHECK(f.db->LastSequence() == revision);
  CHECK(f.Has("c/1"));
  CHECK(f.Put("c/fits", std::string(30, 'x')).evicted == 1);  // 6 + 30 = 36: c/1 goes
  CHECK(f.cache().bytes() == 36);
}

TEST_CASE("KvStore cache: overwrites, deletes and TTL expiry keep the accounting exact") {
  StoreFixture f;
  f.Put("c/1", kNine);
  f.Put("c/1", "1");  // replaced: 3 + 1
  CHECK(f.cache().bytes() == 4);
  CHECK(f.cache().entries() == 1);
  f.Put("c/2", kNine, /*ttl=*/10);
  CHECK(f.cache().bytes() == 16);
  CHECK(f.store->Delete("c/1", std::nullopt).outcome == WriteOutcome::kDeleted);
  CHECK(f.cache().bytes() == 12);
  f.env.SetNowMicros(f.env.NowMicros() + 11'000'000);
  ReapResult reap = f.store->ReapExpired(100);
  CHECK(reap.expired == 1);
  CHECK(f.cache().bytes() == 0);
  CHECK(f.cache().entries() == 0);

  // An expired, unreaped victim is evicted as an expire (and its index entry goes).
  f.Put("c/3", kNine, /*ttl=*/1);
  f.Put("c/4", kNine);
  f.Put("c/5", kNine);
  f.env.SetNowMicros(f.env.NowMicros() + 2'000'000);
  (void)f.store->TakeChanges();
  CHECK(f.Put("c/6", kNine).evicted == 1);
  std::vector<ChangeEvent> events = f.store->TakeChanges();
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == ChangeType::kExpire);
  CHECK(events[0].key == "c/3");
  CHECK(f.store->ReapExpired(100).expired == 0);  // already gone
  CHECK(f.cache().bytes() == 36);
  CHECK(f.StoredBytes() == 36);
}

TEST_CASE("KvStore cache: the accounting is rebuilt at startup, recency from write order") {
  StoreFixture f;
  f.Put("c/1", kNine);
  f.Put("c/2", kNine);
  f.Put("c/3", kNine);
  CHECK(f.Has("c/1"));  // a use, lost across the restart below
  f.caches = CacheQuotas({{"c/", 36}});
  f.Reopen();
  CHECK(f.cache().bytes() == 36);
  CHECK(f.cache().entries() == 3);
  CHECK(f.Put("c/4", kNine).evicted == 1);
  CHECK(!f.Has("c/1"));  // the oldest write goes first after a restart

  // A lowered quota evicts at startup until it fits.
  f.caches = CacheQuotas({{"c/", 24}});
  f.Reopen();
  CHECK(f.cache().bytes() == 24);
  CHECK(f.cache().evictions() == 1);
  CHECK(!f.Has("c/2"));
  CHECK(f.StoredBytes() == 24);
}

}  // namespace
}  // namespace keyva::server
