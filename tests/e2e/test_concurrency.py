"""Concurrent writers from many connections (so many Apache workers):
counters stay exact and an object is always one whole version."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import md5hex

pytestmark = pytest.mark.beyond_brief


def test_parallel_puts_exact_counts(server, swift, container):
    names = [f"par-{i:04d}" for i in range(400)]
    sizes = {n: (i * 37) % 1000 for i, n in enumerate(names)}

    def put(n):
        r = swift.request("PUT", f"{container}/{n}", body=b"p" * sizes[n])
        return r.status

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(put, names))
    assert set(statuses) == {201}, sorted(set(statuses))
    h = swift.request("HEAD", container)
    assert h.header("X-Container-Object-Count") == "400"
    assert h.header("X-Container-Bytes-Used") == str(sum(sizes.values()))
    rows = swift.listing(container)
    assert [(x["name"], x["bytes"]) for x in rows] == [(n, sizes[n]) for n in names]

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda n: swift.request("DELETE", f"{container}/{n}").status, names))
    assert set(statuses) == {204}
    h = swift.request("HEAD", container)
    assert (h.header("X-Container-Object-Count"), h.header("X-Container-Bytes-Used")) == ("0", "0")


def test_parallel_overwrites_one_object(server, swift, container):
    versions = [os.urandom(20_000 + i * 101) for i in range(24)]
    by_etag = {md5hex(v): v for v in versions}

    def put(v):
        return swift.request("PUT", f"{container}/hot", body=v).status

    def get(_):
        r = swift.request("GET", f"{container}/hot")
        if r.status == 404:
            return True
        return r.status == 200 and by_etag.get(r.header("ETag")) == r.body

    with ThreadPoolExecutor(max_workers=12) as pool:
        puts = [pool.submit(put, v) for v in versions]
        gets = [pool.submit(get, i) for i in range(48)]
        statuses = [f.result() for f in puts]
        # Swift: a PUT whose timestamp is not newer than the stored one
        # (e.g. the same 10-us X-Timestamp) is answered 202 and not stored.
        assert set(statuses) <= {201, 202}, statuses
        assert 201 in statuses
        assert all(f.result() for f in gets), "a GET saw a body that is not one whole version"
    g = swift.request("GET", f"{container}/hot")
    assert g.body == by_etag[g.header("ETag")]
    rows = swift.listing(container)
    assert len(rows) == 1
    assert rows[0]["hash"] == g.header("ETag") and rows[0]["bytes"] == len(g.body)
    h = swift.request("HEAD", container)
    assert (h.header("X-Container-Object-Count"), h.header("X-Container-Bytes-Used")) == ("1", str(len(g.body)))
