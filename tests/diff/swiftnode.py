"""A one-node OpenStack Swift on loopback, the reference side of the
differential harness.

One replica, one device, tempauth, Swift's stock proxy pipeline (from its
etc/proxy-server.conf-sample), memcached, every server with workers = 1,
three storage policies (POLICIES, an object ring each on the one device),
every process pointed at the harness's own swift.conf.
Besides the four servers, a container-updater and an object-expirer run with
short intervals (0.25 s and 0.5 s), so that account counters and expired
objects settle within a second or two (Swift updates both asynchronously;
Stowage at once, or within 2 s for expired objects). The venv is
build/swift-venv, made by tests/diff/run.sh.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional

HOST = "127.0.0.1"

# tempauth users: name -> (key, groups). The same users exist on the
# Stowage side (StowageUser lines), so storage URLs and paths match.
USERS = {
    "test:tester": ("testing", ".admin"),
    "test2:tester2": ("testing2", ".admin"),
    "test:member": ("memberkey", ""),
    "reseller:reseller": ("resellerkey", ".reseller_admin"),
    # account AUTH_quota: the account-quotas family's own (quotas bind
    # everyone but a reseller admin)
    "quota:tester": ("testingquota", ".admin"),
    "quota:member": ("memberquota", ""),
    # account AUTH_cli: the `swift` CLI step's own (tests/diff/cli.py)
    "cli:tester": ("testingcli", ".admin"),
    "cli:reader": ("readercli", ""),
}

# Storage policies on both sides (swift.conf sections; Stowage's
# StowageStoragePolicy lines say the same): the default is Policy-0, as in
# a stock Swift, so only the policy families see the others.
POLICIES = [
    (0, "Policy-0", "", True, False),
    (1, "gold", "yellow,orange", False, False),
    (2, "silver", "", False, True),
]

# Swift 2.38's etc/proxy-server.conf-sample pipeline, unchanged.
STOCK_PIPELINE = ("catch_errors gatekeeper healthcheck proxy-logging cache listing_formats "
                  "container_sync bulk tempurl ratelimit tempauth copy container-quotas "
                  "account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server")

FILTERS = {
    "catch_errors": "catch_errors", "gatekeeper": "gatekeeper", "healthcheck": "healthcheck",
    "proxy-logging": "proxy_logging", "cache": "memcache", "listing_formats": "listing_formats",
    "container_sync": "container_sync", "bulk": "bulk", "tempurl": "tempurl",
    "ratelimit": "ratelimit", "copy": "copy", "container-quotas": "container_quotas",
    "account-quotas": "account_quotas", "slo": "slo", "dlo": "dlo",
    "versioned_writes": "versioned_writes", "symlink": "symlink",
}


DAEMON_STUB = """
import importlib, sys
from swift.common import utils
utils.SWIFT_CONF_FILE = sys.argv[1]
module = importlib.import_module(sys.argv[2])
sys.argv = [sys.argv[2], sys.argv[3]]
module.main()
"""


def free_ports(n: int) -> list:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class SwiftNode:
    def __init__(self, venv: Path, workdir: Optional[Path] = None):
        self.venv = Path(venv)
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="stowage-diff-swift-"))
        self.procs: list = []
        self.port = 0
        self._db_account: dict = {}  # container DB -> its account (never changes)

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _write_configs(self):
        etc, dev, log = self.dir / "etc", self.dir / "srv" / "node" / "sdb1", self.dir / "log"
        for d in (etc, dev, log, self.dir / "cache"):
            d.mkdir(parents=True, exist_ok=True)
        mc, pa, pc, po, pp = free_ports(5)
        self.port, self.mc_port = pp, mc
        user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        policies = "".join(
            f"[storage-policy:{i}]\nname = {name}\n"
            + (f"aliases = {aliases.replace(',', ', ')}\n" if aliases else "")
            + ("default = yes\n" if default else "")
            + ("deprecated = yes\n" if deprecated else "")
            for i, name, aliases, default, deprecated in POLICIES)
        (etc / "swift.conf").write_text(
            "[swift-hash]\nswift_hash_path_prefix = stowage-diff\n"
            "swift_hash_path_suffix = stowage-diff\n" + policies)
        # Each further policy's object ring, on the same device.
        for i, *_ in POLICIES[1:]:
            b = etc / f"object-{i}.builder"
            for args in (["create", "0", "1", "1"],
                         ["add", f"r1z1-{HOST}:{po}/sdb1", "1"]):
                subprocess.run([self.bin("swift-ring-builder"), str(b), *args],
                               check=True, capture_output=True)
            subprocess.run([self.bin("swift-ring-builder"), str(b), "rebalance"],
                           capture_output=True)
            if not (etc / f"object-{i}.ring.gz").exists():
                raise RuntimeError(f"swift-ring-builder wrote no object-{i}.ring.gz")
        common = (f"[DEFAULT]\ndevices = {self.dir}/srv/node\nmount_check = false\n"
                  f"bind_ip = {HOST}\nworkers = 1\nuser = {user}\nswift_dir = {etc}\n"
                  f"recon_cache_path = {self.dir}/cache\nlog_level = WARNING\n")
        for kind, port in (("account", pa), ("container", pc), ("object", po)):
            b = etc / f"{kind}.builder"
            for args in (["create", "0", "1", "1"],
                         ["add", f"r1z1-{HOST}:{port}/sdb1", "1"]):
                subprocess.run([self.bin("swift-ring-builder"), str(b), *args],
                               check=True, capture_output=True)
            # rebalance exits 1 on a warning (one device): the ring is written.
            subprocess.run([self.bin("swift-ring-builder"), str(b), "rebalance"],
                           capture_output=True)
            if not (etc / f"{kind}.ring.gz").exists():
                raise RuntimeError(f"swift-ring-builder wrote no {kind}.ring.gz")
            extra = ""
            if kind == "container":
                extra = "[container-updater]\ninterval = 0.25\ncontainers_per_second = 0\n"
            (etc / f"{kind}-server.conf").write_text(
                common + f"bind_port = {port}\n[pipeline:main]\npipeline = {kind}-server\n"
                f"[app:{kind}-server]\nuse = egg:swift#{kind}\n" + extra)
        users = "".join(f"user_{u.replace(':', '_')} = {k} {g}".rstrip() + "\n"
                        for u, (k, g) in USERS.items())
        filters = "".join(f"[filter:{n}]\nuse = egg:swift#{e}\n"
                          + (f"memcache_servers = {HOST}:{mc}\n" if n == "cache" else "")
                          for n, e in FILTERS.items())
        (etc / "proxy-server.conf").write_text(
            f"[DEFAULT]\nbind_ip = {HOST}\nbind_port = {pp}\nworkers = 1\nuser = {user}\n"
            f"swift_dir = {etc}\nlog_level = WARNING\n"
            f"[pipeline:main]\npipeline = {STOCK_PIPELINE}\n"
            # account_autocreate as in every SAIO / tempauth set-up: without
            # it an account exists only once an operator made it.
            "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n"
            "[filter:tempauth]\nuse = egg:swift#tempauth\n" + users + filters)
        # The expirer's legacy conf doubles as its internal client's pipeline.
        (etc / "object-expirer.conf").write_text(
            f"[DEFAULT]\nuser = {user}\nswift_dir = {etc}\nlog_level = WARNING\n"
            f"recon_cache_path = {self.dir}/cache\n"
            "[object-expirer]\ninterval = 0.5\n"
            "[pipeline:main]\npipeline = catch_errors cache proxy-server\n"
            "[app:proxy-server]\nuse = egg:swift#proxy\n"
            "[filter:cache]\nuse = egg:swift#memcache\n"
            f"memcache_servers = {HOST}:{mc}\n"
            "[filter:catch_errors]\nuse = egg:swift#catch_errors\n")

    def _spawn(self, name: str, args: list):
        out = open(self.dir / "log" / f"{name}.log", "ab")
        p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.procs.append((name, p))

    def start(self, timeout: float = 60.0):
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float):
        self._write_configs()
        etc = self.dir / "etc"
        mc = ["memcached", "-l", HOST, "-p", str(self.mc_port), "-m", "64"]
        if os.getuid() == 0:
            mc += ["-u", "nobody"]
        self._spawn("memcached", mc)
        # Swift's servers and daemons read /etc/swift/swift.conf (hash path
        # salt, storage policies), not their config's swift_dir: point the
        # module global at ours instead of touching /etc.
        for name, module, conf in (("account", "swift.account.server", "account-server.conf"),
                                   ("container", "swift.container.server", "container-server.conf"),
                                   ("object", "swift.obj.server", "object-server.conf"),
                                   ("proxy", "swift.proxy.server", "proxy-server.conf"),
                                   ("container-updater", "swift.container.updater",
                                    "container-server.conf"),
                                   ("object-expirer", "swift.obj.expirer", "object-expirer.conf")):
            self._spawn(name, [self.bin("python"), "-c", DAEMON_STUB, str(etc / "swift.conf"),
                               module, str(etc / conf)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"swift {name} exited {p.returncode} at start\n"
                                       + self.logs())
            try:
                with urllib.request.urlopen(self.base + "/healthcheck", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"swift proxy not healthy after {timeout}s\n" + self.logs())

    def unreported(self, account: Optional[str] = None) -> list:
        """Containers whose counters the account does not know yet: rows
        still in a .pending file, or stats the container-updater has not
        reported (its own test, swift/container/updater.py). Swift's
        account HEAD/GET agrees with its containers when this is empty."""
        out = []
        for db in (self.dir / "srv" / "node").glob("*/containers/*/*/*/*.db"):
            if account is not None and self._db_account.get(db, account) != account:
                continue
            pending = Path(str(db) + ".pending")
            try:
                if pending.exists() and pending.stat().st_size > 0:
                    out.append(f"{db}: pending")
                    continue
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                try:
                    row = con.execute(
                        "SELECT account, put_timestamp, delete_timestamp, object_count, bytes_used,"
                        " reported_put_timestamp, reported_delete_timestamp,"
                        " reported_object_count, reported_bytes_used FROM container_stat").fetchone()
                finally:
                    con.close()
            except (OSError, sqlite3.Error) as e:
                out.append(f"{db}: {e}")
                continue
            if row is None:
                continue
            self._db_account[db] = row[0]
            if row[0].startswith(".") or (account is not None and row[0] != account):
                continue
            ts = [float(str(v).split("_")[0] or 0) for v in (row[1], row[2], row[5], row[6])]
            if ts[0] > ts[2] or ts[1] > ts[3] or row[3] != row[7] or row[4] != row[8]:
                out.append(f"{db}: {row}")
        return out

    def logs(self, tail: int = 30) -> str:
        out = []
        for f in sorted((self.dir / "log").glob("*.log")):
            lines = f.read_text(errors="replace").splitlines()[-tail:]
            out.append(f"--- {f} ---\n" + "\n".join(lines))
        return "\n".join(out)

    def stop(self):
        for _, p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Our own child's session (start_new_session): its workers.
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5)
        self.procs = []

    def cleanup(self, keep: bool = False):
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
