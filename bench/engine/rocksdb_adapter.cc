// EngineAdapter for RocksDB (Debian's librocksdb-dev).
//
// Settings: rocksdb::Options defaults (compression, write buffer, level sizes, background jobs,
// max_open_files) except create_if_missing/error_if_exists, an 8 MiB LRU block cache and a
// 10 bits/key bloom filter in the block-based table (from AdapterConfig). Writes use
// WriteOptions{sync = false} (the default: WAL written to the OS, not fsynced) except synced
// writes (sync = true).
//
// Settle: RocksDB 7.8 has no WaitForCompact(), so Settle() polls the properties
// mem-table-flush-pending, num-running-flushes, compaction-pending and num-running-compactions
// every 10 ms until all are zero twice in a row.
//
// Threading: Get is thread-safe (RocksDB's DB is).
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>

#include <chrono>
#include <thread>

#include "bench/engine/engine_adapter.h"

namespace keyva::bench {
namespace {

Status ToStatus(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound("");
  return Status::IOError("rocksdb: " + s.ToString());
}

const char* CompressionName(rocksdb::CompressionType c) {
  switch (c) {
    case rocksdb::kNoCompression:
      return "none";
    case rocksdb::kSnappyCompression:
      return "snappy";
    case rocksdb::kZlibCompression:
      return "zlib";
    case rocksdb::kBZip2Compression:
      return "bzip2";
    case rocksdb::kLZ4Compression:
      return "lz4";
    case rocksdb::kLZ4HCCompression:
      return "lz4hc";
    case rocksdb::kZSTD:
      return "zstd";
    default:
      return "other";
  }
}

class RocksDbAdapter final : public EngineAdapter {
 public:
  ~RocksDbAdapter() override { (void)Close(); }  // a destructor cannot report; runs call Close()

  std::string Name() const override { return "rocksdb"; }
  std::string Version() const override {
    return std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
           std::to_string(ROCKSDB_PATCH);
  }
  bool ThreadSafeReads() const override { return true; }

  Status Open(const std::string& dir, bool fresh, const AdapterConfig& config) override {
    options_ = rocksdb::Options();
    options_.create_if_missing = fresh;
    options_.error_if_exists = fresh;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(config.block_cache_bytes);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(config.bloom_bits_per_key));
    block_size_ = table.block_size;
    options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options_, dir, &db);
    db_.reset(db);
    cache_bytes_ = config.block_cache_bytes;
    bloom_bits_ = config.bloom_bits_per_key;
    return ToStatus(s);
  }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return ToStatus(db_->Put(wo, Slice(key), Slice(value)));
  }

  Status Delete(std::string_view key, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return ToStatus(db_->Delete(wo, Slice(key)));
  }

  Status Get(std::string_view key, std::string* value) override {
    return ToStatus(db_->Get(rocksdb::ReadOptions(), Slice(key), value));
  }

  Status Scan(std::string_view start, size_t n, const ScanVisitor& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
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
    int quiet = 0;
    while (quiet < 2) {
      uint64_t busy = Prop(rocksdb::DB::Properties::kMemTableFlushPending) +
                      Prop(rocksdb::DB::Properties::kNumRunningFlushes) +
                      Prop(rocksdb::DB::Properties::kCompactionPending) +
                      Prop(rocksdb::DB::Properties::kNumRunningCompactions);
      quiet = busy == 0 ? quiet + 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Status::OK();
  }

  Status Close() override {
    if (!db_) return Status::OK();
    rocksdb::Status s = db_->Close();
    db_.reset();
    return ToStatus(s);
  }

  std::vector<Setting> Settings() const override {
    return {
        {"compression", CompressionName(options_.compression)},
        {"block_cache_bytes", std::to_string(cache_bytes_)},
        {"bloom_bits_per_key", std::to_string(bloom_bits_)},
        {"write_buffer_size", std::to_string(options_.write_buffer_size)},
        {"max_write_buffer_number", std::to_string(options_.max_write_buffer_number)},
        {"block_size", std::to_string(block_size_)},
        {"target_file_size_base", std::to_string(options_.target_file_size_base)},
        {"max_bytes_for_level_base", std::to_string(options_.max_bytes_for_level_base)},
        {"max_background_jobs", std::to_string(options_.max_background_jobs)},
        {"max_open_files", std::to_string(options_.max_open_files)},
        {"write", "DB::Put/Delete, WriteOptions{sync=false|true}"},
    };
  }

  std::vector<Setting> Stats() override {
    std::string shape;
    for (int level = 0; level < options_.num_levels; ++level) {
      std::string v;
      db_->GetProperty(rocksdb::DB::Properties::kNumFilesAtLevelPrefix + std::to_string(level), &v);
      shape += (level > 0 ? "," : "") + v;
    }
    return {
        {"files_per_level", shape},
        {"live_sst_bytes", std::to_string(Prop(rocksdb::DB::Properties::kTotalSstFilesSize))},
    };
  }

 private:
  static rocksdb::Slice Slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
  static std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
  uint64_t Prop(const std::string& name) {
    uint64_t v = 0;
    db_->GetIntProperty(name, &v);
    return v;
  }

  rocksdb::Options options_;
  std::unique_ptr<rocksdb::DB> db_;
  size_t cache_bytes_ = 0;
  size_t block_size_ = 0;
  int bloom_bits_ = 0;
};

}  // namespace

std::unique_ptr<EngineAdapter> NewRocksDbAdapter() { return std::make_unique<RocksDbAdapter>(); }

}  // namespace keyva::bench
