#!/usr/bin/env bash
# Kura and distribution side by side on this machine, in alternating rounds, measured with
# `kura bench` and cross-checked with curl and wrk. Prints one line per measurement and
# round ("TAG server value"), then medians; docs/benchmarks.md explains the figures.
#
#   KURA=.build/release/kura REGISTRY=/work/tools/registry ROUNDS=5 \
#     DISK=/work/bench Benchmarks/compare-distribution.sh | tee bench.log
#
# Needs: curl, wrk, openssl, dd; distribution's `registry` binary built from source (see
# docs/benchmarks.md). Both servers log warnings only; Kura runs without access control.
set -euo pipefail

KURA=${KURA:-.build/release/kura}
REGISTRY=${REGISTRY:-/work/tools/registry}
ROUNDS=${ROUNDS:-5}
DISK=${DISK:-$PWD/.bench-disk}
SHM=${SHM:-/dev/shm/kura-bench}
SIZE_MB=${SIZE_MB:-64}
ONLY=${ONLY:-}            # e.g. ONLY="push-shm manifests" runs those measurements only
KURA_PORT=${KURA_PORT:-5611}
DIST_PORT=${DIST_PORT:-5612}

. "$(dirname "$0")/lib.sh"
wants() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

trap stop_started EXIT

peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }


# One file per blob: different digests, so nothing is deduplicated.
make_blobs() {
    local dir=$1 count=$2 size_mb=$3
    mkdir -p "$dir"
    for i in $(seq 1 "$count"); do
        [ -f "$dir/$i" ] && continue
        head -c $((size_mb << 20)) /dev/urandom >"$dir/$i"
        sha256sum "$dir/$i" | awk '{print "sha256:"$1}' >"$dir/$i.digest"
    done
}

