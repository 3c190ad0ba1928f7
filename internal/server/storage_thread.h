// StorageThread: the one thread that owns the DB, and the channel that feeds it.
//
// Writes: I/O threads Submit() StorageJobs; a full channel refuses (the caller answers 503). The
// thread loops: take a batch of jobs from the channel (up to max_batch, oldest first), run each in
// order (writes go to the WAL with sync off), then — when sync is kAlways and any job of the batch
// wrote — make the whole batch durable with ONE DB::SyncWal() (group commit), and only then call
// every job's complete() with the outcome of that sync. Between the sync and the completions it
// publishes the batch's writes to readers (DB::Publish). complete() must not block: it hands the
// response to the request's session (by posting to the session's executor). When the channel is
// idle the thread calls DB::PollBackgroundWork() about every idle_poll, and also after every batch,
// so finished flushes and compactions get installed.
//
// Reads: Read() runs a read-only job right away on the calling I/O thread, against the DB's
// published view (KvStore's Get, List and GetCounter are safe from any thread): a GET never
// queues behind writes, and reads use every core. Since every acknowledged write was published
// before its response was sent, a read sent after a write's response sees that write.
//
// The change feed: after publishing a group the thread hands the group's change events to the
// WatchHub (watch_hub.h) before completing any job, so a watcher can see a change as soon as its
// writer can. Between groups (after each batch, and about every idle_poll when idle) it does the
// store's upkeep: reaps values whose TTL passed (KvStore::ReapExpired: a tombstone and an expire
// event each, so an expiry reaches watchers within about idle_poll of its time) and, every
// kTrimInterval, trims the feed to its retention (KvStore::TrimFeed); both are committed like a
// group (synced, published, handed to the hub).
//
// Start() also rebuilds the build caches' accounting (KvStore::OpenCaches) before the first job.
//
// Stop() closes the channel, runs every job still queued, syncs the WAL and closes the DB.
//
// Thread-safety: Submit, Read, EngineStats, PublishedRevision, NewWatchStream, hub(), QueueDepth,
// counters() and healthy() from any thread (Read, EngineStats, PublishedRevision and watch
// streams not after Stop); Start and Stop from the thread that owns the StorageThread object.
// Submitted jobs run on the storage thread, Read jobs on the caller.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "internal/engine/db.h"
#include "internal/server/kv_store.h"
#include "internal/server/request_channel.h"
#include "internal/server/watch_hub.h"
#include "internal/server/watch_stream.h"

namespace keyva::server {

struct StorageJob {
  // Runs on the storage thread. Returns true when it wrote to the DB (so the batch must be
  // synced before this job is acknowledged).
  std::function<bool(KvStore& store)> run;
  // Runs on the storage thread after the batch's group commit. sync_status is the batch's
  // SyncWal result for a job that wrote (non-OK: its write is not durable and must be reported
  // as failed), OK for a job that did not write; an IOError if run threw.
  std::function<void(const Status& sync_status)> complete;
};

class StorageThread {
 public:
  struct Settings {
    size_t queue_capacity = 4096;
    size_t max_batch = 256;
    SyncMode sync = SyncMode::kAlways;
    std::chrono::milliseconds idle_poll{50};
    // The feed's retention (KvStore::TrimFeed): revisions kept (0: no bound) and the oldest
    // record's age (0: no bound).
    uint64_t retention_revisions = 1'000'000;
    std::chrono::milliseconds retention_age{24 * 3'600'000};
    WatchHub::Limits hub;
    // The build caches (cache_quota.h): prefixes that must not overlap, with their quotas.
    std::vector<CacheQuotaSpec> caches;
  };
  // How often the feed is trimmed, and at most how many records each time.
  static constexpr std::chrono::milliseconds kTrimInterval{250};
  static constexpr size_t kTrimMax = 65536;
  // Expired values reaped per pass (more due: the next pass goes on).
  static constexpr size_t kReapMax = 4096;

