// BlockCache: LRU list plus a hashed index by (file, offset); see block_cache.h.
#include "internal/engine/table/block_cache.h"

#include <cassert>

namespace keyva {

BlockCache::BlockCache(size_t capacity_bytes) : capacity_(capacity_bytes) { index_.reserve(1024); }

std::shared_ptr<const Block> BlockCache::Lookup(uint64_t file_number, uint64_t offset) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(Key(file_number, offset));
  if (it == index_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->block;
}

void BlockCache::Insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block,
                        size_t charge) {
  LruList evicted;  // blocks dropped here are released after the lock is let go
  {
    std::lock_guard<std::mutex> l(mu_);
    const Key key(file_number, offset);
    auto it = index_.find(key);
    if (it != index_.end()) {
      usage_ -= it->second->charge;
      evicted.splice(evicted.end(), lru_, it->second);
      index_.erase(it);
    }
    if (charge > capacity_ || pinned_ > capacity_ - charge) return;
    lru_.push_front(Entry{key, std::move(block), charge});
    index_.emplace(key, lru_.begin());
    usage_ += charge;
    EvictToCapacity(&evicted);  // stops before the new entry: charge + pinned_ <= capacity_
  }
}

void BlockCache::EvictToCapacity(LruList* evicted) {
  while (usage_ > capacity_ && !lru_.empty()) {
    auto victim = std::prev(lru_.end());
    usage_ -= victim->charge;
    index_.erase(victim->key);
    evicted->splice(evicted->end(), lru_, victim);
  }
}

void BlockCache::Pin(size_t bytes) {
  LruList evicted;  // released after the lock is let go
  std::lock_guard<std::mutex> l(mu_);
  pinned_ += bytes;
  usage_ += bytes;
  EvictToCapacity(&evicted);
}

void BlockCache::Unpin(size_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  assert(bytes <= pinned_);
  pinned_ -= bytes;
  usage_ -= bytes;
}

void BlockCache::EraseFile(uint64_t file_number) {
  LruList evicted;  // released after the lock is let go
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->key.first == file_number) {
      usage_ -= it->charge;
      index_.erase(it->key);
      evicted.splice(evicted.end(), lru_, it);
    }
    it = next;
  }
}

size_t BlockCache::Usage() const {
  std::lock_guard<std::mutex> l(mu_);
  return usage_;
}

size_t BlockCache::PinnedUsage() const {
  std::lock_guard<std::mutex> l(mu_);
  return pinned_;
}

size_t BlockCache::Capacity() const { return capacity_; }

size_t BlockCache::NumEntries() const {
  std::lock_guard<std::mutex> l(mu_);
  return index_.size();
}

}  // namespace keyva
