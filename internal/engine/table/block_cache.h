// BlockCache: an LRU cache of parsed SST data blocks, bounded by bytes.
//
// Entries are keyed by (file number, block offset) and hold shared_ptr<const Block>, so a block
// handed out by Lookup stays valid for as long as the caller holds it, even after it is evicted or
// its file is erased. Each entry has a charge (normally Block::ApproximateMemoryUsage()); after
// every Insert the total charge is at most the capacity: the least recently used entries are
// evicted first, and a block whose charge alone exceeds the capacity is not cached at all. Lookup
// counts a hit or a miss and makes a hit the most recently used entry.
//
// Pinned charge: memory that lives outside the LRU list but is paid for out of the same budget —
// the index and filter blocks every open SST keeps (SstReader pins them while it is open). Pinned
// bytes count in Usage() and push data blocks out; they are never evicted (only Unpin releases
// them), so Usage() can exceed the capacity only if the pinned bytes alone do.
//
// Thread safety: every method may be called from any thread (one mutex guards the state).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "internal/engine/table/block.h"

namespace keyva {

class BlockCache {
 public:
  explicit BlockCache(size_t capacity_bytes);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The cached block, or nullptr. Counts a hit or a miss.
  std::shared_ptr<const Block> Lookup(uint64_t file_number, uint64_t offset);
  // Caches block under (file_number, offset), replacing any entry there, then evicts LRU entries
  // until Usage() <= Capacity(). Does nothing if charge plus the pinned bytes exceed Capacity().
  void Insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block,
              size_t charge);
  // Drops every block of file_number (call when the file is deleted).
  void EraseFile(uint64_t file_number);
  // Adds bytes to the pinned charge, evicting LRU entries to make room; Unpin gives them back.
  void Pin(size_t bytes);
  void Unpin(size_t bytes);

  size_t Usage() const;        // total charge: cached entries plus pinned bytes
  size_t PinnedUsage() const;  // the pinned part of Usage()
  size_t Capacity() const;     // as given to the constructor
  size_t NumEntries() const;
  uint64_t Hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t Misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // (file number, offset)
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = (k.first * 0x9e3779b97f4a7c15ull) ^ (k.second + 0x632be59bd9b4e019ull);
      h ^= h >> 29;
      h *= 0xbf58476d1ce4e5b9ull;
      return static_cast<size_t>(h ^ (h >> 32));
    }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const Block> block;
    size_t charge;
  };
  using LruList = std::list<Entry>;  // front = most recently used

  // Moves LRU entries to *evicted until usage_ <= capacity_ or no entry is left. Holds mu_.
  void EvictToCapacity(LruList* evicted);

  const size_t capacity_;
  mutable std::mutex mu_;
  LruList lru_;
  // Hashed: a lookup is one probe (EraseFile walks the LRU list instead; it is rare).
  std::unordered_map<Key, LruList::iterator, KeyHash> index_;
  size_t usage_ = 0;  // includes pinned_
  size_t pinned_ = 0;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace keyva
