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
# _test.cc) with a fix. FUZZ_JOBS (default 1) runs that many fuzzing processes per target.
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
  -DKEYVA_FUZZ=ON -DKEYVA_BUILD_TESTS=OFF >/dev/null
targets=(wal_reader sst_reader manifest uri sniff request)
ninja -C build-fuzz -j "${KEYVA_BUILD_JOBS:-2}" "${targets[@]/#/fuzz_}"

parallel=()
# libFuzzer writes fuzz-N.log per job into the current directory: keep them in build-fuzz.
[[ $jobs -gt 1 ]] && parallel=(-jobs="$jobs" -workers="$jobs")
root=$PWD
status=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  crashes=build-fuzz/crashes/$t
  mkdir -p "$corpus" "$crashes"
  echo "=== fuzz_$t for ${seconds}s"
  log=build-fuzz/fuzz_$t.log
  # (Run from build-fuzz: with -jobs libFuzzer writes fuzz-N.log into the current directory.)
  if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1 \
      "$root/build-fuzz/fuzz/fuzz_$t" "$root/$corpus" "$root/fuzz/corpus/$t" \
      -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$root/$crashes/" "${parallel[@]}" >"$root/$log" 2>&1); then
    echo "fuzz_$t FAILED; input(s) in $crashes/, log in $log:"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -20 || true
    status=1
  fi
  # (With one job there are no fuzz-N.log files: only read the ones that exist.)
  logs=("$log")
  shopt -s nullglob
  logs+=(build-fuzz/fuzz-*.log)
  shopt -u nullglob
  execs=$(cat "${logs[@]}" | awk '/^stat::number_of_executed_units/ {s += $2} END {print s + 0}')
  rm -f build-fuzz/fuzz-*.log
  echo "fuzz_$t: $execs executions, corpus $(ls "$corpus" | wc -l) inputs"
done
exit $status
