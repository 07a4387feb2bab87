"""Range requests (swob semantics): single, suffix, open-ended, multiple
(multipart/byteranges) and unsatisfiable."""

import hashlib
import re

import pytest

DATA = b"0123456789"


@pytest.fixture
def obj(swift, container):
    swift.put_object(container, "digits", DATA, {"Content-Type": "text/x-digits"})
    return f"{container}/digits"


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=2-5", 2, 5),
    ("bytes=-3", 7, 9),
    ("bytes=5-", 5, 9),
    ("bytes=0-0", 0, 0),
    ("bytes=9-9", 9, 9),
    ("bytes=5-100", 5, 9),     # end clamped to the object's last byte
    ("bytes=-100", 0, 9),      # suffix longer than the object
    ("bytes=0-9", 0, 9),
])
def test_single_range(swift, obj, spec, first, last):
    r = swift.request("GET", obj, {"Range": spec})
    assert r.status == 206, r
    assert r.body == DATA[first:last + 1]
    assert r.header("Content-Range") == f"bytes {first}-{last}/10"
    assert int(r.header("Content-Length")) == last - first + 1
    assert r.header("Content-Type") == "text/x-digits"
    assert r.header("ETag")


def _parse_multipart(body: bytes, boundary: str) -> list:
    delim = b"--" + boundary.encode()
    pieces = body.split(delim)
    assert pieces[-1].strip() in (b"--", b"--\r\n".strip()), pieces[-1][:50]
    parts = []
    for p in pieces[1:-1]:
        assert p.startswith(b"\r\n"), p[:40]
        head, sep, content = p[2:].partition(b"\r\n\r\n")
        assert sep, p[:100]
        assert content.endswith(b"\r\n")
        headers = {}
        for line in head.split(b"\r\n"):
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        parts.append((headers, content[:-2]))
    return parts


def test_multiple_ranges(swift, obj):
    r = swift.request("GET", obj, {"Range": "bytes=0-1,4-5"})
    assert r.status == 206, r
    ct = r.header("Content-Type")
    assert ct.startswith("multipart/byteranges"), ct
    m = re.search(r"boundary=\"?([^\";]+)\"?", ct)
    assert m, ct
    assert int(r.header("Content-Length")) == len(r.body)
    parts = _parse_multipart(r.body, m.group(1))
    assert [p[1] for p in parts] == [b"01", b"45"]
    assert [p[0]["content-range"] for p in parts] == ["bytes 0-1/10", "bytes 4-5/10"]
    assert all(p[0]["content-type"] == "text/x-digits" for p in parts)


def test_multiple_ranges_with_suffix(swift, obj):
    r = swift.request("GET", obj, {"Range": "bytes=1-2,-2"})
    assert r.status == 206, r
    m = re.search(r"boundary=\"?([^\";]+)\"?", r.header("Content-Type"))
    parts = _parse_multipart(r.body, m.group(1))
    assert [p[1] for p in parts] == [b"12", b"89"]
    assert [p[0]["content-range"] for p in parts] == ["bytes 1-2/10", "bytes 8-9/10"]


def test_unsatisfiable_range_is_416(swift, obj):
    r = swift.request("GET", obj, {"Range": "bytes=100-200"})
    assert r.status == 416, r
    assert r.header("Content-Range") == "bytes */10"


def test_malformed_range_is_ignored(swift, obj):
    """swob ignores a Range header it cannot parse: 200 with the whole body."""
    r = swift.request("GET", obj, {"Range": "bytes=abc"})
    assert r.status == 200, r
    assert r.body == DATA
    assert r.header("Content-Range") is None


def test_unsatisfiable_range_carries_the_object(swift, obj):
    """Swift's 416: the object's type and headers, Accept-Ranges."""
    r = swift.request("GET", obj, {"Range": "bytes=100-"})
    assert r.status == 416, r
    assert r.header("Content-Type") == "text/x-digits"
    assert r.header("Accept-Ranges") == "bytes"
    assert r.header("ETag") == hashlib.md5(DATA).hexdigest()
    assert r.header("Last-Modified") is not None


def test_head_ignores_range(swift, obj):
    for spec in ("bytes=1-2", "bytes=100-200"):
        r = swift.request("HEAD", obj, {"Range": spec})
        assert r.status == 200, r
        assert r.header("Content-Length") == str(len(DATA))
        assert r.header("Content-Range") is None


def test_suffix_range_of_an_empty_object_is_the_whole_of_it(swift, container):
    swift.put_object(container, "empty", b"")
    for spec in ("bytes=-5", "bytes=-1,-2"):
        r = swift.request("GET", f"{container}/empty", {"Range": spec})
        assert r.status == 200, r
        assert r.body == b""
    for spec in ("bytes=0-0", "bytes=-0", "bytes=3-"):
        r = swift.request("GET", f"{container}/empty", {"Range": spec})
        assert r.status == 416, r
        assert r.header("Content-Range") == "bytes */0"
