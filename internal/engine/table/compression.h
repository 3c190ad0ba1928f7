// Block compression for SST files: lz4 (liblz4) and zstd (libzstd).
//
// On-disk encodings of a compressed block body (the trailer's type byte says which one is used):
//   kLz4:  varint32 uncompressed size, then the output of LZ4_compress_default.
//   kZstd: one zstd frame (ZSTD_compress, level 1) that records its content size.
//
// Decompression treats its input as hostile: a claimed uncompressed size above
// kMaxUncompressedBlockSize, a size that does not match what the decoder produced, or any decoder
// error is Corruption; nothing is allocated beyond that cap. The compressor refuses inputs above
// the cap, so every block it produces can be read back (larger blocks are stored uncompressed).
//
// Thread safety: the functions keep no shared state and may be called from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "internal/engine/options.h"
#include "internal/engine/status.h"

namespace keyva {

// The largest uncompressed size a compressed block may claim.
constexpr size_t kMaxUncompressedBlockSize = size_t{64} << 20;

// True if type is one of the CompressionType values this build understands.
bool IsKnownCompressionType(uint8_t type);

// Compresses input with type into *output (replacing its contents). Returns false, leaving
// *output unspecified, when type is kNone, the input is larger than kMaxUncompressedBlockSize, or
// the compressor fails. Callers decide whether the saving is worth it (see ShouldStoreCompressed).
bool CompressBlock(CompressionType type, std::string_view input, std::string* output);

// True when a compressed form of raw_size bytes that takes compressed_size bytes saves at least
// 1/8 of the raw size, the rule for storing a block compressed.
inline bool ShouldStoreCompressed(size_t raw_size, size_t compressed_size) {
  return compressed_size <= raw_size - raw_size / 8;
}

// Decompresses input, compressed with type (kLz4 or kZstd), into a new heap buffer of exactly
// *size bytes (no zero-fill; the read path, ReadBlock). Corruption when the input is malformed,
// claims more than kMaxUncompressedBlockSize bytes, or type is unknown or kNone.
Status UncompressBlock(CompressionType type, std::string_view input,
                       std::unique_ptr<char[]>* output, size_t* size);
// The same into *output (a copy of the buffer; for tools and tests).
Status UncompressBlock(CompressionType type, std::string_view input, std::string* output);

}  // namespace keyva
