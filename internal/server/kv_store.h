// KvStore: the HTTP API's operations on the engine — values, listings and counters.
//
// Engine key namespaces: a value stored at /kv/{key} lives under engine key "k" + key, a counter
// /seq/{name} under "c" + name (its value the decimal text of a signed 64-bit integer), so a
// listing of values never meets a counter. The change feed and the expiry index have theirs too
// (change_feed.h).
//
// The change feed: every write that changes something adds its feed record to its own batch (one
// atomic write; the record's sequence number is the change's revision) and keeps its ChangeEvent
// until the owner takes it (TakeChanges) to hand to the watchers once the group is published.
// A value with a TTL has an expiry-index entry, kept in step by every write of its key; the owner
// deletes expired values with ReapExpired (a tombstone and an expire event each), and a write
// that meets an expired value not reaped yet reaps it in the same batch. So every expiry is
// reported exactly once. This needs the engine to keep expired values until the store deletes
// them (Options::drop_expired = false, as keyvad opens it); reads never show them either way.
// TrimFeed drops feed records beyond the retention window and records the highest one dropped.
//
// Writes (with Commit::kGroup, as the storage thread makes them) have sync and publish off: the
// storage thread makes a whole group of
// them durable with one DB::SyncWal() and then visible with one DB::Publish() before any of
// them is acknowledged (group commit). So a reader never sees a write that is not durable yet,
// and sees every acknowledged one (the publish happens before the first response leaves).
//
// Conditional writes (If-Match / If-None-Match), counters and the 201-vs-200 decision read and
// write in one call on the owner thread, reading everything written so far (published or not:
// the earlier writes of the same group count), so no other request can slip in between: they
// are atomic compare-and-set.
//
// Locks (key_lock.h): Lock and Unlock decide on the owner thread like the
// conditional writes, and Put and Delete check the key's lock in the same call, so a lock and a
// write racing it are ordered: a write to a locked key without the holder's lock id is refused
// (kLocked, the holder in WriteResult::holder) and writes nothing.
//
// Build caches (cache_quota.h): values under a cache prefix are accounted in its CacheQuota by
// every write here (Put, Delete, ReapExpired, OpenCaches). A Put of an entry larger than the
// quota is refused (kTooLarge); otherwise the least recently used entries are evicted as deletes
// in the Put's own batch (a delete event each, with "reason":"evicted"; an evicted value whose TTL
// had passed is reported as an expire), so the quota holds after every acknowledged write and
// across a crash. A Get hit touches its entry (the one thing a read does to the accounting).
//
// Thread-safety: the read operations Get, GetLock, List, ListCounters and GetCounter may be called
// from any thread, concurrently with each other and with the owner; they read the DB's published
// view. Put, Delete, Lock, Unlock, AddToCounter, ResetCounter and TakeWriteError only on the DB's
// owner thread.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "internal/engine/db.h"
#include "internal/server/cache_quota.h"
#include "internal/server/change_feed.h"
#include "internal/server/entity_tag.h"
#include "internal/server/key_lock.h"

