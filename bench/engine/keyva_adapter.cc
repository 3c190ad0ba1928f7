// EngineAdapter for keyva's own engine (internal/engine/db.h).
//
// Settings: Options defaults except block_cache_bytes and bloom_bits_per_key (from
// AdapterConfig) and Options::sync = kNone; every write passes WriteOptions{has_sync = true,
// sync = kAlways or kNone} explicitly. Values are stored with empty metadata (no content type,
// times 0), which the stored-value encoding adds as 3 bytes per value.
//
// Threading: keyva's DB has one owner thread (the one that opened it) for writes, and reads
// (Get, iterators) from any thread, so ThreadSafeReads() is true: readrandom with 2 threads
// really has two threads reading the DB.
#include <string>

#include "bench/engine/engine_adapter.h"
#include "internal/engine/db.h"

namespace keyva::bench {
namespace {

const char* CompressionName(CompressionType c) {
  switch (c) {
    case CompressionType::kNone:
      return "none";
    case CompressionType::kLz4:
      return "lz4";
    case CompressionType::kZstd:
      return "zstd";
  }
  return "?";
}

class KeyvaAdapter final : public EngineAdapter {
 public:
  ~KeyvaAdapter() override { (void)Close(); }  // a destructor cannot report; runs call Close()

  std::string Name() const override { return "keyva"; }
  std::string Version() const override { return KEYVA_BENCH_KEYVA_VERSION; }
  bool ThreadSafeReads() const override { return true; }

  Status Open(const std::string& dir, bool fresh, const AdapterConfig& config) override {
    options_ = Options();
    options_.create_if_missing = fresh;
    options_.error_if_exists = fresh;
    options_.sync = SyncMode::kNone;
    options_.block_cache_bytes = config.block_cache_bytes;
    options_.bloom_bits_per_key = config.bloom_bits_per_key;
    return DB::Open(options_, dir, &db_);
  }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    batch_.Clear();
    batch_.Put(key, value, meta_);
    return db_->Write(WriteOpts(sync), &batch_);
  }

  Status Delete(std::string_view key, bool sync) override {
    batch_.Clear();
    batch_.Delete(key);
    return db_->Write(WriteOpts(sync), &batch_);
  }

  Status Get(std::string_view key, std::string* value) override {
    return db_->Get(ReadOptions(), key, value, &read_meta_);
  }

  Status Scan(std::string_view start, size_t n, const ScanVisitor& visit) override {
    std::unique_ptr<DBIterator> it = db_->NewIterator(ReadOptions());
    if (start.empty()) {
      it->SeekToFirst();
    } else {
      it->Seek(start);
    }
    for (size_t i = 0; i < n && it->Valid(); ++i) {
      if (!visit(it->key(), it->value())) break;
      it->Next();
    }
    return it->status();
  }

  Status Settle() override { return db_->WaitForBackgroundWork(); }

  Status Close() override {
    if (!db_) return Status::OK();
    Status s = db_->Close();
    db_.reset();
    return s;
  }

  std::vector<Setting> Settings() const override {
    return {
        {"compression", CompressionName(options_.compression)},
        {"block_cache_bytes", std::to_string(options_.block_cache_bytes)},
        {"bloom_bits_per_key", std::to_string(options_.bloom_bits_per_key)},
        {"memtable_bytes", std::to_string(options_.memtable_bytes)},
        {"block_size", std::to_string(options_.block_size)},
        {"target_file_size", std::to_string(options_.target_file_size)},
        {"max_open_files", std::to_string(options_.max_open_files)},
        {"background_work", options_.background_work ? "true" : "false"},
        {"write", "WriteBatch of 1 entry; WriteOptions{has_sync=true, sync=kNone|kAlways}"},
    };
  }

  std::vector<Setting> Stats() override {
    DBStats st = db_->GetStats();
    std::string shape;
    for (size_t i = 0; i < st.levels.size(); ++i) {
      if (i > 0) shape += ",";
      shape += std::to_string(st.levels[i].files);
    }
    return {
        {"files_per_level", shape},
        {"live_sst_bytes", std::to_string(st.live_sst_bytes)},
        {"flushes", std::to_string(st.flushes)},
        {"compactions", std::to_string(st.compactions)},
        {"write_amplification", std::to_string(st.write_amplification)},
        {"cache_hits", std::to_string(st.cache_hits)},
        {"cache_misses", std::to_string(st.cache_misses)},
        {"stall_micros", std::to_string(st.stall_micros)},
    };
  }

 private:
  static WriteOptions WriteOpts(bool sync) {
    WriteOptions wo;
    wo.has_sync = true;
    wo.sync = sync ? SyncMode::kAlways : SyncMode::kNone;
    return wo;
  }

  Options options_;
  std::unique_ptr<DB> db_;
  WriteBatch batch_;
  ValueMeta meta_;
  ValueMeta read_meta_;
};

}  // namespace

std::unique_ptr<EngineAdapter> NewKeyvaAdapter() { return std::make_unique<KeyvaAdapter>(); }

}  // namespace keyva::bench
