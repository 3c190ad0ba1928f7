// keyva_engine_bench: a db_bench-style tool that runs the same workloads on keyva's engine and on
// RocksDB, LevelDB and LMDB (whichever were found at build time) in one run, and writes the
// results as JSON, a Markdown section with keyva ÷ peer ratios, and gnuplot data files.
//
// Isolation: every (workload, engine) pair runs in its own forked child process, so peak RSS
// (VmHWM) belongs to that engine and workload alone and no engine's caches or threads outlive
// its run. Workloads run in order and, within a workload, engine after engine, so a change in
// the machine's load during the run hits all engines alike.
//
// Directories (under --db, removed at the end unless --keep_dbs): <engine>/shared holds the main
// data set that fillrandom creates and the read workloads reopen; fresh workloads get
// <engine>/<workload>. If a workload needs the data set and it does not exist (fillrandom was
// not asked for, or deleterandom consumed it), an unreported fillrandom loads it first.
//
// Exit status: 0 when every run succeeded and gave right answers, 1 otherwise, 2 on bad flags.
//
// Usage: keyva_engine_bench [--engines=keyva,rocksdb,leveldb,lmdb] [--benchmarks=fillseq,...]
//        [--num=1000000] [--reads=0] [--sync_num=10000] [--big_num=20000] [--value_size=100]
//        [--big_value_size=65536] [--seek_nexts=10] [--read_threads=2]
//        [--cache_bytes=8388608] [--bloom_bits=10] [--seed=301] [--db=DIR] [--keep_dbs]
//        [--use_existing_db] [--json=FILE] [--markdown=FILE] [--dat=PREFIX]
//
// --use_existing_db (implies --keep_dbs) reuses a data set a previous run with the same --db,
// --num, --value_size and --seed left complete, instead of loading it again: for profiling one
// read workload without the load in the profile.
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/engine/engine_adapter.h"
#include "bench/engine/report.h"
#include "bench/engine/workloads.h"

namespace keyva::bench {
namespace {

namespace fs = std::filesystem;

struct Flags {
  BenchParams params;
  std::vector<std::string> engines;
  std::vector<std::string> benchmarks;
  std::string db;
  std::string json_path;
  std::string markdown_path;
  std::string dat_prefix;
  bool keep_dbs = false;
  bool use_existing_db = false;
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(
      stderr,
      "keyva_engine_bench: %s\n"
      "usage: keyva_engine_bench [--engines=LIST] [--benchmarks=LIST] [--num=N] "
      "[--reads=N] [--sync_num=N] [--big_num=N] [--value_size=B] "
      "[--big_value_size=B] [--seek_nexts=N] [--read_threads=N] [--cache_bytes=B] "
      "[--bloom_bits=N] [--seed=N] [--db=DIR] [--keep_dbs] [--use_existing_db] [--json=FILE] "
      "[--markdown=FILE] [--dat=PREFIX]\n",
      error.c_str());
  std::exit(2);
}

uint64_t ParseNumber(const std::string& name, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') {
    Usage("--" + name + " wants a non-negative number, got '" + v + "'");
  }
  return n;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  f.engines = AvailableEngines();
  for (const Workload& w : AllWorkloads(f.params)) f.benchmarks.push_back(w.name);
  const char* tmp = std::getenv("TMPDIR");
  f.db = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/keyva-engine-bench-" +
         std::to_string(getpid());
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") Usage("help");
    if (arg.rfind("--", 0) != 0) Usage("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (name != "keep_dbs" && name != "use_existing_db") {
      if (i + 1 >= argc) Usage("--" + name + " needs a value");
      value = argv[++i];
    }
    BenchParams& p = f.params;
    if (name == "engines") {
      f.engines = SplitList(value);
    } else if (name == "benchmarks") {
      f.benchmarks = SplitList(value);
    } else if (name == "num") {
      p.num = ParseNumber(name, value);
    } else if (name == "reads") {
      p.reads = ParseNumber(name, value);
    } else if (name == "sync_num") {
      p.sync_num = ParseNumber(name, value);
    } else if (name == "big_num") {
      p.big_num = ParseNumber(name, value);
    } else if (name == "value_size") {
      p.value_size = ParseNumber(name, value);
    } else if (name == "big_value_size") {
      p.big_value_size = ParseNumber(name, value);
    } else if (name == "seek_nexts") {
      p.seek_nexts = static_cast<int>(ParseNumber(name, value));
    } else if (name == "read_threads") {
      p.read_threads = static_cast<int>(ParseNumber(name, value));
    } else if (name == "cache_bytes") {
      p.cache_bytes = ParseNumber(name, value);
    } else if (name == "bloom_bits") {
      p.bloom_bits = static_cast<int>(ParseNumber(name, value));
    } else if (name == "seed") {
      p.seed = ParseNumber(name, value);
    } else if (name == "db") {
      f.db = value;
    } else if (name == "keep_dbs") {
      f.keep_dbs = true;
    } else if (name == "use_existing_db") {
      f.use_existing_db = f.keep_dbs = true;
    } else if (name == "json") {
      f.json_path = value;
    } else if (name == "markdown") {
      f.markdown_path = value;
    } else if (name == "dat") {
      f.dat_prefix = value;
    } else {
      Usage("unknown flag --" + name);
    }
  }
  const BenchParams& p = f.params;
  if (p.num == 0 || p.sync_num == 0 || p.big_num == 0) Usage("counts must be positive");
  if (p.value_size == 0 || p.value_size > (512u << 10) || p.big_value_size == 0 ||
      p.big_value_size > (512u << 10)) {
    Usage("value sizes must be in 1..524288");
  }
  if (p.read_threads < 1) Usage("--read_threads must be at least 1");
  const std::vector<std::string> available = AvailableEngines();
  for (const std::string& e : f.engines) {
    if (std::find(available.begin(), available.end(), e) == available.end()) {
      std::string list;
      for (const std::string& a : available) list += " " + a;
      Usage("engine '" + e + "' is not compiled in (available:" + list + ")");
    }
  }
  const std::vector<Workload> all = AllWorkloads(p);
  for (const std::string& b : f.benchmarks) {
    if (FindWorkload(all, b) == nullptr) Usage("unknown benchmark '" + b + "'");
  }
  return f;
}

