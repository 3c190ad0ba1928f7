// The change feed below HTTP: feed records and keys (change_feed.h), the events KvStore writes
// with each change, expiry reaping, retention trimming, the hub's in-memory tail (watch_hub.h)
// and a watcher reading across both (watch_stream.h).
#include "internal/server/change_feed.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "internal/engine/testing/fault_env.h"
#include "internal/server/kv_store.h"
#include "internal/server/watch_hub.h"
#include "internal/server/watch_stream.h"

namespace keyva::server {
namespace {

constexpr int64_t kStart = 1'000'000'000'000'000;  // µs

struct Fixture {
  Fixture() {
    env.SetNowMicros(kStart);
    Open();
  }
  void Open() {
    Options o;
    o.env = &env;
    o.drop_expired = false;  // as keyvad opens it
    REQUIRE(DB::Open(o, "/db", &db).ok());
    store = std::make_unique<KvStore>(db.get(), [this] { return env.NowMicros(); });
    uint64_t trimmed = 0;
    REQUIRE(store->OpenFeed(&trimmed).ok());
    opened_trimmed = trimmed;
  }
  void Reopen() {
    store.reset();
    REQUIRE(db->Close().ok());
    db.reset();
    Open();
  }
  WriteResult Put(const std::string& key, const std::string& body, int64_t ttl = 0) {
    PutInput in;
    in.key = key;
    in.body = body;
    in.content_type = "text/plain";
    in.ttl_seconds = ttl;
    WriteResult r = store->Put(std::move(in));
    REQUIRE(r.status.ok());
    return r;
  }
  void Advance(int64_t micros) { env.SetNowMicros(env.NowMicros() + micros); }
  // Every event of the durable feed after `after`, as "type key".
  std::vector<std::string> Feed(uint64_t after = 0, WatchFilter filter = {}) {
    std::vector<std::string> out;
    while (true) {
      FeedPage page = ReadFeed(db.get(), after, filter, 3, 5);  // small pages on purpose
      REQUIRE(page.status.ok());
      for (const ChangeEvent& e : page.events) {
        out.push_back(std::string(ChangeTypeName(e.type)) + " " + e.key);
      }
      REQUIRE(page.cursor >= after);
      after = page.cursor;
      if (page.complete) return out;
    }
  }

