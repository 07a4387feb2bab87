"""Admission gates end to end: node-wide limits across Apache children,
FIFO queue bounds, 503 + Retry-After on overflow and timeout, a shed PUT
leaving the connection clean, permits of a SIGKILLed child coming back.

Permits are kept busy with the test-hooks build (X-Stowage-Test-Delay-Ms),
see gates_support.py; the release build is never used for that."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from gates_support import (MANY_CHILDREN, Held, gate_status, serving_child, start_gated,
                           stop_after_kills, stop_server, wait_for)
from harness import (ConnectionClosed, RawConnection, build_request, chunked, tmp_files,
                     unique)

pytestmark = [pytest.mark.apache, pytest.mark.serial]

PIDLOG = ('LogFormat "%P %{begin:msec}t %D %{stowage-wait-us}n %>s %m %U" gatelog\n'
          'CustomLog "{log}" gatelog\n')


def pidlog_conf(ctx) -> str:
    return PIDLOG.replace("{log}", str(ctx.tmp / "run" / "gates.log"))


def read_pidlog(srv) -> list:
    rows = []
    for line in (srv.outdir / "gates.log").read_text().splitlines():
        pid, begin_ms, dur_us, wait, status, method, path = line.split(" ", 6)
        rows.append(dict(pid=int(pid), begin=int(begin_ms) / 1000, dur=int(dur_us) / 1e6,
                         wait=0 if wait == "-" else int(wait) / 1e6, status=int(status),
                         method=method, path=path))
    return rows


def max_overlap(intervals) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def new_container(srv) -> tuple:
    client = srv.client()
    name = unique("g")
    client.put_container(name)
    return client, f"{client.account_path}/{name}"


# --------------------------------------------------------------------------
# Node-wide limit across processes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_object_limit_holds_across_children(gated, mpm):
    extra_server = (lambda ctx: pidlog_conf(ctx) + MANY_CHILDREN[mpm])
    srv = gated(mpm=mpm, extra_conf="StowageGate object limit=2 queue=16 wait=30s yield=off\n",
                extra_server_conf=extra_server)
    client, cpath = new_container(srv)
    held = [Held(srv, "PUT", f"{cpath}/o{i}", client.token, delay_ms=800) for i in range(6)]
    peak_in_flight = peak_queued = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        g = gate_status(srv)["object-write"]
        peak_in_flight = max(peak_in_flight, g["in_flight"])
        peak_queued = max(peak_queued, g["queued"])
        if g["admitted"] >= 6 and g["in_flight"] == 0:
            break
        time.sleep(0.02)
    assert [h.response().status for h in held] == [201] * 6
    assert peak_in_flight == 2
    assert peak_queued >= 2
    puts = [r for r in read_pidlog(srv) if r["method"] == "PUT" and "/o" in r["path"]]
    assert len(puts) == 6
    assert len({r["pid"] for r in puts}) >= 2, puts  # several children served them
    # Permit-holding intervals from the log (a safe subset of each): never
    # more than 2 at once, whichever process held them.
    spans = [(r["begin"] + r["wait"] + 0.05, r["begin"] + r["dur"] - 0.1) for r in puts]
    assert max_overlap(spans) == 2, puts
    assert sum(1 for r in puts if r["wait"] > 0.3) >= 2, puts


# --------------------------------------------------------------------------
# SIGKILL of a child holding permits
# --------------------------------------------------------------------------

SLEEP_SYSCALLS = {35, 230}  # nanosleep, clock_nanosleep (x86_64)


def sleeping_children(parent: int) -> list:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            nr = (d / "syscall").read_text().split()[0]
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and nr.isdigit() and int(nr) in SLEEP_SYSCALLS:
            out.append(int(d.name))
    return out


def test_sigkilled_childs_permits_come_back():
    srv = start_gated(mpm="prefork", extra_server_conf=MANY_CHILDREN["prefork"],
                      extra_conf="StowageGate object limit=2 queue=8 wait=30s yield=off\n")
    killed = []
    try:
        client, cpath = new_container(srv)
        holders = [Held(srv, "PUT", f"{cpath}/h{i}", client.token, delay_ms=60_000)
                   for i in range(2)]
        wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == 2, what="2 in flight")
        waiter = Held(srv, "PUT", f"{cpath}/w", client.token)
        wait_for(lambda: gate_status(srv)["object-write"]["queued"] == 1, what="1 queued")
        killed = wait_for(lambda: (lambda k: k if len(k) == 2 else None)(
            sleeping_children(srv.proc.pid)), what="the two permit holders")
        t0 = time.monotonic()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        assert waiter.response().status == 201
        back_after = time.monotonic() - t0
        assert back_after < 5, back_after  # "within seconds": reclaim runs every 250 ms
        g = gate_status(srv)["object-write"]
        assert g["reclaimed"] == 2 and g["in_flight"] == 0 and g["queued"] == 0, g
        for h in holders:
            with pytest.raises(ConnectionClosed):
                h.response()
        # The gate admits up to its limit again.
        fresh = [Held(srv, "PUT", f"{cpath}/n{i}", client.token, delay_ms=300) for i in range(2)]
        assert [h.response().status for h in fresh] == [201, 201]
    finally:
        stop_after_kills(srv, killed)


def test_a_killed_childs_full_queue_does_not_shed_forever():
    # The holder's and the waiter's children are killed: the gate's only
    # permit and its only queue slot belong to dead processes, so every new
    # request finds the queue full. Shedding must look for dead owners too.
    srv = start_gated(mpm="prefork", extra_server_conf=MANY_CHILDREN["prefork"],
                      extra_conf="StowageGate object limit=1 queue=1 wait=30s yield=off\n")
    killed = []
    try:
        client, cpath = new_container(srv)
        holder = Held(srv, "PUT", f"{cpath}/h", client.token, delay_ms=60_000)
        wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == 1, what="1 in flight")
        waiter = Held(srv, "PUT", f"{cpath}/w", client.token)
        wait_for(lambda: gate_status(srv)["object-write"]["queued"] == 1, what="1 queued")
        killed = [serving_child(srv.proc.pid, h) for h in (holder, waiter)]
        assert killed[0] != killed[1], killed
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        t0, statuses = time.monotonic(), []
        while True:
            with RawConnection(srv.port) as c:
                c.send(build_request("PUT", f"{cpath}/n{len(statuses)}",
                                     [("X-Auth-Token", client.token), ("Content-Length", "1")],
                                     b"x", port=srv.port))
                statuses.append(c.read_response().status)
            if statuses[-1] != 503:
                break
            assert time.monotonic() - t0 < 5, statuses  # reclaim runs every 250 ms
            time.sleep(0.05)
        assert statuses[-1] == 201, statuses
        g = gate_status(srv)["object-write"]
        assert g["reclaimed"] == 2 and g["in_flight"] == 0 and g["queued"] == 0, g
        for h in (holder, waiter):
            with pytest.raises(ConnectionClosed):
                h.response()
    finally:
        stop_after_kills(srv, killed)


# --------------------------------------------------------------------------
# Overflow, timeout, shed PUTs, authentication first
# --------------------------------------------------------------------------

TIGHT = ("StowageGate object limit=1 queue=1 wait=30s\n"
         "StowageGate container limit=1 queue=4 wait=300ms\n")


@pytest.fixture(scope="module")
def tight():
    srv = start_gated(extra_conf=TIGHT)
    yield srv
    crashes = stop_server(srv)
    assert not crashes, "\n".join(crashes)


class FullObjectGate:
    """One PUT holds the object gate's only permit, one waits in its only
    queue slot: the next object request is shed."""

    def __init__(self, srv, delay_ms=3000):
        self.srv = srv
        self.client, self.cpath = new_container(srv)
        idle = lambda: (lambda g: g["in_flight"] == 0 and g["queued"] == 0)(  # noqa: E731
            gate_status(srv)["object-write"])
        wait_for(idle, what="an idle object gate")
        self.holder = Held(srv, "PUT", f"{self.cpath}/holder", self.client.token,
                           delay_ms=delay_ms)
        wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == 1, what="holder admitted")
        self.waiter = Held(srv, "PUT", f"{self.cpath}/waiter", self.client.token)
        wait_for(lambda: gate_status(srv)["object-write"]["queued"] == 1, what="waiter queued")

    def finish(self):
        assert self.holder.response().status == 201
        assert self.waiter.response().status == 201


def access_lines(srv, match) -> list:
    """The access-log lines `match` accepts, once there is one: Apache writes
    a request's line after its response has gone out."""
    return wait_for(lambda: [ln for ln in (srv.outdir / "access.log").read_text().splitlines()
                             if match(ln)], what="the access-log line")


