// The POSIX Env: pread for random reads, a user-space buffer for appends, fdatasync for Sync and
// flock for the directory lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "internal/engine/env.h"

namespace keyva {
namespace {

constexpr size_t kWriteBufferSize = 64 * 1024;

Status PosixError(const std::string& context, int err) { return Status::FromErrno(context, err); }

// Reads up to n bytes into scratch with read_some(dest, want, got_so_far), retrying on EINTR and
// stopping early only at end of file; *result views what was read.
template <class ReadSome>
Status ReadUpTo(const std::string& name, size_t n, char* scratch, std::string_view* result,
                ReadSome read_some) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read_some(scratch + got, n - got, got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(name, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  *result = std::string_view(scratch, got);
  return Status::OK();
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, std::string_view* result, char* scratch) override {
    return ReadUpTo(name_, n, scratch, result,
                    [this](char* p, size_t want, size_t) { return ::read(fd_, p, want); });
  }

 private:
  std::string name_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    return ReadUpTo(name_, n, scratch, result, [this, offset](char* p, size_t want, size_t got) {
      return ::pread(fd_, p, want, static_cast<off_t>(offset + got));
    });
  }

 private:
  std::string name_;
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {
    buf_.reserve(kWriteBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      (void)FlushBuffer();
      ::close(fd_);
    }
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kWriteBufferSize) {
      buf_.append(data);
      return Status::OK();
    }
    Status s = FlushBuffer();
    if (!s.ok()) return s;
    if (data.size() < kWriteBufferSize) {
      buf_.append(data);
      return Status::OK();
    }
    return WriteAll(data);
  }

  Status Flush() override { return FlushBuffer(); }

  Status Sync() override {
    Status s = FlushBuffer();
    if (!s.ok()) return s;
    if (::fdatasync(fd_) != 0) return PosixError(name_, errno);
    return Status::OK();
  }

  Status Close() override {
    Status s = FlushBuffer();
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = PosixError(name_, errno);
    fd_ = -1;
    return s;
  }

  uint64_t Size() const override { return size_; }

 private:
  Status FlushBuffer() {
    if (buf_.empty()) return Status::OK();
    Status s = WriteAll(buf_);
    buf_.clear();
    return s;
  }

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t w = ::write(fd_, data.data(), data.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError(name_, errno);
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    return Status::OK();
  }

  std::string name_;
  int fd_;
  std::string buf_;
  uint64_t size_ = 0;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Status NewSequentialFile(const std::string& name,
                           std::unique_ptr<SequentialFile>* result) override {
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return OpenError(name);
    result->reset(new PosixSequentialFile(name, fd));
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& name,
                             std::unique_ptr<RandomAccessFile>* result) override {
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return OpenError(name);
    result->reset(new PosixRandomAccessFile(name, fd));
    return Status::OK();
  }

  Status NewWritableFile(const std::string& name, std::unique_ptr<WritableFile>* result) override {
    int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return OpenError(name);
    result->reset(new PosixWritableFile(name, fd));
    return Status::OK();
  }

  bool FileExists(const std::string& name) override { return ::access(name.c_str(), F_OK) == 0; }

  Status GetChildren(const std::string& dir, std::vector<std::string>* result) override {
    result->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return OpenError(dir);
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      result->emplace_back(e->d_name);
    }
    ::closedir(d);
    return Status::OK();
  }

  Status RemoveFile(const std::string& name) override {
    if (::unlink(name.c_str()) != 0) return OpenError(name);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from, errno);
    return Status::OK();
  }

  Status LinkFile(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) == 0) return Status::OK();
    int err = errno;
    if (err == EXDEV || err == EPERM || err == ENOTSUP || err == EMLINK) {
      return Status::NotSupported(to + ": cannot hard-link " + from + ": " + std::strerror(err));
    }
    return PosixError(from, err);
  }

  Status TruncateFile(const std::string& name, uint64_t size) override {
    if (::truncate(name.c_str(), static_cast<off_t>(size)) != 0) return PosixError(name, errno);
    return Status::OK();
  }

  Status GetFileSize(const std::string& name, uint64_t* size) override {
    struct stat st;
    if (::stat(name.c_str(), &st) != 0) return OpenError(name);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    if (dir.empty()) return Status::OK();
    std::string path;
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir.find('/', pos + 1);
      path = dir.substr(0, pos);
      if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return PosixError(path, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError(dir, errno);
    ::close(fd);
    return s;
  }

  // Takes flock(op | LOCK_NB) on the opened fd and hands it to *lock; closes fd and answers
  // Busy when another process holds a conflicting lock.
  static Status FlockOpened(const std::string& name, int fd, int op,
                            std::unique_ptr<FileLock>* lock) {
    if (::flock(fd, op | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::Busy(name + ": the data directory is in use by another process");
      }
      return PosixError(name, err);
    }
    lock->reset(new PosixFileLock(fd));
    return Status::OK();
  }

  Status LockFile(const std::string& name, std::unique_ptr<FileLock>* lock) override {
    int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(name, errno);
    return FlockOpened(name, fd, LOCK_EX, lock);
  }

  Status LockFileShared(const std::string& name, std::unique_ptr<FileLock>* lock) override {
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return OpenError(name);
    return FlockOpened(name, fd, LOCK_SH, lock);
  }

  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  static Status OpenError(const std::string& name) {
    if (errno == ENOENT) return Status::NotFound(name + ": no such file or directory");
    return PosixError(name, errno);
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Status ReadFileToString(Env* env, const std::string& name, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  Status s = env->NewSequentialFile(name, &file);
  if (!s.ok()) return s;
  constexpr size_t kChunk = 64 * 1024;
  std::string scratch(kChunk, '\0');
  while (true) {
    std::string_view piece;
    s = file->Read(kChunk, &piece, scratch.data());
    if (!s.ok() || piece.empty()) break;
    data->append(piece);
  }
  return s;
}

Status WriteStringToFileSync(Env* env, std::string_view data, const std::string& name) {
  std::unique_ptr<WritableFile> file;
  Status s = env->NewWritableFile(name, &file);
  if (!s.ok()) return s;
  s = file->Append(data);
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  if (!s.ok()) (void)env->RemoveFile(name);  // best effort: a partial file is useless
  return s;
}

}  // namespace keyva
