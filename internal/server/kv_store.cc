// Values, listings and counters on the engine; see kv_store.h.
#include "internal/server/kv_store.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>

#include "internal/server/entry_json.h"

namespace keyva::server {

namespace {

// The engine key of key in the key space of tag (kValueKeyPrefix, kCounterKeyPrefix).
std::string TaggedKey(char tag, std::string_view key) {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back(tag);
  k.append(key.data(), key.size());
  return k;
}

std::string CounterKey(std::string_view name) { return TaggedKey(kCounterKeyPrefix, name); }

}  // namespace

std::string ValueKey(std::string_view key) { return TaggedKey(kValueKeyPrefix, key); }

namespace {

WriteOptions WriteOptionsFor(KvStore::Commit commit) {
  WriteOptions w;
  if (commit == KvStore::Commit::kGroup) {
    // The storage thread syncs and publishes the whole group (kv_store.h).
    w.has_sync = true;
    w.sync = SyncMode::kNone;
    w.publish = false;
  }
  return w;
}

// What readers on any thread see: the published state.
ReadOptions PublishedRead() { return ReadOptions(); }

// What the owner's read-modify-write decisions see: every write so far, published or not.
ReadOptions OwnerRead() {
  ReadOptions r;
  r.read_unpublished = true;
  return r;
}

}  // namespace

KvStore::KvStore(DB* db, std::function<int64_t()> now_micros, Commit commit, CacheQuotas* caches)
    : db_(db),
      caches_(caches),
      now_micros_(std::move(now_micros)),
      write_options_(WriteOptionsFor(commit)) {}

void KvStore::Uncache(std::string_view key) {
  if (caches_ == nullptr) return;
  if (CacheQuota* cache = caches_->Find(key)) cache->Erase(key);
}

Status KvStore::Write(WriteBatch* batch) {
  Status s = db_->Write(write_options_, batch);
  if (!s.ok() && write_error_.ok()) write_error_ = s;
  if (s.ok()) {
    for (ChangeEvent& e : batch_changes_) {
      last_change_revision_ = e.revision;
      changes_.push_back(std::move(e));
    }
  }
  batch_changes_.clear();
  return s;
}

uint64_t KvStore::AddChange(WriteBatch* batch, ChangeType type, std::string_view key,
                            nlohmann::json data, int64_t now) {
  // The batch's i-th entry gets sequence number LastSequence() + 1 + i (db.h).
  const uint64_t revision = db_->LastSequence() + batch->Count() + 1;
  data["type"] = ChangeTypeName(type);
  data["key"] = key;
  data["revision"] = revision;
  ChangeEvent e;
  e.revision = revision;
  e.type = type;
  e.key = std::string(key);
  e.json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  e.time_us = now;
  ValueMeta meta;
  meta.modified_us = now;
  batch->Put(FeedKey(revision), EncodeFeedRecord(e), meta);
  batch_changes_.push_back(std::move(e));
  return revision;
}

void KvStore::AddExpiry(WriteBatch* batch, std::string_view key, int64_t expires_us, int64_t now) {
  batch->Delete(ExpiryKey(expires_us, key));
  AddChange(batch, ChangeType::kExpire, key, nlohmann::json::object(), now);
}

Status KvStore::Get(std::string_view key, KvEntry* entry) {
  ReadOptions read = PublishedRead();
  read.read_sequence = &entry->revision;
  Status s = GetLive(read, key, entry, true);
  if (s.ok() && caches_ != nullptr) {
    if (CacheQuota* cache = caches_->Find(key)) cache->Touch(key);
  }
  return s;
}

Status KvStore::AddEviction(WriteBatch* batch, std::string_view key, int64_t now, bool* present) {
  OldValue old;
  Status s = ReadOld(key, now, false, &old);
  *present = s.ok() && (old.live || old.expired);
  if (!*present) return s;
  batch->Delete(ValueKey(key));
  if (old.expired) {
    AddExpiry(batch, key, old.entry.meta.expires_us, now);
    return s;
  }
  if (old.entry.meta.expires_us != 0) batch->Delete(ExpiryKey(old.entry.meta.expires_us, key));
  AddChange(batch, ChangeType::kDelete, key, {{"reason", "evicted"}}, now);
  return s;
}

Status KvStore::GetLive(const ReadOptions& read, std::string_view key, KvEntry* entry,
                        bool with_etag) {
  Status s = db_->Get(read, ValueKey(key), &entry->value, &entry->meta);
  if (!s.ok()) return s;
  if (entry->meta.ExpiredAt(now_micros_())) return Status::NotFound("expired");
  if (with_etag) entry->etag = ComputeEtag(entry->meta, entry->value);
  return s;
}

Status KvStore::ReadOld(std::string_view key, int64_t now, bool with_etag, OldValue* old) {
  ReadOptions read = OwnerRead();
  read.include_expired = true;
  Status s = db_->Get(read, ValueKey(key), &old->entry.value, &old->entry.meta);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  if (old->entry.meta.ExpiredAt(now)) {
    old->expired = true;
    return s;
  }
  old->live = true;
  if (with_etag) old->entry.etag = ComputeEtag(old->entry.meta, old->entry.value);
  return s;
}

bool UnmodifiedSinceHolds(std::optional<int64_t> since_s, bool has_if_match, bool exists,
                          const ValueMeta& live) {
  if (!since_s || has_if_match || !exists) return true;
  const int64_t modified_s = live.modified_us / 1'000'000;  // Last-Modified drops the fraction
  return modified_s <= *since_s;
}

bool KvStore::RefusedByLock(std::string_view key, std::string_view lock_id, int64_t now,
                            WriteResult* r) {
  std::optional<KeyLock> lock;
  r->status = ReadLock(OwnerRead(), key, &lock);
  if (!r->status.ok()) return true;
  if (WriteAllowed(lock, lock_id, now)) return false;
  r->outcome = WriteOutcome::kLocked;
  r->holder = std::move(*lock);
  return true;
}

WriteResult KvStore::Put(PutInput&& in) {
  WriteResult r;
  const int64_t now = now_micros_();
  r.revision = db_->LastSequence();
  CacheQuota* cache = caches_ == nullptr ? nullptr : caches_->Find(in.key);
  const uint64_t entry_bytes = CacheQuota::EntryBytes(in.key, in.body.size());
  if (cache != nullptr && entry_bytes > cache->limit()) {
    r.outcome = WriteOutcome::kTooLarge;
    return r;
  }
  if (RefusedByLock(in.key, in.lock_id, now, &r)) return r;
  OldValue old;
  // The old value decides the conditions, 201 vs 200, and keeps the mtime monotonic.
  r.status =
      ReadOld(in.key, now, in.if_match || in.if_none_match || in.if_unmodified_since_s, &old);
  if (!r.status.ok()) return r;
  const bool exists = old.live;
  const ValueMeta& old_meta = old.entry.meta;
  if (in.if_match && !(exists && MatchesStrong(*in.if_match, old.entry.etag))) {
    r.outcome = WriteOutcome::kPreconditionFailed;
    return r;
  }
  if (in.if_none_match && exists && MatchesWeak(*in.if_none_match, old.entry.etag)) {
    r.outcome = WriteOutcome::kPreconditionFailed;
    return r;
  }
  if (!UnmodifiedSinceHolds(in.if_unmodified_since_s, in.if_match.has_value(), exists, old_meta)) {
    r.outcome = WriteOutcome::kPreconditionFailed;
    return r;
  }
  r.meta.content_type = std::move(in.content_type);
  r.meta.modified_us = exists && old_meta.modified_us >= now ? old_meta.modified_us + 1 : now;
  r.meta.expires_us = in.ttl_seconds > 0 ? now + in.ttl_seconds * 1'000'000 : 0;
  r.etag = ComputeEtag(r.meta, in.body);
  WriteBatch batch;
  // Room in the cache: the least recently used entries go in this same batch.
  std::vector<std::string> victims;
  size_t evicted = 0;
  if (cache != nullptr) victims = cache->Victims(in.key, entry_bytes);
  for (const std::string& victim : victims) {
    bool present = false;
    r.status = AddEviction(&batch, victim, now, &present);
    if (!r.status.ok()) {
      batch_changes_.clear();  // the batch is never written
      return r;
    }
    evicted += present ? 1 : 0;
  }
  if (old.expired) {
    AddExpiry(&batch, in.key, old_meta.expires_us, now);
  } else if (exists && old_meta.expires_us != 0 && old_meta.expires_us != r.meta.expires_us) {
    batch.Delete(ExpiryKey(old_meta.expires_us, in.key));
  }
  batch.Put(ValueKey(in.key), in.body, r.meta);
  if (r.meta.expires_us != 0) {
    batch.Put(ExpiryKey(r.meta.expires_us, in.key), {});
    if (next_expiry_us_ > r.meta.expires_us) next_expiry_us_ = r.meta.expires_us;
  }
  r.revision = AddChange(&batch, ChangeType::kPut, in.key,
                         EntryJson(in.key, in.body.size(), r.meta, r.etag), now);
  r.status = Write(&batch);
  if (!r.status.ok()) return r;
  if (cache != nullptr) {
    for (const std::string& victim : victims) cache->Erase(victim);
    cache->Set(in.key, entry_bytes);
    cache->CountEvictions(evicted);
    r.evicted = evicted;
  }
  r.wrote = true;
  r.outcome = exists ? WriteOutcome::kReplaced : WriteOutcome::kCreated;
  return r;
}

WriteResult KvStore::Delete(std::string_view key, const std::optional<EtagCondition>& if_match,
                            std::optional<int64_t> if_unmodified_since_s,
                            std::string_view lock_id) {
  WriteResult r;
  const int64_t now = now_micros_();
  r.revision = db_->LastSequence();
  if (RefusedByLock(key, lock_id, now, &r)) return r;
  OldValue old;
  r.status = ReadOld(key, now, if_match.has_value() || if_unmodified_since_s.has_value(), &old);
  if (!r.status.ok()) return r;
  const bool exists = old.live;
  if (if_match && !(exists && MatchesStrong(*if_match, old.entry.etag))) {
    r.outcome = WriteOutcome::kPreconditionFailed;
    return r;
  }
  if (!UnmodifiedSinceHolds(if_unmodified_since_s, if_match.has_value(), exists, old.entry.meta)) {
    r.outcome = WriteOutcome::kPreconditionFailed;
    return r;
  }
  WriteBatch batch;
  if (old.expired) {
    // Nothing to delete for the client (404), but the expired value is reaped right here.
    batch.Delete(ValueKey(key));
    AddExpiry(&batch, key, old.entry.meta.expires_us, now);
    r.status = Write(&batch);
    if (!r.status.ok()) return r;
    Uncache(key);
    r.wrote = true;
    r.revision = db_->LastSequence();
  }
  if (!exists) {
    r.outcome = WriteOutcome::kNotFound;
    return r;
  }
  batch.Delete(ValueKey(key));
  if (old.entry.meta.expires_us != 0) batch.Delete(ExpiryKey(old.entry.meta.expires_us, key));
  r.revision = AddChange(&batch, ChangeType::kDelete, key, nlohmann::json::object(), now);
  r.status = Write(&batch);
  if (!r.status.ok()) return r;
  Uncache(key);
  r.wrote = true;
  r.outcome = WriteOutcome::kDeleted;
  return r;
}

namespace {

// The smallest string sorting after every string that starts with prefix (prefix ends in a byte
// below 0xff here: it is a key-space tag, or ends in a delimiter).
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

struct ListPage {
  Status status;
  std::optional<std::string> next;
  uint64_t revision = 0;
};

// The one walk of every listing: the live keys of key space `tag` as request says, from one
// snapshot. add_key(key, iterator) takes a key directly under the prefix; add_folder(folder)
// takes a folder with its counts (never empty). Keys the request does not show are skipped.
template <typename AddKey, typename AddFolder>
ListPage WalkListing(DB* db, int64_t now, char tag, const ListRequest& request, AddKey&& add_key,
                     AddFolder&& add_folder) {
  ListPage page;
  const std::string_view prefix = request.prefix;
  const std::string_view delimiter = request.delimiter;
  const size_t limit = std::max<size_t>(1, request.limit);
  const auto engine_key = [tag](std::string_view key) { return TaggedKey(tag, key); };
  // One snapshot: the page is one state, and its revision says which.
  const Snapshot* snapshot = db->GetSnapshot();
  page.revision = snapshot->sequence();
  ReadOptions read = PublishedRead();
  read.snapshot = snapshot;
  read.fill_cache = false;
  std::unique_ptr<DBIterator> it = db->NewIterator(read);
  db->ReleaseSnapshot(snapshot);  // the iterator keeps reading at its sequence

  const std::string_view after = request.after;
  const size_t after_folder = delimiter.empty() || !after.starts_with(prefix)
                                  ? std::string_view::npos
                                  : after.find(delimiter, prefix.size());
  if (after.empty() || after < prefix) {
    it->Seek(engine_key(prefix));
  } else if (after_folder != std::string_view::npos) {
    // A folder's cursor: go on after every key in it.
    it->Seek(PrefixEnd(engine_key(after.substr(0, after_folder + delimiter.size()))));
  } else {
    const std::string start = engine_key(after);
    it->Seek(start);
    if (it->Valid() && it->key() == start) it->Next();
  }

  const std::string engine_prefix = engine_key(prefix);
  const auto hidden_by = [&request](std::string_view key) {
    return request.visible && !request.visible(key);
  };
  size_t items = 0;
  size_t hidden = 0;
  std::string last;  // the last item's cursor
  while (it->Valid() && it->key().starts_with(engine_prefix)) {
    const std::string_view key = it->key().substr(1);
    if (it->meta().ExpiredAt(now)) {
      it->Next();
      continue;
    }
    const size_t split =
        delimiter.empty() ? std::string_view::npos : key.find(delimiter, prefix.size());
    if (split == std::string_view::npos) {
      if (hidden_by(key)) {
        if (++hidden >= request.max_hidden) {
          page.next = std::string(key);
          break;
        }
        it->Next();
        continue;
      }
      if (items == limit) {
        page.next = last;  // more follow
        break;
      }
      add_key(key, *it);
      items++;
      last = key;
      it->Next();
      continue;
    }
    if (items == limit) {
      page.next = last;
      break;
    }
    ListFolder folder;
    folder.prefix = std::string(key.substr(0, split + delimiter.size()));
    const std::string engine_folder = engine_key(folder.prefix);
    for (; it->Valid() && it->key().starts_with(engine_folder); it->Next()) {
      if (it->meta().ExpiredAt(now)) continue;
      if (hidden_by(it->key().substr(1))) {
        hidden++;
        continue;
      }
      folder.keys++;
      folder.size += it->value().size();
    }
    if (folder.keys > 0) {
      last = folder.prefix;
      add_folder(std::move(folder));
      items++;
    } else if (hidden >= request.max_hidden) {
      page.next = std::move(folder.prefix);
      break;
    }
  }
  page.status = it->status();
  return page;
}

}  // namespace

ListResult KvStore::List(const ListRequest& request) {
  ListResult r;
  ListPage page = WalkListing(
      db_, now_micros_(), kValueKeyPrefix, request,
      [&r](std::string_view key, const DBIterator& it) {
        ListEntry e;
        e.key = std::string(key);
        e.size = it.value().size();
        e.meta = it.meta();
        e.etag = ComputeEtag(it.meta(), it.value());
        r.entries.push_back(std::move(e));
      },
      [&r](ListFolder&& folder) { r.folders.push_back(std::move(folder)); });
  r.status = std::move(page.status);
  r.next = std::move(page.next);
  r.revision = page.revision;
  return r;
}

CounterListResult KvStore::ListCounters(const ListRequest& request) {
  CounterListResult r;
  ListRequest names = request;
  names.delimiter = {};  // counters have no folders
  ListPage page = WalkListing(
      db_, now_micros_(), kCounterKeyPrefix, names,
      [&r](std::string_view name, const DBIterator& it) {
        CounterEntry c;
        c.name = std::string(name);
        const std::string_view text = it.value();
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), c.value);
        if ((ec != std::errc() || ptr != text.data() + text.size()) && r.status.ok()) {
          r.status = Status::Corruption("counter '" + c.name + "' holds '" +
                                        std::string(text.substr(0, 40)) + "', not a number");
        }
        r.counters.push_back(std::move(c));
      },
      [](ListFolder&&) {});
  if (r.status.ok()) r.status = std::move(page.status);
  r.next = std::move(page.next);
  r.revision = page.revision;
  return r;
}

