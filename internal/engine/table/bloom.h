// Bloom filters over keys, as stored in an SST's filter block.
//
// Layout of a filter: ceil(max(num_keys * bits_per_key, 64) / 8) bytes of bit array, then one
// byte holding k, the number of probes. Bit i lives in byte i / 8 at bit position i % 8.
// A key is hashed once with Hash64 (XXH3-64); its probes are h1 + i * h2 (mod number of bits) for
// i = 0..k-1, where h1 and h2 are the low and high 32 bits of the hash (double hashing).
// k = round(bits_per_key * ln 2), clamped to [1, 30].
//
// A filter never answers "absent" for a key that was added (no false negatives). Malformed filters
// (shorter than 2 bytes, or k outside [1, 30]) match every key, so a damaged filter can cost reads
// but never hide data; readers should still reject them (see ValidateBloomFilter).
//
// Thread safety: a BloomFilterBuilder is used by one thread; the free functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/status.h"

namespace keyva {

// The number of probes used for bits_per_key (bits_per_key >= 1).
int BloomNumProbes(int bits_per_key);

class BloomFilterBuilder {
 public:
  // REQUIRES: bits_per_key >= 1.
  explicit BloomFilterBuilder(int bits_per_key);

  // Adds a key (hashed with Hash64 now; the key itself is not kept).
  void AddKey(std::string_view key);
  // Adds an already computed Hash64 of a key.
  void AddHash(uint64_t hash);
  size_t NumKeys() const { return hashes_.size(); }

  // Returns the filter over every key added so far. The builder may be reused afterwards (it keeps
  // its keys; call Reset to start over).
  std::string Finish() const;
  void Reset() { hashes_.clear(); }

 private:
  int bits_per_key_;
  int num_probes_;
  std::vector<uint64_t> hashes_;
};

// False only if key was certainly not added to the filter.
bool BloomFilterMayMatch(std::string_view filter, std::string_view key);
bool BloomFilterMayMatchHash(std::string_view filter, uint64_t hash);

// OK if filter has the layout above (at least 2 bytes, k in [1, 30]); Corruption otherwise.
Status ValidateBloomFilter(std::string_view filter);

}  // namespace keyva
