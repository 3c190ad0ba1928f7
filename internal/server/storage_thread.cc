// The storage thread's loop and group commit; see storage_thread.h.
#include "internal/server/storage_thread.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace keyva::server {

StorageThread::StorageThread(std::unique_ptr<DB> db, Settings settings,
                             std::function<int64_t()> now_micros)
    : db_(std::move(db)),
      settings_(settings),
      caches_(settings_.caches),
      store_(db_.get(), std::move(now_micros), KvStore::Commit::kGroup, &caches_),
      hub_(settings.hub),
      channel_(settings.queue_capacity) {}

// A destructor cannot report; keyvad calls Stop() itself and reports its Status.
StorageThread::~StorageThread() { (void)Stop(); }

Status StorageThread::Start() {
  uint64_t trimmed = 0;
  Status s = store_.OpenFeed(&trimmed);
  if (s.ok()) s = store_.OpenCaches();
  if (s.ok() && settings_.sync == SyncMode::kAlways) s = db_->SyncWal();
  if (!s.ok()) return s;
  db_->Publish();
  hub_.Reset(db_->PublishedSequence(), trimmed);
  (void)store_.TakeChanges();  // startup evictions: in the durable feed, before any watcher
  for (const auto& cache : caches_.all()) {
    spdlog::info("build cache '{}': {} entries, {} of {} bytes{}", cache->prefix(),
                 cache->entries(), cache->bytes(), cache->limit(),
                 cache->evictions() > 0
                     ? " (" + std::to_string(cache->evictions()) + " evicted to fit the quota)"
                     : std::string());
  }
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return Status::OK();
}

bool StorageThread::Submit(StorageJob* job) {
  if (channel_.TryPush(job)) return true;
  counters_.rejected.fetch_add(1, std::memory_order_relaxed);
  return false;
}

Status StorageThread::Stop() {
  if (stopped_) return Status::OK();
  stopped_ = true;
  channel_.Close();
  if (started_) thread_.join();
  // The loop has ended: this thread is now the DB's only user.
  Status s = db_->SyncWal();
  Status c = db_->Close();
  if (!s.ok()) {
    spdlog::error("syncing the WAL at shutdown failed: {}", s.ToString());
    return s;
  }
  if (!c.ok()) spdlog::error("closing the database failed: {}", c.ToString());
  return c;
}

bool StorageThread::healthy(std::string* error) const {
  if (healthy_.load(std::memory_order_acquire)) return true;
  std::lock_guard<std::mutex> lock(error_mu_);
  *error = error_;
  return false;
}

void StorageThread::NoteFailure(const Status& s) {
  // A sticky engine error must not be hidden by a later full-disk one.
  if (healthy_.load(std::memory_order_acquire) || unhealthy_from_full_disk_) {
    unhealthy_from_full_disk_ = s.IsNoSpace();
  }
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    error_ = s.ToString();
  }
  healthy_.store(false, std::memory_order_release);
}

void StorageThread::Read(StorageJob&& job) {
  counters_.reads.fetch_add(1, std::memory_order_relaxed);
  (void)job.run(store_);
  job.complete(Status::OK());
}

void StorageThread::Loop() {
  std::vector<StorageJob> batch;
  batch.reserve(settings_.max_batch);
  while (true) {
    batch.clear();
    bool open = channel_.PopBatch(&batch, settings_.max_batch, settings_.idle_poll);
    if (!batch.empty()) RunBatch(&batch);
    db_->PollBackgroundWork();
    if (!open) break;
    Maintain();
  }
}

void StorageThread::CheckWriteError() {
  if (Status w = store_.TakeWriteError(); !w.ok()) {
    NoteFailure(w);
    spdlog::error("a write failed: {}", w.ToString());
  }
}

