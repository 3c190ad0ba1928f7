// How the engine's caches split themselves into shards: how many, which shard a key's hash picks,
// and how a budget is divided among them. Both the block cache (bytes) and the table cache (open
// files) use these, so their shard rules cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace keyva {

// log2 of the number of shards for a budget of `capacity` units: doubled from one while the count
// stays <= max_shards and every shard keeps at least min_per_shard units.
inline unsigned ShardBitsFor(size_t capacity, size_t max_shards, size_t min_per_shard) {
  unsigned bits = 0;
  while ((size_t{2} << bits) <= max_shards && capacity / (size_t{2} << bits) >= min_per_shard) {
    bits++;
  }
  return bits;
}

// The shard (of 1 << bits) that a well-mixed 64-bit hash picks: its top bits.
inline size_t ShardOf(uint64_t hash, unsigned bits) {
  return bits == 0 ? 0 : static_cast<size_t>(hash >> (64 - bits));
}

// Part i of total split 1 << bits ways as evenly as integers allow; the parts add up to total.
inline size_t EvenShare(size_t total, unsigned bits, size_t i) {
  const size_t n = size_t{1} << bits;
  return total / n + (i < total % n ? 1 : 0);
}

}  // namespace keyva
