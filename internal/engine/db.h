// DB: the public face of the keyva engine (an LSM tree).
//
// Threading: one OWNER thread (keyvad's storage thread) writes; any thread reads.
//   - Owner only, one call at a time: Write, Put, Delete, SyncWal, Publish, Flush, CompactRange,
//     PollBackgroundWork, WaitForBackgroundWork, Checkpoint, VerifyIntegrity, Close, and reads
//     with ReadOptions::read_unpublished.
//   - Any thread, concurrently with the owner and with each other: Get, NewIterator,
//     GetSnapshot, ReleaseSnapshot, GetStats. An iterator is used by one thread at a time (any
//     thread, not necessarily the one that made it). No reader call may overlap Close.
// Readers see a published read view: the memtables and SSTs as the owner last published them,
// at a sequence number published with them. The owner publishes after every Write (or, with
// WriteOptions::publish = false, at the next Publish), so a reader sees a batch whole or not at
// all, and sees it from the moment Write (or Publish) returns. Taking the view is one short
// lock; the read itself takes none (the active memtable is a skiplist with lock-free readers).
// Files are deleted only when no view, iterator or snapshot can reach them. Heavy immutable work
// (writing an SST from a frozen memtable, merging SSTs) runs on an internal helper thread that
// touches only immutable data and new files; the owner installs its results during later calls
// (or in PollBackgroundWork, which an owner that may go idle calls now and then).
//
// Durability: Write() appends one WAL record per batch. With SyncMode::kAlways the WAL is fsynced
// before Write returns; with kNone it is handed to the OS (survives a process crash). Callers that
// group commit write with sync off and publish off, then call SyncWal() and Publish() once before
// acknowledging the group: readers never see a write that a crash could still take away.
//
// Errors: an I/O error while writing the WAL or installing a flush/compaction becomes the DB's
// "background error": every later write fails with it (reads keep working) until the DB is
// reopened, so the on-disk state never silently diverges from what was acknowledged.
// A full disk (Status::NoSpace) is not sticky: the write that hit it fails with NoSpace, the next
// write first moves to a new WAL file (so a partly written record only ever sits at the end of a
// log, where recovery treats it as a torn tail), and a failed flush or compaction is retried
// later (after a back-off; at once by Flush/CompactRange/WaitForBackgroundWork). Once space is
// free again writes succeed; nothing acknowledged is lost. A write that failed may still appear
// after a restart (its record may have reached the WAL), never partially.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/iterator.h"
#include "internal/engine/options.h"
#include "internal/engine/status.h"
#include "internal/engine/value_format.h"
#include "internal/engine/write_batch.h"

namespace keyva {

// A consistent point in time to read from (the published sequence when it was taken). Obtained
// from DB::GetSnapshot, released with DB::ReleaseSnapshot, on any thread.
class Snapshot {
 public:
  SequenceNumber sequence() const { return seq_; }

 protected:
  explicit Snapshot(SequenceNumber seq) : seq_(seq) {}
  ~Snapshot() = default;
  SequenceNumber seq_;
};

struct ReadOptions {
  // Read as of this snapshot; nullptr reads the latest published state.
  const Snapshot* snapshot = nullptr;
  // Put blocks read for this operation into the block cache.
  bool fill_cache = true;
  // Owner thread only: read everything written so far, published or not (a group commit's own
  // conditional writes must see the earlier writes of the same group). Ignored with a snapshot.
  bool read_unpublished = false;
  // Also return values whose expiry time has passed (their ValueMeta says so); for an owner that
  // deletes expired values itself (Options::drop_expired = false).
  bool include_expired = false;
  // Get: when set, receives the sequence number the read was made at (it saw every write at or
  // below it and none above), also when the key is not found.
  SequenceNumber* read_sequence = nullptr;
};

// User-facing iterator: user keys in ascending bytewise order, newest visible version of each,
// without deleted or expired keys. value() is the value bytes; meta() its metadata.
class DBIterator : public Iterator {
 public:
  virtual const ValueMeta& meta() const = 0;
};

struct LevelStats {
  int files = 0;
  uint64_t bytes = 0;
};

// Everything the engine counts; one struct the server exposes on /metrics and /api/stats.
struct DBStats {
  std::vector<LevelStats> levels;  // index = level
  uint64_t memtable_bytes = 0;     // active memtable (arena bytes)
  int frozen_memtables = 0;        // waiting to be flushed
  uint64_t wal_bytes = 0;          // live WAL files
  uint64_t live_sst_bytes = 0;
  uint64_t last_sequence = 0;  // the published sequence (what readers see)
  uint64_t flushes = 0;
  uint64_t flush_bytes_written = 0;
  uint64_t memtable_compactions = 0;  // memtables rewritten in memory instead of flushed
  uint64_t compactions = 0;
  int compactions_running = 0;  // 0 or 1: a compaction is on the helper thread right now
  uint64_t compaction_bytes_read = 0;
  uint64_t compaction_bytes_written = 0;
  uint64_t user_bytes_written = 0;  // payload bytes of acknowledged writes (WAL record bytes)
  double write_amplification = 0;   // (flush + compaction bytes written) / user bytes written
  uint64_t cache_capacity = 0;
  uint64_t cache_usage = 0;   // data blocks plus the pinned index and filter blocks
  uint64_t cache_pinned = 0;  // index and filter blocks of the open SSTs (part of cache_usage)
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t stall_micros = 0;  // time writes spent slowed down or waiting
  // Bytes compaction has yet to move to bring every level within its target: each level's bytes
  // over its target, and all of L0's once it has reached its compaction trigger.
  uint64_t compaction_debt_bytes = 0;
  int l0_slowdown_files = 0;  // L0 files at which writes are slowed down (a constant)
  int l0_stop_files = 0;      // L0 files at which writes wait for compaction (a constant)
  uint64_t slowdowns = 0;
  uint64_t stops = 0;
  std::string background_error;      // empty when healthy
  uint64_t background_failures = 0;  // flushes/compactions that failed and will be retried
  uint64_t write_failures = 0;       // WAL writes or syncs that failed (e.g. disk full)
};

class DB {
 public:
  // Opens (or creates, per options) the database in dir. On success *db owns it.
  // Busy if another process holds the directory's LOCK; Corruption (naming the file) if a file
  // the database needs is damaged.
  static Status Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Closes the database (see Close) if not closed yet.
  virtual ~DB() = default;

