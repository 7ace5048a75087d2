# Shared by the compare-*.sh benchmarks: progress on stderr, one "TAG SERVER VALUE" line per
# measurement on stdout, and the medians of a run's lines (each server's against `dist`,
# distribution, the reference, when it was measured).
log() { echo "$*" >&2; }
emit() { echo "$1 $2 $3"; }     # TAG SERVER VALUE

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
