// The write path: DBImpl::Write and SyncWal, and everything that makes room for a write.
//
// Write (owner thread only): validate sizes -> MakeRoomForWrite -> roll the WAL if the last
// write to it failed -> one WAL record per batch (WalWriter::AddRecord, fsync when sync=always)
// -> insert every entry into the active memtable (MemTable::Add) with consecutive sequence
// numbers -> advance the last sequence -> publish it (unless WriteOptions::publish is off; then
// Publish does it later). A batch is visible to readers only after its WAL record was written
// and it was published; a failed WAL write still uses up the batch's sequence numbers (its record
// may be partly in the log) and never reaches the memtable. A freeze or a memtable rewrite
// publishes a new read view (read_view.cc) before the write goes on.
//
// MakeRoomForWrite, when the memtable is full (Options::memtable_bytes):
//   - a memtable that is at least half versions shadowed by newer ones is rewritten in memory
//     (RewriteMemtable: only versions some reader can still see, into a new synced WAL), so one
//     hot key written over and over never produces tiny SSTs;
//   - otherwise it is frozen (FreezeMemtable: a new registered WAL, the full memtable joins
//     frozen_ and is flushed by the helper thread, background.cc);
//   - with kMaxFrozenMemtables already frozen, the write waits (a stall): for the helper's flush,
//     or, when the helper runs a compaction, by flushing the oldest frozen memtable itself;
//   - with too many L0 files (kL0SlowdownTrigger/kL0StopTrigger) writes are slowed or wait for
//     compactions.
//
// Errors: NoSpace on a WAL write arms wal_needs_roll_ (the next write starts a new WAL: a partial
// record then only ever sits at the end of a log); any other WAL error is sticky (bg_error_).
#include <algorithm>
#include <chrono>
#include <thread>

#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/retention.h"
#include "internal/engine/wal/wal_writer.h"

namespace keyva {

Status DBImpl::NewWal(uint64_t* number, std::unique_ptr<WalWriter>* writer) {
  *number = versions_->NewFileNumber();
  std::unique_ptr<WritableFile> file;
  Status s = env_->NewWritableFile(WalFileName(dir_, *number), &file);
  if (!s.ok()) return s;
  s = env_->SyncDir(dir_);  // the new name must survive a power loss before it holds data
  if (!s.ok()) {
    // Failing already: the new, empty file goes (if it stays, recovery replays it as empty).
    (void)file->Close();
    (void)env_->RemoveFile(WalFileName(dir_, *number));
    return s;
  }
  *writer = std::make_unique<WalWriter>(std::move(file));
  return Status::OK();
}

void DBImpl::AddStallTime(std::chrono::steady_clock::time_point start) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  UpdateStats([&](DBStats& st) { st.stall_micros += micros; });
}

void DBImpl::SetBackgroundError(const Status& s) {
  if (bg_error_.ok() && !s.ok()) {
    bg_error_ = s;
    UpdateStats([&](DBStats& st) { st.background_error = s.ToString(); });
    Log("background error (writes now fail until reopen): " + s.ToString());
  }
}

Status DBImpl::Write(const WriteOptions& options, WriteBatch* batch) {
  if (closed_) return Status::InvalidArgument("the database is closed");
  if (!bg_error_.ok()) return bg_error_;
  if (batch->Empty()) {
    if (options.publish) Publish();
    return Status::OK();
  }
  Status s = batch->Iterate([](ValueType, std::string_view key, std::string_view value) {
    if (key.size() > kMaxKeySize) return Status::InvalidArgument("key is too long");
    if (value.size() > kMaxValueSize) return Status::InvalidArgument("value is too large");
    return Status::OK();
  });
  if (!s.ok()) return s;
  s = MakeRoomForWrite();
  if (!s.ok()) return s;
  if (wal_needs_roll_) {
    s = RollWal();
    if (!s.ok()) return s;
  }

  SequenceNumber seq = versions_->last_sequence() + 1;
  batch->SetSequence(seq);
  s = wal_->AddRecord(batch->Contents());
  SyncMode mode = options.has_sync ? options.sync : options_.sync;
  if (s.ok()) {
    wal_dirty_ = true;
    if (mode == SyncMode::kAlways) {
      s = wal_->Sync();
      if (s.ok()) wal_dirty_ = false;
    }
  }
  if (!s.ok()) {
    // The record may be in the log, whole or in part: its sequence numbers are used up, so no
    // later batch reuses them (recovery skips a batch whose sequence was already replayed).
    versions_->SetLastSequence(seq + batch->Count() - 1);
    WalWriteFailed(s);
    return s;
  }
  s = batch->Iterate([&](ValueType type, std::string_view key, std::string_view value) {
    mem_->Add(seq++, type, key, value);
    return Status::OK();
  });
  versions_->SetLastSequence(seq - 1);
  UpdateStats([&](DBStats& st) { st.user_bytes_written += batch->Contents().size(); });
  if (options.publish) Publish();
  return s;
}