Status KvStore::ReadCounter(const ReadOptions& read, const std::string& engine_key, int64_t* value,
                            bool* exists) {
  std::string text;
  ValueMeta meta;
  Status s = db_->Get(read, engine_key, &text, &meta);
  *exists = false;
  *value = 0;
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::Corruption("counter holds '" + text.substr(0, 40) + "', not a number");
  }
  *exists = true;
  return Status::OK();
}

CounterResult KvStore::AddToCounter(std::string_view name, int64_t by) {
  CounterResult r;
  const std::string key = CounterKey(name);
  r.revision = db_->LastSequence();
  int64_t current;
  r.status = ReadCounter(OwnerRead(), key, &current, &r.existed);
  if (!r.status.ok()) return r;
  if (__builtin_add_overflow(current, by, &r.value)) {
    r.overflow = true;
    r.value = current;
    return r;
  }
  ValueMeta meta;
  meta.content_type = "text/plain";
  meta.modified_us = now_micros_();
  WriteBatch batch;
  batch.Put(key, std::to_string(r.value), meta);
  r.revision =
      AddChange(&batch, ChangeType::kCounter, name, {{"value", r.value}}, meta.modified_us);
  r.status = Write(&batch);
  r.wrote = r.status.ok();
  return r;
}

CounterResult KvStore::GetCounter(std::string_view name) {
  CounterResult r;
  ReadOptions read = PublishedRead();
  read.read_sequence = &r.revision;
  r.status = ReadCounter(read, CounterKey(name), &r.value, &r.existed);
  return r;
}