Status StorageThread::CommitGroup() {
  Status sync;
  if (settings_.sync == SyncMode::kAlways) {
    sync = db_->SyncWal();
    counters_.wal_syncs.fetch_add(1, std::memory_order_relaxed);
    if (!sync.ok()) {
      counters_.failed_syncs.fetch_add(1, std::memory_order_relaxed);
      NoteFailure(sync);
    }
  }
  // Readers on the I/O threads see the group from now on: after its sync (so never a write a
  // crash could still take away), before any of its responses (so a request sent after a
  // response sees what it acknowledged). A group whose sync failed is published too: its writes
  // are in the memtable and the next successful group would publish them anyway; they were
  // not acknowledged, and may or may not survive a restart (db.h). The watchers hear of the
  // changes right after, still before any response.
  db_->Publish();
  hub_.Append(store_.TakeChanges(), db_->PublishedSequence());
  return sync;
}

void StorageThread::Maintain() {
  ReapResult reap = store_.ReapExpired(kReapMax);
  if (!reap.status.ok()) spdlog::warn("reaping expired values failed: {}", reap.status.ToString());
  counters_.expired.fetch_add(reap.expired, std::memory_order_relaxed);
  bool wrote = reap.wrote;
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_trim_) {
    next_trim_ = now + kTrimInterval;
    TrimResult trim = store_.TrimFeed(
        settings_.retention_revisions,
        std::chrono::duration_cast<std::chrono::microseconds>(settings_.retention_age).count(),
        kTrimMax);
    if (!trim.status.ok()) spdlog::warn("trimming the feed failed: {}", trim.status.ToString());
    if (trim.wrote) {
      // Before the trim is published (watch_hub.h).
      hub_.SetTrimmed(trim.trimmed_upto);
      counters_.feed_trimmed.fetch_add(trim.trimmed, std::memory_order_relaxed);
      wrote = true;
    }
  }
  CheckWriteError();
  if (wrote) {
    Status sync = CommitGroup();
    if (!sync.ok()) spdlog::error("WAL sync after reaping/trimming failed: {}", sync.ToString());
  }
}

void StorageThread::RunBatch(std::vector<StorageJob>* batch) {
  std::vector<Status> outcome(batch->size());
  std::vector<bool> wrote(batch->size(), false);
  bool any_wrote = false;
  for (size_t i = 0; i < batch->size(); i++) {
    try {
      wrote[i] = (*batch)[i].run(store_);
    } catch (const std::exception& e) {
      outcome[i] = Status::IOError(std::string("internal error: ") + e.what());
      // A job that threw may have written before throwing; treat it as a writer.
      wrote[i] = true;
    }
    any_wrote = any_wrote || wrote[i];
  }
  Status write_error = store_.TakeWriteError();
  if (const Status& w = write_error; !w.ok()) {
    NoteFailure(w);
    spdlog::error("a write failed: {}", w.ToString());
  }
  counters_.batches.fetch_add(1, std::memory_order_relaxed);
  counters_.jobs.fetch_add(batch->size(), std::memory_order_relaxed);
  Status sync;
  if (any_wrote) {
    sync = CommitGroup();
    if (!sync.ok()) {
      spdlog::error("WAL sync failed; {} writes not acknowledged: {}",
                    std::count(wrote.begin(), wrote.end(), true), sync.ToString());
    }
  }
  // After a full disk, the first batch that writes and syncs cleanly makes the server healthy.
  if (unhealthy_from_full_disk_ && any_wrote && sync.ok() && write_error.ok() &&
      !healthy_.load(std::memory_order_acquire)) {
    bool clean = true;
    for (size_t i = 0; i < batch->size(); i++) clean = clean && outcome[i].ok();
    if (clean && store_.db()->GetStats().background_error.empty()) {
      unhealthy_from_full_disk_ = false;
      healthy_.store(true, std::memory_order_release);
      spdlog::info("writes succeed again after a full disk");
    }
  }
  for (size_t i = 0; i < batch->size(); i++) {
    const Status& s = !outcome[i].ok() ? outcome[i] : (wrote[i] ? sync : outcome[i]);
    try {
      (*batch)[i].complete(s);
    } catch (const std::exception& e) {
      spdlog::error("completing a request failed: {}", e.what());
    }
  }
}

}  // namespace keyva::server
