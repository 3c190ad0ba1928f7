// Bloom filters: see bloom.h for the layout and the probe sequence.
#include "internal/engine/table/bloom.h"

#include <algorithm>
#include <cmath>

#include "internal/engine/util/hash.h"

namespace keyva {
namespace {

constexpr int kMaxProbes = 30;
constexpr size_t kMinBits = 64;

inline bool ProbesMatch(const char* array, uint64_t bits, int k, uint64_t hash) {
  const uint64_t h1 = hash & 0xffffffffu;
  const uint64_t h2 = hash >> 32;
  for (int i = 0; i < k; i++) {
    uint64_t bit = (h1 + static_cast<uint64_t>(i) * h2) % bits;
    if ((static_cast<unsigned char>(array[bit / 8]) & (1u << (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace

int BloomNumProbes(int bits_per_key) {
  int k = static_cast<int>(std::lround(bits_per_key * 0.69314718055994530942));
  return std::clamp(k, 1, kMaxProbes);
}

BloomFilterBuilder::BloomFilterBuilder(int bits_per_key)
    : bits_per_key_(std::max(bits_per_key, 1)), num_probes_(BloomNumProbes(bits_per_key_)) {}

void BloomFilterBuilder::AddKey(std::string_view key) { hashes_.push_back(Hash64(key)); }

void BloomFilterBuilder::AddHash(uint64_t hash) { hashes_.push_back(hash); }

std::string BloomFilterBuilder::Finish() const {
  size_t bits = std::max(hashes_.size() * static_cast<size_t>(bits_per_key_), kMinBits);
  size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  std::string filter(bytes + 1, '\0');
  char* array = filter.data();
  for (uint64_t hash : hashes_) {
    const uint64_t h1 = hash & 0xffffffffu;
    const uint64_t h2 = hash >> 32;
    for (int i = 0; i < num_probes_; i++) {
      uint64_t bit = (h1 + static_cast<uint64_t>(i) * h2) % bits;
      array[bit / 8] =
          static_cast<char>(static_cast<unsigned char>(array[bit / 8]) | (1u << (bit % 8)));
    }
  }
  filter[bytes] = static_cast<char>(num_probes_);
  return filter;
}

bool BloomFilterMayMatchHash(std::string_view filter, uint64_t hash) {
  if (filter.size() < 2) return true;  // malformed: never hide a key
  int k = static_cast<unsigned char>(filter.back());
  if (k < 1 || k > kMaxProbes) return true;
  uint64_t bits = (filter.size() - 1) * uint64_t{8};
  return ProbesMatch(filter.data(), bits, k, hash);
}

bool BloomFilterMayMatch(std::string_view filter, std::string_view key) {
  return BloomFilterMayMatchHash(filter, Hash64(key));
}

Status ValidateBloomFilter(std::string_view filter) {
  if (filter.size() < 2) return Status::Corruption("bloom filter too short");
  int k = static_cast<unsigned char>(filter.back());
  if (k < 1 || k > kMaxProbes) {
    return Status::Corruption("bloom filter has a bad probe count " + std::to_string(k));
  }
  return Status::OK();
}

}  // namespace keyva
