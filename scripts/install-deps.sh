#!/usr/bin/env bash
# Installs every Debian package keyva needs to build, test and run. Idempotent: safe to run again.
# Usage: scripts/install-deps.sh [--tests] [--bench] [--tidy]
#   --tests adds what scripts/test.sh needs beyond the build: Chromium + Node for the web-page
#           tests, gdb for the stacks of a test's keyvad that does not stop when told;
#   --tidy adds clang-tidy for scripts/check-tidy.sh (a by-hand check);
#   --bench adds the peer engines, wrk, gnuplot and the HTTP peers for bench/run.sh (nginx,
#           etcd, webdis + redis). bench/http/run.sh starts its own instances of those servers on
#           loopback, so their system services are kept from starting (policy-rc.d during the
#           install) and disabled/stopped afterwards.
set -euo pipefail

want_tests=0
want_bench=0
want_tidy=0
for arg in "$@"; do
  case "$arg" in
    --tests) want_tests=1 ;;
    --bench) want_bench=1 ;;
    --tidy) want_tidy=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

packages=(
  build-essential g++ cmake ninja-build pkg-config git curl
  libboost1.81-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev catch2
  libxxhash-dev liblz4-dev libzstd-dev libssl-dev
  zlib1g-dev libbrotli-dev
  clang-format
)
if [[ $want_tests -eq 1 ]]; then
  packages+=(chromium gdb)
  # Node.js 20 and npm may come from elsewhere (the machine image's nodejs bundles npm and
  # conflicts with Debian's npm package): only ask Debian for them when they are missing.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
if [[ $want_tidy -eq 1 ]]; then
  packages+=(clang-tidy)
fi
if [[ $want_bench -eq 1 ]]; then
  packages+=(librocksdb-dev libleveldb-dev liblmdb-dev wrk gnuplot-nox)
  packages+=(nginx-light etcd-server webdis redis-server jq python3)
fi
# System services the bench packages would start; bench/http/run.sh runs its own instances.
bench_services=(nginx etcd webdis redis-server)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d exiting 101 tells Debian's maintainer scripts not to start services. Install a
  # temporary one unless the machine already has its own (containers usually do).
  temp_policy=0
  if [[ $want_bench -eq 1 && ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    temp_policy=1
  fi
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" || status=$?
  if [[ $temp_policy -eq 1 ]]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  if [[ ${status:-0} -ne 0 ]]; then exit "$status"; fi
fi

if [[ $want_bench -eq 1 ]]; then
  # Keep the peers' system services off (the bench starts its own on free loopback ports).
  for svc in "${bench_services[@]}"; do
    if [[ -d /run/systemd/system ]]; then
      $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$svc ]]; then
      $SUDO /etc/init.d/"$svc" stop >/dev/null 2>&1 || true
    fi
  done
fi
