// BlockCache: shards, each an LRU list plus a hashed index by (file, offset); see block_cache.h.
#include "internal/engine/table/block_cache.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "internal/engine/util/hash.h"
#include "internal/engine/util/sharding.h"

namespace keyva {
namespace {

// (file number, offset), with HashKey of both computed once: it picks the shard and then serves
// as the shard's hash-table hash.
struct Key {
  uint64_t file_number;
  uint64_t offset;
  uint64_t hash;
  bool operator==(const Key& o) const { return file_number == o.file_number && offset == o.offset; }
};

struct Entry {
  Key key;
  std::shared_ptr<const Block> block;
  size_t charge;
};
using LruList = std::list<Entry>;  // front = most recently used

// The blocks a cache of capacity bytes holds, counted in typical 4 KiB blocks (at least 64).
size_t WindowFor(size_t capacity) { return std::max<size_t>(64, capacity / 4096); }

// About eight admission bits per block of the window, a power of two.
size_t AdmissionBitsFor(size_t capacity) { return std::bit_ceil(WindowFor(capacity) * 8); }

// A counter written only under its shard's mutex and read without it: a plain load and store
// (no locked read-modify-write) is enough, and readers still see whole values.
void Bump(std::atomic<uint64_t>* counter) {
  counter->store(counter->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace

// One shard: its own lock, LRU list and index. Aligned to a cache line so that threads working
// on neighbouring shards do not share one.
struct alignas(64) BlockCache::Shard {
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept { return static_cast<size_t>(k.hash); }
  };

  // The bytes of data blocks this shard may hold beside its share of the pinned bytes.
  size_t Room(size_t pinned_share) const {
    return capacity > pinned_share ? capacity - pinned_share : 0;
  }

  // Moves LRU entries to *evicted until usage <= room or no entry is left. Holds mu.
  void EvictTo(size_t room, LruList* evicted) {
    while (usage > room && !lru.empty()) {
      auto victim = std::prev(lru.end());
      usage -= victim->charge;
      index.erase(victim->key);
      evicted->splice(evicted->end(), lru, victim);
    }
  }

  size_t number = 0;    // this shard's position in shards_
  size_t capacity = 0;  // its part of the capacity; both fixed at construction
  mutable std::mutex mu;
  LruList lru;
  // Hashed: a lookup is one probe (EraseFile walks the LRU lists instead; it is rare).
  std::unordered_map<Key, LruList::iterator, KeyHash> index;
  size_t usage = 0;  // charge of the entries here (the pinned share is not included)
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
};

BlockCache::BlockCache(size_t capacity_bytes)
    : capacity_(capacity_bytes),
      shard_bits_(ShardBitsFor(capacity_bytes, kMaxShards, kMinShardBytes)),
      shards_(std::make_unique<Shard[]>(size_t{1} << shard_bits_)),
      admission_bits_(AdmissionBitsFor(capacity_bytes)),
      window_(WindowFor(capacity_bytes)),
      admission_(std::make_unique<std::atomic<uint64_t>[]>(admission_bits_ / 64)) {
  for (size_t i = 0; i < NumShards(); i++) {
    shards_[i].number = i;
    shards_[i].capacity = EvenShare(capacity_, shard_bits_, i);
  }
}

BlockCache::~BlockCache() = default;

uint64_t BlockCache::HashKey(uint64_t file_number, uint64_t offset) {
  return MixBits64(file_number * 0x9e3779b97f4a7c15ull + offset);
}

BlockCache::Shard& BlockCache::ShardFor(uint64_t hash) const {
  return shards_[ShardOf(hash, shard_bits_)];
}

size_t BlockCache::PinnedShare(size_t i) const {
  return EvenShare(pinned_.load(std::memory_order_relaxed), shard_bits_, i);
}

std::shared_ptr<const Block> BlockCache::Lookup(uint64_t file_number, uint64_t offset) {
  const Key key{file_number, offset, HashKey(file_number, offset)};
  Shard& s = ShardFor(key.hash);
  std::lock_guard<std::mutex> l(s.mu);
  auto it = s.index.find(key);
  if (it == s.index.end()) {
    Bump(&s.misses);
    return nullptr;
  }
  Bump(&s.hits);
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->block;
}

void BlockCache::Insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block,
                        size_t charge) {
  LruList evicted;  // blocks dropped here are released after the lock is let go
  const Key key{file_number, offset, HashKey(file_number, offset)};
  Shard& s = ShardFor(key.hash);
  std::lock_guard<std::mutex> l(s.mu);
  auto it = s.index.find(key);
  if (it != s.index.end()) {
    s.usage -= it->second->charge;
    evicted.splice(evicted.end(), s.lru, it->second);
    s.index.erase(it);
  }
  // Read under s.mu: a concurrent Pin visits this shard after raising pinned_ (block_cache.h).
  const size_t room = s.Room(PinnedShare(s.number));
  if (charge > room) return;
  s.lru.push_front(Entry{key, std::move(block), charge});
  s.index.emplace(key, s.lru.begin());
  s.usage += charge;
  s.EvictTo(room, &evicted);  // stops before the new entry: charge <= room
}

bool BlockCache::Admit(uint64_t file_number, uint64_t offset) {
  // The low bits of the key's hash (the high ones pick the shard) name its bit.
  const uint64_t bit = HashKey(file_number, offset) & (admission_bits_ - 1);
  const uint64_t mask = uint64_t{1} << (bit % 64);
  std::atomic<uint64_t>& word = admission_[bit / 64];
  if (word.load(std::memory_order_relaxed) & mask) return true;
  word.fetch_or(mask, std::memory_order_relaxed);
  AgeAdmissionFilter();
  return false;
}

void BlockCache::AgeAdmissionFilter() {
  // Exactly one thread counts the window_-th turn-away and resets. Keys remembered by others
  // meanwhile may be forgotten with it, which costs them one more miss, never a wrong answer.
  if (turned_away_.fetch_add(1, std::memory_order_relaxed) + 1 != window_) return;
  turned_away_.store(0, std::memory_order_relaxed);
  for (size_t i = 0; i < admission_bits_ / 64; i++) {
    admission_[i].store(0, std::memory_order_relaxed);
  }
}

void BlockCache::Pin(size_t bytes) {
  pinned_.fetch_add(bytes, std::memory_order_relaxed);
  for (size_t i = 0; i < NumShards(); i++) {
    LruList evicted;  // released after the lock is let go
    Shard& s = shards_[i];
    std::lock_guard<std::mutex> l(s.mu);
    s.EvictTo(s.Room(PinnedShare(i)), &evicted);
  }
}

void BlockCache::Unpin(size_t bytes) {
  [[maybe_unused]] const size_t before = pinned_.fetch_sub(bytes, std::memory_order_relaxed);
  assert(bytes <= before);
}

void BlockCache::EraseFile(uint64_t file_number) {
  for (size_t i = 0; i < NumShards(); i++) {
    LruList evicted;  // released after the lock is let go
    Shard& s = shards_[i];
    std::lock_guard<std::mutex> l(s.mu);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      auto next = std::next(it);
      if (it->key.file_number == file_number) {
        s.usage -= it->charge;
        s.index.erase(it->key);
        evicted.splice(evicted.end(), s.lru, it);
      }
      it = next;
    }
  }
}

size_t BlockCache::Usage() const {
  size_t total = pinned_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < NumShards(); i++) {
    std::lock_guard<std::mutex> l(shards_[i].mu);
    total += shards_[i].usage;
  }
  return total;
}

size_t BlockCache::PinnedUsage() const { return pinned_.load(std::memory_order_relaxed); }

size_t BlockCache::Capacity() const { return capacity_; }

size_t BlockCache::NumEntries() const {
  size_t total = 0;
  for (size_t i = 0; i < NumShards(); i++) {
    std::lock_guard<std::mutex> l(shards_[i].mu);
    total += shards_[i].index.size();
  }
  return total;
}

size_t BlockCache::NumShards() const { return size_t{1} << shard_bits_; }

uint64_t BlockCache::Hits() const {
  uint64_t total = 0;
  for (size_t i = 0; i < NumShards(); i++) {
    total += shards_[i].hits.load(std::memory_order_relaxed);
  }
  return total;
}

uint64_t BlockCache::Misses() const {
  uint64_t total = 0;
  for (size_t i = 0; i < NumShards(); i++) {
    total += shards_[i].misses.load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace keyva