  // Monotonic counters for /metrics and /api/stats.
  struct Counters {
    std::atomic<uint64_t> batches{0};
    std::atomic<uint64_t> jobs{0};
    std::atomic<uint64_t> wal_syncs{0};
    std::atomic<uint64_t> failed_syncs{0};
    std::atomic<uint64_t> rejected{0};      // Submit refused: channel full or closed
    std::atomic<uint64_t> reads{0};         // jobs run by Read on the I/O threads
    std::atomic<uint64_t> expired{0};       // values reaped after their TTL (expire events)
    std::atomic<uint64_t> feed_trimmed{0};  // feed records dropped by retention
  };

  // Takes ownership of db. now_micros is the clock of the KvStore.
  StorageThread(std::unique_ptr<DB> db, Settings settings, std::function<int64_t()> now_micros);
  ~StorageThread();  // Stops if still running.

  // Opens the change feed (KvStore::OpenFeed) and starts the thread. An error (the feed's state
  // is unreadable) leaves the thread unstarted.
  Status Start();
  // Queues job and returns true; returns false (job untouched) when the channel is full or
  // stopped.
  bool Submit(StorageJob* job);
  // Runs a read-only job on the calling thread now: job.run (it must only call KvStore's read
  // operations, and its return value is ignored), then job.complete(OK). An exception from
  // job.run propagates to the caller (complete is then not called).
  void Read(StorageJob&& job);
  // The engine's statistics (DB::GetStats, safe from any thread).
  DBStats EngineStats() const { return db_->GetStats(); }
  // The newest revision readers see (every acknowledged write is at or below it).
  uint64_t PublishedRevision() const { return db_->PublishedSequence(); }
  // The build caches' accounting (bytes, entries, evictions: any thread).
  const CacheQuotas& caches() const { return caches_; }
  // The change feed's tail and watchers.
  WatchHub& hub() { return hub_; }
  const WatchHub& hub() const { return hub_; }
  // A watcher of the changes after since that match filter; nullptr when max_watchers are
  // open already.
  std::unique_ptr<WatchStream> NewWatchStream(WatchFilter filter, uint64_t since,
                                              WatchStream::Format format, uint64_t max_watchers) {
    if (!hub_.TryAddWatcher(max_watchers)) return nullptr;
    return std::make_unique<WatchStream>(&hub_, db_.get(), std::move(filter), since, format);
  }
  // Runs every queued job, syncs the WAL, closes the DB and joins the thread. Returns the DB's
  // Close status. Idempotent (later calls return OK).
  Status Stop();

  size_t QueueDepth() const { return channel_.Size(); }
  size_t QueueCapacity() const { return channel_.capacity(); }
  const Counters& counters() const { return counters_; }

  // False after a write or sync failed (the engine keeps refusing writes until reopened);
  // *error then says why. A full disk (NoSpace) is not sticky in the engine: healthy turns true
  // again once a write succeeds.
  bool healthy(std::string* error) const;

 private:
  void Loop();
  void RunBatch(std::vector<StorageJob>* batch);
  // Reaping and trimming between groups (see above).
  void Maintain();
  // Syncs (with SyncMode::kAlways), publishes and hands the changes to the hub; returns the
  // sync's status.
  Status CommitGroup();
  // Takes the store's write error, if any, and notes it.
  void CheckWriteError();
  void NoteFailure(const Status& s);

  std::unique_ptr<DB> db_;
  const Settings settings_;
  CacheQuotas caches_;  // before store_, which keeps it
  KvStore store_;
  WatchHub hub_;
  std::chrono::steady_clock::time_point next_trim_{};  // storage thread only
  RequestChannel<StorageJob> channel_;
  Counters counters_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;

  std::atomic<bool> healthy_{true};
  bool unhealthy_from_full_disk_ = false;  // storage thread only
  mutable std::mutex error_mu_;
  std::string error_;  // guarded by error_mu_
};

}  // namespace keyva::server
