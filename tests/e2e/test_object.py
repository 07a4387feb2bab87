"""Object GET/HEAD/POST/DELETE semantics and response headers."""

import email.utils
import math
import os
import re

from harness import md5hex, unique

TS_RE = re.compile(r"^\d{10}\.\d{5}$")  # Swift's Timestamp.normal


def _check_object_headers(r, data, content_type):
    assert r.header("ETag") == md5hex(data)   # bare md5, as Swift sends it
    assert int(r.header("Content-Length")) == len(data)
    assert r.header("Content-Type") == content_type
    assert r.header("Accept-Ranges") == "bytes"
    ts = r.header("X-Timestamp")
    assert ts and TS_RE.match(ts), ts
    lm = r.header("Last-Modified")
    assert lm, "no Last-Modified"
    # Swift: Last-Modified is the X-Timestamp rounded up to whole seconds.
    assert email.utils.parsedate_to_datetime(lm).timestamp() == math.ceil(float(ts)), (lm, ts)


def test_get_and_head_headers(swift, container):
    data = os.urandom(12345)
    put = swift.request("PUT", f"{container}/obj", {"Content-Type": "application/x-e2e-test"}, body=data)
    assert put.status == 201, put
    assert put.header("ETag") == md5hex(data)

    g = swift.request("GET", f"{container}/obj")
    assert g.status == 200, g
    assert g.body == data
    _check_object_headers(g, data, "application/x-e2e-test")

    h = swift.request("HEAD", f"{container}/obj")
    assert h.status == 200, h
    assert h.body == b""
    _check_object_headers(h, data, "application/x-e2e-test")
    for name in ("ETag", "Last-Modified", "X-Timestamp", "Content-Type", "Content-Length"):
        assert h.header(name) == g.header(name), name


def test_zero_byte_object(swift, container):
    swift.put_object(container, "zero", b"")
    g = swift.request("GET", f"{container}/zero")
    assert g.status == 200 and g.body == b""
    assert g.header("ETag") == "d41d8cd98f00b204e9800998ecf8427e"
    assert g.header("Content-Length") == "0"


def test_default_content_type(swift, container):
    """Swift guesses from the name and falls back to application/octet-stream."""
    swift.put_object(container, "no-extension", b"abc")
    g = swift.request("GET", f"{container}/no-extension")
    assert g.header("Content-Type") == "application/octet-stream"


def test_overwrite_replaces_body_and_metadata(swift, container):
    swift.put_object(container, "o", b"first", {"X-Object-Meta-Old": "1", "Content-Type": "text/a"})
    swift.put_object(container, "o", b"second version", {"X-Object-Meta-New": "2", "Content-Type": "text/b"})
    g = swift.request("GET", f"{container}/o")
    assert g.body == b"second version"
    assert g.header("X-Object-Meta-Old") is None
    assert g.header("X-Object-Meta-New") == "2"
    assert g.header("Content-Type") == "text/b"


def test_user_metadata_round_trip(swift, container):
    meta = {"X-Object-Meta-Color": "blue", "X-Object-Meta-Two-Words": "hello world",
            "X-Object-Meta-Empty-Ish": "x"}
    swift.put_object(container, "m", b"meta", meta)
    for method in ("GET", "HEAD"):
        r = swift.request(method, f"{container}/m")
        assert r.status == 200
        for k, v in meta.items():
            assert r.header(k) == v, (method, k, r)


def test_gatekeeper_keeps_private_headers_out(swift, container):
    """Swift's gatekeeper: a client cannot set system metadata, backend
    headers or the record's X-Timestamp, and sees none of them."""
    private = {"X-Object-Sysmeta-Symlink-Target": "c/evil",
               "X-Object-Transient-Sysmeta-Crypto-Meta": "x",
               "X-Backend-Storage-Policy-Index": "7",
               "X-Timestamp": "1000000000.00000",
               "X-Object-Meta-Kept": "yes"}
    swift.put_object(container, "gk", b"gate", private)
    for method in ("GET", "HEAD"):
        r = swift.request(method, f"{container}/gk")
        assert r.status == 200, r
        assert r.header("X-Object-Meta-Kept") == "yes"
        for name in private:
            if name.startswith(("X-Object-Sysmeta", "X-Object-Transient", "X-Backend")):
                assert r.header(name) is None, (method, name, r)
        assert float(r.header("X-Timestamp")) > 1_500_000_000, r


def test_post_replaces_metadata(swift, container):
    data = b"post me"
    swift.put_object(container, "p", data, {"X-Object-Meta-Old": "gone soon",
                                            "Content-Type": "text/x-keep"})
    before = swift.request("HEAD", f"{container}/p")
    r = swift.request("POST", f"{container}/p", {"X-Object-Meta-New": "here"})
    assert r.status == 202, r
    g = swift.request("GET", f"{container}/p")
    assert g.status == 200
    assert g.header("X-Object-Meta-Old") is None
    assert g.header("X-Object-Meta-New") == "here"
    assert g.body == data
    assert g.header("ETag") == md5hex(data)
    assert g.header("Content-Type") == "text/x-keep"
    assert float(g.header("X-Timestamp")) >= float(before.header("X-Timestamp"))


def test_post_missing_object_is_404(swift, container):
    r = swift.request("POST", f"{container}/{unique('nope')}", {"X-Object-Meta-A": "b"})
    assert r.status == 404, r


def test_delete_then_404(swift, container):
    swift.put_object(container, "d", b"delete me")
    r = swift.request("DELETE", f"{container}/d")
    assert r.status == 204, r
    assert swift.request("GET", f"{container}/d").status == 404
    assert swift.request("HEAD", f"{container}/d").status == 404
    r = swift.request("DELETE", f"{container}/d")
    assert r.status == 404, r
    assert swift.listing(container) == []


def test_missing_object(swift, container):
    name = unique("never")
    assert swift.request("GET", f"{container}/{name}").status == 404
    assert swift.request("HEAD", f"{container}/{name}").status == 404
    assert swift.request("DELETE", f"{container}/{name}").status == 404


def test_object_in_missing_container_is_404(swift):
    c = unique("nocontainer")
    for method in ("GET", "HEAD", "DELETE", "POST"):
        r = swift.request(method, f"{c}/obj")
        assert r.status == 404, (method, r)
