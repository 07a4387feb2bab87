"""Malformed requests get a 4xx or a closed connection, never a crash, and
the server keeps serving. Plus a smoke test under both MPMs. (Malformed
requests with an exact status: the table in test_hostile_input.py.)"""

import os
import socket

import pytest

from harness import (ConnectionClosed, RawConnection, SwiftClient, build_request, chunked,
                     md5hex, raw_request, unique)


def _send_bad(port, data: bytes, close_write: bool = False, timeout: float = 20):
    """Send bytes; return the response status, or None if the server closed
    the connection without answering."""
    with RawConnection(port, timeout=timeout) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            return None
        if close_write:
            c.shutdown_write()
        try:
            return c.read_response().status
        except ConnectionClosed:
            return None
        except (ConnectionResetError, socket.timeout) as e:
            if isinstance(e, socket.timeout):
                raise AssertionError("server neither answered nor closed within the timeout")
            return None


def _still_serving(server):
    r = raw_request(server.port, build_request("GET", "/healthcheck", port=server.port))
    assert r.status == 200 and r.body == b"OK", r


def _assert_4xx_or_closed(status):
    assert status is None or 400 <= status < 500, status


def test_garbage_request_line(server):
    for junk in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\xff\xfe\r\n\r\n",
                 b"GET\r\n\r\n", b"GET / FOO/1.1\r\n\r\n", b"G\x01T / HTTP/1.1\r\n\r\n"):
        _assert_4xx_or_closed(_send_bad(server.port, junk, close_write=True))
        _still_serving(server)
    # an unsupported version may also get 505
    status = _send_bad(server.port, b"GET / HTTP/9.9\r\n\r\n", close_write=True)
    assert status is None or 400 <= status < 500 or status == 505, status
    _still_serving(server)


def test_huge_header_line(server, swift):
    req = build_request("GET", swift.path(), [("X-Auth-Token", swift.token),
                                              ("X-Huge", "h" * 200_000)], port=server.port)
    _assert_4xx_or_closed(_send_bad(server.port, req))
    _still_serving(server)


def test_huge_request_line(server, swift):
    req = build_request("GET", swift.path() + "/" + "p" * 100_000, [("X-Auth-Token", swift.token)],
                        port=server.port)
    _assert_4xx_or_closed(_send_bad(server.port, req))
    _still_serving(server)


def test_many_connections_opened_and_dropped(server):
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(50)]
    for i, s in enumerate(socks):
        if i % 2:
            s.sendall(b"GET /heal")
        s.close()
    _still_serving(server)


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_mpm_smoke(server_factory, mpm):
    srv = server_factory(mpm=mpm)
    s = SwiftClient(srv)
    c = unique("smoke")
    assert s.request("PUT", c).status == 201
    data = os.urandom(300_001)
    r = raw_request(srv.port, build_request(
        "PUT", s.path(f"{c}/chunked"), [("X-Auth-Token", s.token), ("Transfer-Encoding", "chunked")],
        body=chunked([data[:1], data[1:77777], data[77777:]]), port=srv.port))
    assert r.status == 201, r
    g = s.request("GET", f"{c}/chunked")
    assert g.status == 200 and g.body == data and g.header("ETag") == md5hex(data)
    g = s.request("GET", f"{c}/chunked", {"Range": "bytes=10-19"})
    assert g.status == 206 and g.body == data[10:20]
    assert [x["name"] for x in s.listing(c)] == ["chunked"]
    _assert_4xx_or_closed(_send_bad(srv.port, b"GARBAGE\r\n\r\n", close_write=True))
    _assert_4xx_or_closed(_send_bad(srv.port, build_request(
        "PUT", s.path(f"{c}/bad"), [("X-Auth-Token", s.token), ("Transfer-Encoding", "chunked")],
        port=srv.port) + b"zz\r\n"))
    _still_serving(srv)
    assert s.request("DELETE", f"{c}/chunked").status == 204
    assert s.request("DELETE", c).status == 204
    assert not srv.crash_lines()
