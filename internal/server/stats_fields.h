// The engine's statistics (DBStats) as one table: every field with its JSON name, its Prometheus
// name, what it means and its unit. /metrics, /api/stats and the web page's Engine view all walk
// this table (the page reads it from /api/stats "engine_fields"), so a field added to DBStats is
// exported everywhere by adding one row here.
//
// Thread-safety: constant data.
#pragma once

#include <string_view>
#include <vector>

#include "internal/engine/db.h"

namespace keyva::server {

struct StatsField {
  enum class Kind { kGauge, kCounter };
  enum class Unit { kCount, kBytes, kMicros, kRatio, kFlag };

  std::string_view name;        // JSON name in /api/stats "engine" (and the DBStats member)
  std::string_view prometheus;  // metric name in /metrics
  std::string_view help;
  Kind kind;
  Unit unit;
  // The value as DBStats holds it (kFlag: 0 or 1). /metrics shows kMicros as seconds; /api/stats
  // shows numbers as they are, and the kFlag field (background_error) as its text or null.
  double (*value)(const DBStats&);
};

// Every scalar field of DBStats (the per-level figures and the error text are rendered apart).
const std::vector<StatsField>& EngineStatsFields();

std::string_view UnitName(StatsField::Unit unit);  // "count", "bytes", "micros", "ratio", "flag"

}  // namespace keyva::server
