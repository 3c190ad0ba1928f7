// EngineAdapter: the one interface the engine bench drives, with one implementation per engine
// (keyva, RocksDB, LevelDB, LMDB). Every workload is written once against this interface, so
// each engine runs exactly the same operations on the same keys and values.
//
// Contract for every adapter:
// - Open() gets a directory the bench owns. With fresh=true the directory is empty and the
//   adapter creates a new database; with fresh=false it reopens the database a previous process
//   left there. Settings the bench fixes for all engines (block cache, bloom bits, sync) come in
//   AdapterConfig; everything else stays on the engine's defaults, and Settings() lists what is
//   in effect so the report can show it.
// - Every Put/Delete is one atomic write of one entry (one batch, one transaction). sync=true asks
//   the engine to make that write durable (fsync) before returning; sync=false leaves it in the
//   OS page cache, the engine's cheapest mode that still survives a process crash.
// - Get returns NotFound for absent keys; any other non-OK status is an engine error.
// - Scan positions at the first key >= start and visits up to n entries in key order; the
//   visitor returns false to stop early.
// - Settle() waits until the engine has no flush or compaction running or pending, as far as the
//   engine lets one tell (see each adapter). Close() releases everything; the directory then
//   holds exactly what the engine leaves on disk.
//
// Threading: an adapter is driven by one thread, except that Get may be called concurrently from
// several threads when ThreadSafeReads() is true (every engine here: keyva's DB has one owner
// thread for writes and reads from any thread).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/status.h"

namespace keyva::bench {

struct AdapterConfig {
  size_t block_cache_bytes = 8u << 20;
  int bloom_bits_per_key = 10;
  // True when the workload's writes are all synced (fillsync); LMDB opens without MDB_NOSYNC then.
  bool sync_workload = false;
  // Size of the largest value the workload writes (LMDB sizes its map from it).
  size_t max_value_bytes = 100;
  // Entries the workload may hold at most (LMDB sizes its map from it).
  size_t max_entries = 0;
};

// One "name = value" setting in effect, for the report.
struct Setting {
  std::string name;
  std::string value;
};

class EngineAdapter {
 public:
  using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~EngineAdapter() = default;

  // Short lowercase name: "keyva", "rocksdb", "leveldb", "lmdb".
  virtual std::string Name() const = 0;
  // Library version, for the report.
  virtual std::string Version() const = 0;
  virtual bool ThreadSafeReads() const = 0;

  // REQUIRES: not open.
  virtual Status Open(const std::string& dir, bool fresh, const AdapterConfig& config) = 0;
  virtual Status Put(std::string_view key, std::string_view value, bool sync) = 0;
  virtual Status Delete(std::string_view key, bool sync) = 0;
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual Status Scan(std::string_view start, size_t n, const ScanVisitor& visit) = 0;
  virtual Status Settle() = 0;
  // Idempotent; also called by the destructor of every adapter.
  virtual Status Close() = 0;

  // Settings in effect (valid after Open).
  virtual std::vector<Setting> Settings() const = 0;
  // Engine-specific counters worth recording (LSM shape, write amplification); may be empty.
  virtual std::vector<Setting> Stats() { return {}; }
};

// Factories; each exists only when the engine's library was found at build time.
std::unique_ptr<EngineAdapter> NewKeyvaAdapter();
#ifdef KEYVA_BENCH_HAVE_ROCKSDB
std::unique_ptr<EngineAdapter> NewRocksDbAdapter();
#endif
#ifdef KEYVA_BENCH_HAVE_LEVELDB
std::unique_ptr<EngineAdapter> NewLevelDbAdapter();
#endif
#ifdef KEYVA_BENCH_HAVE_LMDB
std::unique_ptr<EngineAdapter> NewLmdbAdapter();
#endif

// Every engine compiled into this binary, in report order (keyva first).
std::vector<std::string> AvailableEngines();
// nullptr for an unknown or unavailable engine.
std::unique_ptr<EngineAdapter> NewAdapter(const std::string& name);

}  // namespace keyva::bench
