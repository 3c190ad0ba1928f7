// Keys, values and permutations for the engine bench (see workload_data.h).
#include "bench/engine/workload_data.h"

#include <cassert>

namespace keyva::bench {
namespace {

constexpr size_t kValueBufferSize = 1u << 20;
constexpr size_t kPieceSize = 100;

uint64_t HashIndex(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

void FormatNumber(uint64_t n, char* buf) {
  for (int i = static_cast<int>(kKeySize) - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + n % 10);
    n /= 10;
  }
}

}  // namespace

void FormatKey(uint64_t index, char* buf) { FormatNumber(2 * index, buf); }
void FormatMissingKey(uint64_t index, char* buf) { FormatNumber(2 * index + 1, buf); }

bool ParseKey(std::string_view key, uint64_t* index) {
  if (key.size() != kKeySize) return false;
  uint64_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n % 2 != 0) return false;
  *index = n / 2;
  return true;
}

Permutation::Permutation(uint64_t n, uint64_t seed) : n_(n), bits_(1) {
  while (bits_ < 63 && (uint64_t{1} << bits_) < n) ++bits_;
  mask_ = (uint64_t{1} << bits_) - 1;
  Random rnd(seed);
  k1_ = rnd.Next() | 1;  // odd multipliers are bijections modulo 2^bits
  k2_ = rnd.Next() | 1;
}

uint64_t Permutation::Mix(uint64_t x) const {
  // Each step is a bijection on [0, 2^bits), so the composition is too.
  const int shift = bits_ / 2 + 1;
  x = (x * k1_) & mask_;
  x ^= x >> shift;
  x = (x * k2_) & mask_;
  x ^= x >> shift;
  return x;
}

uint64_t Permutation::At(uint64_t i) const {
  assert(i < n_);
  // Cycle-walking: applying a bijection of [0, 2^bits) until the result falls in [0, n) gives a
  // bijection of [0, n); n > 2^(bits-1), so this takes fewer than two steps on average.
  uint64_t x = Mix(i);
  while (x >= n_) x = Mix(x);
  return x;
}

ValueSource::ValueSource(uint64_t seed) {
  Random rnd(seed);
  data_.reserve(kValueBufferSize);
  while (data_.size() < kValueBufferSize) {
    char half[kPieceSize / 2];
    for (char& c : half) c = static_cast<char>(' ' + rnd.Uniform(95));
    data_.append(half, sizeof(half));
    data_.append(half, sizeof(half));
  }
}

std::string_view ValueSource::For(uint64_t index, size_t value_size) const {
  assert(value_size <= kValueBufferSize / 2);
  size_t offset = HashIndex(index) % (kValueBufferSize - value_size);
  return std::string_view(data_).substr(offset, value_size);
}

}  // namespace keyva::bench
