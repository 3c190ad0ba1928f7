// EngineAdapter for LevelDB (Debian's libleveldb-dev).
//
// Settings: leveldb::Options defaults (Snappy compression, 4 MiB write buffer, 2 MiB files,
// max_open_files 1000) except create_if_missing/error_if_exists, an 8 MiB LRU block cache and a
// 10 bits/key bloom filter (from AdapterConfig). Writes use WriteOptions{sync = false} (the
// default) except synced writes (sync = true).
//
// Settle: LevelDB has no way to wait for compactions, nor a property that says one is pending.
// Settle() polls every 100 ms until (a) LevelDB's own compaction triggers are quiet, as read
// from the "leveldb.stats" property (L0 below 4 files, level L >= 1 below 10^L MiB), and (b)
// neither that property nor the directory listing (names and sizes) changed for 500 ms, which
// catches a compaction still writing its output. It gives up after 120 s.
//
// Threading: Get is thread-safe (LevelDB's DB is).
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "bench/engine/engine_adapter.h"

namespace keyva::bench {
namespace {

Status ToStatus(const leveldb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound("");
  return Status::IOError("leveldb: " + s.ToString());
}

class LevelDbAdapter final : public EngineAdapter {
 public:
  ~LevelDbAdapter() override { (void)Close(); }  // a destructor cannot report; runs call Close()

  std::string Name() const override { return "leveldb"; }
  std::string Version() const override {
    return std::to_string(leveldb::kMajorVersion) + "." + std::to_string(leveldb::kMinorVersion);
  }
  bool ThreadSafeReads() const override { return true; }

  Status Open(const std::string& dir, bool fresh, const AdapterConfig& config) override {
    dir_ = dir;
    cache_.reset(leveldb::NewLRUCache(config.block_cache_bytes));
    filter_.reset(leveldb::NewBloomFilterPolicy(config.bloom_bits_per_key));
    options_ = leveldb::Options();
    options_.create_if_missing = fresh;
    options_.error_if_exists = fresh;
    options_.block_cache = cache_.get();
    options_.filter_policy = filter_.get();
    cache_bytes_ = config.block_cache_bytes;
    bloom_bits_ = config.bloom_bits_per_key;
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options_, dir, &db);
    db_.reset(db);
    return ToStatus(s);
  }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return ToStatus(db_->Put(wo, Slice(key), Slice(value)));
  }

  Status Delete(std::string_view key, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return ToStatus(db_->Delete(wo, Slice(key)));
  }

  Status Get(std::string_view key, std::string* value) override {
    return ToStatus(db_->Get(leveldb::ReadOptions(), Slice(key), value));
  }

  Status Scan(std::string_view start, size_t n, const ScanVisitor& visit) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    if (start.empty()) {
      it->SeekToFirst();
    } else {
      it->Seek(Slice(start));
    }
    for (size_t i = 0; i < n && it->Valid(); ++i) {
      if (!visit(View(it->key()), View(it->value()))) break;
      it->Next();
    }
    return ToStatus(it->status());
  }

  Status Settle() override {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    std::string last;
    auto last_change = Clock::now();
    while (Clock::now() < deadline) {
      std::string stats;
      db_->GetProperty("leveldb.stats", &stats);
      std::string now = stats + DirSignature();
      if (now != last) {
        last = now;
        last_change = Clock::now();
      } else if (TriggersQuiet(stats) &&
                 Clock::now() - last_change >= std::chrono::milliseconds(500)) {
        return Status::OK();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Status::OK();  // best effort: LevelDB offers nothing better
  }

  Status Close() override {
    db_.reset();  // LevelDB closes in its destructor, waiting for a running compaction
    return Status::OK();
  }

  std::vector<Setting> Settings() const override {
    return {
        {"compression", options_.compression == leveldb::kSnappyCompression ? "snappy" : "none"},
        {"block_cache_bytes", std::to_string(cache_bytes_)},
        {"bloom_bits_per_key", std::to_string(bloom_bits_)},
        {"write_buffer_size", std::to_string(options_.write_buffer_size)},
        {"block_size", std::to_string(options_.block_size)},
        {"max_file_size", std::to_string(options_.max_file_size)},
        {"max_open_files", std::to_string(options_.max_open_files)},
        {"write", "DB::Put/Delete, WriteOptions{sync=false|true}"},
    };
  }

  std::vector<Setting> Stats() override {
    std::string shape;
    for (int level = 0; level < 7; ++level) {
      std::string v;
      db_->GetProperty("leveldb.num-files-at-level" + std::to_string(level), &v);
      shape += (level > 0 ? "," : "") + v;
    }
    return {{"files_per_level", shape}};
  }

 private:
  static leveldb::Slice Slice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }
  static std::string_view View(const leveldb::Slice& s) { return {s.data(), s.size()}; }

  // True when no level meets LevelDB's size-compaction trigger, per the "leveldb.stats" table
  // (rows: level, files, size MB, time, read MB, write MB).
  static bool TriggersQuiet(const std::string& stats) {
    std::istringstream in(stats);
    std::string line;
    bool table = false;
    while (std::getline(in, line)) {
      if (line.rfind("----", 0) == 0) {
        table = true;
        continue;
      }
      if (!table) continue;
      std::istringstream row(line);
      int level = 0, files = 0;
      double size_mb = 0;
      if (!(row >> level >> files >> size_mb)) continue;
      if (level == 0 && files >= 4) return false;
      if (level >= 1) {
        double limit_mb = 10;
        for (int l = 1; l < level; ++l) limit_mb *= 10;
        if (size_mb > limit_mb) return false;
      }
    }
    return true;
  }

  std::string DirSignature() const {
    std::string sig;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      std::error_code size_ec;
      uint64_t size = entry.file_size(size_ec);
      sig += entry.path().filename().string() + ":" + std::to_string(size_ec ? 0 : size) + ";";
    }
    return sig;
  }

  std::string dir_;
  leveldb::Options options_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  size_t cache_bytes_ = 0;
  int bloom_bits_ = 0;
};

}  // namespace

std::unique_ptr<EngineAdapter> NewLevelDbAdapter() { return std::make_unique<LevelDbAdapter>(); }

}  // namespace keyva::bench
