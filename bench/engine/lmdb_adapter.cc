// EngineAdapter for LMDB (Debian's liblmdb-dev): a copy-on-write B+tree in one memory map.
//
// Settings: one unnamed database; mdb_env_open flags MDB_NOTLS always (read transactions belong
// to the adapter's per-thread slots, not to LMDB's thread-local storage, so they can be reused
// with mdb_txn_reset/renew and aborted at Close), plus MDB_NOSYNC for every workload except the
// synced one (AdapterConfig::sync_workload), which runs with LMDB's default: fsync at every
// commit. No MDB_WRITEMAP, MDB_NOMETASYNC, MDB_MAPASYNC or MDB_NORDAHEAD. The map size is
// max(1 GiB, 4 x entries x (key + value + 64)) rounded up to 1 GiB; LMDB grows the file only
// as it writes pages, so the map size does not show on disk. LMDB has no block cache (reads go
// through the OS page cache) and no bloom filter. Each Put/Delete is its own write transaction
// (begin, put, commit) - LMDB's one-entry atomic write; a synced write on a MDB_NOSYNC
// environment adds mdb_env_sync(force).
//
// Every Get runs in a read transaction renewed for that Get (mdb_txn_renew ... mdb_txn_reset),
// as do Scans, so each read sees the latest commit, like the LSM engines' Get.
//
// Threading: Get is thread-safe; each calling thread gets its own reusable read transaction.
// Settle() has nothing to wait for (LMDB does no background work).
#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "bench/engine/engine_adapter.h"

namespace keyva::bench {
namespace {

Status LmdbStatus(const char* what, int rc) {
  if (rc == 0) return Status::OK();
  if (rc == MDB_NOTFOUND) return Status::NotFound("");
  return Status::IOError(std::string("lmdb ") + what + ": " + mdb_strerror(rc));
}

std::atomic<uint64_t> next_open_id{1};

class LmdbAdapter final : public EngineAdapter {
 public:
  ~LmdbAdapter() override { (void)Close(); }  // a destructor cannot report; runs call Close()

  std::string Name() const override { return "lmdb"; }
  std::string Version() const override {
    int major = 0, minor = 0, patch = 0;
    mdb_version(&major, &minor, &patch);
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  }
  bool ThreadSafeReads() const override { return true; }

  Status Open(const std::string& dir, bool fresh, const AdapterConfig& config) override {
    open_id_ = next_open_id.fetch_add(1);
    int rc = mdb_env_create(&env_);
    if (rc != 0) return LmdbStatus("env_create", rc);
    const uint64_t gib = uint64_t{1} << 30;
    uint64_t want =
        4 * std::max<uint64_t>(config.max_entries, 1) * (kKeyBytes + config.max_value_bytes + 64);
    map_size_ = std::max(gib, (want + gib - 1) / gib * gib);
    rc = mdb_env_set_mapsize(env_, map_size_);
    flags_ = MDB_NOTLS | (config.sync_workload ? 0 : MDB_NOSYNC);
    if (rc == 0) rc = mdb_env_open(env_, dir.c_str(), flags_, 0644);
    if (rc != 0) {
      mdb_env_close(env_);
      env_ = nullptr;
      return LmdbStatus("env_open", rc);
    }
    MDB_txn* txn = nullptr;
    rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, nullptr, fresh ? MDB_CREATE : 0, &dbi_);
    if (rc == 0) {
      rc = mdb_txn_commit(txn);
    } else if (txn != nullptr) {
      mdb_txn_abort(txn);
    }
    return LmdbStatus("dbi_open", rc);
  }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    MDB_val k = Val(key), v = Val(value);
    return WriteTxn(sync, [&](MDB_txn* txn) { return mdb_put(txn, dbi_, &k, &v, 0); });
  }

  Status Delete(std::string_view key, bool sync) override {
    MDB_val k = Val(key);
    Status s = WriteTxn(sync, [&](MDB_txn* txn) {
      int rc = mdb_del(txn, dbi_, &k, nullptr);
      return rc == MDB_NOTFOUND ? 0 : rc;  // deleting an absent key is not an error
    });
    return s;
  }

