// Renders one engine-bench run (the JSON document engine_bench writes) as a Markdown section and
// as gnuplot data files.
//
// The Markdown never shows keyva's number alone: every table puts each peer's number beside it
// and the ratio keyva ÷ best of RocksDB and LevelDB (and keyva ÷ LMDB for reads), with the
// direction that means "keyva is better" stated in the heading.
//
// Pure functions of their input; thread-compatible.
#pragma once

#include <string>

#include "bench/engine/workloads.h"

namespace keyva::bench {

// The document: {"run": {...}, "engines": {name: {"version"}}, "workloads": [{name,
// description, is_read}], "results": [RunWorkload results]}.
std::string RenderMarkdown(const Json& doc);
// "workload keyva rocksdb leveldb lmdb" rows of ops/s ("-" when missing), for a bar chart.
std::string RenderThroughputDat(const Json& doc);
// "workload vs_best_lsm vs_lmdb" rows of keyva's throughput ratios ("-" when not applicable).
std::string RenderRatioDat(const Json& doc);

}  // namespace keyva::bench
