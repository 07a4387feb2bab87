"""Container gates with a queue per database, end to end: a container whose
queue is full sheds only its own requests (and those of containers that
hash to the same lane), another container's requests queue on their own
and get their turn before the busy one's backlog; `scope=vhost` makes it
one FIFO queue again, shed as a whole.

Permits are held with the test-hooks build (X-Stowage-Test-Delay-Ms)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gates_support import Held, gate_status, start_gated, stop_server, wait_for
from harness import unique

pytestmark = [pytest.mark.apache, pytest.mark.serial]

LANES = 64  # src/gate/table.rs
# One permit for all the vhost's containers; three may queue per database
# (scope=db, the default) or in all (scope=vhost).
GATE = "StowageGate container limit=1 queue=3 wait=20s"
HOLD_MS = 700


def lane(account: str, container: str) -> int:
    """The lane of a container's queue: FNV-1a of "account/container"
    (src/gate/admission.rs), modulo the lanes."""
    h = 0xCBF29CE484222325
    for b in f"{account}/{container}".encode():
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return h % LANES


def names_by_lane(account: str, want_same: int, want_other: int):
    """A hot container name, `want_same` more in its lane, `want_other` in
    other lanes."""
    hot = unique("hot")
    same, other = [], []
    i = 0
    while len(same) < want_same or len(other) < want_other:
        n = f"{hot}-{i}"
        i += 1
        (same if lane(account, n) == lane(account, hot) else other).append(n)
    return hot, same[:want_same], other[:want_other]


@pytest.fixture(scope="module", params=["db", "vhost"])
def scoped(request):
    scope = {"db": "",  # the default
             "vhost": " scope=vhost"}[request.param]
    srv = start_gated(extra_conf=GATE + scope + "\n")
    srv.scope = request.param
    yield srv
    crashes = stop_server(srv)
    assert not crashes, "\n".join(crashes)


def finish(held) -> tuple:
    """(status, when) of a held HEAD once it answers."""
    held.conn.send(b"")
    r = held.conn.read_response(head=True)
    held.conn.close()
    return r.status, time.monotonic()


def test_a_busy_container_sheds_and_delays_only_itself_per_db(scoped):
    client = scoped.client()
    account = client.account_path.rsplit("/", 1)[-1]
    hot, (neighbour,), (cold,) = names_by_lane(account, 1, 1)
    for n in (hot, neighbour, cold):
        assert client.put_container(n).status in (201, 202)
    g = lambda: gate_status(scoped)["container"]  # noqa: E731
    assert g()["queue_per"] == scoped.scope
    path = lambda n: f"{client.account_path}/{n}"  # noqa: E731
    holder = Held(scoped, "HEAD", path(hot), client.token, delay_ms=HOLD_MS)
    wait_for(lambda: g()["in_flight"] == 1, what="holder")
    backlog = []
    for i in range(3):
        backlog.append(Held(scoped, "HEAD", path(hot), client.token, delay_ms=HOLD_MS))
        wait_for(lambda: g()["queued"] == i + 1, what=f"hot waiter {i}")
    shed = g()["shed"]
    # The hot container's queue is full: its next request is shed at once,
    # and so is one of a container in the same lane.
    assert client.request("HEAD", hot).status == 503
    if scoped.scope == "db":
        assert client.request("HEAD", neighbour).status == 503
        cold_req = Held(scoped, "HEAD", path(cold), client.token)
        wait_for(lambda: g()["queued"] == 4, what="the cold request queued")
        assert g()["shed"] == shed + 2
        # Lanes take turns: the cold request runs before the hot backlog's
        # last, though it came after all of it.
        with ThreadPoolExecutor(5) as pool:
            futures = [pool.submit(finish, h) for h in [holder, *backlog, cold_req]]
            *results, (cold_status, cold_done) = [f.result(timeout=60) for f in futures]
        assert cold_status == 204
        assert all(st == 204 for st, _ in results), results
        assert cold_done < results[-1][1], (cold_done, results)
    else:
        # One queue for all: full, so the cold container is shed too.
        assert client.request("HEAD", cold).status == 503
        assert g()["shed"] == shed + 2
        results = [finish(h) for h in [holder, *backlog]]
        assert all(st == 204 for st, _ in results), results
    wait_for(lambda: g()["in_flight"] == 0 and g()["queued"] == 0, what="an idle gate")
    assert client.request("HEAD", neighbour).status == 204