  FaultEnv env;
  std::unique_ptr<DB> db;
  std::unique_ptr<KvStore> store;
  uint64_t opened_trimmed = 0;
};

}  // namespace

TEST_CASE("Change feed: records and keys round-trip, and feed keys sort by revision") {
  ChangeEvent e;
  e.revision = 42;
  e.type = ChangeType::kCounter;
  e.key = std::string("a\0b", 3);
  e.json = R"({"type":"counter"})";
  ChangeEvent back;
  REQUIRE(DecodeFeedRecord(42, EncodeFeedRecord(e), 7, &back));
  CHECK(back.type == e.type);
  CHECK(back.key == e.key);
  CHECK(back.json == e.json);
  CHECK(back.time_us == 7);
  CHECK_FALSE(DecodeFeedRecord(1, "", 0, &back));
  CHECK_FALSE(DecodeFeedRecord(1, std::string("\x09\0\0\0\0{}", 7), 0, &back));    // bad type
  CHECK_FALSE(DecodeFeedRecord(1, std::string("\x01\xff\0\0\0{}", 7), 0, &back));  // key too long

  CHECK(FeedKey(255) < FeedKey(256));
  CHECK(FeedKey(1) < FeedKey(uint64_t{1} << 40));
  uint64_t r = 0;
  REQUIRE(ParseFeedKey(FeedKey(uint64_t{1} << 40), &r));
  CHECK(r == uint64_t{1} << 40);
  CHECK_FALSE(ParseFeedKey("kfoo", &r));

  CHECK(ExpiryKey(10, "z") < ExpiryKey(11, "a"));
  int64_t t = 0;
  std::string_view k;
  const std::string expiry_key = ExpiryKey(12345, "key/x");
  REQUIRE(ParseExpiryKey(expiry_key, &t, &k));
  CHECK(t == 12345);
  CHECK(k == "key/x");
}

TEST_CASE(
    "Change feed: every change has its event, whose revision is the sequence it was written at") {
  Fixture f;
  WriteResult put = f.Put("app/a", "1");
  CHECK(put.revision == f.db->LastSequence());
  WriteResult again = f.Put("app/a", "22");
  CHECK(again.revision > put.revision);
  CounterResult c = f.store->AddToCounter("app/n", 5);
  REQUIRE(c.status.ok());
  CHECK(c.revision > again.revision);
  WriteResult del = f.store->Delete("app/a", std::nullopt);
  REQUIRE(del.status.ok());
  CHECK(del.revision > c.revision);
  CounterResult reset = f.store->ResetCounter("app/n");
  CHECK(reset.revision > del.revision);
  f.Put("other", "x");

  // Nothing changes: no event, and the revision is the newest seen.
  const uint64_t before = f.db->LastSequence();
  WriteResult missing = f.store->Delete("nope", std::nullopt);
  CHECK(missing.outcome == WriteOutcome::kNotFound);
  CHECK_FALSE(missing.wrote);
  CHECK(missing.revision == before);
  CHECK(f.store->ResetCounter("never").revision == before);

  CHECK(f.Feed() == std::vector<std::string>{"put app/a", "put app/a", "counter app/n",
                                             "delete app/a", "counter app/n", "put other"});
  CHECK(f.Feed(0, {"app/", false}).size() == 5);
  CHECK(f.Feed(0, {"other", true}) == std::vector<std::string>{"put other"});
  CHECK(f.Feed(0, {"app", true}).empty());
  CHECK(f.Feed(again.revision).size() == 4);

  // The events handed to the owner are the same, with the JSON watchers are sent.
  std::vector<ChangeEvent> events = f.store->TakeChanges();
  REQUIRE(events.size() == 6);
  CHECK(events[0].revision == put.revision);
  nlohmann::json j = nlohmann::json::parse(events[1].json);
  CHECK(j["type"] == "put");
  CHECK(j["key"] == "app/a");
  CHECK(j["revision"] == again.revision);
  CHECK(j["size"] == 2);
  CHECK(j["etag"] == again.etag);
  CHECK(nlohmann::json::parse(events[2].json)["value"] == 5);
  CHECK(nlohmann::json::parse(events[4].json)["reset"] == true);
  CHECK(f.store->TakeChanges().empty());

  // Revisions survive a restart: the next change is later than every earlier one.
  f.Reopen();
  CHECK(f.Put("app/b", "b").revision > reset.revision);
}

TEST_CASE("Change feed: a precondition that fails writes no event") {
  Fixture f;
  WriteResult put = f.Put("k", "v");
  (void)f.store->TakeChanges();
  PutInput in;
  in.key = "k";
  in.body = "w";
  in.content_type = "text/plain";
  EtagCondition any;
  REQUIRE(ParseEtagCondition("*", &any));
  in.if_none_match = any;
  WriteResult r = f.store->Put(std::move(in));
  CHECK(r.outcome == WriteOutcome::kPreconditionFailed);
  CHECK(r.revision == put.revision);
  CHECK(f.store->TakeChanges().empty());
  CHECK(f.Feed(put.revision).empty());
}

TEST_CASE("Change feed: an expired value is reaped once, with one expire event") {
  Fixture f;
  f.Put("t/a", "a", 1);
  f.Put("t/b", "b", 3);
  f.Put("t/c", "c", 1);
  f.Put("t/c", "c2");  // the TTL is gone: c never expires
  (void)f.store->TakeChanges();

  ReapResult none = f.store->ReapExpired(100);
  CHECK(none.expired == 0);
  CHECK_FALSE(none.wrote);

  f.Advance(1'500'000);
  KvEntry e;
  CHECK(f.store->Get("t/a", &e).IsNotFound());  // hidden at once, reaped or not
  ReapResult r = f.store->ReapExpired(100);
  REQUIRE(r.status.ok());
  CHECK(r.expired == 1);
  CHECK(r.wrote);
  std::vector<ChangeEvent> events = f.store->TakeChanges();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == ChangeType::kExpire);
  CHECK(events[0].key == "t/a");
  CHECK(f.store->ReapExpired(100).expired == 0);  // once only

