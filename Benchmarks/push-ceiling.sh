#!/usr/bin/env bash
# One stream's push beside its ceiling on this machine: `kura bench push --patch` (8 × 64 MiB,
# as docker pushes a layer) against Kura, distribution, and push-ceiling/sink.c, a C server
# that only receives, hashes (OpenSSL SHA-256) and writes the bytes: in turn on one thread
# ("sink-serial") and in three overlapping threads ("sink-pipelined"). All data on /dev/shm,
# fresh servers, alternating rounds; prints "TAG server value" lines, then medians.
#
#   KURA=.build/release/kura REGISTRY=/work/tools/registry ROUNDS=5 Benchmarks/push-ceiling.sh
#
# Needs: cc and libssl-dev (to build the sink), distribution's `registry` (docs/benchmarks.md).
# The sink serves one connection at a time: it measures one stream, not parallel pushes.
set -euo pipefail

KURA=${KURA:-.build/release/kura}
REGISTRY=${REGISTRY:-/work/tools/registry}
ROUNDS=${ROUNDS:-5}
SHM=${SHM:-/dev/shm/kura-ceiling}
PORT=${PORT:-5621}

. "$(dirname "$0")/lib.sh"
trap stop_started EXIT

rm -rf "$SHM"; mkdir -p "$SHM/sink"
cc -O2 -Wall -o "$SHM/sink-bin" "$(dirname "$0")/push-ceiling/sink.c" -lcrypto -lpthread

# measure NAME: one 8 × 64 MiB push against the server on $PORT (pid $SERVER_PID), with the
# server's CPU seconds per GiB.
measure() {
    local ticks0 ticks1 result
    ticks0=$(cpu_ticks "$SERVER_PID")
    result=$("$KURA" bench push --url "http://127.0.0.1:$PORT" --size 64MiB --count 8 --patch --json)
    ticks1=$(cpu_ticks "$SERVER_PID")
    emit push "$1" "$(echo "$result" | json_field '["megabytesPerSecond"]')"
    emit server-cpu-s-per-gib "$1" "$(python3 -c "print(round(($ticks1-$ticks0)/$(getconf CLK_TCK)/0.5,2))")"
    stop_server "$SERVER_PID"
}

OUT=${OUT:-$(mktemp)}
{
    emit openssl-sha256 machine "$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '/^sha256/ {sub("k","",$NF); printf "%.0f", $NF/1000}')"
    for round in $(seq 1 "$ROUNDS"); do
        log "round $round/$ROUNDS"
        for server in sink-serial sink-pipelined kura dist; do
            case $server in
                sink-serial | sink-pipelined)
                    "$SHM/sink-bin" "$([ $server = sink-serial ] && echo 0 || echo 2)" 512 "$PORT" "$SHM/sink" &
                    SERVER_PID=$!; PIDS+=("$SERVER_PID"); wait_ready "$PORT" ;;  # the sink answers any request
                *) start_server "$server" "$SHM/$server" "$PORT" ;;
            esac
            measure "$server"
        done
    done
} | tee "$OUT"
medians "$OUT"
