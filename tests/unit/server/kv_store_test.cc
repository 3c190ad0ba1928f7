// KvStore over a real DB on the in-memory FaultEnv: values, conditions, expiry, listings and
// counters (kv_store.h).
#include "internal/server/kv_store.h"

#include <catch2/catch.hpp>

#include "tests/unit/server/kv_store_fixture.h"

namespace keyva::server {

TEST_CASE("KvStore: put, replace and get with metadata and ETags") {
  test::KvStoreFixture f;
  WriteResult r = f.Put("k", "v1");
  REQUIRE(r.status.ok());
  CHECK(r.outcome == WriteOutcome::kCreated);
  CHECK(r.wrote);
  CHECK(r.meta.modified_us == 1'000'000'000);
  KvEntry e;
  REQUIRE(f.store->Get("k", &e).ok());
  CHECK(e.value == "v1");
  CHECK(e.meta.content_type == "text/plain");
  CHECK(e.etag == r.etag);

  // The same bytes at the same instant still get a new modification time and ETag.
  WriteResult again = f.Put("k", "v1");
  CHECK(again.outcome == WriteOutcome::kReplaced);
  CHECK(again.meta.modified_us == 1'000'000'001);
  CHECK(again.etag != r.etag);
}

TEST_CASE("KvStore: conditional puts and deletes") {
  test::KvStoreFixture f;
  CHECK(f.Put("k", "v1", nullptr, "*").outcome == WriteOutcome::kCreated);
  WriteResult r = f.Put("k", "v2", nullptr, "*");
  CHECK(r.outcome == WriteOutcome::kPreconditionFailed);
  CHECK_FALSE(r.wrote);
  KvEntry e;
  REQUIRE(f.store->Get("k", &e).ok());
  CHECK(f.Put("k", "v3", "\"0000000000000000\"").outcome == WriteOutcome::kPreconditionFailed);
  CHECK(f.Value("k") == "v1");
  WriteResult ok = f.Put("k", "v3", e.etag.c_str());
  CHECK(ok.outcome == WriteOutcome::kReplaced);
  CHECK(f.Value("k") == "v3");
  CHECK(f.Put("absent", "x", "*").outcome == WriteOutcome::kPreconditionFailed);
  CHECK(f.Value("absent") == "<absent>");

  EtagCondition stale;
  REQUIRE(ParseEtagCondition(e.etag, &stale));
  CHECK(f.store->Delete("k", stale).outcome == WriteOutcome::kPreconditionFailed);
  CHECK(f.Value("k") == "v3");
  EtagCondition current;
  REQUIRE(ParseEtagCondition(ok.etag, &current));
  WriteResult d = f.store->Delete("k", current);
  CHECK(d.outcome == WriteOutcome::kDeleted);
  CHECK(d.wrote);
  CHECK(f.store->Delete("k", std::nullopt).outcome == WriteOutcome::kNotFound);
  CHECK(f.store->Delete("k", current).outcome == WriteOutcome::kPreconditionFailed);
}

TEST_CASE("KvStore: If-Unmodified-Since compares whole seconds and yields to If-Match") {
  ValueMeta live;
  live.modified_us = 1'000'000'500'000;                       // 1,000,000.5 s
  CHECK(UnmodifiedSinceHolds(1'000'000, false, true, live));  // same second: holds
  CHECK_FALSE(UnmodifiedSinceHolds(999'999, false, true, live));
  CHECK(UnmodifiedSinceHolds(999'999, true, true, live));    // If-Match decides instead
  CHECK(UnmodifiedSinceHolds(999'999, false, false, live));  // no live value
  CHECK(UnmodifiedSinceHolds(std::nullopt, false, true, live));
  test::KvStoreFixture f;
  REQUIRE(f.Put("k", "v1").outcome == WriteOutcome::kCreated);
  PutInput in;
  in.key = "k";
  in.body = "v2";
  in.content_type = "text/plain";
  in.if_unmodified_since_s = 0;
  CHECK(f.store->Put(std::move(in)).outcome == WriteOutcome::kPreconditionFailed);
  CHECK(f.store->Delete("k", std::nullopt, 0).outcome == WriteOutcome::kPreconditionFailed);
  CHECK(f.Value("k") == "v1");
  CHECK(f.store->Delete("k", std::nullopt, int64_t{1} << 40).outcome == WriteOutcome::kDeleted);
}

TEST_CASE("KvStore: ttl expiry hides values from Get and List") {
  test::KvStoreFixture f;
  WriteResult r = f.Put("short", "v", nullptr, nullptr, 10);
  CHECK(r.meta.expires_us == 1'000'000'000 + 10'000'000);
  f.Put("forever", "v");
  CHECK(f.store->List("", "", 10).entries.size() == 2);
  f.env.SetNowMicros(1'000'000'000 + 10'000'000);
  CHECK(f.Value("short") == "<absent>");
  ListResult l = f.store->List("", "", 10);
  REQUIRE(l.entries.size() == 1);
  CHECK(l.entries[0].key == "forever");
  CHECK(f.Put("short", "again").outcome == WriteOutcome::kCreated);
}

TEST_CASE("KvStore: listing pages through a prefix and never shows counters") {
  test::KvStoreFixture f;
  for (const char* k : {"a", "b/1", "b/2", "b/3", "c"}) f.Put(k, k);
  REQUIRE(f.store->AddToCounter("b/counter", 1).status.ok());
  ListResult l = f.store->List("b/", "", 2);
  REQUIRE(l.status.ok());
  REQUIRE(l.entries.size() == 2);
  CHECK(l.entries[0].key == "b/1");
  CHECK(l.entries[1].key == "b/2");
  CHECK(l.entries[0].size == 3);
  REQUIRE(l.next.has_value());
  CHECK(*l.next == "b/2");
  l = f.store->List("b/", *l.next, 2);
  REQUIRE(l.entries.size() == 1);
  CHECK(l.entries[0].key == "b/3");
  CHECK_FALSE(l.next.has_value());
  // Exactly `limit` keys left: no next cursor.
  l = f.store->List("b/", "", 3);
  CHECK(l.entries.size() == 3);
  CHECK_FALSE(l.next.has_value());
  l = f.store->List("", "", 100);
  CHECK(l.entries.size() == 5);
  CHECK(f.store->List("", "c", 100).entries.empty());
  CHECK(f.store->List("b/", "a", 100).entries.size() == 3);
}

TEST_CASE("KvStore: counters add, read, reset and refuse to overflow") {
  test::KvStoreFixture f;
  CounterResult r = f.store->GetCounter("n");
  CHECK((r.status.ok() && r.value == 0 && !r.existed));
  r = f.store->AddToCounter("n", 5);
  CHECK((r.status.ok() && r.value == 5 && r.wrote));
  r = f.store->AddToCounter("n", -7);
  CHECK(r.value == -2);
  CHECK(f.store->GetCounter("n").value == -2);
  CHECK(f.Value("n") == "<absent>");  // counters are not values

  r = f.store->AddToCounter("big", INT64_MAX);
  CHECK(r.value == INT64_MAX);
  r = f.store->AddToCounter("big", 1);
  CHECK(r.overflow);
  CHECK_FALSE(r.wrote);
  CHECK(f.store->GetCounter("big").value == INT64_MAX);

  r = f.store->ResetCounter("n");
  CHECK((r.status.ok() && r.existed && r.wrote));
  CHECK(f.store->GetCounter("n").value == 0);
  r = f.store->ResetCounter("n");
  CHECK((r.status.ok() && !r.existed && !r.wrote));
}

TEST_CASE("KvStore: a counter holding garbage is reported, and can be reset") {
  test::KvStoreFixture f;
  REQUIRE(f.db->Put(std::string(1, kCounterKeyPrefix) + "bad", "12x").ok());
  CHECK(f.store->GetCounter("bad").status.IsCorruption());
  CHECK(f.store->AddToCounter("bad", 1).status.IsCorruption());
  CHECK(f.store->ResetCounter("bad").status.ok());
  CHECK(f.store->AddToCounter("bad", 1).value == 1);
}

TEST_CASE("KvStore: engine write errors are returned and remembered") {
  test::KvStoreFixture f;
  f.env.SetFailureCode(Status::Code::kNoSpace);
  f.env.FailOperation(1, /*sticky=*/true);
  WriteResult r = f.Put("k", "v");
  CHECK(r.status.IsNoSpace());
  CHECK_FALSE(r.wrote);
  CHECK(f.store->TakeWriteError().IsNoSpace());
  CHECK(f.store->TakeWriteError().ok());
}

}  // namespace keyva::server
