"""bench/db-scope.sh: a container gate with a queue per database
(`scope=db`) against one FIFO queue for the whole vhost (`scope=vhost`),
one fresh Apache per setting.

Two loads, each with CONNS wrk connections of 100-row JSON listings:
  hot     all on one container, while one paced client lists another
          (a different lane): the cold client's p99 and how many of its
          requests were shed, unloaded and under the flood;
  spread  round-robin over SPREAD containers: throughput and p99 (what
          taking turns between queues costs against one FIFO queue).
Prints a table and writes bench/results/db-scope-<date>.tsv."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import gates_bench as gb
import scratch_fs

SPREAD = 16
ROWS = 100
LANES = 64  # src/gate/table.rs


def lane(account: str, container: str) -> int:
    """FNV-1a of "account/container" (src/gate/admission.rs) modulo LANES."""
    h = 0xCBF29CE484222325
    for b in f"{account}/{container}".encode():
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return h % LANES


def containers():
    """The spread containers, and a cold one outside the hot one's lane."""
    names = [f"bench-db-{i}" for i in range(SPREAD)]
    cold = next(f"bench-cold-{i}" for i in range(100)
                if lane("AUTH_test", f"bench-cold-{i}") != lane("AUTH_test", names[0]))
    return names, cold


def fill(port, tok, names):
    for c in names:
        gb.request(port, "PUT", f"/v1/AUTH_test/{c}", tok)
        for i in range(ROWS):
            gb.request(port, "PUT", f"/v1/AUTH_test/{c}/o{i:04d}", tok, body=b"d" * 64)


def listing(c: str) -> str:
    return f"/v1/AUTH_test/{c}?format=json&limit={ROWS}"


def under_flood(ap, tok, conns, spread, probe_path=None):
    """Runs a listing flood over `spread` containers for DURATION (plus
    2 s of warm-up for the probe); with `probe_path`, a paced client lists
    it meanwhile. Returns the server's figures for the flood's window
    (admitted per second and their p99, shed per second: wrk's own counts
    mix 503s in; the probe's own requests left out) and the probe's p99 and
    503 count."""
    secs = gb.unit_ms(gb.DURATION) / 1000
    port = ap.port
    log = gb.LogWindow(ap.out / "access.log")
    log.start()
    flood = subprocess.Popen(
        ["wrk", "-t", "1", "-c", str(conns), "-d", f"{secs + 3:.0f}s", "--latency",
         "-s", str(gb.BENCH / "list.lua"), f"http://127.0.0.1:{port}/"],
        env=dict(os.environ, STOWAGE_TOKEN=tok, LIST_PREFIX="/v1/AUTH_test/bench-db-",
                 LIST_SPREAD=str(spread), LIST_LIMIT=str(ROWS)),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    probe, shed = float("nan"), []
    try:
        time.sleep(2)
        if probe_path:
            probe = gb.paced_probe(port, "GET", probe_path, tok, secs, shed=shed)
        out = flood.communicate(timeout=secs + 60)[0]
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    gb.settle(port)
    st = log.stats(only='"GET /v1/AUTH_test/bench-db-')  # the flood's, not the probe's
    window = secs + 3
    return ({"ok_rps": st["n"] / window, "ok_p99": st["ok_p99"], "shed_rps": st["shed"] / window},
            probe, len(shed))


def compare(args):
    names, cold = containers()
    extra = "".join(f"StowageGate {g.strip()}\n" for g in args.gates.split(";") if g.strip())
    rows = []
    print(f"\n== container gate scope: {args.conns}-connection listing floods ({ROWS} rows, "
          f"JSON), {gb.DURATION} each; cold probe: one paced client listing {cold}")
    print(f"{'container gate':>18} {'load':>7} {'admitted/s':>11} {'admitted p99':>13} {'shed/s':>7} "
          f"{'cold p99':>9} {'cold 503':>9}")
    with scratch_fs.scratch_dir(args.fs, "stowage-db-scope-", args.tmpdir) as tmp:
        for i, setting in enumerate(args.scopes.split(",")):
            # "db", or "vhost:queue=1020" (more keys for the same line)
            scope, _, keys = setting.partition(":")
            line = f"StowageGate container scope={scope} {keys.replace(':', ' ')}\n"
            ap = gb.Apache(tmp / f"srv-{i}", line + extra)
            try:
                tok = gb.token(ap.port)
                fill(ap.port, tok, names + [cold])
                gb.settle(ap.port)
                base_shed = []
                base = gb.paced_probe(ap.port, "GET", listing(cold), tok,
                                      gb.unit_ms(gb.DURATION) / 1000, shed=base_shed)
                rows.append((setting, "none", 0.0, float("nan"), 0.0, base, len(base_shed)))
                for load, spread, probe_path in (("hot", 1, listing(cold)),
                                                 ("spread", SPREAD, None)):
                    f, probe, shed = under_flood(ap, tok, args.conns, spread, probe_path)
                    rows.append((setting, load, f["ok_rps"], f["ok_p99"], f["shed_rps"], probe,
                                 shed))
            finally:
                ap.stop()
            for r in rows[-3:]:
                print(f"{r[0]:>18} {r[1]:>7} {r[2]:>11.0f} {r[3]:>11.1f}ms {r[4]:>7.0f} "
                      f"{r[5]:>7.2f}ms {r[6]:>9}")
    tsv = gb.write_tsv("db-scope", ["scope", "load", "admitted_rps", "admitted_p99_ms",
                                    "shed_rps", "cold_p99_ms", "cold_503"], rows)
    print(f"TSV: {tsv}")
