"""The stowage-debug handler: echoes the request and counts the body, so
the host's body path (de-chunking, lengths) can be checked end to end."""

import os
import pwd

import pytest

from harness import RawConnection, build_request, md5hex, raw_request

pytestmark = pytest.mark.apache


def _parse(body: bytes) -> dict:
    out = {"Header": []}
    for line in body.decode("utf-8", "replace").splitlines():
        k, sep, v = line.partition(": ")
        if not sep:
            k, v = line.rstrip(":"), ""
        if k == "Header":
            out["Header"].append(v)
        else:
            out[k] = v
    return out


def _ids():
    if os.geteuid() == 0:
        pw = pwd.getpwnam("www-data")
        return str(pw.pw_uid), str(pw.pw_gid)
    return str(os.geteuid()), str(os.getegid())


def test_chunked_upload_counted(server):
    total = 1_000_003
    data = os.urandom(total)
    sizes, i, n = [], 0, 1
    while i < total:        # uneven chunk sizes: 1, 8, 27, ... capped, odd ones
        step = min(total - i, (n ** 3) % 65521 + 1)
        sizes.append(step)
        i += step
        n += 1
    assert sum(sizes) == total and len(set(sizes)) > 10
    head = build_request("PUT", "/debug/upload/some%20thing?x=1&y=two",
                         [("Transfer-Encoding", "chunked"), ("X-Test-Header", "hello world")],
                         port=server.port)
    with RawConnection(server.port) as c:
        c.send(head)
        pos = 0
        for s in sizes:
            c.send(b"%x\r\n" % s + data[pos:pos + s] + b"\r\n")
            pos += s
        c.send(b"0\r\n\r\n")
        r = c.read_response()
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("text/plain")
    info = _parse(r.body)
    assert info.get("Body-Chunked") == "yes", r.text
    assert info.get("Body-Length") == str(total), r.text
    assert info.get("Body-MD5") == md5hex(data), r.text
    assert info.get("Method") == "PUT"
    assert info.get("URI") == "/debug/upload/some%20thing"
    assert info.get("Query") == "x=1&y=two"
    assert info.get("PID", "").isdigit() and int(info["PID"]) > 1
    uid, gid = _ids()
    assert info.get("UID") == uid
    assert info.get("GID") == gid
    assert "X-Test-Header: hello world" in info["Header"], info["Header"]
    assert "Transfer-Encoding: chunked" in info["Header"], info["Header"]


def test_content_length_upload_counted(server):
    data = os.urandom(70001)
    r = raw_request(server.port, build_request("POST", "/debug/cl", [("X-A", "b")],
                                               body=data, port=server.port))
    assert r.status == 200, r
    info = _parse(r.body)
    assert info.get("Body-Chunked") == "no"
    assert info.get("Body-Length") == "70001"
    assert info.get("Body-MD5") == md5hex(data)
    assert info.get("Method") == "POST"
    assert info.get("URI") == "/debug/cl"
    assert info.get("Query") == ""
    assert "Content-Length: 70001" in info["Header"]


def test_no_body(server):
    r = raw_request(server.port, build_request("GET", "/debug/", port=server.port))
    assert r.status == 200, r
    info = _parse(r.body)
    assert info.get("Body-Chunked") == "no"
    assert info.get("Body-Length") == "0"
    assert info.get("Body-MD5") == md5hex(b"")
    assert info.get("Method") == "GET"
