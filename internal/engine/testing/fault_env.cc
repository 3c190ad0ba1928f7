#include "internal/engine/testing/fault_env.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace keyva {

struct FaultEnv::Node {
  std::mutex mu;
  std::string data;
  size_t synced = 0;
};

namespace {

std::string DirOf(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? std::string(".") : name.substr(0, slash);
}

class MemSequentialFile final : public SequentialFile {
 public:
  MemSequentialFile(FaultEnv* env, std::string name, std::shared_ptr<FaultEnv::Node> node)
      : env_(env), name_(std::move(name)), node_(std::move(node)) {}
  Status Read(size_t n, std::string_view* result, char* scratch) override {
    Status s = env_->CountOp("read " + name_);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> l(node_->mu);
    size_t avail = pos_ < node_->data.size() ? node_->data.size() - pos_ : 0;
    size_t take = std::min(n, avail);
    std::memcpy(scratch, node_->data.data() + pos_, take);
    pos_ += take;
    *result = std::string_view(scratch, take);
    return Status::OK();
  }

 private:
  FaultEnv* env_;
  std::string name_;
  std::shared_ptr<FaultEnv::Node> node_;
  size_t pos_ = 0;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(FaultEnv* env, std::string name, std::shared_ptr<FaultEnv::Node> node)
      : env_(env), name_(std::move(name)), node_(std::move(node)) {}
  Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    Status s = env_->CountOp("read " + name_);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> l(node_->mu);
    size_t size = node_->data.size();
    size_t take = offset < size ? std::min<uint64_t>(n, size - offset) : 0;
    std::memcpy(scratch, node_->data.data() + offset * (take > 0), take);
    *result = std::string_view(scratch, take);
    return Status::OK();
  }

 private:
  FaultEnv* env_;
  std::string name_;
  std::shared_ptr<FaultEnv::Node> node_;
};

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(FaultEnv* env, std::string name, std::shared_ptr<FaultEnv::Node> node)
      : env_(env), name_(std::move(name)), node_(std::move(node)) {}
  Status Append(std::string_view data) override {
    Status s = env_->CountOp("append " + name_);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> l(node_->mu);
    node_->data.append(data);
    size_ += data.size();
    return Status::OK();
  }
  Status Flush() override { return env_->CountOp("flush " + name_); }
  Status Sync() override {
    Status s = env_->CountOp("sync " + name_);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> l(node_->mu);
    node_->synced = node_->data.size();
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override { return size_; }

 private:
  FaultEnv* env_;
  std::string name_;
  std::shared_ptr<FaultEnv::Node> node_;
  uint64_t size_ = 0;
};

}  // namespace

class FaultFileLock final : public FileLock {
 public:
  FaultFileLock(FaultEnv* env, std::string name) : env_(env), name_(std::move(name)) {}
  ~FaultFileLock() override {
    std::lock_guard<std::mutex> l(env_->mu_);
    env_->locks_.erase(name_);
  }

 private:
  FaultEnv* env_;
  std::string name_;
};

FaultEnv::FaultEnv() = default;
FaultEnv::~FaultEnv() = default;

Status FaultEnv::CountOp(const std::string& what) {
  std::lock_guard<std::mutex> l(mu_);
  ops_++;
  const bool on_failing_file = !fail_suffix_.empty() && what.ends_with(fail_suffix_);
  if (on_failing_file || (fail_at_ != 0 && ops_ >= fail_at_)) {
    if (on_failing_file || ops_ == fail_at_ || sticky_) {
      std::string msg = "injected fault at operation " + std::to_string(ops_) + " (" + what + ")";
      return failure_code_ == Status::Code::kNoSpace ? Status::NoSpace(msg) : Status::IOError(msg);
    }
  }
  return Status::OK();
}

void FaultEnv::FailOperation(uint64_t k, bool sticky) {
  std::lock_guard<std::mutex> l(mu_);
  fail_at_ = ops_ + k;
  sticky_ = sticky;
}

void FaultEnv::SetFailureCode(Status::Code code) {
  std::lock_guard<std::mutex> l(mu_);
  failure_code_ = code;
}

void FaultEnv::FailFilesEndingWith(const std::string& suffix) {
  std::lock_guard<std::mutex> l(mu_);
  fail_suffix_ = suffix;
}

void FaultEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  fail_at_ = 0;
  sticky_ = false;
  fail_suffix_.clear();
}

uint64_t FaultEnv::OperationCount() const {
  std::lock_guard<std::mutex> l(mu_);
  return ops_;
}

void FaultEnv::SetNowMicros(int64_t now) {
  std::lock_guard<std::mutex> l(mu_);
  fixed_now_ = now;
}

