#!/usr/bin/env python3
"""What tiny Range GETs of one large public object cost the node (issue 17,
item 1), build against build.

For each shim given (default: build/mod_stowage.so), rounds alternating
between them: a fresh Apache (tests/e2e harness, event MPM) stores a public
SIZE_MIB object and a 4 KiB one; then N anonymous `Range: bytes=0-0` GETs of
the large object are released at once from N connections while one client
GETs the small object every 5 ms until they are all answered. Apache starts
all its worker threads up front (StartServers 6 x 25), so no request waits for
a new child. Reported per round: the burst's wall time, statuses, the probes'
p50 / p99 / max latency and 503s, and the bytes the Apache children read
meanwhile (rchar from /proc/<pid>/io: the hashing's preads; the 1-byte
answers go by sendfile).

    bench/range_cost.py [--shims A.so,B.so] [--n 140] [--size-mib 300] [--rounds 2]

Bounded: every request has a 120 s timeout, each burst at most N requests.
Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import harness  # noqa: E402

TIMEOUT = 120.0
PROBE_EVERY = 0.005
# Every worker thread from the start (150 = the harness's MaxRequestWorkers).
WORKERS = """<IfModule mpm_event_module>
    StartServers 6
    MinSpareThreads 75
    MaxSpareThreads 150
</IfModule>
"""


def get(port, path, headers=None):
    c = http.client.HTTPConnection(harness.HOST, port, timeout=TIMEOUT)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def rchar(pids) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/io").read_text().splitlines():
                if line.startswith("rchar:"):
                    total += int(line.split()[1])
        except OSError:
            pass  # a child that went away
    return total


def one_round(shim: str, n: int, size: int) -> dict:
    os.environ["STOWAGE_SHIM"] = shim
    srv = harness.start_server(extra_server_conf=WORKERS)
    try:
        swift = srv.client()
        assert swift.request("PUT", "pub", {"X-Container-Read": ".r:*"}).status == 201
        swift.put_object("pub", "big", os.urandom(size))
        swift.put_object("pub", "small", b"s" * 4096)
        time.sleep(1.0)
        pids = srv.worker_pids()
        read_before = rchar(pids)
        statuses = []
        lock = threading.Lock()
        barrier = threading.Barrier(n + 1)

        def one():
            barrier.wait(timeout=30)
            try:
                s, _ = get(srv.port, "/v1/AUTH_test/pub/big", {"Range": "bytes=0-0"})
            except OSError:
                s = 0
            with lock:
                statuses.append(s)

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        barrier.wait(timeout=30)
        t0 = time.monotonic()
        probes = []
        while any(t.is_alive() for t in threads) and time.monotonic() - t0 < TIMEOUT:
            p0 = time.monotonic()
            try:
                s, _ = get(srv.port, "/v1/AUTH_test/pub/small")
            except OSError:
                s = 0
            probes.append((s, time.monotonic() - p0))
            time.sleep(PROBE_EVERY)
        for t in threads:
            t.join(timeout=TIMEOUT)
        wall = time.monotonic() - t0
        read = rchar(srv.worker_pids()) - read_before
    finally:
        harness.stop_server(srv)
    lat = sorted(ms * 1000 for _, ms in probes) or [0.0]
    return {
        "wall": wall,
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "probes": len(probes),
        "probe_503": sum(1 for s, _ in probes if s == 503),
        "p50": statistics.median(lat),
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max": lat[-1],
        "read_mib": read / (1 << 20),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shims", default=str(REPO / "build" / "mod_stowage.so"))
    ap.add_argument("--n", type=int, default=140)
    ap.add_argument("--size-mib", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    shims = [str(Path(s).resolve()) for s in args.shims.split(",")]
    print(f"{args.n} concurrent 'Range: bytes=0-0' GETs of a {args.size_mib} MiB object, "
          f"a 4 KiB GET every {PROBE_EVERY * 1000:.0f} ms meanwhile; "
          f"load {os.getloadavg()[0]:.1f}")
    print("shim\tround\twall s\tstatuses\tprobes\tprobe 503\tp50 ms\tp99 ms\tmax ms\tread MiB")
    for r in range(args.rounds):
        for shim in shims:
            out = one_round(shim, args.n, args.size_mib << 20)
            print(f"{shim}\t{r + 1}\t{out['wall']:.1f}\t{out['statuses']}\t{out['probes']}\t"
                  f"{out['probe_503']}\t{out['p50']:.1f}\t{out['p99']:.1f}\t{out['max']:.1f}\t"
                  f"{out['read_mib']:.0f}", flush=True)


if __name__ == "__main__":
    main()
