// The change feed: the record every write leaves for watchers, and how it is kept in the engine.
//
// Every change a client can see — a value stored, deleted or expired, a counter moved or reset —
// is a ChangeEvent. Its revision is the engine sequence number of its feed record, which is
// written in the same WriteBatch as the change itself: the feed and the data are one atomic,
// durable write, so after any crash the feed holds exactly the changes that survived. Revisions
// only grow (sequence numbers survive restarts) but are not contiguous (the change's own entries
// use numbers too).
//
// Engine keys (beside kv_store.h's 'k' values and 'c' counters):
//   'w' + fixed64 big-endian revision    a feed record (so the feed sorts by revision)
//   'x' + fixed64 big-endian expiry µs + key
//                                        the expiry index: one entry per value with a TTL, in
//                                        the batch that stores the value, removed in the batch
//                                        that replaces, deletes or expires it
//   'm' + name                           server metadata (kFeedTrimmedKey: the highest revision
//                                        trimmed from the feed, decimal; kExpiryIndexKey: the
//                                        index is complete)
// A feed record's engine value is the stored-value form (value_format.h) with modified_us = the
// time of the change, and bytes: one byte ChangeType, fixed32 little-endian key length, the key,
// then the event's JSON object (docs/formats.md).
//
// ReadFeed reads the durable feed from the published state; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/db.h"

namespace keyva::server {

inline constexpr char kFeedKeyPrefix = 'w';
inline constexpr char kExpiryKeyPrefix = 'x';
inline constexpr char kMetaKeyPrefix = 'm';
inline constexpr std::string_view kFeedTrimmedKey = "mfeed.trimmed";
// Present once every value with a TTL has its expiry-index entry (written by KvStore::OpenFeed).
inline constexpr std::string_view kExpiryIndexKey = "mexpiry.index";

// The numeric values are stored in feed records.
enum class ChangeType : uint8_t { kPut = 1, kDelete = 2, kExpire = 3, kCounter = 4 };

// "put", "delete", "expire", "counter": the SSE event name and the JSON "type".
std::string_view ChangeTypeName(ChangeType type);

struct ChangeEvent {
  uint64_t revision = 0;
  ChangeType type = ChangeType::kPut;
  std::string key;   // the value's key, or the counter's name
  std::string json;  // {"type","key","revision",...}: what a watcher is sent (docs/server.md)
  int64_t time_us = 0;
  // The SSE frame of the event, made once for every watcher (WatchHub::Append); may be empty.
  std::string sse_frame;
};

// `id: R`, `event: TYPE`, `data: JSON`, blank line: the event as Server-Sent Events send it.
void AppendSseFrame(const ChangeEvent& event, std::string* out);

// Which changes a watcher wants: keys starting with prefix (empty: all), or exactly one key;
// and, for a token that may read only some keys (access_tokens.h), only the readable ones.
struct WatchFilter {
  std::string prefix;  // the key itself when exact
  bool exact = false;
  // restricted: only values whose key starts with one of value_prefixes, and only counters
  // whose name starts with one of counter_prefixes.
  bool restricted = false;
  std::vector<std::string> value_prefixes{};
  std::vector<std::string> counter_prefixes{};

  // Whether the watcher gets event: its key is under the prefix (or is the key), and for a
  // restricted filter a counter event is readable by counter_prefixes, the others by
  // value_prefixes.
  bool Matches(const ChangeEvent& event) const {
    if (!MatchesKey(event.key)) return false;
    if (!restricted) return true;
    return Readable(event.type == ChangeType::kCounter ? counter_prefixes : value_prefixes,
                    event.key);
  }

 private:
  bool MatchesKey(std::string_view key) const {
    return exact ? key == prefix : key.substr(0, prefix.size()) == prefix;
  }
  static bool Readable(const std::vector<std::string>& prefixes, std::string_view key) {
    for (const std::string& p : prefixes) {
      if (key.substr(0, p.size()) == p) return true;
    }
    return false;
  }
};

std::string FeedKey(uint64_t revision);
// False when engine_key is not a feed key.
bool ParseFeedKey(std::string_view engine_key, uint64_t* revision);
// The engine value bytes of a feed record (the caller stores them with modified_us = time_us).
std::string EncodeFeedRecord(const ChangeEvent& event);
// False when bytes are malformed.
bool DecodeFeedRecord(uint64_t revision, std::string_view bytes, int64_t time_us,
                      ChangeEvent* event);

std::string ExpiryKey(int64_t expires_us, std::string_view key);
// False when engine_key is not an expiry-index key.
bool ParseExpiryKey(std::string_view engine_key, int64_t* expires_us, std::string_view* key);

// One page of the durable feed.
struct FeedPage {
  Status status;
  std::vector<ChangeEvent> events;  // revision > after, matching the filter, ascending
  // Every matching event with revision <= cursor is in events (or was before after): the next
  // page starts after it. complete: the page reached the end of the published feed.
  uint64_t cursor = 0;
  bool complete = false;
};

// The events after `after` that match filter, from the published state: at most max_events, and
// at most max_scanned records looked at (so a narrow filter over a long feed returns in bounded
// time; the cursor then still moves on). Any thread.
FeedPage ReadFeed(DB* db, uint64_t after, const WatchFilter& filter, size_t max_events,
                  size_t max_scanned);

}  // namespace keyva::server
