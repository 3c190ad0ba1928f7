// SstBuilder: writes one sorted-string-table file from entries added in internal-key order.
//
// The builder cuts data blocks of about options.block_size uncompressed bytes, compresses each
// with options.compression when that saves at least 1/8 (else stores it raw), collects the user
// keys into one bloom filter for the file, and on Finish writes the filter block, the index block
// (one entry per data block: a separator key >= the block's last key and < the next block's first
// key, and the block's handle) and the footer. See sst_format.h and docs/formats_sst.md.
//
// Errors are sticky: after the first failed write (or a contract violation such as an
// out-of-order key), every later call is a no-op and status()/Finish() return that error.
// The builder never syncs or closes the file; the caller does, after Finish().
//
// Thread safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "internal/engine/env.h"
#include "internal/engine/options.h"
#include "internal/engine/status.h"
#include "internal/engine/table/block_builder.h"
#include "internal/engine/table/bloom.h"
#include "internal/engine/table/sst_format.h"

namespace keyva {

struct SstOptions {
  // Uncompressed size at which a data block is cut (a block may exceed it by one entry).
  size_t block_size = 4096;
  // Entries between restart points inside a data block.
  int restart_interval = 16;
  // Bloom filter bits per user key; 0 writes no filter block.
  int bloom_bits_per_key = 10;
  // Compression tried for data and index blocks (the filter block is always stored raw).
  CompressionType compression = CompressionType::kLz4;

  // The SST-related fields of the engine options.
  static SstOptions FromOptions(const Options& options);
};

class SstBuilder {
 public:
  // Writes to file, which must be empty; the builder does not own it and it must outlive the
  // builder.
  SstBuilder(const SstOptions& options, WritableFile* file);
  SstBuilder(const SstBuilder&) = delete;
  SstBuilder& operator=(const SstBuilder&) = delete;

  // REQUIRES: Finish()/Abandon() not called; internal_key is an internal key (>= 8 bytes) strictly
  // after the previous one in internal order (CompareInternalKeys). A violation is reported as an
  // InvalidArgument status and stops the builder.
  void Add(std::string_view internal_key, std::string_view value);

  // Writes the last data block, the filter block, the index block and the footer. Returns the
  // first error met while building, if any. Does not Sync or Close the file.
  // REQUIRES: Finish()/Abandon() not called yet.
  Status Finish();

  // Gives up on the file: later calls write nothing. The caller deletes the file.
  void Abandon();

  Status status() const { return status_; }
  uint64_t NumEntries() const { return num_entries_; }
  // Bytes appended to the file so far plus the uncompressed size of the data block being built;
  // after Finish(), exactly the size of the file.
  uint64_t FileSize() const;
  // The first and last internal keys added (empty when none).
  const std::string& smallest_key() const { return smallest_key_; }
  const std::string& largest_key() const { return largest_key_; }

 private:
  // Writes the pending data block (if any) and remembers its handle for the index.
  void FlushDataBlock();
  // Adds the index entry of the last written data block; next_key is the first key of the next
  // block, or empty at the end of the file.
  void AddPendingIndexEntry(std::string_view next_key);
  // Compresses raw with type when worthwhile, then writes it with its trailer.
  void WriteBlock(std::string_view raw, CompressionType type, BlockHandle* handle);
  void WriteStoredBlock(std::string_view stored, CompressionType type, BlockHandle* handle);

  const SstOptions options_;
  WritableFile* const file_;
  Status status_;
  bool closed_ = false;  // Finish() or Abandon() called
  uint64_t offset_ = 0;  // bytes appended to file_
  uint64_t num_entries_ = 0;

  BlockBuilder data_block_;
  BlockBuilder index_block_;
  BloomFilterBuilder filter_;
  std::string compressed_;  // scratch for compression

  std::string smallest_key_;
  std::string largest_key_;  // also the last key added
  bool pending_index_entry_ = false;
  BlockHandle pending_handle_;  // handle of the last data block written
};

}  // namespace keyva
