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