namespace keyva::server {

inline constexpr char kValueKeyPrefix = 'k';
inline constexpr char kCounterKeyPrefix = 'c';

// The engine key of the value at key.
std::string ValueKey(std::string_view key);

struct KvEntry {
  std::string value;
  ValueMeta meta;
  std::string etag;
  uint64_t revision = 0;  // Get: the revision the read was made at (exactly)
};

struct PutInput {
  std::string key;
  std::string body;
  std::string content_type;  // already decided (given or sniffed); never empty
  int64_t ttl_seconds = 0;   // 0: never expires
  std::optional<EtagCondition> if_match;
  std::optional<EtagCondition> if_none_match;
  // If-Unmodified-Since, in seconds since the epoch (see UnmodifiedSinceHolds).
  std::optional<int64_t> if_unmodified_since_s;
  // The lock id the write carries (?ID= or X-Keyva-Lock); empty: none.
  std::string lock_id;
};

enum class WriteOutcome {
  kCreated,             // PUT: the key had no live value
  kReplaced,            // PUT: an existing value was replaced
  kDeleted,             // DELETE: the value was removed
  kNotFound,            // DELETE: there was nothing to remove
  kPreconditionFailed,  // a condition did not hold; nothing was written
  kLocked,              // another lock id holds the key (WriteResult::holder); nothing written
  kTooLarge,            // PUT under a cache prefix: key + value exceed its quota; nothing written
};

struct WriteResult {
  Status status;  // non-OK: the engine failed (outcome meaningless, nothing acknowledged)
  WriteOutcome outcome = WriteOutcome::kNotFound;
  bool wrote = false;  // a batch reached the WAL (the caller must sync before acknowledging)
  ValueMeta meta;      // PUT: the stored metadata
  std::string etag;    // PUT: the new ETag
  // The change's revision; without a change, the newest revision the decision saw.
  uint64_t revision = 0;
  size_t evicted = 0;  // PUT under a cache prefix: entries evicted to make room
  KeyLock holder;      // kLocked: the lock that refused the write
};

struct LockResult {
  Status status;  // non-OK: the engine failed (nothing acknowledged)
  LockOutcome outcome = LockOutcome::kNotLocked;
  bool wrote = false;
  KeyLock lock;           // kAcquired, kRefreshed: the lock now held; kHeld: the other holder's
  uint64_t revision = 0;  // as WriteResult::revision
};

struct ListEntry {
  std::string key;
  uint64_t size = 0;
  ValueMeta meta;
  std::string etag;
};

// What a listing asks for (List, ListCounters).
struct ListRequest {
  std::string_view prefix;  // the keys (names) starting with it
  std::string_view after;   // sorting after it (exclusive; empty = from the start)
  size_t limit = 100;       // at most this many items (keys, folders, counters) in the page
  // Non-empty (values only): keys whose rest after prefix holds it are grouped into folders, one
  // per prefix + the rest up to and including its first delimiter, each with the exact count and
  // total value size of the live keys under it; `after` may then name a folder, and the page
  // goes on after every key in it.
  std::string_view delimiter;
  // Set: only keys (names) it returns true for are listed or counted in a folder. A page then
  // stops after looking at max_hidden keys it hid, with next where it stopped, so a reader of
  // few keys among many gets pages (maybe empty ones) in bounded time.
  std::function<bool(std::string_view)> visible;
  size_t max_hidden = 1000;
};

struct ListFolder {
  std::string prefix;  // the request's prefix + the rest up to and including the delimiter
  uint64_t keys = 0;   // live (visible) keys under it
  uint64_t size = 0;   // their value bytes
};

struct ListResult {
  Status status;
  std::vector<ListEntry> entries;   // keys directly under the prefix, in order
  std::vector<ListFolder> folders;  // with a delimiter: the folders, in order
  std::optional<std::string> next;  // the cursor for the following page ("after"), if any
  uint64_t revision = 0;            // the one state the page was read from
};

struct CounterEntry {
  std::string name;
  int64_t value = 0;
};

struct CounterListResult {
  Status status;
  std::vector<CounterEntry> counters;
  std::optional<std::string> next;  // as ListResult::next
  uint64_t revision = 0;
};

struct CounterResult {
  Status status;
  bool overflow = false;  // AddToCounter: the sum does not fit in int64; nothing written
  bool existed = false;
  bool wrote = false;
  int64_t value = 0;
  uint64_t revision = 0;  // as WriteResult::revision (GetCounter: as KvEntry::revision)
};

struct ReapResult {
  Status status;
  size_t expired = 0;  // values deleted, one expire event each
  bool wrote = false;
};

struct TrimResult {
  Status status;
  size_t trimmed = 0;         // feed records deleted
  uint64_t trimmed_upto = 0;  // the highest revision ever trimmed (the 410 mark)
  bool wrote = false;
};

// If-Unmodified-Since (RFC 9110 §13.1.4): holds when the live value was last modified at or
// before since_s (whole seconds, as Last-Modified carries them), when there is no live value, or
// when an If-Match is given (it takes precedence, §13.2.2).
bool UnmodifiedSinceHolds(std::optional<int64_t> since_s, bool has_if_match, bool exists,
                          const ValueMeta& live);

class KvStore {
 public:
  // How writes become visible. kGroup (the storage thread): unsynced and unpublished, the owner
  // syncs and publishes the group. kEach (a store used alone: tests, tools): each write is
  // published as it is made, with the DB's own sync mode.
  enum class Commit { kGroup, kEach };

  // db must outlive the store, and caches (when given: the build caches to keep within their
  // quotas) too. now_micros is the clock for modification and expiry times.
  KvStore(DB* db, std::function<int64_t()> now_micros, Commit commit = Commit::kEach,
          CacheQuotas* caches = nullptr);

  // OK and *entry filled, or NotFound when absent or expired, or the engine's error. Any thread.
  Status Get(std::string_view key, KvEntry* entry);

  // Stores in.body under in.key unless a condition fails. The modification time is now, but
  // always later than the replaced value's, so the ETag changes on every write.
  WriteResult Put(PutInput&& in);

  // Removes key unless if_match is given and does not match the live value (412; with no live
  // value a given If-Match also fails).
  // if_unmodified_since_s is If-Unmodified-Since (see UnmodifiedSinceHolds).
  // Put and Delete: a held lock refuses them (kLocked) unless in.lock_id / lock_id is the
  // holder's.
  WriteResult Delete(std::string_view key, const std::optional<EtagCondition>& if_match,
                     std::optional<int64_t> if_unmodified_since_s = std::nullopt,
                     std::string_view lock_id = {});

  // Locks key for request.id (non-empty) with request.document, for ttl_seconds (0: until
  // Unlock): kAcquired, kRefreshed (same id: document and TTL replaced, created kept) or kHeld
  // (nothing written).
  LockResult Lock(std::string_view key, KeyLock&& request, int64_t ttl_seconds);
  // Releases key's lock when id holds it (kReleased); kNotLocked or kHeld change nothing.
  LockResult Unlock(std::string_view key, std::string_view id);
  // The key's lock as readers see it: *lock empty when none is held (or it expired). Any thread.
  Status GetLock(std::string_view key, std::optional<KeyLock>* lock, uint64_t* revision);