CounterResult KvStore::ResetCounter(std::string_view name) {
  CounterResult r;
  const std::string key = CounterKey(name);
  r.revision = db_->LastSequence();
  int64_t current;
  r.status = ReadCounter(OwnerRead(), key, &current, &r.existed);
  if (!r.status.ok() && !r.status.IsCorruption()) return r;
  // A counter holding garbage can still be reset.
  if (r.status.IsCorruption()) r.existed = true;
  r.status = Status::OK();
  if (!r.existed) return r;
  WriteBatch batch;
  batch.Delete(key);
  r.revision =
      AddChange(&batch, ChangeType::kCounter, name, {{"value", 0}, {"reset", true}}, now_micros_());
  r.status = Write(&batch);
  r.wrote = r.status.ok();
  return r;
}

Status KvStore::ReadLock(const ReadOptions& read, std::string_view key,
                         std::optional<KeyLock>* lock) {
  std::string text;
  ValueMeta meta;
  lock->reset();
  Status s = db_->Get(read, LockKey(key), &text, &meta);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  KeyLock l;
  if (!DecodeLockRecord(text, &l)) {
    return Status::Corruption("the lock record of '" + std::string(key.substr(0, 40)) +
                              "' is not a lock record");
  }
  *lock = std::move(l);
  return Status::OK();
}