Status DBImpl::SyncWal() {
  if (closed_) return Status::InvalidArgument("the database is closed");
  if (!bg_error_.ok()) return bg_error_;
  if (!wal_dirty_) return Status::OK();
  Status s = wal_->Sync();
  if (!s.ok()) {
    WalWriteFailed(s);
    return s;
  }
  wal_dirty_ = false;
  return Status::OK();
}

void DBImpl::WalWriteFailed(const Status& s) {
  UpdateStats([](DBStats& st) { st.write_failures++; });
  if (!IsRecoverable(s)) {
    SetBackgroundError(s);
    return;
  }
  if (!wal_needs_roll_) {
    Log(WalFileName(dir_, wal_number_) + ": write failed (" + s.ToString() +
        "); the next write starts a new WAL");
  }
  wal_needs_roll_ = true;
}

Status DBImpl::NewRegisteredWal(uint64_t* number, std::unique_ptr<WalWriter>* writer) {
  Status s = NewWal(number, writer);
  if (!s.ok()) return s;
  VersionEdit edit;  // register it before it holds any write
  edit.new_wals.push_back(*number);
  // On failure the (empty) file stays: the edit naming it may have reached the MANIFEST.
  return versions_->LogAndApply(&edit);
}

Status DBImpl::RollWal() {
  uint64_t number;
  std::unique_ptr<WalWriter> writer;
  Status s = NewRegisteredWal(&number, &writer);
  if (!s.ok()) {
    UpdateStats([](DBStats& st) { st.write_failures++; });
    if (!IsRecoverable(s)) SetBackgroundError(s);
    return s;
  }
  // The old log keeps its intact records (the memtable holds them; recovery replays them) and at
  // most one partial record at its very end, which recovery treats as a torn tail. Its bytes are
  // with the OS, so a failing close changes nothing recovery will read.
  (void)wal_->Close();
  wal_ = std::move(writer);
  wal_number_ = number;
  mem_wals_.push_back(number);
  wal_dirty_ = false;
  wal_needs_roll_ = false;
  PublishView();  // for its WAL list
  Log("writes continue in WAL " + std::to_string(number) + " after a failed write");
  return Status::OK();
}

Status DBImpl::MakeRoomForWrite() {
  PollBackgroundWork();
  if (!bg_error_.ok()) return bg_error_;
  // Compaction debt: slow each write a little when L0 piles up, wait when it piles up more.
  if (job_ && versions_->current_ptr()->NumFiles(0) >= config::kL0SlowdownTrigger) {
    auto stall_start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    UpdateStats([](DBStats& st) { st.slowdowns++; });
    while (job_ && versions_->current_ptr()->NumFiles(0) >= config::kL0StopTrigger) {
      Status s = WaitForJob();
      if (!s.ok()) return s;
      MaybeScheduleWork();
      UpdateStats([](DBStats& st) { st.stops++; });
    }
    AddStallTime(stall_start);
  }
  // A write that had to wait for flush debt: count the stop and its time.
  auto count_stop = [this](std::chrono::steady_clock::time_point start) {
    AddStallTime(start);
    UpdateStats([](DBStats& st) { st.stops++; });
  };
  bool rewrote = false;
  bool retried_early = false;
  while (mem_->ApproximateMemoryUsage() >= options_.memtable_bytes) {
    size_t usage = mem_->ApproximateMemoryUsage();
    if (!rewrote && frozen_.empty() && mem_->ShadowedBytes() * 2 >= usage) {
      // Mostly overwritten versions: rewrite in memory instead of producing a tiny SST.
      rewrote = true;
      Status s = RewriteMemtable();
      if (!s.ok()) return s;
      if (mem_->ApproximateMemoryUsage() * 4 < options_.memtable_bytes * 3) break;
      continue;
    }
    if (static_cast<int>(frozen_.size()) >= config::kMaxFrozenMemtables) {
      auto start = std::chrono::steady_clock::now();
      if (job_ && job_->kind == Job::Kind::kCompaction) {
        // The helper is busy merging SSTs, which can take long; only a flush pays this debt, so
        // this thread (which would wait anyway) flushes the oldest frozen memtable itself. The
        // two touch disjoint files: the compaction's inputs stay live until it is installed.
        Status s = FlushOldestInline();
        count_stop(start);
        if (!s.ok()) return s;
        continue;
      }
      // Too much flush debt: wait for the helper's flush (a write stall).
      Status s = WaitForJob();
      count_stop(start);
      if (!s.ok()) return s;
      if (!bg_error_.ok()) return bg_error_;
      MaybeScheduleWork();
      if (!job_ && static_cast<int>(frozen_.size()) >= config::kMaxFrozenMemtables) {
        // Backing off after failed work (a full disk, say). A writer that needs the room retries
        // once now if the last failure is kMinBackoffUs old, so writes resume soon after space
        // comes back instead of after the whole (up to kMaxBackoffUs) back-off.
        if (!retried_early && retry_after_us_ != 0 &&
            env_->NowMicros() >= last_failure_us_ + kMinBackoffUs) {
          retried_early = true;
          retry_after_us_ = 0;
          MaybeScheduleWork();
          continue;
        }
        return PendingFlushError();
      }
      continue;
    }
    return FreezeMemtable();
  }
  return Status::OK();
}

