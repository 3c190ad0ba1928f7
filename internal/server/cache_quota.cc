// The accounting and LRU order of cache prefixes; see cache_quota.h.
#include "internal/server/cache_quota.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace keyva::server {

CacheQuota::CacheQuota(std::string prefix, uint64_t limit)
    : prefix_(std::move(prefix)), limit_(limit) {}

void CacheQuota::Touch(std::string_view key) {
  const uint64_t tick = NextTick();
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return;
  // Concurrent touches may store out of order: keep the newest.
  uint64_t seen = it->second.used.load(std::memory_order_relaxed);
  while (seen < tick &&
         !it->second.used.compare_exchange_weak(seen, tick, std::memory_order_relaxed)) {
  }
}

void CacheQuota::Set(std::string_view key, uint64_t bytes) {
  const uint64_t tick = NextTick();
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto [it, inserted] = entries_.try_emplace(std::string(key));
  Entry& e = it->second;
  if (inserted) {
    count_.fetch_add(1, std::memory_order_relaxed);
  } else {
    order_.erase(e.queued);
    bytes_.fetch_sub(e.bytes, std::memory_order_relaxed);
  }
  e.bytes = bytes;
  e.queued = tick;
  e.used.store(tick, std::memory_order_relaxed);
  order_.emplace(tick, &it->first);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void CacheQuota::Erase(std::string_view key) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return;
  order_.erase(it->second.queued);
  bytes_.fetch_sub(it->second.bytes, std::memory_order_relaxed);
  count_.fetch_sub(1, std::memory_order_relaxed);
  entries_.erase(it);
}

uint64_t CacheQuota::BytesOf(std::string_view key) const {
  auto it = entries_.find(std::string(key));  // the owner is the only writer: no lock needed
  return it == entries_.end() ? 0 : it->second.bytes;
}

std::vector<std::string> CacheQuota::Victims(std::string_view key, uint64_t bytes) {
  std::vector<std::string> victims;
  const uint64_t after = bytes_.load(std::memory_order_relaxed) - BytesOf(key) + bytes;
  if (after <= limit_) return victims;
  uint64_t to_free = after - limit_;
  for (auto it = order_.begin(); it != order_.end() && to_free > 0;) {
    const std::string& k = *it->second;
    Entry& e = entries_.find(k)->second;
    const uint64_t used = e.used.load(std::memory_order_relaxed);
    const uint64_t queued = it->first;
    if (used > queued) {
      // Read since it was queued: its place is at its last use, later than here; the loop goes
      // on after here, so it meets the entry again there if it must go on that far.
      order_.erase(it);
      e.queued = used;
      order_.emplace(used, &k);
      it = order_.upper_bound(queued);
      continue;
    }
    if (k != key) {
      victims.push_back(k);
      to_free -= std::min(to_free, e.bytes);
    }
    ++it;
  }
  return victims;
}

CacheQuotas::CacheQuotas(const std::vector<CacheQuotaSpec>& specs) {
  for (const CacheQuotaSpec& s : specs) {
    quotas_.push_back(std::make_unique<CacheQuota>(s.prefix, s.limit));
  }
}

CacheQuota* CacheQuotas::Find(std::string_view key) {
  for (const auto& q : quotas_) {
    if (q->Covers(key)) return q.get();
  }
  return nullptr;
}

const CacheQuota* CacheQuotas::Find(std::string_view key) const {
  return const_cast<CacheQuotas*>(this)->Find(key);
}

std::string CheckCacheQuotaSpecs(const std::vector<CacheQuotaSpec>& specs) {
  for (size_t i = 0; i < specs.size(); i++) {
    if (specs[i].prefix.empty()) return "a cache prefix must not be empty";
    if (specs[i].limit == 0) return "the quota of cache prefix '" + specs[i].prefix + "' is 0";
    for (size_t j = 0; j < i; j++) {
      const std::string& a = specs[i].prefix;
      const std::string& b = specs[j].prefix;
      if (a.compare(0, b.size(), b) == 0 || b.compare(0, a.size(), a) == 0) {
        return "cache prefixes '" + b + "' and '" + a +
               "' overlap: a key under both would have two quotas";
      }
    }
  }
  return {};
}

}  // namespace keyva::server
