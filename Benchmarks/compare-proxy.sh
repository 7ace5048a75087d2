#!/usr/bin/env bash
# Pull-through caches side by side: a Kura proxy namespace and distribution in proxy mode, both
# in front of one upstream (distribution, filesystem storage), alternating rounds. Per round,
# a new blob in the upstream and fresh, empty caches; each cache's first pull of it (fetched,
# verified, stored and streamed at once: curl's MB/s and the cache's CPU per GiB), then a
# second pull (from the cache's copy), and the cache's peak RSS. Prints "TAG SERVER VALUE"
# lines, then medians.
#
#   KURA=.build-release/release/kura REGISTRY=/work/tools/registry ROUNDS=5 DISK=/dev/shm/proxy \
#     Benchmarks/compare-proxy.sh | tee bench-proxy.log
set -euo pipefail

KURA=${KURA:-.build/release/kura}
REGISTRY=${REGISTRY:-/work/tools/registry}
ROUNDS=${ROUNDS:-5}
DISK=${DISK:-$PWD/.bench-proxy}
MB=${MB:-256}  # the blob's size
UPSTREAM_PORT=5801 KURA_PORT=5802 DIST_PORT=5803

. "$(dirname "$0")/lib.sh"

trap 'stop_started KILL' EXIT

rm -rf "$DISK"; mkdir -p "$DISK"
start_server dist "$DISK/upstream" $UPSTREAM_PORT
upstream="http://127.0.0.1:$UPSTREAM_PORT"
head -c $((MB << 20)) /dev/urandom >"$DISK/blob"

# new_blob: changes the blob's first bytes, pushes it to the upstream, prints its digest.
new_blob() {
    head -c 16 /dev/urandom | dd of="$DISK/blob" conv=notrunc status=none
    local digest
    digest="sha256:$(sha256sum "$DISK/blob" | awk '{print $1}')"
    curl_push "$upstream" library/big "$DISK/blob" "$digest" >&2
    echo "$digest"
}

mb_per_s() { awk '{printf "%.0f", $1/1e6}'; }

OUT=${OUT:-$(mktemp)}
{
    for round in $(seq 1 "$ROUNDS"); do
        log "round $round/$ROUNDS"
        digest=$(new_blob)
        rm -rf "$DISK/kura" "$DISK/dist"
        printf 'proxies:\n  - namespace: hub\n    upstream: %s\n' "$upstream" >"$DISK/kura.yml"
        start_kura "$DISK/kura.yml" "$DISK/kura" $KURA_PORT; KURA_PID=$SERVER_PID
        cat >"$DISK/dist.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $DISK/dist}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$DIST_PORT}
proxy: {remoteurl: $upstream}
EOF
        OTEL_TRACES_EXPORTER=none "$REGISTRY" serve "$DISK/dist.yml" >"$DISK/dist.log" 2>&1 &
        DIST_PID=$!; PIDS+=($DIST_PID)
        wait_ready $KURA_PORT 60; wait_ready $DIST_PORT 60
        if [ $((round % 2)) = 1 ]; then order="kura dist"; else order="dist kura"; fi
        for server in $order; do
            if [ "$server" = kura ]; then
                url="http://127.0.0.1:$KURA_PORT/v2/hub/library/big/blobs/$digest"; pid=$KURA_PID
            else
                url="http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/$digest"; pid=$DIST_PID
            fi
            c0=$(cpu_ticks "$pid")
            emit proxy-first "$server" "$(curl -sS -f -o /dev/null -w '%{speed_download}' "$url" | mb_per_s)"
            c1=$(cpu_ticks "$pid")
            emit proxy-first-cpu-s-per-gib "$server" "$(python3 -c "print(round(($c1-$c0)/$(getconf CLK_TCK)/($MB/1024),2))")"
            # The second pull reads the stored copy (both caches have it once the first ended).
            emit proxy-second "$server" "$(curl -sS -f -o /dev/null -w '%{speed_download}' "$url" | mb_per_s)"
            emit proxy-peak-rss-mib "$server" "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$pid/status)"
        done
        kill $KURA_PID $DIST_PID; wait $KURA_PID $DIST_PID 2>/dev/null || true
    done
    emit sha256 machine "\"$(openssl speed -evp sha256 -bytes 1048576 -seconds 1 2>/dev/null | awk '/^sha256/ {printf "%.0f MB/s", $2/1000}')\""
    emit uptime machine "\"$(uptime | sed 's/.*load average: //')\""
} | tee "$OUT"
echo "--- medians (MB/s)"
medians "$OUT"