Status DBImpl::RewriteMemtable() {
  // Keep only the versions some reader can still see; they go into a new WAL (synced) and a new
  // memtable, then the MANIFEST's log number moves past the old WALs, which are removed.
  std::vector<SequenceNumber> snapshots = LiveSnapshots();
  RetentionFilter filter(snapshots, /*bottommost=*/false, /*now_us=*/0);
  struct Kept {
    SequenceNumber seq;
    ValueType type;
    std::string key, value;
  };
  std::vector<Kept> kept;
  auto it = mem_->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ParsedInternalKey k;
    if (!ParseInternalKey(it->key(), &k)) return Status::Corruption("memtable holds a bad key");
    if (filter.Decide(k, it->value()) == RetentionFilter::Decision::kDrop) continue;
    kept.push_back({k.sequence, k.type, std::string(k.user_key), std::string(it->value())});
  }
  std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) { return a.seq < b.seq; });

  uint64_t number;
  std::unique_ptr<WalWriter> writer;
  Status s = NewWal(&number, &writer);
  auto mem = std::make_shared<MemTable>();
  WriteBatch batch;
  for (size_t i = 0; s.ok() && i < kept.size(); i++) {
    batch.Clear();
    if (kept[i].type == ValueType::kValue) {
      batch.PutStored(kept[i].key, kept[i].value);
    } else {
      batch.Delete(kept[i].key);
    }
    batch.SetSequence(kept[i].seq);
    s = writer->AddRecord(batch.Contents());
    mem->Add(kept[i].seq, kept[i].type, kept[i].key, kept[i].value);
  }
  if (s.ok()) s = writer->Sync();
  bool logged = false;
  if (s.ok()) {
    VersionEdit edit;
    edit.log_number = number;
    edit.new_wals.push_back(number);
    logged = true;
    s = versions_->LogAndApply(&edit);
  }
  if (!s.ok()) {
    if (writer) (void)writer->Close();  // failing already; the file is dealt with below
    if (logged) {
      // The edit may have reached the MANIFEST: then recovery reads only this (complete) WAL and
      // newer ones, so it must stay, and later writes must go to a WAL numbered above it.
      wal_needs_roll_ = true;
    } else {
      (void)env_->RemoveFile(WalFileName(dir_, number));  // best effort: not registered anywhere
    }
    if (!IsRecoverable(s)) SetBackgroundError(s);
    return s;
  }
  (void)wal_->Close();  // removed just below: the new WAL holds everything still needed
  wal_ = std::move(writer);
  wal_number_ = number;
  wal_dirty_ = false;
  wal_needs_roll_ = false;
  // Below the new log number: recovery ignores them, and DeleteObsoleteFiles removes survivors.
  for (uint64_t old : mem_wals_) (void)env_->RemoveFile(WalFileName(dir_, old));
  mem_wals_ = {number};
  Log("memtable rewritten in memory: " + std::to_string(mem_->NumEntries()) + " entries -> " +
      std::to_string(kept.size()));
  mem_ = std::move(mem);
  PublishView();
  UpdateStats([](DBStats& st) { st.memtable_compactions++; });
  return Status::OK();
}

Status DBImpl::FreezeMemtable() {
  uint64_t number;
  std::unique_ptr<WalWriter> writer;
  Status s = NewRegisteredWal(&number, &writer);
  if (!s.ok()) {
    // On a failed edit the new (empty) file stays: the edit may have reached the MANIFEST.
    if (!IsRecoverable(s)) SetBackgroundError(s);
    return s;
  }
  // The old WAL's bytes are already with the OS (and synced if sync=always); closing it is enough.
  // (A WAL whose write failed cannot be synced; its unsynced records were never acknowledged as
  // durable.)
  if (wal_dirty_ && !wal_needs_roll_) s = wal_->Sync();
  (void)wal_->Close();  // the sync above decided what is durable; closing releases the descriptor
  if (!s.ok()) {
    UpdateStats([](DBStats& st) { st.write_failures++; });
    if (!IsRecoverable(s)) {
      SetBackgroundError(s);
      return s;
    }
    // Only sync=none writes were unsynced: they promise to survive a process crash, which they
    // do (their bytes are with the OS). Carry on with the new log.
  }
  frozen_.push_back(MemGeneration{mem_, mem_wals_});
  mem_ = std::make_shared<MemTable>();
  mem_wals_ = {number};
  wal_ = std::move(writer);
  wal_number_ = number;
  wal_dirty_ = false;
  wal_needs_roll_ = false;
  PublishView();
  MaybeScheduleWork();
  return Status::OK();
}

}  // namespace keyva
