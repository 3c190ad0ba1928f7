// The engine bench's workloads and the parameters they share, and RunWorkload(): one workload on
// one engine, in the calling process, measured and checked.
//
// Every workload is timed as a whole (ops/s, MB/s) and per operation (latency histogram), then
// checked: reads compare every value with the one the key was written with, scans check order
// and count, and after writes a sample of keys is read back (untimed). A workload whose engine
// returns a wrong answer or an error reports "error" in its result.
//
// MB/s counts the key and value bytes each operation moves (a missed read moves its key only).
//
// Thread-safety: RunWorkload is called once per process (the bench forks a child for each
// workload and engine); it starts reader threads itself only for a multi-threaded read workload
// on an engine whose reads are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace keyva::bench {

using Json = nlohmann::ordered_json;

struct BenchParams {
  uint64_t num = 1000000;     // entries in the main data set
  uint64_t reads = 0;         // operations of the read/seek/delete workloads; 0 = num
  uint64_t sync_num = 10000;  // fillsync
  uint64_t big_num = 20000;   // fill64k
  size_t value_size = 100;    // main data set
  size_t big_value_size = 65536;
  int seek_nexts = 10;
  int read_threads = 2;  // readrandom2t
  size_t cache_bytes = 8u << 20;
  int bloom_bits = 10;
  uint64_t seed = 301;

  uint64_t Reads() const { return reads == 0 ? num : reads; }
};

// Which database directory a workload runs on.
enum class DbUse {
  kFresh,          // a new, empty directory of its own, removed afterwards
  kLoad,           // creates the shared directory (the main data set) that later workloads reuse
  kShared,         // reopens the shared directory and leaves the data set as it found it
                   // (overwrite rewrites values with the same bytes)
  kSharedConsume,  // reopens the shared directory and changes the data set (deleterandom)
};

struct Workload {
  std::string name;
  DbUse db;
  bool is_read;
  // What it does, with this run's numbers.
  std::string description;
};

// Every workload in run order.
std::vector<Workload> AllWorkloads(const BenchParams& params);
// nullptr when unknown.
const Workload* FindWorkload(const std::vector<Workload>& all, const std::string& name);

// Runs workload w of engine `engine` on directory dir (which exists; empty when w.db is
// kFresh or kLoad) and returns its result object: engine, workload, threads, ops, seconds,
// ops_per_sec, mb_per_sec, latency_us {mean, p50, p99, p999, max}, settle and open/close
// times, disk_bytes (allocated, after close), logical_bytes, space_amp, peak_rss_bytes,
// settings, stats, and "error" when anything failed.
Json RunWorkload(const std::string& engine, const Workload& w, const BenchParams& params,
                 const std::string& dir);

}  // namespace keyva::bench
