// Executing flushes and compactions: turning a memtable or a set of SSTs into new SSTs.
//
// Runs on the helper thread (StartJob, background.cc), or on the owner thread for a flush done
// inline during a write stall (FlushOldestInline) or when Options::background_work is false.
// A job reads only immutable inputs - a frozen memtable, or SSTs that stay live until the job is
// installed - and writes only new files whose numbers the owner reserved in job->numbers (kept in
// pending_outputs_ so DeleteObsoleteFiles leaves them alone). It touches no other DBImpl state:
// its results (job->outputs, job->bytes_written, job->status) are read by the owner after the
// job's future is ready, and installed there (InstallJob).
//
// WriteTables passes every entry through the RetentionFilter (retention.h: which versions some
// snapshot can still see, which tombstones and expired values can go), writes the survivors with
// an SstBuilder (table/sst_builder.h), and for compactions cuts a new file near
// Options::target_file_size, never between two versions of one user key. Every output is synced
// and closed before the job reports success; on failure every output file is removed.
#include <algorithm>

#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/merging_iterator.h"
#include "internal/engine/db/retention.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/table/sst_builder.h"
#include "internal/engine/table/sst_reader.h"

namespace keyva {

Status DBImpl::WriteTables(Iterator* iter, Job* job, bool bottommost, bool split) {
  const SstOptions sst_options = SstOptions::FromOptions(options_);
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
    // Already failing: the outputs go. A file left behind is not in the MANIFEST, so
    // DeleteObsoleteFiles removes it later.
    if (file) (void)file->Close();
    for (uint64_t n : job->numbers) (void)env_->RemoveFile(SstFileName(dir_, n));
    job->outputs.clear();
  }
  return s;
}

Status DBImpl::RunFlushJob(Job* job) {
  auto it = job->mem->NewIterator();
  return WriteTables(it.get(), job, /*bottommost=*/false, /*split=*/false);
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

}  // namespace keyva