  // A value that is expired but not reaped yet is reaped by the write that meets it.
  f.Advance(2'000'000);
  WriteResult del = f.store->Delete("t/b", std::nullopt);
  CHECK(del.outcome == WriteOutcome::kNotFound);
  CHECK(del.wrote);
  events = f.store->TakeChanges();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == ChangeType::kExpire);
  CHECK(events[0].key == "t/b");
  CHECK(f.store->ReapExpired(100).expired == 0);

  f.Put("t/d", "d", 1);
  (void)f.store->TakeChanges();
  f.Advance(1'000'000);
  WriteResult put = f.Put("t/d", "d2");
  CHECK(put.outcome == WriteOutcome::kCreated);  // the old value had expired
  events = f.store->TakeChanges();
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == ChangeType::kExpire);
  CHECK(events[1].type == ChangeType::kPut);
  CHECK(events[0].revision < events[1].revision);

  CHECK(f.Feed() == std::vector<std::string>{"put t/a", "put t/b", "put t/c", "put t/c",
                                             "expire t/a", "expire t/b", "put t/d", "expire t/d",
                                             "put t/d"});
  // The tombstones stay: gone from reads and listings after a restart and a compaction too.
  f.Reopen();
  REQUIRE(f.db->CompactRange(nullptr, nullptr).ok());
  ListResult list = f.store->List("t/", "", 100);
  REQUIRE(list.entries.size() == 2);
  CHECK(list.entries[0].key == "t/c");
  CHECK(list.entries[1].key == "t/d");
  CHECK(f.store->ReapExpired(100).expired == 0);
}

TEST_CASE("Change feed: reaping takes at most max values per call and goes on later") {
  Fixture f;
  for (int i = 0; i < 10; i++) f.Put("k" + std::to_string(i), "v", 1);
  f.Advance(2'000'000);
  CHECK(f.store->ReapExpired(4).expired == 4);
  CHECK(f.store->ReapExpired(4).expired == 4);
  CHECK(f.store->ReapExpired(4).expired == 2);
  CHECK(f.store->ReapExpired(4).expired == 0);
}

TEST_CASE("Change feed: expired values survive compaction until reaped (drop_expired off)") {
  Fixture f;
  f.Put("x", "v", 1);
  REQUIRE(f.db->Flush().ok());
  f.Advance(5'000'000);
  REQUIRE(f.db->CompactRange(nullptr, nullptr).ok());
  // The compaction kept it, so the reaper still reports it.
  CHECK(f.store->ReapExpired(10).expired == 1);
}

TEST_CASE("Change feed: a database from before the expiry index gets one at OpenFeed") {
  FaultEnv env;
  env.SetNowMicros(kStart);
  Options o;
  o.env = &env;
  o.drop_expired = false;
  {
    std::unique_ptr<DB> db;
    REQUIRE(DB::Open(o, "/db", &db).ok());
    ValueMeta meta;
    meta.content_type = "text/plain";
    meta.modified_us = kStart;
    meta.expires_us = kStart + 1'000'000;
    REQUIRE(db->Put(ValueKey("old"), "v", meta).ok());  // written with no index entry
    REQUIRE(db->Close().ok());
  }
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(o, "/db", &db).ok());
  KvStore store(db.get(), [&] { return env.NowMicros(); });
  uint64_t trimmed = 99;
  REQUIRE(store.OpenFeed(&trimmed).ok());
  CHECK(trimmed == 0);
  env.SetNowMicros(kStart + 2'000'000);
  CHECK(store.ReapExpired(10).expired == 1);
}

