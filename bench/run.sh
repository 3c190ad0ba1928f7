#!/usr/bin/env bash
# One command for keyva's benchmarks: installs the peers (scripts/install-deps.sh --bench), builds
# with -DKEYVA_BUILD_BENCH=ON into build-bench/ (RelWithDebInfo), runs the engine bench (keyva vs
# RocksDB, LevelDB, LMDB; each engine and workload in its own process), then the HTTP bench
# (bench/http/run.sh: keyvad vs nginx, etcd, webdis under wrk), then the watch bench
# (bench/watch/run.sh: keyvad's PUT/s with and without 100 SSE watchers), and writes:
#   bench/RESULTS.md                     the report (ratios, never a lone keyva number; the
#                                        targets with PASS/MISS)
#   bench/results/{engine,http,watch}.json  every measurement and setting of this run
#   bench/results/engine_{throughput,ratio}.png, http_{throughput,targets}.png  bar charts
# A timestamped copy of each run's JSON stays in build-bench/bench-runs/.
#
# Usage: bench/run.sh [--quick] [--no-install] [any keyva_engine_bench flag, e.g. --engines=keyva,lmdb]
#   --quick       N = 100,000 (2,000 fsynced puts, 2,000 x 64 KiB), 3 s per HTTP run
#                 (15 s in a full run) with 10,000 keys, and one round of 3 s watch-bench
#                 phases (3 rounds of 10 s in a full run), for a smoke run
#   --no-install  skip scripts/install-deps.sh --bench
# Environment: KEYVA_BENCH_BUILD_DIR (default build-bench), KEYVA_BENCH_DB_DIR (default
# <build dir>/bench-db; put it on the disk you want to measure, not on a tmpfs).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
install=1
extra=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    *) extra+=("$arg") ;;
  esac
done

if [[ $install -eq 1 ]]; then scripts/install-deps.sh --bench; fi

build_dir=${KEYVA_BENCH_BUILD_DIR:-build-bench}
db_dir=${KEYVA_BENCH_DB_DIR:-$build_dir/bench-db}
out_dir=bench/results
mkdir -p "$out_dir" "$build_dir/bench-runs"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKEYVA_BUILD_BENCH=ON -DKEYVA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target keyva_engine_bench keyvad \
  keyva_watch_bench

size_flags=()
mode="full"
if [[ $quick -eq 1 ]]; then
  size_flags=(--num=100000 --sync_num=2000 --big_num=2000)
  mode="quick"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$build_dir/bench-runs/$stamp
mkdir -p "$work"
echo "== engine bench ($mode) -> $work"
status=0
"$build_dir/bench/keyva_engine_bench" "${size_flags[@]}" "${extra[@]}" --db="$db_dir" \
  --json="$work/engine.json" --markdown="$work/engine.md" --dat="$work/engine_" || status=$?
cp "$work/engine.json" "$out_dir/engine.json"
if command -v gnuplot >/dev/null; then
  gnuplot -e "dat='$work/engine_'; out='$out_dir/engine_'" bench/engine/charts.gnuplot
else
  echo "gnuplot not found: no charts" >&2
fi

# ---- HTTP bench: keyvad, nginx, etcd and webdis under wrk on loopback (bench/http/run.sh) ------
http_flags=()
if [[ $quick -eq 1 ]]; then http_flags=(--quick); fi
echo "== HTTP bench ($mode) -> $work"
if command -v wrk >/dev/null; then
  bench/http/run.sh "${http_flags[@]}" "$build_dir" "$work" || status=$?
  if [[ -f $work/http.json ]]; then
    cp "$work/http.json" "$out_dir/http.json"
    if command -v gnuplot >/dev/null; then
      gnuplot -e "dat='$work/http_'; out='$out_dir/http_'" bench/http/charts.gnuplot
    fi
  fi
else
  echo "wrk not found: no HTTP bench (scripts/install-deps.sh --bench installs it)" >&2
fi

# ---- watch bench: keyvad's PUT/s with and without 100 SSE watchers (bench/watch/run.sh) -------
watch_flags=()
if [[ $quick -eq 1 ]]; then watch_flags=(--quick); fi
echo "== watch bench ($mode) -> $work"
bench/watch/run.sh "${watch_flags[@]}" --keyvad="$build_dir/cmd/keyvad/keyvad" \
  --bench="$build_dir/bench/watch/keyva_watch_bench" "$build_dir" "$work" || status=$?
if [[ -f $work/watch.json ]]; then cp "$work/watch.json" "$out_dir/watch.json"; fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if ! git diff --quiet HEAD -- internal bench/engine bench/watch bench/CMakeLists.txt 2>/dev/null; then dirty=" (with uncommitted changes)"; fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
mkdir -p "$db_dir"
fs_type=$(df -T "$db_dir" | awk 'NR==2 {print $2}')
load=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# keyva benchmark results"
  echo
  echo "Written by \`bench/run.sh$([[ $quick -eq 1 ]] && echo ' --quick')\` on $(date -u '+%Y-%m-%d %H:%M UTC'),"
  echo "commit $commit$dirty, $(nproc) × $cpu, $mem RAM, $(uname -sr), databases on $fs_type."
  echo "Load average (1, 5, 15 min) when it started: $load_start; when it finished: $load (other"
  echo "work on the machine shows up as noise)."
  echo "Raw numbers and every setting: [results/engine.json](results/engine.json),"
  echo "[results/http.json](results/http.json), [results/watch.json](results/watch.json)."
  echo "How the numbers are made, and how to profile: [README.md](README.md)."
  echo
  if [[ -f $work/http_targets.md || -f $work/watch_targets.md ]]; then
    echo "## Targets"
    echo
  fi
  if [[ -f $work/http_targets.md ]]; then
    cat "$work/http_targets.md"
    echo
  fi
  if [[ -f $work/watch_targets.md ]]; then
    cat "$work/watch_targets.md"
    echo
  fi
  echo "## Engine: keyva vs RocksDB, LevelDB and LMDB"
  echo
  echo "![ops/s per engine and workload](results/engine_throughput.png)"
  echo
  echo "![keyva ÷ peers](results/engine_ratio.png)"
  echo
  cat "$work/engine.md"
  echo
  echo "## HTTP"
  echo
  if [[ -f $work/http.md ]]; then
    cat "$work/http.md"
  else
    echo "Not measured: wrk is not installed, or bench/http/run.sh failed before its report."
  fi
  echo
  echo "## Watch feed: PUT with and without 100 SSE watchers"
  echo
  if [[ -f $work/watch.md ]]; then
    cat "$work/watch.md"
  else
    echo "Not measured: bench/watch/run.sh failed before its report."
  fi
} >bench/RESULTS.md
echo "== wrote bench/RESULTS.md, $out_dir/{engine,http,watch}.json and charts"
exit $status
