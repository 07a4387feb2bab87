"""Slow clients cannot starve Apache's workers (issue 17, item 4).

A client that sends its request body slowly holds the worker reading it.
Two defences, each shown here against a server with a deliberately small
pool (32 workers) so that the attack, were it not bounded, would starve it:

- a body Stowage does not need is not waited for: after an early refusal
  (the library's 401, or Apache's own, before the handler) the connection
  closes instead of Apache reading the rest at the client's pace; 100
  unauthenticated PUTs trickling 300 bytes every 0.5 s of a 60,000-byte
  body used to hold every worker until the body was in (minutes);
- a body Stowage does read (an authenticated upload) must be complete
  within RequestReadTimeout's body maximum, however steadily it trickles.

Each attack runs on raw sockets from one thread, bounded in connections
and time; the starved request is an authenticated HEAD of a real object.
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import threading
import time
from pathlib import Path

import pytest

from gates_support import gate_status, wait_for
from harness import HOST, build_request, tmp_files, unique

pytestmark = [pytest.mark.apache, pytest.mark.serial]

# One child of 32 threads: fewer workers than tricklers.
SMALL_POOL = """
ServerLimit 1
StartServers 1
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
"""

TRICKLE = b"x" * 300        # sent every TRICKLE_EVERY seconds: 600 bytes/s,
TRICKLE_EVERY = 0.5         # above RequestReadTimeout's MinRate of 500


class Tricklers:
    """`count` connections, each sending a request head and then its body
    300 bytes every 0.5 s from one thread. With `replace`, a connection the
    server ended is replaced by a new one (at most `count` * 10 in all), so
    `count` keep trickling for as long as the attack runs. It stops by
    itself after `max_seconds`. The first bytes each connection received
    are kept."""

    def __init__(self, port: int, count: int, request_head, max_seconds: float = 30.0,
                 replace: bool = True):
        self.port = port
        self.count = count
        self.replace = replace
        self.request_head = request_head   # i -> bytes
        self.deadline = time.monotonic() + max_seconds
        self.budget = count * 10
        self.opened = 0
        self.live: dict = {}               # socket -> (index, opened at)
        self.answers: list = []            # (index, seconds after opening, first bytes)
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        for _ in range(self.count):
            self._open()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        with self.lock:
            for s in list(self.live):
                s.close()
            self.live.clear()

    def _open(self):
        if self.opened >= self.budget:
            return
        i = self.opened
        self.opened += 1
        s = socket.create_connection((HOST, self.port), timeout=5)
        s.setblocking(False)
        try:
            s.send(self.request_head(i) + TRICKLE)
        except BlockingIOError:
            pass
        with self.lock:
            self.live[s] = (i, time.monotonic(), b"")

    def _drop(self, s):
        with self.lock:
            i, opened, got = self.live.pop(s)
            if got:
                self.answers.append((i, time.monotonic() - opened, got))
        s.close()

    def _run(self):
        while not self.stop_event.is_set() and time.monotonic() < self.deadline:
            # Collect what the server answered, without waiting.
            readable, _, _ = select.select(list(self.live), [], [], 0)
            for s in readable:
                try:
                    chunk = s.recv(4096)
                except OSError:
                    chunk = b""
                i, opened, got = self.live[s]
                if chunk and len(got) < 4096:
                    with self.lock:
                        self.live[s] = (i, opened, got + chunk)
                if not chunk:
                    self._drop(s)
            for s in list(self.live):
                try:
                    s.send(TRICKLE)
                except BlockingIOError:
                    pass
                except OSError:         # reset: the server has let go
                    self._drop(s)
            while self.replace and len(self.live) < self.count and self.opened < self.budget:
                self._open()
            self.stop_event.wait(TRICKLE_EVERY)

    def answered(self) -> list:
        """(index, seconds, first bytes) of every connection that got an
        answer, the ones still open included."""
        now = time.monotonic()
        with self.lock:
            return self.answers + [(i, now - t, got) for i, t, got in self.live.values() if got]


def head_time(client, path: str) -> float:
    """Seconds an authenticated HEAD of `path` takes on a new connection
    (a starved one fails after 5 s)."""
    conn = http.client.HTTPConnection(HOST, client.server.port, timeout=5)
    t = time.monotonic()
    try:
        conn.request("HEAD", client.path(path), headers={"X-Auth-Token": client.token})
        status = conn.getresponse().status
    except OSError as e:
        pytest.fail(f"HEAD not answered within 5 s while clients trickle: {e!r}")
    finally:
        conn.close()
    assert status == 200, status
    return time.monotonic() - t


def probe_while(attack: Tricklers, client, path: str, seconds: float) -> list:
    """HEADs `path` every 0.2 s for `seconds` while `attack` runs; each must
    be answered in under a second."""
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert attack.thread.is_alive(), "the attack stopped early"
        times.append(head_time(client, path))
        assert times[-1] < 1.0, f"HEAD took {times[-1]:.2f} s while {attack.count} clients trickle"
        time.sleep(0.2)
    return times


LOCKED = "/v1/AUTH_locked"


def locked_location(ctx) -> str:
    """A location where Apache itself answers 401 (mod_auth_basic) before
    Stowage's handler runs."""
    htpasswd = Path(ctx.tmp) / "htpasswd"
    htpasswd.write_text("")
    htpasswd.chmod(0o644)
    return f"""
<Location "{LOCKED}">
    AuthType Basic
    AuthName "locked"
    AuthBasicProvider file
    AuthUserFile "{htpasswd}"
    Require valid-user
</Location>
"""


