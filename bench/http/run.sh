#!/usr/bin/env bash
# keyva's HTTP bench: wrk against keyvad and peer servers on loopback, from one run, so every
# keyvad number has the same machine's peers beside it. bench/run.sh calls it; it also runs alone.
#
# Servers (each on 127.0.0.1 on a free port, its data in a fresh directory under the build dir,
# stopped by PID when this script exits, whatever the exit):
#   keyvad-always  keyvad --sync=always (fsync before acknowledging a write; its default)
#   keyvad-none    keyvad --sync=none (writes reach the OS, not the disk, before the answer)
#   nginx          nginx-light answering a fixed 200 with a 100-byte body (nginx.conf): the
#                  ceiling of this machine + wrk for HTTP/1.1 keep-alive on loopback; it also
#                  runs the calibration below
#   etcd           etcd's v2 keys API (--enable-v2): PUT/GET /v2/keys/K; every write is in its
#                  raft WAL, fsynced per batch (etcd has no unsynced mode)
#   webdis         webdis (webdis.json) in front of redis-server: GET /GET/K.txt (the raw value,
#                  like keyvad), SET as PUT /SET/K with the value as body; redis with its
#                  append-only file on and appendfsync no, the durability of keyvad-none
# Workloads (kv.lua): get, put, mix (90% GET / 10% PUT), uniform random keys out of --keys
# preloaded ones, 100-byte values, wrk with 2 threads at each of --connections. kv.lua formats
# every request before the run, so wrk's cost per request is that of a fixed request.
# Calibration: beside nginx's runs, 3 interleaved rounds of nginx's GET with the bench's client,
# as one fixed request (wrk's own cost) and formatted per request (kv.lua before): the
# "load generator check" line, printed at the end and in http.md and http_targets.md. Every run
# records wrk's and the server's CPU time (user + system).
#
# Usage: bench/http/run.sh [--quick] [--servers=LIST] [--ops=LIST] [--connections=LIST]
#                          [--duration=SECONDS] [--keys=N] [--keyvad=PATH] BUILD_DIR OUT_DIR
#   --quick        3 s per run and 10,000 keys (default: 15 s, 100,000 keys)
#   --keyvad=PATH  use this keyvad instead of building BUILD_DIR's (cmake --build --target keyvad)
#   --check        exit 1 if any run saw an error (socket error or a non-2xx answer)
# Writes OUT_DIR/http.jsonl (one line per run; calibration runs carry "round"), http.json,
# http.md (the RESULTS.md section), http_targets.md (the targets, PASS/MISS, and the load
# generator check), http_throughput.dat, http_targets.dat (for
# bench/http/charts.gnuplot), and each server's log and wrk output under OUT_DIR/http-logs/.
# A peer that is not installed or does not start is skipped and reported, never fatal.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

quick=0
check=0
servers="keyvad-always,keyvad-none,nginx,etcd,webdis"
ops="get,mix,put"
connections="32,256"
duration=""
keys=""
keyvad=""
threads=2
value_size=100
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --check) check=1 ;;
    --servers=*) servers=${arg#*=} ;;
    --ops=*) ops=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --keys=*) keys=${arg#*=} ;;
    --keyvad=*) keyvad=${arg#*=} ;;
    --*) echo "bench/http/run.sh: unknown flag $arg" >&2; exit 2 ;;
    *) args+=("$arg") ;;
  esac