  Status Get(std::string_view key, std::string* value) override {
    MDB_txn* txn = nullptr;
    Status s = BeginRead(&txn);
    if (!s.ok()) return s;
    MDB_val k = Val(key), v;
    int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == 0) value->assign(static_cast<const char*>(v.mv_data), v.mv_size);
    mdb_txn_reset(txn);
    return LmdbStatus("get", rc);
  }

  Status Scan(std::string_view start, size_t n, const ScanVisitor& visit) override {
    MDB_txn* txn = nullptr;
    Status s = BeginRead(&txn);
    if (!s.ok()) return s;
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn, dbi_, &cursor);
    MDB_val k = Val(start), v;
    if (rc == 0) rc = mdb_cursor_get(cursor, &k, &v, start.empty() ? MDB_FIRST : MDB_SET_RANGE);
    for (size_t i = 0; i < n && rc == 0; ++i) {
      if (!visit(View(k), View(v))) break;
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    if (cursor != nullptr) mdb_cursor_close(cursor);
    mdb_txn_reset(txn);
    return rc == MDB_NOTFOUND ? Status::OK() : LmdbStatus("cursor", rc);
  }

  Status Settle() override { return Status::OK(); }

  Status Close() override {
    if (env_ == nullptr) return Status::OK();
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      for (MDB_txn* txn : readers_) mdb_txn_abort(txn);
      readers_.clear();
    }
    mdb_dbi_close(env_, dbi_);
    mdb_env_close(env_);
    env_ = nullptr;
    return Status::OK();
  }

  std::vector<Setting> Settings() const override {
    return {
        {"env_flags", flags_ & MDB_NOSYNC ? "MDB_NOTLS|MDB_NOSYNC" : "MDB_NOTLS"},
        {"map_size", std::to_string(map_size_)},
        {"block_cache_bytes", "n/a (OS page cache)"},
        {"bloom_bits_per_key", "n/a (B+tree)"},
        {"compression", "none"},
        {"write", "one write txn per Put/Delete (begin, put, commit)"},
    };
  }

  std::vector<Setting> Stats() override {
    MDB_stat st{};
    mdb_env_stat(env_, &st);
    return {
        {"btree_depth", std::to_string(st.ms_depth)},
        {"branch_pages", std::to_string(st.ms_branch_pages)},
        {"leaf_pages", std::to_string(st.ms_leaf_pages)},
        {"overflow_pages", std::to_string(st.ms_overflow_pages)},
    };
  }

 private:
  static constexpr uint64_t kKeyBytes = 16;

  static MDB_val Val(std::string_view s) {
    MDB_val v;
    v.mv_size = s.size();
    v.mv_data = const_cast<char*>(s.data());
    return v;
  }
  static std::string_view View(const MDB_val& v) {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
  }

  template <typename Fn>
  Status WriteTxn(bool sync, Fn&& fn) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbStatus("txn_begin", rc);
    rc = fn(txn);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbStatus("write", rc);
    }
    rc = mdb_txn_commit(txn);
    if (rc == 0 && sync && (flags_ & MDB_NOSYNC)) rc = mdb_env_sync(env_, 1);
    return LmdbStatus("commit", rc);
  }

  // This thread's read transaction for this open environment, renewed (ready to read).
  Status BeginRead(MDB_txn** out) {
    struct Slot {
      uint64_t open_id = 0;
      MDB_txn* txn = nullptr;
    };
    thread_local Slot slot;
    if (slot.open_id == open_id_) {
      *out = slot.txn;
      return LmdbStatus("txn_renew", mdb_txn_renew(slot.txn));
    }
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) return LmdbStatus("txn_begin", rc);
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      readers_.push_back(txn);
    }
    slot = Slot{open_id_, txn};
    *out = txn;
    return Status::OK();
  }

  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  unsigned int flags_ = 0;
  uint64_t map_size_ = 0;
  uint64_t open_id_ = 0;
  std::mutex readers_mu_;
  std::vector<MDB_txn*> readers_;  // every read txn handed out, aborted at Close
};

}  // namespace

std::unique_ptr<EngineAdapter> NewLmdbAdapter() { return std::make_unique<LmdbAdapter>(); }

}  // namespace keyva::bench