@pytest.mark.parametrize("refused_by", ["stowage", "apache"])
def test_refused_trickled_bodies_do_not_hold_workers(server_factory, refused_by):
    srv = server_factory(extra_server_conf=SMALL_POOL,
                         extra_conf=locked_location if refused_by == "apache" else None)
    client = srv.client()
    name = unique("slow")
    client.put_container(name)
    client.put_object(name, "o", b"hello")
    prefix = f"{LOCKED}/c" if refused_by == "apache" else client.path(name)

    def head(i):  # no credentials: 401 before any body is read
        return build_request("PUT", f"{prefix}/t{i}", [("Content-Length", "60000")],
                             port=srv.port)

    with Tricklers(srv.port, 100, head) as attack:
        time.sleep(1.0)  # every trickler connected and refused by now
        times = probe_while(attack, client, f"{name}/o", 3.0)
        answered = attack.answered()
    # Each trickler was refused at once and told the connection closes
    # (nothing waits for the rest of its body).
    assert len(answered) >= 100, f"only {len(answered)} of the tricklers got an answer"
    for i, after, got in answered:
        head_block = got.split(b"\r\n\r\n")[0].lower()
        assert head_block.startswith(b"http/1.1 401 "), got[:200]
        assert b"\r\nconnection: close" in head_block, got[:300]
    assert max(times) < 1.0


def test_authenticated_trickled_uploads_are_cut_at_the_body_bound(server_factory):
    # Bodies over 64 KiB are read after admission: each trickler holds a
    # worker and an object-write permit. It trickles faster than MinRate,
    # so only the body maximum (4 s here; the generated config's is 600 s)
    # ends it.
    srv = server_factory(extra_server_conf=SMALL_POOL +
                         "RequestReadTimeout body=2-4,MinRate=500\n")
    client = srv.client()
    name = unique("slow")
    client.put_container(name)
    client.put_object(name, "o", b"hello")
    count = 12

    def head(i):
        return build_request("PUT", client.path(f"{name}/t{i}"),
                             [("X-Auth-Token", client.token), ("Content-Length", str(1 << 20))],
                             port=srv.port)

    started = time.monotonic()
    with Tricklers(srv.port, count, head, max_seconds=20, replace=False) as attack:
        wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == count, timeout=5,
                 what="every trickler admitted")
        probe_while(attack, client, f"{name}/o", 1.0)
        wait_for(lambda: len(attack.answered()) >= count, timeout=10,
                 what="every trickled upload answered")
        answered = attack.answered()
    cut_after = time.monotonic() - started
    assert len(answered) == count, answered
    for i, after, got in answered:
        head_block = got.split(b"\r\n\r\n")[0].lower()
        assert head_block.startswith(b"http/1.1 408 "), got[:200]
        assert b"\r\nconnection: close" in head_block, got[:300]
        # MinRate alone would have let it run on (it kept up 600 bytes/s);
        # the 4 s maximum cut it.
        assert 3.0 <= after <= 7.0, f"upload {i} cut after {after:.1f} s"
    assert cut_after < 12, cut_after
    wait_for(lambda: gate_status(srv)["object-write"]["in_flight"] == 0, what="permits back")
    assert [o["name"] for o in client.listing(name)] == ["o"]
    assert wait_for(lambda: tmp_files(srv) == [], what="no staging files") is True
    # Workers and permits are free again.
    assert client.put_object(name, "after", b"x").status == 201


def test_generated_config_bounds_every_body(server):
    conf = Path(server.conf).read_text()
    line = next(ln for ln in conf.splitlines() if ln.startswith("RequestReadTimeout"))
    body = re.search(r"\bbody=(\d+)-(\d+),MinRate=(\d+)", line)
    assert body, f"no maximum for a request body: {line}"
    assert int(body.group(2)) > int(body.group(1))
