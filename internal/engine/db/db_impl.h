// DBImpl: the engine behind the DB interface (db.h).
//
// One class, implemented across files by operation (each file's header comment is its manual):
//   open.cc          DB::Open, recovery (CURRENT -> MANIFEST -> live files -> WAL replay), Close
//   write.cc         Write and SyncWal: the WAL append, memtable insert, making room (rewrite,
//                    freeze, stalls), WAL rolls after a failed write
//   background.cc    scheduling flushes and compactions, installing their results, retries after
//                    failures, obsolete-file deletion, Flush and CompactRange
//   table_writer.cc  executing a flush or a compaction: writing SSTs (runs on the helper thread)
//   read_view.cc     the published read view (PublishView, Publish, AcquireView) and snapshots
//   get.cc           Get
//   db_iter.cc       NewIterator: the user-facing iterator
//   stats.cc         GetStats and VerifyIntegrity
//   checkpoint.cc    Checkpoint
//
// State owned by the owner thread (the writer; see db.h for which calls are the owner's):
//   mem_      the active memtable, its WAL writer wal_, and the WAL numbers holding its entries
//   frozen_   memtables that are full and wait to be flushed, oldest first, with their WALs
//   versions_ the live SSTs per level and the MANIFEST
// Shared with reader threads, each behind its own small lock:
//   view_mu_  the published ReadView (mem_, frozen_ and the current Version as of the last
//             change), the published sequence, and the snapshot list. The owner republishes the
//             view whenever one of those three changes (PublishView) and the sequence after each
//             write (or at Publish). A reader copies the view pointer and the sequence together
//             under the lock, so the pair is always consistent: every entry at or below the
//             sequence is in the view's memtables or SSTs, and the versions it needs are kept
//             (the published sequence counts as a live snapshot for every rewrite, flush and
//             compaction; a reader holding an older view keeps that view's memtables and
//             Version, and so their files, alive).
//   stats_mu_ the counters in stats_ (written by the owner under it; the owner, their only
//             writer, reads them without it).
//   seek_mu_  seek accounting (ChargeSeek, called by readers).
// The helper thread (HelperThread, helper_thread.h) runs one job at a time: writing an SST from a
// frozen memtable, or merging SSTs. A job reads only immutable data (a frozen memtable, existing
// SSTs) and writes only new files whose numbers are in pending_outputs_; the owner installs its
// result (MANIFEST edit, WAL removal) when it notices the job finished.
//
// Write path: batch -> WAL record (fsync if sync=always) -> memtable. When the memtable reaches
// Options::memtable_bytes it is either rewritten in memory (when at least half of it is versions
// shadowed by newer ones: one hot key written over and over never produces tiny SSTs) or frozen and
// flushed. Writes wait when kMaxFrozenMemtables memtables are already waiting.
//
// Errors (see db.h): a sticky error goes to bg_error_. A NoSpace error is recoverable: a failed
// WAL write sets wal_needs_roll_ (the next write starts a new WAL first; the broken one stays
// in mem_wals_ for recovery), a failed flush/compaction is left undone and retried after
// retry_after_us_. A failed MANIFEST edit leaves its outcome unknown (VersionSet::
// needs_new_manifest()): until a new MANIFEST is written no file is deleted, and the outputs of
// such a job are kept on disk.
//
// Recovery: CURRENT -> MANIFEST -> versions; then every WAL numbered >= the manifest's log number
// is replayed in order into the memtable. A torn tail is truncated; a damaged record before the
// tail fails Open with Corruption naming the file. A batch whose first sequence is not above the
// largest sequence replayed so far was already replayed (a memtable rewrite copies entries into a
// new WAL before the old ones are dropped) and is skipped.
// The replayed entries are then frozen and flushed to L0 like any full memtable (as LevelDB and
// RocksDB do), so reads after a reopen do not search a large replayed memtable first.
//
// Stalls: when kMaxFrozenMemtables memtables wait while the helper runs a compaction, the owner
// flushes the oldest one itself (FlushOldestInline) instead of waiting for the whole compaction.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "internal/engine/db.h"
#include "internal/engine/db/compaction.h"
#include "internal/engine/db/helper_thread.h"
#include "internal/engine/db/version_set.h"
#include "internal/engine/env.h"