def put_headers(client, extra=()):
    return [("X-Auth-Token", client.token), *extra]


def test_queue_overflow_sheds_at_once_with_retry_after(tight):
    full = FullObjectGate(tight)
    before = gate_status(tight)["object-write"]["shed"]
    t = time.monotonic()
    r = full.client.request("PUT", full.cpath.split("/")[-1] + "/shed", body=b"x")
    elapsed = time.monotonic() - t
    assert r.status == 503, r
    assert r.header("Retry-After") == "1"
    assert elapsed < 1.0, elapsed
    assert gate_status(tight)["object-write"]["shed"] == before + 1
    full.finish()


def test_reads_do_not_queue_behind_a_full_write_gate(tight):
    client, cpath = new_container(tight)
    name = cpath.split("/")[-1]
    assert client.put_object(name, "readable", b"read me").status == 201
    full = FullObjectGate(tight)
    shed_before = gate_status(tight)["object-write"]["shed"]
    read_before = gate_status(tight)["object-read"]["admitted"]
    r = client.request("GET", f"{name}/readable")
    assert r.status == 200 and r.body == b"read me", r
    assert client.request("HEAD", f"{name}/readable").status == 200
    assert gate_status(tight)["object-read"]["admitted"] == read_before + 2
    assert gate_status(tight)["object-write"]["shed"] == shed_before
    full.finish()


