"""Object PUT with Transfer-Encoding: chunked over a raw socket."""

import os

from harness import RawConnection, build_request, chunked, md5hex, quote, raw_request, unique


def test_chunked_put_uneven_chunks(server, swift, container):
    sizes = [1, 2, 3, 4095, 4096, 4097, 65535, 65536, 65537, 7, 100003, 13]
    pieces = [os.urandom(n) for n in sizes]
    data = b"".join(pieces)
    name = unique("chunked")
    req = build_request("PUT", swift.path(f"{container}/{name}"),
                        [("X-Auth-Token", swift.token),
                         ("Transfer-Encoding", "chunked"),
                         ("Content-Type", "application/x-chunky")],
                        body=chunked(pieces), port=server.port)
    r = raw_request(server.port, req)
    assert r.status == 201, r
    assert r.header("ETag").strip('"') == md5hex(data)

    g = swift.request("GET", f"{container}/{name}")
    assert g.status == 200, g
    assert g.body == data
    assert g.header("ETag") == md5hex(data)
    assert int(g.header("Content-Length")) == len(data)
    assert g.header("Content-Type") == "application/x-chunky"

    rows = swift.listing(container)
    assert [(x["name"], x["bytes"], x["hash"]) for x in rows] == [(name, len(data), md5hex(data))]


def test_chunked_put_trickled_with_extensions_and_trailer(server, swift, container):
    """Chunks sent in separate writes, with chunk extensions and a trailer."""
    pieces = [b"hello ", b"chunked ", b"w", b"orld" * 1000]
    data = b"".join(pieces)
    head = build_request("PUT", swift.path(f"{container}/trickle"),
                         [("X-Auth-Token", swift.token), ("Transfer-Encoding", "chunked")],
                         port=server.port)
    with RawConnection(server.port) as c:
        c.send(head)
        for i, p in enumerate(pieces):
            c.send(b"%x;ext=%d\r\n" % (len(p), i) + p + b"\r\n")
        c.send(b"0\r\nX-Trailer: yes\r\n\r\n")
        r = c.read_response()
    assert r.status == 201, r
    g = swift.request("GET", f"{container}/trickle")
    assert g.status == 200 and g.body == data
    assert g.header("ETag") == md5hex(data)


def test_chunked_put_empty_body(server, swift, container):
    req = build_request("PUT", swift.path(f"{container}/empty"),
                        [("X-Auth-Token", swift.token), ("Transfer-Encoding", "chunked")],
                        body=b"0\r\n\r\n", port=server.port)
    r = raw_request(server.port, req)
    assert r.status == 201, r
    g = swift.request("GET", f"{container}/empty")
    assert g.status == 200 and g.body == b""
    assert g.header("ETag") == md5hex(b"")


def test_chunked_put_keepalive_then_next_request(server, swift, container):
    """The connection stays usable after a chunked PUT."""
    data = os.urandom(10000)
    with RawConnection(server.port) as c:
        r = c.request(build_request("PUT", swift.path(f"{container}/ka"),
                                    [("X-Auth-Token", swift.token), ("Transfer-Encoding", "chunked")],
                                    body=chunked([data[:3333], data[3333:]]), port=server.port))
        assert r.status == 201, r
        r2 = c.request(build_request("GET", swift.path(f"{container}/ka"),
                                     [("X-Auth-Token", swift.token)], port=server.port))
        assert r2.status == 200 and r2.body == data
