#!/usr/bin/env bash
# Kura and distribution on one SeaweedFS (S3) on this machine, alternating rounds: push and
# pull of 64 MiB blobs, and the cold first read through Kura's cache tier beside a read
# straight from S3. Prints "TAG server value" lines, then medians.
#
#   KURA=.build-release/release/kura REGISTRY=/work/tools/registry WEED=$(command -v weed) \
#     ROUNDS=5 DISK=/work/bench-s3 Benchmarks/compare-s3.sh | tee bench-s3.log
set -euo pipefail

KURA=${KURA:-.build/release/kura}
REGISTRY=${REGISTRY:-/work/tools/registry}
WEED=${WEED:-weed}
ROUNDS=${ROUNDS:-5}
DISK=${DISK:-$PWD/.bench-s3}
SIZE=${SIZE:-64MiB}
S3_PORT=5631 KURA_PORT=5632 CACHE_PORT=5633 DIST_PORT=5634

. "$(dirname "$0")/lib.sh"

trap 'stop_started KILL' EXIT

rm -rf "$DISK"; mkdir -p "$DISK/weed"
"$WEED" server -dir="$DISK/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port=5641 -master.port.grpc=5642 \
    -volume.port=5643 -volume.port.grpc=5644 -filer.port=5645 -filer.port.grpc=5646 -s3 -s3.port=$S3_PORT \
    -s3.port.grpc=5647 -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false -volume.max=64 >"$DISK/weed.log" 2>&1 &
WEED_PID=$!; PIDS+=($WEED_PID)
# One bucket (SeaweedFS gives each bucket volumes of its own); each server under its own prefix.
for _ in $(seq 1 600); do
    if curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$S3_PORT/bench" | grep -q '^200$' \
        && curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary ready "http://127.0.0.1:$S3_PORT/bench/ready" | grep -q '^200$'; then break; fi
    sleep 0.2
done

kura_config() {  # PREFIX [CACHEDIR]
    echo "storage:"
    echo "  backend: s3"
    echo "  s3: {endpoint: 'http://127.0.0.1:$S3_PORT', bucket: bench, region: us-east-1, accessKeyID: any, secretAccessKey: any, keyPrefix: '$1/'}"
    if [ -n "${2:-}" ]; then echo "  cache: {path: '$2', maxBytes: 4294967296}"; fi
}

start_servers() {
    local round=$1
    kura_config "kura$round" >"$DISK/kura.yml"
    kura_config "cache$round" "$DISK/cache$round" >"$DISK/cache.yml"
    start_kura "$DISK/kura.yml" "$DISK/kura-data$round" $KURA_PORT; KURA_PID=$SERVER_PID
    start_kura "$DISK/cache.yml" "$DISK/cache-data$round" $CACHE_PORT; CACHE_PID=$SERVER_PID
    cat >"$DISK/dist.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  s3: {accesskey: any, secretkey: any, region: us-east-1, regionendpoint: 'http://127.0.0.1:$S3_PORT', bucket: bench,
       rootdirectory: /dist$round, forcepathstyle: true, secure: false, v4auth: true}
  redirect: {disable: true}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$DIST_PORT}
EOF
    OTEL_TRACES_EXPORTER=none "$REGISTRY" serve "$DISK/dist.yml" >"$DISK/dist.log" 2>&1 &
    DIST_PID=$!; PIDS+=($DIST_PID)
    wait_ready "$KURA_PORT" 60; wait_ready "$CACHE_PORT" 60; wait_ready "$DIST_PORT" 60
}

CURL_MB=64  # the blob curl pushes and reads
per_gib() { python3 -c "print(round($1/$(getconf CLK_TCK)/($CURL_MB/1024),2))"; }  # TICKS for one read of it

measure() {  # TAG-PREFIX SERVER PORT PID
    local url="http://127.0.0.1:$3"
    emit "s3-push" "$2" "$("$KURA" bench push --url "$url" --size "$SIZE" --count 4 --patch --json | json_field '["megabytesPerSecond"]')"
    local pull; pull=$("$KURA" bench pull --url "$url" --size "$SIZE" --requests 4 --json)
    emit "s3-pull-first" "$2" "$(echo "$pull" | json_field '["firstMegabytesPerSecond"]')"
    emit "s3-pull-repeat" "$2" "$(echo "$pull" | json_field '["megabytesPerSecond"]')"
    # curl: a blob pushed by curl, read once cold and once more.
    local file="$DISK/blob" digest location
    [ -f "$file" ] || head -c $((CURL_MB << 20)) /dev/urandom >"$file"
    head -c 16 /dev/urandom | dd of="$file" conv=notrunc status=none   # a new digest each time
    digest="sha256:$(sha256sum "$file" | awk '{print $1}')"
    curl_push "$url" curl "$file" "$digest"
    # The first read's CPU, the server's and SeaweedFS's, per GiB: on two cores they share
    # with the client, the sum bounds the speed.
    local server_pid=$4 s0 w0
    s0=$(cpu_ticks "$server_pid"); w0=$(cpu_ticks "$WEED_PID")
    emit "s3-pull-first-curl" "$2" "$(curl -s -o /dev/null -w '%{speed_download}' "$url/v2/curl/blobs/$digest" | awk '{printf "%.0f", $1/1e6}')"
    emit "s3-pull-first-server-cpu-s-per-gib" "$2" "$(per_gib $(( $(cpu_ticks "$server_pid") - s0 )))"
    emit "s3-pull-first-weed-cpu-s-per-gib" "$2" "$(per_gib $(( $(cpu_ticks "$WEED_PID") - w0 )))"
    emit "s3-pull-repeat-curl" "$2" "$(curl -s -o /dev/null -w '%{speed_download}' "$url/v2/curl/blobs/$digest" | awk '{printf "%.0f", $1/1e6}')"
}

OUT=${OUT:-$(mktemp)}
{
    for round in $(seq 1 "$ROUNDS"); do
        log "round $round/$ROUNDS"
        start_servers "$round"
        if [ $((round % 2)) = 1 ]; then order="kura cache dist"; else order="dist cache kura"; fi
        for server in $order; do
            case $server in
                kura) measure s3 kura $KURA_PORT $KURA_PID ;;
                cache) measure s3 kura-cache $CACHE_PORT $CACHE_PID ;;
                dist) measure s3 dist $DIST_PORT $DIST_PID ;;
            esac
        done
        emit s3-peak-rss-mib kura "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$KURA_PID/status)"
        emit s3-peak-rss-mib kura-cache "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$CACHE_PID/status)"
        emit s3-peak-rss-mib dist "$(awk '/VmHWM/ {printf "%.1f", $2/1024}' /proc/$DIST_PID/status)"
        kill $KURA_PID $CACHE_PID $DIST_PID; wait $KURA_PID $CACHE_PID $DIST_PID 2>/dev/null || true
    done
    emit uptime machine "\"$(uptime | sed 's/.*load average: //')\""
} | tee "$OUT"
echo "--- medians (MB/s)"
medians "$OUT"
