# Shared by the benchmark scripts (compare-*.sh, server-cost.sh): starting a server, progress on stderr, one "TAG SERVER VALUE" line per
# measurement on stdout, and the medians of a run's lines (each server's against `dist`,
# distribution, the reference, when it was measured).
log() { echo "$*" >&2; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }  # user + system ticks of PID

# Every process a script starts goes into PIDS (start_server does it); stop_started [SIGNAL]
# stops them all and waits, for the script's EXIT trap.
PIDS=()
stop_started() { for pid in "${PIDS[@]}"; do kill "-${1:-TERM}" "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }
emit() { echo "$1 $2 $3"; }     # TAG SERVER VALUE

# wait_ready PORT [SECONDS]: until a registry answers /v2/ on 127.0.0.1:PORT (10 s at most,
# or SECONDS).
wait_ready() {
    for _ in $(seq 1 $((${2:-10} * 20))); do
        if curl -s -o /dev/null "http://127.0.0.1:$1/v2/"; then return 0; fi
        sleep 0.05
    done
    log "server on port $1 did not start"; return 1
}

# start_server kura|dist ROOT PORT: a fresh server on 127.0.0.1:PORT with its data in ROOT
# (ROOT.yml and ROOT.log beside it): `$KURA serve` with access control, GC and usage metering
# off, or distribution's `$REGISTRY` with the filesystem driver; both log warnings only. Sets
# SERVER_PID and adds it to PIDS (the caller's clean-up kills what is left).
start_server() {
    local kind=$1 root=$2 port=$3
    rm -rf "$root"; mkdir -p "$root"
    if [ "$kind" = kura ]; then
        start_kura "" "$root" "$port"
    else
        cat >"$root.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $root}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
EOF
        OTEL_TRACES_EXPORTER=none "$REGISTRY" serve "$root.yml" >"$root.log" 2>&1 &
    fi
    SERVER_PID=$!; PIDS+=("$SERVER_PID"); wait_ready "$port"
}

# start_kura CONFIG ROOT PORT: `$KURA serve` on 127.0.0.1:PORT with its data in ROOT, the YAML
# file CONFIG (none when empty) and access control, GC and usage metering off, logging warnings
# to ROOT.log; does not wait for it. Sets SERVER_PID and adds it to PIDS.
start_kura() {
    local config=() root=$2 port=$3
    [ -n "$1" ] && config=(--config "$1")
    KURA_ACCESS_ENABLED=false KURA_GC_ENABLED=false KURA_USAGE_ENABLED=false \
        "$KURA" serve "${config[@]}" --listen "127.0.0.1:$port" --data "$root" --metrics-listen off --log-level warning \
        >"$root.log" 2>&1 &
    SERVER_PID=$!; PIDS+=("$SERVER_PID")
}

# curl_push URL REPO FILE DIGEST [expect]: POST, one PATCH with the file, PUT ?digest=, as docker does
# (with curl's `Expect: 100-continue` when the fifth argument is `expect`).
curl_push() {
    local url=$1 repo=$2 file=$3 digest=$4 expect=${5:-}
    local headers=(-H "Content-Type: application/octet-stream")
    [ "$expect" = expect ] || headers+=(-H "Expect:")
    local location
    location=$(curl -sS -D - -o /dev/null -X POST "$url/v2/$repo/blobs/uploads/" | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')
    case $location in http*) ;; *) location="$url$location" ;; esac
    location=$(curl -sS -D - -o /dev/null -X PATCH "${headers[@]}" --data-binary "@$file" "$location" | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')
    case $location in http*) ;; *) location="$url$location" ;; esac
    local sep='?'; [[ $location == *\?* ]] && sep='&'
    local code; code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$location${sep}digest=$digest")
    [ "$code" = 201 ] || { log "curl push answered $code"; return 1; }
}

stop_server() { kill "$1"; wait "$1" 2>/dev/null || true; }

# medians FILE: per tag, in the order first measured: each server's median, its values, and
# its ratio to distribution's median; "machine" lines (limits, load) as they are.
medians() {
    python3 - "$1" <<'PY'
import sys, statistics, collections
values = collections.OrderedDict()
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3: continue
    tag, server, value = parts
    try: value = float(value)
    except ValueError: value = value.strip()
    values.setdefault(tag, collections.OrderedDict()).setdefault(server, []).append(value)
for tag, servers in values.items():
    if "machine" in servers:
        print(f"{tag:22} machine {servers['machine']}")
        continue
    numbers = {s: v for s, v in servers.items() if all(isinstance(x, float) for x in v)}
    reference = statistics.median(numbers["dist"]) if "dist" in numbers else None
    for server, v in servers.items():
        if server not in numbers:
            print(f"{tag:22} {server:11} {v}")
            continue
        m = statistics.median(v)
        ratio = f"  ratio {m / reference:.2f}" if reference and server != "dist" else ""
        print(f"{tag:22} {server:11} median {m}  all {sorted(v)}{ratio}")
PY
}
