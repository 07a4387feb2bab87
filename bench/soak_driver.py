#!/usr/bin/env python3
"""The soak (run through bench/soak.sh, which starts the Apache): CONNS client
processes run the mix of bench/soak_mix.py in SAMPLES rounds of equal size;
between rounds every client pauses, and with the server quiet every Apache
child's VmRSS, RssAnon and open fds are read from /proc, with the storage
root's tmp/ entries and the fds children hold into it (O_TMPFILE uploads in
flight or leaked). Prints the samples as a table, writes them as TSV, and
judges "no growth trend after warm-up" by the rule in judge() below.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak_mix  # noqa: E402

BARRIER_TIMEOUT = 600  # s; a round that takes longer means a hung server


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--apache-pid", type=int, required=True)
    p.add_argument("--root", type=Path, required=True, help="StowageRoot")
    p.add_argument("--error-log", type=Path, required=True)
    p.add_argument("--tsv", type=Path, required=True)
    p.add_argument("--requests", type=int, default=500_000)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--warmup", type=float, default=0.2, help="fraction of samples the judge skips")
    p.add_argument("--rss-slope-kib", type=float, default=512, help="max VmRSS slope, KiB per 100k requests")
    p.add_argument("--fd-slope", type=float, default=4, help="max non-socket fd slope, fds per 100k requests")
    return p.parse_args()


# -- the server side: /proc -------------------------------------------------

def children(parent: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            out.append(int(d))
    return sorted(out)


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def fd_counts(pid: int, tmpdir: str) -> tuple[int, int, int]:
    """(all fds, non-socket fds, fds into the root's tmp/)."""
    total = files = tmp = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        total += 1
        if not target.startswith("socket:"):
            files += 1
        if target.startswith(tmpdir):
            tmp += 1
    return total, files, tmp


def sample(idx: int, requests: int, t0: float, apache: int, root: Path) -> dict:
    tmpdir = root / "tmp"
    row = {"sample": idx, "requests": requests, "seconds": round(time.monotonic() - t0, 1),
           "tmp_entries": len(os.listdir(tmpdir)) if tmpdir.exists() else 0,
           "root_kib": sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) // 1024, "children": {}}
    for pid in children(apache):
        try:
            fds, files, tmp = fd_counts(pid, str(tmpdir))
            row["children"][pid] = {"rss": status_kib(pid, "VmRSS"), "anon": status_kib(pid, "RssAnon"),
                                    "fds": fds, "files": files, "tmp": tmp}
        except (OSError, ValueError):
            pass  # exited between listing and reading: absent from this sample
    return row


# -- the client side -----------------------------------------------------------

def get_token(port: int) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    r = c.getresponse()
    r.read()
    token = r.getheader("X-Auth-Token")
    if r.status != 200 or not token:
        raise SystemExit(f"soak: auth answered {r.status}")
    for name in soak_mix.CONTAINERS:
        c.request("PUT", f"{soak_mix.ACCOUNT}/{name}", headers={"X-Auth-Token": token})
        r = c.getresponse()
        r.read()
        if r.status not in (201, 202):
            raise SystemExit(f"soak: container PUT {name} answered {r.status}")
    c.close()
    return token


def client(wid, port, token, rounds, per_round, barrier, counts, results):
    error = None
    w = soak_mix.Worker(wid, port, token, seed=wid)
    try:
        for _ in range(rounds):
            barrier.wait(BARRIER_TIMEOUT)
            w.run(per_round)
            counts[wid] = w.requests
            barrier.wait(BARRIER_TIMEOUT)
    except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the run
        error = f"w{wid}: {type(e).__name__}: {e}"
        barrier.abort()
    results.put((wid, w.statuses, w.mismatches, error))


# -- the verdict -----------------------------------------------------------------

def slope_per_100k(xs: list[int], ys: list[int]) -> float:
    """Least-squares slope of ys over xs, scaled to per 100,000 of x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * 100_000


def judge(rows: list[dict], args) -> tuple[list[list], list[str]]:
    """The rule: over the samples after the first `warmup` fraction, every
    child present in all of them must have least-squares slopes of VmRSS
    and of its non-socket fd count at most rss_slope_kib KiB and fd_slope
    fds per 100k requests (the fd count itself moves by a few while the DB
    pool is full: a pooled connection holds 2 or 3 fds); the last sample (server settled) must
    show no tmp/ entries and no fds into tmp/. A child that appears or
    disappears after warm-up is reported and fails the run (with
    MaxConnectionsPerChild 0 and a fixed pool, only a crash replaces one)."""
    late = rows[int(len(rows) * args.warmup):]
    failures, summary = [], []
    every = set.intersection(*(set(r["children"]) for r in late))
    seen = set().union(*(set(r["children"]) for r in late))
    for pid in sorted(seen - every):
        present = [r["sample"] for r in late if pid in r["children"]]
        failures.append(f"child {pid} present only in samples {present[0]}..{present[-1]} after warm-up")
    for pid in sorted(every):
        xs = [r["requests"] for r in late]
        rss = [r["children"][pid]["rss"] for r in late]
        anon = [r["children"][pid]["anon"] for r in late]
        files = [r["children"][pid]["files"] for r in late]
        slope = slope_per_100k(xs, rss)
        verdict = "PASS"
        if slope > args.rss_slope_kib:
            verdict = "FAIL"
            failures.append(f"child {pid}: VmRSS slope {slope:.0f} KiB/100k requests > {args.rss_slope_kib:g}")
        fd_slope = slope_per_100k(xs, files)
        if fd_slope > args.fd_slope:
            verdict = "FAIL"
            failures.append(f"child {pid}: non-socket fd slope {fd_slope:.1f} per 100k requests > {args.fd_slope:g}")
        summary.append([pid, rss[0], rss[-1], f"{slope:.0f}", f"{slope_per_100k(xs, anon):.0f}",
                        f"{min(files)}..{max(files)}", f"{fd_slope:.1f}", verdict])
    last = rows[-1]
    leaked = sum(c["tmp"] for c in last["children"].values())
    if last["tmp_entries"] or leaked:
        failures.append(f"last sample: {last['tmp_entries']} tmp/ entries, {leaked} open fds into tmp/")
    return summary, failures


# -- output ----------------------------------------------------------------------

def table(rows: list[list]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).rjust(w) for v, w in zip(r, widths)) for r in rows)


def write_tsv(path: Path, rows: list[dict], header: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        f.write(header + "\n")
        f.write("sample\trequests\tseconds\tpid\tvmrss_kib\trss_anon_kib\tfds\tnon_socket_fds\ttmp_fds"
                "\ttmp_entries\troot_kib\n")
        for r in rows:
            for pid, c in sorted(r["children"].items()):
                f.write(f"{r['sample']}\t{r['requests']}\t{r['seconds']}\t{pid}\t{c['rss']}\t{c['anon']}\t"
                        f"{c['fds']}\t{c['files']}\t{c['tmp']}\t{r['tmp_entries']}\t{r['root_kib']}\n")


def sample_table(rows: list[dict]) -> str:
    pids = sorted(set().union(*(set(r["children"]) for r in rows)))
    head = ["#", "requests", "s", "req/s"] + [f"{p}:rss/anon MiB,fds" for p in pids] + ["tmp", "root MiB"]
    out, prev = [head], None
    for r in rows:
        rate = "-" if prev is None else f"{(r['requests'] - prev['requests']) / max(r['seconds'] - prev['seconds'], 0.1):.0f}"
        cells = []
        for p in pids:
            c = r["children"].get(p)
            cells.append("-" if c is None else f"{c['rss'] / 1024:.1f}/{c['anon'] / 1024:.1f},{c['fds']}({c['files']}f)")
        tmp = f"{r['tmp_entries']}+{sum(c['tmp'] for c in r['children'].values())}fd"
        out.append([r["sample"], r["requests"], r["seconds"], rate] + cells + [tmp, f"{r['root_kib'] / 1024:.1f}"])
        prev = r
    return table(out)


def crash_lines(log: Path) -> list[str]:
    words = ("exit signal", "segmentation fault", "possible coredump", "panicked", "stowage_err_panic")
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if any(w in line.lower() for w in words)]


def main():
    args = parse_args()
    soak_mix.chosen_ops()  # a bad SOAK_OPS fails here, not in every client
    token = get_token(args.port)
    per_round = max(1, args.requests // (args.samples * args.conns))
    barrier = mp.Barrier(args.conns + 1)
    counts = mp.Array("q", args.conns)
    results = mp.Queue()
    procs = [mp.Process(target=client, args=(i, args.port, token, args.samples, per_round, barrier, counts, results))
             for i in range(args.conns)]
    for p in procs:
        p.start()
    t0 = time.monotonic()
    rows = [sample(0, 0, t0, args.apache_pid, args.root)]
    broken = False
    for i in range(1, args.samples + 1):
        try:
            barrier.wait(BARRIER_TIMEOUT)  # round i starts
            barrier.wait(BARRIER_TIMEOUT)  # round i done: clients idle
        except threading.BrokenBarrierError:
            broken = True
            break
        if i == args.samples:
            settle(args)
        rows.append(sample(i, sum(counts), t0, args.apache_pid, args.root))
        print(f"soak: sample {i}/{args.samples} at {rows[-1]['requests']} requests", file=sys.stderr, flush=True)
    outcomes = [results.get(timeout=BARRIER_TIMEOUT) for _ in procs]
    for p in procs:
        p.join()
    report(args, rows, outcomes, broken)


def settle(args):
    """Before the last sample: give the server up to 10 s to finish what cut
    uploads left it doing (no tmp/ fds, no tmp/ entries)."""
    tmpdir = str(args.root / "tmp")
    for _ in range(100):
        try:
            if not any(fd_counts(p, tmpdir)[2] for p in children(args.apache_pid)):
                return
        except OSError:
            pass
        time.sleep(0.1)


def report(args, rows, outcomes, broken):
    statuses, mismatches, errors = {}, [], []
    for _, st, mm, err in sorted(outcomes):
        for k, v in st.items():
            statuses[k] = statuses.get(k, 0) + v
        mismatches += mm
        if err:
            errors.append(err)
    header = (f"# soak requests={rows[-1]['requests']} conns={args.conns} samples={args.samples} "
              f"warmup={args.warmup} rss_slope_kib={args.rss_slope_kib:g} fd_slope={args.fd_slope:g} "
              f"mpm={os.environ.get('MPM', 'event')} malloc_arena_max={os.environ.get('MALLOC_ARENA_MAX', 'glibc default')}")
    write_tsv(args.tsv, rows, header)
    print(f"\n== samples (clients paused; per child VmRSS/RssAnon MiB, fds (non-socket fds); "
          f"tmp = tmp/ entries + fds into tmp/) ==")
    print(sample_table(rows))
    print("\n== answers (op status: count) ==")
    print(table([[k, v] for k, v in sorted(statuses.items())]))
    summary, failures = judge(rows, args) if len(rows) > 2 else ([], ["too few samples"])
    print(f"\n== trend after the first {args.warmup:.0%} of samples (slopes per 100k requests: KiB, fds) ==")
    if summary:
        print(table([["pid", "rss KiB first", "rss KiB last", "rss slope", "anon slope", "non-socket fds", "fd slope", ""]]
                    + summary))
    crashes = crash_lines(args.error_log)
    failures += [f"mismatch: {m}" for m in mismatches[:20]] + errors + [f"error log: {c}" for c in crashes[:10]]
    if broken:
        failures.append("a client stopped before the last round")
    print(f"\nresults: {args.tsv}")
    if failures:
        print("SOAK FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"SOAK PASS: {rows[-1]['requests']} requests, no growth trend after warm-up")


if __name__ == "__main__":
    main()
