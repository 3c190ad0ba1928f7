// SstReader: an open SST file — point lookups, iteration and verification.
//
// Open reads the footer, then the index block and the filter block, verifies their checksums and
// keeps them in memory for the reader's lifetime. Their memory (IndexAndFilterBytes) is paid for
// out of the block cache's budget: the reader pins that many bytes in the cache while it lives, so
// open files push cached data blocks out rather than adding memory beside the cache. Data blocks
// are read on demand: from the block cache when it has them, else from the file (checksum-verified,
// decompressed, parsed) and then, if fill_cache and the cache admits it (a block read a second time
// soon; BlockCache::Admit), inserted into the cache under (file_number, block offset).
//
// Layout rules a reader enforces besides the checksums (docs/formats.md, SST): the index block ends
// exactly where the footer starts, the filter block (when present) ends exactly where the index
// block starts, and every data block lies before the first of them. A file breaking any rule,
// or with a damaged block, yields Corruption naming the file; a reader never returns data from a
// block whose checksum failed.
//
// Thread safety: after Open a reader is immutable; Get, NewIterator, KeyMayMatch and
// VerifyChecksums may run concurrently from many threads. Iterators hold a shared_ptr to the
// reader, so a reader lives until its last iterator is gone; each iterator is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "internal/engine/env.h"
#include "internal/engine/iterator.h"
#include "internal/engine/status.h"
#include "internal/engine/table/block.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_format.h"

namespace keyva {

class SstReader : public std::enable_shared_from_this<SstReader> {
 public:
  // Opens the SST in file, whose size is file_size. file_number keys its blocks in cache (which
  // may be null: no caching; else it must outlive the reader); file_name prefixes Corruption
  // messages. On success *reader holds the reader, which owns file. Corruption when the footer,
  // index or filter is bad; IOError when the file cannot be read.
  static Status Open(std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
                     uint64_t file_number, const std::string& file_name, BlockCache* cache,
                     std::shared_ptr<SstReader>* reader);

  SstReader(const SstReader&) = delete;
  SstReader& operator=(const SstReader&) = delete;
  ~SstReader();  // unpins IndexAndFilterBytes() from the cache

  // An iterator over the file's internal keys and values. It holds a shared_ptr to this reader.
  // fill_cache=false: blocks it reads from disk are not inserted into the cache (compactions);
  // cached blocks are still used. On a damaged block it becomes invalid with a Corruption status,
  // and stays so (errors are sticky).
  std::unique_ptr<Iterator> NewIterator(bool fill_cache) const;

  // Point lookup. lookup_key is MakeInternalKey(user_key, snapshot_seq, kValueTypeForSeek).
  // Consults the bloom filter, then finds the first entry >= lookup_key; if it has the same user
  // key, sets *found = true, *internal_key and *value; else *found = false. Returns OK in both
  // cases; Corruption if a block it needs is damaged (then *found = false), InvalidArgument if
  // lookup_key is shorter than 8 bytes.
  Status Get(std::string_view lookup_key, bool fill_cache, bool* found, std::string* internal_key,
             std::string* value) const;

  // Get for a caller that already has Hash64(user key of lookup_key) (one hash for every file a
  // DB lookup probes).
  Status GetWithHash(std::string_view lookup_key, uint64_t user_key_hash, bool fill_cache,
                     bool* found, std::string* internal_key, std::string* value) const;

  // The bloom filter alone: false only if no entry of this file has user_key. True when the file
  // has no filter.
  bool KeyMayMatch(std::string_view user_key) const;
  // The same with user_key_hash = Hash64(user_key).
  bool KeyHashMayMatch(uint64_t user_key_hash) const;

  // Reads every block from disk (bypassing the cache) and checks its checksum, its structure and
  // the order of all keys. OK, or Corruption/IOError describing the first problem.
  Status VerifyChecksums() const;

  // Memory held by the index and filter blocks of this reader (pinned in the cache).
  size_t IndexAndFilterBytes() const;

  uint64_t file_number() const { return file_number_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& file_name() const { return file_name_; }
  bool has_filter() const { return has_filter_; }

 private:
  friend class SstIterator;

  SstReader(std::unique_ptr<RandomAccessFile> file, uint64_t file_size, uint64_t file_number,
            std::string file_name, BlockCache* cache);

  // Corruption messages get the file name in front; other statuses pass through.
  Status Annotate(const Status& s) const;
  // Decodes the handle stored as an index entry's value (exactly one handle, nothing after it).
  Status DecodeDataHandle(std::string_view index_value, BlockHandle* handle) const;
  // The data block at handle, from the cache or the file. Errors are annotated.
  Status ReadDataBlock(const BlockHandle& handle, bool fill_cache,
                       std::shared_ptr<const Block>* block) const;

  const std::unique_ptr<RandomAccessFile> file_;
  const uint64_t file_size_;
  const uint64_t file_number_;
  const std::string file_name_;
  BlockCache* const cache_;

  BlockHandle index_handle_;
  BlockHandle filter_handle_;
  uint64_t data_end_ = 0;  // data blocks (with trailers) end at or before this offset
  std::shared_ptr<const Block> index_block_;
  bool has_filter_ = false;
  BlockContents filter_;
  size_t pinned_ = 0;  // bytes pinned in cache_
};

}  // namespace keyva
