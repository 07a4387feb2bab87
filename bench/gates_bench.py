"""Admission-gate benchmarks: the shared pieces and the sweep, overload and
separation runs (bench/gates.py is the command line; db_scope.py and
onset.py add their runs on these pieces).

  sweep     for each processor, sweep the concurrency limit under a saturating
            wrk load; print throughput, p50, p99 per limit and the knee; write
            TSV + PNG.
  overload  4 KiB object PUT and GET, 1..1024 client connections, gates on
            (the shipped defaults) and off (unbounded) side by side in one
            Apache; then the separation check (container listing / HEAD p99
            under a PUT flood versus unloaded). TSV + PNG.

Everything runs against private Apaches on 127.0.0.1 (release build), each
started and stopped by PID. Latency of admitted (2xx) and shed (503)
requests comes from the access log (%D, server side); throughput and overall
percentiles from wrk.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import scratch_fs

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
STAMP = time.strftime("%Y%m%d-%H%M%S")
DURATION = os.environ.get("DURATION", "5s")
WRK_THREADS = os.environ.get("WRK_THREADS", "2")

# Enough workers that Apache itself never bounds concurrency below the
# client's connection count: only the gates do (or nothing, gates off).
BIG_MPM = """
<IfModule mpm_event_module>
    ServerLimit 16
    ThreadsPerChild 64
    ThreadLimit 64
    MaxRequestWorkers 1024
    StartServers 16
    MinSpareThreads 64
    MaxSpareThreads 1024
</IfModule>
ListenBacklog 4096
"""

OFF_VHOST = """
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    AllowEncodedSlashes NoDecode
    MergeSlashes Off
    StowageRoot "{root}"
    StowageUser test:tester testing .admin
    StowageGate object-read off
    StowageGate object-write off
    StowageGate container off
    StowageGate account off
    CustomLog "{log}" stowage
    <Location />
        SetHandler stowage
    </Location>
    <Location /stowage-status>
        SetHandler stowage-status
    </Location>
</VirtualHost>
"""


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Apache:
    def __init__(self, tmp: Path, vhost_conf: str = "", server_conf: str = "",
                 shim: str | None = None):
        self.tmp, self.port = tmp, free_port()
        self.out, self.data = tmp / "run", tmp / "data"
        tmp.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o755)
        (tmp / "vhost.conf").write_text(vhost_conf or "# none\n")
        (tmp / "server.conf").write_text(BIG_MPM + server_conf)
        env = dict(os.environ, EXTRA_SERVER_CONF=str(tmp / "server.conf"), MPM="event")
        env.pop("STOWAGE_SHIM", None)
        if shim:  # another build's module, to compare two builds side by side
            env["STOWAGE_SHIM"] = shim
        res = subprocess.run([str(REPO / "scripts/apache-config.sh"), str(self.out),
                              str(self.port), str(self.data), str(tmp / "vhost.conf")],
                             env=env, capture_output=True, text=True, check=True)
        self.conf = res.stdout.split()[-1]
        self.proc = subprocess.Popen(["apache2", "-f", self.conf, "-DFOREGROUND"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.wait_healthy(self.port)

    def wait_healthy(self, port: int):
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthcheck", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"Apache on {port} did not come up; see {self.out}/error.log")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def request(port, method, path, token=None, body=None, headers=None):
    h = dict(headers or {})
    if token:
        h["X-Auth-Token"] = token
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers=h)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def token(port) -> str:
    _, h, _ = request(port, "GET", "/auth/v1.0",
                      headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    return h["X-Auth-Token"]


def prepare(port, tok):
    """Containers and objects every workload uses."""
    for c in ("bench-put", "bench-get", "bench-list", "bench-flood"):
        request(port, "PUT", f"/v1/AUTH_test/{c}", tok)
    request(port, "PUT", "/v1/AUTH_test/bench-get/o4k", tok, body=b"g" * 4096)
    for i in range(200):
        request(port, "PUT", f"/v1/AUTH_test/bench-list/o{i:04d}", tok, body=b"l" * 64)
    for i in range(20):
        request(port, "PUT", f"/v1/AUTH_test/bench-acct-{i:02d}", tok)


def settle(status_port, timeout=120):
    """Waits until no request of an earlier run is still running: wrk stops
    sending, but what Apache already accepted goes on (with gates off, a
    1024-connection PUT flood takes many seconds to drain). mod_status's
    BusyWorkers counts the whole server, both vhosts; 1 is this request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = request(status_port, "GET", "/server-status?auto")[2].decode()
            m = re.search(r"^BusyWorkers: (\d+)", text, re.M)
            if m and int(m.group(1)) <= 1:
                break
        except OSError:
            pass
        time.sleep(0.2)
    time.sleep(0.5)