Status KvStore::GetLock(std::string_view key, std::optional<KeyLock>* lock, uint64_t* revision) {
  ReadOptions read = PublishedRead();
  read.read_sequence = revision;
  Status s = ReadLock(read, key, lock);
  if (s.ok() && *lock && !(*lock)->HeldAt(now_micros_())) lock->reset();
  return s;
}

LockResult KvStore::Lock(std::string_view key, KeyLock&& request, int64_t ttl_seconds) {
  LockResult r;
  const int64_t now = now_micros_();
  r.revision = db_->LastSequence();
  std::optional<KeyLock> current;
  r.status = ReadLock(OwnerRead(), key, &current);
  if (!r.status.ok()) return r;
  r.outcome = DecideLock(current, request.id, now);
  if (r.outcome == LockOutcome::kHeld) {
    r.lock = std::move(*current);
    return r;
  }
  r.lock = std::move(request);
  r.lock.created_us = r.outcome == LockOutcome::kRefreshed ? current->created_us : now;
  r.lock.expires_us = ttl_seconds > 0 ? now + ttl_seconds * 1'000'000 : 0;
  ValueMeta meta;
  meta.content_type = "application/json";
  meta.modified_us = now;
  WriteBatch batch;
  batch.Put(LockKey(key), EncodeLockRecord(r.lock), meta);
  r.status = Write(&batch);
  if (!r.status.ok()) return r;
  r.wrote = true;
  r.revision = db_->LastSequence();
  return r;
}

LockResult KvStore::Unlock(std::string_view key, std::string_view id) {
  LockResult r;
  const int64_t now = now_micros_();
  r.revision = db_->LastSequence();
  std::optional<KeyLock> current;
  r.status = ReadLock(OwnerRead(), key, &current);
  if (!r.status.ok()) return r;
  r.outcome = DecideUnlock(current, id, now);
  if (r.outcome == LockOutcome::kHeld) {
    r.lock = std::move(*current);
    return r;
  }
  if (!current) return r;  // kNotLocked, no record: nothing to remove
  // Released, or a passed TTL's record: remove it.
  WriteBatch batch;
  batch.Delete(LockKey(key));
  r.status = Write(&batch);
  if (!r.status.ok()) return r;
  r.wrote = true;
  r.revision = db_->LastSequence();
  return r;
}

}  // namespace keyva::server