// Runs one workload of one engine in a forked child; returns its result (or an error result
// when the child failed to report).
Json RunInChild(const std::string& engine, const Workload& w, const BenchParams& params,
                const std::string& dir) {
  int fds[2];
  if (pipe(fds) != 0) return Json{{"engine", engine}, {"workload", w.name}, {"error", "pipe"}};
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Json{{"engine", engine}, {"workload", w.name}, {"error", "fork failed"}};
  }
  if (pid == 0) {
    close(fds[0]);
    Json result;
    try {
      result = RunWorkload(engine, w, params, dir);
    } catch (const std::exception& e) {
      result = Json{{"engine", engine}, {"workload", w.name}, {"error", e.what()}};
    }
    const std::string out = result.dump();
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
    std::exit(result.contains("error") ? 1 : 0);
  }
  close(fds[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Json result = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (result.is_discarded() || !result.is_object()) {
    std::string why =
        WIFSIGNALED(status)
            ? "child killed by signal " + std::to_string(WTERMSIG(status))
            : "child exited " + std::to_string(WEXITSTATUS(status)) + " without a result";
    return Json{{"engine", engine}, {"workload", w.name}, {"error", why}};
  }
  return result;
}

void PrintResult(const Json& r, bool load) {
  if (r.contains("error")) {
    std::printf("%-8s %-13s FAILED: %s\n", r["engine"].get<std::string>().c_str(),
                r["workload"].get<std::string>().c_str(), r["error"].get<std::string>().c_str());
    return;
  }
  std::printf(
      "%-8s %-13s %11.0f ops/s %8.1f MB/s  p50 %8.2f  p99 %9.2f us  disk %8.1f MiB "
      "(amp %.2f)  rss %7.1f MiB%s\n",
      r["engine"].get<std::string>().c_str(), r["workload"].get<std::string>().c_str(),
      r["ops_per_sec"].get<double>(), r["mb_per_sec"].get<double>(),
      r["latency_us"]["p50"].get<double>(), r["latency_us"]["p99"].get<double>(),
      r["disk_bytes"].get<double>() / 1048576.0, r["space_amp"].get<double>(),
      r["peak_rss_bytes"].get<double>() / 1048576.0, load ? "  (load, not reported)" : "");
  std::fflush(stdout);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string NowUtc() {
  std::time_t now = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

// Marks the shared data set in dir as complete (for --use_existing_db), beside the directory.
void MarkComplete(const std::string& dir) { std::ofstream(dir + ".complete") << "fillrandom\n"; }

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::fprintf(stderr, "keyva_engine_bench: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

int Main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  const BenchParams& p = f.params;
  const std::vector<Workload> all = AllWorkloads(p);

  std::error_code ec;
  fs::create_directories(f.db, ec);
  if (ec) {
    std::fprintf(stderr, "keyva_engine_bench: cannot create %s: %s\n", f.db.c_str(),
                 ec.message().c_str());
    return 1;
  }

  Json doc;
  utsname uts{};
  uname(&uts);
  doc["run"] = {{"date", NowUtc()},
                {"num", p.num},
                {"reads", p.Reads()},
                {"sync_num", p.sync_num},
                {"big_num", p.big_num},
                {"key_size", 16},
                {"value_size", p.value_size},
                {"big_value_size", p.big_value_size},
                {"seek_nexts", p.seek_nexts},
                {"read_threads", p.read_threads},
                {"cache_bytes", p.cache_bytes},
                {"bloom_bits", p.bloom_bits},
                {"seed", p.seed},
                {"cpus", std::thread::hardware_concurrency()},
                {"cpu_model", CpuModel()},
                {"kernel", std::string(uts.sysname) + " " + uts.release}};
  doc["engines"] = Json::object();
  for (const std::string& e : f.engines) {
    doc["engines"][e] = {{"version", NewAdapter(e)->Version()}};
  }
  doc["workloads"] = Json::array();
  for (const std::string& b : f.benchmarks) {
    const Workload* w = FindWorkload(all, b);
    doc["workloads"].push_back(
        {{"name", w->name}, {"description", w->description}, {"is_read", w->is_read}});
  }
  doc["results"] = Json::array();

  std::map<std::string, bool> loaded;  // engine -> shared data set is in place
  std::map<std::string, bool> broken;  // engine -> loading the shared data set failed
  bool ok = true;
  const Workload* load = FindWorkload(all, "fillrandom");
  for (const std::string& b : f.benchmarks) {
    const Workload& w = *FindWorkload(all, b);
    for (const std::string& e : f.engines) {
      const std::string shared = f.db + "/" + e + "/shared";
      std::string dir;
      if (w.db == DbUse::kFresh) {
        dir = f.db + "/" + e + "/" + w.name;
      } else if (w.db == DbUse::kLoad) {
        dir = shared;
      } else {
        if (broken[e]) {
          Json r{{"engine", e}, {"workload", w.name}, {"error", "no data set (load failed)"}};
          PrintResult(r, false);
          doc["results"].push_back(r);
          ok = false;
          continue;
        }
        if (!loaded[e] && f.use_existing_db && fs::exists(shared + ".complete")) {
          loaded[e] = true;
        }
        if (!loaded[e]) {
          fs::remove_all(shared, ec);
          fs::create_directories(shared, ec);
          Json r = RunInChild(e, *load, p, shared);
          PrintResult(r, true);
          if (r.contains("error")) {
            broken[e] = true;
            doc["results"].push_back(r);
            ok = false;
            continue;
          }
          loaded[e] = true;
          MarkComplete(shared);
        }
        dir = shared;
      }
      if (w.db == DbUse::kFresh || w.db == DbUse::kLoad) {
        fs::remove_all(dir, ec);
        fs::create_directories(dir, ec);
      }
      Json r = RunInChild(e, w, p, dir);
      PrintResult(r, false);
      if (r.contains("error")) ok = false;
      doc["results"].push_back(r);
      if (w.db == DbUse::kLoad) {
        loaded[e] = !r.contains("error");
        if (loaded[e]) MarkComplete(shared);
        broken[e] = r.contains("error");
      }
      if (w.db == DbUse::kSharedConsume) {
        loaded[e] = false;
        fs::remove(shared + ".complete", ec);
      }
      if (w.db == DbUse::kFresh && !f.keep_dbs) fs::remove_all(dir, ec);
    }
  }
  if (!f.keep_dbs) fs::remove_all(f.db, ec);

  if (!f.json_path.empty() && !WriteFile(f.json_path, doc.dump(2) + "\n")) ok = false;
  if (!f.markdown_path.empty() && !WriteFile(f.markdown_path, RenderMarkdown(doc))) ok = false;
  if (!f.dat_prefix.empty()) {
    if (!WriteFile(f.dat_prefix + "throughput.dat", RenderThroughputDat(doc))) ok = false;
    if (!WriteFile(f.dat_prefix + "ratio.dat", RenderRatioDat(doc))) ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace keyva::bench

int main(int argc, char** argv) { return keyva::bench::Main(argc, argv); }
