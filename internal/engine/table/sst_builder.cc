// SstBuilder: data blocks, bloom filter, index block and footer; see sst_builder.h.
#include "internal/engine/table/sst_builder.h"

#include <algorithm>

#include "internal/engine/db/dbformat.h"
#include "internal/engine/table/compression.h"

namespace keyva {
namespace {

// A short internal key k with last <= k < next (internal order), for an index entry. Shortens
// the user key when the two user keys differ at a byte that can be incremented; else returns last.
std::string ShortSeparator(std::string_view last, std::string_view next) {
  std::string_view a = ExtractUserKey(last);
  std::string_view b = ExtractUserKey(next);
  const size_t min_length = std::min(a.size(), b.size());
  size_t diff = 0;
  while (diff < min_length && a[diff] == b[diff]) diff++;
  if (diff < min_length) {
    const auto byte = static_cast<unsigned char>(a[diff]);
    // a < separator (byte + 1 at diff) < b, and the separator is shorter than a.
    if (byte < 0xff && byte + 1 < static_cast<unsigned char>(b[diff]) && diff + 1 < a.size()) {
      std::string user(a.substr(0, diff + 1));
      user[diff] = static_cast<char>(byte + 1);
      return MakeInternalKey(user, kMaxSequenceNumber, kValueTypeForSeek);
    }
  }
  return std::string(last);
}

// A short internal key k >= last, for the index entry of the file's last block.
std::string ShortSuccessor(std::string_view last) {
  std::string_view a = ExtractUserKey(last);
  for (size_t i = 0; i + 1 < a.size(); i++) {  // shorter than a only
    const auto byte = static_cast<unsigned char>(a[i]);
    if (byte != 0xff) {
      std::string user(a.substr(0, i + 1));
      user[i] = static_cast<char>(byte + 1);
      return MakeInternalKey(user, kMaxSequenceNumber, kValueTypeForSeek);
    }
  }
  return std::string(last);
}

}  // namespace

SstOptions SstOptions::FromOptions(const Options& options) {
  SstOptions o;
  o.block_size = options.block_size;
  o.restart_interval = options.block_restart_interval;
  o.bloom_bits_per_key = options.bloom_bits_per_key;
  o.compression = options.compression;
  return o;
}

SstBuilder::SstBuilder(const SstOptions& options, WritableFile* file)
    : options_(options),
      file_(file),
      data_block_(options.restart_interval),
      index_block_(1),
      filter_(std::max(options.bloom_bits_per_key, 1)) {}

uint64_t SstBuilder::FileSize() const {
  return offset_ + (data_block_.empty() ? 0 : data_block_.CurrentSizeEstimate());
}

void SstBuilder::Add(std::string_view internal_key, std::string_view value) {
  if (closed_ || !status_.ok()) return;
  if (internal_key.size() < 8) {
    status_ = Status::InvalidArgument("SST key shorter than an internal key");
    return;
  }
  const bool first = num_entries_ == 0;
  if (!first && CompareInternalKeys(internal_key, largest_key_) <= 0) {
    status_ = Status::InvalidArgument("SST keys added out of order");
    return;
  }
  if (pending_index_entry_) AddPendingIndexEntry(internal_key);
  if (options_.bloom_bits_per_key > 0 &&
      (first || ExtractUserKey(internal_key) != ExtractUserKey(largest_key_))) {
    filter_.AddKey(ExtractUserKey(internal_key));
  }
  if (first) smallest_key_.assign(internal_key);
  largest_key_.assign(internal_key);
  num_entries_++;
  data_block_.Add(internal_key, value);
  if (data_block_.CurrentSizeEstimate() >= options_.block_size) FlushDataBlock();
}

void SstBuilder::AddPendingIndexEntry(std::string_view next_key) {
  std::string separator =
      next_key.empty() ? ShortSuccessor(largest_key_) : ShortSeparator(largest_key_, next_key);
  std::string handle;
  pending_handle_.EncodeTo(&handle);
  index_block_.Add(separator, handle);
  pending_index_entry_ = false;
}

void SstBuilder::FlushDataBlock() {
  if (data_block_.empty() || !status_.ok()) return;
  WriteBlock(data_block_.Finish(), options_.compression, &pending_handle_);
  data_block_.Reset();
  if (status_.ok()) pending_index_entry_ = true;
}

void SstBuilder::WriteBlock(std::string_view raw, CompressionType type, BlockHandle* handle) {
  if (type != CompressionType::kNone && CompressBlock(type, raw, &compressed_) &&
      ShouldStoreCompressed(raw.size(), compressed_.size())) {
    WriteStoredBlock(compressed_, type, handle);
  } else {
    WriteStoredBlock(raw, CompressionType::kNone, handle);
  }
}

void SstBuilder::WriteStoredBlock(std::string_view stored, CompressionType type,
                                  BlockHandle* handle) {
  if (!status_.ok()) return;
  handle->offset = offset_;
  handle->size = stored.size();
  char trailer[kBlockTrailerSize];
  EncodeBlockTrailer(stored, type, trailer);
  status_ = file_->Append(stored);
  if (status_.ok()) status_ = file_->Append(std::string_view(trailer, kBlockTrailerSize));
  if (status_.ok()) offset_ += stored.size() + kBlockTrailerSize;
}

Status SstBuilder::Finish() {
  if (closed_)
    return status_.ok() ? Status::InvalidArgument("SST builder already closed") : status_;
  FlushDataBlock();
  closed_ = true;

  Footer footer;  // filter_handle stays empty without a filter
  if (options_.bloom_bits_per_key > 0) {
    WriteStoredBlock(filter_.Finish(), CompressionType::kNone, &footer.filter_handle);
  }
  if (pending_index_entry_) AddPendingIndexEntry(std::string_view());
  WriteBlock(index_block_.Finish(), options_.compression, &footer.index_handle);
  if (!status_.ok()) return status_;

  std::string encoded;
  footer.EncodeTo(&encoded);
  status_ = file_->Append(encoded);
  if (status_.ok()) offset_ += encoded.size();
  return status_;
}

void SstBuilder::Abandon() { closed_ = true; }

}  // namespace keyva