  // Applies the batch atomically. Sequence numbers are assigned by the DB.
  virtual Status Write(const WriteOptions& options, WriteBatch* batch) = 0;
  Status Put(std::string_view key, std::string_view value, const ValueMeta& meta = {});
  Status Delete(std::string_view key);
  // Makes every write so far durable (fsync of the WAL); for group commit.
  virtual Status SyncWal() = 0;
  // Makes every write so far visible to readers (see WriteOptions::publish). Cheap; idempotent.
  virtual void Publish() = 0;
  // Owner: the sequence number of the last entry written (published or not). The next batch's
  // entries get the numbers after it, in batch order, so an owner can know an entry's sequence
  // number before it writes it.
  virtual SequenceNumber LastSequence() const = 0;
  // Any thread: the sequence number readers see (the last published write). Cheap.
  virtual SequenceNumber PublishedSequence() const = 0;

  // NotFound when the key is absent, deleted or expired (by the Env's clock). Any thread.
  virtual Status Get(const ReadOptions& options, std::string_view key, std::string* value,
                     ValueMeta* meta) = 0;
  // An iterator over one fixed state (the view and sequence at this call). Any thread.
  virtual std::unique_ptr<DBIterator> NewIterator(const ReadOptions& options) = 0;

  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Freezes the memtable and writes it to an SST, waiting until it is installed.
  virtual Status Flush() = 0;
  // Compacts every file overlapping [begin, end] (nullptr = unbounded) down the levels, waiting.
  virtual Status CompactRange(const std::string* begin, const std::string* end) = 0;
  // Installs finished background work and schedules more; cheap; the owner calls it when idle.
  virtual void PollBackgroundWork() = 0;
  // Waits until no flush or compaction is pending or running (tests and benchmarks).
  virtual Status WaitForBackgroundWork() = 0;

  // Writes a consistent copy of the database into dir, which must not exist yet (its parent is
  // created when missing). The copy opens as a database (DB::Open, or keyvad --data-dir) holding
  // every write acknowledged before the call, and nothing written after it. SSTs are hard-linked
  // when dir is on the same file system (else copied), the live WALs are synced and copied, a
  // fresh MANIFEST describing the current files is written, and CURRENT is written last: a
  // directory without CURRENT is an unfinished checkpoint. Runs on the owner thread and blocks
  // it while it copies (the WALs, and the SSTs when they cannot be linked).
  // Errors: InvalidArgument when dir exists or is empty, the background error if there is one,
  // else the I/O error (files already written into dir are removed, best effort).
  virtual Status Checkpoint(const std::string& dir) = 0;

  // Any thread: counters, the published view's levels and memtables, the cache.
  virtual DBStats GetStats() = 0;
  // Checks every block checksum of every live SST (and the sortedness of levels 1+).
  virtual Status VerifyIntegrity() = 0;

  // Waits for background work, syncs the WAL and releases the directory. Idempotent.
  virtual Status Close() = 0;
};

}  // namespace keyva
