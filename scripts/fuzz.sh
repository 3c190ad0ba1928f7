#!/usr/bin/env bash
# Fuzzes keyva's parsers with libFuzzer: the WAL reader, the SST reader, MANIFEST recovery,
# request routing/key decoding, the whole request path (parser, header checks, handlers) and the MIME sniffer (fuzz/fuzz_*.cc).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
#
# Installs clang-14 and libclang-rt-14-dev when missing, builds the targets in build-fuzz
# (-DKEYVA_FUZZ=ON, clang, ASan+UBSan), then runs each for the given time from its seed corpus
# fuzz/corpus/<target>/ (read-only: new inputs go to build-fuzz/corpus/<target>/, which persists
# between runs). A crash stops with a non-zero exit and leaves the input in
# build-fuzz/crashes/<target>/; turn it into a Catch2 regression test (tests/unit/*/fuzz_regression
# _test.cc) with a fix. FUZZ_JOBS (default 1) runs that many fuzzing processes per target; the
# targets run side by side, as many at once as the cores allow (FUZZ_TARGETS_AT_ONCE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
jobs=${FUZZ_JOBS:-1}

if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq clang-14 libclang-rt-14-dev
fi

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKEYVA_FUZZ=ON -DKEYVA_BUILD_TESTS=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
targets=(wal_reader sst_reader manifest uri sniff request)
ninja -C build-fuzz -j "${KEYVA_BUILD_JOBS:-2}" "${targets[@]/#/fuzz_}"

parallel=()
[[ $jobs -gt 1 ]] && parallel=(-jobs="$jobs" -workers="$jobs")
# Targets fuzz side by side, FUZZ_TARGETS_AT_ONCE at a time (default: one per core divided by
# FUZZ_JOBS), each in its own directory under build-fuzz/run/ (libFuzzer writes fuzz-N.log
# files into the current directory).
at_once=${FUZZ_TARGETS_AT_ONCE:-$(( $(nproc) / jobs ))}
[[ $at_once -lt 1 ]] && at_once=1
root=$PWD

# Fuzzes target $1; prints its summary (and the crash, when there is one) once it is done, and
# exits non-zero on a crash.
fuzz_one() {
  local t=$1
  local corpus=$root/build-fuzz/corpus/$t crashes=$root/build-fuzz/crashes/$t
  local run=$root/build-fuzz/run/$t log=$root/build-fuzz/fuzz_$t.log
  mkdir -p "$corpus" "$crashes" "$run"
  rm -f "$run"/fuzz-*.log
  local failed=0
  if ! (cd "$run" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1 \
      "$root/build-fuzz/fuzz/fuzz_$t" "$corpus" "$root/fuzz/corpus/$t" \
      -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$crashes/" "${parallel[@]}" >"$log" 2>&1); then
    echo "fuzz_$t FAILED; input(s) in build-fuzz/crashes/$t/, log in build-fuzz/fuzz_$t.log:"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -20 || true
    failed=1
  fi
  # (With one job there are no fuzz-N.log files: only read the ones that exist.)
  local logs=("$log")
  shopt -s nullglob
  logs+=("$run"/fuzz-*.log)
  shopt -u nullglob
  local execs
  execs=$(cat "${logs[@]}" | awk '/^stat::number_of_executed_units/ {s += $2} END {print s + 0}')
  echo "fuzz_$t: $execs executions in ${seconds}s, corpus $(ls "$corpus" | wc -l) inputs"
  return $failed
}

status=0
pids=()
for t in "${targets[@]}"; do
  echo "=== fuzz_$t for ${seconds}s"
  fuzz_one "$t" &
  pids+=($!)
  if [[ ${#pids[@]} -ge $at_once ]]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
