"""Crash consistency: a PUT/DELETE/POST/GET load runs while the test
SIGKILLs Apache's workers over and over (and once the whole server, which
is then started again on the same storage root). Afterwards every name must
be in a state its acknowledged history allows, no read may ever have shown
wrong or partial bytes, listings and counts must agree with what is
readable, and no temp file or intent marker may be left.

The oracle is exact, not timed: each name is written by one thread only,
in order. A 2xx is applied for sure; any other outcome (a killed
connection, a 5xx, a 503) may or may not have been applied, so the set of
allowed states grows by both branches.
"""

import hashlib
import http.client
import os
import random
import signal
import threading
import time

import pytest

from harness import (HOST, SwiftClient, data_files, start_server, stop_server, unique)

pytestmark = pytest.mark.apache

THREADS = 6
NAMES_PER_THREAD = 8
SIZES = [0, 1, 4096, 70_000, 300_000]  # > 64 KiB streams under a permit
KILLS = 24                             # worker kills, plus one whole-server kill
WHOLE_SERVER_KILL_AT = KILLS // 2
CONTAINERS = 3


class Load:
    """One thread's connection and the history of the names it owns."""

    def __init__(self, srv, token, idx, containers, rng):
        self.srv, self.token, self.idx, self.rng = srv, token, idx, rng
        self.names = [(containers[k % len(containers)], f"t{idx}/o{k}")
                      for k in range(NAMES_PER_THREAD)]
        self.scratch = f"scratch-{idx}"
        # name -> list of (op, value, acked); value: md5 for PUT, gen for POST
        self.history = {n: [] for n in self.names}
        self.scratch_history = []           # (op, acked) on the scratch container
        self.known_md5 = {n: set() for n in self.names}
        self.bad_reads = []
        self.conn = None
        self.ops = 0

    def _request(self, method, path, headers=None, body=None):
        """(status, headers, body) or None when the connection failed."""
        headers = dict(headers or {}, **{"X-Auth-Token": self.token})
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.srv.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            time.sleep(0.05)  # the server may be restarting
            return None

    def step(self):
        self.ops += 1
        roll = self.rng.random()
        if roll < 0.05:
            return self._scratch_step()
        name = self.rng.choice(self.names)
        c, o = name
        path = f"/v1/AUTH_test/{c}/{o}"
        if roll < 0.55:
            body = os.urandom(self.rng.choice(SIZES))
            md5 = hashlib.md5(body).hexdigest()
            self.known_md5[name].add(md5)
            headers = {"ETag": md5, "X-Object-Meta-Gen": f"put-{self.ops}"}
            if self.rng.random() < 0.2:
                headers["X-Delete-After"] = "86400"  # writes an expiry marker first
            r = self._request("PUT", path, headers, body)
            self.history[name].append(("PUT", (md5, f"put-{self.ops}"),
                                       r is not None and r[0] == 201))
        elif roll < 0.70:
            r = self._request("DELETE", path)
            self.history[name].append(("DELETE", None, r is not None and r[0] == 204))
        elif roll < 0.85:
            gen = f"post-{self.ops}"
            r = self._request("POST", path, {"X-Object-Meta-Gen": gen})
            self.history[name].append(("POST", gen, r is not None and r[0] == 202))
        else:
            r = self._request("GET", path)
            if r is not None and r[0] == 200:
                got = hashlib.md5(r[2]).hexdigest()
                if got != r[1].get("etag") or got not in self.known_md5[name]:
                    self.bad_reads.append((name, got, r[1].get("etag"), len(r[2])))

    def _scratch_step(self):
        path = f"/v1/AUTH_test/{self.scratch}"
        if self.rng.random() < 0.5:
            r = self._request("PUT", path)
            self.scratch_history.append(("PUT", r is not None and r[0] in (201, 202)))
        else:
            r = self._request("DELETE", path)
            self.scratch_history.append(("DELETE", r is not None and r[0] == 204))


def allowed_states(history):
    """Every (md5, meta gen) or None the name may end in."""
    states = {None}
    for op, value, acked in history:
        after = set()
        for s in states:
            if op == "PUT":
                after.add(value)
            elif op == "DELETE":
                if s is not None or not acked:
                    after.add(None)
            elif op == "POST":
                if s is not None:
                    after.add((s[0], value))
                elif not acked:
                    after.add(None)
        states = after if acked else states | after
    return states


def allowed_scratch(history):
    """Whether the scratch container may exist in the end."""
    states = {False}
    for op, acked in history:
        after = {op == "PUT"}
        states = after if acked else states | after
    return states


def listing(swift, container):
    return {row["name"]: row for row in swift.listing(container)}


