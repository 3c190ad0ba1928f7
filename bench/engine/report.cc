// Markdown and gnuplot renderings of an engine-bench run (see report.h).
#include "bench/engine/report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace keyva::bench {
namespace {

const std::vector<std::string> kEngineOrder = {"keyva", "rocksdb", "leveldb", "lmdb"};
const std::vector<std::string> kLsmPeers = {"rocksdb", "leveldb"};

std::string Display(const std::string& engine) {
  if (engine == "rocksdb") return "RocksDB";
  if (engine == "leveldb") return "LevelDB";
  if (engine == "lmdb") return "LMDB";
  return engine;
}

std::string Printf(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Thousands(double v) {
  std::string digits = std::to_string(static_cast<uint64_t>(std::llround(v)));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Micros(double us) {
  if (us < 10) return Printf("%.2f", us);
  if (us < 100) return Printf("%.1f", us);
  return Thousands(us);
}

std::string MiB(double bytes) {
  double mib = bytes / 1048576.0;
  return mib < 10 ? Printf("%.2f MiB", mib) : Printf("%.1f MiB", mib);
}

std::string Ratio(double r) { return Printf("%.2f×", r); }

// Results indexed by workload, then engine (only results without an error).
class Index {
 public:
  explicit Index(const Json& doc) {
    for (const Json& r : doc["results"]) {
      if (r.contains("error")) continue;
      by_[r["workload"].get<std::string>()][r["engine"].get<std::string>()] = &r;
    }
    if (doc.contains("engines")) {
      for (const std::string& e : kEngineOrder) {
        if (doc["engines"].contains(e)) engines_.push_back(e);
      }
    }
  }

  const Json* Get(const std::string& workload, const std::string& engine) const {
    auto w = by_.find(workload);
    if (w == by_.end()) return nullptr;
    auto e = w->second.find(engine);
    return e == w->second.end() ? nullptr : e->second;
  }

  // metric(result) for engine, or nullopt.
  template <typename Metric>
  std::optional<double> Value(const std::string& workload, const std::string& engine,
                              Metric metric) const {
    const Json* r = Get(workload, engine);
    if (r == nullptr) return std::nullopt;
    return metric(*r);
  }

  // The best peer among `peers` by metric (higher or lower is better), with its name.
  template <typename Metric>
  std::optional<std::pair<double, std::string>> Best(const std::string& workload,
                                                     const std::vector<std::string>& peers,
                                                     Metric metric, bool higher_better) const {
    std::optional<std::pair<double, std::string>> best;
    for (const std::string& e : peers) {
      std::optional<double> v = Value(workload, e, metric);
      if (!v) continue;
      if (!best || (higher_better ? *v > best->first : *v < best->first)) best = {{*v, e}};
    }
    return best;
  }

  const std::vector<std::string>& engines() const { return engines_; }

 private:
  std::map<std::string, std::map<std::string, const Json*>> by_;
  std::vector<std::string> engines_;
};

double OpsPerSec(const Json& r) { return r["ops_per_sec"].get<double>(); }
double P50(const Json& r) { return r["latency_us"]["p50"].get<double>(); }
double P99(const Json& r) { return r["latency_us"]["p99"].get<double>(); }
double DiskBytes(const Json& r) { return r["disk_bytes"].get<double>(); }
double PeakRss(const Json& r) { return r["peak_rss_bytes"].get<double>(); }

// keyva's metric ÷ the best LSM peer's, as "0.83× (RocksDB)", or "n/a".
template <typename Metric>
std::string VsBestLsm(const Index& idx, const std::string& w, Metric metric, bool higher_better) {
  std::optional<double> k = idx.Value(w, "keyva", metric);
  auto best = idx.Best(w, kLsmPeers, metric, higher_better);
  if (!k || !best || best->first <= 0) return "n/a";
  return Ratio(*k / best->first) + " (" + Display(best->second) + ")";
}

template <typename Metric>
std::string VsLmdb(const Index& idx, const std::string& w, Metric metric) {
  std::optional<double> k = idx.Value(w, "keyva", metric);
  std::optional<double> l = idx.Value(w, "lmdb", metric);
  if (!k || !l || *l <= 0) return "n/a";
  return Ratio(*k / *l);
}

std::string Header(const Index& idx, const std::string& first,
                   const std::vector<std::string>& extra) {
  std::string h = "| " + first + " |";
  std::string rule = "| --- |";
  for (const std::string& e : idx.engines()) {
    h += " " + Display(e) + " |";
    rule += " ---: |";
  }
  for (const std::string& x : extra) {
    h += " " + x + " |";
    rule += " ---: |";
  }
  return h + "\n" + rule + "\n";
}

}  // namespace

std::string RenderMarkdown(const Json& doc) {
  Index idx(doc);
  const Json& run = doc["run"];
  std::string md;
  bool have_lmdb = false;
  std::string peers;
  for (const std::string& e : idx.engines()) {
    if (e == "lmdb") have_lmdb = true;
    if (e == "keyva") continue;
    std::string v = doc["engines"][e].value("version", "");
    peers += (peers.empty() ? "" : ", ") + Display(e) + (v.empty() ? "" : " " + v);
  }
  md += "keyva against " + (peers.empty() ? std::string("no peers (none compiled in)") : peers) +
        ". " + run.value("num", Json(0)).dump() + " entries of 16-byte keys and " +
        run.value("value_size", Json(0)).dump() +
        "-byte values (half-compressible, like db_bench's). Every engine runs every workload in "
        "its own forked process, on its own directory created fresh for this run; writes are "
        "not synced except in fillsync. Block cache " +
        MiB(run.value("cache_bytes", 0.0)) + " and bloom filters of " +
        run.value("bloom_bits", Json(0)).dump() +
        " bits/key for every engine that has them; everything else on each engine's defaults "
        "(listed below).\n\n";

  std::vector<std::pair<std::string, bool>> workloads;  // name, is_read
  for (const Json& w : doc["workloads"]) {
    workloads.emplace_back(w["name"].get<std::string>(), w["is_read"].get<bool>());
  }

  // Throughput.
  md += "#### Throughput: ops/s (MB/s); ratio > 1 means keyva is faster\n\n";
  std::vector<std::string> extra = {"keyva ÷ best LSM"};
  if (have_lmdb) extra.push_back("keyva ÷ LMDB (reads)");
  md += Header(idx, "workload", extra);
  for (const auto& [w, is_read] : workloads) {
    md += "| " + w + " |";
    for (const std::string& e : idx.engines()) {
      const Json* r = idx.Get(w, e);
      md += r == nullptr ? " — |"
                         : " " + Thousands(OpsPerSec(*r)) + " (" +
                               Printf("%.1f", (*r)["mb_per_sec"].get<double>()) + ")" +
                               (r->contains("note") ? "¹" : "") + " |";
    }
    md += " " + VsBestLsm(idx, w, OpsPerSec, true) + " |";
    if (have_lmdb) md += " " + (is_read ? VsLmdb(idx, w, OpsPerSec) : std::string("—")) + " |";
    md += "\n";
  }
  for (const Json& r : doc["results"]) {
    if (r.contains("note") && !r.contains("error")) {
      md += "\n¹ " + Display(r["engine"].get<std::string>()) + ", " +
            r["workload"].get<std::string>() + ": " + r["note"].get<std::string>() +
            ". The ratio compares that single thread with the peers' " +
            run.value("read_threads", Json(2)).dump() + " threads.\n";
    }
  }

  // Latency.
  md += "\n#### Latency: p50 / p99 µs per operation; ratio < 1 means keyva is faster\n\n";
  extra = {"keyva p99 ÷ best LSM p99"};
  if (have_lmdb) extra.push_back("keyva p99 ÷ LMDB p99 (reads)");
  md += Header(idx, "workload", extra);
  for (const auto& [w, is_read] : workloads) {
    md += "| " + w + " |";
    for (const std::string& e : idx.engines()) {
      const Json* r = idx.Get(w, e);
      md += r == nullptr ? " — |" : " " + Micros(P50(*r)) + " / " + Micros(P99(*r)) + " |";
    }
    md += " " + VsBestLsm(idx, w, P99, false) + " |";
    if (have_lmdb) md += " " + (is_read ? VsLmdb(idx, w, P99) : std::string("—")) + " |";
    md += "\n";
  }
  md += "\nreadseq latency is per entry, averaged over batches of 64 entries.\n";

  // Disk.
  md +=
      "\n#### Disk after close: bytes (space amplification = disk ÷ live key+value bytes); "
      "ratio < 1 means keyva uses less\n\n";
  extra = {"keyva ÷ best LSM"};
  if (have_lmdb) extra.push_back("keyva ÷ LMDB");
  md += Header(idx, "after", extra);
  for (const auto& [w, is_read] : workloads) {
    if (is_read) continue;
    md += "| " + w + " |";
    for (const std::string& e : idx.engines()) {
      const Json* r = idx.Get(w, e);
      md += r == nullptr ? " — |"
                         : " " + MiB(DiskBytes(*r)) + " (" +
                               Printf("%.2f", (*r)["space_amp"].get<double>()) + ") |";
    }
    md += " " + VsBestLsm(idx, w, DiskBytes, false) + " |";
    if (have_lmdb) md += " " + VsLmdb(idx, w, DiskBytes) + " |";
    md += "\n";
  }
  md +=
      "\nDisk bytes are allocated blocks (`du`), every file the engine leaves (logs, "
      "manifests, lock files included), measured after Close.\n";

  // Memory.
  md +=
      "\n#### Peak RSS (VmHWM of the process that ran the workload); ratio < 1 means keyva "
      "uses less\n\n";
  md += Header(idx, "workload", extra);
  for (const auto& [w, is_read] : workloads) {
    md += "| " + w + " |";
    for (const std::string& e : idx.engines()) {
      const Json* r = idx.Get(w, e);
      md += r == nullptr ? " — |" : " " + MiB(PeakRss(*r)) + " |";
    }
    md += " " + VsBestLsm(idx, w, PeakRss, false) + " |";
    if (have_lmdb) md += " " + VsLmdb(idx, w, PeakRss) + " |";
    md += "\n";
  }
  md +=
      "\nLMDB's RSS includes the pages of its memory-mapped file that the process touched "
      "(`rss_file_bytes_before_close` in the JSON separates them).\n";

  // Settle times.
  md +=
      "\n#### Background work left after the last write (seconds until flushes and "
      "compactions finished; not part of the ops/s above)\n\n";
  md += Header(idx, "workload", {});
  for (const auto& [w, is_read] : workloads) {
    if (is_read) continue;
    md += "| " + w + " |";
    for (const std::string& e : idx.engines()) {
      const Json* r = idx.Get(w, e);
      md +=
          r == nullptr ? " — |" : " " + Printf("%.2f", (*r)["settle_seconds"].get<double>()) + " |";
    }
    md += "\n";
  }

  // Workloads.
  md += "\n#### Workloads\n\n";
  for (const Json& w : doc["workloads"]) {
    md +=
        "- **" + w["name"].get<std::string>() + "**: " + w["description"].get<std::string>() + "\n";
  }

  // Settings: the common value of each setting, and where a workload differs.
  md += "\n#### Settings in effect\n\n";
  for (const std::string& e : idx.engines()) {
    std::map<std::string, std::map<std::string, std::vector<std::string>>> values;
    std::vector<std::string> order;
    for (const auto& [w, is_read] : workloads) {
      const Json* r = idx.Get(w, e);
      if (r == nullptr || !r->contains("settings")) continue;
      for (const auto& [name, value] : (*r)["settings"].items()) {
        if (values.find(name) == values.end()) order.push_back(name);
        values[name][value.get<std::string>()].push_back(w);
      }
    }
    md += "- **" + Display(e) + "**: ";
    bool first = true;
    for (const std::string& name : order) {
      const auto& by_value = values[name];
      size_t most = 0;
      std::string common;
      for (const auto& [v, ws] : by_value) {
        if (ws.size() > most) {
          most = ws.size();
          common = v;
        }
      }
      md += (first ? "" : "; ") + name + " = " + common;
      for (const auto& [v, ws] : by_value) {
        if (v == common) continue;
        std::string list;
        for (const std::string& w : ws) list += (list.empty() ? "" : ", ") + w;
        md += " (" + list + ": " + v + ")";
      }
      first = false;
    }
    md += "\n";
  }

  // Errors.
  std::string errors;
  for (const Json& r : doc["results"]) {
    if (r.contains("error")) {
      errors += "- " + Display(r["engine"].get<std::string>()) + " " +
                r["workload"].get<std::string>() + ": " + r["error"].get<std::string>() + "\n";
    }
  }
  if (!errors.empty()) md += "\n#### Failed runs (not in the tables)\n\n" + errors;
  return md;
}

std::string RenderThroughputDat(const Json& doc) {
  Index idx(doc);
  std::string out = "workload";
  for (const std::string& e : kEngineOrder) out += " " + Display(e);
  out += "\n";
  for (const Json& w : doc["workloads"]) {
    const std::string name = w["name"].get<std::string>();
    out += name;
    for (const std::string& e : kEngineOrder) {
      std::optional<double> v = idx.Value(name, e, OpsPerSec);
      out += v ? " " + Printf("%.0f", *v) : " -";
    }
    out += "\n";
  }
  return out;
}

std::string RenderRatioDat(const Json& doc) {
  Index idx(doc);
  std::string out = "workload \"keyva ÷ best of RocksDB, LevelDB\" \"keyva ÷ LMDB (reads)\"\n";
  for (const Json& w : doc["workloads"]) {
    const std::string name = w["name"].get<std::string>();
    std::optional<double> k = idx.Value(name, "keyva", OpsPerSec);
    auto best = idx.Best(name, kLsmPeers, OpsPerSec, true);
    std::optional<double> l = idx.Value(name, "lmdb", OpsPerSec);
    out += name;
    out += (k && best && best->first > 0) ? " " + Printf("%.3f", *k / best->first) : " -";
    out += (k && l && *l > 0 && w["is_read"].get<bool>()) ? " " + Printf("%.3f", *k / *l) : " -";
    out += "\n";
  }
  return out;
}

}  // namespace keyva::bench
