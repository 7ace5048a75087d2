#!/usr/bin/env python3
"""How long a node keeps serving a tag's old digest after another node moved it.

Moves a tag back and forth between two manifests through WRITER (PUT, timed until the
response is read), then at once GETs it through READER, which had the old digest cached,
until READER answers the new digest. Reports how many first reads were stale and, for
those, how long after the writer's acknowledgement the reader turned fresh. With
--delete, also deletes the tag through WRITER and waits for READER's 404.

  Benchmarks/cluster-staleness.py --writer http://127.0.0.1:5001 --reader http://127.0.0.1:5002 \
      --user ID --password SECRET [--moves 500] [--json]

Standard library only; one keep-alive connection to each node.
"""
import argparse
import base64
import hashlib
import http.client
import json
import math
import sys
import time
import urllib.parse
import uuid

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


class Node:
    def __init__(self, url, user, password):
        parsed = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
        self.headers = {}
        if user:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"

    def request(self, method, path, body=None, headers=None):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        self.connection.request(method, path, body=body, headers=all_headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, response.headers, data


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writer", required=True)
    parser.add_argument("--reader", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--repository", default=f"kura-bench/staleness-{uuid.uuid4().hex[:8]}")
    parser.add_argument("--moves", type=int, default=500)
    parser.add_argument("--delete", action="store_true", help="also delete the tag and wait for the reader's 404")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the reader to turn fresh")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    writer = Node(args.writer, args.user, args.password)
    reader = Node(args.reader, args.user, args.password)
    repo = args.repository
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    status, _, body = writer.request(
        "POST", f"/v2/{repo}/blobs/uploads/?digest={digest(config)}", body=config,
        headers={"Content-Type": "application/octet-stream"})
    if status != 201:
        sys.exit(f"config push: {status} {body[:200]!r}")
    manifests = []
    for name in ("a", "b"):
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": len(config)},
            "layers": [], "annotations": {"staleness": name},
        }).encode()
        manifests.append(manifest)

    def put(manifest):
        status, _, body = writer.request("PUT", f"/v2/{repo}/manifests/t", body=manifest, headers={"Content-Type": MANIFEST_TYPE})
        if status != 201:
            sys.exit(f"manifest push: {status} {body[:200]!r}")

    def read():
        status, headers, _ = reader.request("GET", f"/v2/{repo}/manifests/t", headers={"Accept": MANIFEST_TYPE})
        return status, headers.get("Docker-Content-Digest")

    def wait_until(expected_status, expected_digest, acknowledged):
        """Reads until the reader answers as expected; returns (stale first read, seconds after acknowledgement)."""
        first = True
        stale = False
        while True:
            status, answered = read()
            fresh = status == expected_status and (expected_digest is None or answered == expected_digest)
            if fresh:
                return stale, time.perf_counter() - acknowledged
            if first:
                stale = True
            first = False
            if time.perf_counter() - acknowledged > args.timeout:
                sys.exit(f"the reader did not turn fresh within {args.timeout} s (status {status}, digest {answered})")

    put(manifests[0])
    stale_windows, fresh_reads, stale_count = [], [], 0
    for move in range(args.moves):
        current, target = manifests[move % 2], manifests[(move + 1) % 2]
        # The reader has the current digest cached: read it until it answers it twice.
        wait_until(200, digest(current), time.perf_counter())
        read()
        put(target)
        acknowledged = time.perf_counter()
        stale, after = wait_until(200, digest(target), acknowledged)
        (stale_windows if stale else fresh_reads).append(after * 1000)
        stale_count += stale
    deleted_stale = None
    if args.delete:
        read()
        status, _, body = writer.request("DELETE", f"/v2/{repo}/manifests/t")
        if status != 202:
            sys.exit(f"tag delete: {status} {body[:200]!r}")
        deleted_stale, _ = wait_until(404, None, time.perf_counter())

    result = {
        "moves": args.moves, "staleFirstReads": stale_count,
        "staleWindowMilliseconds": {p: percentile(stale_windows, v) for p, v in (("p50", 50), ("p99", 99), ("max", 100))},
        "freshFirstReadMilliseconds": {p: percentile(fresh_reads, v) for p, v in (("p50", 50), ("p99", 99), ("max", 100))},
    }
    if deleted_stale is not None:
        result["deleteStaleFirstRead"] = deleted_stale
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"tag moves through {args.writer}, read through {args.reader}: {args.moves}")
        print(f"  first read after the acknowledgement stale: {stale_count} of {args.moves}")
        if stale_windows:
            w = result["staleWindowMilliseconds"]
            print(f"  stale until (after the acknowledgement): p50 {w['p50']:.2f} ms, p99 {w['p99']:.2f} ms, max {w['max']:.2f} ms")
        f = result["freshFirstReadMilliseconds"]
        print(f"  fresh first read answered after: p50 {f['p50']:.2f} ms, p99 {f['p99']:.2f} ms")
        if deleted_stale is not None:
            print(f"  first read after the tag's deletion stale: {deleted_stale}")


if __name__ == "__main__":
    main()
