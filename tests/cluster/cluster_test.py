"""`make cluster-test`: the three-node Swift cluster of scripts/cluster, on
free loopback ports with a temporary CLUSTER_DATA, checked end to end.

1. clients: python-swiftclient and the `swift` CLI through the proxy (auth,
   container and object CRUD, listings, metadata POST, server-side copy, a
   segmented SLO upload and download with its MD5, deletes);
2. node failure (issue 20's proof): a node stopped; writes, overwrites,
   deletes, metadata POSTs, a new container and swift-dispersion-populate
   through the proxy; everything read back with the node down; the node
   started; ONE replication pass of Swift's daemons (--once on each node);
   then swift-dispersion-report 100 %, no async_pending left, and on disk
   every object's hash directory the same on the three nodes, every
   container and account listing the same on the three servers;
3. only a node's two object servers stopped (its container and account
   servers up), written around, healed by one pass, checked the same way;
4. a node's device wiped (a new disk) and healed by one pass, checked the
   same way.
Prints a table of what was checked and the times. Everything is stopped by
PID at the end, on failure too. Run by tests/cluster/run.sh.

    tests/cluster/run.sh [--keep] [--object-server swift|stowage] [--sync-method rsync|ssync]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import swiftclient
from swiftclient.exceptions import ClientException

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts" / "cluster"))
import cluster as cl  # noqa: E402

USER, KEY = "test:tester", "testing"
ACCOUNT = "AUTH_test"


class CheckFailed(Exception):
    pass


class Table:
    def __init__(self):
        self.rows = []

    def check(self, phase: str, what: str, ok: bool, detail: str = ""):
        self.rows.append((phase, what, "ok" if ok else "FAIL", detail))
        if not ok:
            raise CheckFailed(f"[{phase}] {what}: {detail}")

    def print(self):
        w1 = max(len(r[0]) for r in self.rows) if self.rows else 5
        w2 = max(len(r[1]) for r in self.rows) if self.rows else 5
        for phase, what, res, detail in self.rows:
            print(f"  {phase:<{w1}}  {what:<{w2}}  {res:<4}  {detail}")


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def connect(url: str) -> swiftclient.Connection:
    return swiftclient.Connection(authurl=f"{url}/auth/v1.0", user=USER, key=KEY,
                                  retries=0, timeout=30)


def swift_cli(url: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    cmd = [str(Path(sys.executable).parent / "swift"), "-A", f"{url}/auth/v1.0",
           "-U", USER, "-K", KEY, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


# ---- 1. clients -------------------------------------------------------------

def client_checks(c: cl.Cluster, t: Table, work: Path):
    ph = "clients"
    url, token = swiftclient.get_auth(f"{c.url}/auth/v1.0", USER, KEY)
    t.check(ph, "tempauth token", url.endswith(f"/v1/{ACCOUNT}") and token.startswith("AUTH_tk"),
            url)
    conn = connect(c.url)
    conn.put_container("cl-c1", headers={"X-Container-Meta-Purpose": "cluster-test"})
    h = conn.head_container("cl-c1")
    t.check(ph, "container PUT/HEAD", h.get("x-container-meta-purpose") == "cluster-test")
    bodies = {f"dir/obj{i:02}": os.urandom(1000 + 97 * i) for i in range(8)}
    bodies["top"] = b"top level"
    for name, body in bodies.items():
        etag = conn.put_object("cl-c1", name, body, content_type="application/x-test")
        if etag != md5(body):
            t.check(ph, "object PUT etag", False, name)
    got = {name: conn.get_object("cl-c1", name)[1] for name in bodies}
    t.check(ph, "object PUT/GET x9", got == bodies, "bytes equal")
    _, listing = conn.get_container("cl-c1")
    t.check(ph, "listing", [o["name"] for o in listing] == sorted(bodies),
            f"{len(listing)} names")
    _, listing = conn.get_container("cl-c1", delimiter="/")
    names = [o.get("name") or o.get("subdir") for o in listing]
    t.check(ph, "listing delimiter=/", names == ["dir/", "top"], str(names))
    _, listing = conn.get_container("cl-c1", prefix="dir/obj0")
    t.check(ph, "listing prefix", len(listing) == 8, f"{len(listing)} names")
    conn.post_object("cl-c1", "top", headers={"X-Object-Meta-Color": "blue"})
    h = conn.head_object("cl-c1", "top")
    t.check(ph, "object metadata POST", h.get("x-object-meta-color") == "blue"
            and h.get("content-type") == "application/x-test", h.get("x-object-meta-color", ""))
    conn.copy_object("cl-c1", "top", destination="/cl-c1/top-copy")
    t.check(ph, "server-side COPY", conn.get_object("cl-c1", "top-copy")[1] == bodies["top"])
    conn.delete_object("cl-c1", "top-copy")
    try:
        conn.head_object("cl-c1", "top-copy")
        t.check(ph, "object DELETE", False, "still there")
    except ClientException as e:
        t.check(ph, "object DELETE", e.http_status == 404, str(e.http_status))

    # segmented upload / download with the swift CLI (SLO, 1 MiB segments)
    big = work / "big.bin"
    data = os.urandom(3 * 1024 * 1024 + 12345)
    big.write_bytes(data)
    r = swift_cli(c.url, "upload", "--use-slo", "--segment-size", "1048576",
                  "--object-name", "big.bin", "cl-seg", str(big))
    t.check(ph, "swift upload --use-slo", r.returncode == 0,
            "3 MiB in 4 segments" if r.returncode == 0 else (r.stderr or r.stdout)[-300:])
    r = swift_cli(c.url, "stat", "cl-seg", "big.bin")
    t.check(ph, "swift stat (SLO manifest)", r.returncode == 0
            and "x-static-large-object: true" in r.stdout.lower(), "X-Static-Large-Object")
    out = work / "download"
    out.mkdir()
    r = swift_cli(c.url, "download", "cl-seg", "big.bin", "-o", str(out / "big.bin"))
    got = (out / "big.bin").read_bytes() if (out / "big.bin").exists() else b""
    t.check(ph, "swift download + MD5", r.returncode == 0 and md5(got) == md5(data),
            f"{len(got)} bytes, md5 {md5(got)[:12]}")
    r = swift_cli(c.url, "list")
    t.check(ph, "swift list", r.returncode == 0 and r.stdout.split() ==
            ["cl-c1", "cl-seg", "cl-seg_segments"], " ".join(r.stdout.split()))
    r = swift_cli(c.url, "stat")
    t.check(ph, "swift stat", r.returncode == 0 and f"Account: {ACCOUNT}" in r.stdout, "")
    r = swift_cli(c.url, "delete", "cl-seg")
    gone = swift_cli(c.url, "list").stdout.split()
    t.check(ph, "swift delete (SLO + segments)", r.returncode == 0 and "cl-seg" not in gone
            and conn.get_container("cl-seg_segments")[1] == [], " ".join(gone))
    for name in bodies:
        conn.delete_object("cl-c1", name)
    conn.delete_container("cl-c1")
    try:
        conn.head_container("cl-c1")
        t.check(ph, "container DELETE", False, "still there")
    except ClientException as e:
        t.check(ph, "container DELETE", e.http_status == 404, str(e.http_status))


# ---- 2./3. node failure and heal --------------------------------------------

class Expected:
    """What the proof containers must hold: name -> body, or None (deleted);
    metadata POSTed; containers and their listings."""

    def __init__(self):
        self.objects: dict = {}   # (container, name) -> bytes | None
        self.meta: dict = {}      # (container, name) -> {header: value}

    def listing(self, container: str) -> list:
        return sorted(n for (cn, n), b in self.objects.items() if cn == container and b is not None)

    def containers(self) -> list:
        return sorted({cn for cn, _ in self.objects})


def read_back(conn, exp: Expected, t: Table, phase: str, what: str, listings: bool = True):
    """Every object through the proxy; with `listings`, every container
    listing too. While a node is down a listing may come from a container
    replica that missed updates (they wait in async_pending: Swift's
    eventual consistency), so that phase checks objects only."""
    bad = []
    for (cn, name), body in sorted(exp.objects.items()):
        try:
            h, got = conn.get_object(cn, name)
            if body is None:
                bad.append(f"{cn}/{name}: deleted but answered")
            elif got != body:
                bad.append(f"{cn}/{name}: other bytes")
            for k, v in exp.meta.get((cn, name), {}).items():
                if h.get(k.lower()) != v:
                    bad.append(f"{cn}/{name}: {k}={h.get(k.lower())!r}")
        except ClientException as e:
            if not (body is None and e.http_status == 404):
                bad.append(f"{cn}/{name}: {e.http_status}")
    for cn in exp.containers() if listings else ():
        names = [o["name"] for o in conn.get_container(cn, full_listing=True)[1]]
        if names != exp.listing(cn):
            bad.append(f"listing {cn}: {len(names)} names, want {len(exp.listing(cn))}")
    live = sum(1 for b in exp.objects.values() if b is not None)
    t.check(phase, what, not bad,
            f"{live} objects, {len(exp.objects) - live} deleted" if not bad else "; ".join(bad[:4]))


def check_replicas(c: cl.Cluster, exp: Expected, t: Table, phase: str):
    """On disk and in each node's servers, after a pass: every replica there
    and alike."""
    report = c.dispersion_report()
    obj, cont = report.get("object", {}), report.get("container", {})
    # every partition covered (dispersion_coverage = 100), each with all its
    # copies: no "missing_N" counts
    want = cl.REPLICAS * 2 ** cl.PART_POWER
    for kind, rep in (("objects", obj), ("containers", cont)):
        t.check(phase, f"swift-dispersion-report {kind}",
                rep.get("pct_found") == 100.0 and rep.get("copies_expected") == want
                and not any(k.startswith("missing_") and k != "missing_0" and v
                            for k, v in rep.items()),
                f"{rep.get('pct_found')}% ({rep.get('copies_found')}/{rep.get('copies_expected')}"
                " copies)" + "".join(f", {k} {v}" for k, v in rep.items()
                                     if k.startswith("missing_") and k != "missing_0"))
    left = c.async_pending()
    t.check(phase, "no async_pending left", not left, f"{len(left)} files" + (
        f": {left[0]}" if left else ""))
    objs = [(ACCOUNT, cn, n) for cn, n in sorted(exp.objects)]
    rep = c.replicas(objects=objs, containers=[(ACCOUNT, cn) for cn in exp.containers()],
                     accounts=[ACCOUNT])
    # Each hash directory's current files (Swift's get_ondisk_files: the
    # newest .data or .ts, a newer .meta) the same on the three devices and
    # of the expected kinds. An older .data beside a .ts just copied in is
    # obsolete and stays until Swift next rehashes the suffix (the receiving
    # server's REPLICATE only invalidates it): counted, not failed.
    bad, obsolete = [], 0
    for (cn, name), body in sorted(exp.objects.items()):
        per_dev = rep["objects"][f"{ACCOUNT}/{cn}/{name}"]
        lists = {tuple(v["current"]) for v in per_dev.values()}
        obsolete += sum(len(v["obsolete"]) for v in per_dev.values())
        kinds = sorted(f.rsplit(".", 1)[1] for f in next(iter(lists)))
        want = ["ts"] if body is None else (["data", "meta"] if (cn, name) in exp.meta
                                             else ["data"])
        if len(per_dev) != cl.REPLICAS or len(lists) != 1 or kinds != want:
            bad.append(f"{cn}/{name}: {per_dev}")
    n_files = sum(len(v["current"]) for o in rep["objects"].values() for v in o.values())
    t.check(phase, "object files on disk, 3 nodes alike", not bad,
            f"{len(objs)} objects x 3 nodes, {n_files} current files, {obsolete} obsolete"
            if not bad else "; ".join(bad[:2]))
    bad = []
    for cn in exp.containers():
        per_dev = rep["containers"][f"{ACCOUNT}/{cn}"]
        if len(per_dev) != 3 or any(v != exp.listing(cn) for v in per_dev.values()):
            bad.append(f"{cn}: " + ", ".join(
                f"{d}: {v if not isinstance(v, list) else len(v)}" for d, v in per_dev.items()))
    t.check(phase, "container DB on each node", not bad,
            ", ".join(f"{cn} {len(exp.listing(cn))} rows" for cn in exp.containers())
            if not bad else "; ".join(bad))
    per_dev = rep["accounts"][ACCOUNT]
    ok = len(per_dev) == 3 and all(isinstance(v, list) and set(exp.containers()) <= set(v)
                                   for v in per_dev.values())
    t.check(phase, "account DB on each node", ok, str(per_dev) if not ok else
            f"{ACCOUNT} lists {', '.join(exp.containers())}")


def files_under(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def node_failure(c: cl.Cluster, t: Table, times: dict, victim: int):
    ph = f"node{victim} down"
    conn = connect(c.url)
    exp = Expected()
    conn.put_container("proof")
    for i in range(20):
        body = f"a{i:02}-v1 ".encode() * (i + 1)
        conn.put_object("proof", f"a{i:02}", body)
        exp.objects[("proof", f"a{i:02}")] = body
    read_back(conn, exp, t, "before", "20 objects written, all nodes up")

    c.stop_node(victim)
    t.check(ph, "node servers stopped", not any(cl.port_in_use(p) for p in c.node_ports(victim)),
            f"ports {' '.join(map(str, c.node_ports(victim)))} closed")
    for i in range(10):
        body = f"b{i:02} written while down ".encode() * 3
        conn.put_object("proof", f"b{i:02}", body)
        exp.objects[("proof", f"b{i:02}")] = body
    for i in range(5):
        body = f"a{i:02}-v2 overwritten while down".encode()
        conn.put_object("proof", f"a{i:02}", body)
        exp.objects[("proof", f"a{i:02}")] = body
    for i in range(5, 10):
        conn.delete_object("proof", f"a{i:02}")
        exp.objects[("proof", f"a{i:02}")] = None
    for i in range(10, 13):
        meta = {"X-Object-Meta-Down": f"posted-{i}"}
        conn.post_object("proof", f"a{i:02}", headers=meta)
        exp.meta[("proof", f"a{i:02}")] = meta
    conn.put_container("proof-down")
    for i in range(5):
        body = f"d{i:02} in a container made while down".encode()
        conn.put_object("proof-down", f"d{i:02}", body)
        exp.objects[("proof-down", f"d{i:02}")] = body
    t.check(ph, "writes through the proxy", True,
            "10 new, 5 overwrites, 5 deletes, 3 POSTs, new container + 5")
    t0 = time.monotonic()
    out = c.dispersion_populate()
    times["dispersion-populate"] = time.monotonic() - t0
    last = out.replace("\x1b[K", "").strip().splitlines()
    t.check(ph, "swift-dispersion-populate", True, last[-1][:70] if last else "")
    read_back(conn, exp, t, ph, "read every object back", listings=False)
    pending = len(c.async_pending())
    t.check(ph, "async_pending written by survivors", pending > 0, f"{pending} files")

    c.start_node(victim)
    t0 = time.monotonic()
    steps = c.replication_pass()
    times[f"pass after node{victim} down"] = time.monotonic() - t0
    t.check(f"node{victim} back", "one replication pass", True,
            ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    check_replicas(c, exp, t, f"node{victim} back")
    read_back(conn, exp, t, f"node{victim} back", "read everything back")
    return exp


def object_servers_down(c: cl.Cluster, t: Table, times: dict, exp: Expected, node: int):
    """Only the node's object servers (data and replication) stopped, its
    container and account servers up: the case of an object node alone
    failing (the part Stowage is to serve)."""
    ph = f"node{node} objects down"
    conn = connect(c.url)
    roles = ("object", "object-replication")
    c.stop_node(node, roles=roles)
    ports = [c.ports[f"{r}{node}"] for r in roles]
    t.check(ph, "object servers stopped", not any(cl.port_in_use(p) for p in ports),
            f"ports {' '.join(map(str, ports))} closed, container/account up")
    for i in range(5):
        body = f"c{i:02} written while node{node}'s object servers were down".encode()
        conn.put_object("proof", f"c{i:02}", body)
        exp.objects[("proof", f"c{i:02}")] = body
    for i in range(3):
        body = f"b{i:02}-v2 overwritten".encode()
        conn.put_object("proof", f"b{i:02}", body)
        exp.objects[("proof", f"b{i:02}")] = body
    for i in range(3, 5):
        conn.delete_object("proof", f"b{i:02}")
        exp.objects[("proof", f"b{i:02}")] = None
    meta = {"X-Object-Meta-Down": "objects-only"}
    conn.post_object("proof", "a13", headers=meta)
    exp.meta[("proof", "a13")] = meta
    t.check(ph, "writes through the proxy", True, "5 new, 3 overwrites, 2 deletes, 1 POST")
    read_back(conn, exp, t, ph, "read every object back", listings=False)
    c.start_node(node)
    t0 = time.monotonic()
    steps = c.replication_pass()
    times[f"pass after node{node} objects down"] = time.monotonic() - t0
    t.check(f"node{node} back", "one replication pass", True,
            ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    check_replicas(c, exp, t, f"node{node} back")
    read_back(conn, exp, t, f"node{node} back", "read everything back")


def wipe_and_heal(c: cl.Cluster, t: Table, times: dict, exp: Expected, node: int):
    ph = f"node{node} wiped"
    conn = connect(c.url)
    before = files_under(c.device(node))
    c.stop_node(node)
    c.wipe_node(node)
    t.check(ph, "device emptied", files_under(c.device(node)) == 0,
            f"{before} files -> 0 in {c.device(node)}")
    c.start_node(node)
    read_back(conn, exp, t, ph, "read every object back", listings=False)
    t0 = time.monotonic()
    steps = c.replication_pass()
    times[f"pass after node{node} wiped"] = time.monotonic() - t0
    t.check(f"node{node} healed", "one replication pass", True,
            ", ".join(f"{k} {v:.1f}s" for k, v in steps.items()))
    after = files_under(c.device(node))
    t.check(f"node{node} healed", "device refilled", after > 0, f"{after} files")
    check_replicas(c, exp, t, f"node{node} healed")
    read_back(conn, exp, t, f"node{node} healed", "read everything back")


def main() -> int:
    ap = argparse.ArgumentParser(description="make cluster-test")
    ap.add_argument("--keep", action="store_true", help="keep the temp CLUSTER_DATA")
    ap.add_argument("--object-server", default=os.environ.get("OBJECT_SERVER")
                    or cl.DEFAULT_OBJECT_SERVER, choices=cl.OBJECT_SERVERS)
    ap.add_argument("--sync-method", default=os.environ.get("SYNC_METHOD") or "rsync",
                    choices=cl.SYNC_METHODS, help="the object replicator's (rsync or ssync)")
    args = ap.parse_args()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    # Ctrl-C, kill or a closed terminal still stop every process (finally).
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    t0 = time.monotonic()
    data = Path(tempfile.mkdtemp(prefix="stowage-cluster-"))
    # error_suppression_interval 5 s: node 3's errors would otherwise keep
    # the proxy off it for Swift's 60 s, and with node 2's object servers
    # stopped next a PUT would find one node of three (503).
    c = cl.Cluster(data, cl.random_ports(), object_server=args.object_server,
                   sync_method=args.sync_method, error_suppression_interval=5)
    t, times, ok = Table(), {}, False
    try:
        c.start(daemons=True)
        times["start (3 nodes, daemons, proxy)"] = time.monotonic() - t0
        t.check("start", "cluster up", True, f"proxy {c.url}, OBJECT_SERVER={c.object_server}, "
                f"objects replicate by {c.sync_method}")
        t1 = time.monotonic()
        client_checks(c, t, data)
        times["client checks"] = time.monotonic() - t1
        c.stop_daemons()
        t.check("proof", "background daemons stopped", True,
                "the passes below are the only replication")
        t1 = time.monotonic()
        exp = node_failure(c, t, times, victim=3)
        object_servers_down(c, t, times, exp, node=2)
        wipe_and_heal(c, t, times, exp, node=1)
        times["node failure + wipe proofs"] = time.monotonic() - t1
        ok = True
    except (CheckFailed, cl.ClusterError, ClientException, OSError) as e:
        print(f"cluster-test: FAILED: {e}", file=sys.stderr)
        if not isinstance(e, CheckFailed):
            print(c.logs(tail=15)[-6000:], file=sys.stderr)
    except KeyboardInterrupt:
        print("cluster-test: interrupted", file=sys.stderr)
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        c.stop()
        # Unmounted either way; the images go with a passing run's data.
        c.release_storage(delete_images=ok and not args.keep)
    times["total"] = time.monotonic() - t0
    print(f"\ncluster-test: {'PASS' if ok else 'FAIL'} "
          f"({sum(1 for r in t.rows if r[2] == 'ok')} checks ok)")
    t.print()
    print("\ntimes: " + ", ".join(f"{k} {v:.1f}s" for k, v in times.items()))
    if ok and not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    else:
        print(f"cluster-test: data and logs kept in {data}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
