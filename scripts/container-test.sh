#!/usr/bin/env bash
# Builds the keyvad container image from the Dockerfile with podman and checks it end to end:
# the image runs as a non-root user, answers /healthz (and its HEALTHCHECK passes), stores a key
# on a named volume, keeps it across a container restart, takes a checkpoint on the volume, and
# stops gracefully on `podman stop` (SIGTERM: exit 0, "keyvad stopped" in the log). Then it
# removes the containers, the volume and the image it built.
#
# No registry is needed: the base image debian:bookworm-slim is made locally with debootstrap
# from the Debian mirror apt already uses (kept between runs: skipped when it exists), and the
# build runs with --pull=never. Podman runs with runc, cgroupfs and explicit ulimits (a
# containers.conf of our own, via CONTAINERS_CONF), which works on hosts where the defaults do not.
#
# Usage: scripts/container-test.sh   (root, or sudo available; installs podman, runc, debootstrap,
# iptables when missing). KEYVA_CONTAINER_PORT picks the host port (default: a free one).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
start=$(date +%s)
log() { echo "container-test [$(($(date +%s) - start))s]: $*"; }

# 1. Tools.
packages=(podman runc debootstrap iptables netavark aardvark-dns uidmap curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. Podman's configuration: runc (crun fails on some cgroup layouts), cgroupfs, file events,
#    netavark, and ulimits no higher than this host's hard limits.
work=$(mktemp -d)
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
nproc=$(ulimit -Hu)
[[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
EOF
export CONTAINERS_CONF=$work/containers.conf
# Without systemd, podman logs errors about healthcheck timers it cannot make (the HEALTHCHECK
# itself works: step 5 runs it); drop that noise.
podman() {
  $SUDO env CONTAINERS_CONF="$CONTAINERS_CONF" podman "$@" 2> >(grep -v 'systemd connection' >&2)
}

tag=localhost/keyva-test:$$
name=keyva-test-$$
volume=keyva-test-data-$$
cleanup() {
  set +e
  podman rm -f -t 0 "$name" >/dev/null 2>&1
  podman volume rm -f "$volume" >/dev/null 2>&1
  podman rmi -f "$tag" >/dev/null 2>&1
  $SUDO rm -rf "$work"
}
trap cleanup EXIT

# 3. The base image, made once from the Debian mirror apt uses.
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  mirror=$( (grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true) | awk '{print $2}' |
    grep -v security | head -n1)
  if [[ -z $mirror ]]; then
    mirror=$( (grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true) |
      awk '{print $2}' | grep -v security | head -n1)
  fi
  mirror=${mirror:-http://deb.debian.org/debian}
  log "making debian:bookworm-slim with debootstrap from $mirror"
  $SUDO debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log"; exit 1; }
  $SUDO rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  $SUDO tar -C "$work/rootfs" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
  $SUDO rm -rf "$work/rootfs"
fi

# 4. The image, built from the Dockerfile (docker format: it keeps HEALTHCHECK).
log "building the image"
podman build --pull=never --format docker --jobs 1 -t "$tag" . >"$work/build.log" 2>&1 ||
  { tail -n 60 "$work/build.log"; exit 1; }
log "image built: $(podman image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec) bytes"
[[ $(podman image inspect --format '{{.Config.User}}' "$tag") == keyva ]] ||
  { echo "the image does not run as user keyva"; exit 1; }

port=${KEYVA_CONTAINER_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
url=http://127.0.0.1:$port

run() {
  podman run -d --name "$name" -p "127.0.0.1:$port:8080" -v "$volume:/data" "$tag" >/dev/null
  for _ in $(seq 1 100); do
    if curl -fsS "$url/healthz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "keyvad in the container did not answer /healthz"; podman logs "$name"; exit 1
}
fail() { echo "container-test: FAILED: $*"; podman logs "$name" 2>&1 | tail -n 30; exit 1; }

# 5. Run, store, read; the HEALTHCHECK; a checkpoint on the volume.
log "first run"
run
[[ $(podman exec "$name" id -u) != 0 ]] || fail "keyvad runs as root"
podman healthcheck run "$name" >/dev/null || fail "the HEALTHCHECK does not pass"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: text/plain' \
  --data-binary 'kept across restarts' "$url/kv/container/key")
[[ $code == 201 ]] || fail "PUT answered $code"
[[ $(curl -fsS "$url/kv/container/key") == 'kept across restarts' ]] || fail "GET after PUT"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$url/api/checkpoint?name=first")
[[ $code == 201 ]] || fail "checkpoint answered $code"

# 6. podman stop: SIGTERM, graceful.
podman stop -t 20 "$name" >/dev/null
[[ $(podman inspect --format '{{.State.ExitCode}}' "$name") == 0 ]] ||
  fail "keyvad exited with $(podman inspect --format '{{.State.ExitCode}}' "$name") on podman stop"
podman logs "$name" 2>&1 | grep -q "keyvad stopped" || fail "no 'keyvad stopped' in the log"
podman rm "$name" >/dev/null

# 7. A new container on the same volume still has the key, and the checkpoint.
log "second run on the same volume"
run
[[ $(curl -fsS "$url/kv/container/key") == 'kept across restarts' ]] ||
  fail "the key is gone after a restart"
podman exec "$name" test -f /data/backups/first/CURRENT || fail "the checkpoint is not on the volume"
podman stop -t 20 "$name" >/dev/null
[[ $(podman inspect --format '{{.State.ExitCode}}' "$name") == 0 ]] || fail "second stop not clean"

# 8. Restore: a container serving the checkpoint (copied to a new directory on the volume).
log "restore from the checkpoint"
podman rm "$name" >/dev/null
podman run --rm -v "$volume:/data" --entrypoint cp "$tag" -a /data/backups/first /data/restored
podman run -d --name "$name" -p "127.0.0.1:$port:8080" -v "$volume:/data" \
  -e KEYVA_DATA_DIR=/data/restored "$tag" >/dev/null
for _ in $(seq 1 100); do curl -fsS "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
[[ $(curl -fsS "$url/kv/container/key") == 'kept across restarts' ]] ||
  fail "the restored checkpoint lacks the key"
podman stop -t 20 "$name" >/dev/null

log "passed"
