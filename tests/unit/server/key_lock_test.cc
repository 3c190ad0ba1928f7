// Locks on keys: the holder document's checks, the lock id's sources, the decisions, the record's
// encoding (key_lock.h), and KvStore's Lock / Unlock and the writes they refuse (kv_store.h) over
// a real DB on the in-memory FaultEnv.
#include "internal/server/key_lock.h"

#include <catch2/catch.hpp>

#include "tests/unit/server/kv_store_fixture.h"

namespace keyva::server {
namespace {

const char kLockInfo[] =
    R"({"ID":"6f1c-a","Operation":"OperationTypePlan","Info":"","Who":"me@host",)"
    R"("Version":"1.9.0","Created":"2026-01-02T03:04:05Z","Path":""})";

KeyLock Held(std::string id, int64_t expires_us = 0) {
  KeyLock l;
  l.id = std::move(id);
  l.document = "{}";
  l.created_us = 1;
  l.expires_us = expires_us;
  return l;
}

TEST_CASE("ParseLockRequest takes a JSON object and its ID as the lock id") {
  KeyLock l;
  std::string error;
  REQUIRE(ParseLockRequest(kLockInfo, "", &l, &error));
  CHECK(l.id == "6f1c-a");
  CHECK(l.document == kLockInfo);

  // No "ID": ?ID= names it, or nobody (the caller makes one).
  REQUIRE(ParseLockRequest(R"({"who":"job 7"})", "mine", &l, &error));
  CHECK(l.id == "mine");
  REQUIRE(ParseLockRequest(R"({"who":"job 7"})", "", &l, &error));
  CHECK(l.id.empty());
  // Both, equal: fine.
  REQUIRE(ParseLockRequest(kLockInfo, "6f1c-a", &l, &error));
}

TEST_CASE("ParseLockRequest refuses what is not a usable holder document") {
  KeyLock l;
  std::string error;
  for (const char* bad : {"", "[]", "\"x\"", "{", "42", R"({"ID":7})", R"({"ID":""})",
                          R"({"error":"x"})", R"({"status":1})", R"({"keyva":{}})"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(ParseLockRequest(bad, "", &l, &error));
    CHECK_FALSE(error.empty());
  }
  CHECK_FALSE(ParseLockRequest(kLockInfo, "other", &l, &error));
  CHECK(error.find("differs") != std::string::npos);
  CHECK_FALSE(ParseLockRequest(R"({"ID":")" + std::string(kMaxLockIdSize + 1, 'i') + "\"}", "", &l,
                               &error));
  std::string big = R"({"pad":")" + std::string(kMaxLockDocumentSize, 'p') + "\"}";
  CHECK_FALSE(ParseLockRequest(big, "", &l, &error));
  CHECK(error.find("larger") != std::string::npos);
}

TEST_CASE("RequestLockId merges the body's ID, ?ID= and X-Keyva-Lock") {
  std::string id, error;
  REQUIRE(RequestLockId(kLockInfo, "", "", &id, &error));
  CHECK(id == "6f1c-a");
  REQUIRE(RequestLockId("", "q", "", &id, &error));
  CHECK(id == "q");
  REQUIRE(RequestLockId("", "", "h", &id, &error));
  CHECK(id == "h");
  REQUIRE(RequestLockId("", "", "", &id, &error));
  CHECK(id.empty());
  REQUIRE(RequestLockId(kLockInfo, "6f1c-a", "6f1c-a", &id, &error));
  CHECK(id == "6f1c-a");
  CHECK_FALSE(RequestLockId("", "a", "b", &id, &error));
  CHECK_FALSE(RequestLockId(kLockInfo, "b", "", &id, &error));
  CHECK_FALSE(RequestLockId("not json", "", "", &id, &error));
  CHECK_FALSE(RequestLockId(R"({"ID":1})", "", "", &id, &error));
}

TEST_CASE("Lock decisions: free, own, another's, expired") {
  const std::optional<KeyLock> none;
  CHECK(DecideLock(none, "a", 100) == LockOutcome::kAcquired);
  CHECK(DecideLock(Held("a"), "a", 100) == LockOutcome::kRefreshed);
  CHECK(DecideLock(Held("a"), "b", 100) == LockOutcome::kHeld);
  CHECK(DecideLock(Held("a", 100), "b", 99) == LockOutcome::kHeld);
  CHECK(DecideLock(Held("a", 100), "b", 100) == LockOutcome::kAcquired);  // expired

  CHECK(DecideUnlock(none, "a", 100) == LockOutcome::kNotLocked);
  CHECK(DecideUnlock(Held("a"), "a", 100) == LockOutcome::kReleased);
  CHECK(DecideUnlock(Held("a"), "b", 100) == LockOutcome::kHeld);
  CHECK(DecideUnlock(Held("a", 100), "b", 100) == LockOutcome::kNotLocked);

  CHECK(WriteAllowed(none, "", 100));
  CHECK(WriteAllowed(none, "any", 100));
  CHECK_FALSE(WriteAllowed(Held("a"), "", 100));
  CHECK_FALSE(WriteAllowed(Held("a"), "b", 100));
  CHECK(WriteAllowed(Held("a"), "a", 100));
  CHECK(WriteAllowed(Held("a", 100), "", 100));
}

TEST_CASE("A lock record round-trips, and HolderJson shows the document first") {
  KeyLock l;
  l.id = "6f1c-a";
  l.document = kLockInfo;
  l.created_us = 1'700'000'000'000'000;
  l.expires_us = 1'700'000'060'000'000;
  KeyLock back;
  REQUIRE(DecodeLockRecord(EncodeLockRecord(l), &back));
  CHECK(back.id == l.id);
  CHECK(back.document == l.document);
  CHECK(back.created_us == l.created_us);
  CHECK(back.expires_us == l.expires_us);
  CHECK_FALSE(DecodeLockRecord("garbage", &back));
  CHECK_FALSE(DecodeLockRecord(R"({"id":"a"})", &back));

  nlohmann::ordered_json j = HolderJson("tf/state", l);
  CHECK(j.begin().key() == "ID");  // the client's order is kept
  CHECK(j["Who"] == "me@host");
  CHECK(j["keyva"]["lock_id"] == "6f1c-a");
  CHECK(j["keyva"]["key"] == "tf/state");
  CHECK(j["keyva"]["expires"] == "2023-11-14T22:14:20.000Z");
  l.expires_us = 0;
  CHECK_FALSE(HolderJson("tf/state", l)["keyva"].contains("expires"));
  CHECK(LockKey("tf/state") == "ltf/state");
}

TEST_CASE("KvStore: a held lock refuses writes without its id, and UNLOCK frees the key") {
  test::KvStoreFixture f;
  REQUIRE(f.PutHolding("k").outcome == WriteOutcome::kCreated);
  LockResult a = f.Lock("k", "a");
  REQUIRE(a.status.ok());
  CHECK(a.outcome == LockOutcome::kAcquired);
  CHECK(a.wrote);

  LockResult b = f.Lock("k", "b");
  CHECK(b.outcome == LockOutcome::kHeld);
  CHECK(b.lock.id == "a");
  CHECK_FALSE(b.wrote);

  WriteResult w = f.PutHolding("k");
  CHECK(w.outcome == WriteOutcome::kLocked);
  CHECK(w.holder.id == "a");
  CHECK(f.PutHolding("k", "b").outcome == WriteOutcome::kLocked);
  CHECK(f.store->Delete("k", std::nullopt, std::nullopt, "b").outcome == WriteOutcome::kLocked);
  CHECK(f.PutHolding("k", "a").outcome == WriteOutcome::kReplaced);
  CHECK(f.PutHolding("other").outcome == WriteOutcome::kCreated);  // only that key is locked

  std::optional<KeyLock> seen;
  uint64_t revision = 0;
  REQUIRE(f.store->GetLock("k", &seen, &revision).ok());
  REQUIRE(seen);
  CHECK(seen->id == "a");

  CHECK(f.store->Unlock("k", "b").outcome == LockOutcome::kHeld);
  CHECK(f.store->Unlock("k", "a").outcome == LockOutcome::kReleased);
  CHECK(f.store->Unlock("k", "a").outcome == LockOutcome::kNotLocked);
  REQUIRE(f.store->GetLock("k", &seen, &revision).ok());
  CHECK_FALSE(seen);
  CHECK(f.store->Delete("k", std::nullopt).outcome == WriteOutcome::kDeleted);
  // The lock lived beside the value: no listing shows it.
  ListResult list = f.store->List("", "", 100);
  REQUIRE(list.entries.size() == 1);
  CHECK(list.entries[0].key == "other");
}

TEST_CASE("KvStore: LOCK by the holder refreshes, and a passed TTL frees the key") {
  test::KvStoreFixture f;
  REQUIRE(f.Lock("k", "a", 10).outcome == LockOutcome::kAcquired);
  const int64_t created = f.Lock("k", "a", 10).lock.created_us;
  f.env.SetNowMicros(f.env.NowMicros() + 5'000'000);
  LockResult again = f.Lock("k", "a", 10);
  CHECK(again.outcome == LockOutcome::kRefreshed);
  CHECK(again.lock.created_us == created);
  CHECK(again.lock.expires_us == f.env.NowMicros() + 10'000'000);
  f.env.SetNowMicros(f.env.NowMicros() +
                     9'000'000);  // 14 s after the first LOCK, 9 s after the refresh
  CHECK(f.PutHolding("k").outcome == WriteOutcome::kLocked);
  f.env.SetNowMicros(f.env.NowMicros() + 1'000'000);
  CHECK(f.PutHolding("k").outcome == WriteOutcome::kCreated);
  CHECK(f.Lock("k", "b").outcome == LockOutcome::kAcquired);
}

}  // namespace
}  // namespace keyva::server