done
if [[ ${#args[@]} -ne 2 ]]; then
  echo "usage: bench/http/run.sh [--quick] [--servers=LIST] [--ops=LIST] [--connections=LIST]" \
    "[--duration=S] [--keys=N] [--keyvad=PATH] [--check] BUILD_DIR OUT_DIR" >&2
  exit 2
fi
build_dir=$(mkdir -p "${args[0]}" && cd "${args[0]}" && pwd)
out_dir=$(mkdir -p "${args[1]}" && cd "${args[1]}" && pwd)
if [[ -z $duration ]]; then duration=$([[ $quick -eq 1 ]] && echo 3 || echo 15); fi
if [[ -z $keys ]]; then keys=$([[ $quick -eq 1 ]] && echo 10000 || echo 100000); fi
# The calibration's interleaved runs: 3 rounds of a third of --duration each (at least 2 s).
calibration_rounds=3
calibration_secs=$(( duration / 3 > 2 ? duration / 3 : 2 ))
command -v wrk >/dev/null || { echo "bench/http/run.sh: wrk not found" >&2; exit 2; }

if [[ -z $keyvad ]]; then
  cmake --build "$build_dir" -j "$(nproc)" --target keyvad
  keyvad=$build_dir/cmd/keyvad/keyvad
fi
[[ -x $keyvad ]] || { echo "bench/http/run.sh: no keyvad at $keyvad" >&2; exit 2; }

data_root=$build_dir/http-bench
rm -rf "$data_root"
mkdir -p "$data_root" "$out_dir/http-logs"
results=$out_dir/http.jsonl
: >"$results"
skipped=()

# ---- processes: every server we start is recorded here and stopped on exit --------------------
pids=()
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# A TCP port nothing listens on now (a later bind can still race another program; the server's
# start then fails and is reported).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    if ! ss -Htln "sport = :$port" | grep -q .; then echo "$port"; return; fi
  done
}

# Waits until URL answers HTTP (any status) or the process PID died; false after 30 s.
wait_http() {
  local url=$1 pid=$2
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}

render() {  # template -> file, replacing @NAME@ by the values given as NAME=value
  local template=$1 dest=$2
  shift 2
  local sed_args=() kv
  for kv in "$@"; do sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${sed_args[@]}" "$template" >"$dest"
}

# start_<server> DIR: starts the server, sets url, style and pids; false when it could not start.
start_keyvad() {
  local dir=$1 sync=$2
  "$keyvad" --addr=127.0.0.1:0 --port-file="$dir/port" --data-dir="$dir/data" --sync="$sync" \
    --log-level=warn >"$dir/keyvad.log" 2>&1 &
  pids+=($!)
  local pid=$!
  for _ in $(seq 300); do
    [[ -s $dir/port ]] && break
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  url="http://127.0.0.1:$(cat "$dir/port")"
  style=keyva
  wait_http "$url/kv/" "$pid"
}
start_keyvad-always() { start_keyvad "$1" always; }
start_keyvad-none() { start_keyvad "$1" none; }

start_nginx() {
  local dir=$1 port
  local nginx_bin
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  [[ -x $nginx_bin ]] || { echo "nginx not installed"; return 2; }
  port=$(free_port)
  render "$here/nginx.conf" "$dir/nginx.conf" PORT="$port" DIR="$dir" WORKERS="$(nproc)"
  "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 &
  pids+=($!)
  url="http://127.0.0.1:$port"
  style=nginx
  wait_http "$url/" "$!"
}

start_etcd() {
  local dir=$1 port peer_port
  local etcd_bin
  etcd_bin=$(command -v etcd || echo /usr/bin/etcd)
  [[ -x $etcd_bin ]] || { echo "etcd not installed"; return 2; }
  port=$(free_port)
  peer_port=$(free_port)
  "$etcd_bin" --name=bench --data-dir="$dir/data" --enable-v2=true \
    --listen-client-urls="http://127.0.0.1:$port" --advertise-client-urls="http://127.0.0.1:$port" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="bench=http://127.0.0.1:$peer_port" --log-level=warn \
    >"$dir/etcd.log" 2>&1 &
  pids+=($!)
  url="http://127.0.0.1:$port"
  style=etcd
  wait_http "$url/v2/keys/" "$!"
}

start_webdis() {
  local dir=$1 port redis_port
  local redis_bin webdis_bin
  redis_bin=$(command -v redis-server || echo /usr/bin/redis-server)
  webdis_bin=$(command -v webdis || echo /usr/bin/webdis)
  [[ -x $redis_bin ]] || { echo "redis-server not installed"; return 2; }
  [[ -x $webdis_bin ]] || { echo "webdis not installed"; return 2; }
  redis_port=$(free_port)
  "$redis_bin" --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --daemonize no --save "" \
    --appendonly yes --appendfsync no --logfile "$dir/redis.log" >/dev/null 2>&1 &
  pids+=($!)
  local redis_pid=$!
  for _ in $(seq 300); do
    kill -0 "$redis_pid" 2>/dev/null || return 1
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  port=$(free_port)
  render "$here/webdis.json" "$dir/webdis.json" PORT="$port" REDIS_PORT="$redis_port" DIR="$dir" \
    WORKERS="$(nproc)"
  "$webdis_bin" "$dir/webdis.json" >"$dir/webdis.out" 2>&1 &
  pids+=($!)
  url="http://127.0.0.1:$port"
  style=webdis
  wait_http "$url/PING" "$!"
}

# cpu_delta BEFORE AFTER: user + system seconds of waited-for children between two outputs of
# the times builtin (its second line: children's user and system time, as 1m2.345s).
cpu_delta() {
  awk 'FNR == 2 {
      t = 0
      for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
      if (FILENAME == ARGV[1]) before = t; else after = t
    }
    END { printf "%.3f\n", after - before }' "$1" "$2"
}

# server_cpu: user + system seconds so far of the running server's processes (those in pids,
# and their children: nginx's workers).
server_cpu() {
  local p ticks=0 all=()
  for p in "${pids[@]}"; do
    all+=("$p")
    mapfile -t -O "${#all[@]}" all < <(pgrep -P "$p" || true)
  done
  for p in "${all[@]}"; do
    # after "PID (comm) ", utime and stime are the 12th and 13th fields (comm may hold spaces)
    [[ -r /proc/$p/stat ]] && ticks=$((ticks + $(sed 's/.*) //' "/proc/$p/stat" |
      awk '{print $12 + $13}')))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f\n", t / hz }'
}

# run_wrk SERVER OP CONNECTIONS DURATION [ROUND]: one wrk run; appends its JSON line to
# $results, with wrk's and the server's CPU time over the run (user + system seconds; null for
# the preload). ROUND marks a calibration run (run.sh's interleaved nginx runs).
run_wrk() {
  local server=$1 op=$2 conns=$3 secs=$4 round=${5:-}
  local log=$out_dir/http-logs/$server-$op-c$conns${round:+-r$round}.txt
  local load client_cpu=null server_cpu_s=null server_before
  load=$(cut -d' ' -f1 /proc/loadavg)
  if [[ $op == preload ]]; then
    # wrk sleeps for all of -d even after every thread stopped itself: each thread leaves a
    # marker when its keys are in, and SIGINT then ends wrk (it prints its summary as usual).
    local marker=$data_root/$server/preload-done
    rm -f "$marker".*
    KEYVA_BENCH_PRELOAD=1 KEYVA_BENCH_PRELOAD_DONE=$marker wrk -t "$threads" -c "$conns" \
      -d "${secs}s" --timeout 10s -s "$here/kv.lua" "$url" -- "$style" preload "$keys" \
      "$value_size" "$conns" "$threads" >"$log" 2>&1 &
    local wrk_pid=$!
    while kill -0 "$wrk_pid" 2>/dev/null; do
      if [[ $(find "$data_root/$server" -maxdepth 1 -name 'preload-done.*' | wc -l) -ge $threads ]]
      then
        kill -INT "$wrk_pid"
        break
      fi
      sleep 0.2
    done
    wait "$wrk_pid" || true
  else
    # get-fixed (calibration) sends the URL's own request: a preloaded key's path.
    local target=$url
    [[ $op == get-fixed ]] && target=$url/kv/key0000000
    server_before=$(server_cpu)
    times >"$data_root/times.before"  # builtins: no fork, so they see this shell's children
    KEYVA_BENCH_PRELOAD=0 wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 10s \
      -s "$here/kv.lua" "$target" -- "$style" "$op" "$keys" "$value_size" "$conns" "$threads" \
      >"$log" 2>&1 || true
    times >"$data_root/times.after"
    server_cpu_s=$(awk -v a="$(server_cpu)" -v b="$server_before" 'BEGIN { printf "%.3f", a - b }')
    client_cpu=$(cpu_delta "$data_root/times.before" "$data_root/times.after")
  fi
  local line
  line=$(grep '^KVJSON ' "$log" | head -1 | cut -d' ' -f2-)
  if [[ -z $line ]]; then
    echo "   $server $op c=$conns: wrk failed (see $log)" >&2
    line='{"failed":true}'
  fi
  echo "{\"server\":\"$server\",\"op\":\"$op\",\"connections\":$conns,\"threads\":$threads,${round:+\"round\":$round,}\"load1\":$load,\"client_cpu_s\":$client_cpu,\"server_cpu_s\":$server_cpu_s,\"wrk\":$line}" \
    >>"$results"
  jq -r 'def us(cpu): (cpu / .wrk.requests * 1e7 | floor) / 10;
    "   \(.server) \(.op) c=\(.connections)\(if .round then " round \(.round)" else "" end): \(
    if .wrk.failed then "FAILED" else
    "\((.wrk.requests / .wrk.duration_us * 1e6) | floor) req/s, p99 \(.wrk.latency_us.p99) us, errors \(.wrk.errors | add)\(
    if .client_cpu_s and .wrk.requests > 0 then
      ", CPU us/request: wrk \(us(.client_cpu_s)), server \(us(.server_cpu_s))" else "" end)" end)"' \
    <<<"$(tail -1 "$results")"
}

