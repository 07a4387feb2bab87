#!/usr/bin/env python3
"""bench/cluster_objects.py - 4 KiB object PUT and GET through Swift's proxy,
with Stowage's object nodes and with Swift's own Python object servers, in
one run (issue 20's bench).

Each side is the `make cluster` topology (scripts/cluster/cluster.py: three
nodes, three replicas, Swift 2.38's proxy with one worker, its container and
account servers), started in turn on fresh ports and a temp dir, without the
background daemons (replicators, auditors, ...) so that only the load runs.
Only OBJECT_SERVER differs. Load: wrk, THREADS (2) threads and CONNS ("16")
connections, DURATION (10) seconds per cell after WARMUP (2): PUT of a new
4 KiB object each request (bench/put.lua), GET of one 4 KiB object
(bench/token.lua). ROUNDS (1) alternates the sides that many times.

Output: a table (req/s, p99 ms, errors "non-2xx/socket" per side and the
Stowage/Swift ratio), bench/results/cluster_objects-<date>.tsv, wrk's output
in bench/results/cluster_objects-<date>.raw/. Run through bench/cluster_objects.sh
(it installs the venvs and runs this with .venv's Python)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts" / "cluster"))
import cluster as cl  # noqa: E402

DURATION = int(os.environ.get("DURATION", "10"))
WARMUP = int(os.environ.get("WARMUP", "2"))
THREADS = int(os.environ.get("THREADS", "2"))
CONNS = [int(c) for c in os.environ.get("CONNS", "16").split()]
ROUNDS = int(os.environ.get("ROUNDS", "1"))
SIDES = ("stowage", "swift")
STAMP = os.environ.get("BENCH_DATE") or time.strftime("%Y%m%d-%H%M%S")
RESULTS = REPO / "bench" / "results"
TSV = RESULTS / f"cluster_objects-{STAMP}.tsv"
RAW = RESULTS / f"cluster_objects-{STAMP}.raw"


def request(method: str, url: str, headers: dict, body: bytes = b"") -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def token(url: str) -> str:
    status, h = request("GET", f"{url}/auth/v1.0",
                        {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    if status // 100 != 2:
        raise SystemExit(f"bench: auth answered {status}")
    return h["X-Auth-Token"]


def wrk(name: str, conns: int, url: str, script: str, env: dict) -> tuple[float, float, str]:
    """One cell: (req/s, p99 ms, "non2xx/sockerr")."""
    args = ["wrk", f"-t{min(THREADS, conns)}", f"-c{conns}", "-s", str(REPO / "bench" / script)]
    full = {**os.environ, **env}
    if WARMUP:
        subprocess.run(args + [f"-d{WARMUP}s", url], env=full, capture_output=True,
                       timeout=WARMUP + 60)
    out = subprocess.run(args + [f"-d{DURATION}s", "--latency", "--timeout", "10s", url],
                         env=full, capture_output=True, text=True, timeout=DURATION + 120).stdout
    (RAW / f"{name}.txt").write_text(out)
    rps, p99, bad, sock = 0.0, float("nan"), 0, 0
    for line in out.splitlines():
        f = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(f[1])
        elif f[:1] == ["99%"]:
            p99 = to_ms(f[1])
        elif "Non-2xx or 3xx" in line:
            bad = int(f[-1])
        elif line.strip().startswith("Socket errors:"):
            sock = sum(int(x.strip(",")) for x in f if x.strip(",").isdigit())
    return rps, p99, f"{bad}/{sock}"


def to_ms(v: str) -> float:
    for unit, mul in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * mul
    return float(v)


def measure(side: str, rnd: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix=f"stowage-bench-cluster-{side}-"))
    c = cl.Cluster(data, cl.random_ports(), object_server=side)
    got = {}
    try:
        c.start(daemons=False)
        url = c.url
        tok = token(url)
        hdr = {"X-Auth-Token": tok}
        for cont in ("bench", "bench-put"):
            status, _ = request("PUT", f"{url}/v1/AUTH_test/{cont}", hdr)
            assert status in (201, 202), status
        status, _ = request("PUT", f"{url}/v1/AUTH_test/bench/obj4k", hdr, os.urandom(4096))
        assert status == 201, status
        for conns in CONNS:
            env = {"STOWAGE_TOKEN": tok,
                   "PUT_PREFIX": f"/v1/AUTH_test/bench-put/r{rnd}-c{conns}-"}
            got[("put4k", conns)] = wrk(f"put4k-c{conns}-{side}-r{rnd}", conns, url, "put.lua", env)
            got[("get4k", conns)] = wrk(f"get4k-c{conns}-{side}-r{rnd}", conns,
                                        f"{url}/v1/AUTH_test/bench/obj4k", "token.lua",
                                        {"STOWAGE_TOKEN": tok})
    finally:
        c.stop()
        c.release_storage(delete_images=True)
        shutil.rmtree(data, ignore_errors=True)
    return got


def main() -> int:
    if not shutil.which("wrk"):
        print("bench: wrk is missing (make deps installs it)", file=sys.stderr)
        return 2
    RAW.mkdir(parents=True, exist_ok=True)
    runs: dict = {s: [] for s in SIDES}
    for rnd in range(ROUNDS):
        for side in SIDES:
            print(f"bench: round {rnd + 1}/{ROUNDS}, OBJECT_SERVER={side}", file=sys.stderr)
            runs[side].append(measure(side, rnd))
    load = os.getloadavg()
    rows = [f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load "
            f"{load[0]:.2f} at the end; 3 nodes, 3 replicas, Swift 2.38.3's proxy (1 worker); "
            f"wrk -t{THREADS} -d{DURATION}s, {ROUNDS} round(s), best of rounds",
            "case\tconns\tstowage_rps\tstowage_p99_ms\tstowage_err\tswift_rps\tswift_p99_ms"
            "\tswift_err\tratio"]
    for case in ("put4k", "get4k"):
        for conns in CONNS:
            best = {s: max((r[(case, conns)] for r in runs[s]), key=lambda x: x[0]) for s in SIDES}
            a, b = best["stowage"], best["swift"]
            ratio = a[0] / b[0] if b[0] else float("nan")
            rows.append(f"{case}\t{conns}\t{a[0]:.0f}\t{a[1]:.1f}\t{a[2]}\t{b[0]:.0f}\t{b[1]:.1f}"
                        f"\t{b[2]}\t{ratio:.2f}")
    TSV.write_text("\n".join(rows) + "\n")
    table = [r.split("\t") for r in rows if not r.startswith("#")]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print(rows[0])
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    print(f"tsv: {TSV}\nraw: {RAW}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
