#!/usr/bin/env bash
# keyva's watch bench: keyva_watch_bench (bench/watch/watch_bench.cc) against one keyvad
# --sync=none on loopback: PUT throughput with no watcher and with --watchers SSE watchers on
# every change (same writers, same duration, phases alternated over --rounds), and the latency
# from a PUT's answer to its event reaching a watcher. bench/run.sh calls it; it also runs alone.
#
# keyvad runs on 127.0.0.1 on a port of its choosing (--port-file), its data in a fresh
# directory under BUILD_DIR/watch-bench/, and is stopped by PID when this script exits.
#
# Usage: bench/watch/run.sh [--quick] [--duration=SECONDS] [--rounds=N] [--writers=N]
#                           [--watchers=N] [--keyvad=PATH] [--bench=PATH] [--check]
#                           BUILD_DIR OUT_DIR
#   --quick        3 s per phase, 1 round (default: 10 s, 3 rounds)
#   --keyvad=PATH, --bench=PATH  use these binaries instead of building BUILD_DIR's
#   --check        exit 1 if a request failed or a watcher missed an acknowledged PUT
# Writes OUT_DIR/watch.json (every phase and the summary), watch.md (the RESULTS.md section),
# watch_targets.md (the target, PASS/MISS) and watch-logs/keyvad.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

quick=0
check=0
duration=""
rounds=""
writers=32
watchers=100
keyvad=""
bench=""
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --check) check=1 ;;
    --duration=*) duration=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --writers=*) writers=${arg#*=} ;;
    --watchers=*) watchers=${arg#*=} ;;
    --keyvad=*) keyvad=${arg#*=} ;;
    --bench=*) bench=${arg#*=} ;;
    --*) echo "bench/watch/run.sh: unknown flag $arg" >&2; exit 2 ;;
    *) args+=("$arg") ;;
  esac
done
if [[ ${#args[@]} -ne 2 ]]; then
  echo "usage: bench/watch/run.sh [--quick] [--duration=S] [--rounds=N] [--writers=N]" \
    "[--watchers=N] [--keyvad=PATH] [--bench=PATH] [--check] BUILD_DIR OUT_DIR" >&2
  exit 2
fi
build_dir=$(mkdir -p "${args[0]}" && cd "${args[0]}" && pwd)
out_dir=$(mkdir -p "${args[1]}" && cd "${args[1]}" && pwd)
if [[ -z $duration ]]; then duration=$([[ $quick -eq 1 ]] && echo 3 || echo 10); fi
if [[ -z $rounds ]]; then rounds=$([[ $quick -eq 1 ]] && echo 1 || echo 3); fi

targets=()
[[ -z $keyvad ]] && targets+=(keyvad)
[[ -z $bench ]] && targets+=(keyva_watch_bench)
if [[ ${#targets[@]} -gt 0 ]]; then
  cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}"
fi
keyvad=${keyvad:-$build_dir/cmd/keyvad/keyvad}
bench=${bench:-$build_dir/bench/watch/keyva_watch_bench}
[[ -x $keyvad ]] || { echo "bench/watch/run.sh: no keyvad at $keyvad" >&2; exit 2; }
[[ -x $bench ]] || { echo "bench/watch/run.sh: no keyva_watch_bench at $bench" >&2; exit 2; }

dir=$build_dir/watch-bench
rm -rf "$dir"
mkdir -p "$dir" "$out_dir/watch-logs"
pid=""
stop_keyvad() {
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || { pid=""; return 0; }
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap stop_keyvad EXIT
trap 'exit 130' INT TERM

"$keyvad" --addr=127.0.0.1:0 --port-file="$dir/port" --data-dir="$dir/data" --sync=none \
  --log-level=warn >"$dir/keyvad.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  [[ -s $dir/port ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "bench/watch/run.sh: keyvad exited:" >&2; cat "$dir/keyvad.log" >&2; exit 1; }
  sleep 0.1
done
[[ -s $dir/port ]] || { echo "bench/watch/run.sh: keyvad did not start" >&2; exit 1; }
port=$(cat "$dir/port")

echo "   watch bench: ${duration}s per phase, $rounds round(s), $writers writers, 0 and $watchers watchers"
rc=0
"$bench" --port="$port" --server_pid="$pid" --writers="$writers" --watchers="$watchers" \
  --duration="$duration" --rounds="$rounds" --json="$out_dir/watch.json" \
  $([[ $check -eq 1 ]] && echo --check) || rc=$?
stop_keyvad
cp "$dir/keyvad.log" "$out_dir/watch-logs/" 2>/dev/null || true
if [[ -f $out_dir/watch.json ]]; then
  python3 "$here/report.py" --json="$out_dir/watch.json" --out="$out_dir"
fi
exit $rc