def unit_ms(v: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def wrk(port, path, conns, tok, script=None, env=None, duration=DURATION) -> dict:
    args = ["wrk", "-t", str(min(int(WRK_THREADS), conns)), "-c", str(conns), "-d", duration,
            "--latency", "--timeout", "30s"]
    if script:
        args += ["-s", str(BENCH / script)]
    e = dict(os.environ, STOWAGE_TOKEN=tok, **(env or {}))
    out = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], env=e,
                         capture_output=True, text=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    """Requests/s, p50/p99 (ms), non-2xx answers and socket errors of a
    `wrk --latency` run's output."""
    r = {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "non2xx": 0, "errors": 0}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        r["rps"] = float(m.group(1))
    for q in ("50", "99"):
        if m := re.search(rf"^\s+{q}%\s+(\S+)", out, re.M):
            r[f"p{q}"] = unit_ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        r["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        r["errors"] = sum(int(x) for x in m.groups())
    return r


# ... "request" status bytes "referer" "agent" [trans-id] %D wait log-id
LOG_RE = re.compile(r'" (\d{3}) \S+ "[^"]*" "[^"]*" (?:\S+ )?(\d+) (\S+) \S+$')


class LogWindow:
    """Access-log lines written between start() and stats()."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def start(self):
        self.offset = log_size(self.path)

    def stats(self, only: str = "") -> dict:
        """Counts and p99s of the window's answers; with `only`, of the
        requests whose log line contains it (e.g. the load's path prefix, so
        that a probe's requests are not counted as the load's)."""
        ok, shed = [], []
        for ln in (x for x in log_lines(self.path, self.offset) if only in x):
            if m := LOG_RE.search(ln):
                (ok if m.group(1).startswith("2") else shed if m.group(1) == "503" else []).append(
                    int(m.group(2)) / 1000)
        return {"ok_p99": pct(ok, 0.99), "ok_p50": pct(ok, 0.5), "shed": len(shed),
                "shed_p99": pct(shed, 0.99), "n": len(ok)}


def served_ms(log: Path | None, since: int, method: str, path: str) -> list[float]:
    """Server-side times (ms, the access log's %D) of the 2xx answers to
    `method path` logged after byte `since`: what the probe's requests
    spent inside Apache from their request line on, without the client's
    side and the hand-off to a worker."""
    if log is None:
        return []
    want = f'"{method} {path} HTTP/'
    return [int(m.group(2)) / 1000 for ln in log_lines(log, since)
            if want in ln and (m := LOG_RE.search(ln)) and m.group(1).startswith("2")]


def log_lines(log: Path, since: int) -> list[str]:
    """The access log's lines written after byte `since`."""
    with open(log, "rb") as f:
        f.seek(since)
        return f.read().decode("latin-1").splitlines()


def log_size(log: Path | None) -> int:
    return log.stat().st_size if log is not None and log.exists() else 0


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def write_tsv(name, header, rows) -> Path:
    RESULTS.mkdir(exist_ok=True)
    p = RESULTS / f"{name}-{STAMP}.tsv"
    with open(p, "w") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + "\n")
    return p


def plot(name, panels) -> Path | None:
    """panels: [(title, xlabel, [(label, xs, ys_rps, ys_p99)])] -> PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib missing: no PNG; bench/sweep.sh installs it into .venv-bench)")
        return None
    fig, axes = plt.subplots(2, len(panels), figsize=(5 * len(panels), 7), squeeze=False)
    for col, (title, xlabel, series) in enumerate(panels):
        for label, xs, rps, p99 in series:
            axes[0][col].plot(xs, rps, marker="o", label=label)
            axes[1][col].plot(xs, p99, marker="o", label=label)
        for row, yl in enumerate(("throughput (req/s)", "p99 latency (ms)")):
            ax = axes[row][col]
            ax.set_xscale("log", base=2)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(yl)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        axes[0][col].set_title(title)
        axes[1][col].set_yscale("log")
    fig.tight_layout()
    p = RESULTS / f"{name}-{STAMP}.png"
    fig.savefig(p, dpi=90)
    return p


# --------------------------------------------------------------------------

WORKLOADS = {
    # workload: (gate, path, wrk script, env, what). Object writes (disk-bound:
    # fsync, group commit) and reads (CPU-bound: page cache) have gates of
    # their own, each swept with its own workload.
    "object-write": ("object-write", "/", "put.lua",
                     {"PUT_PREFIX": "/v1/AUTH_test/bench-put/s-", "PUT_SIZE": "4096"},
                     "4 KiB object PUT"),
    "object-read": ("object-read", "/v1/AUTH_test/bench-get/o4k", "token.lua", {},
                    "4 KiB object GET"),
    "container": ("container", "/v1/AUTH_test/bench-list?format=json&limit=100", "token.lua", {},
                  "container listing GET (100 of 200 rows, JSON)"),
    "account": ("account", "/v1/AUTH_test?format=json", "token.lua", {}, "account listing GET (JSON)"),
}


def sweep(args):
    limits = [int(x) for x in args.limits.split(",")]
    rows, panels, knees = [], [], {}
    with scratch_fs.scratch_dir(args.fs, "stowage-sweep-", args.tmpdir) as tmp:
        for proc in args.processors.split(","):
            gate, path, script, env, what = WORKLOADS[proc]
            print(f"\n== {gate} gate: {what}, {args.conns} connections, {DURATION} per point")
            print(f"{'limit':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non2xx':>7}")
            pts = []
            for lim in limits:
                conf = f"StowageGate {gate} limit={lim} queue={1024 - lim} wait=60s\n"
                ap = Apache(tmp / "srv", conf)
                try:
                    tok = token(ap.port)
                    if not (tmp / "prepared").exists():
                        prepare(ap.port, tok)
                        (tmp / "prepared").touch()
                    wrk(ap.port, path, args.conns, tok, script, env, duration="2s")  # warm up
                    r = wrk(ap.port, path, args.conns, tok, script, env)
                finally:
                    ap.stop()
                pts.append((lim, r))
                rows.append((proc, lim, args.conns, r["rps"], r["p50"], r["p99"], r["non2xx"]))
                print(f"{lim:>6} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['non2xx']:>7}")
            peak = max(r["rps"] for _, r in pts)
            knee = next(lim for lim, r in pts if r["rps"] >= 0.95 * peak)
            knees[proc] = knee
            kp = dict(pts)[knee]
            print(f"knee ({proc}): limit {knee} — {kp['rps']:.0f} req/s = "
                  f"{kp['rps'] / peak:.0%} of peak {peak:.0f}, p99 {kp['p99']:.1f} ms "
                  f"(smallest limit within 5% of peak throughput)")
            panels.append((f"{proc}: {what}", "concurrency limit",
                           [(proc, [l for l, _ in pts], [r["rps"] for _, r in pts],
                             [r["p99"] for _, r in pts])]))
    tsv = write_tsv("sweep", ["processor", "limit", "connections", "rps", "p50_ms", "p99_ms",
                              "non2xx"], rows)
    png = plot("sweep", panels)
    print("\nrecommended limits: " + ", ".join(f"{k} {v}" for k, v in knees.items()))
    print(f"TSV: {tsv}" + (f"\nPNG: {png}" if png else ""))


def overload(args):
    conns_list = [int(x) for x in args.conns.split(",")]
    ops = [o.strip().upper() for o in args.ops.split(",")]
    with scratch_fs.scratch_dir(args.fs, "stowage-overload-", args.tmpdir) as tmp:
        rows = overload_in(args, tmp, conns_list, ops)
    tsv = write_tsv("overload", ["op", "connections", "gates", "rps", "ok_rps", "p50_ms", "p99_ms",
                                 "admitted_p99_ms", "shed", "shed_p99_ms", "health_p99_ms",
                                 "sock_errors"], rows)
    panels = []
    for op in ops:
        series = []
        for s in ("on", "off"):
            pts = [r for r in rows if r[0] == op and r[2] == s]
            series.append((f"gates {s}", [r[1] for r in pts], [r[4] for r in pts],
                           [r[7] for r in pts]))
        panels.append((f"4 KiB object {op} (2xx/s; admitted p99)", "client connections", series))
    png = plot("overload", panels)
    print(f"TSV: {tsv}" + (f"\nPNG: {png}" if png else ""))


def overload_in(args, tmp: Path, conns_list, ops) -> list[tuple]:
    """The overload runs, one Apache with both sides, its data under `tmp`:
    the TSV rows."""
    off_port = free_port()
    root_b = tmp / "data-off"
    root_b.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(root_b, "www-data", "www-data")
    server = OFF_VHOST.format(port=off_port, root=root_b, log=tmp / "run" / "access-off.log")
    # The "on" side runs the shipped defaults unless --gates names others.
    on_conf = "".join(f"StowageGate {g.strip()}\n" for g in args.gates.split(";") if g.strip())
    ap = Apache(tmp, on_conf, server)
    rows = []
    try:
        ap.wait_healthy(off_port)
        sides = {"on": ap.port, "off": off_port}
        logs = {"on": LogWindow(ap.out / "access.log"),
                "off": LogWindow(ap.out / "access-off.log")}
        toks = {s: token(p) for s, p in sides.items()}
        for s, p in sides.items():
            prepare(p, toks[s])
        print(f"\n== overload: gates on ({args.gates or 'shipped defaults'}, port {ap.port}) vs off "
              f"(unbounded, port {off_port}), {DURATION} per point")
        print("(2xx/s: admitted and served per second, from the access log; p99 from wrk, all "
              "responses; 2xx p99 and shed p99 from the access log, server side, ms; health: "
              "server-side p99 of an ungated health check every 5 ms during the same load, "
              "the floor any request meets; "
              "err = wrk socket errors)")
        print(f"{'op':>4} {'conns':>6} | {'on 2xx/s':>9} {'p99':>7} {'2xx p99':>8} {'shed':>6} "
              f"{'shed p99':>8} {'health':>6} {'err':>5} | {'off 2xx/s':>9} {'p99':>7} "
              f"{'2xx p99':>8} {'health':>6} {'err':>5} | on/off")
        results = {}
        for op in ops:
            for c in conns_list:
                line = {}
                for s in ("on", "off"):
                    if op == "PUT":
                        load = f"/v1/AUTH_test/bench-put/{c}-"
                        env = {"PUT_PREFIX": load, "PUT_SIZE": "4096"}
                        script, path = "put.lua", "/"
                    else:
                        env, script, path = {}, "token.lua", "/v1/AUTH_test/bench-get/o4k"
                        load = path
                    settle(sides["on"])
                    logs[s].start()
                    with floor_probe(sides[s], logs[s].path) as floor:
                        r = wrk(sides[s], path, c, toks[s], script, env)
                    r.update(logs[s].stats(only=f" {load}"))
                    r["floor_p99"] = pct(floor, 0.99)
                    r["ok_rps"] = r["n"] / unit_ms(DURATION) * 1000  # admitted (2xx) per second
                    line[s] = r
                    rows.append((op, c, s, r["rps"], r["ok_rps"], r["p50"], r["p99"],
                                 r["ok_p99"], r["shed"], r["shed_p99"], r["floor_p99"],
                                 r["errors"]))
                results[(op, c)] = line
                on, off = line["on"], line["off"]
                ratio = on["ok_rps"] / off["ok_rps"] if off["ok_rps"] else float("nan")
                print(f"{op:>4} {c:>6} | {on['ok_rps']:>9.0f} {on['p99']:>7.1f} {on['ok_p99']:>8.1f} "
                      f"{on['shed']:>6} {on['shed_p99']:>8.2f} {on['floor_p99']:>6.2f} "
                      f"{on['errors']:>5} | {off['ok_rps']:>9.0f} {off['p99']:>7.1f} "
                      f"{off['ok_p99']:>8.1f} {off['floor_p99']:>6.2f} {off['errors']:>5} | "
                      f"{ratio:5.2f}")
        targets(results, conns_list, ops, {"PUT": args.knee_put or args.knee,
                                           "GET": args.knee_get or args.knee})
        if not args.no_separation:
            separation(sides, toks, logs)
    finally:
        ap.stop()
    return rows


def targets(results, conns_list, ops, knees):
    """The issue's targets, for the gates-on side, as measured above."""
    print("\n== targets (gates on); knees taken as", knees, "connections")
    for op in ops:
        knee = knees[op]
        pts = {c: results[(op, c)]["on"] for c in conns_list}
        peak = max(p["ok_rps"] for p in pts.values())
        k = min(conns_list, key=lambda c: abs(c - knee))
        hi = min(conns_list, key=lambda c: abs(c - 16 * knee))
        tp = pts[hi]["ok_rps"] / peak if peak else float("nan")
        lat = pts[hi]["ok_p99"] / pts[k]["ok_p99"] if pts[k]["ok_p99"] else float("nan")
        shed_pts = [p for p in pts.values() if p["shed"]]
        shed = max((p["shed_p99"] for p in shed_pts), default=float("nan"))
        floor = max((p["floor_p99"] for p in shed_pts), default=float("nan"))
        print(f"{op}: throughput at {hi} conns = {tp:.0%} of peak (target >= 90%) "
              f"{'OK' if tp >= 0.9 else 'MISSED'}; admitted p99 at {hi} / at {k} = {lat:.2f}x "
              f"(target <= 3x) {'OK' if lat <= 3 else 'MISSED'}; shed p99 (server) = "
              f"{shed:.2f} ms (target < 5 ms) "
              f"{'OK' if shed < 5 else ('MISSED' if shed == shed else 'n/a: nothing shed')}"
              + (f", an ungated health check's under the same loads {floor:.2f} ms"
                 if shed == shed else ""))


PROBES = {"listing": ("GET", "/v1/AUTH_test/bench-list?format=json&limit=100"),
          "HEAD": ("HEAD", "/v1/AUTH_test/bench-list"),
          "GET obj": ("GET", "/v1/AUTH_test/bench-get/o4k")}
FLOOD_CONNS = 256
PROBE_EVERY = 0.005  # seconds between probe requests: a paced client, not a load


ROUNDS = int(os.environ.get("ROUNDS", "3"))  # unloaded/loaded alternations per setting
# The first probe of a loaded phase starts while the writers admitted under
# the full write limit are still running (nothing slowed down before it, so
# nothing cut the limit): "steady" leaves its first second out.
STEADY_AFTER = 1.0


@contextlib.contextmanager
def floor_probe(port, log: Path):
    """While the body runs, a paced client asks for the health check, which
    no gate admits; yields a list that then holds those answers' server-side
    times (ms): what any request costs the server under the same load, the
    floor under a shed 503's time."""
    done, since, times = threading.Event(), log_size(log), []

    def ask():
        import http.client
        while not done.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", "/healthcheck")
                conn.getresponse().read()
            except OSError:
                pass  # a busy server's dropped connection: the next try counts
            finally:
                conn.close()
            done.wait(PROBE_EVERY)

    t = threading.Thread(target=ask, daemon=True)
    t.start()
    try:
        yield times
    finally:
        done.set()
        t.join()
        times.extend(served_ms(log, since, "GET", "/healthcheck"))


def paced_probe(port, method, path, tok, seconds, shed=None) -> float:
    """p99 (ms) of `paced_latencies`."""
    return pct(paced_latencies(port, method, path, tok, seconds, shed), 0.99)


def paced_latencies(port, method, path, tok, seconds, shed=None, starts=None) -> list[float]:
    """Latencies (ms) of one keep-alive client sending a request every
    PROBE_EVERY, as a monitoring client or a user's occasional listing
    would: it measures what a flood does to a light client, not how two
    saturating clients share the CPU with the flood. A 503 is an error,
    unless `shed` (a list) is given: then it is counted there (its latency
    too) and the probe goes on. `starts` (a list) gets each request's start,
    in seconds since the first."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat, end, t0 = [], time.monotonic() + seconds, time.perf_counter()
    try:
        while time.monotonic() < end:
            t = time.perf_counter()
            if starts is not None:
                starts.append(t - t0)
            for attempt in (1, 2):
                try:
                    conn.request(method, path, headers={"X-Auth-Token": tok})
                    r = conn.getresponse()
                    r.read()
                    break
                except (http.client.RemoteDisconnected, ConnectionError):
                    # The event MPM closes idle keep-alive connections when
                    # all its workers are busy (gates off): reconnect once,
                    # as a client would, and count the whole time.
                    conn.close()
                    if attempt == 2:
                        raise
            lat.append((time.perf_counter() - t) * 1000)
            if r.status == 503 and shed is not None:
                shed.append(lat[-1])
            elif r.status >= 300:
                raise RuntimeError(f"probe {method} {path}: {r.status}")
            time.sleep(max(0.0, PROBE_EVERY - (time.perf_counter() - t)))
    finally:
        conn.close()
    return lat


def probe_each(port, tok, secs, log) -> tuple[dict, dict, dict]:
    """Every probe in turn for `secs`: each one's client-side latencies, the
    part of them from STEADY_AFTER on, and its server-side times from `log`
    (empty lists without a log)."""
    client, steady, server = {}, {}, {}
    for n, (m, path) in PROBES.items():
        since, starts = log_size(log), []
        client[n] = paced_latencies(port, m, path, tok, secs, starts=starts)
        steady[n] = [x for x, t in zip(client[n], starts) if t >= STEADY_AFTER]
        server[n] = served_ms(log, since, m, path)
    return client, steady, server


def probe_under_flood(port, tok, status_port, rounds=ROUNDS, log=None) -> dict:
    """p99 of each probe unloaded and under a 4 KiB PUT flood of
    FLOOD_CONNS connections into another container, and the flood's own PUT
    throughput while the probes ran. The two phases alternate `rounds`
    times (DURATION per probe and phase in all) and the p99s pool every
    round's samples: on shared machines the noise drifts over a minute, and
    alternating keeps it out of the ratio (`pool_rounds`)."""
    secs = unit_ms(DURATION) / 1000 / rounds
    return pool_rounds([probe_round(port, tok, status_port, secs, log) for _ in range(rounds)])


def probe_round(port, tok, status_port, secs, log=None) -> dict:
    """One unloaded phase, then one under the flood, `secs` per probe each:
    the latencies per probe (client side, and server side from the access
    `log` when given) and the flood's PUT/s."""
    settle(status_port)
    b, _, sb = probe_each(port, tok, secs, log)
    flood_secs = 2 + len(PROBES) * secs + 1
    flood = put_flood(port, tok, flood_secs)
    try:
        time.sleep(2)
        lo, steady, sl = probe_each(port, tok, secs, log)
        out = flood.communicate(timeout=flood_secs + 60)[0]
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    return {"base": b, "loaded": lo, "steady": steady, "srv_base": sb, "srv_loaded": sl,
            "rps": parse_wrk(out or "")["rps"]}


def put_flood(port, tok, secs) -> subprocess.Popen:
    """wrk's FLOOD_CONNS-connection 4 KiB PUT flood into bench-flood for
    `secs` (whole seconds), started; its output (stdout) tells the PUT/s.
    Every flood writes new names (wrk's counter starts again at each run):
    overwriting the last flood's objects would make it a delete flood too."""
    return subprocess.Popen(
        ["wrk", "-t", "1", "-c", str(FLOOD_CONNS), "-d", f"{secs:.0f}s", "-s",
         str(BENCH / "put.lua"), f"http://127.0.0.1:{port}/"],
        env=dict(os.environ, STOWAGE_TOKEN=tok, PUT_SIZE="4096",
                 PUT_PREFIX=f"/v1/AUTH_test/bench-flood/f{time.monotonic_ns()}-"),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def pool_rounds(rounds: list[dict]) -> dict:
    """The p99 of every round's samples pooled, per probe and phase (client
    and server side), each round's own client-side ratio (the spread), and
    the flood's mean PUT/s."""
    pooled = {k: {n: pct([x for r in rounds for x in r[k][n]], 0.99) for n in PROBES}
              for k in ("base", "loaded", "steady", "srv_base", "srv_loaded")}
    pooled["rounds"] = {n: [ratio(pct(r["loaded"][n], 0.99), pct(r["base"][n], 0.99))
                            for r in rounds] for n in PROBES}
    pooled["flood_rps"] = sum(r["rps"] for r in rounds) / len(rounds)
    return pooled


PROBE_HEADER = (f"{'probe':>8} {'unloaded p99':>13} {'loaded p99':>11} {'ratio':>7} "
                f"{'rounds':>11} | {'steady':>8} {'ratio':>7} | {'server: unloaded':>16} "
                f"{'loaded':>9} {'ratio':>7}")


def print_probe_rows(label, r, note=""):
    for name in PROBES:
        b, l = r["base"][name], r["loaded"][name]
        sb, sl, st = r["srv_base"][name], r["srv_loaded"][name], r["steady"][name]
        spread = r["rounds"][name]
        print(f"{label:>12} {name:>8} {b:>11.2f}ms {l:>9.2f}ms {ratio(l, b):>6.2f}x "
              f"{min(spread):>5.1f}-{max(spread):<5.1f} | {st:>6.2f}ms {ratio(st, b):>6.2f}x | "
              f"{sb:>14.2f}ms {sl:>7.2f}ms {ratio(sl, sb):>6.2f}x{note}")


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def separation(sides, toks, logs):
    print("\n== separation: container listing / HEAD and object GET p99 under a 4 KiB PUT "
          f"flood ({FLOOD_CONNS} connections) vs unloaded; one paced probe client, a request "
          f"every {PROBE_EVERY * 1000:.0f} ms; {ROUNDS} alternating rounds, p99 over all of them, "
          "and the lowest-highest ratio of a single round; steady: the loaded p99 without each "
          "probe's first second; then the same requests' p99 server side")
    print(f"{'gates':>12} {PROBE_HEADER}")
    for s, port in sides.items():
        r = probe_under_flood(port, toks[s], sides["on"], log=logs[s].path)
        print_probe_rows(s, r, "  (target <= 2x)" if s == "on" else "")
        print(f"{s:>12} {'PUT/s':>8} {r['flood_rps']:>11.0f}   (the flood itself)")


def separation_sweep(args):
    """Separation against the object-write limit: what each limit costs the
    PUT flood and buys the probes. One Apache per setting, all started at
    once, and the rounds interleave the settings (round 1 of each, then
    round 2 of each, ...): the host's noise drifts over minutes, and
    running the settings one after another would compare different hosts."""
    limits = args.write_limits.split(",")
    rows = []
    print(f"\n== separation sweep: probes (one paced client, a request every "
          f"{PROBE_EVERY * 1000:.0f} ms) unloaded and under a {FLOOD_CONNS}-connection 4 KiB "
          f"PUT flood, per object-write setting; {DURATION} per probe and phase, in {ROUNDS} "
          "rounds interleaved across the settings (p99 over all; the lowest-highest ratio of a "
          "single round; steady: the loaded p99 without each probe's first second; then the "
          "same requests' p99 server side, from the access log)")
    secs = unit_ms(DURATION) / 1000 / ROUNDS
    with scratch_fs.scratch_dir(args.fs, "stowage-separation-", args.tmpdir) as tmp:
        rounds = interleaved_rounds(tmp, limits, args.gates, lambda ap, tok: probe_round(
            ap.port, tok, ap.port, secs, ap.out / "access.log"))
    print(f"{'write limit':>12} {PROBE_HEADER}")
    for lim, rs in zip(map(setting_label, limits), rounds):
        r = pool_rounds(rs)
        print_probe_rows(lim, r)
        print(f"{lim:>12} {'PUT/s':>8} {r['flood_rps']:>11.0f}   (the flood itself)")
        for name in PROBES:
            rows.append((lim, name, r["base"][name], r["loaded"][name], r["steady"][name],
                         r["srv_base"][name], r["srv_loaded"][name], r["flood_rps"]))
    tsv = write_tsv("separation", ["write_limit", "probe", "unloaded_p99_ms", "loaded_p99_ms",
                                   "steady_loaded_p99_ms",
                                   "server_unloaded_p99_ms", "server_loaded_p99_ms",
                                   "flood_put_rps"], rows)
    print(f"TSV: {tsv}")


def interleaved_rounds(tmp: Path, settings: list[str], gates: str, one_round) -> list[list]:
    """`one_round(apache, token)`, ROUNDS times per object-write setting
    (`write_limit_conf`, or `...@FILE` for another build's module), one
    Apache per setting, all started at once, the rounds interleaved (round 1
    of each, then round 2 of each, ...): the host's noise drifts over
    minutes, and running the settings one after another would compare
    different hosts. Returns each setting's list of results."""
    servers, rounds = [], [[] for _ in settings]
    try:
        for i, setting in enumerate(settings):
            lim, _, shim = setting.partition("@")
            servers.append(Apache(tmp / f"srv-{i}", write_limit_conf(lim, gates),
                                  shim=shim or None))
        toks = [token(ap.port) for ap in servers]
        for ap, tok in zip(servers, toks):
            prepare(ap.port, tok)
        for _ in range(ROUNDS):
            for i, (ap, tok) in enumerate(zip(servers, toks)):
                # The last setting's Apache may still be working off its
                # queue after its flood stopped: wait for all of them.
                for other in servers:
                    settle(other.port)
                rounds[i].append(one_round(ap, tok))
    finally:
        for ap in servers:
            ap.stop()
    return rounds


def setting_label(setting: str) -> str:
    """A sweep setting as printed: "256:yield=off", or with another build's
    module "256@trial" (the directory the build lives in)."""
    lim, _, shim = setting.partition("@")
    return f"{lim}@{Path(shim).resolve().parent.parent.name}" if shim else lim


def write_limit_conf(lim: str, gates: str) -> str:
    """The vhost's gate lines for one sweep setting: "256", "256:yield=off"
    (more keys for the same line, ':'-separated) or "off", then `gates`
    (';'-separated StowageGate arguments) for the other gates."""
    n, _, keys = lim.partition(":")
    write = ("StowageGate object-write off\n" if n == "off" else
             f"StowageGate object-write limit={n} queue={1024 - int(n)} {keys.replace(':', ' ')}\n")
    return write + "".join(f"StowageGate {g.strip()}\n" for g in gates.split(";") if g.strip())
