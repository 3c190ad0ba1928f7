// TableCache: shards, each a map by file number plus an LRU list; see table_cache.h.
#include "internal/engine/db/table_cache.h"

#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "internal/engine/db/filename.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/util/hash.h"
#include "internal/engine/util/sharding.h"

namespace keyva {
namespace {

size_t OpenFileLimit(int max_open_files) {
  return max_open_files > 0 ? static_cast<size_t>(max_open_files) : 1;
}

// File numbers are handed out in sequence, with WAL and manifest numbers in between, so they
// are mixed (splitmix64's finalizer) before their top bits pick a shard.
uint64_t MixNumber(uint64_t number) { return MixBits64(number * 0x9e3779b97f4a7c15ull); }

}  // namespace

// One shard; aligned to a cache line so that neighbouring shards' locks do not share one.
struct alignas(64) TableCache::Shard {
  struct Entry {
    std::shared_ptr<SstReader> reader;
    std::list<uint64_t>::iterator lru_pos;
  };

  size_t capacity = 0;  // its part of max_open_files, fixed at construction
  std::mutex mu;
  std::unordered_map<uint64_t, Entry> map;
  std::list<uint64_t> lru;  // front = most recently used
};

TableCache::TableCache(Env* env, std::string dir, int max_open_files, BlockCache* block_cache)
    : env_(env),
      dir_(std::move(dir)),
      block_cache_(block_cache),
      shard_bits_(ShardBitsFor(OpenFileLimit(max_open_files), kMaxShards, kMinFilesPerShard)),
      shards_(std::make_unique<Shard[]>(size_t{1} << shard_bits_)) {
  // Split as evenly as integers allow; every part is at least 1 (NumShards() <= the limit).
  const size_t limit = OpenFileLimit(max_open_files);
  for (size_t i = 0; i < NumShards(); i++) shards_[i].capacity = EvenShare(limit, shard_bits_, i);
}

TableCache::~TableCache() = default;

size_t TableCache::NumShards() const { return size_t{1} << shard_bits_; }

TableCache::Shard& TableCache::ShardFor(uint64_t number) const {
  return shards_[ShardOf(MixNumber(number), shard_bits_)];
}

Status TableCache::Get(const FileMeta& f, std::shared_ptr<SstReader>* reader) {
  Shard& shard = ShardFor(f.number);
  {
    std::lock_guard<std::mutex> l(shard.mu);
    auto it = shard.map.find(f.number);
    if (it != shard.map.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru_pos);
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

  // Readers dropped below (ours if another thread won, or evicted ones) are released after the
  // lock is let go: that closes files and unpins their index and filter bytes.
  std::vector<std::shared_ptr<SstReader>> dropped;
  std::lock_guard<std::mutex> l(shard.mu);
  auto it = shard.map.find(f.number);
  if (it != shard.map.end()) {  // another thread opened it meanwhile
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru_pos);
    *reader = it->second.reader;
    dropped.push_back(std::move(opened));
    return Status::OK();
  }
  shard.lru.push_front(f.number);
  shard.map[f.number] = Shard::Entry{opened, shard.lru.begin()};
  while (shard.map.size() > shard.capacity) {
    auto victim = shard.map.find(shard.lru.back());
    dropped.push_back(std::move(victim->second.reader));
    shard.map.erase(victim);
    shard.lru.pop_back();
  }
  *reader = std::move(opened);
  return Status::OK();
}

void TableCache::Evict(uint64_t number) {
  std::shared_ptr<SstReader> dropped;  // released after the lock is let go
  {
    Shard& shard = ShardFor(number);
    std::lock_guard<std::mutex> l(shard.mu);
    auto it = shard.map.find(number);
    if (it != shard.map.end()) {
      dropped = std::move(it->second.reader);
      shard.lru.erase(it->second.lru_pos);
      shard.map.erase(it);
    }
  }
  if (block_cache_) block_cache_->EraseFile(number);
}

}  // namespace keyva
