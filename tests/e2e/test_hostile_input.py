"""Hostile input (issue 5), one table: each row is a request no well-behaved
client sends, the exact status it gets and what must hold afterwards.

Every row is sent on its own raw socket (no client-side normalisation) to
account AUTH_hostile, which holds one container with one object. After every
row: the account's and the container's counters and metadata, both listings
and the object are unchanged, no file appeared under the storage root's tmp/
or objects/ (or a new database), the row's would-be target (`absent`) HEADs
404, and a normal request on a new connection is served.

Statuses are OpenStack Swift's (proxy + tempauth; read from Swift 2.38's
code where noted) except where Apache answers before the module sees the
request: those rows say "Apache" in their comment and pin Apache's answer.
Other test files cover some rows in more depth (test_names.py,
test_robustness.py, test_header_limits.py, test_object_put_errors.py,
test_range.py); this table is the one place that lists them all.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Optional, Union

import pytest

from harness import EXTRA_USERS, ConnectionClosed, RawConnection, build_request, chunked, md5hex, quote

USER = "hostile:admin"
ACCOUNT = "AUTH_hostile"
CONTAINER = "box"
OBJECT = "obj"
BODY = b"0123456789"
TOKEN = object()  # a row's `token`: the valid token goes in X-Auth-Token


@dataclass
class Case:
    id: str
    status: int
    method: str = "GET"
    path: Union[str, bytes] = "/v1/{a}/{c}"
    headers: list = field(default_factory=list)
    body: bytes = b""
    token: object = TOKEN            # TOKEN, or None for no token header
    raw: Optional[bytes] = None      # the whole request instead of the above
    absent: Optional[str] = None     # "container" or "container/object" that must 404
    after: Optional[Callable] = None  # after(env, response, connection): more checks
    disk: bool = False               # needs the data dir (not against an external server)


def fill(x, env):
    """Substitutes {a} {c} {o} {tok} {expired} in a str or bytes."""
    subs = {"{a}": ACCOUNT, "{c}": CONTAINER, "{o}": OBJECT, "{tok}": env.token,
            "{expired}": env.expired_token}
    for k, v in subs.items():
        if isinstance(x, bytes):
            x = x.replace(k.encode(), v.encode())
        else:
            x = x.replace(k, v)
    return x


def meta(kind: str, n: int, value: str = "v", width: int = 3) -> list:
    return [(f"X-{kind}-Meta-K{i:0{width}d}", value) for i in range(n)]


def many_ranges(n: int) -> str:
    return "bytes=" + ",".join(["0-0"] * n)


def put_chunked_conflict(env, resp, conn):
    """Apache let Transfer-Encoding win over the conflicting Content-Length:
    the object holds the de-chunked bytes. Apache then closes the connection
    (RFC 9112 6.3), so the request pipelined behind the body is not read at
    all, let alone as the tail of a Content-Length-framed body."""
    assert (resp.header("Connection") or "").lower() == "close", resp
    with pytest.raises(ConnectionClosed):
        conn.read_response()
    g = env.get_object()
    assert g.status == 200 and g.body == BODY, g


def auth_granted(env, resp, conn):
    """A token was issued for the right account, and it works."""
    assert resp.header("X-Storage-Url").endswith("/v1/" + ACCOUNT), resp
    token = resp.header("X-Auth-Token")
    assert token and token.startswith("AUTH_tk"), resp
    r = env.client.request("HEAD", CONTAINER, token=token)
    assert r.status == 204, r


def auth_refused(env, resp, conn):
    assert resp.header("X-Auth-Token") is None, resp
    assert resp.header("X-Storage-Url") is None, resp


def whole_object(env, resp, conn):
    assert resp.body == BODY and resp.header("Content-Range") is None, resp


def partial(expected: bytes, content_range: str):
    def check(env, resp, conn):
        assert resp.body == expected, resp
        assert resp.header("Content-Range") == content_range, resp
    return check


def unsatisfiable(env, resp, conn):
    assert resp.header("Content-Range") == f"bytes */{len(BODY)}", resp


def plain_listing(expected: bytes):
    def check(env, resp, conn):
        assert resp.body == expected, resp
    return check


def challenged(env, resp, conn):
    """401s for a /v1 request say which realm to authenticate against."""
    assert resp.header("Www-Authenticate") == f'Swift realm="{ACCOUNT}"', resp


O = "/v1/{a}/{c}/"       # object paths start with this
NEW = O + "new"          # an object that does not exist
LONG_TOKEN_OK = "AUTH_tk" + "0" * 8000  # header line below Swift's 8192
LONG_TOKEN = "AUTH_tk" + "0" * 9000     # above it, below Apache's 16384

CASES = [
    # --- path traversal -------------------------------------------------
    # `..` segments that climb above `/` (also %2e-encoded, which Apache
    # decodes before it normalises): Apache refuses the URI (AH10244).
    Case("dotdot-above-root", 400, path="/../etc/passwd"),
    Case("dotdot-above-root-from-v1", 400, path="/v1/../../etc/passwd"),
    Case("dotdot-above-root-object-put", 400, "PUT", O + "../../../../etc/passwd", body=b"x"),
    Case("dotdot-encoded-above-root", 400, "PUT", O + "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc", body=b"x"),
    Case("dotdot-encoded-mixed-case", 400, "PUT", O + "%2E%2e/%2e%2E/%2E%2E/%2e%2e/x", body=b"x"),
    Case("dotdot-half-encoded", 400, "PUT", O + ".%2e/.%2e/%2e./%2e./x", body=b"x"),
    # Inside the path, `..` is part of a name (Swift does not normalise):
    # it names a missing object, never the real one or a file.
    Case("dotdot-names-an-object", 404, path=O + "../../{a}/{c}/{o}"),
    Case("dotdot-encoded-object", 404, path=O + "%2e%2e"),
    Case("dotdot-container-put-object", 404, "PUT", "/v1/{a}/../{c}/x", body=b"x", absent="../c/x"),
    Case("dotdot-encoded-container", 404, "PUT", "/v1/{a}/%2e%2e/x", body=b"x", absent="../x"),
    # An account named `..` is not under tempauth's prefix: refused (403).
    Case("dotdot-encoded-account", 403, "PUT", "/v1/%2e%2e/{c}"),
    Case("dotdot-encoded-account-object", 403, "PUT", "/v1/%2e%2e/{c}/x", body=b"x"),
    # %2F is a slash of the name: no directory is climbed.
    Case("encoded-slash-climb", 404, path=O + "..%2F..%2F..%2F..%2Fetc%2Fpasswd"),
    Case("encoded-slash-climb-lower", 404, path=O + "..%2f..%2f..%2fetc%2fpasswd"),
    Case("backslash-climb", 404, path=O + "..\\..\\etc\\passwd"),
    # Swift's split_path: an empty segment before the last is not a path
    # (404); no account is "Bad URL" (412); an unknown API version 400.
    Case("empty-container-segment", 404, "PUT", "/v1/{a}//x", body=b"x"),
    Case("empty-account-segment", 404, path="/v1//{c}"),
    Case("no-account", 412, path="/v1/"),
    Case("unknown-api-version", 400, path="/v2/{a}"),
    # --- NUL -------------------------------------------------------------
    # Swift's check_utf8: NUL anywhere in the path is 412.
    Case("nul-object", 412, "PUT", O + "a%00b", body=b"x"),
    Case("nul-object-end", 412, "PUT", O + "a%00", body=b"x"),
    Case("nul-container", 412, "PUT", "/v1/{a}/bad%00c", absent="bad"),
    Case("nul-account", 412, "PUT", "/v1/{a}%00x/c"),
    Case("nul-raw-byte", 400, "PUT", b"/v1/{a}/{c}/a\x00b", body=b"x"),  # Apache: bad request line
    # --- overlong and invalid UTF-8 (412: not valid UTF-8) ----------------
    Case("overlong-dot-dot", 412, "PUT", O + "%C0%AE%C0%AE/x", body=b"x"),
    Case("overlong-slash", 412, "PUT", O + "a%C0%AFb", body=b"x"),
    Case("overlong-3-byte-slash", 412, "PUT", O + "a%E0%80%AFb", body=b"x"),
    Case("overlong-nul", 412, "PUT", O + "a%C0%80b", body=b"x"),
    Case("overlong-container", 412, "PUT", "/v1/{a}/%C0%AE%C0%AE"),
    Case("overlong-account", 412, path="/v1/AUTH_%C1%81"),
    Case("invalid-utf8-ff", 412, "PUT", O + "inv%FFalid", body=b"x"),
    Case("invalid-utf8-truncated", 412, "PUT", O + "inv%C3", body=b"x"),
    Case("invalid-utf8-surrogate", 412, "PUT", O + "%ED%A0%80", body=b"x"),
    Case("invalid-utf8-above-unicode", 412, "PUT", O + "%F4%90%80%80", body=b"x"),
    Case("invalid-utf8-container", 412, "PUT", "/v1/{a}/cont%FEainer"),
    Case("invalid-utf8-account", 412, path="/v1/{a}%FF"),
    # Raw (unencoded) bytes reach the path as they are: Swift checks the
    # same bytes, so invalid raw UTF-8 is 412 too.
    Case("invalid-utf8-raw-byte", 412, "PUT", b"/v1/{a}/{c}/raw\xffbyte", body=b"x"),
    Case("invalid-utf8-raw-container", 412, "PUT", b"/v1/{a}/raw\xc3"),
    Case("bad-percent-encoding", 400, "PUT", O + "bad%zz", body=b"x"),  # Apache: not a URI
    # --- control characters ---------------------------------------------
    # Unencoded in the request line: Apache refuses it. (Encoded they are
    # valid names in Swift: see test_listing_escapes_hostile_names.)
    Case("control-raw-byte", 400, "PUT", b"/v1/{a}/{c}/a\x01b", body=b"x"),
    Case("control-raw-tab", 400, "PUT", b"/v1/{a}/{c}/a\tb", body=b"x"),
    Case("control-raw-in-container", 400, "PUT", b"/v1/{a}/c\x1bx"),
    Case("control-raw-space", 400, "PUT", b"/v1/{a}/{c}/a b", body=b"x"),
    Case("fragment-in-request-line", 400, path=O + "{o}#frag"),  # Apache
    # --- oversized names and request lines ------------------------------
    Case("object-name-1025", 400, "PUT", O + "n" * 1025, body=b"x"),
    Case("object-name-1025-encoded", 400, "PUT", O + "%6E" * 1025, body=b"x"),
    Case("container-name-257", 400, "PUT", "/v1/{a}/" + "c" * 257),
    # Swift checks the length only where a name is created (and for every
    # account request, after the access check): elsewhere it names nothing.
    Case("container-name-257-post", 404, "POST", "/v1/{a}/" + "c" * 257),
    Case("object-name-1025-get", 404, path=O + "n" * 1025),
    # An account name is checked after the access check, as tempauth
    # authorizes before Swift's handler runs: not ours, so 403.
    Case("account-name-257-not-ours", 403, path="/v1/AUTH_" + "a" * 252),
    Case("request-line-too-long", 414, path=O + "p" * 9000),  # Apache (Swift/eventlet: 414 too)
    # --- oversized headers ----------------------------------------------
    # Swift refuses a header line of 8192 bytes or more (eventlet's
    # MAX_HEADER_LINE = max_header_size); Stowage checks values, as /info
    # advertises: over 8192 bytes is 400 on any request.
    Case("header-value-8193-object-put", 400, "PUT", NEW, [("X-Long", "x" * 8193)], b"x", absent="box/new"),
    Case("header-value-8193-container-put", 400, "PUT", "/v1/{a}/newc", [("X-Long", "x" * 8193)], absent="newc"),
    Case("header-value-8193-get", 400, "HEAD", "/v1/{a}/{c}", [("X-Long", "x" * 8193)]),
    Case("header-line-over-apache-limit", 400, "HEAD", "/v1/{a}/{c}", [("X-Long", "x" * 16400)]),  # Apache
    Case("too-many-header-fields", 400, "PUT", NEW, [(f"X-H{i}", "1") for i in range(201)], b"x",
         absent="box/new"),  # Apache: LimitRequestFields 200
    Case("header-without-colon", 400, raw=b"HEAD /v1/{a}/{c} HTTP/1.1\r\nHost: x\r\n"
         b"X-Auth-Token: {tok}\r\nNoColon\r\n\r\n"),  # Apache
    # --- metadata (Swift's check_metadata: 400, nothing written) --------
    Case("object-meta-91-items", 400, "PUT", NEW, meta("Object", 91), b"x", absent="box/new"),
    Case("object-meta-name-129", 400, "PUT", NEW, [("X-Object-Meta-" + "n" * 129, "v")], b"x",
         absent="box/new"),
    Case("object-meta-value-257", 400, "PUT", NEW, [("X-Object-Meta-K", "v" * 257)], b"x",
         absent="box/new"),
    Case("object-meta-overall-4097", 400, "PUT", NEW, meta("Object", 17, "v" * 238, 2), b"x",
         absent="box/new"),  # 17 * (3 + 238) = 4097
    Case("object-meta-empty-name", 400, "PUT", NEW, [("X-Object-Meta-", "v")], b"x", absent="box/new"),
    Case("object-post-meta-91-items", 400, "POST", O + "{o}", meta("Object", 91)),
    Case("object-post-meta-value-257", 400, "POST", O + "{o}", [("X-Object-Meta-K", "v" * 257)]),
    Case("container-put-meta-91-items", 400, "PUT", "/v1/{a}/newc", meta("Container", 91),
         absent="newc"),
    Case("container-put-meta-name-129", 400, "PUT", "/v1/{a}/newc",
         [("X-Container-Meta-" + "n" * 129, "v")], absent="newc"),
    Case("container-post-meta-value-257", 400, "POST", "/v1/{a}/{c}",
         [("X-Container-Meta-K", "v" * 257)]),
    Case("account-post-meta-91-items", 400, "POST", "/v1/{a}", meta("Account", 91)),
    Case("account-post-meta-overall-4097", 400, "POST", "/v1/{a}", meta("Account", 17, "v" * 238, 2)),
    # --- Content-Length -------------------------------------------------
    # Not a non-negative decimal: Apache refuses it before the module
    # (Swift/eventlet: 400 too). Two values are merged into "5, 5": 400.
    *[Case(f"content-length-{label}", 400, "PUT", NEW, [("Content-Length", cl)], b"hello",
           absent="box/new")
      for label, cl in [("negative", "-1"), ("letters", "abc"), ("two-numbers", "1 2"),
                        ("hex", "0x10"), ("plus-sign", "+5"), ("empty", ""),
                        ("list", "5, 6"), ("overflow", "9" * 30)]],
    Case("content-length-twice", 400, "PUT", NEW, [("Content-Length", "5"), ("Content-Length", "5")],
         b"hello", absent="box/new"),
    Case("content-length-above-max-file-size", 413, "PUT", NEW, [("Content-Length", "5368709123")],
         absent="box/new"),
    Case("no-content-length-nor-chunked", 411, "PUT", NEW, absent="box/new"),
    # --- Transfer-Encoding ----------------------------------------------
    # Codings other than a final "chunked": Apache answers 400.
    *[Case(f"transfer-encoding-{label}", 400, "PUT", NEW, [("Transfer-Encoding", te)],
           chunked([b"abc"]), absent="box/new")
      for label, te in [("gzip", "gzip"), ("identity", "identity"), ("chunked-then-gzip", "chunked, gzip"),
                        ("xchunked", "xchunked")]],
    Case("chunk-size-not-hex", 400, "PUT", NEW, [("Transfer-Encoding", "chunked")],
         b"zz\r\nhello\r\n0\r\n\r\n", absent="box/new"),  # Apache
    # Content-Length and Transfer-Encoding together: Apache's call (RFC
    # 9112 6.3): chunked wins, Content-Length is dropped; the request
    # after the chunked body on the same connection is read as a request.
    Case("chunked-wins-over-content-length", 201, raw=build_request(
        "PUT", O + "{o}", [("X-Auth-Token", "{tok}"), ("X-Object-Meta-Color", "red"),
                           ("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
        chunked([BODY[:3], BODY[3:]])) + build_request(
        "GET", O + "{o}", [("X-Auth-Token", "{tok}")]), after=put_chunked_conflict),
    Case("chunked-and-content-length-missing-container", 404, "PUT", "/v1/{a}/nocont/x",
         [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], chunked([b"abc", b"defg"]),
         absent="nocont"),
    # --- Range (swob.Range: malformed -> ignored, 200; unsatisfiable or
    # egregious -> 416) ---------------------------------------------------
    *[Case(f"range-ignored-{label}", 200, path=O + "{o}", headers=[("Range", rng)], after=whole_object)
      for label, rng in [("reversed", "bytes=5-2"), ("letters", "bytes=abc"), ("unit", "items=0-1"),
                         ("empty-set", "bytes="), ("bare-dash", "bytes=-"), ("trailing-comma", "bytes=0-1,"),
                         ("double-dash", "bytes=--1"), ("no-dash", "bytes=5"), ("empty", ""),
                         ("negative-end", "bytes=1--2")]],
    *[Case(f"range-unsatisfiable-{label}", 416, path=O + "{o}", headers=[("Range", rng)],
           after=unsatisfiable)
      for label, rng in [("beyond-end", "bytes=100-200"), ("suffix-zero", "bytes=-0"),
                         ("start-at-size", "bytes=10-"), ("huge-start", "bytes=" + "9" * 30 + "-"),
                         ("51-ranges", many_ranges(51)), ("3-overlapping", "bytes=0-5,1-6,2-7"),
                         ("8-descending", "bytes=" + ",".join(f"{i}-{i}" for i in range(9, 1, -1)))]],
    Case("range-50-ranges", 206, path=O + "{o}", headers=[("Range", many_ranges(50))]),
    Case("range-huge-suffix-is-whole", 206, path=O + "{o}", headers=[("Range", "bytes=-" + "9" * 30)],
         after=partial(BODY, "bytes 0-9/10")),
    Case("range-spaces-and-case", 206, path=O + "{o}", headers=[("Range", "Bytes = 1 - 2")],
         after=partial(b"12", "bytes 1-2/10")),
    Case("range-one-satisfiable-of-two", 206, path=O + "{o}", headers=[("Range", "bytes=0-0,100-200")],
         after=partial(b"0", "bytes 0-0/10")),
    # --- listing parameters (Swift: a limit that is not all digits is
    # ignored; above 10000 is 412; values must be UTF-8: 400) ------------
    Case("limit-negative", 200, path="/v1/{a}/{c}?limit=-1", after=plain_listing(b"obj\n")),
    Case("limit-letters", 200, path="/v1/{a}/{c}?limit=abc", after=plain_listing(b"obj\n")),
    Case("limit-float", 200, path="/v1/{a}/{c}?limit=1.5", after=plain_listing(b"obj\n")),
    Case("limit-zero", 204, path="/v1/{a}/{c}?limit=0"),
    Case("limit-10001", 412, path="/v1/{a}/{c}?limit=10001"),
    Case("limit-huge", 412, path="/v1/{a}/{c}?limit=" + "9" * 30),
    Case("limit-negative-account", 200, path="/v1/{a}?limit=-1", after=plain_listing(b"box\n")),
    Case("limit-10001-account", 412, path="/v1/{a}?limit=10001"),
    Case("marker-huge", 204, path="/v1/{a}/{c}?marker=" + "z" * 6000),
    Case("marker-huge-account", 204, path="/v1/{a}?marker=" + "z" * 6000),
    Case("end-marker-huge", 200, path="/v1/{a}/{c}?end_marker=" + "z" * 6000, after=plain_listing(b"obj\n")),
    Case("marker-over-request-line-limit", 414, path="/v1/{a}/{c}?marker=" + "z" * 9000),  # Apache
    Case("prefix-invalid-utf8", 400, path="/v1/{a}/{c}?prefix=%FF"),
    Case("marker-truncated-utf8", 400, path="/v1/{a}?marker=%C3"),
    Case("delimiter-invalid-utf8", 400, path="/v1/{a}/{c}?delimiter=%FE"),
    Case("format-invalid-utf8", 400, path="/v1/{a}/{c}?format=%FF"),
    Case("query-raw-invalid-utf8", 400, path=b"/v1/{a}/{c}?prefix=\xff"),
    Case("format-unknown-is-plain", 200, path="/v1/{a}/{c}?format=bogus", after=plain_listing(b"obj\n")),
    Case("accept-malformed", 400, path="/v1/{a}/{c}", headers=[("Accept", "garbage")]),
    Case("accept-unacceptable", 406, path="/v1/{a}/{c}", headers=[("Accept", "image/png")]),
    # --- tokens of the wrong shape (tempauth: 401 with a challenge) ------
    Case("token-missing-put-container", 401, "PUT", "/v1/{a}/newc", token=None, absent="newc",
         after=challenged),
    Case("token-missing-put-object", 401, "PUT", NEW, body=b"x", token=None, absent="box/new"),
    Case("token-empty", 401, "PUT", NEW, [("X-Auth-Token", "")], b"x", token=None, absent="box/new"),
    Case("token-unknown", 401, "PUT", NEW, [("X-Auth-Token", "AUTH_tk" + "0" * 32)], b"x", token=None,
         absent="box/new", after=challenged),
    Case("token-expired", 401, "PUT", NEW, [("X-Auth-Token", "{expired}")], b"x", token=None,
         absent="box/new", disk=True),
    Case("token-with-junk-appended", 401, "PUT", NEW, [("X-Auth-Token", "{tok}x")], b"x", token=None,
         absent="box/new"),
    Case("token-lowercase", 401, "HEAD", headers=[("X-Auth-Token", "auth_tk" + "0" * 32)], token=None),
    Case("token-not-tempauth", 401, "HEAD", headers=[("X-Auth-Token", "garbage")], token=None),
    Case("token-long", 401, "HEAD", headers=[("X-Auth-Token", LONG_TOKEN_OK)], token=None),
    Case("token-over-8192", 400, "HEAD", headers=[("X-Auth-Token", LONG_TOKEN)], token=None),
    Case("token-over-apache-limit", 400, "HEAD", headers=[("X-Auth-Token", "A" * 17000)],
         token=None),  # Apache
    Case("token-latin1", 401, "HEAD", headers=[("X-Auth-Token", b"AUTH_tk\xe9\xe9")], token=None),
    Case("token-utf8", 401, "HEAD", headers=[("X-Auth-Token", "AUTH_tk☃".encode())], token=None),
    # Repeated headers reach the server joined by ", " (as in Swift's WSGI).
    Case("token-twice-valid-then-junk", 401, "PUT", NEW, [("X-Auth-Token", "{tok}"),
                                                        ("X-Auth-Token", "junk")], b"x",
         token=None, absent="box/new"),
    Case("token-twice-same", 401, "HEAD", headers=[("X-Auth-Token", "{tok}"), ("X-Auth-Token", "{tok}")],
         token=None),
    Case("storage-token-junk", 401, "PUT", NEW, [("X-Storage-Token", "junk")], b"x", token=None,
         absent="box/new"),
    # X-Auth-Token wins over X-Storage-Token, as in tempauth.
    Case("auth-token-wins-over-storage-token", 204, "HEAD", headers=[("X-Storage-Token", "junk")]),
    Case("token-of-another-account", 403, "PUT", "/v1/AUTH_test/hostile-newc", token=None,
         headers=[("X-Auth-Token", "{tok}")]),
    # --- /auth/v1.0 with bad credentials (tempauth's handle_get_token) --
    *[Case(f"auth-{label}", 401, path="/auth/v1.0", headers=h, token=None, after=auth_refused)
      for label, h in [
          ("no-colon", [("X-Auth-User", "hostileadmin"), ("X-Auth-Key", "hostilekey")]),
          ("only-colon", [("X-Auth-User", ":"), ("X-Auth-Key", "hostilekey")]),
          ("no-user-part", [("X-Auth-User", "hostile:"), ("X-Auth-Key", "hostilekey")]),
          ("no-account-part", [("X-Auth-User", ":admin"), ("X-Auth-Key", "hostilekey")]),
          ("empty-user", [("X-Auth-User", ""), ("X-Auth-Key", "hostilekey")]),
          ("empty-key", [("X-Auth-User", USER), ("X-Auth-Key", "")]),
          ("no-key", [("X-Auth-User", USER)]),
          ("wrong-key", [("X-Auth-User", USER), ("X-Auth-Key", "hostilekeY")]),
          ("key-prefix", [("X-Auth-User", USER), ("X-Auth-Key", "hostile")]),
          ("user-case", [("X-Auth-User", "Hostile:Admin"), ("X-Auth-Key", "hostilekey")]),
          ("user-latin1", [("X-Auth-User", b"hostile:adm\xefn"), ("X-Auth-Key", "hostilekey")]),
          ("key-utf8", [("X-Auth-User", USER), ("X-Auth-Key", "hostilekey☃".encode())]),
          ("user-long", [("X-Auth-User", USER + "x" * 8000), ("X-Auth-Key", "hostilekey")]),
          ("user-twice", [("X-Auth-User", USER), ("X-Auth-User", USER), ("X-Auth-Key", "hostilekey")]),
          ("key-twice", [("X-Auth-User", USER), ("X-Auth-Key", "hostilekey"), ("X-Auth-Key", "hostilekey")]),
      ]],
    Case("auth-key-with-control-char", 400, path="/auth/v1.0", token=None,
         headers=[("X-Auth-User", USER), ("X-Auth-Key", "hostilekey\x7f")]),  # Apache
    Case("auth-key-over-8192", 400, path="/auth/v1.0", token=None,
         headers=[("X-Auth-User", USER), ("X-Auth-Key", "k" * 8200)]),
    Case("auth-post", 405, "POST", "/auth/v1.0", token=None,
         headers=[("X-Auth-User", USER), ("X-Auth-Key", "hostilekey")]),
    Case("auth-head", 405, "HEAD", "/auth/v1.0", token=None,
         headers=[("X-Auth-User", USER), ("X-Auth-Key", "hostilekey")]),
    # tempauth takes X-Storage-User / -Pass when X-Auth-User / -Key are
    # empty, not only when they are missing.
    Case("auth-empty-user-falls-back", 200, path="/auth/v1.0", token=None, after=auth_granted,
         headers=[("X-Auth-User", ""), ("X-Storage-User", USER), ("X-Auth-Key", "hostilekey")]),
    Case("auth-empty-key-falls-back", 200, path="/auth/v1.0", token=None, after=auth_granted,
         headers=[("X-Auth-User", USER), ("X-Auth-Key", ""), ("X-Storage-Pass", "hostilekey")]),
    # --- methods ---------------------------------------------------------
    Case("unknown-method-container", 405, "FOO", "/v1/{a}/{c}"),
    Case("put-account", 403, "PUT", "/v1/{a}"),
]

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


# --------------------------------------------------------------------------
# Setup and the no-trace checks.
# --------------------------------------------------------------------------

def _expired_token(server) -> str:
    """A token file as the library writes it, expired a day ago."""
    token = "AUTH_tk" + "e" * 32
    if server.external:
        return token
    tokens = Path(server.datadir) / "tokens"
    tokens.mkdir(exist_ok=True)
    (tokens / hashlib.sha256(token.encode()).hexdigest()).write_text(f"{USER}\n1700000000.00000\n")
    return token


@pytest.fixture(scope="module")
def env(server):
    client = server.client(USER, EXTRA_USERS[USER][0])
    assert client.account_path == "/v1/" + ACCOUNT
    if client.request("HEAD", CONTAINER).status == 404:
        client.put_container(CONTAINER, {"X-Container-Meta-Color": "blue"})
    client.put_object(CONTAINER, OBJECT, BODY, {"X-Object-Meta-Color": "red"})
    r = client.request("POST", "", {"X-Account-Meta-Color": "green"})
    assert r.status == 204, r
    e = SimpleNamespace(server=server, client=client, token=client.token,
                        expired_token=_expired_token(server))
    e.get_object = lambda: client.request("GET", f"{CONTAINER}/{OBJECT}")
    return e


def _headers(resp, prefixes) -> dict:
    # Timestamps move when an object is rewritten with the same bytes.
    return {k.lower(): v for k, v in resp.header_list
            if k.lower().startswith(prefixes) and k.lower() not in ("last-modified", "x-timestamp")}


def _files(server) -> dict:
    """Counts of files that a request could leave behind."""
    if server.external:
        return {}
    root = Path(server.datadir)
    count = lambda d, pat="*": sum(1 for p in (root / d).rglob(pat) if p.is_file()) if (root / d).exists() else 0
    return {"tmp": count("tmp"), "objects": count("objects"),
            "account dbs": count("accounts", "*.db"), "container dbs": count("containers", "*.db")}


def snapshot(env) -> dict:
    c = env.client
    rows = c.listing(CONTAINER)
    for row in rows:
        row.pop("last_modified")
    return {
        "account": _headers(c.request("HEAD", ""), ("x-account-",)),
        "containers": [x["name"] for x in c.listing("")],
        "container": _headers(c.request("HEAD", CONTAINER), ("x-container-",)),
        "objects": rows,
        "object": _headers(c.request("HEAD", f"{CONTAINER}/{OBJECT}"),
                           ("x-object-meta-", "etag", "content-length", "content-type")),
    }


def send(env, case: Case, conn: RawConnection):
    if case.raw is not None:
        data = fill(case.raw, env)
    else:
        headers = [(k, fill(v, env)) for k, v in case.headers]
        if case.token is TOKEN:
            headers.insert(0, ("X-Auth-Token", env.token))
        data = build_request(case.method, fill(case.path, env), headers, case.body,
                             port=env.server.port)
    conn.send(data)
    return conn.read_response(head=case.method == "HEAD")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(env, case):
    if case.disk and env.server.external:
        pytest.skip("needs the server's data dir")
    before, files_before = snapshot(env), _files(env.server)
    with RawConnection(env.server.port) as conn:
        resp = send(env, case, conn)
        assert resp.status == case.status, resp
        if case.after:
            case.after(env, resp, conn)
    assert snapshot(env) == before
    files_after = _files(env.server)
    for kind, n in files_after.items():
        assert n <= files_before[kind], f"{n - files_before[kind]} new file(s) in {kind}"
    if case.absent:
        r = env.client.request("HEAD", quote(case.absent), raw=True)
        assert r.status == 404, (case.absent, r)
    # Still serving, on a new connection.
    g = env.get_object()
    assert g.status == 200 and g.body == BODY, g


# --------------------------------------------------------------------------
# Names with quotes, markup and control characters, in every listing format.
# --------------------------------------------------------------------------

# Swift refuses only NUL and invalid UTF-8 in names; everything else is kept.
HOSTILE_NAMES = ['quote"d', "apos'trophe", "a<b>&c", "&amp;", "<![CDATA[x]]>", "]]>",
                 "ctl\x01\x02\x1f", "del\x7f", "nl\nname", "cr\rname", "tab\tname",
                 "c1\u0085\u009f", "nonchar\ufffe", "bs\\q\"", "{\"json\": 1}"]

# XML 1.0 cannot carry these characters, even as references: a listing
# writes U+FFFD instead, so the document stays well-formed (JSON and plain
# listings carry the exact names).
XML_INVALID = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {"\ufffe", "\uffff"}


def _xml_form(name: str) -> str:
    return "".join("\ufffd" if ch in XML_INVALID else ch for ch in name)


def _names_in_xml(body: bytes, tag: str) -> list:
    root = ET.fromstring(body)  # raises if not well-formed
    return [el.findtext("name") for el in root.findall(tag)]


def test_listing_escapes_hostile_names(env):
    c = env.client
    prefix = "hostile-names-"
    expected = sorted(HOSTILE_NAMES, key=str.encode)
    cont = prefix + "c"
    c.put_container(cont)
    for n in HOSTILE_NAMES:
        c.put_object(cont, n, n.encode(), {"Content-Type": 'text/x-"<&>\''})
        c.put_container(prefix + n)
    try:
        rows = json.loads(c.request("GET", cont, query={"format": "json"}).body)
        assert [r["name"] for r in rows] == expected
        assert all(r["hash"] == md5hex(r["name"].encode()) for r in rows)
        assert {r["content_type"] for r in rows} == {'text/x-"<&>\''}
        xml = c.request("GET", cont, query={"format": "xml"})
        assert xml.status == 200, xml
        assert _names_in_xml(xml.body, "object") == [_xml_form(n) for n in expected]
        root = ET.fromstring(xml.body)
        assert root.get("name") == cont
        assert {o.findtext("content_type") for o in root.findall("object")} == {'text/x-"<&>\''}
        # Plain listings are one name per line: a name with a newline in it
        # reads as two lines, as in Swift.
        assert c.request("GET", cont).body == b"".join(n.encode() + b"\n" for n in expected)

        containers = sorted([prefix + n for n in HOSTILE_NAMES] + [cont], key=str.encode)
        rows = json.loads(c.request("GET", "", query={"prefix": prefix, "format": "json"}).body)
        assert [r["name"] for r in rows] == containers
        acct_xml = c.request("GET", "", query={"prefix": prefix, "format": "xml"})
        assert _names_in_xml(acct_xml.body, "container") == [_xml_form(n) for n in containers]
        plain = c.request("GET", "", query={"prefix": prefix})
        assert plain.body == b"".join(n.encode() + b"\n" for n in containers)
        # A subdir made of a hostile name, as attribute and as text.
        d = c.request("GET", cont, query={"format": "xml", "delimiter": "<"})
        root = ET.fromstring(d.body)
        assert [s.get("name") for s in root.findall("subdir")] == ["<", "a<"]
        assert [s.findtext("name") for s in root.findall("subdir")] == ["<", "a<"]
    finally:
        for n in HOSTILE_NAMES:
            c.request("DELETE", f"{cont}/{quote(n)}", raw=True)
            c.request("DELETE", quote(prefix + n), raw=True)
        c.request("DELETE", cont)
