// TableCache: open SstReaders by file number, at most max_open_files of them (LRU beyond).
//
// A reader handed out stays usable after eviction (shared_ptr); eviction only closes the cache's
// reference. Thread-safe: the owner thread (reads) and the helper thread (compaction) share it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "internal/engine/db/version_edit.h"
#include "internal/engine/env.h"

namespace keyva {

class BlockCache;
class SstReader;

class TableCache {
 public:
  TableCache(Env* env, std::string dir, int max_open_files, BlockCache* block_cache);

  // The reader of file f, opening it if needed. Corruption/IOError name the file.
  Status Get(const FileMeta& f, std::shared_ptr<SstReader>* reader);
  // Forgets file number (and its cached blocks), e.g. when the file is deleted.
  void Evict(uint64_t number);

 private:
  struct Entry {
    std::shared_ptr<SstReader> reader;
    std::list<uint64_t>::iterator lru_pos;
  };

  Env* env_;
  std::string dir_;
  size_t capacity_;
  BlockCache* block_cache_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Entry> map_;
  std::list<uint64_t> lru_;  // front = most recently used
};

}  // namespace keyva