def assert_consistent(srv, loads, containers):
    swift = SwiftClient(srv)
    listed = {c: listing(swift, c) for c in containers}
    total_objects = total_bytes = 0
    for c in containers:
        head = swift.request("HEAD", c)
        assert head.status == 204, head
        rows = listed[c]
        assert int(head.header("X-Container-Object-Count")) == len(rows), (c, rows)
        assert int(head.header("X-Container-Bytes-Used")) == sum(r["bytes"] for r in rows.values())
        total_objects += len(rows)
        total_bytes += sum(r["bytes"] for r in rows.values())
    expected_containers = set(containers)
    for load in loads:
        for name, history in load.history.items():
            c, o = name
            r = swift.request("GET", f"{c}/{o}")
            allowed = allowed_states(history)
            if r.status == 404:
                assert None in allowed, (name, history)
                assert o not in listed[c], (name, "listed but not readable")
                continue
            assert r.status == 200, (name, r)
            got = hashlib.md5(r.body).hexdigest()
            assert got == r.header("ETag"), (name, "bytes do not match their ETag")
            state = (got, r.header("X-Object-Meta-Gen"))
            assert state in allowed, (name, state, history)
            row = listed[c].get(o)
            assert row is not None, (name, "readable but not listed")
            assert (row["hash"], row["bytes"]) == (got, len(r.body)), (name, row)
        exists = swift.request("HEAD", load.scratch).status == 204
        assert exists in allowed_scratch(load.scratch_history), (load.scratch, load.scratch_history)
        if exists:
            expected_containers.add(load.scratch)
    # Every listed object is one of ours (nothing stray, nothing partial).
    ours = {name for load in loads for name in load.history}
    for c, rows in listed.items():
        assert {(c, o) for o in rows} <= ours, c
    acct = swift.request("HEAD", "")
    assert acct.status == 204, acct
    assert int(acct.header("X-Account-Container-Count")) == len(expected_containers)
    assert int(acct.header("X-Account-Object-Count")) == total_objects
    assert int(acct.header("X-Account-Bytes-Used")) == total_bytes
    rows = swift.listing("")
    assert {r["name"] for r in rows} == expected_containers
    for r in rows:
        rows_c = listed.get(r["name"], {})
        assert (r["count"], r["bytes"]) == (len(rows_c), sum(x["bytes"] for x in rows_c.values()))


def unexpected_crash_lines(srv, killed):
    """Crash lines other than the kills this test made."""
    expected = {f"child pid {pid} exit signal Killed (9)" for pid in killed}
    return [line for line in srv.crash_lines()
            if not any(e in line for e in expected)]


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_sigkill_under_load_keeps_catalog_and_files_consistent(mpm):
    srv = start_server(mpm=mpm)
    try:
        swift = SwiftClient(srv)
        containers = [unique(f"crash{i}") for i in range(CONTAINERS)]
        for c in containers:
            assert swift.request("PUT", c).status == 201
        rng = random.Random(f"{mpm}-{time.time()}")
        loads = [Load(srv, swift.token, i, containers, random.Random(rng.random()))
                 for i in range(THREADS)]
        stop = threading.Event()

        def run(load):
            while not stop.is_set():
                load.step()

        threads = [threading.Thread(target=run, args=(ld,), daemon=True) for ld in loads]
        for t in threads:
            t.start()
        killed = []
        whole = 0
        for _ in range(10 * KILLS):
            if len(killed) >= KILLS:
                break
            time.sleep(rng.uniform(0.15, 0.5))
            if len(killed) == WHOLE_SERVER_KILL_AT and not whole:
                srv.kill_all()
                srv.relaunch()
                whole += 1
                continue
            pids = srv.worker_pids()
            if pids:
                pid = rng.choice(pids)
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                except ProcessLookupError:
                    pass
        # The last blow lands on the whole server mid-load, so that each
        # name's last write may be the interrupted one (a later write would
        # hide what an earlier crash left).
        time.sleep(0.5)
        srv.kill_all()
        stop.set()
        for t in threads:
            t.join(timeout=120)
        for load in loads:
            if load.conn is not None:
                load.conn.close()
        assert len(killed) >= KILLS and whole == 1, f"only {len(killed)} workers were killed"
        acked = sum(a for ld in loads for h in ld.history.values() for _, _, a in h)
        assert acked > 50, f"the load made too little progress ({acked} acked writes)"
        bad = [b for ld in loads for b in ld.bad_reads]
        assert not bad, f"reads with wrong or partial bytes during the load: {bad[:5]}"

        # Start it on the same root: the first request each worker serves
        # runs recovery before anything else.
        srv.relaunch()
        # relaunch() waited for a /healthcheck: its worker recovered first.
        for left in ("intents", "tmp"):
            d = srv.datadir / left
            assert not d.exists() or data_files(d) == [], (left, data_files(d))
        assert_consistent(srv, loads, containers)
        crashes = unexpected_crash_lines(srv, killed)
        assert not crashes, "\n".join(crashes)
    finally:
        stop_server(srv)