namespace keyva {

class BlockCache;
class MemTable;
class TableCache;
class WalWriter;

class DBImpl final : public DB {
 public:
  DBImpl(const Options& options, std::string dir);
  ~DBImpl() override;

  Status OpenImpl();

  Status Write(const WriteOptions& options, WriteBatch* batch) override;
  Status SyncWal() override;
  void Publish() override;
  SequenceNumber LastSequence() const override;
  SequenceNumber PublishedSequence() const override;
  Status Get(const ReadOptions& options, std::string_view key, std::string* value,
             ValueMeta* meta) override;
  std::unique_ptr<DBIterator> NewIterator(const ReadOptions& options) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  Status Flush() override;
  Status CompactRange(const std::string* begin, const std::string* end) override;
  void PollBackgroundWork() override;
  Status WaitForBackgroundWork() override;
  Status Checkpoint(const std::string& dir) override;  // in checkpoint.cc
  DBStats GetStats() override;
  Status VerifyIntegrity() override;
  Status Close() override;

 private:
  struct MemGeneration {
    std::shared_ptr<MemTable> mem;
    std::vector<uint64_t> wals;  // WAL files holding its entries
  };
  // What readers read: immutable once published; shared by every reader that took it.
  struct ReadView {
    std::shared_ptr<MemTable> mem;                  // the active memtable (still being written)
    std::vector<std::shared_ptr<MemTable>> frozen;  // newest first
    std::shared_ptr<const Version> version;
    std::vector<uint64_t> wals;  // every live WAL (for stats)
  };
  // A view and the sequence to read it at, taken together.
  struct ViewAtSequence {
    std::shared_ptr<const ReadView> view;
    SequenceNumber sequence = 0;
  };
  // A flush or compaction running (or done, not yet installed) on the helper thread.
  struct Job {
    enum class Kind { kFlush, kCompaction } kind = Kind::kFlush;
    std::future<void> done;
    // Inputs.
    std::shared_ptr<MemTable> mem;         // flush
    std::unique_ptr<CompactionPlan> plan;  // compaction
    std::vector<uint64_t> numbers;         // file numbers the outputs may use
    std::vector<SequenceNumber> snapshots;
    int64_t now_us = 0;
    // Outputs (written by the helper, read by the owner after done).
    Status status;
    std::vector<FileMeta> outputs;
    uint64_t bytes_written = 0;
  };

  void Log(const std::string& line);
  // Owner: publishes a new ReadView of mem_, frozen_ and the current Version (read_view.cc).
  // Called after every change of any of them, before anything is deleted on its account.
  void PublishView();
  // Any thread: the view and sequence options asks for.
  ViewAtSequence AcquireView(const ReadOptions& options) const;
  // Applies f to stats_ under stats_mu_ (owner).
  template <class F>
  void UpdateStats(F f) {
    std::lock_guard<std::mutex> l(stats_mu_);
    f(stats_);
  }
  Status NewWal(uint64_t* number, std::unique_ptr<WalWriter>* writer);
  // NewWal, then a MANIFEST edit registering it (before it holds any write).
  Status NewRegisteredWal(uint64_t* number, std::unique_ptr<WalWriter>* writer);
  Status ReplayWal(uint64_t number, SequenceNumber* max_sequence);
  Status MakeRoomForWrite();
  Status RewriteMemtable();
  Status FreezeMemtable();
  // Starts the next flush (first) or compaction when the helper is free.
  void MaybeScheduleWork();
  // The status to report when a flush that must happen is not running (the last failure).
  Status PendingFlushError() const;
  void StartJob(std::unique_ptr<Job> job);
  // Flushes frozen_.front() on the calling (owner) thread and installs it; used while the helper
  // runs a compaction and the frozen memtables are at their limit.
  Status FlushOldestInline();
  // Counts one lookup that went past file f of level; asks for its compaction when it has used
  // up its allowed seeks (see Get). Any thread.
  void ChargeSeek(const FileMeta& f, int level);
  // The compaction of the file whose seeks ran out, if it is still live; clears the request.
  std::unique_ptr<CompactionPlan> PickSeekCompaction();
  void StartCompaction(std::unique_ptr<CompactionPlan> plan);
  // Execute a job (table_writer.cc): write the SSTs of a flush (job->mem) or of a compaction
  // (job->plan). Run on the helper thread, or inline on the owner thread.
  Status RunFlushJob(Job* job);
  Status RunCompactionJob(Job* job);
  // Waits for the running job (if any) and installs it.
  Status WaitForJob();
  Status InstallJob(Job* job);
  Status InstallFlush(Job* job);
  Status InstallCompaction(Job* job);
  void DeleteObsoleteFiles();
  std::vector<SequenceNumber> LiveSnapshots() const;
  void SetBackgroundError(const Status& s);
  // Adds the time since start to the stall counter.
  void AddStallTime(std::chrono::steady_clock::time_point start);
  // A failed WAL append/sync: NoSpace arms a WAL roll, anything else becomes the background error.
  void WalWriteFailed(const Status& s);
  // Starts a new WAL for the active memtable after a failed write to the current one.
  Status RollWal();
  // A failed flush/compaction (or its install): NoSpace is retried later, the rest is sticky.
  void BackgroundWorkFailed(const Status& s);
  static bool IsRecoverable(const Status& s) { return s.IsNoSpace(); }
  // Writes the entries of iter that pass retention into SSTs numbered from job->numbers, cutting a
  // new file near target_file_size when split (never between versions of one user key). Runs on
  // the helper thread; fills job->outputs and job->bytes_written.
  Status WriteTables(Iterator* iter, Job* job, bool bottommost, bool split);

