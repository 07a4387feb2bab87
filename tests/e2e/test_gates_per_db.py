"""Container gates per database end to end: a container whose gate is busy
does not make another container's requests wait or be shed (unless both
hash to the same lane), and `scope=vhost` makes it one gate again.

Permits are held with the test-hooks build (X-Stowage-Test-Delay-Ms)."""

from __future__ import annotations

import time

import pytest

from gates_support import Held, gate_status, start_gated, stop_server, wait_for
from harness import unique

pytestmark = pytest.mark.apache

DB_LANES = 16  # src/gate/mod.rs
GATE = "StowageGate container limit=1 queue=0 wait=300ms"


def lane(account: str, container: str) -> int:
    """The lane of a container's gate: FNV-1a of "account/container"
    (src/gate/admission.rs), modulo the lanes."""
    h = 0xCBF29CE484222325
    for b in f"{account}/{container}".encode():
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return h % DB_LANES


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
    scope = "" if request.param == "db" else " scope=vhost"  # db is the default
    srv = start_gated(extra_conf=GATE + scope + "\n")
    srv.scope = request.param
    yield srv
    crashes = stop_server(srv)
    assert not crashes, "\n".join(crashes)


def test_a_busy_container_leaves_the_others_alone_per_db(scoped):
    client = scoped.client()
    account = client.account_path.rsplit("/", 1)[-1]
    hot, (neighbour,), (cold,) = names_by_lane(account, 1, 1)
    for n in (hot, neighbour, cold):
        assert client.put_container(n).status in (201, 202)
    assert gate_status(scoped)["container"]["scope"] == scoped.scope
    holder = Held(scoped, "HEAD", f"{client.account_path}/{hot}", client.token, delay_ms=3000)
    wait_for(lambda: gate_status(scoped)["container"]["in_flight"] == 1, what="holder")
    shed = gate_status(scoped)["container"]["shed"]

    t = time.monotonic()
    r = client.request("HEAD", cold)
    cold_secs = time.monotonic() - t
    same_lane = client.request("HEAD", neighbour)
    again = client.request("HEAD", hot)

    if scoped.scope == "db":
        assert r.status == 204, r
        assert cold_secs < 2.0, cold_secs  # it did not wait for the holder's 3 s
        expected_shed = 2  # the neighbour (same lane) and the hot one
    else:
        assert r.status == 503 and r.header("Retry-After") == "1", r
        expected_shed = 3
    assert same_lane.status == 503 and again.status == 503, (same_lane, again)
    assert gate_status(scoped)["container"]["shed"] == shed + expected_shed

    holder.conn.send(b"")
    assert holder.conn.read_response(head=True).status == 204
    holder.conn.close()
    wait_for(lambda: gate_status(scoped)["container"]["in_flight"] == 0, what="holder done")
    assert client.request("HEAD", neighbour).status == 204


def test_status_sums_the_lanes(scoped):
    client = scoped.client()
    before = gate_status(scoped)["container"]["admitted"]
    names = [unique("sum") for _ in range(6)]
    for n in names:
        assert client.put_container(n).status in (201, 202)
        assert client.request("HEAD", n).status == 204
    g = gate_status(scoped)["container"]
    assert g["admitted"] == before + 12, g
    assert (g["in_flight"], g["queued"]) == (0, 0), g