TEST_CASE("Change feed: retention trims by revisions and by age, and the mark survives a restart") {
  Fixture f;
  std::vector<uint64_t> revisions;
  for (int i = 0; i < 20; i++) revisions.push_back(f.Put("k" + std::to_string(i), "v").revision);
  // Keep the last 10 revisions: about the last five changes (each uses two).
  TrimResult t = f.store->TrimFeed(10, 0, 1000);
  REQUIRE(t.status.ok());
  CHECK(t.wrote);
  const uint64_t last = revisions.back();
  for (uint64_t r : revisions) {
    if (r <= last - 10) CHECK(r <= t.trimmed_upto);
    if (r > last - 10) CHECK(r > t.trimmed_upto);
  }
  CHECK(f.Feed(t.trimmed_upto).size() == 5);
  CHECK(f.store->TrimFeed(10, 0, 1000).trimmed == 0);  // nothing more until more is written

  // By age: records older than a minute go, however few revisions there are.
  f.Advance(120'000'000);
  f.Put("new", "v");
  TrimResult aged = f.store->TrimFeed(0, 60'000'000, 1000);
  CHECK(aged.trimmed == 5);
  CHECK(f.Feed(aged.trimmed_upto) == std::vector<std::string>{"put new"});

  // At most max per call.
  for (int i = 0; i < 6; i++) f.Put("m" + std::to_string(i), "v");
  f.Advance(120'000'000);
  CHECK(f.store->TrimFeed(0, 60'000'000, 4).trimmed == 4);
  const uint64_t mark = f.store->TrimFeed(0, 60'000'000, 4).trimmed_upto;

  f.Reopen();
  CHECK(f.opened_trimmed == mark);
}

TEST_CASE("WatchHub: the ring serves what it covers, sends older positions to the durable feed") {
  WatchHub::Limits limits;
  limits.max_events = 3;
  WatchHub hub(limits);
  hub.Reset(10, 0);
  auto event = [](uint64_t r, std::string key) {
    ChangeEvent e;
    e.revision = r;
    e.key = std::move(key);
    e.json = "{}";
    return e;
  };
  std::vector<ChangeEvent> group;
  group.push_back(event(12, "a/1"));
  group.push_back(event(14, "b/1"));
  hub.Append(std::move(group), 15);
  CHECK(hub.revision() == 15);

  std::vector<std::shared_ptr<const ChangeEvent>> out;
  uint64_t cursor = 0;
  REQUIRE(hub.Collect(10, {}, 100, &out, &cursor));
  CHECK(out.size() == 2);
  CHECK(cursor == 15);
  out.clear();
  REQUIRE(hub.Collect(10, {"a/", false}, 100, &out, &cursor));
  REQUIRE(out.size() == 1);
  CHECK(out[0]->revision == 12);
  CHECK(cursor == 15);  // b/1 was looked at too
  out.clear();
  REQUIRE(hub.Collect(10, {}, 1, &out, &cursor));
  CHECK(out.size() == 1);
  CHECK(cursor == 12);  // a page: the next starts after it
  out.clear();
  CHECK_FALSE(hub.Collect(9, {}, 100, &out, &cursor));  // 10 and before: not in memory

  group.clear();
  group.push_back(event(16, "a/2"));
  group.push_back(event(18, "a/3"));
  hub.Append(std::move(group), 18);  // 12 falls out of the ring
  CHECK_FALSE(hub.Collect(10, {}, 100, &out, &cursor));
  REQUIRE(hub.Collect(12, {}, 100, &out, &cursor));
  CHECK(out.size() == 3);
}

TEST_CASE("WatchHub: an armed waiter is woken once by the next append with events") {
  WatchHub hub(WatchHub::Limits{});
  hub.Reset(0, 0);
  int woken = 0;
  auto waiter = hub.NewWaiter({}, [&] { woken++; });
  ChangeEvent e;
  e.revision = 1;
  e.json = "{}";
  hub.Append({e}, 1);
  CHECK(woken == 0);  // not armed
  waiter->Arm();
  hub.Append({}, 2);
  CHECK(woken == 0);  // no events
  e.revision = 3;
  hub.Append({e}, 3);
  CHECK(woken == 1);
  e.revision = 4;
  hub.Append({e}, 4);
  CHECK(woken == 1);  // disarmed by the wake
  waiter->Arm();
  waiter.reset();  // dropped: never called again
  e.revision = 5;
  hub.Append({e}, 5);
  CHECK(woken == 1);

  // A waiter is woken only by events its filter wants.
  int a_woken = 0;
  auto a_waiter = hub.NewWaiter({"a/", false}, [&] { a_woken++; });
  a_waiter->Arm();
  e.revision = 6;
  e.key = "b/1";
  hub.Append({e}, 6);
  CHECK(a_woken == 0);
  e.revision = 7;
  e.key = "a/1";
  hub.Append({e}, 7);
  CHECK(a_woken == 1);

  CHECK(hub.TryAddWatcher(2));
  CHECK(hub.TryAddWatcher(2));
  CHECK_FALSE(hub.TryAddWatcher(2));
  hub.RemoveWatcher();
  CHECK(hub.TryAddWatcher(2));
}

