// The DB's reports on itself: GetStats (counters, level sizes, cache usage; db.h DBStats) and
// VerifyIntegrity (the current Version's invariants, then every live SST's checksums, read from
// disk). Both run on the owner thread and change nothing.
#include "internal/engine/db/db_impl.h"
#include "internal/engine/db/filename.h"
#include "internal/engine/db/memtable.h"
#include "internal/engine/db/table_cache.h"
#include "internal/engine/table/block_cache.h"
#include "internal/engine/table/sst_reader.h"

namespace keyva {

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