# measure_server kura|dist ROOTBASE: runs every measurement once against a fresh server.
measure_server() {
    local kind=$1 base=$2 port url repo
    port=$([ "$kind" = kura ] && echo "$KURA_PORT" || echo "$DIST_PORT")
    url="http://127.0.0.1:$port"

    if wants push-shm || wants pull || wants manifests || wants parallel || wants expect; then
        start_server "$kind" "$SHM/$kind" "$port"
        local pid=$SERVER_PID
        if wants push-shm; then
            # CPU per GiB of the server and of the client in the same run: on two cores they
            # share, (server + client) / 2 s per GiB bounds the throughput from above.
            local push ticks0 ticks1
            ticks0=$(cpu_ticks "$pid")
            push=$("$KURA" bench push --url "$url" --size "${SIZE_MB}MiB" --count 8 --patch --json)
            ticks1=$(cpu_ticks "$pid")
            emit push-shm "$kind" "$(echo "$push" | json_field '["megabytesPerSecond"]')"
            emit push-shm-server-cpu-s-per-gib "$kind" "$(python3 -c "print(round(($ticks1-$ticks0)/$(getconf CLK_TCK)/(8*$SIZE_MB/1024),2))")"
            emit push-shm-client-cpu-s-per-gib "$kind" "$(echo "$push" | json_field "['clientCPUSeconds']/(8*$SIZE_MB/1024)" | python3 -c "print(round(float(input()),2))")"
            local t0 t1; t0=$(date +%s.%N)
            for i in 1 2 3 4; do curl_push "$url" "curl/$kind" "$SHM/blobs/$i" "$(cat "$SHM/blobs/$i.digest")"; done
            t1=$(date +%s.%N)
            emit push-shm-curl "$kind" "$(python3 -c "print(round(4*$SIZE_MB*1.048576/($t1-$t0)))")"
        fi
        if wants expect; then
            emit push-expect "$kind" "$("$KURA" bench push --url "$url" --size "${SIZE_MB}MiB" --count 8 --patch --expect-continue --json | json_field '["megabytesPerSecond"]')"
            local t0 t1; t0=$(date +%s.%N)
            for i in 1 2 3 4; do curl_push "$url" "curlx/$kind" "$SHM/blobs/$i" "$(cat "$SHM/blobs/$i.digest")" expect; done
            t1=$(date +%s.%N)
            emit push-expect-curl "$kind" "$(python3 -c "print(round(4*$SIZE_MB*1.048576/($t1-$t0)))")"
        fi
        if wants parallel; then
            local push ticks0 ticks1
            ticks0=$(cpu_ticks "$pid")
            push=$("$KURA" bench push --url "$url" --size 4MiB --count 64 --parallel 16 --patch --expect-continue --json)
            ticks1=$(cpu_ticks "$pid")
            emit parallel16 "$kind" "$(echo "$push" | json_field '["megabytesPerSecond"]')"
            emit parallel16-server-cpu-s-per-gib "$kind" "$(python3 -c "print(round(($ticks1-$ticks0)/$(getconf CLK_TCK)/(64*4/1024),2))")"
            emit parallel16-client-cpu-s-per-gib "$kind" "$(echo "$push" | json_field "['clientCPUSeconds']/(64*4/1024)" | python3 -c "print(round(float(input()),2))")"
            local t0 t1; t0=$(date +%s.%N)
            local pushes=()
            for i in $(seq 1 16); do
                curl_push "$url" "par/$kind/$i" "$SHM/small/$i" "$(cat "$SHM/small/$i.digest")" expect &
                pushes+=($!)
            done
            for p in "${pushes[@]}"; do wait "$p"; done
            t1=$(date +%s.%N)
            emit parallel16-curl "$kind" "$(python3 -c "print(round(16*4*1.048576/($t1-$t0)))")"
        fi
        if wants pull; then
            local pull; pull=$("$KURA" bench pull --url "$url" --size "${SIZE_MB}MiB" --requests 11 --json)
            emit pull "$kind" "$(echo "$pull" | json_field '["megabytesPerSecond"]')"
            curl_push "$url" "pull/$kind" "$SHM/blobs/1" "$(cat "$SHM/blobs/1.digest")"
            local speeds=() ticks0 ticks1
            ticks0=$(cpu_ticks "$pid")
            for _ in 1 2 3 4 5; do
                speeds+=("$(curl -s -o /dev/null -w '%{speed_download}' "$url/v2/pull/$kind/blobs/$(cat "$SHM/blobs/1.digest")")")
            done
            ticks1=$(cpu_ticks "$pid")
            emit pull-curl "$kind" "$(printf '%s\n' "${speeds[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]/1e6}')"
            # What serving the bytes costs the server, whatever the client reaches.
            emit pull-server-cpu-s-per-gib "$kind" "$(python3 -c "print(round(($ticks1-$ticks0)/$(getconf CLK_TCK)/(5*$SIZE_MB/1024),3))")"
            # Many smaller pulls at once (4 MiB layers, 32 connections), by wrk.
            curl_push "$url" "small/$kind" "$SHM/small/1" "$(cat "$SHM/small/1.digest")"
            local wrk_out requests
            ticks0=$(cpu_ticks "$pid")
            wrk_out=$(wrk -t2 -c32 -d8s "$url/v2/small/$kind/blobs/$(cat "$SHM/small/1.digest")")
            ticks1=$(cpu_ticks "$pid")
            requests=$(echo "$wrk_out" | awk '/requests in/ {print $1}')
            emit pull-4m-wrk "$kind" "$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')"
            emit pull-4m-server-cpu-ms "$kind" "$(python3 -c "print(round(($ticks1-$ticks0)*1000/$(getconf CLK_TCK)/$requests,3))")"
        fi
        if wants manifests; then
            local ticks0 ticks1 result
            ticks0=$(cpu_ticks "$pid")
            result=$("$KURA" bench manifests --url "$url" --requests 20000 --connections 64 --repository "m/$kind" --json)
            ticks1=$(cpu_ticks "$pid")
            emit manifests "$kind" "$(echo "$result" | json_field '["requestsPerSecond"]')"
            emit manifests-p99 "$kind" "$(echo "$result" | json_field '["latencyMilliseconds"]["p99"]')"
            emit manifests-cpu-us "$kind" "$(python3 -c "print(round(($ticks1-$ticks0)*1e6/$(getconf CLK_TCK)/20000,1))")"
            local wrk_out
            wrk_out=$(wrk -t2 -c64 -d8s --latency -H "Accept: application/vnd.oci.image.manifest.v1+json" "$url/v2/m/$kind/manifests/bench")
            emit manifests-wrk "$kind" "$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')"
            emit manifests-wrk-p99 "$kind" "$(echo "$wrk_out" | awk '$1=="99%" {print $2}' | python3 -c "import sys; v=sys.stdin.read().strip(); print(float(v[:-2])/1000 if v.endswith('us') else float(v[:-2]) if v.endswith('ms') else float(v[:-1])*1000)")"
        fi
        emit peak-rss-mib "$kind" "$(peak_rss_mib "$pid")"
        stop_server "$pid"
    fi

    if wants push-disk; then
        start_server "$kind" "$DISK/$kind" "$port"
        local pid=$SERVER_PID
        emit push-disk "$kind" "$("$KURA" bench push --url "$url" --size "${SIZE_MB}MiB" --count 8 --patch --json | json_field '["megabytesPerSecond"]')"
        local dd_out; dd_out=$(dd if=/dev/zero of="$DISK/dd.$kind" bs=1M count="$SIZE_MB" conv=fdatasync 2>&1 | tail -1)
        rm -f "$DISK/dd.$kind"
        emit dd-fdatasync "$kind" "$(echo "$dd_out" | python3 -c "import sys,re; m=re.search(r'copied, ([0-9.]+) s', sys.stdin.read()); print(round($SIZE_MB*1.048576/float(m.group(1))))")"
        stop_server "$pid"
    fi
}

limits() {
    emit openssl-sha256 machine "$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null | awk '/^sha256/ {sub("k","",$NF); printf "%.0f", $NF/1000}')"
    if command -v iperf3 >/dev/null; then
        iperf3 -s -1 -p 5699 >/dev/null 2>&1 & local ipid=$!
        sleep 0.3
        emit loopback-mbps machine "$(iperf3 -c 127.0.0.1 -p 5699 -t 2 -J | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e6))')"
        wait $ipid 2>/dev/null || true
    fi
    mkdir -p "$DISK"
    emit dd-fdatasync-1g machine "$(dd if=/dev/zero of="$DISK/dd.limit" bs=1M count=1024 conv=fdatasync 2>&1 | tail -1 | python3 -c "import sys,re; m=re.search(r'copied, ([0-9.]+) s', sys.stdin.read()); print(round(1024*1.048576/float(m.group(1))))")"
    rm -f "$DISK/dd.limit"
    emit uptime machine "\"$(uptime | sed 's/.*load average: //')\""
}

OUT=${OUT:-$(mktemp)}
mkdir -p "$SHM" "$DISK"
make_blobs "$SHM/blobs" 4 "$SIZE_MB"
make_blobs "$SHM/small" 16 4
{
    limits
    for round in $(seq 1 "$ROUNDS"); do
        log "round $round/$ROUNDS"
        if [ $((round % 2)) = 1 ]; then order="kura dist"; else order="dist kura"; fi
        for kind in $order; do measure_server "$kind" "$SHM"; done
    done
    limits
} | tee "$OUT"
echo "--- medians (MB/s, req/s, ms, MiB, µs of server CPU per request)"
medians "$OUT"
