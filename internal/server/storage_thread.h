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
// Stop() closes the channel, runs every job still queued, syncs the WAL and closes the DB.
//
// Thread-safety: Submit, Read, EngineStats, QueueDepth, counters() and healthy() from any thread
// (Read and EngineStats not after Stop); Start and Stop from the thread that owns the
// StorageThread object. Submitted jobs run on the storage thread, Read jobs on the caller.
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
  };

  // Monotonic counters for /metrics and /api/stats.
  struct Counters {
    std::atomic<uint64_t> batches{0};
    std::atomic<uint64_t> jobs{0};
    std::atomic<uint64_t> wal_syncs{0};
    std::atomic<uint64_t> failed_syncs{0};
    std::atomic<uint64_t> rejected{0};  // Submit refused: channel full or closed
    std::atomic<uint64_t> reads{0};     // jobs run by Read on the I/O threads
  };

  // Takes ownership of db. now_micros is the clock of the KvStore.
  StorageThread(std::unique_ptr<DB> db, Settings settings, std::function<int64_t()> now_micros);
  ~StorageThread();  // Stops if still running.

  void Start();
  // Queues job and returns true; returns false (job untouched) when the channel is full or
  // stopped.
  bool Submit(StorageJob* job);
  // Runs a read-only job on the calling thread now: job.run (it must only call KvStore's read
  // operations, and its return value is ignored), then job.complete(OK). An exception from
  // job.run propagates to the caller (complete is then not called).
  void Read(StorageJob&& job);
  // The engine's statistics (DB::GetStats, safe from any thread).
  DBStats EngineStats() const { return db_->GetStats(); }
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
  void NoteFailure(const Status& s);

  std::unique_ptr<DB> db_;
  const Settings settings_;
  KvStore store_;
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
