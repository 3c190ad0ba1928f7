// The SST file format's fixed pieces: block handles, the block trailer, the footer, and ReadBlock.
//
// An SST file is (docs/formats.md, SST has every byte):
//   data block 1 | trailer ... data block N | trailer | [filter block | trailer] |
//   index block | trailer | footer (kFooterLength bytes)
// Every block is followed by a kBlockTrailerSize-byte trailer: 1 byte CompressionType, then
// fixed32 Checksum32(stored block bytes, type byte). A BlockHandle names the stored bytes of a
// block (offset, size without the trailer). The footer holds the filter and index handles as
// varints zero-padded to 40 bytes, fixed32 kSstFormatVersion and fixed64 kSstMagicNumber.
//
// ReadBlock is where every block read from disk is bounds-checked, checksum-verified and
// decompressed; it never trusts a handle or a size it read.
//
// Thread safety: the functions keep no state; ReadBlock may run on several threads over one file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "internal/engine/env.h"
#include "internal/engine/options.h"
#include "internal/engine/status.h"

namespace keyva {

// fixed64 at the very end of every SST; stored little-endian its bytes read "keyva_ss".
constexpr uint64_t kSstMagicNumber = 0x73735f617679656bull;
constexpr uint32_t kSstFormatVersion = 1;
// 1 byte compression type + fixed32 checksum.
constexpr size_t kBlockTrailerSize = 5;

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;  // stored (possibly compressed) bytes, without the trailer

  // Two varint64s.
  static constexpr size_t kMaxEncodedLength = 20;

  // The empty handle (0, 0) marks an absent block (the filter when bloom filters are off).
  bool empty() const { return offset == 0 && size == 0; }
  void EncodeTo(std::string* dst) const;
  // Decodes from the front of *input and advances past it; Corruption if malformed or if either
  // varint is longer than its shortest form.
  Status DecodeFrom(std::string_view* input);
};

struct Footer {
  BlockHandle filter_handle;
  BlockHandle index_handle;

  static constexpr size_t kHandlesLength = 2 * BlockHandle::kMaxEncodedLength;
  static constexpr size_t kEncodedLength = kHandlesLength + 4 + 8;

  // Appends exactly kEncodedLength bytes.
  void EncodeTo(std::string* dst) const;
  // Parses the last kEncodedLength bytes of a file. Corruption on a wrong size, magic number or
  // version, a malformed handle, or non-zero padding.
  Status DecodeFrom(std::string_view input);
};

constexpr size_t kFooterLength = Footer::kEncodedLength;

// Writes the trailer of a block whose stored bytes are contents, stored with type, into
// trailer[0..kBlockTrailerSize).
void EncodeBlockTrailer(std::string_view contents, CompressionType type, char* trailer);

// The uncompressed contents of a block read from a file, in a heap buffer of exactly size bytes.
struct BlockContents {
  std::unique_ptr<char[]> data;
  size_t size = 0;

  std::string_view view() const { return std::string_view(data.get(), size); }
};

// Reads the block named by handle, which together with its trailer must end at or before
// data_end (the start of the footer, or of a block it must precede). Verifies the checksum,
// decompresses, and stores the uncompressed block in *contents (no zero-fill: one copy, or one
// decompression, straight from what the file returned). Corruption on an out-of-range handle, a
// short read, a checksum mismatch, an unknown compression type or bad compressed data; the file's
// own errors (IOError) are passed on. The one reader of every block: data, index and filter.
//
// Fuzz builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) skip the checksum comparison, so mutated
// blocks reach the block, index and filter parsers.
Status ReadBlock(const RandomAccessFile& file, uint64_t data_end, const BlockHandle& handle,
                 BlockContents* contents);

}  // namespace keyva