  // Up to request.limit live keys (and, with a delimiter, folders) as ListRequest says,
  // ascending, from one consistent state. next is set when more may follow. Any thread.
  ListResult List(const ListRequest& request);
  ListResult List(std::string_view prefix, std::string_view after, size_t limit) {
    ListRequest request;
    request.prefix = prefix;
    request.after = after;
    request.limit = limit;
    return List(request);
  }
  // Up to request.limit counters with their values, as List (no delimiter). Any thread.
  CounterListResult ListCounters(const ListRequest& request);

  // Adds by to counter name (absent counts as 0) and stores the sum.
  CounterResult AddToCounter(std::string_view name, int64_t by);
  // The counter's value (0 and existed=false when absent). Any thread.
  CounterResult GetCounter(std::string_view name);
  // Removes the counter (existed says whether it was there).
  CounterResult ResetCounter(std::string_view name);

  // The engine, for jobs that need more than the operations above (stats).
  DB* db() const { return db_; }

  // The first write error since the last call (OK if none), then forgets it.
  Status TakeWriteError() { return std::exchange(write_error_, Status::OK()); }

  // The events of the changes written since the last call, ascending by revision. Owner.
  std::vector<ChangeEvent> TakeChanges() { return std::exchange(changes_, {}); }

  // Owner, at startup, before the first write: reads the feed's trimmed mark into *trimmed, and
  // for a database written before the expiry index existed, indexes every value with a TTL.
  // (kv_store_maintenance.cc, like the two below.)
  Status OpenFeed(uint64_t* trimmed);
  // Owner, at startup (after OpenFeed): rebuilds every cache's accounting by scanning its prefix
  // (oldest modification first, so recency starts from the write order) and, when a cache holds
  // more than its quota (a quota lowered since), evicts the least recently used until it fits.
  Status OpenCaches();
  // Deletes up to max values whose TTL has passed (a tombstone and an expire event each).
  // Cheap when nothing is due: it knows the next expiry time. Owner.
  ReapResult ReapExpired(size_t max);
  // Deletes up to max feed records that fall outside the retention: revisions at or below the
  // newest minus keep_revisions (0: no bound), and records older than max_age_us (0: no bound).
  // Owner.
  TrimResult TrimFeed(uint64_t keep_revisions, int64_t max_age_us, size_t max);

 private:
  // A key's value as the owner's decisions see it: live, expired but not reaped yet, or absent.
  struct OldValue {
    KvEntry entry;
    bool live = false;
    bool expired = false;  // present, its TTL passed: the write must report and unindex it
  };
  // Reads with read (published state, or the owner's everything-written-so-far).
  Status GetLive(const ReadOptions& read, std::string_view key, KvEntry* entry, bool with_etag);
  Status ReadOld(std::string_view key, int64_t now, bool with_etag, OldValue* old);
  // Adds the change's feed record to batch and returns its revision (the record's sequence
  // number once the batch is written). data gets "type", "key" and "revision".
  uint64_t AddChange(WriteBatch* batch, ChangeType type, std::string_view key, nlohmann::json data,
                     int64_t now);
  // Adds the reaping of an expired value of key (expiring at expires_us) to batch: its
  // index entry goes, and an expire event is recorded. The caller deletes or replaces the value.
  void AddExpiry(WriteBatch* batch, std::string_view key, int64_t expires_us, int64_t now);
  // Adds the eviction of key (a cache entry) to batch: its value and index entry go, with a
  // delete event ("reason":"evicted"), or an expire event when its TTL had passed. *present is
  // false (and nothing added) when key holds nothing.
  Status AddEviction(WriteBatch* batch, std::string_view key, int64_t now, bool* present);
  // The value at key is gone (deleted, reaped): its cache entry, if any, too.
  void Uncache(std::string_view key);
  // Writes batch; the changes added to it are kept for TakeChanges only when it succeeds.
  Status Write(WriteBatch* batch);
  Status ReadCounter(const ReadOptions& read, const std::string& engine_key, int64_t* value,
                     bool* exists);
  // The key's lock record (expired or not), as read. *lock empty when there is none.
  Status ReadLock(const ReadOptions& read, std::string_view key, std::optional<KeyLock>* lock);
  // Put and Delete: true when the write must not proceed — the lock read failed (r->status) or
  // another lock id holds the key (kLocked, r->holder).
  bool RefusedByLock(std::string_view key, std::string_view lock_id, int64_t now, WriteResult* r);

  DB* const db_;
  CacheQuotas* const caches_;  // may be null
  const std::function<int64_t()> now_micros_;
  const WriteOptions write_options_;
  Status write_error_;
  std::vector<ChangeEvent> batch_changes_;  // of the batch being built
  std::vector<ChangeEvent> changes_;        // written, not taken yet
  int64_t next_expiry_us_ = 0;              // no TTL ends before it (0: unknown, look)
  uint64_t trimmed_upto_ = 0;
  uint64_t last_change_revision_ = 0;  // the newest change's revision (OpenFeed: at least it)
};

}  // namespace keyva::server
