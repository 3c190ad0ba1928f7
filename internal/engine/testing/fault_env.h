// FaultEnv: an in-memory file system for tests that can lose power and fail on demand.
//
// Power loss model (SimulatePowerLoss): every file keeps only the bytes that were Sync()ed, and
// the directory namespace (which names exist and which file each names) reverts to what it was at
// the last SyncDir() of that directory. So a file created but never made durable by SyncDir
// disappears, an un-synced rename reverts, and an un-synced removal comes back.
//
// Fault injection: FailOperation(k) makes the k-th counted operation from now (1 = the next) fail
// with an IOError (or NoSpace, see SetFailureCode); "sticky" keeps failing every later operation
// too until ClearFaults(). FailFilesEndingWith(".sst") fails every counted operation on a file
// whose name ends so (until ClearFaults), e.g. a disk that is full for SSTs while the small WAL
// appends still fit. Counted operations: file creation/opening, Append, Flush, Sync, Read,
// Rename, Remove, Truncate, SyncDir. OperationCount() reports how many have run.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "internal/engine/env.h"

namespace keyva {

class FaultEnv final : public Env {
 public:
  FaultEnv();
  ~FaultEnv() override;

  Status NewSequentialFile(const std::string& name,
                           std::unique_ptr<SequentialFile>* result) override;
  Status NewRandomAccessFile(const std::string& name,
                             std::unique_ptr<RandomAccessFile>* result) override;
  Status NewWritableFile(const std::string& name, std::unique_ptr<WritableFile>* result) override;
  bool FileExists(const std::string& name) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* result) override;
  Status RemoveFile(const std::string& name) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& name, uint64_t size) override;
  Status GetFileSize(const std::string& name, uint64_t* size) override;
  Status CreateDir(const std::string& dir) override;
  Status SyncDir(const std::string& dir) override;
  Status LockFile(const std::string& name, std::unique_ptr<FileLock>* lock) override;
  int64_t NowMicros() override;

  // Drops every unsynced byte and every namespace change not made durable by SyncDir.
  // Open file handles stay usable but write into files that are no longer named.
  void SimulatePowerLoss();

  // Fails the k-th counted operation from now (k >= 1). With sticky, that one and all later ones.
  void FailOperation(uint64_t k, bool sticky = false);
  void FailFilesEndingWith(const std::string& suffix);
  void SetFailureCode(Status::Code code);  // kIOError (default) or kNoSpace
  void ClearFaults();
  uint64_t OperationCount() const;

  // Clock control: when set, NowMicros returns this value instead of the real clock.
  void SetNowMicros(int64_t now);

  // Raw access for corruption tests: the whole contents of a named file.
  Status ReadRaw(const std::string& name, std::string* data);
  Status WriteRaw(const std::string& name, const std::string& data);  // replaces, durable

  struct Node;  // a file's contents (public for the file handle classes)
  // Counts one operation; returns the injected error if it is the one to fail.
  Status CountOp(const std::string& what);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> live_;     // the namespace now
  std::map<std::string, std::shared_ptr<Node>> durable_;  // the namespace after a power loss
  std::set<std::string> dirs_;
  std::set<std::string> locks_;
  uint64_t ops_ = 0;
  uint64_t fail_at_ = 0;  // 0 = no fault armed
  bool sticky_ = false;
  std::string fail_suffix_;  // empty = none
  bool failing_ = false;
  Status::Code failure_code_ = Status::Code::kIOError;
  int64_t fixed_now_ = -1;

  friend class FaultFileLock;
};

}  // namespace keyva
