#include "internal/engine/db/db_impl.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "internal/engine/table/block_cache.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/util/hash.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/merging_iterator.h"
#include "internal/engine/db/retention.h"
#include "internal/engine/table/sst_builder.h"
#include "internal/engine/table/sst_reader.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/wal/wal_reader.h"
#include "internal/engine/wal/wal_writer.h"

namespace keyva {

// ---------------------------------------------------------------------------------------------
// BackgroundWorker

BackgroundWorker::BackgroundWorker() : thread_([this] { Loop(); }) {}

BackgroundWorker::~BackgroundWorker() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

std::future<void> BackgroundWorker::Submit(std::function<void()> job) {
  std::packaged_task<void()> task(std::move(job));
  std::future<void> f = task.get_future();
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return f;
}

void BackgroundWorker::Loop() {
  while (true) {
    std::packaged_task<void()> task;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshots and the DB open/close

class DBImpl::SnapshotImpl final : public Snapshot {
 public:
  explicit SnapshotImpl(SequenceNumber seq) : Snapshot(seq) {}
  std::list<SnapshotImpl*>::iterator pos;
};

Status DB::Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db) {
  db->reset();
  if (dir.empty()) return Status::InvalidArgument("data directory name is empty");
  if (options.memtable_bytes < 4096) {
    return Status::InvalidArgument("memtable_bytes must be at least 4096");
  }
  auto impl = std::make_unique<DBImpl>(options, dir);
  Status s = impl->OpenImpl();
  if (!s.ok()) return s;
  *db = std::move(impl);
  return Status::OK();
}

Status DB::Put(std::string_view key, std::string_view value, const ValueMeta& meta) {
  WriteBatch b;
  b.Put(key, value, meta);
  return Write(WriteOptions(), &b);
}

Status DB::Delete(std::string_view key) {
  WriteBatch b;
  b.Delete(key);
  return Write(WriteOptions(), &b);
}

DBImpl::DBImpl(const Options& options, std::string dir)
    : options_(options),
      env_(options.env ? options.env : Env::Default()),
      dir_(dir.size() > 1 && dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir) {
  block_cache_ = std::make_shared<BlockCache>(options_.block_cache_bytes);
  table_cache_ =
      std::make_unique<TableCache>(env_, dir_, options_.max_open_files, block_cache_.get());
  versions_ = std::make_unique<VersionSet>(env_, dir_);
  stats_.levels.resize(config::kNumLevels);
}

DBImpl::~DBImpl() { Close(); }

void DBImpl::Log(const std::string& line) {
  if (options_.info_log) options_.info_log(line);
}

Status DBImpl::OpenImpl() {
  Status s;
  if (options_.create_if_missing) {
    s = env_->CreateDir(dir_);
    if (!s.ok()) return s;
  }
  s = env_->LockFile(LockFileName(dir_), &lock_);
  if (!s.ok()) return s;

  s = versions_->Recover();
  if (s.IsNotFound()) {
    if (!options_.create_if_missing) {
      return Status::InvalidArgument(dir_ + ": no database here (CURRENT is missing)");
    }
    versions_->InitializeEmpty();
    Log("creating a new database in " + dir_);
  } else if (!s.ok()) {
    return s;
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dir_ + ": a database already exists");
  }

  // Every SST the manifest names must be there, with the size it recorded. When the MANIFEST
  // ended in a torn record, a missing file may mean the MANIFEST itself was cut short: say so.
  const std::string torn =
      versions_->torn_manifest_note().empty()
          ? std::string()
          : "; note: " + versions_->torn_manifest_note() + ", so the MANIFEST may be truncated";
  if (!torn.empty()) Log(versions_->torn_manifest_note() + "; the incomplete edit is ignored");
  auto version = versions_->current();
  for (const auto& files : version->files) {
    for (const auto& f : files) {
      uint64_t size;
      std::string name = SstFileName(dir_, f->number);
      s = env_->GetFileSize(name, &size);
      if (s.IsNotFound()) {
        return Status::Corruption(name + ": named by the MANIFEST but missing" + torn);
      }
      if (!s.ok()) return s;
      if (size != f->file_size) {
        return Status::Corruption(name + ": size " + std::to_string(size) +
                                  " but the MANIFEST says " + std::to_string(f->file_size) +
                                  (size < f->file_size ? " (truncated)" : " (grown)") + torn);
      }
    }
  }

  // Every WAL the MANIFEST registered at or above its log number must be there: a missing one
  // means acknowledged writes are gone (or that the MANIFEST lost an edit).
  for (uint64_t w : versions_->live_wals()) {
    std::string name = WalFileName(dir_, w);
    if (!env_->FileExists(name)) {
      return Status::Corruption(name + ": named by the MANIFEST but missing" + torn);
    }
  }

  std::vector<std::string> children;
  s = env_->GetChildren(dir_, &children);
  if (!s.ok()) return s;
  std::vector<uint64_t> wals;
  for (const auto& name : children) {
    uint64_t number;
    FileType type = ParseFileName(name, &number);
    if (type == FileType::kUnknown) continue;
    versions_->MarkFileNumberUsed(number);
    if (type == FileType::kWal && number >= versions_->log_number()) wals.push_back(number);
  }
  std::sort(wals.begin(), wals.end());

  mem_ = std::make_shared<MemTable>();
  SequenceNumber max_sequence = 0;
  for (uint64_t number : wals) {
    s = ReplayWal(number, &max_sequence);
    if (!s.ok()) return s;
    mem_wals_.push_back(number);
    versions_->RegisterWal(number);
  }
  if (max_sequence > versions_->last_sequence()) versions_->SetLastSequence(max_sequence);

  s = NewWal(&wal_number_, &wal_);
  if (!s.ok()) return s;
  // Replayed entries are frozen and flushed to L0 (like LevelDB and RocksDB do at recovery):
  // reads then meet a small fresh memtable instead of searching up to a whole replayed one, and
  // the old WALs go away once the flush is installed.
  const bool flush_replayed = mem_->NumEntries() > 0;
  if (flush_replayed) {
    frozen_.push_back(MemGeneration{mem_, mem_wals_});
    mem_ = std::make_shared<MemTable>();
    mem_wals_.clear();
  }
  mem_wals_.push_back(wal_number_);
  versions_->RegisterWal(wal_number_);
  s = versions_->WriteNewManifest();
  if (!s.ok()) return s;
  if (options_.background_work) worker_ = std::make_unique<BackgroundWorker>();
  DeleteObsoleteFiles();
  if (flush_replayed) MaybeScheduleWork();
  Log("opened " + dir_ + ": " + std::to_string(wals.size()) + " WAL(s) replayed, last sequence " +
      std::to_string(versions_->last_sequence()));
  return Status::OK();
}

Status DBImpl::ReplayWal(uint64_t number, SequenceNumber* max_sequence) {
  std::string name = WalFileName(dir_, number);
  std::unique_ptr<SequentialFile> file;
  Status s = env_->NewSequentialFile(name, &file);
  if (!s.ok()) return s;
  WalReader reader(std::move(file), name);
  std::string record;
  WriteBatch batch;
  uint64_t applied = 0;
  while (reader.ReadRecord(&record)) {
    s = batch.SetContents(record);
    if (!s.ok()) return Status::Corruption(name + ": " + s.message());
    SequenceNumber seq = batch.Sequence();
    if (seq <= *max_sequence) continue;  // already replayed from an older WAL
    s = batch.Iterate([&](ValueType type, std::string_view key, std::string_view value) {
      mem_->Add(seq++, type, key, value);
      return Status::OK();
    });
    if (!s.ok()) return Status::Corruption(name + ": " + s.message());
    *max_sequence = seq - 1;
    applied++;
  }
  if (!reader.status().ok()) return reader.status();
  if (reader.torn_tail()) {
    Log(name + ": torn tail after byte " + std::to_string(reader.valid_bytes()) +
        " (an interrupted write); truncating it");
    s = env_->TruncateFile(name, reader.valid_bytes());
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status DBImpl::Close() {
  if (closed_) return Status::OK();
  Status s = WaitForJob();
  // A memtable that is mostly overwritten versions is rewritten so that the WAL left behind is
  // small (one hot key written a million times leaves a few bytes, not megabytes).
  if (s.ok() && bg_error_.ok() && mem_ && frozen_.empty() && mem_->NumEntries() > 1 &&
      mem_->ShadowedBytes() * 2 >= mem_->ApproximateMemoryUsage()) {
    s = RewriteMemtable();
  }
  closed_ = true;
  worker_.reset();
  if (wal_) {
    Status ws = wal_->Sync();
    Status cs = wal_->Close();
    if (s.ok()) s = ws.ok() ? cs : ws;
    wal_.reset();
  }
  while (!snapshots_.empty()) {
    delete snapshots_.front();
    snapshots_.pop_front();
  }
  versions_.reset();
  lock_.reset();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Writes

Status DBImpl::NewWal(uint64_t* number, std::unique_ptr<WalWriter>* writer) {
  *number = versions_->NewFileNumber();
  std::unique_ptr<WritableFile> file;
  Status s = env_->NewWritableFile(WalFileName(dir_, *number), &file);
  if (!s.ok()) return s;
  s = env_->SyncDir(dir_);  // the new name must survive a power loss before it holds data
  if (!s.ok()) {
    file->Close();
    env_->RemoveFile(WalFileName(dir_, *number));
    return s;
  }
  *writer = std::make_unique<WalWriter>(std::move(file));
  return Status::OK();
}

void DBImpl::SetBackgroundError(const Status& s) {
  if (bg_error_.ok() && !s.ok()) {
    bg_error_ = s;
    Log("background error (writes now fail until reopen): " + s.ToString());
  }
}

Status DBImpl::Write(const WriteOptions& options, WriteBatch* batch) {
  if (closed_) return Status::InvalidArgument("the database is closed");
  if (!bg_error_.ok()) return bg_error_;
  if (batch->Empty()) return Status::OK();
  Status s = batch->Iterate([](ValueType, std::string_view key, std::string_view value) {
    if (key.size() > config::kMaxKeySize) return Status::InvalidArgument("key is too long");
    if (value.size() > config::kMaxValueSize) return Status::InvalidArgument("value is too large");
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
  stats_.user_bytes_written += batch->Contents().size();
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
  stats_.write_failures++;
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
    stats_.write_failures++;
    if (!IsRecoverable(s)) SetBackgroundError(s);
    return s;
  }
  // The old log keeps its intact records (the memtable holds them; recovery replays them) and at
  // most one partial record at its very end, which recovery treats as a torn tail.
  wal_->Close();
  wal_ = std::move(writer);
  wal_number_ = number;
  mem_wals_.push_back(number);
  wal_dirty_ = false;
  wal_needs_roll_ = false;
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
    stats_.slowdowns++;
    while (job_ && versions_->current_ptr()->NumFiles(0) >= config::kL0StopTrigger) {
      Status s = WaitForJob();
      if (!s.ok()) return s;
      MaybeScheduleWork();
      stats_.stops++;
    }
    stats_.stall_micros += std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - stall_start)
                               .count();
  }
  // A write that had to wait for flush debt: count the stop and its time.
  auto count_stop = [this](std::chrono::steady_clock::time_point start) {
    stats_.stall_micros += std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count();
    stats_.stops++;
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
    if (writer) writer->Close();
    if (logged) {
      // The edit may have reached the MANIFEST: then recovery reads only this (complete) WAL and
      // newer ones, so it must stay, and later writes must go to a WAL numbered above it.
      wal_needs_roll_ = true;
    } else {
      env_->RemoveFile(WalFileName(dir_, number));
    }
    if (!IsRecoverable(s)) SetBackgroundError(s);
    return s;
  }
  wal_->Close();
  wal_ = std::move(writer);
  wal_number_ = number;
  wal_dirty_ = false;
  wal_needs_roll_ = false;
  for (uint64_t old : mem_wals_) env_->RemoveFile(WalFileName(dir_, old));
  mem_wals_ = {number};
  Log("memtable rewritten in memory: " + std::to_string(mem_->NumEntries()) + " entries -> " +
      std::to_string(kept.size()));
  mem_ = std::move(mem);
  stats_.memtable_compactions++;
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
  wal_->Close();
  if (!s.ok()) {
    stats_.write_failures++;
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
  MaybeScheduleWork();
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Background work: flushes (compactions arrive with their own change)

std::vector<SequenceNumber> DBImpl::LiveSnapshots() const {
  std::vector<SequenceNumber> v;
  for (const SnapshotImpl* s : snapshots_) v.push_back(s->sequence());
  return v;
}

Status DBImpl::WriteTables(Iterator* iter, Job* job, bool bottommost, bool split) {
  SstOptions sst_options;
  sst_options.block_size = options_.block_size;
  sst_options.restart_interval = options_.block_restart_interval;
  sst_options.bloom_bits_per_key = options_.bloom_bits_per_key;
  sst_options.compression = options_.compression;
  RetentionFilter filter(job->snapshots, bottommost, job->now_us);

  size_t next_number = 0;
  std::unique_ptr<WritableFile> file;
  std::unique_ptr<SstBuilder> builder;
  uint64_t number = 0;
  Status s;
  auto finish_file = [&]() -> Status {
    Status fs = builder->Finish();
    if (fs.ok()) fs = file->Sync();
    Status c = file->Close();
    if (fs.ok()) fs = c;
    if (!fs.ok()) return fs;
    FileMeta meta;
    meta.number = number;
    meta.file_size = builder->FileSize();
    meta.smallest = builder->smallest_key();
    meta.largest = builder->largest_key();
    job->bytes_written += meta.file_size;
    job->outputs.push_back(std::move(meta));
    builder.reset();
    file.reset();
    return Status::OK();
  };
  std::string last_user_key, tombstone_key;
  for (iter->SeekToFirst(); s.ok() && iter->Valid(); iter->Next()) {
    ParsedInternalKey k;
    if (!ParseInternalKey(iter->key(), &k)) {
      s = Status::Corruption("bad internal key in compaction input");
      break;
    }
    RetentionFilter::Decision d = filter.Decide(k, iter->value());
    if (d == RetentionFilter::Decision::kDrop) continue;
    // Cut only where the user key changes, so a key's versions never straddle two files.
    if (builder && split && builder->FileSize() >= options_.target_file_size &&
        k.user_key != last_user_key && next_number < job->numbers.size()) {
      s = finish_file();
      if (!s.ok()) break;
    }
    if (!builder) {
      number = job->numbers[std::min(next_number, job->numbers.size() - 1)];
      next_number++;
      s = env_->NewWritableFile(SstFileName(dir_, number), &file);
      if (!s.ok()) break;
      builder = std::make_unique<SstBuilder>(sst_options, file.get());
    }
    last_user_key.assign(k.user_key);
    if (d == RetentionFilter::Decision::kKeep) {
      builder->Add(iter->key(), iter->value());
    } else {
      tombstone_key = MakeInternalKey(k.user_key, k.sequence, ValueType::kDeletion);
      builder->Add(tombstone_key, {});
    }
  }
  if (s.ok()) s = iter->status();
  if (s.ok() && builder) s = finish_file();
  if (!s.ok()) {
    if (builder) builder->Abandon();
    if (file) file->Close();
    for (uint64_t n : job->numbers) env_->RemoveFile(SstFileName(dir_, n));
    job->outputs.clear();
  }
  return s;
}

Status DBImpl::PendingFlushError() const {
  if (!last_failure_.ok()) return last_failure_;
  return Status::IOError("flush debt cannot be paid: no flush could be scheduled");
}

void DBImpl::BackgroundWorkFailed(const Status& s) {
  if (!IsRecoverable(s)) {
    SetBackgroundError(s);
    return;
  }
  stats_.background_failures++;
  last_failure_ = s;
  retry_backoff_us_ = std::clamp<int64_t>(retry_backoff_us_ * 2, kMinBackoffUs, kMaxBackoffUs);
  last_failure_us_ = env_->NowMicros();
  retry_after_us_ = last_failure_us_ + retry_backoff_us_;
  Log("background work failed (retrying in " + std::to_string(retry_backoff_us_ / 1000) +
      " ms): " + s.ToString());
}

void DBImpl::MaybeScheduleWork() {
  if (job_ || !bg_error_.ok() || closed_) return;
  if (retry_after_us_ != 0 && env_->NowMicros() < retry_after_us_) return;  // backing off
  if (!frozen_.empty()) {
    auto job = std::make_unique<Job>();
    job->kind = Job::Kind::kFlush;
    job->mem = frozen_.front().mem;
    job->snapshots = LiveSnapshots();
    job->numbers.push_back(versions_->NewFileNumber());
    StartJob(std::move(job));
    return;
  }
  // Pick depends only on the Version (and on the picker's pointers, which move only when it
  // returns a plan), so a Version that needed nothing still needs nothing.
  const uint64_t id = versions_->current_id();
  if (id == idle_version_id_) return;
  auto plan = picker_.Pick(*versions_->current_ptr());
  if (!plan) plan = PickSeekCompaction();
  if (!plan) {
    idle_version_id_ = id;
    return;
  }
  StartCompaction(std::move(plan));
}

void DBImpl::StartCompaction(std::unique_ptr<CompactionPlan> plan) {
  if (plan->trivial_move) {
    VersionEdit edit;
    const FileMeta& f = *plan->inputs[0][0];
    edit.RemoveFile(plan->level, f.number);
    edit.AddFile(plan->output_level(), f);
    Status s = versions_->LogAndApply(&edit);
    if (!s.ok()) {
      BackgroundWorkFailed(s);
      return;
    }
    Log("moved " + std::to_string(f.number) + ".sst from L" + std::to_string(plan->level) +
        " to L" + std::to_string(plan->output_level()));
    MaybeScheduleWork();
    return;
  }
  auto job = std::make_unique<Job>();
  job->kind = Job::Kind::kCompaction;
  job->snapshots = LiveSnapshots();
  job->now_us = env_->NowMicros();
  uint64_t files = plan->InputBytes() / std::max<uint64_t>(options_.target_file_size, 1);
  for (uint64_t i = 0; i < files * 2 + 2; i++) job->numbers.push_back(versions_->NewFileNumber());
  job->plan = std::move(plan);
  StartJob(std::move(job));
}

void DBImpl::ChargeSeek(const FileMeta& f, int level) {
  if (level >= config::kNumLevels - 1) return;
  auto it = seeks_left_.find(f.number);
  if (it == seeks_left_.end()) {
    // As LevelDB: one seek costs about as much as compacting 16 KiB, and at least 100 are allowed.
    int allowed = static_cast<int>(std::min<uint64_t>(f.file_size / 16384, 1 << 30));
    it = seeks_left_.emplace(f.number, std::max(allowed, 100)).first;
  }
  if (--it->second > 0 || seek_compaction_number_ != 0) return;
  seek_compaction_number_ = f.number;  // scheduled by Get once it is done with its Version
  seek_compaction_level_ = level;
  idle_version_id_ = UINT64_MAX;  // there is work now
}

std::unique_ptr<CompactionPlan> DBImpl::PickSeekCompaction() {
  if (seek_compaction_number_ == 0) return nullptr;
  const uint64_t number = seek_compaction_number_;
  const int level = seek_compaction_level_;
  seek_compaction_number_ = 0;
  seeks_left_.erase(number);
  const Version& v = *versions_->current_ptr();
  for (const auto& f : v.files[level]) {
    if (f->number == number) return picker_.PickFile(v, level, f);
  }
  return nullptr;  // already compacted away
}

Status DBImpl::FlushOldestInline() {
  auto job = std::make_unique<Job>();
  job->kind = Job::Kind::kFlush;
  job->mem = frozen_.front().mem;
  job->snapshots = LiveSnapshots();
  job->numbers.push_back(versions_->NewFileNumber());
  pending_outputs_.insert(job->numbers.begin(), job->numbers.end());
  auto it = job->mem->NewIterator();
  job->status = WriteTables(it.get(), job.get(), /*bottommost=*/false, /*split=*/false);
  Status s = InstallJob(job.get());
  if (!s.ok()) SetBackgroundError(s);
  return s;
}

void DBImpl::StartJob(std::unique_ptr<Job> job) {
  pending_outputs_.insert(job->numbers.begin(), job->numbers.end());
  Job* j = job.get();
  auto run = [this, j] {
    if (j->kind == Job::Kind::kFlush) {
      auto it = j->mem->NewIterator();
      j->status = WriteTables(it.get(), j, /*bottommost=*/false, /*split=*/false);
    } else {
      j->status = RunCompactionJob(j);
    }
  };
  if (worker_) {
    job->done = worker_->Submit(run);
    job_ = std::move(job);
  } else {
    run();
    Status s = InstallJob(job.get());
    if (!s.ok()) BackgroundWorkFailed(s);
    MaybeScheduleWork();
  }
}

Status DBImpl::RunCompactionJob(Job* job) {
  std::vector<std::unique_ptr<Iterator>> children;
  for (const auto& side : job->plan->inputs) {
    for (const auto& f : side) {
      std::shared_ptr<SstReader> reader;
      Status s = table_cache_->Get(*f, &reader);
      if (!s.ok()) return s;
      children.push_back(reader->NewIterator(/*fill_cache=*/false));
    }
  }
  auto merged = NewMergingIterator(std::move(children));
  return WriteTables(merged.get(), job, job->plan->bottommost, /*split=*/true);
}

Status DBImpl::WaitForJob() {
  if (!job_) return Status::OK();
  job_->done.wait();
  std::unique_ptr<Job> job = std::move(job_);
  Status s = InstallJob(job.get());
  if (!s.ok()) BackgroundWorkFailed(s);
  return s;
}

void DBImpl::PollBackgroundWork() {
  if (job_ && job_->done.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    WaitForJob();
  }
  MaybeScheduleWork();
}

Status DBImpl::WaitForBackgroundWork() {
  retry_after_us_ = 0;  // an explicit wait retries failed work at once
  const uint64_t failures = stats_.background_failures;
  while (true) {
    Status s = WaitForJob();
    if (!s.ok()) return s;
    if (!bg_error_.ok()) return bg_error_;
    MaybeScheduleWork();
    if (job_) continue;
    // Without a helper thread, work ran (and may have failed) inside MaybeScheduleWork.
    if (stats_.background_failures != failures) return last_failure_;
    return frozen_.empty() ? Status::OK() : PendingFlushError();
  }
}

Status DBImpl::InstallJob(Job* job) {
  Status s = job->status;
  if (s.ok()) s = job->kind == Job::Kind::kFlush ? InstallFlush(job) : InstallCompaction(job);
  for (uint64_t n : job->numbers) pending_outputs_.erase(n);
  if (!s.ok()) {
    // After a failed MANIFEST write the edit naming the outputs may be on disk: they stay until a
    // new MANIFEST is written (then DeleteObsoleteFiles removes them).
    if (!versions_->needs_new_manifest()) {
      for (const auto& f : job->outputs) env_->RemoveFile(SstFileName(dir_, f.number));
    }
    return s;
  }
  last_failure_ = Status::OK();
  retry_backoff_us_ = 0;
  retry_after_us_ = 0;
  return s;
}

Status DBImpl::InstallCompaction(Job* job) {
  Status s = env_->SyncDir(dir_);
  if (!s.ok()) return s;
  const CompactionPlan& plan = *job->plan;
  VersionEdit edit;
  for (int side = 0; side < 2; side++) {
    for (const auto& f : plan.inputs[side]) edit.RemoveFile(plan.level + side, f->number);
  }
  for (const auto& f : job->outputs) edit.AddFile(plan.output_level(), f);
  s = versions_->LogAndApply(&edit);
  if (!s.ok()) return s;
  stats_.compactions++;
  stats_.compaction_bytes_read += plan.InputBytes();
  stats_.compaction_bytes_written += job->bytes_written;
  Log("compacted L" + std::to_string(plan.level) + " (" + std::to_string(plan.inputs[0].size()) +
      " files) + L" + std::to_string(plan.output_level()) + " (" +
      std::to_string(plan.inputs[1].size()) + " files), " + std::to_string(plan.InputBytes()) +
      " bytes -> " + std::to_string(job->outputs.size()) + " files, " +
      std::to_string(job->bytes_written) + " bytes" + (plan.bottommost ? " (bottommost)" : ""));
  DeleteObsoleteFiles();
  return Status::OK();
}

Status DBImpl::InstallFlush(Job* job) {
  Status s =
      env_->SyncDir(dir_);  // the new SST's name must be durable before the MANIFEST names it
  if (!s.ok()) return s;
  VersionEdit edit;
  for (const auto& f : job->outputs) edit.AddFile(0, f);
  // WALs of the flushed memtable are no longer needed: the log number moves to the oldest WAL
  // still holding unflushed entries.
  edit.log_number = frozen_.size() > 1 ? frozen_[1].wals.front() : mem_wals_.front();
  s = versions_->LogAndApply(&edit);
  if (!s.ok()) return s;
  MemGeneration done = std::move(frozen_.front());
  frozen_.pop_front();
  for (uint64_t w : done.wals) env_->RemoveFile(WalFileName(dir_, w));
  stats_.flushes++;
  stats_.flush_bytes_written += job->bytes_written;
  std::string files;
  for (const auto& f : job->outputs) files += " " + std::to_string(f.number) + ".sst";
  Log("flushed memtable (" + std::to_string(done.mem->NumEntries()) + " entries) to L0:" +
      (files.empty() ? std::string(" nothing left after dropping shadowed versions") : files) +
      ", " + std::to_string(job->bytes_written) + " bytes");
  return Status::OK();
}

void DBImpl::DeleteObsoleteFiles() {
  // An uncertain MANIFEST edit may name files this process considers dead.
  if (versions_->needs_new_manifest()) return;
  std::set<uint64_t> live(pending_outputs_.begin(), pending_outputs_.end());
  versions_->AddLiveFiles(&live);
  std::vector<std::string> children;
  if (!env_->GetChildren(dir_, &children).ok()) return;
  for (const auto& name : children) {
    uint64_t number;
    bool remove = false;
    switch (ParseFileName(name, &number)) {
      case FileType::kWal:
        remove = number < versions_->log_number();
        break;
      case FileType::kSst:
        remove = live.count(number) == 0;
        if (remove) {
          table_cache_->Evict(number);
          seeks_left_.erase(number);
        }
        break;
      case FileType::kManifest:
        remove = number != versions_->manifest_number();
        break;
      case FileType::kTemp:
        remove = true;
        break;
      default:
        break;
    }
    if (remove) env_->RemoveFile(dir_ + "/" + name);
  }
}

Status DBImpl::Flush() {
  if (closed_) return Status::InvalidArgument("the database is closed");
  if (!bg_error_.ok()) return bg_error_;
  retry_after_us_ = 0;  // an explicit flush retries failed work at once
  if (mem_->NumEntries() > 0) {
    Status s = FreezeMemtable();
    if (!s.ok()) return s;
  }
  return WaitForBackgroundWork();
}

Status DBImpl::CompactRange(const std::string* begin, const std::string* end) {
  Status s = Flush();
  if (!s.ok()) return s;
  int last = 0;
  for (int level = 0; level < config::kNumLevels; level++) {
    if (versions_->current()->NumFiles(level) > 0) last = level;
  }
  for (int level = 0; level < last; level++) {
    while (true) {
      s = WaitForJob();
      if (!s.ok()) return s;
      auto plan = picker_.PickRange(*versions_->current(), level, begin, end);
      if (!plan) break;
      const uint64_t failures = stats_.background_failures;
      StartCompaction(std::move(plan));
      if (!bg_error_.ok()) return bg_error_;
      if (stats_.background_failures != failures) return last_failure_;
    }
  }
  s = WaitForBackgroundWork();
  if (s.ok()) DeleteObsoleteFiles();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Reads

const Snapshot* DBImpl::GetSnapshot() {
  auto* s = new SnapshotImpl(versions_->last_sequence());
  snapshots_.push_back(s);
  s->pos = std::prev(snapshots_.end());
  return s;
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  auto* s = const_cast<SnapshotImpl*>(static_cast<const SnapshotImpl*>(snapshot));
  snapshots_.erase(s->pos);
  delete s;
}

Status DBImpl::Get(const ReadOptions& options, std::string_view key, std::string* value,
                   ValueMeta* meta) {
  if (closed_) return Status::InvalidArgument("the database is closed");
  SequenceNumber snapshot =
      options.snapshot ? options.snapshot->sequence() : versions_->last_sequence();
  std::string stored;
  ValueType type;
  SequenceNumber seq;
  bool found = mem_->Get(key, snapshot, &type, &stored, &seq);
  for (auto it = frozen_.rbegin(); !found && it != frozen_.rend(); ++it) {
    found = it->mem->Get(key, snapshot, &type, &stored, &seq);
  }
  if (!found) {
    // The internal lookup key, on the stack for ordinary key sizes.
    char small[128];
    std::string large;
    std::string_view lookup;
    const uint64_t trailer = PackSequenceAndType(snapshot, kValueTypeForSeek);
    if (key.size() + 8 <= sizeof(small)) {
      if (!key.empty()) std::memcpy(small, key.data(), key.size());
      EncodeFixed64(small + key.size(), trailer);
      lookup = std::string_view(small, key.size() + 8);
    } else {
      large = MakeInternalKey(key, snapshot, kValueTypeForSeek);
      lookup = large;
    }
    const uint64_t key_hash = Hash64(key);  // one hash for every file's bloom filter
    const Version* version = versions_->current_ptr();
    std::string ikey;
    auto probe = [&](const FileMeta& f) -> Status {
      std::shared_ptr<SstReader> reader;
      Status s = table_cache_->Get(f, &reader);
      if (!s.ok()) return s;
      s = reader->GetWithHash(lookup, key_hash, options.fill_cache, &found, &ikey, &stored);
      if (!s.ok() || !found) return s;
      ParsedInternalKey parsed;
      if (!ParseInternalKey(ikey, &parsed)) {
        return Status::Corruption(SstFileName(dir_, f.number) + ": bad internal key");
      }
      type = parsed.type;
      return Status::OK();
    };
    // Seek accounting (LevelDB's allowed_seeks): a lookup that had to go past a file charges that
    // file; a file charged too often is compacted, so read-mostly data settles into fewer runs.
    const FileMeta* first_probed = nullptr;
    int first_level = 0;
    bool charged = false;
    auto before_probe = [&](const FileMeta& f, int level) {
      if (first_probed == nullptr) {
        first_probed = &f;
        first_level = level;
      } else if (!charged) {
        charged = true;
        ChargeSeek(*first_probed, first_level);
      }
    };
    for (const auto& f : version->files[0]) {
      if (key < ExtractUserKey(f->smallest) || key > ExtractUserKey(f->largest)) continue;
      before_probe(*f, 0);
      Status s = probe(*f);
      if (!s.ok()) return s;
      if (found) break;
    }
    for (int level = 1; !found && level < config::kNumLevels; level++) {
      size_t i = version->FindFile(level, lookup);
      if (i >= version->files[level].size()) continue;
      const FileMeta& f = *version->files[level][i];
      if (key < ExtractUserKey(f.smallest)) continue;
      before_probe(f, level);
      Status s = probe(f);
      if (!s.ok()) return s;
    }
  }
  // A read-only owner never calls PollBackgroundWork: install finished work now and then.
  if ((job_ && (++gets_since_poll_ & 1023) == 0) || (!job_ && seek_compaction_number_ != 0)) {
    PollBackgroundWork();
  }
  if (!found || type == ValueType::kDeletion) return Status::NotFound("key not found");
  std::string_view bytes;
  if (!DecodeStoredValue(stored, meta, &bytes)) {
    return Status::Corruption("stored value of a key is malformed");
  }
  if (meta->ExpiredAt(env_->NowMicros())) return Status::NotFound("key expired");
  value->assign(bytes.data(), bytes.size());
  return Status::OK();
}

// The user-facing iterator: collapses versions, hides tombstones and expired values.
class DBImpl::Iter final : public DBIterator {
 public:
  Iter(std::unique_ptr<Iterator> internal, SequenceNumber snapshot, int64_t now_us,
       std::vector<std::shared_ptr<MemTable>> mems, std::shared_ptr<const Version> version,
       std::shared_ptr<BlockCache> cache)
      : cache_(std::move(cache)),
        mems_(std::move(mems)),
        version_(std::move(version)),
        internal_(std::move(internal)),
        snapshot_(snapshot),
        now_us_(now_us) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    internal_->SeekToFirst();
    skip_.clear();
    has_skip_ = false;
    FindNextVisible();
  }
  void Seek(std::string_view target) override {
    seek_key_.assign(target);  // the internal lookup key, in a buffer reused by every Seek
    PutFixed64(&seek_key_, PackSequenceAndType(snapshot_, kValueTypeForSeek));
    internal_->Seek(seek_key_);
    skip_.clear();
    has_skip_ = false;
    FindNextVisible();
  }
  void Next() override {
    internal_->Next();
    FindNextVisible();
  }
  std::string_view key() const override { return skip_; }
  std::string_view value() const override { return value_; }
  const ValueMeta& meta() const override { return meta_; }
  Status status() const override { return status_.ok() ? internal_->status() : status_; }

 private:
  void FindNextVisible() {
    valid_ = false;
    for (; internal_->Valid(); internal_->Next()) {
      ParsedInternalKey k;
      if (!ParseInternalKey(internal_->key(), &k)) {
        status_ = Status::Corruption("bad internal key during iteration");
        return;
      }
      if (k.sequence > snapshot_) continue;
      if (has_skip_ && k.user_key == skip_) continue;  // an older version of a decided key
      skip_.assign(k.user_key);
      has_skip_ = true;
      if (k.type == ValueType::kDeletion) continue;
      if (!DecodeStoredValue(internal_->value(), &meta_, &value_)) {
        status_ = Status::Corruption("malformed stored value during iteration");
        return;
      }
      if (meta_.ExpiredAt(now_us_)) continue;
      valid_ = true;
      return;
    }
  }

  // (Declared before internal_, so they outlive it: its level iterators point into version_, and
  // its table readers use the cache.)
  std::shared_ptr<BlockCache> cache_;            // keep the block cache alive
  std::vector<std::shared_ptr<MemTable>> mems_;  // keep the memtables alive
  std::shared_ptr<const Version> version_;       // keep the files alive
  std::unique_ptr<Iterator> internal_;
  SequenceNumber snapshot_;
  int64_t now_us_;
  std::string seek_key_;
  bool valid_ = false;
  std::string skip_;
  bool has_skip_ = false;
  std::string_view value_;
  ValueMeta meta_;
  Status status_;
};

std::unique_ptr<DBIterator> DBImpl::NewIterator(const ReadOptions& options) {
  SequenceNumber snapshot =
      options.snapshot ? options.snapshot->sequence() : versions_->last_sequence();
  std::vector<std::shared_ptr<MemTable>> mems{mem_};
  for (const auto& g : frozen_) mems.push_back(g.mem);
  std::vector<std::unique_ptr<Iterator>> children;
  for (const auto& m : mems) children.push_back(m->NewIterator());
  auto version = versions_->current();
  bool fill_cache = options.fill_cache;
  auto open_file = [this, fill_cache](const FileMeta& f) -> std::unique_ptr<Iterator> {
    std::shared_ptr<SstReader> reader;
    Status s = table_cache_->Get(f, &reader);
    if (!s.ok()) return NewEmptyIterator(s);
    return reader->NewIterator(fill_cache);
  };
  for (const auto& f : version->files[0]) children.push_back(open_file(*f));
  for (int level = 1; level < config::kNumLevels; level++) {
    // The Iter keeps version alive for as long as these level iterators exist: they can point
    // into it instead of copying its file lists.
    const auto* files = &version->files[level];
    if (files->empty()) continue;
    children.push_back(NewConcatenatingIterator(
        files->size(), [files, open_file](size_t i) { return open_file(*(*files)[i]); },
        [files](size_t i) { return std::string_view((*files)[i]->largest); }));
  }
  return std::make_unique<Iter>(NewMergingIterator(std::move(children)), snapshot,
                                env_->NowMicros(), std::move(mems), std::move(version),
                                block_cache_);
}

// ---------------------------------------------------------------------------------------------
// Stats and checks

DBStats DBImpl::GetStats() {
  DBStats s = stats_;
  auto version = versions_->current();
  s.levels.assign(config::kNumLevels, LevelStats{});
  s.live_sst_bytes = 0;
  for (int level = 0; level < config::kNumLevels; level++) {
    s.levels[level].files = version->NumFiles(level);
    s.levels[level].bytes = version->LevelBytes(level);
    s.live_sst_bytes += s.levels[level].bytes;
  }
  s.memtable_bytes = mem_ ? mem_->ApproximateMemoryUsage() : 0;
  s.frozen_memtables = static_cast<int>(frozen_.size());
  s.wal_bytes = 0;
  std::vector<uint64_t> wals = mem_wals_;
  for (const auto& g : frozen_) wals.insert(wals.end(), g.wals.begin(), g.wals.end());
  for (uint64_t w : wals) {
    uint64_t size = 0;
    if (env_->GetFileSize(WalFileName(dir_, w), &size).ok()) s.wal_bytes += size;
  }
  s.last_sequence = versions_->last_sequence();
  uint64_t written = s.flush_bytes_written + s.compaction_bytes_written;
  s.write_amplification =
      s.user_bytes_written ? static_cast<double>(written) / s.user_bytes_written : 0.0;
  s.cache_capacity = block_cache_->Capacity();
  s.cache_usage = block_cache_->Usage();
  s.cache_pinned = block_cache_->PinnedUsage();
  s.cache_hits = block_cache_->Hits();
  s.cache_misses = block_cache_->Misses();
  s.background_error = bg_error_.ok() ? "" : bg_error_.ToString();
  s.compactions_running = job_ && job_->kind == Job::Kind::kCompaction ? 1 : 0;
  return s;
}

Status DBImpl::VerifyIntegrity() {
  auto version = versions_->current();
  Status s = version->CheckInvariants();
  if (!s.ok()) return s;
  for (const auto& files : version->files) {
    for (const auto& f : files) {
      std::shared_ptr<SstReader> reader;
      s = table_cache_->Get(*f, &reader);
      if (s.ok()) s = reader->VerifyChecksums();
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

}  // namespace keyva