  // A snapshot handed out by GetSnapshot, with its place in snapshots_ (get.cc).
  class SnapshotImpl final : public Snapshot {
   public:
    explicit SnapshotImpl(SequenceNumber seq) : Snapshot(seq) {}
    std::list<SnapshotImpl*>::iterator pos;
  };

  const Options options_;
  Env* const env_;
  const std::string dir_;
  std::unique_ptr<FileLock> lock_;
  // Shared with the DB's iterators: their table readers use the block cache (and give back their
  // pinned bytes), and their level iterators open files through the table cache, even when an
  // iterator outlives the DB.
  std::shared_ptr<BlockCache> block_cache_;
  std::shared_ptr<TableCache> table_cache_;
  std::unique_ptr<VersionSet> versions_;

  std::shared_ptr<MemTable> mem_;
  std::vector<uint64_t> mem_wals_;
  std::unique_ptr<WalWriter> wal_;
  uint64_t wal_number_ = 0;
  bool wal_dirty_ = false;       // appended since the last sync
  bool wal_needs_roll_ = false;  // a write to wal_ failed (NoSpace): roll before the next write
  std::deque<MemGeneration> frozen_;

  mutable std::mutex view_mu_;
  std::shared_ptr<const ReadView> view_;   // guarded by view_mu_ (the owner may read it without)
  SequenceNumber published_sequence_ = 0;  // guarded by view_mu_
  // The same number for PublishedSequence() without the lock (written under view_mu_ with it).
  std::atomic<SequenceNumber> published_sequence_copy_{0};
  std::list<SnapshotImpl*> snapshots_;  // guarded by view_mu_
  std::set<uint64_t> pending_outputs_;
  std::unique_ptr<HelperThread> worker_;
  std::unique_ptr<Job> job_;  // at most one at a time
  CompactionPicker picker_;
  // VersionSet::current_id() of the last Version for which the picker found nothing to do.
  uint64_t idle_version_id_ = UINT64_MAX;
  // Seek compaction: seeks left per file number, and the file (0 = none) waiting to be compacted.
  std::mutex seek_mu_;
  std::unordered_map<uint64_t, int> seeks_left_;  // guarded by seek_mu_
  uint64_t seek_compaction_number_ = 0;           // guarded by seek_mu_
  int seek_compaction_level_ = 0;                 // guarded by seek_mu_
  std::atomic<bool> seek_compaction_wanted_{false};
  Status bg_error_;
  Status last_failure_;         // the last recoverable background failure (OK after a success)
  int64_t retry_after_us_ = 0;  // no background work is started before this (env clock)
  int64_t retry_backoff_us_ = 0;
  int64_t last_failure_us_ = 0;  // when background work last failed (env clock)
  static constexpr int64_t kMinBackoffUs = 100 * 1000, kMaxBackoffUs = 5 * 1000 * 1000;
  std::atomic<bool> closed_{false};

  std::mutex stats_mu_;
  DBStats stats_;  // the counters; guarded by stats_mu_
};

}  // namespace keyva