Status FaultEnv::NewSequentialFile(const std::string& name,
                                   std::unique_ptr<SequentialFile>* result) {
  Status s = CountOp("open " + name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(name);
  if (it == live_.end()) return Status::NotFound(name + ": no such file or directory");
  result->reset(new MemSequentialFile(this, name, it->second));
  return Status::OK();
}

Status FaultEnv::NewRandomAccessFile(const std::string& name,
                                     std::unique_ptr<RandomAccessFile>* result) {
  Status s = CountOp("open " + name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(name);
  if (it == live_.end()) return Status::NotFound(name + ": no such file or directory");
  result->reset(new MemRandomAccessFile(this, name, it->second));
  return Status::OK();
}

Status FaultEnv::NewWritableFile(const std::string& name, std::unique_ptr<WritableFile>* result) {
  Status s = CountOp("create " + name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  if (!dirs_.count(DirOf(name))) return Status::NotFound(DirOf(name) + ": no such directory");
  auto node = std::make_shared<Node>();
  live_[name] = node;  // a new node: the durable namespace may still name the old one
  result->reset(new MemWritableFile(this, name, node));
  return Status::OK();
}

bool FaultEnv::FileExists(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  return live_.count(name) > 0 || dirs_.count(name) > 0;
}

Status FaultEnv::GetChildren(const std::string& dir, std::vector<std::string>* result) {
  std::lock_guard<std::mutex> l(mu_);
  result->clear();
  if (!dirs_.count(dir)) return Status::NotFound(dir + ": no such directory");
  for (const auto& [name, node] : live_) {
    if (DirOf(name) == dir) result->push_back(name.substr(dir.size() + 1));
  }
  return Status::OK();
}

Status FaultEnv::RemoveFile(const std::string& name) {
  Status s = CountOp("remove " + name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  if (live_.erase(name) == 0) return Status::NotFound(name + ": no such file or directory");
  return Status::OK();
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  Status s = CountOp("rename " + from);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(from);
  if (it == live_.end()) return Status::NotFound(from + ": no such file or directory");
  live_[to] = it->second;
  live_.erase(from);
  return Status::OK();
}

Status FaultEnv::TruncateFile(const std::string& name, uint64_t size) {
  Status s = CountOp("truncate " + name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(name);
  if (it == live_.end()) return Status::NotFound(name + ": no such file or directory");
  std::lock_guard<std::mutex> nl(it->second->mu);
  it->second->data.resize(size);
  it->second->synced = std::min<size_t>(it->second->synced, size);
  return Status::OK();
}

Status FaultEnv::GetFileSize(const std::string& name, uint64_t* size) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(name);
  if (it == live_.end()) return Status::NotFound(name + ": no such file or directory");
  std::lock_guard<std::mutex> nl(it->second->mu);
  *size = it->second->data.size();
  return Status::OK();
}

Status FaultEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  dirs_.insert(dir);  // directories themselves are durable at once in this model
  return Status::OK();
}

Status FaultEnv::SyncDir(const std::string& dir) {
  Status s = CountOp("syncdir " + dir);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = DirOf(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [name, node] : live_) {
    if (DirOf(name) == dir) durable_[name] = node;
  }
  return Status::OK();
}

Status FaultEnv::LockFile(const std::string& name, std::unique_ptr<FileLock>* lock) {
  std::lock_guard<std::mutex> l(mu_);
  if (!locks_.insert(name).second) {
    return Status::Busy(name + ": the data directory is in use by another process");
  }
  if (!live_.count(name)) live_[name] = std::make_shared<Node>();
  lock->reset(new FaultFileLock(this, name));
  return Status::OK();
}

int64_t FaultEnv::NowMicros() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (fixed_now_ >= 0) return fixed_now_;
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void FaultEnv::SimulatePowerLoss() {
  std::lock_guard<std::mutex> l(mu_);
  live_ = durable_;
  for (auto& [name, node] : live_) {
    std::lock_guard<std::mutex> nl(node->mu);
    node->data.resize(node->synced);
  }
}

Status FaultEnv::ReadRaw(const std::string& name, std::string* data) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(name);
  if (it == live_.end()) return Status::NotFound(name);
  std::lock_guard<std::mutex> nl(it->second->mu);
  *data = it->second->data;
  return Status::OK();
}

Status FaultEnv::WriteRaw(const std::string& name, const std::string& data) {
  std::lock_guard<std::mutex> l(mu_);
  auto node = std::make_shared<Node>();
  node->data = data;
  node->synced = data.size();
  live_[name] = node;
  durable_[name] = node;
  return Status::OK();
}

}  // namespace keyva
