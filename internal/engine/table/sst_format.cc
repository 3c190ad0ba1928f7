// Block handles, trailers, footer and ReadBlock; see sst_format.h.
#include "internal/engine/table/sst_format.h"

#include <cstring>

#include "internal/engine/table/compression.h"
#include "internal/engine/util/coding.h"
#include "internal/engine/util/hash.h"

namespace keyva {

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset);
  PutVarint64(dst, size);
}

Status BlockHandle::DecodeFrom(std::string_view* input) {
  // Each varint must be in its shortest form: a longer one (a redundant 0x80 .. 0x00 tail) would
  // let a damaged byte of the footer, which has no checksum, decode to the same handle unnoticed.
  auto shortest = [input](uint64_t* v) {
    const size_t before = input->size();
    return GetVarint64(input, v) && before - input->size() == static_cast<size_t>(VarintLength(*v));
  };
  if (shortest(&offset) && shortest(&size)) return Status::OK();
  return Status::Corruption("bad block handle");
}

void Footer::EncodeTo(std::string* dst) const {
  const size_t start = dst->size();
  filter_handle.EncodeTo(dst);
  index_handle.EncodeTo(dst);
  dst->resize(start + kHandlesLength, '\0');
  PutFixed32(dst, kSstFormatVersion);
  PutFixed64(dst, kSstMagicNumber);
}

Status Footer::DecodeFrom(std::string_view input) {
  if (input.size() != kEncodedLength) return Status::Corruption("bad footer size");
  if (DecodeFixed64(input.data() + kHandlesLength + 4) != kSstMagicNumber) {
    return Status::Corruption("not an SST file (bad magic number)");
  }
  const uint32_t version = DecodeFixed32(input.data() + kHandlesLength);
  if (version != kSstFormatVersion) {
    return Status::Corruption("unsupported SST format version " + std::to_string(version));
  }
  std::string_view handles = input.substr(0, kHandlesLength);
  Status s = filter_handle.DecodeFrom(&handles);
  if (s.ok()) s = index_handle.DecodeFrom(&handles);
  if (!s.ok()) return Status::Corruption("bad block handle in footer");
  for (char c : handles) {
    if (c != 0) return Status::Corruption("non-zero footer padding");
  }
  return Status::OK();
}

void EncodeBlockTrailer(std::string_view contents, CompressionType type, char* trailer) {
  trailer[0] = static_cast<char>(type);
  EncodeFixed32(trailer + 1, Checksum32(contents, std::string_view(trailer, 1)));
}

Status ReadBlock(const RandomAccessFile& file, uint64_t data_end, const BlockHandle& handle,
                 BlockContents* contents) {
  auto where = [&] {
    return " (block at offset " + std::to_string(handle.offset) + ", size " +
           std::to_string(handle.size) + ")";
  };
  if (handle.size > data_end || handle.offset > data_end - handle.size ||
      data_end - handle.size - handle.offset < kBlockTrailerSize) {
    return Status::Corruption("block handle out of range" + where());
  }
  const size_t n = static_cast<size_t>(handle.size);
  const size_t total = n + kBlockTrailerSize;
  // Small blocks are read into the stack; the block's own buffer is then allocated once, at its
  // final size (a memory-mapped file returns its own pointer and never touches scratch).
  char stack[16384];
  std::unique_ptr<char[]> heap;
  char* scratch = stack;
  if (total > sizeof(stack)) {
    heap.reset(new char[total]);
    scratch = heap.get();
  }
  std::string_view result;
  Status s = file.Read(handle.offset, total, &result, scratch);
  if (!s.ok()) return s;
  if (result.size() != total) return Status::Corruption("truncated block" + where());
  std::string_view stored = result.substr(0, n);
  const char* trailer = result.data() + n;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  constexpr bool kCompareChecksums = false;  // fuzz builds: mutated blocks reach the parsers
#else
  constexpr bool kCompareChecksums = true;
#endif
  if (kCompareChecksums &&
      Checksum32(stored, std::string_view(trailer, 1)) != DecodeFixed32(trailer + 1)) {
    return Status::Corruption("block checksum mismatch" + where());
  }
  const auto type_byte = static_cast<uint8_t>(trailer[0]);
  if (!IsKnownCompressionType(type_byte)) {
    return Status::Corruption("unknown block compression type " + std::to_string(type_byte) +
                              where());
  }
  const auto type = static_cast<CompressionType>(type_byte);
  if (type == CompressionType::kNone) {
    if (heap && result.data() == heap.get()) {
      contents->data = std::move(heap);  // (the trailer stays behind the end, unused)
    } else {
      contents->data.reset(new char[n == 0 ? 1 : n]);
      if (n > 0) std::memcpy(contents->data.get(), stored.data(), n);
    }
    contents->size = n;
    return Status::OK();
  }
  s = UncompressBlock(type, stored, &contents->data, &contents->size);
  if (!s.ok()) return Status::Corruption(s.message() + where());
  return Status::OK();
}

}  // namespace keyva
