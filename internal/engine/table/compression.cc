// Block compression: see compression.h for the encodings and the hostile-input rules.
#include "internal/engine/table/compression.h"

#include <lz4.h>
#include <zstd.h>

#include "internal/engine/util/coding.h"

namespace keyva {
namespace {

constexpr int kZstdLevel = 1;

bool Lz4Compress(std::string_view input, std::string* output) {
  if (input.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return false;
  output->clear();
  PutVarint32(output, static_cast<uint32_t>(input.size()));
  size_t header = output->size();
  int bound = LZ4_compressBound(static_cast<int>(input.size()));
  if (bound <= 0) return false;
  output->resize(header + static_cast<size_t>(bound));
  int n = LZ4_compress_default(input.data(), output->data() + header,
                               static_cast<int>(input.size()), bound);
  if (n <= 0) return false;
  output->resize(header + static_cast<size_t>(n));
  return true;
}

// Reads the varint uncompressed size in front of an lz4 block (removing it from *input) and checks
// both sizes against the limits.
Status ParseLz4Header(std::string_view* input, uint32_t* raw_size) {
  if (!GetVarint32(input, raw_size)) {
    return Status::Corruption("lz4 block: bad uncompressed size");
  }
  if (*raw_size > kMaxUncompressedBlockSize) {
    return Status::Corruption("lz4 block: uncompressed size " + std::to_string(*raw_size) +
                              " exceeds the limit");
  }
  if (input->size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
    return Status::Corruption("lz4 block: compressed input too large");
  }
  return Status::OK();
}

bool ZstdCompress(std::string_view input, std::string* output) {
  size_t bound = ZSTD_compressBound(input.size());
  if (ZSTD_isError(bound)) return false;
  output->resize(bound);
  size_t n = ZSTD_compress(output->data(), bound, input.data(), input.size(), kZstdLevel);
  if (ZSTD_isError(n)) return false;
  output->resize(n);
  return true;
}

// Reads the uncompressed size a zstd frame header records and checks it against the limit.
Status ParseZstdHeader(std::string_view input, size_t* raw_size) {
  unsigned long long content = ZSTD_getFrameContentSize(input.data(), input.size());
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Status::Corruption("zstd block: bad frame header");
  }
  if (content > kMaxUncompressedBlockSize) {
    return Status::Corruption("zstd block: uncompressed size " + std::to_string(content) +
                              " exceeds the limit");
  }
  *raw_size = static_cast<size_t>(content);
  return Status::OK();
}

Status Lz4Uncompress(std::string_view input, std::unique_ptr<char[]>* output, size_t* size) {
  uint32_t raw_size;
  Status s = ParseLz4Header(&input, &raw_size);
  if (!s.ok()) return s;
  std::unique_ptr<char[]> buf(new char[raw_size == 0 ? 1 : raw_size]);
  int n = LZ4_decompress_safe(input.data(), buf.get(), static_cast<int>(input.size()),
                              static_cast<int>(raw_size));
  if (n < 0 || static_cast<uint32_t>(n) != raw_size) {
    return Status::Corruption("lz4 block: malformed compressed data");
  }
  *output = std::move(buf);
  *size = raw_size;
  return Status::OK();
}

Status ZstdUncompress(std::string_view input, std::unique_ptr<char[]>* output, size_t* size) {
  size_t raw_size;
  Status s = ParseZstdHeader(input, &raw_size);
  if (!s.ok()) return s;
  std::unique_ptr<char[]> buf(new char[raw_size == 0 ? 1 : raw_size]);
  size_t n = ZSTD_decompress(buf.get(), raw_size, input.data(), input.size());
  if (ZSTD_isError(n) || n != raw_size) {
    return Status::Corruption("zstd block: malformed compressed data");
  }
  *output = std::move(buf);
  *size = raw_size;
  return Status::OK();
}

}  // namespace

bool IsKnownCompressionType(uint8_t type) {
  return type == static_cast<uint8_t>(CompressionType::kNone) ||
         type == static_cast<uint8_t>(CompressionType::kLz4) ||
         type == static_cast<uint8_t>(CompressionType::kZstd);
}

bool CompressBlock(CompressionType type, std::string_view input, std::string* output) {
  if (input.size() > kMaxUncompressedBlockSize) return false;
  switch (type) {
    case CompressionType::kLz4:
      return Lz4Compress(input, output);
    case CompressionType::kZstd:
      return ZstdCompress(input, output);
    case CompressionType::kNone:
      break;
  }
  return false;
}

Status UncompressBlock(CompressionType type, std::string_view input,
                       std::unique_ptr<char[]>* output, size_t* size) {
  switch (type) {
    case CompressionType::kLz4:
      return Lz4Uncompress(input, output, size);
    case CompressionType::kZstd:
      return ZstdUncompress(input, output, size);
    case CompressionType::kNone:
      break;
  }
  return Status::Corruption("unknown compression type " +
                            std::to_string(static_cast<unsigned>(type)));
}

Status UncompressBlock(CompressionType type, std::string_view input, std::string* output) {
  std::unique_ptr<char[]> buf;
  size_t size = 0;
  Status s = UncompressBlock(type, input, &buf, &size);
  if (s.ok()) output->assign(buf.get(), size);
  return s;
}

}  // namespace keyva
