// The owner's upkeep of the store: opening the change feed and the build caches, reaping expired
// values, trimming the feed to its retention window; see kv_store.h.
#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <tuple>

#include "internal/server/kv_store.h"

namespace keyva::server {
namespace {

// Everything the owner has written, published or not, expired values included.
ReadOptions OwnerReadAll() {
  ReadOptions r;
  r.read_unpublished = true;
  r.include_expired = true;
  r.fill_cache = false;
  return r;
}

// Entries of an index-building batch before it is written.
constexpr size_t kIndexBatchEntries = 1024;
// Evictions in one batch when a cache is over its quota at startup.
constexpr size_t kStartupEvictionBatch = 1024;

}  // namespace

Status KvStore::OpenFeed(uint64_t* trimmed) {
  const ReadOptions read = OwnerReadAll();
  std::string text;
  ValueMeta meta;
  Status s = db_->Get(read, kFeedTrimmedKey, &text, &meta);
  if (s.ok()) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), trimmed_upto_);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return Status::Corruption("the feed's trimmed mark holds '" + text.substr(0, 40) + "'");
    }
  } else if (!s.IsNotFound()) {
    return s;
  }
  *trimmed = trimmed_upto_;
  last_change_revision_ = db_->LastSequence();  // at least the newest change's revision
  s = db_->Get(read, kExpiryIndexKey, &text, &meta);
  if (s.ok()) return s;
  if (!s.IsNotFound()) return s;
  // A database from before the expiry index: index every value that has a TTL, once.
  std::unique_ptr<DBIterator> it = db_->NewIterator(read);
  WriteBatch batch;
  const std::string start(1, kValueKeyPrefix);
  for (it->Seek(start); it->Valid() && it->key()[0] == kValueKeyPrefix; it->Next()) {
    if (it->meta().expires_us == 0) continue;
    batch.Put(ExpiryKey(it->meta().expires_us, it->key().substr(1)), {});
    if (batch.Count() >= kIndexBatchEntries) {
      if (s = Write(&batch); !s.ok()) return s;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return it->status();
  batch.Put(kExpiryIndexKey, "1");
  return Write(&batch);
}

Status KvStore::OpenCaches() {
  if (caches_ == nullptr) return Status::OK();
  const ReadOptions read = OwnerReadAll();
  const int64_t now = now_micros_();
  for (const std::unique_ptr<CacheQuota>& cache : caches_->all()) {
    // The entries, oldest modification first: recency starts from the write order.
    std::vector<std::tuple<int64_t, std::string, uint64_t>> found;
    {
      const std::string start = ValueKey(cache->prefix());
      std::unique_ptr<DBIterator> it = db_->NewIterator(read);
      for (it->Seek(start); it->Valid() && it->key().substr(0, start.size()) == start; it->Next()) {
        std::string key(it->key().substr(1));
        const uint64_t bytes = CacheQuota::EntryBytes(key, it->value().size());
        found.emplace_back(it->meta().modified_us, std::move(key), bytes);
      }
      if (!it->status().ok()) return it->status();
    }
    std::sort(found.begin(), found.end());
    for (const auto& entry : found) cache->Set(std::get<1>(entry), std::get<2>(entry));
    // Over the quota (it was lowered since): evict until it fits.
    while (cache->bytes() > cache->limit()) {
      std::vector<std::string> victims = cache->Victims({}, 0);
      if (victims.size() > kStartupEvictionBatch) victims.resize(kStartupEvictionBatch);
      WriteBatch batch;
      size_t evicted = 0;
      for (const std::string& victim : victims) {
        bool present = false;
        Status s = AddEviction(&batch, victim, now, &present);
        if (!s.ok()) {
          batch_changes_.clear();
          return s;
        }
        evicted += present ? 1 : 0;
      }
      if (!batch.Empty()) {
        if (Status s = Write(&batch); !s.ok()) return s;
      }
      for (const std::string& victim : victims) cache->Erase(victim);
      cache->CountEvictions(evicted);
    }
  }
  return Status::OK();
}

ReapResult KvStore::ReapExpired(size_t max) {
  ReapResult r;
  const int64_t now = now_micros_();
  if (next_expiry_us_ > now) return r;
  const ReadOptions read = OwnerReadAll();
  std::vector<std::pair<int64_t, std::string>> due;
  int64_t next = std::numeric_limits<int64_t>::max();
  {
    std::unique_ptr<DBIterator> it = db_->NewIterator(read);
    for (it->Seek(std::string(1, kExpiryKeyPrefix)); it->Valid(); it->Next()) {
      int64_t expires_us;
      std::string_view key;
      if (!ParseExpiryKey(it->key(), &expires_us, &key)) break;  // past the index
      if (expires_us > now) {
        next = expires_us;
        break;
      }
      if (due.size() == max) {
        next = now;  // more are due: the next call goes on
        break;
      }
      due.emplace_back(expires_us, std::string(key));
    }
    r.status = it->status();
    if (!r.status.ok()) return r;
  }
  WriteBatch batch;
  std::vector<std::string_view> reaped;
  for (const auto& [expires_us, key] : due) {
    std::string value;
    ValueMeta meta;
    Status s = db_->Get(read, ValueKey(key), &value, &meta);
    if (!s.ok() && !s.IsNotFound()) {
      r.status = s;
      return r;
    }
    if (s.ok() && meta.expires_us == expires_us) {
      batch.Delete(ValueKey(key));
      AddExpiry(&batch, key, expires_us, now);
      reaped.push_back(key);
      r.expired++;
    } else {
      // The value changed without its index entry (kept in step by every write since the index
      // exists): nothing expires, the entry just goes.
      batch.Delete(ExpiryKey(expires_us, key));
    }
  }
  if (!batch.Empty()) {
    r.status = Write(&batch);
    if (!r.status.ok()) return r;
    for (std::string_view key : reaped) Uncache(key);
    r.wrote = true;
  }
  next_expiry_us_ = next;
  return r;
}

TrimResult KvStore::TrimFeed(uint64_t keep_revisions, int64_t max_age_us, size_t max) {
  TrimResult r;
  r.trimmed_upto = trimmed_upto_;
  // The window is counted back from the newest change (not the last sequence number, which the
  // trims' own writes move on).
  const uint64_t last = last_change_revision_;
  const uint64_t below = keep_revisions > 0 && last > keep_revisions ? last - keep_revisions : 0;
  const int64_t older_than =
      max_age_us > 0 ? now_micros_() - max_age_us : std::numeric_limits<int64_t>::min();
  ReadOptions read = OwnerReadAll();
  std::unique_ptr<DBIterator> it = db_->NewIterator(read);
  WriteBatch batch;
  uint64_t upto = trimmed_upto_;
  for (it->Seek(FeedKey(trimmed_upto_ + 1)); it->Valid() && r.trimmed < max; it->Next()) {
    uint64_t revision;
    if (!ParseFeedKey(it->key(), &revision)) break;
    if (revision > below && it->meta().modified_us >= older_than) break;  // inside the window
    batch.Delete(it->key());
    upto = revision;
    r.trimmed++;
  }
  r.status = it->status();
  if (!r.status.ok() || r.trimmed == 0) return r;
  it.reset();
  batch.Put(kFeedTrimmedKey, std::to_string(upto));
  r.status = Write(&batch);
  if (!r.status.ok()) return r;
  r.wrote = true;
  trimmed_upto_ = upto;
  r.trimmed_upto = upto;
  return r;
}

}  // namespace keyva::server
