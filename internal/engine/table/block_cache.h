// BlockCache: an LRU cache of parsed SST data blocks, bounded by bytes, sharded so that many
// reader threads can hit it at once.
//
// Entries are keyed by (file number, block offset) and hold shared_ptr<const Block>, so a block
// handed out by Lookup stays valid for as long as the caller holds it, even after it is evicted or
// its file is erased. Each entry has a charge (normally Block::ApproximateMemoryUsage()); after
// every Insert the total charge is at most the capacity: the least recently used entries of the
// shard are evicted first, and a block whose charge alone exceeds its shard's room (see below) is
// not cached at all. Lookup counts a hit or a miss and makes a hit the most recently used entry
// of its shard.
//
// Pinned charge: memory that lives outside the LRU lists but is paid for out of the same budget —
// the index and filter blocks every open SST keeps (SstReader pins them while it is open). Pinned
// bytes count in Usage() and push data blocks out; they are never evicted (only Unpin releases
// them), so Usage() can exceed the capacity only if the pinned bytes alone do.
//
// Shards. The cache is split into NumShards() shards (16, or fewer for small caches: halved until
// each shard has at least kMinShardBytes, down to one shard for caches under 1 MiB, which then
// behave as a single exact LRU). A key's shard is chosen by a hash of (file number, offset); each
// shard has its own mutex, LRU list and index, so Lookup and Insert lock exactly one shard and
// threads that touch different shards never wait for each other. LRU order is per shard: an
// Insert evicts the least recently used blocks of its own shard, which with hashed keys
// approximates the global LRU order of an unsharded cache.
//
// The byte bound, exactly. With capacity C, n shards and pinned bytes P, shard i may hold data
// blocks worth at most
//     room_i = max(0, capacity_i - pinned_i),   capacity_i = C / n + (i < C % n ? 1 : 0),
//                                               pinned_i   = P / n + (i < P % n ? 1 : 0),
// i.e. both the capacity and the pinned charge are split as evenly as integers allow. The
// capacity_i add up to C and the pinned_i to P, so when every shard keeps its data within room_i
// the total Usage() (data plus P) is at most C whenever P <= C; when P >= C every room_i is 0 and
// the cache holds only pins. P itself is one global counter: Pin adds to it and then visits every
// shard in turn, evicting its LRU blocks down to the new room; Insert reads P while it holds its
// shard's lock, so an Insert that runs after Pin's visit to that shard sees the new P, and one
// that runs before it is cleaned up by the visit: once Pin returns, every shard is within its
// room. Unpin only subtracts (rooms grow; nothing to evict). The price of splitting: a block is
// cached only if its charge fits in room_i (at most about C / n), not merely in C - P; a shard is
// never smaller than kMinShardBytes (hundreds of typical 4 KiB blocks), so only unusually large
// blocks are affected, and those would flush a large part of the cache anyway.
//
// Admission (second touch). Admit(file, offset) is what a reader asks before it inserts a block it
// just read from disk: a block is worth caching only if it is read again soon. The first time a
// block is asked about, Admit remembers it and says no; asked again while it is still remembered,
// Admit says yes. It remembers in a bitset (one bit per key hash, about eight bits per block the
// cache can hold) that is cleared each time as many blocks as the cache holds have been turned
// away, so "soon" means "before a cache's worth of other blocks was read": the same window in
// which an LRU cache would still hold a block inserted on its first read. The cost is one miss
// more for a block that is read again; the gains are that blocks read only once (a uniformly
// random read over data much larger than the cache, a scan) no longer push out blocks that are
// read again, and that such reads skip the insert and the eviction it causes. A bit shared by two
// blocks (hash collision, about one in eight while the window fills) lets the second one in on its
// first touch: the filter only ever errs towards caching.
//
// Thread safety: every method may be called from any thread. Usage(), NumEntries(), Hits() and
// Misses() add up the shards one after another: exact when no other thread is changing the cache,
// a close approximation while one is (though while the pins stay unchanged, a Usage() read during
// Inserts is still within the bound: each shard is within its room whenever its lock is free).
// Blocks evicted or replaced are released after the shard's lock is let go.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "internal/engine/table/block.h"

namespace keyva {

class BlockCache {
 public:
  static constexpr size_t kMaxShards = 16;
  // A shard is never smaller than this; smaller caches get fewer shards (as RocksDB's default
  // LRU cache does).
  static constexpr size_t kMinShardBytes = 512u << 10;

  explicit BlockCache(size_t capacity_bytes);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache();

  // The cached block, or nullptr. Counts a hit or a miss.
  std::shared_ptr<const Block> Lookup(uint64_t file_number, uint64_t offset);
  // Caches block under (file_number, offset), replacing any entry there, then evicts LRU entries
  // of that key's shard until the shard is within its room, so that Usage() <= Capacity(). Does
  // nothing (beyond dropping the replaced entry) if charge plus the pinned bytes exceed
  // Capacity(), or if charge exceeds the shard's room (see the top of this file).
  void Insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block,
              size_t charge);
  // True if (file_number, offset) was asked about recently (see "Admission" above): the block is
  // worth inserting. False the first time (the key is then remembered). Lock-free.
  bool Admit(uint64_t file_number, uint64_t offset);
  // Drops every block of file_number, in every shard (call when the file is deleted).
  void EraseFile(uint64_t file_number);
  // Adds bytes to the pinned charge, evicting LRU entries of every shard as needed to make room;
  // Unpin gives them back. REQUIRES: Unpin(bytes) only for bytes pinned before.
  void Pin(size_t bytes);
  void Unpin(size_t bytes);

  size_t Usage() const;        // total charge: cached entries plus pinned bytes
  size_t PinnedUsage() const;  // the pinned part of Usage()
  size_t Capacity() const;     // as given to the constructor
  size_t NumEntries() const;
  size_t NumShards() const;  // 1..kMaxShards, fixed at construction (a power of two)
  uint64_t Hits() const;
  uint64_t Misses() const;

 private:
  struct Shard;  // block_cache.cc

  // 64 bits mixed from (file number, offset): the top bits pick the shard, and the whole is the
  // shard's hash-table hash (computed once per call).
  static uint64_t HashKey(uint64_t file_number, uint64_t offset);
  Shard& ShardFor(uint64_t hash) const;
  // Forgets every remembered key once window_ keys have been turned away since the last time.
  void AgeAdmissionFilter();
  // The pinned bytes charged to shard i (its share of pinned_).
  size_t PinnedShare(size_t i) const;

  const size_t capacity_;
  const unsigned shard_bits_;  // NumShards() == 1 << shard_bits_
  std::unique_ptr<Shard[]> shards_;
  std::atomic<size_t> pinned_{0};

  // The admission filter: admission_bits_ bits (a power of two) in 64-bit words, and the number of
  // keys turned away since it was last cleared.
  const size_t admission_bits_;
  const size_t window_;
  std::unique_ptr<std::atomic<uint64_t>[]> admission_;
  std::atomic<size_t> turned_away_{0};
};

}  // namespace keyva
