// The DB's reports on itself: GetStats (counters, level sizes, cache usage; db.h DBStats) and
// VerifyIntegrity (the current Version's invariants, then every live SST's checksums, read from
// disk). GetStats runs on any thread (the counters under stats_mu_, the rest from the published
// view); VerifyIntegrity on the owner thread. Neither changes anything.
#include "internal/engine/db/compaction.h"
#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_reader.h"

namespace keyva {

DBStats DBImpl::GetStats() {
  DBStats s;
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    s = stats_;
  }
  const ViewAtSequence v = AcquireView(ReadOptions{});
  const Version& version = *v.view->version;
  s.levels.assign(config::kNumLevels, LevelStats{});
  s.live_sst_bytes = 0;
  for (int level = 0; level < config::kNumLevels; level++) {
    s.levels[level].files = version.NumFiles(level);
    s.levels[level].bytes = version.LevelBytes(level);
    s.live_sst_bytes += s.levels[level].bytes;
  }
  s.compaction_debt_bytes =
      version.NumFiles(0) >= config::kL0CompactionTrigger ? s.levels[0].bytes : 0;
  for (int level = 1; level < config::kNumLevels; level++) {
    const uint64_t target = LevelTarget(version, level);
    if (s.levels[level].bytes > target) s.compaction_debt_bytes += s.levels[level].bytes - target;
  }
  s.l0_slowdown_files = config::kL0SlowdownTrigger;
  s.l0_stop_files = config::kL0StopTrigger;
  s.memtable_bytes = v.view->mem->ApproximateMemoryUsage();
  s.frozen_memtables = static_cast<int>(v.view->frozen.size());
  s.wal_bytes = 0;
  for (uint64_t w : v.view->wals) {
    uint64_t size = 0;
    if (env_->GetFileSize(WalFileName(dir_, w), &size).ok()) s.wal_bytes += size;
  }
  s.last_sequence = v.sequence;
  uint64_t written = s.flush_bytes_written + s.compaction_bytes_written;
  s.write_amplification =
      s.user_bytes_written ? static_cast<double>(written) / s.user_bytes_written : 0.0;
  s.cache_capacity = block_cache_->Capacity();
  s.cache_usage = block_cache_->Usage();
  s.cache_pinned = block_cache_->PinnedUsage();
  s.cache_hits = block_cache_->Hits();
  s.cache_misses = block_cache_->Misses();
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
