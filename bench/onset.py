"""bench/onset.sh: a steady reader while PUT floods come and go.

One paced client HEADs a container every PROBE_EVERY the whole time, while
FLOOD_CONNS-connection 4 KiB PUT floods run for FLOOD seconds with GAP
seconds between them. The reader's p99 is split three ways: outside the
floods (quiet), in each flood's first second (onset: the writers admitted
before the first cut are still running) and in the rest of the flood
(later, up to half a second after it, while it drains). This is what a
monitoring client or a busy web front sees when a backup job starts; the
separation bench instead starts its probes two seconds into a flood
nothing had slowed. One Apache per object-write setting, all started at
once, rounds interleaved. Prints a table and writes
bench/results/onset-<date>.tsv."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import gates_bench as gb
import scratch_fs

FLOOD = 3.0  # seconds per flood
GAP = 3.0  # seconds between floods
BURSTS = 2  # floods per round
LEAD = 2.0  # seconds of reading before the first flood
PATH = "/v1/AUTH_test/bench-list"


def one_round(ap: gb.Apache, tok: str) -> dict:
    """The reader's latencies (ms) by phase, and the floods' PUT/s."""
    port = ap.port
    secs = LEAD + BURSTS * (FLOOD + GAP)
    lat, starts = [], []
    t0 = time.perf_counter()
    reader = threading.Thread(target=lambda: lat.extend(
        gb.paced_latencies(port, "HEAD", PATH, tok, secs, starts=starts)))
    reader.start()
    windows, rps = [], []
    time.sleep(LEAD)
    for _ in range(BURSTS):
        begin = time.perf_counter() - t0
        out = gb.put_flood(port, tok, FLOOD).communicate()[0]
        windows.append((begin, time.perf_counter() - t0))
        rps.append(gb.parse_wrk(out)["rps"])
        time.sleep(GAP)
    reader.join()
    phases = {"quiet": [], "onset": [], "later": []}
    for t, ms in zip(starts, lat):
        w = next((w for w in windows if w[0] <= t <= w[1] + 0.5), None)
        phases["quiet" if w is None else "onset" if t - w[0] < 1.0 else "later"].append(ms)
    return {**phases, "rps": sum(rps) / len(rps)}


def compare(args):
    settings = args.write_limits.split(",")
    print(f"\n== onset: one reader (HEAD every {gb.PROBE_EVERY * 1000:.0f} ms, all the time) "
          f"while {gb.FLOOD_CONNS}-connection 4 KiB PUT floods of {FLOOD:.0f} s come and go "
          f"({GAP:.0f} s apart, {BURSTS} per round, {gb.ROUNDS} rounds interleaved across the "
          "settings); the reader's p99 outside the floods, in each flood's first second, and "
          "in the rest of it")
    with scratch_fs.scratch_dir(args.fs, "stowage-onset-", args.tmpdir) as tmp:
        rounds = gb.interleaved_rounds(tmp, settings, args.gates, one_round)
    print(f"{'write limit':>14} {'quiet p99':>10} {'onset p99':>10} {'ratio':>6} "
          f"{'later p99':>10} {'ratio':>6} {'PUT/s':>6}")
    rows = []
    for setting, rs in zip(settings, rounds):
        p = {k: gb.pct([x for r in rs for x in r[k]], 0.99) for k in ("quiet", "onset", "later")}
        put = sum(r["rps"] for r in rs) / len(rs)
        label = gb.setting_label(setting)
        print(f"{label:>14} {p['quiet']:>8.2f}ms {p['onset']:>8.2f}ms "
              f"{gb.ratio(p['onset'], p['quiet']):>5.2f}x {p['later']:>8.2f}ms "
              f"{gb.ratio(p['later'], p['quiet']):>5.2f}x {put:>6.0f}")
        rows.append((label, p["quiet"], p["onset"], p["later"], put))
    tsv = gb.write_tsv("onset", ["write_limit", "quiet_p99_ms", "onset_p99_ms", "later_p99_ms",
                                 "flood_put_rps"], rows)
    print(f"TSV: {tsv}")
