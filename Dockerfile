# keyvad in a container: build with the project's own CMake on Debian bookworm, run from a slim
# bookworm image holding only keyvad, keyva (the client, used by HEALTHCHECK) and their shared
# libraries, as an unprivileged user, with the database on the /data volume.
#
#   docker build -t keyva .            (podman: podman build --format docker -t keyva .)
#   docker run -d -p 8080:8080 -v keyva-data:/data keyva
#
# Settings are KEYVA_* environment variables (every keyvad flag has one; see `keyvad --help`),
# e.g. -e KEYVA_AUTH_TOKEN=secret -e KEYVA_SYNC=none -e KEYVA_CACHE_SIZE=256MiB.
# `docker stop` sends SIGTERM: keyvad finishes in-flight requests, syncs the WAL and exits 0.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build pkg-config \
      libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev \
      libxxhash-dev liblz4-dev libzstd-dev libssl-dev zlib1g-dev libbrotli-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY packaging/ packaging/
COPY web/ web/
COPY internal/ internal/
COPY cmd/ cmd/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEYVA_BUILD_TESTS=OFF \
 && cmake --build /build \
 && cmake --install /build --prefix /usr/local --strip

FROM debian:bookworm-slim
# The shared libraries keyvad and keyva link (ldd): spdlog, fmt, OpenSSL, xxhash, lz4, zstd,
# zlib and Brotli (response compression).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libspdlog1.10 libfmt9 libssl3 libxxhash0 liblz4-1 libzstd1 zlib1g libbrotli1 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --system --gid 10001 keyva \
 && useradd --system --uid 10001 --gid keyva --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin keyva \
 && mkdir -p /data \
 && chown keyva:keyva /data
COPY --from=build /usr/local/bin/keyvad /usr/local/bin/keyva /usr/local/bin/

# keyvad reads these (flags would override them); KEYVA_URL is the address `keyva` talks to.
ENV KEYVA_ADDR=0.0.0.0:8080 \
    KEYVA_DATA_DIR=/data/db \
    KEYVA_BACKUP_DIR=/data/backups \
    KEYVA_URL=http://127.0.0.1:8080
USER keyva
WORKDIR /data
VOLUME /data
EXPOSE 8080
# `keyva health` GETs /healthz (exit 0 when it answers 200): no curl needed in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["keyva", "--insecure", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["keyvad"]
