// CacheQuota: the byte accounting and least-recently-used order of one cache prefix
// (--cache-quota PREFIX=SIZE), and CacheQuotas, the set of them (docs/server.md, "Build caches").
//
// The values whose key starts with a cache prefix are a cache: an entry counts as its key's
// bytes plus its value's bytes (EntryBytes), and the prefix's total never exceeds its limit
// after any acknowledged write. KvStore keeps the accounting in step with every write it makes
// (puts, deletes, reaped TTLs) and, before a put, asks Victims which entries to evict so that
// the new one fits; it deletes them in the put's own WriteBatch, so the quota holds across a
// crash too, and applies the outcome here (Erase, Set) only once the batch is written.
//
// Recency: a write makes an entry the most recently used; so does a read (Touch: GET and HEAD
// hits). Reads run on the I/O threads, so a touch only stores a tick into the entry's atomic
// under a shared lock — no engine write, no ordered structure touched. The order the owner keeps
// (by the tick an entry was queued at) is corrected lazily: Victims looks at entries oldest
// first and moves one that was used since it was queued to its use's place instead of evicting
// it, so the entry evicted is always the least recently used one, exactly.
//
// At startup the owner rebuilds the accounting by scanning the prefix (Set in the stored
// modification order, oldest first): recency before a restart is not stored, so it starts from
// the order the entries were last written in.
//
// Thread-safety: Touch, Covers, prefix, limit and the counters (bytes, entries, evictions) from
// any thread; Set, Erase, Victims, CountEvictions and BytesOf only on the owner (the storage
// thread). CacheQuotas' list of prefixes is fixed at construction.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyva::server {

// A cache prefix and its limit in bytes, as --cache-quota gives them.
struct CacheQuotaSpec {
  std::string prefix;  // a /kv key prefix ("bazel/"), never empty
  uint64_t limit = 0;  // bytes, at least 1
};

class CacheQuota {
 public:
  CacheQuota(std::string prefix, uint64_t limit);
  CacheQuota(const CacheQuota&) = delete;
  CacheQuota& operator=(const CacheQuota&) = delete;

  // What an entry counts for: its key's bytes plus its value's.
  static uint64_t EntryBytes(std::string_view key, uint64_t value_size) {
    return key.size() + value_size;
  }

  const std::string& prefix() const { return prefix_; }
  uint64_t limit() const { return limit_; }
  // True when key is under the prefix.
  bool Covers(std::string_view key) const { return key.substr(0, prefix_.size()) == prefix_; }

  // The bytes and entries held, and the entries evicted since startup.
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t entries() const { return count_.load(std::memory_order_relaxed); }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

  // Any thread: key was read; it becomes the most recently used. Unknown keys are ignored.
  void Touch(std::string_view key);

  // Owner: key now holds an entry of `bytes` (inserted or replaced), the most recently used.
  void Set(std::string_view key, uint64_t bytes);
  // Owner: key's entry is gone (no-op when unknown).
  void Erase(std::string_view key);
  // Owner: the bytes key's entry counts for; 0 when unknown.
  uint64_t BytesOf(std::string_view key) const;
  // Owner: the entries to evict, least recently used first, so that an entry of `bytes` at
  // key (replacing key's own entry, which is never a victim) fits within the limit. Empty when
  // it fits already. Needs bytes <= limit() (else nothing can make it fit). Changes nothing but
  // the lazy order.
  std::vector<std::string> Victims(std::string_view key, uint64_t bytes);
  // Owner: n entries were evicted (counted for /metrics and /api/stats).
  void CountEvictions(uint64_t n) { evictions_.fetch_add(n, std::memory_order_relaxed); }

 private:
  struct Entry {
    uint64_t bytes = 0;
    uint64_t queued = 0;            // owner only: its place in order_
    std::atomic<uint64_t> used{0};  // the tick of its last write or read
  };

  uint64_t NextTick() { return clock_.fetch_add(1, std::memory_order_relaxed) + 1; }

  const std::string prefix_;
  const uint64_t limit_;
  std::atomic<uint64_t> clock_{0};
  // entries_ is changed (insert, erase) by the owner under an exclusive lock; readers look up
  // under a shared one and store only into Entry::used.
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::map<uint64_t, const std::string*> order_;  // owner only: queued tick -> entries_ key
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> evictions_{0};
};

class CacheQuotas {
 public:
  // specs' prefixes must not overlap (config.cc checks).
  explicit CacheQuotas(const std::vector<CacheQuotaSpec>& specs);

  // The cache whose prefix covers key; nullptr when none does.
  CacheQuota* Find(std::string_view key);
  const CacheQuota* Find(std::string_view key) const;
  const std::vector<std::unique_ptr<CacheQuota>>& all() const { return quotas_; }
  bool empty() const { return quotas_.empty(); }

 private:
  std::vector<std::unique_ptr<CacheQuota>> quotas_;
};

// An error message when two of specs overlap (one prefix starts with another) or one is
// invalid (empty prefix, zero limit); "" when they are fine.
std::string CheckCacheQuotaSpecs(const std::vector<CacheQuotaSpec>& specs);

}  // namespace keyva::server
