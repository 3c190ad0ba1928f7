#include "internal/engine/db/table_cache.h"

#include "internal/engine/db/filename.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_reader.h"

namespace keyva {

TableCache::TableCache(Env* env, std::string dir, int max_open_files, BlockCache* block_cache)
    : env_(env),
      dir_(std::move(dir)),
      capacity_(max_open_files > 0 ? static_cast<size_t>(max_open_files) : 1),
      block_cache_(block_cache) {}

Status TableCache::Get(const FileMeta& f, std::shared_ptr<SstReader>* reader) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = map_.find(f.number);
    if (it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
      *reader = it->second.reader;
      return Status::OK();
    }
  }
  // Open outside the lock: it reads the footer, index and filter.
  std::string name = SstFileName(dir_, f.number);
  std::unique_ptr<RandomAccessFile> file;
  Status s = env_->NewRandomAccessFile(name, &file);
  if (!s.ok()) {
    if (s.IsNotFound()) return Status::Corruption(name + ": live table file is missing");
    return s;
  }
  std::shared_ptr<SstReader> opened;
  s = SstReader::Open(std::move(file), f.file_size, f.number, name, block_cache_, &opened);
  if (!s.ok()) return s;

  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find(f.number);
  if (it != map_.end()) {  // another thread opened it meanwhile
    *reader = it->second.reader;
    return Status::OK();
  }
  lru_.push_front(f.number);
  map_[f.number] = Entry{opened, lru_.begin()};
  while (map_.size() > capacity_) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
  *reader = std::move(opened);
  return Status::OK();
}

void TableCache::Evict(uint64_t number) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = map_.find(number);
    if (it != map_.end()) {
      lru_.erase(it->second.lru_pos);
      map_.erase(it);
    }
  }
  if (block_cache_) block_cache_->EraseFile(number);
}

}  // namespace keyva
