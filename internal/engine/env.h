// Env: the one seam through which the engine touches the file system and the clock.
//
// Every file operation of the engine goes through an Env, so tests can swap the real POSIX one for
// FaultEnv (testing/fault_env.h), an in-memory file system that can drop unsynced data (simulated
// power loss) and fail chosen operations. Paths are plain strings ("dir/000012.sst").
//
// Thread safety: an Env and its RandomAccessFiles may be used from several threads at once. A
// WritableFile or SequentialFile is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "internal/engine/status.h"

namespace keyva {

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes. *result points into scratch (at least n bytes) or into the file's own
  // memory. A short (or empty) result means end of file.
  virtual Status Read(size_t n, std::string_view* result, char* scratch) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset; *result may point into scratch. Safe from several threads.
  virtual Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const = 0;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Append may buffer in user space; Flush hands buffered bytes to the OS (they then survive a
  // process crash); Sync makes them durable (survive power loss).
  virtual Status Append(std::string_view data) = 0;
  virtual Status Flush() = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far, buffered or not.
  virtual uint64_t Size() const = 0;
};

// A held lock on a file (released when destroyed).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment. Never destroyed.
  static Env* Default();

  virtual Status NewSequentialFile(const std::string& name,
                                   std::unique_ptr<SequentialFile>* result) = 0;
  virtual Status NewRandomAccessFile(const std::string& name,
                                     std::unique_ptr<RandomAccessFile>* result) = 0;
  // Creates the file, or truncates an existing one.
  virtual Status NewWritableFile(const std::string& name,
                                 std::unique_ptr<WritableFile>* result) = 0;

  virtual bool FileExists(const std::string& name) = 0;
  // Names (not paths) of the entries of dir.
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* result) = 0;
  virtual Status RemoveFile(const std::string& name) = 0;
  // Atomically replaces target if it exists.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& name, uint64_t size) = 0;
  // Makes `to` a second name (hard link) of the existing file `from`. NotSupported when this Env
  // or the file system cannot (different file systems, no hard links); callers then copy.
  virtual Status LinkFile(const std::string& from, const std::string& to) {
    return Status::NotSupported(to + ": this Env cannot make hard links");
  }
  virtual Status GetFileSize(const std::string& name, uint64_t* size) = 0;
  // Creates dir (and missing parents); OK if it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  // Makes creations, renames and removals in dir durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive lock on name (creating it); Busy if another holder has it.
  virtual Status LockFile(const std::string& name, std::unique_ptr<FileLock>* lock) = 0;
  // Takes a shared lock on the existing file name (never creating it): readers that must not run
  // beside a writer hold it (keyva verify, see LockDataDirShared in verify.h). Shared holders do
  // not exclude each other; LockFile is Busy while any holds it, and this is Busy while LockFile's
  // holder has it. NotFound when name does not exist; NotSupported by an Env without shared locks.
  virtual Status LockFileShared(const std::string& name, std::unique_ptr<FileLock>* lock) {
    return Status::NotSupported(name + ": this Env has no shared locks");
  }

  // Wall-clock time in microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;
};

// Reads a whole file into *data.
Status ReadFileToString(Env* env, const std::string& name, std::string* data);
// Writes data to name (truncating), syncs it; used for small files such as CURRENT.
Status WriteStringToFileSync(Env* env, std::string_view data, const std::string& name);

}  // namespace keyva
