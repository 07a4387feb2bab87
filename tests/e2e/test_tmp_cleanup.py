"""Failed PUTs (ETag mismatch, a client that disconnects mid-body, a body
shorter than its Content-Length, a truncated chunked body) leave no trace:
no object by HEAD or listing, container and account counts unchanged, no
staging file in <data>/tmp/ and no write intent in <data>/intents/."""

import os
import time

import pytest

from harness import RawConnection, build_request, data_files, md5hex, raw_request

pytestmark = pytest.mark.apache


def _leftovers(server):
    found = []
    for sub in ("tmp", "intents"):
        d = server.datadir / sub
        if d.exists():
            found += [f"{sub}/{f}" for f in data_files(d)]
    return found


def _wait_no_leftovers(server, timeout=10.0):
    """The server may still be finishing the aborted request."""
    deadline = time.monotonic() + timeout
    left = _leftovers(server)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = _leftovers(server)
    return left


def _counts(swift, container):
    c = swift.request("HEAD", container)
    a = swift.request("HEAD", "")
    assert c.status == 204 and a.status == 204, (c, a)
    return (c.header("X-Container-Object-Count"), c.header("X-Container-Bytes-Used"),
            a.header("X-Account-Object-Count"), a.header("X-Account-Bytes-Used"))


def _assert_no_trace(server, swift, container, names, counts_before):
    assert _wait_no_leftovers(server) == []
    for name in names:
        assert swift.request("HEAD", f"{container}/{name}").status == 404, name
    assert swift.listing(container) == []
    assert _counts(swift, container) == counts_before
    r = raw_request(server.port, build_request("GET", "/healthcheck", port=server.port))
    assert r.status == 200, "the server stopped serving"


def _put_and_drop(server, swift, name, headers, body):
    """Send a PUT's head and part of its body, then close the connection."""
    req = build_request("PUT", swift.path(name), [("X-Auth-Token", swift.token), *headers],
                        port=server.port)
    with RawConnection(server.port) as c:
        c.send(req + body)
        time.sleep(0.3)


def test_etag_mismatch(server, swift, container):
    before = _counts(swift, container)
    for i in range(5):
        r = swift.request("PUT", f"{container}/e{i}", {"ETag": md5hex(b"x")}, body=os.urandom(50_000))
        assert r.status == 422, r
    _assert_no_trace(server, swift, container, [f"e{i}" for i in range(5)], before)


def test_disconnect_mid_body(server, swift, container):
    before = _counts(swift, container)
    for i in range(3):
        _put_and_drop(server, swift, f"{container}/cut{i}",
                      [("Content-Length", str(4 << 20))], os.urandom(300_000))
    _assert_no_trace(server, swift, container, [f"cut{i}" for i in range(3)], before)


def test_body_shorter_than_content_length(server, swift, container):
    before = _counts(swift, container)
    _put_and_drop(server, swift, f"{container}/short", [("Content-Length", "100000")], b"b" * 1000)
    _assert_no_trace(server, swift, container, ["short"], before)


def test_chunked_disconnect_mid_chunk(server, swift, container):
    before = _counts(swift, container)
    _put_and_drop(server, swift, f"{container}/cutc", [("Transfer-Encoding", "chunked")],
                  b"10000\r\n" + os.urandom(0x10000) + b"\r\n" + b"10000\r\n" + os.urandom(1000))
    _assert_no_trace(server, swift, container, ["cutc"], before)


def test_truncated_chunked_body(server, swift, container):
    """A small truncated body: read before admission, still no object."""
    before = _counts(swift, container)
    _put_and_drop(server, swift, f"{container}/trunc", [("Transfer-Encoding", "chunked")],
                  b"100\r\n" + b"a" * 100)
    _assert_no_trace(server, swift, container, ["trunc"], before)


def test_no_leftovers_after_success(server, swift, container):
    swift.put_object(container, "fine", os.urandom(100_000))
    assert _wait_no_leftovers(server) == []