TEST_CASE("WatchHub: the pacing interval grows with the watchers pacing at once, within bounds") {
  WatchHub hub(WatchHub::Limits{});
  // One busy watcher: the shortest interval.
  CHECK(hub.BeginPacing() == WatchHub::kMinWriteInterval);
  hub.EndPacing();
  CHECK(hub.BeginPacing() == WatchHub::kMinWriteInterval);  // EndPacing counted it out
  // 1 + 59 more: 60 writes per interval at kPacedWritesPerSecond a second.
  std::chrono::milliseconds last{};
  for (int i = 0; i < 59; i++) last = hub.BeginPacing();
  CHECK(last == std::chrono::milliseconds(60 * 1000 / WatchHub::kPacedWritesPerSecond));
  CHECK(last > WatchHub::kMinWriteInterval);
  CHECK(last < WatchHub::kMaxWriteInterval);
  // Thousands at once: never longer than the longest interval.
  for (int i = 0; i < 5000; i++) last = hub.BeginPacing();
  CHECK(last == WatchHub::kMaxWriteInterval);
  for (int i = 0; i < 5060; i++) hub.EndPacing();
  CHECK(hub.BeginPacing() == WatchHub::kMinWriteInterval);
}

TEST_CASE("WatchStream: catches up from disk, then from memory, and is Gone when trimmed past") {
  Fixture f;
  for (int i = 0; i < 30; i++) f.Put("p/" + std::to_string(i), "v");
  f.db->Publish();
  WatchHub hub(WatchHub::Limits{});
  hub.Reset(f.db->PublishedSequence(), 0);  // the ring starts empty: history is on disk
  (void)f.store->TakeChanges();

  REQUIRE(hub.TryAddWatcher(10));
  WatchStream stream(&hub, f.db.get(), {"p/", false}, 0, WatchStream::Format::kSse);
  std::string out;
  WatchStream::Step step;
  int calls = 0;
  while ((step = stream.Next(&out, 7)) == WatchStream::Step::kMore) calls++;
  CHECK(step == WatchStream::Step::kCaughtUp);
  CHECK(calls >= 5);
  CHECK(stream.events() == 30);
  CHECK(out.find("event: put\ndata: {") != std::string::npos);
  CHECK(out.rfind("id: ", 0) == 0);

  // Live changes come through the hub.
  WriteResult live = f.Put("p/live", "v");
  f.db->Publish();
  hub.Append(f.store->TakeChanges(), f.db->PublishedSequence());
  out.clear();
  CHECK(stream.Next(&out, 7) == WatchStream::Step::kMore);
  CHECK(out.find("id: " + std::to_string(live.revision) + "\n") == 0);
  CHECK(stream.Next(&out, 7) == WatchStream::Step::kCaughtUp);

  // A watcher from revision 0 after trimming: the records it needs are gone.
  TrimResult t = f.store->TrimFeed(4, 0, 1000);
  REQUIRE(t.wrote);
  hub.SetTrimmed(t.trimmed_upto);
  f.db->Publish();
  REQUIRE(hub.TryAddWatcher(10));
  WatchStream late(&hub, f.db.get(), {}, 0, WatchStream::Format::kNdjson);
  out.clear();
  CHECK(late.Next(&out, 7) == WatchStream::Step::kGone);
  CHECK(out.empty());
  CHECK(late.GoneFrame().find("\"oldest\":" + std::to_string(t.trimmed_upto + 1)) !=
        std::string::npos);
}

}  // namespace keyva::server
