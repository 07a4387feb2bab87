"""Conditional requests on objects (swob's conditional_response and the
object PUT's If-None-Match). Beyond the brief's list, but plain Swift v1."""

import email.utils

import pytest

from harness import md5hex

pytestmark = pytest.mark.beyond_brief

DATA = b"conditional body"
ETAG = md5hex(DATA)


@pytest.fixture
def obj(swift, container):
    swift.put_object(container, "cond", DATA)
    return f"{container}/cond"


def _lm(swift, obj):
    return email.utils.parsedate_to_datetime(swift.request("HEAD", obj).header("Last-Modified"))


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_if_none_match(swift, obj, method):
    r = swift.request(method, obj, {"If-None-Match": ETAG})
    assert r.status == 304, r
    assert r.body == b""
    assert r.header("ETag") == ETAG
    r = swift.request(method, obj, {"If-None-Match": f'"{ETAG}"'})
    assert r.status == 304, r
    r = swift.request(method, obj, {"If-None-Match": "0" * 32})
    assert r.status == 200, r


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_if_match(swift, obj, method):
    r = swift.request(method, obj, {"If-Match": "0" * 32})
    assert r.status == 412, r
    r = swift.request(method, obj, {"If-Match": ETAG})
    assert r.status == 200, r
    r = swift.request(method, obj, {"If-Match": "*"})
    assert r.status == 200, r


def test_if_modified_since(swift, obj):
    lm = _lm(swift, obj)
    same = email.utils.format_datetime(lm, usegmt=True)
    r = swift.request("GET", obj, {"If-Modified-Since": same})
    assert r.status == 304, r
    older = email.utils.format_datetime(lm.replace(year=lm.year - 1), usegmt=True)
    r = swift.request("GET", obj, {"If-Modified-Since": older})
    assert r.status == 200 and r.body == DATA


def test_if_unmodified_since(swift, obj):
    lm = _lm(swift, obj)
    older = email.utils.format_datetime(lm.replace(year=lm.year - 1), usegmt=True)
    r = swift.request("GET", obj, {"If-Unmodified-Since": older})
    assert r.status == 412, r
    same = email.utils.format_datetime(lm, usegmt=True)
    r = swift.request("GET", obj, {"If-Unmodified-Since": same})
    assert r.status == 200, r


def test_put_if_none_match_star(swift, container):
    r = swift.request("PUT", f"{container}/once", {"If-None-Match": "*"}, body=b"first")
    assert r.status == 201, r
    r = swift.request("PUT", f"{container}/once", {"If-None-Match": "*"}, body=b"second")
    assert r.status == 412, r
    assert swift.request("GET", f"{container}/once").body == b"first"


def test_swob_order_and_headers(swift, container):
    """Swift 2.38's order: a matching If-None-Match (304) before a failing
    If-Match; If-Modified-Since beside an If-None-Match that does not
    match; 304 and 412 carry the object's headers, 412 with no body."""
    swift.put_object(container, "order", DATA, {"Content-Type": "text/x-order",
                                                  "X-Object-Meta-Color": "blue",
                                                  "Cache-Control": "no-cache"})
    obj = f"{container}/order"
    lm = swift.request("HEAD", obj).header("Last-Modified")
    r = swift.request("GET", obj, {"If-None-Match": ETAG, "If-Match": "nope"})
    assert r.status == 304, r
    assert r.header("ETag") == ETAG and r.header("Last-Modified") == lm
    assert r.header("Accept-Ranges") == "bytes"
    assert r.header("X-Object-Meta-Color") == "blue"
    assert r.header("Cache-Control") == "no-cache"
    r = swift.request("GET", obj, {"If-None-Match": "nope", "If-Modified-Since": lm})
    assert r.status == 304, r
    r = swift.request("GET", obj, {"If-Modified-Since": lm, "If-Unmodified-Since":
                                   "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert r.status == 304, r
    for method in ("GET", "HEAD"):
        r = swift.request(method, obj, {"If-Match": "nope"})
        assert r.status == 412, r
        assert r.body == b""
        assert r.header("Content-Type") == "text/html; charset=UTF-8"
        assert r.header("ETag") == ETAG and r.header("Last-Modified") == lm
        assert r.header("X-Object-Meta-Color") == "blue"
        assert r.header("Accept-Ranges") is None
    r = swift.request("GET", obj, {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert r.status == 412 and r.body == b"", r


def test_weak_and_spelled_tags(swift, obj):
    """swob's Match: one pair of quotes dropped, nothing else; a weak tag
    never matches."""
    assert swift.request("GET", obj, {"If-None-Match": f'W/"{ETAG}"'}).status == 200
    assert swift.request("GET", obj, {"If-None-Match": f'"x", "{ETAG}"'}).status == 304
    assert swift.request("GET", obj, {"If-Match": ETAG.upper()}).status == 412
    assert swift.request("GET", obj, {"If-Match": ""}).status == 412
    assert swift.request("GET", obj, {"If-Match": '"*"'}).status == 200


def test_if_match_star_on_a_missing_object(swift, container):
    for method in ("GET", "HEAD"):
        r = swift.request(method, f"{container}/nothing", {"If-Match": "*"})
        assert r.status == 412, r
        assert r.body == b""
        r = swift.request(method, f"{container}/nothing", {"If-Match": "x"})
        assert r.status == 404, r
