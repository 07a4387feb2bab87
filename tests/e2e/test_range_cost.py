"""Range GETs of a large object do not amplify into whole-object reads
(issue 17, item 1): however many tiny ranges arrive at once, the node hashes
the object once (a debug line per hash counts them), every range gets its
byte, and GETs of other objects meanwhile neither wait for those hashes nor
get 503. A corrupt object is still never served: every range is 404, and it
is hashed and quarantined once."""

import http.client
import os
import threading
import time
from pathlib import Path

import pytest

from harness import HOST, md5hex

pytestmark = [pytest.mark.apache, pytest.mark.serial]

BIG = 48 << 20  # well above the 8 MiB verify-first limit
VERIFIED = "verified object /AUTH_test/pub/big"


def data_file(srv, container, name) -> Path:
    files = sorted(srv.object_dir(container, name).glob("*.data"))
    assert len(files) == 1, files
    return files[0]


def public_objects(srv, big: bytes):
    swift = srv.client()
    assert swift.request("PUT", "pub", {"X-Container-Read": ".r:*"}).status == 201
    swift.put_object("pub", "big", big)
    swift.put_object("pub", "small", b"s" * 4096)


def anonymous_get(port, path, headers=None, timeout=60.0):
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def burst(port, n, path, headers, probe_path):
    """`n` GETs of `path` released at once, from `n` connections, while one
    more client GETs `probe_path` every 50 ms until they are all answered.
    Returns (their (status, body) list, the probes' (status, seconds))."""
    results = [None] * n
    start = threading.Barrier(n + 1)

    def one(i):
        start.wait(timeout=30)
        try:
            results[i] = anonymous_get(port, path, headers)
        except OSError as e:  # reported as a failed request below
            results[i] = (0, repr(e).encode())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    start.wait(timeout=30)
    probes = []
    deadline = time.monotonic() + 120
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        t0 = time.monotonic()
        status, _ = anonymous_get(port, probe_path)
        probes.append((status, time.monotonic() - t0))
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()))
    return results, probes


@pytest.mark.parametrize("mpm,n", [("event", 140), ("prefork", 28)])
def test_concurrent_tiny_ranges_hash_the_object_once(server_factory, mpm, n):
    srv = server_factory(mpm=mpm, loglevel="warn stowage:debug")
    big = os.urandom(BIG)
    public_objects(srv, big)
    log_from = srv.error_log_size()

    results, probes = burst(srv.port, n, "/v1/AUTH_test/pub/big",
                            {"Range": "bytes=0-0"}, "/v1/AUTH_test/pub/small")

    assert all(r == (206, big[:1]) for r in results), \
        sorted({(s, b[:80]) for s, b in results})
    assert probes, "the burst ended before the first probe"
    assert all(s == 200 for s, _ in probes), probes
    # Without the fix every range hashed all 48 MiB: 140 of them kept the
    # read gate full for seconds and the probes waited behind them.
    assert max(t for _, t in probes) < 3.0, probes
    log = srv.read_error_log(log_from)
    assert log.count(VERIFIED) == 1, [l for l in log.splitlines() if "verified" in l]


def test_a_range_of_a_large_object_costs_its_bytes_once_verified(server_factory):
    srv = server_factory(loglevel="warn stowage:debug")
    big = os.urandom(BIG)
    public_objects(srv, big)
    log_from = srv.error_log_size()
    for start in (0, BIG // 2, BIG - 10):
        status, body = anonymous_get(srv.port, "/v1/AUTH_test/pub/big",
                                     {"Range": f"bytes={start}-{start + 9}"})
        assert (status, body) == (206, big[start:start + 10])
    # A whole GET afterwards goes out at once (no second hash either).
    status, body = anonymous_get(srv.port, "/v1/AUTH_test/pub/big")
    assert status == 200 and md5hex(body) == md5hex(big)
    assert srv.read_error_log(log_from).count(VERIFIED) == 1


def test_concurrent_ranges_of_a_corrupt_large_object(server_factory):
    srv = server_factory(loglevel="warn stowage:debug")
    big = os.urandom(BIG)
    public_objects(srv, big)
    data = data_file(srv, "pub", "big")
    with open(data, "r+b") as f:  # one bit of the object's last bytes
        f.seek(BIG - 100)
        b = f.read(1)
        f.seek(BIG - 100)
        f.write(bytes([b[0] ^ 1]))
    log_from = srv.error_log_size()

    results, probes = burst(srv.port, 20, "/v1/AUTH_test/pub/big",
                            {"Range": "bytes=0-0"}, "/v1/AUTH_test/pub/small")

    assert [s for s, _ in results] == [404] * 20, results
    assert not any(big[:1] == b for _, b in results)
    log = srv.read_error_log(log_from)
    assert log.count("quarantined object /AUTH_test/pub/big") == 1, log
    assert log.count(VERIFIED) == 1, log
    assert (srv.datadir / "quarantined" / "objects" / data.parent.name / data.name).exists()
    assert all(s == 200 for s, _ in probes), probes
    assert anonymous_get(srv.port, "/v1/AUTH_test/pub/big")[0] == 404
