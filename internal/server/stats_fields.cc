// The DBStats field table; see stats_fields.h.
#include "internal/server/stats_fields.h"

namespace keyva::server {
namespace {

using Kind = StatsField::Kind;
using Unit = StatsField::Unit;

#define KEYVA_FIELD(member) [](const DBStats& s) { return static_cast<double>(s.member); }

}  // namespace

const std::vector<StatsField>& EngineStatsFields() {
  static const std::vector<StatsField> fields = {
      {"memtable_bytes", "keyva_engine_memtable_bytes", "Active memtable bytes", Kind::kGauge,
       Unit::kBytes, KEYVA_FIELD(memtable_bytes)},
      {"frozen_memtables", "keyva_engine_frozen_memtables", "Memtables waiting to be flushed",
       Kind::kGauge, Unit::kCount, KEYVA_FIELD(frozen_memtables)},
      {"wal_bytes", "keyva_engine_wal_bytes", "Bytes of live WAL files", Kind::kGauge, Unit::kBytes,
       KEYVA_FIELD(wal_bytes)},
      {"live_sst_bytes", "keyva_engine_live_sst_bytes", "Bytes of live SST files", Kind::kGauge,
       Unit::kBytes, KEYVA_FIELD(live_sst_bytes)},
      {"last_sequence", "keyva_engine_last_sequence", "Last sequence number", Kind::kGauge,
       Unit::kCount, KEYVA_FIELD(last_sequence)},
      {"flushes", "keyva_engine_flushes_total", "Memtable flushes", Kind::kCounter, Unit::kCount,
       KEYVA_FIELD(flushes)},
      {"flush_bytes_written", "keyva_engine_flush_bytes_written_total", "Bytes written by flushes",
       Kind::kCounter, Unit::kBytes, KEYVA_FIELD(flush_bytes_written)},
      {"memtable_compactions", "keyva_engine_memtable_compactions_total",
       "Memtables rewritten in memory", Kind::kCounter, Unit::kCount,
       KEYVA_FIELD(memtable_compactions)},
      {"compactions", "keyva_engine_compactions_total", "Compactions", Kind::kCounter, Unit::kCount,
       KEYVA_FIELD(compactions)},
      {"compactions_running", "keyva_engine_compactions_running",
       "Compactions on the helper thread right now", Kind::kGauge, Unit::kCount,
       KEYVA_FIELD(compactions_running)},
      {"compaction_bytes_read", "keyva_engine_compaction_bytes_read_total",
       "Bytes read by compactions", Kind::kCounter, Unit::kBytes,
       KEYVA_FIELD(compaction_bytes_read)},
      {"compaction_bytes_written", "keyva_engine_compaction_bytes_written_total",
       "Bytes written by compactions", Kind::kCounter, Unit::kBytes,
       KEYVA_FIELD(compaction_bytes_written)},
      {"user_bytes_written", "keyva_engine_user_bytes_written_total",
       "Payload bytes of acknowledged writes", Kind::kCounter, Unit::kBytes,
       KEYVA_FIELD(user_bytes_written)},
      {"write_amplification", "keyva_engine_write_amplification",
       "(flush + compaction bytes) / user bytes", Kind::kGauge, Unit::kRatio,
       KEYVA_FIELD(write_amplification)},
      {"cache_capacity", "keyva_engine_cache_capacity_bytes", "Block cache capacity", Kind::kGauge,
       Unit::kBytes, KEYVA_FIELD(cache_capacity)},
      {"cache_usage", "keyva_engine_cache_usage_bytes",
       "Block cache usage (data, index and filter blocks)", Kind::kGauge, Unit::kBytes,
       KEYVA_FIELD(cache_usage)},
      {"cache_pinned", "keyva_engine_cache_pinned_bytes",
       "Index and filter blocks of open SSTs (in cache usage)", Kind::kGauge, Unit::kBytes,
       KEYVA_FIELD(cache_pinned)},
      {"cache_hits", "keyva_engine_cache_hits_total", "Block cache hits", Kind::kCounter,
       Unit::kCount, KEYVA_FIELD(cache_hits)},
      {"cache_misses", "keyva_engine_cache_misses_total", "Block cache misses", Kind::kCounter,
       Unit::kCount, KEYVA_FIELD(cache_misses)},
      {"stall_micros", "keyva_engine_stall_seconds_total",
       "Time writes spent slowed down or stopped", Kind::kCounter, Unit::kMicros,
       KEYVA_FIELD(stall_micros)},
      {"slowdowns", "keyva_engine_slowdowns_total", "Writes slowed down", Kind::kCounter,
       Unit::kCount, KEYVA_FIELD(slowdowns)},
      {"stops", "keyva_engine_stops_total", "Writes stopped until background work caught up",
       Kind::kCounter, Unit::kCount, KEYVA_FIELD(stops)},
      {"compaction_debt_bytes", "keyva_engine_compaction_debt_bytes",
       "Bytes over their level's target (all of L0 once at its trigger), still to compact",
       Kind::kGauge, Unit::kBytes, KEYVA_FIELD(compaction_debt_bytes)},
      {"l0_slowdown_files", "keyva_engine_l0_slowdown_files",
       "L0 files at which writes are slowed down", Kind::kGauge, Unit::kCount,
       KEYVA_FIELD(l0_slowdown_files)},
      {"l0_stop_files", "keyva_engine_l0_stop_files", "L0 files at which writes wait", Kind::kGauge,
       Unit::kCount, KEYVA_FIELD(l0_stop_files)},
      {"background_failures", "keyva_engine_background_failures_total",
       "Flushes and compactions that failed and will be retried (e.g. disk full)", Kind::kCounter,
       Unit::kCount, KEYVA_FIELD(background_failures)},
      {"write_failures", "keyva_engine_write_failures_total",
       "WAL writes or syncs that failed (e.g. disk full)", Kind::kCounter, Unit::kCount,
       KEYVA_FIELD(write_failures)},
      {"background_error", "keyva_engine_background_error",
       "1 when the engine refuses writes after an I/O error", Kind::kGauge, Unit::kFlag,
       [](const DBStats& s) { return s.background_error.empty() ? 0.0 : 1.0; }},
  };
  return fields;
}

#undef KEYVA_FIELD

std::string_view UnitName(StatsField::Unit unit) {
  switch (unit) {
    case Unit::kCount:
      return "count";
    case Unit::kBytes:
      return "bytes";
    case Unit::kMicros:
      return "micros";
    case Unit::kRatio:
      return "ratio";
    case Unit::kFlag:
      return "flag";
  }
  return "count";
}

}  // namespace keyva::server
