// Opening and closing a DB: DB::Open, recovery, DBImpl::Close (and DB::Put/Delete, the one-entry
// batches every DB shares).
//
// Recovery (OpenImpl), in order:
//   1. create the directory (create_if_missing) and take the LOCK file through the Env: a second
//      process opening the same directory gets Busy;
//   2. VersionSet::Recover reads CURRENT and the MANIFEST it names (version_set.h): the live SSTs
//      per level, the log number, the last sequence, the registered WALs;
//   3. every SST the MANIFEST names must exist with its recorded size, and every registered WAL
//      at or above the log number must exist; a missing or resized file is Corruption naming it
//      (plus a note when the MANIFEST itself ended in a torn record); live_files.h holds these
//      checks, which keyva verify (verify.cc) makes too;
//   4. every WAL numbered >= the log number is replayed, oldest first, into a fresh memtable
//      (DBImpl::ReplayWal over live_files.h's ReadWalBatches loop, which verify runs too). A batch
//      whose sequence is not above the largest replayed so far is skipped (a memtable rewrite
//      copies entries into a newer WAL). A torn tail (an interrupted append) is truncated; a
//      damaged record before the tail fails Open with Corruption;
//   5. a new WAL is created, the replayed memtable (if any) is frozen, a fresh MANIFEST is
//      written, obsolete files are deleted, and the frozen memtable is flushed to L0 like any
//      full one (background.cc).
// Open returns only after all of that, so a DB handed out is consistent and writable.
//
// Close: waits for the running job and installs it, rewrites a memtable that is mostly shadowed
// versions (so the WAL left behind is small), syncs and closes the WAL, releases the LOCK. Both
// run on the owner thread; the helper thread does not exist yet during recovery (it is started
// at the end of OpenImpl) and is joined by Close.
#include <algorithm>

#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/live_files.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/wal/wal_writer.h"

namespace keyva {

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
      std::make_shared<TableCache>(env_, dir_, options_.max_open_files, block_cache_.get());
  versions_ = std::make_unique<VersionSet>(env_, dir_);
  stats_.levels.resize(config::kNumLevels);
}

// A destructor cannot report a failure; owners that care call Close() first.
DBImpl::~DBImpl() { (void)Close(); }

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
      bool exists;
      uint64_t size;
      s = CheckLiveSst(env_, SstFileName(dir_, f->number), f->file_size, &exists, &size);
      if (s.IsCorruption()) return Status::Corruption(s.message() + torn);
      if (!s.ok()) return s;
    }
  }

  // Every WAL the MANIFEST registered at or above its log number must be there: a missing one
  // means acknowledged writes are gone (or that the MANIFEST lost an edit).
  for (uint64_t w : versions_->live_wals()) {
    std::string name = WalFileName(dir_, w);
    if (!env_->FileExists(name)) return Status::Corruption(NamedButMissing(name).message() + torn);
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
  PublishView();
  Publish();
  if (options_.background_work) worker_ = std::make_unique<HelperThread>();
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
  WalReplay replay;
  s = ReadWalBatches(
      std::move(file), name,
      [&](const WriteBatch& batch) {
        SequenceNumber seq = batch.Sequence();
        if (seq <= *max_sequence) return Status::OK();  // replayed from an older WAL
        Status is =
            batch.Iterate([&](ValueType type, std::string_view key, std::string_view value) {
              mem_->Add(seq++, type, key, value);
              return Status::OK();
            });
        if (is.ok()) *max_sequence = seq - 1;
        return is;
      },
      &replay);
  if (replay.bad_batch) return Status::Corruption(name + ": " + s.message());
  if (!s.ok()) return s;
  if (replay.torn_tail) {
    Log(name + ": torn tail after byte " + std::to_string(replay.valid_bytes) +
        " (an interrupted write); truncating it");
    s = env_->TruncateFile(name, replay.valid_bytes);
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
  {
    std::lock_guard<std::mutex> l(view_mu_);
    while (!snapshots_.empty()) {
      delete snapshots_.front();
      snapshots_.pop_front();
    }
  }
  versions_.reset();
  lock_.reset();
  return s;
}

}  // namespace keyva
