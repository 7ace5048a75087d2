#!/usr/bin/env bash
# What a push costs the server, Kura beside distribution: CPU time, in user space and in the
# kernel (from /proc/PID/stat), and
# context switches (every thread's, from /proc/PID/task/*/status) per blob and per GiB, split
# into what every blob costs whatever its size (many 4 KiB blobs) and what its bytes cost
# (4 MiB blobs, less the fixed part). Data on /dev/shm, a fresh server for every measurement,
# servers alternating. Prints "TAG SERVER VALUE" lines, then medians; docs/benchmarks.md
# ("Where a push's CPU goes") explains the figures.
#
#   KURA=.build-release/release/kura REGISTRY=/work/tools/registry ROUNDS=5 \
#     Benchmarks/server-cost.sh | tee cost.log
#
# The client is `kura bench push --patch --expect-continue` (as docker pushes, with Expect).
set -euo pipefail

KURA=${KURA:-.build-release/release/kura}
REGISTRY=${REGISTRY:-/work/tools/registry}
ROUNDS=${ROUNDS:-3}
SHM=${SHM:-/dev/shm/kura-cost}
PORT=${PORT:-5621}

. "$(dirname "$0")/lib.sh"

trap 'stop_started; rm -rf "$SHM"' EXIT

ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }   # user, system
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }

# measure SERVER TAG SIZE COUNT PARALLEL: emits TAG-ms-per-blob (user + system),
# TAG-kernel-share (system / all), TAG-switches-per-blob, TAG-mbps, TAG-blobs-per-s and
# TAG-cores (server CPU seconds per wall second). The server's data is removed after it.
measure() {
    local server=$1 tag=$2 size=$3 count=$4 parallel=$5
    mkdir -p "$SHM"; start_server "$server" "$SHM/$server" "$PORT"
    local t0 s0 t1 s1 json
    t0=$(ticks "$SERVER_PID"); s0=$(switches "$SERVER_PID")
    json=$("$KURA" bench push --url "http://127.0.0.1:$PORT" --size "$size" --count "$count" --parallel "$parallel" \
        --patch --expect-continue --repository "cost/$tag" --json)
    t1=$(ticks "$SERVER_PID"); s1=$(switches "$SERVER_PID")
    stop_server "$SERVER_PID"; rm -rf "$SHM/$server"
    python3 - "$server" "$tag" "$count" "$t0" "$t1" "$((s1 - s0))" "$(getconf CLK_TCK)" "$json" <<'PY'
import json, sys
server, tag, count, t0, t1, switches, hz, raw = sys.argv[1:]
(user0, system0), (user1, system1) = map(int, t0.split()), map(int, t1.split())
user, system = (user1 - user0) / int(hz), (system1 - system0) / int(hz)
count, cpu, result = int(count), user + system, json.loads(raw)
print(f"{tag}-ms-per-blob {server} {cpu * 1000 / count:.3f}")
print(f"{tag}-kernel-share {server} {system / cpu if cpu else 0:.2f}")
print(f"{tag}-switches-per-blob {server} {int(switches) / count:.1f}")
print(f"{tag}-mbps {server} {result['megabytesPerSecond']:.0f}")
print(f"{tag}-blobs-per-s {server} {result['blobsPerSecond']:.1f}")
print(f"{tag}-cores {server} {cpu / result['seconds']:.2f}")
PY
}

OUT=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
    order="kura dist"; [ $((round % 2)) = 0 ] && order="dist kura"
    for server in $order; do
        log "round $round: $server"
        measure "$server" fixed 4KiB 2048 16 | tee -a "$OUT"
        measure "$server" par16 4MiB 256 16 | tee -a "$OUT"
        measure "$server" single 64MiB 16 1 | tee -a "$OUT"
    done
done
# Per GiB of bytes: a 4 MiB blob's cost less a 4 KiB blob's, 256 per GiB.
python3 - "$OUT" <<'PY' | tee -a "$OUT"
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tag, server, value = line.split()
    rows[(tag, server)].append(float(value))
for server in ("kura", "dist"):
    for fixed, par in zip(rows[("fixed-ms-per-blob", server)], rows[("par16-ms-per-blob", server)]):
        print(f"par16-bytes-s-per-gib {server} {(par - fixed) * 256 / 1000:.2f}")
    for single in rows[("single-ms-per-blob", server)]:
        print(f"single-s-per-gib {server} {single * 16 / 1000:.2f}")
PY
echo "--- medians"
medians "$OUT"
rm -f "$OUT"
