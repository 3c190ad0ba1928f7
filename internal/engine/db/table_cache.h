// TableCache: open SstReaders by file number, at most max_open_files of them (LRU beyond).
//
// A reader handed out stays usable after eviction (shared_ptr); eviction only closes the cache's
// reference. Readers the cache lets go are released after its locks are (closing a file and
// unpinning its index and filter from the BlockCache happen outside them).
//
// Sharded for many reader threads: the files are spread over NumShards() shards by a hash of the
// file number (16 shards, fewer when max_open_files is small: each shard keeps at least
// kMinFilesPerShard files, so below 32 there is one shard and an exact LRU). Each shard has its
// own mutex, map and LRU list, and max_open_files is split among them as evenly as integers allow
// (the parts add up to max_open_files), so at most max_open_files readers are ever held and Get
// on an open file locks one shard for one probe and a list splice. LRU order is per shard.
//
// Opening a file reads its footer, index and filter, so it happens outside the shard's lock; when
// two threads open the same file at once, the first to finish caches its reader and the other
// returns that one (dropping its own).
//
// Thread safety: every method may be called from any thread (the owner thread and reader threads
// read through it; the helper thread's compactions open and evict files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "internal/engine/db/version_edit.h"
#include "internal/engine/env.h"

namespace keyva {

class BlockCache;
class SstReader;

class TableCache {
 public:
  static constexpr size_t kMaxShards = 16;
  static constexpr size_t kMinFilesPerShard = 16;

  // max_open_files <= 0 counts as 1. block_cache may be null; else it must outlive the readers.
  TableCache(Env* env, std::string dir, int max_open_files, BlockCache* block_cache);
  TableCache(const TableCache&) = delete;
  TableCache& operator=(const TableCache&) = delete;
  ~TableCache();

  // The reader of file f, opening it if needed. Corruption/IOError name the file.
  Status Get(const FileMeta& f, std::shared_ptr<SstReader>* reader);
  // Forgets file number (and its cached blocks), e.g. when the file is deleted.
  void Evict(uint64_t number);

  size_t NumShards() const;  // 1..kMaxShards, fixed at construction (a power of two)

 private:
  struct Shard;  // table_cache.cc

  Shard& ShardFor(uint64_t number) const;

  Env* const env_;
  const std::string dir_;
  BlockCache* const block_cache_;
  const unsigned shard_bits_;  // NumShards() == 1 << shard_bits_
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace keyva
