// Background work as the owner thread sees it: scheduling flushes and compactions, installing their
// results, recovering from failed work, deleting obsolete files; Flush and CompactRange.
//
// At most one job (job_) exists at a time. MaybeScheduleWork starts the next one when the helper
// is free: a flush of the oldest frozen memtable first, else the compaction CompactionPicker
// (compaction.h) finds most urgent, else a seek compaction requested by Get (ChargeSeek). A trivial
// move (one file, nothing to merge with below) is only a MANIFEST edit, done at once. The job runs
// on the helper thread (StartJob; the execution is in table_writer.cc); the owner notices it
// finished in PollBackgroundWork (called by every write, and by an idle owner) or waits for it
// (WaitForJob), and installs it (InstallJob): one MANIFEST edit adding the outputs and removing
// the inputs (a flush also moves the log number past the flushed memtable's WALs, which are then
// deleted), then a new published read view (PublishView). Every method in this file runs on the
// owner thread, except ChargeSeek (any reader).
//
// Failures: a NoSpace failure of a job or its install is recoverable - recorded in last_failure_,
// retried after a back-off (retry_after_us_, doubling from kMinBackoffUs up to kMaxBackoffUs; at
// once by Flush, CompactRange and WaitForBackgroundWork). Any other failure becomes the sticky
// bg_error_. After a MANIFEST write whose outcome is unknown (VersionSet::needs_new_manifest) no
// file is deleted until a new MANIFEST is written.
#include <algorithm>
#include <chrono>

#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/table_cache.h"

namespace keyva {

Status DBImpl::PendingFlushError() const {
  if (!last_failure_.ok()) return last_failure_;
  return Status::IOError("flush debt cannot be paid: no flush could be scheduled");
}

void DBImpl::BackgroundWorkFailed(const Status& s) {
  if (!IsRecoverable(s)) {
    SetBackgroundError(s);
    return;
  }
  UpdateStats([](DBStats& st) { st.background_failures++; });
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
  if (id == idle_version_id_ && !seek_compaction_wanted_.load(std::memory_order_acquire)) return;
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
    PublishView();
    Log("moved " + std::to_string(f.number) + ".sst from L" + std::to_string(plan->level) +
        " to L" + std::to_string(plan->output_level()));
    MaybeScheduleWork();
    return;
  }
  auto job = std::make_unique<Job>();
  job->kind = Job::Kind::kCompaction;
  job->snapshots = LiveSnapshots();
  job->now_us = options_.drop_expired ? env_->NowMicros() : 0;  // 0: the filter keeps them
  uint64_t files = plan->InputBytes() / std::max<uint64_t>(options_.target_file_size, 1);
  for (uint64_t i = 0; i < files * 2 + 2; i++) job->numbers.push_back(versions_->NewFileNumber());
  job->plan = std::move(plan);
  StartJob(std::move(job));
}

void DBImpl::ChargeSeek(const FileMeta& f, int level) {
  if (level >= config::kNumLevels - 1) return;
  std::lock_guard<std::mutex> l(seek_mu_);
  auto it = seeks_left_.find(f.number);
  if (it == seeks_left_.end()) {
    // As LevelDB: one seek costs about as much as compacting 16 KiB, and at least 100 are allowed.
    int allowed = static_cast<int>(std::min<uint64_t>(f.file_size / 16384, 1 << 30));
    it = seeks_left_.emplace(f.number, std::max(allowed, 100)).first;
  }
  if (--it->second > 0 || seek_compaction_number_ != 0) return;
  seek_compaction_number_ = f.number;  // scheduled by the owner's next MaybeScheduleWork
  seek_compaction_level_ = level;
  seek_compaction_wanted_.store(true, std::memory_order_release);  // there is work now
}

std::unique_ptr<CompactionPlan> DBImpl::PickSeekCompaction() {
  uint64_t number;
  int level;
  {
    std::lock_guard<std::mutex> l(seek_mu_);
    if (seek_compaction_number_ == 0) return nullptr;
    number = seek_compaction_number_;
    level = seek_compaction_level_;
    seek_compaction_number_ = 0;
    seek_compaction_wanted_.store(false, std::memory_order_relaxed);
    seeks_left_.erase(number);
  }
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
  job->status = RunFlushJob(job.get());
  Status s = InstallJob(job.get());
  if (!s.ok()) SetBackgroundError(s);
  return s;
}

void DBImpl::StartJob(std::unique_ptr<Job> job) {
  pending_outputs_.insert(job->numbers.begin(), job->numbers.end());
  Job* j = job.get();
  auto run = [this, j] {
    j->status = j->kind == Job::Kind::kFlush ? RunFlushJob(j) : RunCompactionJob(j);
  };
  if (worker_) {
    job->done = worker_->Submit(run);
    const bool compaction = job->kind == Job::Kind::kCompaction;
    UpdateStats([&](DBStats& st) { st.compactions_running = compaction ? 1 : 0; });
    job_ = std::move(job);
  } else {
    run();
    Status s = InstallJob(job.get());
    if (!s.ok()) BackgroundWorkFailed(s);
    MaybeScheduleWork();
  }
}

Status DBImpl::WaitForJob() {
  if (!job_) return Status::OK();
  job_->done.wait();
  std::unique_ptr<Job> job = std::move(job_);
  UpdateStats([](DBStats& st) { st.compactions_running = 0; });
  Status s = InstallJob(job.get());
  if (!s.ok()) BackgroundWorkFailed(s);
  return s;
}

void DBImpl::PollBackgroundWork() {
  if (job_ && job_->done.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    // A failure is recorded by WaitForJob (last_failure_ or bg_error_) and reported by the calls
    // that depend on the work (writes, Flush, WaitForBackgroundWork).
    (void)WaitForJob();
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
      // Best effort: outputs the MANIFEST never named are obsolete files anyway.
      for (const auto& f : job->outputs) (void)env_->RemoveFile(SstFileName(dir_, f.number));
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
  PublishView();
  UpdateStats([&](DBStats& st) {
    st.compactions++;
    st.compaction_bytes_read += plan.InputBytes();
    st.compaction_bytes_written += job->bytes_written;
  });
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
  PublishView();
  // Below the new log number: recovery ignores them, and DeleteObsoleteFiles removes survivors.
  for (uint64_t w : done.wals) (void)env_->RemoveFile(WalFileName(dir_, w));
  UpdateStats([&](DBStats& st) {
    st.flushes++;
    st.flush_bytes_written += job->bytes_written;
  });
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
          std::lock_guard<std::mutex> l(seek_mu_);
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
    if (remove) (void)env_->RemoveFile(dir_ + "/" + name);  // a survivor goes next time
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

}  // namespace keyva
