// Checksums and hashes. Every on-disk checksum in keyva is the low 32 bits of XXH3-64 (libxxhash);
// the bloom filter hashes keys with XXH3-64 as well.
#pragma once

#include <cstdint>
#include <string_view>

namespace keyva {

uint64_t Hash64(std::string_view data);
// The checksum stored in WAL records, block trailers and MANIFEST records.
uint32_t Checksum32(std::string_view data);
// Checksum over two adjacent pieces, as if concatenated (e.g. block contents + compression byte).
uint32_t Checksum32(std::string_view a, std::string_view b);

}  // namespace keyva
