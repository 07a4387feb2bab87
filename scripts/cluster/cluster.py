#!/usr/bin/env python3
"""A three-node OpenStack Swift cluster on 127.0.0.1 (issue 20's harness).

    python3 scripts/cluster/cluster.py run     # what `make cluster` runs

Three nodes, each with one device under $CLUSTER_DATA/node<N>/sdb<N> and its
own ports: an object server for data (pluggable, OBJECT_SERVER=swift|stowage),
Swift's object server as the replication server (the ring's replication
port, `replication_server = true`), Swift's container and account servers,
and Swift's replicators, auditors and updaters for the three kinds. Shared:
one rsync daemon with a module per node and kind, memcached on a private
port, one object-expirer and a real swift-proxy-server with tempauth. Rings
(3 replicas, a device per node, one zone per node) come from
swift-ring-builder. Every process runs in the foreground of its own session
with its log under $CLUSTER_DATA/log and is stopped by its PID.

tests/cluster/cluster_test.py drives the same class (Cluster) for
`make cluster-test`. docs/cluster.md has the topology.
"""

from __future__ import annotations

import argparse
import getpass
import grp
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

HOST = "127.0.0.1"
NODES = (1, 2, 3)
REPLICAS = 3
PART_POWER = 5  # 32 partitions: every node holds every partition
REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OBJECT_SERVERS = ("swift", "stowage")
SYNC_METHODS = ("rsync", "ssync")  # the object replicator's sync_method
DEFAULT_OBJECT_SERVER = "stowage"
# Apache's workers run as www-data when it starts as root: with
# OBJECT_SERVER=stowage every Swift process of the cluster runs as that user
# too, so that both sides of a device can write what the other made.
STOWAGE_USER = "www-data"

# tempauth users (the first is make run's default user).
USERS = {
    "test:tester": ("testing", ".admin"),
    # swift-dispersion-populate/-report's own account, so that its
    # containers stay out of AUTH_test's listing.
    "dispersion:dispersion": ("dispersion", ".admin"),
}

# Swift 2.38's etc/proxy-server.conf-sample pipeline, as tests/diff/swiftnode.py.
STOCK_PIPELINE = ("catch_errors gatekeeper healthcheck proxy-logging cache listing_formats "
                  "container_sync bulk tempurl ratelimit tempauth copy container-quotas "
                  "account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server")
PROXY_FILTERS = {
    "catch_errors": "catch_errors", "gatekeeper": "gatekeeper", "healthcheck": "healthcheck",
    "proxy-logging": "proxy_logging", "cache": "memcache", "listing_formats": "listing_formats",
    "container_sync": "container_sync", "bulk": "bulk", "tempurl": "tempurl",
    "ratelimit": "ratelimit", "copy": "copy", "container-quotas": "container_quotas",
    "account-quotas": "account_quotas", "slo": "slo", "dlo": "dlo",
    "versioned_writes": "versioned_writes", "symlink": "symlink",
}

# The servers of a node: role -> (Swift program, config file of the node).
NODE_SERVERS = {
    "object": ("swift-object-server", "object-server.conf"),
    "object-replication": ("swift-object-server", "object-replication.conf"),
    "container": ("swift-container-server", "container-server.conf"),
    "account": ("swift-account-server", "account-server.conf"),
}
# The background daemons of a node: role -> (Swift program, config file).
# The object daemons read the replication server's config: its bind_port is
# the ring's replication port, by which the replicator finds its devices.
NODE_DAEMONS = {
    "object-replicator": ("swift-object-replicator", "object-replication.conf"),
    "object-auditor": ("swift-object-auditor", "object-replication.conf"),
    "object-updater": ("swift-object-updater", "object-replication.conf"),
    "container-replicator": ("swift-container-replicator", "container-server.conf"),
    "container-auditor": ("swift-container-auditor", "container-server.conf"),
    "container-updater": ("swift-container-updater", "container-server.conf"),
    "account-replicator": ("swift-account-replicator", "account-server.conf"),
    "account-auditor": ("swift-account-auditor", "account-server.conf"),
}
# One replication pass, in this order, each step on every node at once.
# Containers first: a container created while a node was down has no
# database there yet, and its server answers 404 to the async_pending
# updates meant for it (the updater keeps them) until the container
# replicator has copied the database over. Then those updates, objects,
# container stats into the accounts, accounts.
REPLICATION_PASS = ("container-replicator", "object-updater", "object-replicator",
                    "container-updater", "account-replicator")