IFS=, read -ra server_list <<<"$servers"
IFS=, read -ra op_list <<<"$ops"
IFS=, read -ra conn_list <<<"$connections"
echo "   HTTP bench: ${duration}s per run, $keys keys, ${value_size}-byte values, wrk -t$threads"
for server in "${server_list[@]}"; do
  dir=$data_root/$server
  mkdir -p "$dir"
  if ! declare -F "start_$server" >/dev/null; then
    echo "bench/http/run.sh: unknown server $server" >&2
    exit 2
  fi
  rc=0
  "start_$server" "$dir" >"$dir/start.msg" || rc=$?  # not in a subshell: it sets pids and url
  if [[ $rc -ne 0 ]]; then
    why=$(cat "$dir/start.msg")
    [[ -z $why ]] && why="did not start (logs in $dir)"
    echo "   $server: skipped: $why" >&2
    skipped+=("$server: $why")
    stop_all
    continue
  fi
  # Preload every key (style-specific PUTs) before any run; time-boxed at 10 minutes.
  if [[ $server != nginx ]]; then run_wrk "$server" preload 64 600; fi
  for conns in "${conn_list[@]}"; do
    for op in "${op_list[@]}"; do run_wrk "$server" "$op" "$conns" "$duration"; done
    # Calibration (nginx only): the bench's GET, the same GET as one fixed request, and the GET
    # formatted per request as kv.lua used to, interleaved in short runs so that a change in the
    # machine's load hits the three alike.
    if [[ $server == nginx ]]; then
      for round in $(seq "$calibration_rounds"); do
        for op in get get-fixed get-format; do
          run_wrk "$server" "$op" "$conns" "$calibration_secs" "$round"
        done
      done
    fi
  done
  stop_all
  cp "$dir"/*.log "$out_dir/http-logs/" 2>/dev/null || true
  du -sk "$dir" | awk -v s="$server" '{print "   " s ": " $1 " KiB on disk after the runs"}'
done

skipped_json=$(printf '%s\n' "${skipped[@]+"${skipped[@]}"}" | jq -R . | jq -sc 'map(select(. != ""))')
python3 "$here/report.py" --results="$results" --out="$out_dir" --duration="$duration" \
  --keys="$keys" --value-size="$value_size" --threads="$threads" --skipped="$skipped_json" \
  --nginx-version="$( (nginx -v 2>&1 || true) | sed 's|.*/||')" \
  --etcd-version="$( (etcd --version 2>/dev/null || true) | awk 'NR==1 {print $3}')" \
  --webdis-version="$(dpkg-query -W -f='${Version}' webdis 2>/dev/null || true)" \
  --redis-version="$( (redis-server --version 2>/dev/null || true) | sed -n 's/.* v=\([^ ]*\).*/\1/p')" \
  --wrk-version="$( (wrk -v 2>&1 || true) | awk 'NR==1 {sub("debian/", "", $2); print $2}')"

if [[ $check -eq 1 ]]; then
  bad=$(jq -s '[.[] | select(.wrk.failed or (.wrk.errors | add) > 0 or .wrk.requests == 0)] | length' \
    "$results")
  if [[ $bad -ne 0 || ${#skipped[@]} -ne 0 ]]; then
    echo "bench/http/run.sh: $bad runs with errors, ${#skipped[@]} servers skipped" >&2
    exit 1
  fi
fi