def test_waiting_past_the_maximum_gives_503(tight):
    client, cpath = new_container(tight)
    name = cpath.split("/")[-1]
    holder = Held(tight, "HEAD", cpath, client.token, delay_ms=2000)
    wait_for(lambda: gate_status(tight)["container"]["in_flight"] == 1, what="holder")
    before = gate_status(tight)["container"]["timed_out"]
    r = client.request("HEAD", name)
    assert r.status == 503, r
    assert r.header("Retry-After") == "1"
    assert gate_status(tight)["container"]["timed_out"] == before + 1
    holder.conn.send(b"")  # keep the connection; read the HEAD response
    assert holder.conn.read_response(head=True).status == 204
    holder.conn.close()
    # The access log's wait note shows the 300 ms spent queued.
    lines = access_lines(tight, lambda ln: f'"HEAD {cpath} ' in ln and '" 503 ' in ln)
    wait_us = int(lines[-1].split()[-2])
    assert 300_000 <= wait_us < 2_000_000, lines[-1]


def test_shed_small_put_gets_a_whole_503_then_a_clean_close(tight):
    # Apache closes every connection after a 503 (ap_status_drops_connection);
    # the small body was read before admission, so nothing is left unread.
    full = FullObjectGate(tight)
    with RawConnection(tight.port) as c:
        body = os.urandom(4096)
        r = c.request(build_request("PUT", f"{full.cpath}/small", put_headers(full.client),
                                    body, port=tight.port))
        assert r.status == 503 and r.header("Retry-After") == "1", r
        # swob's page for 503, as Swift's proxy sends it.
        assert r.body == (b"<html><h1>Service Unavailable</h1><p>The server is currently "
                          b"unavailable. Please try again at a later time.</p></html>"), r
        assert (r.header("Connection") or "").lower() == "close", r
        assert c._read_to_eof() == b""
    full.finish()
    assert full.client.request("HEAD", full.cpath.split("/")[-1] + "/small").status == 404


