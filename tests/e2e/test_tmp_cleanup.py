"""Failed PUTs leave no staging files behind in <data>/tmp/."""

import os
import time

import pytest

from harness import RawConnection, build_request, md5hex, tmp_files

pytestmark = pytest.mark.apache


def _wait_no_tmp(server, timeout=10.0):
    deadline = time.monotonic() + timeout
    left = tmp_files(server)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = tmp_files(server)
    return left


def test_no_tmp_after_etag_mismatch(server, swift, container):
    for i in range(5):
        r = swift.request("PUT", f"{container}/e{i}", {"ETag": md5hex(b"x")}, body=os.urandom(50_000))
        assert r.status == 422, r
    assert _wait_no_tmp(server) == []


def test_no_tmp_after_disconnect_mid_body(server, swift, container):
    for i in range(3):
        req = build_request("PUT", swift.path(f"{container}/cut{i}"),
                            [("X-Auth-Token", swift.token), ("Content-Length", str(4 << 20))],
                            port=server.port)
        with RawConnection(server.port) as c:
            c.send(req + os.urandom(300_000))
            time.sleep(0.3)
    assert _wait_no_tmp(server) == []
    assert swift.listing(container) == []


def test_no_tmp_after_chunked_disconnect(server, swift, container):
    req = build_request("PUT", swift.path(f"{container}/cutc"),
                        [("X-Auth-Token", swift.token), ("Transfer-Encoding", "chunked")],
                        port=server.port)
    with RawConnection(server.port) as c:
        c.send(req + b"10000\r\n" + os.urandom(0x10000) + b"\r\n" + b"10000\r\n" + os.urandom(1000))
        time.sleep(0.3)
    assert _wait_no_tmp(server) == []
    assert swift.listing(container) == []


def test_no_tmp_after_success(server, swift, container):
    swift.put_object(container, "fine", os.urandom(100_000))
    assert _wait_no_tmp(server) == []