class ClusterError(Exception):
    pass


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


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def ports_from_base(base: int, proxy: int) -> dict:
    """Fixed ports for `make cluster`: node N uses base+10N .. base+10N+5."""
    ports = {"proxy": proxy, "memcached": base + 2, "rsync": base + 3}
    for n in NODES:
        ports[f"object{n}"] = base + 10 * n
        ports[f"container{n}"] = base + 10 * n + 1
        ports[f"account{n}"] = base + 10 * n + 2
        ports[f"object-replication{n}"] = base + 10 * n + 5
    return ports


def random_ports(proxy: Optional[int] = None) -> dict:
    names = ["memcached", "rsync"] + [f"{kind}{n}" for n in NODES for kind in
                                      ("object", "container", "account", "object-replication")]
    got = free_ports(len(names) + 1)
    ports = dict(zip(names, got))
    ports["proxy"] = proxy or got[-1]
    return ports


class Proc:
    def __init__(self, name: str, node: Optional[int], role: str, popen: subprocess.Popen):
        self.name, self.node, self.role, self.popen = name, node, role, popen


class Cluster:
    def __init__(self, data: Path, ports: dict, object_server: str = DEFAULT_OBJECT_SERVER,
                 venv: Optional[Path] = None, client_venv: Optional[Path] = None,
                 log_level: str = "INFO", sync_method: str = "rsync",
                 error_suppression_interval: Optional[float] = None):
        if object_server not in OBJECT_SERVERS:
            raise ClusterError(f"OBJECT_SERVER must be one of {', '.join(OBJECT_SERVERS)}, "
                               f"got {object_server!r}")
        if sync_method not in SYNC_METHODS:
            raise ClusterError(f"SYNC_METHOD must be one of {', '.join(SYNC_METHODS)}, "
                               f"got {sync_method!r}")
        self.sync_method = sync_method
        # The proxy skips a node for this long after errors (Swift's default
        # 60 s when None): tests that stop two nodes in turn shorten it.
        self.error_suppression_interval = error_suppression_interval
        self.data = Path(data).resolve()
        self.etc, self.log, self.run = self.data / "etc", self.data / "log", self.data / "run"
        self.ports = ports
        self.object_server = object_server
        self.venv = Path(venv or REPO / "build" / "swift-venv")
        # python-swiftclient for Swift's dispersion tools (swift_exec.py)
        self.client_venv = Path(client_venv or REPO / ".venv")
        self.log_level = log_level
        self.procs: list = []
        self.user = getpass.getuser()
        if object_server == "stowage" and os.getuid() == 0:
            self.user = STOWAGE_USER

    # ---- layout -------------------------------------------------------------

    def devices(self, n: int) -> Path:
        """The devices directory of node n (its object/container/account
        servers' `devices`); the node's one device is sdb<n> in it."""
        return self.data / f"node{n}"

    def device(self, n: int) -> Path:
        return self.devices(n) / f"sdb{n}"

    @property
    def swift_conf(self) -> Path:
        return self.etc / "swift.conf"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.ports['proxy']}"

    def swift_cmd(self, program: str, *args: str) -> list:
        """The argv that runs a Swift program (venv bin name) on this
        cluster's swift.conf."""
        return [str(self.venv / "bin" / "python"), str(HERE / "swift_exec.py"),
                str(self.swift_conf), program, *args]

    # ---- configuration ------------------------------------------------------

    def _saved_ports(self) -> Optional[dict]:
        f = self.etc / "ports.json"
        if f.exists():
            return json.loads(f.read_text())
        return None

    def configure(self):
        """Write swift.conf, the rings and every config. An existing
        CLUSTER_DATA keeps its hash path salt, rings and node ports (the
        rings name the ports); only the proxy port may change."""
        for d in (self.etc, self.log, self.run):
            d.mkdir(parents=True, exist_ok=True)
        saved = self._saved_ports()
        if saved is not None:
            proxy = self.ports["proxy"]
            if {k: v for k, v in saved.items() if k != "proxy"} != \
                    {k: v for k, v in self.ports.items() if k != "proxy"}:
                print(f"cluster: {self.data} was built with other node ports; "
                      "keeping those (its rings name them)", file=sys.stderr)
            self.ports = dict(saved, proxy=proxy)
        (self.etc / "ports.json").write_text(json.dumps(self.ports, indent=1) + "\n")
        for n in NODES:
            if self.object_server == "stowage":
                self._ensure_storage_fs(n)
            self.device(n).mkdir(parents=True, exist_ok=True)
            (self.run / f"recon{n}").mkdir(parents=True, exist_ok=True)
        if not self.swift_conf.exists():
            # A new cluster: a random salt, never changed afterwards.
            self.swift_conf.write_text(
                "[swift-hash]\n"
                f"swift_hash_path_prefix = {secrets.token_hex(8)}\n"
                f"swift_hash_path_suffix = {secrets.token_hex(8)}\n"
                "[storage-policy:0]\nname = Policy-0\ndefault = yes\n")
            os.chmod(self.swift_conf, 0o600)
        for kind in ("object", "container", "account"):
            if not (self.etc / f"{kind}.ring.gz").exists():
                self._build_ring(kind)
        self._write_node_configs()
        self._write_shared_configs()
        if self.user != getpass.getuser():
            # Everything Swift's processes and Apache's workers touch.
            subprocess.run(["chown", "-R", f"{self.user}:{self.user}", str(self.data)],
                           check=True)

    def _build_ring(self, kind: str):
        builder = self.etc / f"{kind}.builder"
        builder.unlink(missing_ok=True)
        steps = [["create", str(PART_POWER), str(REPLICAS), "1"]]
        for n in NODES:
            if kind == "object":
                dev = (f"r1z{n}-{HOST}:{self.ports[f'object{n}']}"
                       f"R{HOST}:{self.ports[f'object-replication{n}']}/sdb{n}")
            else:
                dev = f"r1z{n}-{HOST}:{self.ports[f'{kind}{n}']}/sdb{n}"
            steps.append(["add", dev, "100"])
        for args in steps:
            r = subprocess.run([str(self.venv / "bin" / "swift-ring-builder"), str(builder), *args],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise ClusterError(f"swift-ring-builder {kind} {' '.join(args)} failed:\n"
                                   f"{r.stdout}{r.stderr}")
        # rebalance exits 1 on a mere warning: the ring file is what counts.
        r = subprocess.run([str(self.venv / "bin" / "swift-ring-builder"), str(builder),
                            "rebalance"], capture_output=True, text=True)
        if not (self.etc / f"{kind}.ring.gz").exists():
            raise ClusterError(f"swift-ring-builder wrote no {kind}.ring.gz:\n{r.stdout}{r.stderr}")

    def _common(self, n: int, port: int) -> str:
        return (f"[DEFAULT]\ndevices = {self.devices(n)}\nmount_check = false\n"
                f"disable_fallocate = true\nbind_ip = {HOST}\nbind_port = {port}\n"
                f"workers = 1\nuser = {self.user}\nswift_dir = {self.etc}\n"
                f"recon_cache_path = {self.run / f'recon{n}'}\nlog_level = {self.log_level}\n")

    def _rsync_module(self, kind: str) -> str:
        # One rsync daemon on a private port serves every node's modules.
        port = "{replication_port}"
        return f"rsync://{{replication_ip}}:{self.ports['rsync']}/{kind}{port}"

    def _write_node_configs(self):
        filters = ("[filter:healthcheck]\nuse = egg:swift#healthcheck\n"
                   "[filter:recon]\nuse = egg:swift#recon\n")
        for n in NODES:
            etc = self.etc / f"node{n}"
            etc.mkdir(exist_ok=True)
            for name, port, repl in (("object-server.conf", self.ports[f"object{n}"], "false"),
                                     ("object-replication.conf",
                                      self.ports[f"object-replication{n}"], "true")):
                daemons = ""
                if repl == "true":
                    # ssync: the replicator sends objects to the remote
                    # replication server's SSYNC verb instead of rsync.
                    daemons = ("[object-replicator]\n"
                               f"sync_method = {self.sync_method}\n"
                               f"rsync_module = {self._rsync_module('object')}\n"
                               "[object-auditor]\n[object-updater]\n")
                (etc / name).write_text(
                    self._common(n, port)
                    + "[pipeline:main]\npipeline = healthcheck recon object-server\n"
                    f"[app:object-server]\nuse = egg:swift#object\nreplication_server = {repl}\n"
                    + filters + daemons)
            for kind in ("container", "account"):
                daemons = (f"[{kind}-replicator]\nrsync_module = {self._rsync_module(kind)}\n"
                           f"[{kind}-auditor]\n")
                if kind == "container":
                    daemons += "[container-updater]\n[container-sync]\n"
                (etc / f"{kind}-server.conf").write_text(
                    self._common(n, self.ports[f"{kind}{n}"])
                    + f"[pipeline:main]\npipeline = healthcheck recon {kind}-server\n"
                    f"[app:{kind}-server]\nuse = egg:swift#{kind}\n" + filters + daemons)

    def _write_shared_configs(self):
        mc = f"{HOST}:{self.ports['memcached']}"
        users = "".join(f"user_{u.replace(':', '_')} = {k} {g}".rstrip() + "\n"
                        for u, (k, g) in USERS.items())
        filters = "".join(f"[filter:{name}]\nuse = egg:swift#{egg}\n"
                          + (f"memcache_servers = {mc}\n" if name == "cache" else "")
                          for name, egg in PROXY_FILTERS.items())
        (self.etc / "proxy-server.conf").write_text(
            f"[DEFAULT]\nbind_ip = {HOST}\nbind_port = {self.ports['proxy']}\nworkers = 1\n"
            f"user = {self.user}\nswift_dir = {self.etc}\nlog_level = {self.log_level}\n"
            f"[pipeline:main]\npipeline = {STOCK_PIPELINE}\n"
            "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n"
            + (f"error_suppression_interval = {self.error_suppression_interval}\n"
               if self.error_suppression_interval is not None else "")
            + "[filter:tempauth]\nuse = egg:swift#tempauth\n" + users + filters)
        # The expirer's own config doubles as its internal client's pipeline.
        (self.etc / "object-expirer.conf").write_text(
            f"[DEFAULT]\nuser = {self.user}\nswift_dir = {self.etc}\n"
            f"log_level = {self.log_level}\nrecon_cache_path = {self.run}\n"
            "[object-expirer]\ninterval = 30\n"
            "[pipeline:main]\npipeline = catch_errors cache proxy-server\n"
            "[app:proxy-server]\nuse = egg:swift#proxy\n"
            f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = {mc}\n"
            "[filter:catch_errors]\nuse = egg:swift#catch_errors\n")
        key, _ = USERS["dispersion:dispersion"]
        (self.etc / "dispersion.conf").write_text(
            f"[dispersion]\nauth_url = {self.url}/auth/v1.0\nauth_user = dispersion:dispersion\n"
            f"auth_key = {key}\nswift_dir = {self.etc}\ndispersion_coverage = 100\n"
            "retries = 5\nconcurrency = 8\n")
        # rsync: a module per node and kind, named as the replicators'
        # rsync_module template expands (kind + the ring's replication port).
        ids = ""
        if os.getuid() == 0:
            user = pwd.getpwnam(self.user)
            ids = (f"uid = {user.pw_name}\n"
                   f"gid = {grp.getgrgid(user.pw_gid).gr_name}\n")
        mods = ""
        for n in NODES:
            for kind, port in (("object", self.ports[f"object-replication{n}"]),
                               ("container", self.ports[f"container{n}"]),
                               ("account", self.ports[f"account{n}"])):
                mods += (f"[{kind}{port}]\npath = {self.devices(n)}\nread only = false\n"
                         f"max connections = 32\nlock file = {self.run / f'{kind}{port}.lock'}\n")
        (self.etc / "rsyncd.conf").write_text(
            ids + f"use chroot = no\nlog file = {self.log / 'rsyncd.log'}\n"
            f"pid file = {self.run / 'rsyncd.pid'}\naddress = {HOST}\n" + mods)

    # ---- processes ----------------------------------------------------------

    def spawn(self, name: str, argv: list, node: Optional[int] = None,
              role: str = "") -> Proc:
        out = open(self.log / f"{name}.log", "ab")
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True,
                                 cwd=str(self.data), env=quiet_env())
        finally:
            out.close()
        proc = Proc(name, node, role or name, p)
        self.procs.append(proc)
        return proc

    def _spawn_node_server(self, n: int, role: str):
        program, conf = NODE_SERVERS[role]
        if role == "object" and self.object_server == "stowage":
            self._spawn_stowage_node(n)
            return
        self.spawn(f"{role}{n}", self.swift_cmd(program, str(self.etc / f"node{n}" / conf), "-v"),
                   node=n, role=role)

    def start(self, daemons: bool = True, timeout: float = 60.0):
        """Configure, then start everything; on any failure stop what
        started and raise ClusterError with the logs' tails."""
        try:
            self._check_tools()
            self.configure()
            if self.object_server == "stowage":
                for n in NODES:
                    self._stowage_config(n)  # fails loudly before anything starts
            self._check_ports_free()
            mc = ["memcached", "-l", HOST, "-p", str(self.ports["memcached"]), "-m", "64"]
            if os.getuid() == 0:
                mc += ["-u", "nobody"]
            self.spawn("memcached", mc)
            (self.run / "rsyncd.pid").unlink(missing_ok=True)
            self.spawn("rsyncd", ["rsync", "--daemon", "--no-detach",
                                  f"--config={self.etc / 'rsyncd.conf'}",
                                  f"--port={self.ports['rsync']}"])
            for n in NODES:
                for role in NODE_SERVERS:
                    self._spawn_node_server(n, role)
            self.spawn("proxy", self.swift_cmd("swift-proxy-server",
                                               str(self.etc / "proxy-server.conf"), "-v"))
            self.wait_ready(timeout)
            if daemons:
                self.start_daemons()
        except BaseException:
            self.stop()
            raise

    def _check_tools(self):
        missing = [t for t in ("memcached", "rsync") if shutil.which(t) is None]
        if not (self.venv / "bin" / "swift-proxy-server").exists():
            missing.append(f"Swift in {self.venv} (scripts/cluster/venvs.sh)")
        if not list(self.client_venv.glob("lib/python3*/site-packages/swiftclient")):
            missing.append(f"python-swiftclient in {self.client_venv} (tests/e2e/requirements.txt)")
        if missing:
            raise ClusterError("missing: " + ", ".join(missing)
                               + " (make cluster installs them)")

    def _check_ports_free(self):
        busy = [f"{name} {port}" for name, port in self.ports.items() if port_in_use(port)]
        if busy:
            raise ClusterError("ports already in use: " + ", ".join(busy)
                               + " (pick others: PORT=..., CLUSTER_PORT_BASE=...)")

    def start_daemons(self):
        for n in NODES:
            self.start_node_daemons(n)
        self.spawn("object-expirer", self.swift_cmd("swift-object-expirer",
                                                    str(self.etc / "object-expirer.conf"), "-v"),
                   role="object-expirer")

    def start_node_daemons(self, n: int):
        for role, (program, conf) in NODE_DAEMONS.items():
            if any(p.node == n and p.role == role for p in self.procs):
                continue
            self.spawn(f"{role}{n}", self.swift_cmd(program, str(self.etc / f"node{n}" / conf),
                                                    "-v"), node=n, role=role)

    def stop_daemons(self):
        """Stop every background daemon (replicators, auditors, updaters,
        expirer), so that a replication pass run by hand is the only one."""
        self._stop([p for p in self.procs if p.role in NODE_DAEMONS or p.role == "object-expirer"])

    def node_ports(self, n: int) -> list:
        return [self.ports[f"{role}{n}"] for role in NODE_SERVERS]

    def wait_ready(self, timeout: float = 60.0):
        """Until every node server and the proxy answer /healthcheck 200."""
        targets = [(p.name, self.ports[p.role + str(p.node)] if p.node else self.ports["proxy"])
                   for p in self.procs if p.role in NODE_SERVERS or p.role == "proxy"]
        deadline = time.monotonic() + timeout
        pending = list(targets)
        while pending:
            for p in self.procs:
                if p.popen.poll() is not None:
                    raise ClusterError(f"{p.name} exited {p.popen.returncode} at start\n"
                                       + self.logs(names=[p.name]))
            pending = [(name, port) for name, port in pending if not healthy(port)]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"not healthy after {timeout:.0f}s: "
                                   + ", ".join(n for n, _ in pending) + "\n"
                                   + self.logs(names=[n for n, _ in pending]))
            time.sleep(0.2)

    def stop_node(self, n: int, roles: Optional[tuple] = None):
        """A node failure: every process of node n (its servers and, when
        running, its daemons) stopped; with `roles`, only those (e.g. its
        two object servers)."""
        self._stop([p for p in self.procs if p.node == n and (roles is None or p.role in roles)])

    def start_node(self, n: int, daemons: bool = False, timeout: float = 60.0):
        """Node n's servers that are not running started again."""
        for role in NODE_SERVERS:
            if not any(p.node == n and p.role == role for p in self.procs):
                self._spawn_node_server(n, role)
        self.wait_ready(timeout)
        if daemons:
            self.start_node_daemons(n)

    def wipe_node(self, n: int):
        """Node n's device emptied (as a replaced disk); the node must be stopped."""
        if any(p.node == n for p in self.procs):
            raise ClusterError(f"wipe_node({n}): stop the node first")
        shutil.rmtree(self.device(n))
        self.device(n).mkdir()
        if self.user != getpass.getuser():
            shutil.chown(self.device(n), self.user, self.user)

    def replication_pass(self) -> dict:
        """One pass of Swift's own daemons in `--once` mode on every node
        (REPLICATION_PASS order); returns {step: seconds}. Raises when one
        exits non-zero."""
        times = {}
        for role in REPLICATION_PASS:
            program, conf = NODE_DAEMONS[role]
            t0 = time.monotonic()
            running = []
            for n in NODES:
                log = open(self.log / f"pass-{role}{n}.log", "ab")
                running.append((n, log, subprocess.Popen(
                    self.swift_cmd(program, str(self.etc / f"node{n}" / conf), "--once", "-v"),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True, cwd=str(self.data), env=quiet_env())))
            for n, log, p in running:
                try:
                    rc = p.wait(timeout=300)
                finally:
                    log.close()
                if rc != 0:
                    raise ClusterError(f"{role} --once on node {n} exited {rc}\n"
                                       + self.logs(names=[f"pass-{role}{n}"]))
            times[role] = time.monotonic() - t0
        return times

    def async_pending(self) -> list:
        """async_pending files left on any node (container updates the
        object servers could not send)."""
        return sorted(str(f) for n in NODES for f in self.device(n).glob("async_pending*/*/*")
                      if f.is_file())

    def swift_tool(self, program: str, *args: str, stdin: str = "",
                   timeout: float = 300) -> subprocess.CompletedProcess:
        """Run one of Swift's tools on this cluster's swift.conf to its end."""
        env = quiet_env()
        env["SWIFT_EXEC_EXTRA_PATH"] = os.pathsep.join(
            str(p) for p in sorted(self.client_venv.glob("lib/python3*/site-packages")))
        return subprocess.run(self.swift_cmd(program, *args), input=stdin, capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=str(self.data))

    def replicas(self, objects=(), containers=(), accounts=()) -> dict:
        """scripts/cluster/replicas.py's answer: the files of each object's
        hash directory and each container's/account's listing, per device."""
        devices = json.dumps({f"sdb{n}": str(self.devices(n)) for n in NODES})
        query = json.dumps({"objects": list(objects), "containers": list(containers),
                            "accounts": list(accounts)})
        r = self.swift_tool(str(HERE / "replicas.py"), str(self.etc), devices, stdin=query)
        if r.returncode != 0:
            raise ClusterError(f"replicas.py exited {r.returncode}:\n{r.stderr[-3000:]}")
        return json.loads(r.stdout)

    def dispersion_populate(self):
        r = self.swift_tool("swift-dispersion-populate", str(self.etc / "dispersion.conf"))
        if r.returncode != 0:
            raise ClusterError(f"swift-dispersion-populate exited {r.returncode}:\n"
                               f"{r.stdout[-2000:]}{r.stderr[-2000:]}")
        return r.stdout

    def dispersion_report(self) -> dict:
        """swift-dispersion-report --dump-json: {"object": {...}, "container": {...}}
        with pct_found, copies_found, copies_expected, ..."""
        r = self.swift_tool("swift-dispersion-report", "--dump-json",
                            str(self.etc / "dispersion.conf"))
        if r.returncode != 0:
            raise ClusterError(f"swift-dispersion-report exited {r.returncode}:\n"
                               f"{r.stdout[-2000:]}{r.stderr[-2000:]}")
        return json.loads(r.stdout)

    def _stop(self, procs: list):
        for p in procs:
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in procs:
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # Our own child's session (start_new_session): its workers too.
                try:
                    os.killpg(p.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.popen.wait(timeout=5)
        self.procs = [p for p in self.procs if p not in procs]

    def stop(self):
        # The proxy first, memcached and rsync last.
        order = {"proxy": 0, "memcached": 3, "rsyncd": 3}
        procs = sorted(self.procs, key=lambda p: order.get(p.role, 1 if p.node else 2))
        self._stop(procs)

    def release_storage(self, delete_images: bool = False):
        """Unmount the nodes' XFS images (OBJECT_SERVER=stowage); the data
        stays in them unless delete_images."""
        if self.object_server != "stowage":
            return
        for n in NODES:
            args = [str(REPO / "scripts" / "storage-fs.sh"), "release", str(self.devices(n))]
            if delete_images:
                args.append("--delete-image")
            subprocess.run(args, capture_output=True, text=True)

    def logs(self, names: Optional[list] = None, tail: int = 25) -> str:
        out = []
        for f in sorted(self.log.glob("*.log")):
            if names is not None and f.stem not in names:
                continue
            lines = f.read_text(errors="replace").splitlines()[-tail:]
            out.append(f"--- {f} ---\n" + "\n".join(lines))
        return "\n".join(out)

    # ---- OBJECT_SERVER=stowage ----------------------------------------------

    def _ensure_storage_fs(self, n: int):
        """Node n's devices directory on a filesystem that holds Swift's
        full xattr metadata (scripts/storage-fs.sh: an XFS image when the
        one under it does not), as Swift recommends for its devices."""
        d = self.devices(n)
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([str(REPO / "scripts" / "storage-fs.sh"), "ensure", str(d), "4G"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ClusterError(f"scripts/storage-fs.sh ensure {d} failed:\n{r.stderr}")
        self.storage_fs = getattr(self, "storage_fs", {})
        self.storage_fs[n] = r.stdout.strip()

    def _stowage_config(self, n: int) -> Path:
        """Node n's data object server as Apache + mod_stowage: a backend
        vhost on the node's object port for the node's devices
        (StowageObjectServer) reading the cluster's swift.conf
        (StowageSwiftConf); its own StowageRoot holds only the vhost's
        state (gate figures). `apache2 -t` must accept it before anything
        starts."""
        apache = shutil.which("apache2") or "/usr/sbin/apache2"
        for f in (REPO / "build" / "mod_stowage.so", REPO / "target" / "release" / "libstowage.so"):
            if not f.exists():
                raise ClusterError(f"OBJECT_SERVER=stowage: {f} is missing; run 'make all'")
        outdir = self.run / f"apache{n}"
        outdir.mkdir(parents=True, exist_ok=True)
        extra = outdir / "backend.conf"
        extra.write_text(
            f"# Node {n}: Swift's object-server protocol for the devices under\n"
            f"# {self.devices(n)}, reading the cluster's swift.conf (issue 20).\n"
            f"StowageObjectServer {self.devices(n)}\n"
            f"StowageSwiftConf {self.swift_conf}\n")
        r = subprocess.run([str(REPO / "scripts" / "apache-config.sh"), str(outdir),
                            str(self.ports[f"object{n}"]), str(outdir / "root"), str(extra)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ClusterError("OBJECT_SERVER=stowage: scripts/apache-config.sh failed:\n"
                               + r.stderr)
        conf = Path(r.stdout.strip())
        t = subprocess.run([apache, "-t", "-f", str(conf)], capture_output=True, text=True)
        if t.returncode != 0:
            raise ClusterError(
                "OBJECT_SERVER=stowage: "
                f"`apache2 -t` rejects the backend vhost of node {n} ({extra}):\n"
                + (t.stderr or t.stdout).strip() + "\nNothing was started.")
        return conf

    def _spawn_stowage_node(self, n: int):
        conf = self._stowage_config(n)
        apache = shutil.which("apache2") or "/usr/sbin/apache2"
        self.spawn(f"object{n}", [apache, "-f", str(conf), "-DFOREGROUND"], node=n, role="object")


def quiet_env() -> dict:
    # Swift's dependencies warn about deprecations on every start.
    return dict(os.environ, PYTHONWARNINGS="ignore")


def healthy(port: int) -> bool:
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            c.request("GET", "/healthcheck")
            return c.getresponse().status == 200
        finally:
            c.close()
    except (OSError, http.client.HTTPException):
        return False


def banner(c: Cluster) -> str:
    p = c.ports
    rows = "\n".join(
        f"  node{n}  {p[f'object{n}']:>5} {p[f'object-replication{n}']:>11} "
        f"{p[f'container{n}']:>9} {p[f'account{n}']:>7}   {c.device(n)}" for n in NODES)
    data_server = ("Swift's swift-object-server" if c.object_server == "swift"
                   else "Apache + mod_stowage")
    sync = f"objects replicate by {c.sync_method} (SYNC_METHOD)"
    return f"""
Swift cluster (3 nodes, 3 replicas) behind {c.url}
  object data servers: {data_server} (OBJECT_SERVER={c.object_server}; swift for
  Swift's own, to compare)
  {sync}
  swift -A {c.url}/auth/v1.0 -U test:tester -K testing stat
         object  replication  container  account   device
{rows}
  proxy {p['proxy']}  memcached {p['memcached']}  rsyncd {p['rsync']}
Data: {c.data}   Logs: {c.log}/*.log   Configs: {c.etc}
One replication pass by hand: CLUSTER_DATA={c.data} scripts/cluster/cluster.py pass
Ctrl-C stops everything.
"""


def cluster_from_env(args) -> Cluster:
    data = Path(os.environ.get("CLUSTER_DATA") or REPO / "var" / "cluster")
    proxy = int(os.environ.get("PORT") or 8080)
    base = int(os.environ.get("CLUSTER_PORT_BASE") or 6200)
    object_server = os.environ.get("OBJECT_SERVER") or DEFAULT_OBJECT_SERVER
    return Cluster(data, ports_from_base(base, proxy), object_server=object_server,
                   venv=Path(os.environ["SWIFT_VENV"]) if os.environ.get("SWIFT_VENV") else None,
                   sync_method=os.environ.get("SYNC_METHOD") or "rsync")


def cmd_run(args) -> int:
    c = cluster_from_env(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    # SIGINT too: a shell that starts us in the background leaves it ignored.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        c.start(daemons=True)
        print(banner(c), flush=True)
        while True:
            for p in c.procs:
                if p.popen.poll() is not None:
                    print(f"cluster: {p.name} exited {p.popen.returncode}; stopping\n"
                          + c.logs(names=[p.name]), file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except ClusterError as e:
        print(f"cluster: {e}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the stop short (it is bounded: 15 s,
        # then SIGKILL).
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        c.stop()
        c.release_storage()
        print("cluster: stopped", file=sys.stderr)


def cmd_pass(args) -> int:
    """One replication pass on a running `make cluster` (same CLUSTER_DATA)."""
    c = cluster_from_env(args)
    if c._saved_ports() is None:
        print(f"cluster: no cluster in {c.data}", file=sys.stderr)
        return 1
    c.ports = c._saved_ports()
    try:
        for step, secs in c.replication_pass().items():
            print(f"{step:22} {secs:5.1f} s")
    except ClusterError as e:
        print(f"cluster: {e}", file=sys.stderr)
        return 1
    left = c.async_pending()
    print(f"async_pending left: {len(left)}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="start the cluster in the foreground (make cluster)")
    sub.add_parser("pass", help="one replication pass on the running cluster")
    args = ap.parse_args()
    return {"run": cmd_run, "pass": cmd_pass}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