@pytest.mark.parametrize("framing", ["length", "chunked", "expect-100"])
def test_shed_big_put_answers_503_and_closes(tight, framing):
    full = FullObjectGate(tight)
    hdrs = put_headers(full.client)
    if framing == "chunked":
        hdrs.append(("Transfer-Encoding", "chunked"))
        first = chunked([b"x" * 65536])[:-5]  # one chunk, no last-chunk yet
    else:
        hdrs.append(("Content-Length", str(8 << 20)))
        first = b"x" * 65536
        if framing == "expect-100":
            hdrs.append(("Expect", "100-continue"))
            first = b""
    with RawConnection(tight.port) as c:
        c.send(build_request("PUT", f"{full.cpath}/big", hdrs, port=tight.port) + first)
        r = c.read_response(skip_interim=False)
        assert r.status == 503 and r.header("Retry-After") == "1", r
        assert (r.header("Connection") or "").lower() == "close", r
        # Nothing more comes: the server closed the connection cleanly.
        assert c._read_to_eof() == b""
    full.finish()
    assert full.client.request("HEAD", full.cpath.split("/")[-1] + "/big").status == 404


def test_unauthenticated_requests_take_no_permit(tight):
    full = FullObjectGate(tight)
    r = full.client.request("PUT", full.cpath.split("/")[-1] + "/anon", body=b"x",
                            token="AUTH_tk_not_a_token")
    assert r.status == 401, r
    full.finish()


def test_wait_note_is_in_the_access_log(tight):
    client, cpath = new_container(tight)
    client.put_object(cpath.split("/")[-1], "noted", b"data")
    line = access_lines(tight, lambda ln: f'"PUT {cpath}/noted ' in ln)[-1]
    assert line.split()[-2].isdigit(), line


# --------------------------------------------------------------------------
# A client trickling a large body is cut off and gives its permit back
# --------------------------------------------------------------------------

def test_trickled_large_upload_is_cut_and_frees_its_permit(gated):
    # The generated config says body=20,MinRate=500; a shorter first
    # deadline here keeps the test quick. A body over 64 KiB is not read
    # before admission, so the trickling client holds the write permit.
    srv = gated(extra_conf="StowageGate object-write limit=1 queue=4 wait=60s\n",
                extra_server_conf="RequestReadTimeout body=2,MinRate=500\n")
    client, cpath = new_container(srv)
    name = cpath.split("/")[-1]
    hdrs = [("X-Auth-Token", client.token), ("Content-Length", str(1 << 20))]
    with RawConnection(srv.port, timeout=120) as c:
        c.send(build_request("PUT", f"{cpath}/slow", hdrs, port=srv.port) + b"x" * 100)
        wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == 1,
                 what="the trickler admitted")
        for _ in range(240):  # one byte every 0.25 s: far below 500 bytes/s
            try:
                c.send(b"x")
                time.sleep(0.25)
            except OSError:  # the server closed the connection
                break
            if gate_status(srv)["object-write"]["in_flight"] == 0:
                break
        else:
            pytest.fail("a trickled body was never cut off")
        # Swift answers a client_timeout with 408; the connection then closes.
        r = c.read_response()
        assert r.status == 408, r
        assert (r.header("Connection") or "").lower() == "close", r
    wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == 0, what="permit back")
    assert client.request("HEAD", f"{name}/slow").status == 404
    assert client.listing(name) == []
    assert wait_for(lambda: tmp_files(srv) == [], what="no staging files") is True
    # The permit is free again: the next PUT is admitted at once.
    assert client.put_object(name, "next", b"after").status == 201
