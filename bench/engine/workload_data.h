// The keys, values and random choices every engine sees, so that all engines run identical
// operations in a run.
//
// Keys: 16 bytes, the decimal digits of 2*i zero-padded to 16 ("0000000000000042" is index 21).
// Fills write indexes [0, n); the odd numbers between them are never written, so a "missing" key
// sorts between present keys and only a bloom filter (not a key-range check) can skip it.
//
// Values: slices of one 1 MiB buffer made like LevelDB's db_bench RandomGenerator: every 100-byte
// piece is 50 random printable bytes written twice, so the data compresses to about half. The
// slice for key index i starts at an offset derived from a hash of i, so a reader can check the
// bytes it gets back without remembering what was written.
//
// Thread-safety: ValueSource is immutable after construction (share it); Random is one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keyva::bench {

constexpr size_t kKeySize = 16;

// Writes the key for index i into buf[0..16).
void FormatKey(uint64_t index, char* buf);
// The key with an odd number next to index i's key: never written by any workload.
void FormatMissingKey(uint64_t index, char* buf);
// The index of a present key, or false if key is not one FormatKey makes.
bool ParseKey(std::string_view key, uint64_t* index);

// splitmix64: fast, good enough for choosing keys, deterministic per seed.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) { return static_cast<uint64_t>((__uint128_t{Next()} * n) >> 64); }

 private:
  uint64_t state_;
};

// A pseudo-random permutation of [0, n) computed on the fly (no table): At(i) for i in [0, n)
// visits every index exactly once. Used for "fillrandom" so every key is written exactly once.
class Permutation {
 public:
  Permutation(uint64_t n, uint64_t seed);
  // REQUIRES: i < n.
  uint64_t At(uint64_t i) const;

 private:
  uint64_t Mix(uint64_t x) const;
  uint64_t n_;
  int bits_;
  uint64_t mask_;
  uint64_t k1_, k2_;
};

class ValueSource {
 public:
  // REQUIRES: max_value_size <= 512 KiB.
  explicit ValueSource(uint64_t seed);
  // The value for key index i, value_size bytes, valid as long as this object.
  std::string_view For(uint64_t index, size_t value_size) const;

 private:
  std::string data_;
};

}  // namespace keyva::bench
