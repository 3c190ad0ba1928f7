// DBImpl::Checkpoint: a consistent online copy of the database in a new directory (see db.h).
//
// Everything happens on the owner thread, so nothing can change the state being copied: no write,
// flush install or compaction install runs until Checkpoint returns (the helper thread may still
// be writing new SSTs, which are not part of the frozen state). The copy is made of
//   - the SSTs of the current Version, hard-linked (SSTs are immutable) or copied when linking
//     fails (another file system); the Version is held, so its files stay on disk meanwhile;
//   - the WALs of the active and frozen memtables, synced first and copied up to their current
//     length (the owner appends only whole records, so that length ends at a record boundary);
//   - a fresh MANIFEST: one record describing those files, the WALs, the log number, the last
//     sequence and the next file number - the same record a DB writes when it opens;
//   - CURRENT, written last (SetCurrentFile: temp file, sync, rename, sync the directory).
// Opening the copy replays its WALs over its SSTs exactly as a restart of the source would, so it
// holds every write acknowledged before the call.
#include <algorithm>

#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/version_edit.h"
#include "internal/engine/wal/wal_writer.h"

namespace keyva {
namespace {

// Copies the first size bytes of from into a new file to, and syncs it.
Status CopyFilePrefix(Env* env, const std::string& from, const std::string& to, uint64_t size) {
  std::unique_ptr<SequentialFile> in;
  Status s = env->NewSequentialFile(from, &in);
  if (!s.ok()) return s;
  std::unique_ptr<WritableFile> out;
  s = env->NewWritableFile(to, &out);
  if (!s.ok()) return s;
  constexpr size_t kChunk = 1 << 20;
  std::string scratch(kChunk, '\0');
  uint64_t left = size;
  while (s.ok() && left > 0) {
    std::string_view chunk;
    s = in->Read(static_cast<size_t>(std::min<uint64_t>(left, kChunk)), &chunk, scratch.data());
    if (!s.ok()) break;
    if (chunk.empty()) {
      s = Status::Corruption(from + ": shorter than the " + std::to_string(size) +
                             " bytes to copy");
      break;
    }
    s = out->Append(chunk);
    left -= chunk.size();
  }
  if (s.ok()) s = out->Sync();
  Status c = out->Close();
  return s.ok() ? c : s;
}

}  // namespace

Status DBImpl::Checkpoint(const std::string& dir_in) {
  if (closed_) return Status::InvalidArgument("the database is closed");
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return Status::InvalidArgument("checkpoint directory name is empty");
  if (dir == dir_) return Status::InvalidArgument(dir + ": is the database's own directory");
  if (env_->FileExists(dir)) {
    return Status::InvalidArgument(dir + ": already exists (a checkpoint needs a new directory)");
  }
  if (!bg_error_.ok()) return bg_error_;

  // 1. Every write so far becomes durable in the source WALs (the active one is synced here; a
  //    frozen one was synced when it was frozen).
  Status s = SyncWal();
  if (!s.ok()) return s;

  // 2. The frozen state: the files of the current Version, and the WALs with their lengths.
  std::shared_ptr<const Version> version = versions_->current();
  std::vector<uint64_t> wals;
  for (const MemGeneration& g : frozen_) wals.insert(wals.end(), g.wals.begin(), g.wals.end());
  wals.insert(wals.end(), mem_wals_.begin(), mem_wals_.end());
  std::sort(wals.begin(), wals.end());
  wals.erase(std::unique(wals.begin(), wals.end()), wals.end());
  std::vector<uint64_t> wal_sizes(wals.size());
  for (size_t i = 0; i < wals.size(); i++) {
    s = env_->GetFileSize(WalFileName(dir_, wals[i]), &wal_sizes[i]);
    if (!s.ok()) return s;
  }
  const uint64_t manifest_number = versions_->NewFileNumber();

  s = env_->CreateDir(dir);
  if (!s.ok()) return s;
  std::vector<std::string> written;  // removed again if the checkpoint fails
  auto fail = [&](const Status& error) {
    for (const std::string& name : written) (void)env_->RemoveFile(name);  // best effort
    Log("checkpoint into " + dir + " failed: " + error.ToString());
    return error;
  };

  // 3. SSTs: hard links, or copies.
  int linked = 0, copied = 0;
  for (const auto& files : version->files) {
    for (const auto& f : files) {
      const std::string from = SstFileName(dir_, f->number);
      const std::string to = SstFileName(dir, f->number);
      s = env_->LinkFile(from, to);
      if (s.ok()) {
        linked++;
      } else {
        s = CopyFilePrefix(env_, from, to, f->file_size);
        copied++;
      }
      written.push_back(to);
      if (!s.ok()) return fail(s);
    }
  }

  // 4. WALs, up to the length they had once synced.
  for (size_t i = 0; i < wals.size(); i++) {
    const std::string to = WalFileName(dir, wals[i]);
    s = CopyFilePrefix(env_, WalFileName(dir_, wals[i]), to, wal_sizes[i]);
    written.push_back(to);
    if (!s.ok()) return fail(s);
  }

  // 5. A fresh MANIFEST holding the whole state in one record.
  VersionEdit state;
  state.log_number =
      wals.empty() ? versions_->log_number() : std::min(versions_->log_number(), wals.front());
  state.next_file_number = manifest_number + 1;
  state.last_sequence = versions_->last_sequence();
  state.new_wals = wals;
  for (int level = 0; level < config::kNumLevels; level++) {
    for (const auto& f : version->files[level]) state.AddFile(level, *f);
  }
  std::string record;
  state.EncodeTo(&record);
  const std::string manifest = ManifestFileName(dir, manifest_number);
  std::unique_ptr<WritableFile> file;
  s = env_->NewWritableFile(manifest, &file);
  if (!s.ok()) return fail(s);
  written.push_back(manifest);
  {
    WalWriter writer(std::move(file));
    s = writer.AddRecord(record);
    if (s.ok()) s = writer.Sync();
    Status c = writer.Close();
    if (s.ok()) s = c;
  }
  if (!s.ok()) return fail(s);

  // 6. The names, then CURRENT (which syncs the directory again).
  s = env_->SyncDir(dir);
  written.push_back(CurrentFileName(dir));  // SetCurrentFile may fail after its rename
  if (s.ok()) s = SetCurrentFile(env_, dir, manifest_number);
  if (!s.ok()) return fail(s);
  Log("checkpoint written to " + dir + ": " + std::to_string(linked) + " SST(s) linked, " +
      std::to_string(copied) + " copied, " + std::to_string(wals.size()) +
      " WAL(s) copied, last sequence " + std::to_string(versions_->last_sequence()));
  return Status::OK();
}

}  // namespace keyva
