// Options: every tunable of the engine, with its default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace keyva {

class Env;

// The largest key and value the engine accepts (DB::Write answers InvalidArgument beyond them).
// Servers built on the engine may set lower limits, never higher ones.
constexpr size_t kMaxKeySize = 64 * 1024;
constexpr size_t kMaxValueSize = size_t{1} << 30;

// How hard a write is pushed to disk before it is acknowledged.
enum class SyncMode {
  kAlways,  // fsync the WAL before acknowledging: survives power loss
  kNone,    // hand the WAL to the OS before acknowledging: survives a process crash only
};

// Compression of SST blocks. The numeric values are stored on disk.
enum class CompressionType : uint8_t {
  kNone = 0,
  kLz4 = 1,
  kZstd = 2,
};

struct Options {
  // File system and clock. nullptr means Env::Default() (POSIX).
  Env* env = nullptr;
  // Create the data directory and a fresh database when none exists.
  bool create_if_missing = true;
  // Fail Open when a database already exists.
  bool error_if_exists = false;
  // Sync mode for writes whose WriteOptions do not say otherwise.
  SyncMode sync = SyncMode::kAlways;
  // Bytes of memtable (arena memory, counting every version) before it is frozen and flushed.
  // 4 MiB, as LevelDB: a skiplist that stays mostly in the CPU caches takes inserts far faster
  // (engine bench, keyva ÷ LevelDB, one run each: deleterandom 0.80 -> 1.00, fillrandom 0.97 ->
  // 1.05, overwrite 1.05 -> 1.45 against 16 MiB), and the flush keeps up.
  size_t memtable_bytes = 4u << 20;
  // Uncompressed size of an SST data block.
  size_t block_size = 4096;
  // Entries between restart points inside a block.
  int block_restart_interval = 16;
  // Bloom filter bits per key; 0 disables filters.
  int bloom_bits_per_key = 10;
  CompressionType compression = CompressionType::kLz4;
  // Capacity of the block cache in bytes: cached data blocks plus the index and filter blocks of
  // the open SSTs (pinned while a file is open).
  size_t block_cache_bytes = 64u << 20;
  // SST files written by flushes and compactions are split near this size.
  uint64_t target_file_size = 4u << 20;
  // Table files kept open at once (LRU beyond it).
  int max_open_files = 1000;
  // Run flushes and compactions on a helper thread (false: inline on the caller, for tests).
  bool background_work = true;
  // Verify every block checksum when reading (blocks are always verified when first read from
  // disk; this also re-verifies cached blocks - only useful for tools).
  bool paranoid_checks = false;
  // Compactions drop values whose expiry time has passed (or keep a tombstone in their place when
  // an older version may lie below). false keeps them until the owner deletes them itself - for a
  // server that must see each expired value once, to report the expiry (keyvad's expirer).
  // Readers never see an expired value either way (unless ReadOptions::include_expired).
  bool drop_expired = true;
  // Receives one line per notable event (open, flush, compaction, recovery). May be empty.
  std::function<void(const std::string&)> info_log;
};

struct ReadOptions;
struct WriteOptions {
  // Overrides Options::sync for this write when set.
  bool has_sync = false;
  SyncMode sync = SyncMode::kAlways;
  // Publish the batch to readers when Write returns. false: readers on other threads (and reads
  // without ReadOptions::read_unpublished) see it only after the next DB::Publish (or a later
  // write that publishes) - for group commit, which publishes after the group's SyncWal.
  bool publish = true;
};

}  // namespace keyva
