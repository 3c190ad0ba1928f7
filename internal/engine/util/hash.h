// Checksums and hashes. Every on-disk checksum in keyva is the low 32 bits of XXH3-64 (libxxhash);
// the bloom filter hashes keys with XXH3-64 as well.
#pragma once

#include <cstdint>
#include <string_view>

namespace keyva {

uint64_t Hash64(std::string_view data);
// splitmix64's finalizer: mixes an integer so every input bit reaches the top bits (for picking
// cache shards from file numbers and offsets, which come in sequence).
inline uint64_t MixBits64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
// The checksum stored in WAL records, block trailers and MANIFEST records.
uint32_t Checksum32(std::string_view data);
// Checksum over two adjacent pieces, as if concatenated (e.g. block contents + compression byte).
uint32_t Checksum32(std::string_view a, std::string_view b);

}  // namespace keyva
