"""Request sequences for the differential harness, generated from a seed.

A sequence is a list of steps run in order against both servers; each
family below covers a part of the Swift API reference and draws its names,
headers, values and query parameters from its own random.Random, seeded by
"<seed>/<sequence id>", so any sequence can be replayed on its own
(`--only ID`). Every sequence works in containers (and, for account-level
families, accounts) named after its id, so sequences do not see each
other's data and names are the same on both sides.

Header values may refer to per-side values: "${tok}"-style placeholders
are filled from what that side answered earlier (captures), since ETags of
equal bodies agree but Last-Modified dates and tokens do not.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Optional

ACCOUNT = "AUTH_test"
OWNER = "test:tester"
OTHER = "test2:tester2"
MEMBER = "test:member"
RESELLER = "reseller:reseller"
QUOTA_ADMIN = "quota:tester"      # AUTH_quota, the account-quotas family's
QUOTA_MEMBER = "quota:member"
ANON = None
BAD_TOKEN = "!bad"


@dataclass
class Step:
    case: str
    method: str
    path: str                       # percent-encoded, sent as is, may carry ?query
    headers: list = field(default_factory=list)   # [(name, str|bytes)], "${var}" filled per side
    body: bytes = b""
    user: Optional[str] = OWNER     # whose token; None: none; BAD_TOKEN: a made-up one
    chunked: bool = False
    no_length: bool = False         # a body-less PUT with neither Content-Length nor chunked
    capture: list = field(default_factory=list)   # [(var, header, fn or None)]
    settle: Optional[tuple] = None  # ("account", "/v1/AUTH_x") | ("gone", container path, name)
    pause: float = 0.0              # seconds to wait before sending (expiry)
    listing: bool = False           # an account/container listing: its ETag is normalised


@dataclass
class Sequence:
    id: str
    family: str
    steps: list


def q(name: str) -> str:
    return urllib.parse.quote(name, safe="/")


def qv(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def http_date(t: float) -> str:
    return email.utils.formatdate(t, usegmt=True)


def shift_date(delta: int) -> Callable[[str], str]:
    def f(v: str) -> str:
        t = email.utils.parsedate_to_datetime(v).timestamp()
        return http_date(t + delta)
    return f


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


class Seq:
    def __init__(self, family: str, idx: int, seed: int):
        self.family = family
        self.id = f"{family}-{idx:03d}"
        self.rng = random.Random(f"{seed}/{self.id}")
        self.steps: list = []
        self.acct = f"/v1/{ACCOUNT}"

    def name(self, k="c") -> str:
        return f"{self.id}-{k}"

    def add(self, case: str, method: str, path: str, headers=(), body: bytes = b"", **kw) -> Step:
        if case == "method":
            case = f"method.{method}"  # which method: each answers differently
        s = Step(f"{self.family}.{case}", method, path, list(headers), body, **kw)
        self.steps.append(s)
        return s

    def done(self) -> Sequence:
        return Sequence(self.id, self.family, self.steps)


# --------------------------------------------------------------------------
# Random material.
# --------------------------------------------------------------------------

WORDS = ["alpha", "beta", "Gamma", "delta", "photos", "2024", "x y", "café", "日本", "a+b",
         "~tilde", "dot.dot", "UPPER", "z"]
META_VALUES = ["v", "some value", "MiXeD Case", "café ☃", "  padded  ", "a=b;c", "0",
               "x" * 256, "comma, separated", "tab\there", "quote\"d"]


def meta_name(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = rng.randint(1, 10)
    s = "".join(rng.choice(letters) for _ in range(n))
    if rng.random() < 0.4:
        s += "-" + "".join(rng.choice(letters) for _ in range(rng.randint(1, 5)))
    style = rng.random()
    if style < 0.33:
        return s.title()
    if style < 0.66:
        return s
    return "".join(c.upper() if rng.random() < 0.5 else c for c in s)


def meta_value(rng: random.Random) -> bytes:
    return rng.choice(META_VALUES).encode("utf-8")


def object_name(rng: random.Random) -> str:
    parts = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
    sep = rng.choice(["/", "/", "-", "_"])
    return sep.join(parts)


def body_of(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


ACCEPTS = [None, None, "application/json", "application/xml", "text/xml", "text/plain",
           "*/*", "application/json;q=0.5, text/xml", "image/png", "application/*"]
FORMATS = [None, None, "json", "xml", "plain", "JSON", "txt", "text/xml", "application/json"]


def listing_query(rng: random.Random, names: list) -> tuple:
    """(query string, headers) for a random listing request over `names`."""
    params = []
    some = rng.choice(names) if names else "a"
    if rng.random() < 0.4:
        params.append(("prefix", some[: rng.randint(0, max(1, len(some)))]))
    if rng.random() < 0.4:
        params.append(("delimiter", rng.choice(["/", "-", "_", "a"])))
    if rng.random() < 0.3:
        params.append(("marker", rng.choice([some, some[:2], "", "zzz", "0"])))
    if rng.random() < 0.25:
        params.append(("end_marker", rng.choice([some, some[:3], "m", "\U0001f600"])))
    if rng.random() < 0.35:
        params.append(("limit", str(rng.choice([0, 1, 2, 3, 5, 100, 10000]))))
    if rng.random() < 0.2:
        params.append(("reverse", rng.choice(["true", "1", "on", "false", "yes", "no"])))
    fmt = rng.choice(FORMATS)
    if fmt:
        params.append(("format", fmt))
    rng.shuffle(params)
    query = "&".join(f"{k}={qv(v)}" for k, v in params)
    accept = rng.choice(ACCEPTS)
    return query, ([("Accept", accept)] if accept else [])


BAD_LISTING_QUERIES = ["limit=10001", "limit=-1", "limit=abc", "delimiter=ab", "marker=%FF",
                       "prefix=%FF", "format=foo", "end_marker=%FE%FF", "limit=", "path=x",
                       "prefix=" + "p" * 1100]


def listing_paths(path: str, query: str) -> str:
    return path + ("?" + query if query else "")


# --------------------------------------------------------------------------
# Families.
# --------------------------------------------------------------------------

def fam_auth(s: Seq):
    rng = s.rng
    s.add("get", "GET", "/auth/v1.0", [("X-Auth-User", OWNER), ("X-Auth-Key", "testing")], user=ANON)
    s.add("storage-headers", "GET", "/auth/v1.0",
          [("X-Storage-User", OTHER), ("X-Storage-Pass", "testing2")], user=ANON)
    s.add("bad-key", "GET", "/auth/v1.0",
          [("X-Auth-User", OWNER), ("X-Auth-Key", rng.choice(["wrong", "testing ", "TESTING"]))],
          user=ANON)
    s.add("unknown-user", "GET", "/auth/v1.0",
          [("X-Auth-User", rng.choice(["nobody:x", "test:nobody", "tester"])), ("X-Auth-Key", "k")],
          user=ANON)
    s.add("no-credentials", "GET", "/auth/v1.0", user=ANON)
    s.add("only-user", "GET", "/auth/v1.0", [("X-Auth-User", OWNER)], user=ANON)
    for path in rng.sample(["/auth/v1", "/auth/v1.0/", "/auth/v2.0", "/auth/", "/auth",
                            "/auth/v1.0?x=1"], 3):
        s.add("path-variant", "GET", path, [("X-Auth-User", OWNER), ("X-Auth-Key", "testing")],
              user=ANON)
    s.add("method", rng.choice(["HEAD", "POST", "PUT"]), "/auth/v1.0",
          [("X-Auth-User", OWNER), ("X-Auth-Key", "testing")], user=ANON)
    s.add("member", "GET", "/auth/v1.0", [("X-Auth-User", MEMBER), ("X-Auth-Key", "memberkey")],
          user=ANON)
    s.add("reseller", "GET", "/auth/v1.0",
          [("X-Auth-User", RESELLER), ("X-Auth-Key", "resellerkey")], user=ANON)


def fam_info(s: Seq):
    rng = s.rng
    s.add("get", "GET", "/info", user=ANON)
    s.add("head", "HEAD", "/info", user=ANON)
    s.add("method", rng.choice(["POST", "PUT", "DELETE"]), "/info", user=ANON)
    s.add("with-token", "GET", "/info")
    s.add("healthcheck", "GET", "/healthcheck", user=ANON)
    s.add("healthcheck-head", "HEAD", "/healthcheck", user=ANON)
    for path in rng.sample(["/", "/v1", "/v1/", "/v2/AUTH_test", "/crossdomain.xml",
                            "/v1.0/AUTH_test", "/info/x"], 4):
        s.add("path", "GET", path)


def fam_account(s: Seq):
    """A fresh account (the reseller admin may act on any AUTH_ account;
    both sides create it on first write): counters, listings, metadata."""
    rng = s.rng
    acct = f"/v1/AUTH_{s.id}"
    R = dict(user=RESELLER)
    s.add("head-new", "HEAD", acct, **R)
    s.add("get-new", "GET", acct, **R, listing=True)
    s.add("get-new-json", "GET", acct + "?format=json", **R, listing=True)
    names = sorted({object_name(rng).replace("/", "-") for _ in range(rng.randint(3, 7))})
    for n in names:
        s.add("put-container", "PUT", f"{acct}/{q(n)}", **R)
    total = 0
    for n in rng.sample(names, min(2, len(names))):
        for i in range(rng.randint(1, 3)):
            data = body_of(rng, rng.randint(0, 300))
            total += len(data)
            s.add("put-object", "PUT", f"{acct}/{q(n)}/o{i}", body=data, **R)
    s.add("head", "HEAD", acct, settle=("account", acct), **R)
    for fmt in ["", "?format=json", "?format=xml", "?format=plain"]:
        s.add("get", "GET", acct + fmt, settle=("account", acct), listing=True, **R)
    for _ in range(rng.randint(4, 8)):
        query, hdrs = listing_query(rng, names)
        s.add("get-query", "GET", listing_paths(acct, query), hdrs, listing=True, **R)
    for bad in rng.sample(BAD_LISTING_QUERIES, 3):
        s.add("get-bad-query", "GET", f"{acct}?{bad}", listing=True, **R)
    s.add("get-nul-marker", "GET", f"{acct}?marker=%00&end_marker={qv(names[-1])}%00",
          listing=True, **R)
    # metadata
    meta = {meta_name(rng): meta_value(rng) for _ in range(rng.randint(1, 4))}
    s.add("post-meta", "POST", acct, [(f"X-Account-Meta-{k}", v) for k, v in meta.items()], **R)
    s.add("head-meta", "HEAD", acct, **R)
    k = rng.choice(list(meta))
    s.add("post-meta-remove", "POST", acct, [(f"X-Remove-Account-Meta-{k}", "x")], **R)
    k2 = meta_name(rng)
    s.add("post-meta-empty", "POST", acct, [(f"X-Account-Meta-{k2}", "")], **R)
    s.add("head-meta", "HEAD", acct, **R)
    s.add("get-meta-json", "GET", acct + "?format=json", listing=True, **R)
    bad = rng.choice([("X-Account-Meta-" + "n" * 129, "v"), ("X-Account-Meta-Long", "v" * 257),
                      ("X-Account-Meta-", "v")])
    s.add("post-meta-invalid", "POST", acct, [bad], **R)
    s.add("post-meta-too-many", "POST", acct,
          [(f"X-Account-Meta-M{i}", "v") for i in range(91)], **R)
    # operations an account does not support
    s.add("put", "PUT", acct, **R)
    s.add("delete", "DELETE", acct, **R)
    s.add("method", rng.choice(["COPY", "PATCH", "OPTIONS"]), acct, **R)
    # callers without rights
    s.add("head-other-user", "HEAD", acct, user=OTHER)
    s.add("head-anon", "HEAD", acct, user=ANON)
    s.add("head-bad-token", "HEAD", acct, user=BAD_TOKEN)
    # delete containers (one not empty)
    for n in names:
        s.add("delete-container", "DELETE", f"{acct}/{q(n)}", **R)
    s.add("head-end", "HEAD", acct, settle=("account", acct), **R)
    s.add("get-end", "GET", acct + "?format=json", listing=True, **R)


def fam_owner_account(s: Seq):
    """AUTH_test as its owner: requests whose answers do not depend on the
    other sequences' containers."""
    rng = s.rng
    s.add("head", "HEAD", s.acct, settle=("account", s.acct))
    s.add("get-prefix", "GET", f"{s.acct}?format=json&prefix={qv(s.id)}", listing=True)
    c = s.name()
    s.add("put-container", "PUT", f"{s.acct}/{c}")
    s.add("get-prefix", "GET", f"{s.acct}?prefix={qv(s.id)}&format={rng.choice(['json', 'xml', 'plain'])}",
          listing=True)
    s.add("post-acl-invalid", "POST", s.acct,
          [("X-Account-Access-Control", rng.choice(['{"read-only": ', '{"bogus": []}', '[]']))])
    s.add("member-head", "HEAD", s.acct, user=MEMBER)
    s.add("member-post", "POST", s.acct, [("X-Account-Meta-Member", "x")], user=MEMBER)
    s.add("delete-container", "DELETE", f"{s.acct}/{c}")


def fam_container(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("head-missing", "HEAD", c)
    s.add("get-missing", "GET", c, listing=True)
    s.add("post-missing", "POST", c, [("X-Container-Meta-A", "b")])
    s.add("delete-missing", "DELETE", c)
    meta = {meta_name(rng): meta_value(rng) for _ in range(rng.randint(0, 4))}
    hdrs = [(f"X-Container-Meta-{k}", v) for k, v in meta.items()]
    if rng.random() < 0.5:
        hdrs.append(("X-Container-Read", rng.choice([".r:*", "test2:tester2", ".r:*,.rlistings"])))
    s.add("put", "PUT", c, hdrs)
    s.add("put-again", "PUT", c, [(f"X-Container-Meta-{meta_name(rng)}", meta_value(rng))])
    s.add("head", "HEAD", c)
    for fmt in ["", "?format=json", "?format=xml", "?format=plain"]:
        s.add("get-empty", "GET", c + fmt, listing=True)
    s.add("post-meta", "POST", c, [(f"X-Container-Meta-{meta_name(rng)}", meta_value(rng))])
    if meta:
        k = rng.choice(list(meta))
        s.add("post-meta-remove", "POST", c, [(f"X-Remove-Container-Meta-{k}", "1")])
        s.add("post-meta-empty", "POST", c, [(f"X-Container-Meta-{rng.choice(list(meta))}", "")])
    s.add("head-meta", "HEAD", c)
    s.add("put-object", "PUT", f"{c}/o1", body=b"hello")
    s.add("head-after-object", "HEAD", c)
    bad = rng.choice([("X-Container-Meta-" + "n" * 129, "v"), ("X-Container-Meta-Long", "v" * 257),
                      ("X-Container-Read", ".r:"), ("X-Container-Write", ".r:*"),
                      ("X-Container-Read", "bad acl with spaces,,"),
                      ("X-Container-Meta-Quota-Bytes", "abc")])
    s.add("post-invalid", "POST", c, [bad])
    s.add("post-too-many-meta", "POST", c, [(f"X-Container-Meta-M{i}", "v") for i in range(91)])
    s.add("delete-not-empty", "DELETE", c)
    s.add("delete-object", "DELETE", f"{c}/o1")
    s.add("delete", "DELETE", c)
    s.add("head-deleted", "HEAD", c)
    s.add("delete-again", "DELETE", c)
    # names
    n = rng.choice(["len256", "len257", "caf%C3%A9", "%FF", "a%00b", "%2Fx", "a%2Fb", "-", "%20",
                    "%20lead", "%E2%98%83", "tr%C3%A8s/slash"])
    if n.startswith("len"):
        name = (s.id + "-" + "x" * 300)[: int(n[3:])]
    else:
        name = f"{s.id}-{n}"
    s.add("put-name", "PUT", f"{s.acct}/{name}")
    s.add("method", rng.choice(["COPY", "PATCH", "OPTIONS", "FOO"]), c)


def fam_policy(s: Seq):
    """X-Storage-Policy: the default Policy-0, gold (aliases yellow,
    orange) and the deprecated silver (tests/diff/swiftnode.py POLICIES)."""
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-policy", "PUT", c, [("X-Storage-Policy", rng.choice(["Policy-0", "policy-0"]))])
    s.add("head", "HEAD", c)
    s.add("put-object", "PUT", f"{c}/o", body=b"x" * 10)
    s.add("get-json", "GET", f"{c}?format=json", listing=True)
    c2 = f"{s.acct}/{s.name('bad')}"
    s.add("put-unknown-policy", "PUT", c2, [("X-Storage-Policy", rng.choice(["platinum", "1", "Policy-1"]))])
    s.add("put-deprecated-policy", "PUT", c2, [("X-Storage-Policy", rng.choice(["silver", "SILVER"]))])
    s.add("put-empty-policy", "PUT", c2, [("X-Storage-Policy", "")])
    s.add("head-empty-policy", "HEAD", c2)
    s.add("put-policy-again", "PUT", c, [("X-Storage-Policy", rng.choice(["Policy-0", "gold", "yellow"]))])
    s.add("put-no-policy-again", "PUT", c)
    s.add("post-policy", "POST", c, [("X-Storage-Policy", "gold")])
    s.add("head-after", "HEAD", c)
    s.add("put-default-policy", "PUT", f"{s.acct}/{s.name('d')}",
          [("X-Default-Storage-Policy", "Policy-0")])
    acct = f"/v1/AUTH_{s.id}"
    s.add("account-head-new", "HEAD", acct, user=RESELLER)
    gold = rng.choice(["gold", "yellow", "Orange", "GOLD"])
    s.add("account-put-container", "PUT", f"{acct}/c", user=RESELLER)
    s.add("account-put-gold", "PUT", f"{acct}/g", [("X-Storage-Policy", gold)], user=RESELLER)
    s.add("account-head-gold", "HEAD", f"{acct}/g", user=RESELLER)
    s.add("account-put-object", "PUT", f"{acct}/c/o", body=b"abc", user=RESELLER)
    s.add("account-put-gold-object", "PUT", f"{acct}/g/o", body=b"abcdefg", user=RESELLER)
    s.add("account-head", "HEAD", acct, user=RESELLER, settle=("account", acct))
    for fmt in ["json", "xml", "plain"]:
        s.add("account-get", "GET", f"{acct}?format={fmt}", user=RESELLER, listing=True,
              settle=("account", acct))
    s.add("account-put-gold-again", "PUT", f"{acct}/g", [("X-Storage-Policy", "Policy-0")],
          user=RESELLER)
    s.add("account-delete-gold-object", "DELETE", f"{acct}/g/o", user=RESELLER)
    s.add("account-delete-gold", "DELETE", f"{acct}/g", user=RESELLER)
    s.add("account-head-gold-gone", "HEAD", acct, user=RESELLER, settle=("account", acct))
    s.add("account-put-recreated", "PUT", f"{acct}/g", [("X-Storage-Policy", "Policy-0")],
          user=RESELLER)
    s.add("account-head-recreated", "HEAD", f"{acct}/g", user=RESELLER)
    s.add("account-head-end", "HEAD", acct, user=RESELLER, settle=("account", acct))
    s.add("account-get-end", "GET", f"{acct}?format=json", user=RESELLER, listing=True,
          settle=("account", acct))
    s.add("delete-object", "DELETE", f"{c}/o")
    s.add("delete", "DELETE", c)


def fam_listing(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-container", "PUT", c)
    names = sorted({object_name(rng) for _ in range(rng.randint(5, 12))})
    ctypes = ["text/plain", "application/json", "image/png", "application/octet-stream",
              "text/html; charset=utf-8", None]
    for n in names:
        ct = rng.choice(ctypes)
        s.add("put-object", "PUT", f"{c}/{q(n)}", [("Content-Type", ct)] if ct else [],
              body=body_of(rng, rng.randint(0, 64)))
    for fmt in ["", "?format=json", "?format=xml", "?format=plain"]:
        s.add("get", "GET", c + fmt, listing=True)
    for _ in range(rng.randint(8, 16)):
        query, hdrs = listing_query(rng, names)
        s.add("get-query", "GET", listing_paths(c, query), hdrs, listing=True)
    for bad in rng.sample(BAD_LISTING_QUERIES, 3):
        s.add("get-bad-query", "GET", f"{c}?{bad}", listing=True)
    s.add("head-query", "HEAD", f"{c}?format=json&limit=1", listing=True)
    # a NUL in a marker is just a bound (no name holds one): Swift lists
    s.add("get-nul-marker", "GET", f"{c}?marker={qv(names[0][:1])}%00", listing=True)
    s.add("get-nul-end-marker", "GET", f"{c}?end_marker={qv(names[-1])}%00&format=json",
          listing=True)


def fam_object(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-container", "PUT", c)
    ext = rng.choice(["", ".txt", ".json", ".html", ".png", ".tar.gz", ".unknownext"])
    o = f"{c}/{q(object_name(rng))}{ext}"
    data = body_of(rng, rng.randint(0, 2048))
    hdrs = []
    if rng.random() < 0.6:
        hdrs.append(("Content-Type", rng.choice(["text/plain", "application/x-thing",
                                                 "text/plain; charset=utf-8", "image/jpeg"])))
    if rng.random() < 0.4:
        hdrs.append(("ETag", md5(data)))
    meta = {meta_name(rng): meta_value(rng) for _ in range(rng.randint(0, 4))}
    hdrs += [(f"X-Object-Meta-{k}", v) for k, v in meta.items()]
    for h, v in [("Content-Disposition", 'attachment; filename="f.bin"'),
                 ("Content-Encoding", "gzip"), ("Content-Language", "en"),
                 ("Cache-Control", "no-cache"), ("Expires", "Wed, 01 Jan 2031 00:00:00 GMT"),
                 ("X-Robots-Tag", "noindex"), ("Access-Control-Allow-Origin", "*"),
                 ("X-Delete-At", str(int(time.time()) + 86400 * 30))]:
        if rng.random() < 0.15:
            hdrs.append((h, v))
    chunked = rng.random() < 0.3
    s.add("put", "PUT", o, hdrs, body=data, chunked=chunked)
    # Headers a server may refuse or treat specially: on an object of their
    # own, so that a refusal does not change what the later steps see.
    variant = rng.choice([("ETag", md5(data).upper()), ("ETag", '"' + md5(data) + '"'),
                          ("X-Detect-Content-Type", "true"), ("X-Static-Large-Object", "true"),
                          ("X-Object-Sysmeta-Foo", "bar"), ("X-Backend-Storage-Policy-Index", "0"),
                          ("X-Object-Transient-Sysmeta-Foo", "bar"), ("X-Symlink-Target", "c/o"),
                          ("Content-Type", "text/plain;swift_bytes=5")])
    cv = f"{s.acct}/{s.name('v')}"
    s.add("put-container", "PUT", cv)
    vlabel = variant[0].lower() + ("=" + variant[1].replace(" ", "_") if variant[0] in ("ETag", "Content-Type") else "")
    if variant[0] == "ETag":
        vlabel = "etag=" + ("upper" if variant[1].isupper() else "quoted")
    s.add(f"put-variant:{vlabel}", "PUT", f"{cv}/variant{ext}", [variant], body=data)
    s.add(f"head-variant:{vlabel}", "HEAD", f"{cv}/variant{ext}")
    s.add("head", "HEAD", o)
    s.add("get", "GET", o)
    s.add("put-if-none-match", "PUT", o, [("If-None-Match", "*")], body=data)
    s.add("put-if-none-match-etag", "PUT", o, [("If-None-Match", md5(data))], body=data)
    # POST replaces the user metadata
    post = [(f"X-Object-Meta-{meta_name(rng)}", meta_value(rng)) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.5:
        post.append(("Content-Type", rng.choice(["text/x-new", "application/octet-stream"])))
    if meta and rng.random() < 0.5:
        post.append((f"X-Remove-Object-Meta-{rng.choice(list(meta))}", "x"))
    s.add("post", "POST", o, post)
    s.add("head-after-post", "HEAD", o)
    s.add("get-after-post", "GET", o)
    # errors on PUT
    wrong = md5(data + b"x")
    err = rng.choice([
        ("put-bad-etag", [("ETag", wrong)], data, {}),
        ("put-no-length", [], b"", {"no_length": True}),
        ("put-huge-length", [("Content-Length", str(5 * 2 ** 30 + 3))], b"", {"no_length": True}),
        ("put-bad-length", [("Content-Length", "abc")], b"", {"no_length": True}),
        ("put-meta-too-long", [("X-Object-Meta-" + "n" * 129, "v")], data, {}),
        ("put-meta-value-too-long", [("X-Object-Meta-Big", "v" * 257)], data, {}),
        ("put-too-many-meta", [(f"X-Object-Meta-M{i}", "v") for i in range(91)], data, {}),
        ("put-delete-at-past", [("X-Delete-At", "1000")], data, {}),
        ("put-delete-after-bad", [("X-Delete-After", rng.choice(["-1", "abc", "1.5"]))], data, {}),
        ("put-transfer-encoding-bad", [("Transfer-Encoding", "gzip")], data, {}),
    ])
    s.add(err[0], "PUT", f"{c}/err", err[1], body=err[2], **err[3])
    s.add("put-missing-container", "PUT", f"{s.acct}/{s.name('nope')}/o", body=b"x")
    s.add("put-zero", "PUT", f"{c}/zero", body=b"")
    s.add("get-zero", "GET", f"{c}/zero")
    s.add("head-zero", "HEAD", f"{c}/zero")
    s.add("put-long-name", "PUT", f"{c}/" + "n" * rng.choice([1024 - len(s.name()) - 1,
                                                                 1025 - len(s.name()) - 1]),
          body=b"x")
    s.add("method", rng.choice(["PATCH", "FOO", "OPTIONS"]), o)
    s.add("delete", "DELETE", o)
    s.add("get-deleted", "GET", o)
    s.add("head-deleted", "HEAD", o)
    s.add("delete-again", "DELETE", o)
    s.add("post-deleted", "POST", o, [("X-Object-Meta-A", "b")])
    s.add("get-listing", "GET", f"{c}?format=json", listing=True)


# Extensions whose guessed Content-Type (no Content-Type on PUT) is compared:
# Python's built-in table, Debian's /etc/mime.types, Python's suffix and
# encoding rules, case, and names that have no extension.
GUESS_NAMES = ["a.txt", "a.TXT", "a.html", "a.htm", "a.json", "a.js", "a.mjs", "a.css", "a.csv",
               "a.xml", "a.svg", "a.svgz", "a.png", "a.jpg", "a.JPEG", "a.gif", "a.webp", "a.ico",
               "a.pdf", "a.zip", "a.tar", "a.tar.gz", "a.tgz", "a.TGZ", "a.gz", "a.GZ", "a.tar.GZ",
               "a.tar.bz2", "a.tbz2", "a.tar.xz", "a.txz", "a.Z", "a.tar.Z", "a.br", "a.tar.br",
               "a.bz2", "a.xz", "a.7z", "a.rar", "a.mp3", "a.mp4", "a.webm", "a.ogg", "a.wav",
               "a.md", "a.markdown", "a.yaml", "a.yml", "a.toml", "a.py", "a.c", "a.h", "a.sh",
               "a.doc", "a.docx", "a.xlsx", "a.odt", "a.epub", "a.wasm", "a.woff2", "a.ttf",
               "a.rtf", "a.midi", "a.avif", "a.heic", "a.exe", "a.bin", "a.iso", "a.deb", "a.rpm",
               "a.jar", "a.apk", "a.dmg", "a.ics", "a.vcf", "a.srt", "a.vtt", "a.m3u8", "a.ts",
               "a.mkv", "a.flac", "a.opus", "a.eml", "a.pem", "a.crt", "a.p12", "a.ps", "a.tex",
               "a.", ".txt", "..txt", "dir/.hidden.txt", "a.txt/", "a.txt/b", "noext",
               "a.unknownext", "a.b.c.html", "caf\u00e9.txt", "a.t\u00e9xt", "a.tar.gz.txt"]


def fam_object_meta(s: Seq):
    """Object semantics beside the basic PUT/GET: the type POST sets (and
    its listing row), guessed types, far X-Delete-At times, X-If-Delete-At
    on DELETE, and how metadata limits count on POST."""
    rng = s.rng
    cn = s.name()
    c = f"{s.acct}/{cn}"
    s.add("put-container", "PUT", c)
    o = f"{c}/typed"
    s.add("put-typed", "PUT", o, [("Content-Type", "text/x-first"), ("X-Object-Meta-A", "1")],
          body=b"typed")
    s.add("post-type", "POST", o, [("Content-Type", rng.choice(["text/x-second", "image/png",
                                                                 "text/html; charset=utf-8"]))])
    s.add("head-after-post-type", "HEAD", o)
    s.add("listing-after-post-type", "GET", f"{c}?format=json", listing=True)
    s.add("post-no-type", "POST", o, [("X-Object-Meta-B", "2")])
    s.add("head-type-kept", "HEAD", o)
    s.add("listing-type-kept", "GET", f"{c}?format=json", listing=True)
    # guessed types
    for n in rng.sample(GUESS_NAMES, 6):
        path = f"{c}/g/{q(n)}"
        s.add("put-guess", "PUT", path, body=b"g")
        s.add("head-guess", "HEAD", path)
    s.add("put-detect", "PUT", f"{c}/g/{q(rng.choice(GUESS_NAMES))}",
          [("Content-Type", "text/plain"), ("X-Detect-Content-Type", "true")], body=b"d")
    s.add("listing-guess", "GET", f"{c}?format=json&prefix=g/", listing=True)
    # far delete-at times are capped, not refused
    far = rng.choice(["9999999999", "99999999999", "1" + "0" * 30, "+99999999999", "1_9999999999",
                      "9" * 50])
    s.add("put-delete-at-far", "PUT", f"{c}/far", [("X-Delete-At", far)], body=b"far")
    s.add("head-delete-at-far", "HEAD", f"{c}/far")
    s.add("post-delete-after-far", "POST", f"{c}/far",
          [("X-Delete-After", rng.choice(["99999999999", "9" * 40, "1_000_000"]))])
    s.add("head-delete-after-far", "HEAD", f"{c}/far")
    # X-If-Delete-At on DELETE (the expirer's condition)
    bad = rng.choice(["abc", "-1", "", "10000000000", "1.5e", "nan", "1_2_3", "0x10"])
    s.add("delete-if-delete-at-bad", "DELETE", f"{c}/far", [("X-If-Delete-At", bad)])
    s.add("delete-if-delete-at-bad-missing", "DELETE", f"{c}/nothing", [("X-If-Delete-At", bad)])
    s.add("delete-if-delete-at-missing", "DELETE", f"{c}/nothing", [("X-If-Delete-At", "9999999999")])
    s.add("delete-if-delete-at-other", "DELETE", f"{c}/far",
          [("X-If-Delete-At", rng.choice(["1234567890", "0", "9999999998"]))])
    s.add("put-delete-at-known", "PUT", f"{c}/known", [("X-Delete-At", "9999999999")], body=b"k")
    s.add("delete-if-delete-at-match", "DELETE", f"{c}/known",
          [("X-If-Delete-At", rng.choice(["9999999999", "9999999999.000001", "9999999999.0"]))])
    s.add("delete-if-delete-at-zero", "DELETE", o, [("X-If-Delete-At", "0")])
    s.add("head-deleted", "HEAD", o)
    # POST replaces an object's metadata: only the request's items count
    n1 = rng.randint(50, 90)
    s.add("put-many-meta", "PUT", f"{c}/meta", [(f"X-Object-Meta-A{i}", "v") for i in range(n1)],
          body=b"m")
    n2 = rng.choice([50, 90, 91])
    s.add("post-many-meta", "POST", f"{c}/meta", [(f"X-Object-Meta-B{i}", "v") for i in range(n2)])
    # (over the size limit only: Swift's object server fails large
    # metadata with 503 where the filesystem's xattrs are small)
    s.add("post-large-meta", "POST", f"{c}/meta",
          [(f"X-Object-Meta-C{i}", "v" * 250) for i in range(17)])
    s.add("head-meta", "HEAD", f"{c}/meta")
    s.add("listing-end", "GET", f"{c}?format=json", listing=True)
    # ... while a container's POST merges: stored and new items count together
    cm = f"{s.acct}/{s.name('m')}"
    s.add("put-container-many-meta", "PUT", cm,
          [(f"X-Container-Meta-A{i}", "v") for i in range(rng.randint(40, 60))])
    s.add("post-container-more-meta", "POST", cm,
          [(f"X-Container-Meta-B{i}", "v") for i in range(rng.choice([20, 40, 60]))])
    s.add("head-container-meta", "HEAD", cm)


def range_header(rng: random.Random, size: int) -> tuple:
    """(Range value, label): the label names the kinds of ranges in it."""
    def one():
        kind = rng.random()
        if kind < 0.3:
            a = rng.randint(0, size + 5)
            return f"{a}-{a + rng.randint(0, 50)}", "closed"
        if kind < 0.45:
            return f"-{rng.randint(0, size + 5)}", "suffix"
        if kind < 0.6:
            return f"{rng.randint(0, size + 5)}-", "open"
        if kind < 0.7:
            return rng.choice(["0-0", f"{size - 1}-{size - 1}", f"0-{size}", f"{size}-"]), "edge"
        if kind < 0.8:
            a = rng.randint(0, size)
            return f"{a + 5}-{a}", "reversed"
        return rng.choice(["", "-", "x-y", "1-2-3", " 0-1", "0 -1", "00-01"]), "malformed"
    n = rng.choice([1, 1, 1, 2, 3])
    unit = rng.choice(["bytes=", "bytes=", "bytes=", "Bytes=", "bytes =", "items="])
    parts = [one() for _ in range(n)]
    label = ("" if unit == "bytes=" else "unit:" + unit.replace(" ", "_") + ",") + ",".join(
        sorted({k for _, k in parts}))
    return unit + ",".join(v for v, _ in parts), label


def fam_range(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-container", "PUT", c)
    size = rng.choice([0, 1, 10, 100, 1000, 3000])
    data = body_of(rng, size)
    o = f"{c}/obj"
    s.add("put", "PUT", o, [("Content-Type", "application/octet-stream")], body=data)
    for _ in range(rng.randint(6, 12)):
        m = rng.choice(["GET", "GET", "GET", "HEAD"])
        value, label = range_header(rng, max(size, 1))
        s.add(f"{m.lower()}:{'empty:' if size == 0 else ''}{label}", m, o, [("Range", value)])
    s.add("get-if-range-etag", "GET", o, [("Range", "bytes=0-1"), ("If-Range", md5(data))])
    s.add("get-if-range-wrong", "GET", o, [("Range", "bytes=0-1"), ("If-Range", '"nope"')])


def fam_conditional(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-container", "PUT", c)
    data = body_of(rng, rng.randint(1, 200))
    o = f"{c}/obj"
    s.add("put", "PUT", o, body=data)
    s.add("head", "HEAD", o, capture=[("lm", "Last-Modified", None),
                                      ("lm_minus", "Last-Modified", shift_date(-86400)),
                                      ("lm_plus", "Last-Modified", shift_date(86400))])
    etag = md5(data)
    values = {  # label -> value
        "If-Match": {"etag": etag, "quoted": '"' + etag + '"', "star": "*", "wrong": '"nope"',
                     "list": f'"nope", "{etag}"', "upper": etag.upper(), "empty": ""},
        "If-None-Match": {"etag": etag, "quoted": '"' + etag + '"', "star": "*", "wrong": '"nope"',
                          "list": f'"nope", "{etag}"', "weak": 'W/"' + etag + '"'},
        "If-Modified-Since": {"lm": "${lm}", "before": "${lm_minus}", "after": "${lm_plus}",
                              "garbage": "garbage", "future": http_date(time.time() + 86400 * 400),
                              "epoch": "Thu, 01 Jan 1970 00:00:00 GMT"},
        "If-Unmodified-Since": {"lm": "${lm}", "before": "${lm_minus}", "after": "${lm_plus}",
                                "garbage": "garbage", "epoch": "Thu, 01 Jan 1970 00:00:00 GMT"},
    }
    for _ in range(rng.randint(8, 14)):
        hdrs, label = [], []
        for h in sorted(rng.sample(list(values), rng.choice([1, 1, 2]))):
            k = rng.choice(list(values[h]))
            hdrs.append((h, values[h][k]))
            label.append(f"{h.lower()}={k}")
        if rng.random() < 0.2:
            hdrs.append(("Range", "bytes=0-0"))
            label.append("range")
        m = rng.choice(["GET", "GET", "HEAD"])
        s.add(f"{m.lower()}:" + "+".join(label), m, o, hdrs)
    s.add("delete-if-match", "DELETE", o, [("If-Match", '"nope"')])
    s.add("post-if-match", "POST", o, [("If-Match", '"nope"')])


def fam_copy(s: Seq):
    rng = s.rng
    c1 = f"{s.acct}/{s.name('a')}"
    c2 = f"{s.acct}/{s.name('b')}"
    s.add("put-container", "PUT", c1)
    s.add("put-container", "PUT", c2)
    data = body_of(rng, rng.randint(0, 500))
    src = f"{s.name('a')}/src"
    meta = {meta_name(rng): meta_value(rng) for _ in range(rng.randint(1, 3))}
    s.add("put-source", "PUT", f"{s.acct}/{src}",
          [("Content-Type", "text/x-src"), ("Content-Disposition", "inline")]
          + [(f"X-Object-Meta-{k}", v) for k, v in meta.items()], body=data)
    extra = []
    if rng.random() < 0.4:
        extra.append(("X-Object-Meta-" + meta_name(rng), meta_value(rng)))
    if rng.random() < 0.3:
        extra.append(("X-Fresh-Metadata", rng.choice(["true", "false"])))
    if rng.random() < 0.3:
        extra.append(("Content-Type", "text/x-copied"))
    dest_c = rng.choice([s.name("a"), s.name("b")])
    s.add("copy", "COPY", f"{s.acct}/{src}", [("Destination", f"{dest_c}/d1")] + extra)
    s.add("head-copy", "HEAD", f"{s.acct}/{dest_c}/d1")
    s.add("put-copy-from", "PUT", f"{c2}/d2",
          [("X-Copy-From", rng.choice([src, "/" + src]))] + extra, body=b"")
    s.add("get-copy-from", "GET", f"{c2}/d2")
    s.add("copy-missing-source", "COPY", f"{c1}/missing", [("Destination", f"{s.name('b')}/x")])
    s.add("copy-missing-dest-container", "COPY", f"{s.acct}/{src}",
          [("Destination", f"{s.name('nope')}/x")])
    s.add("copy-bad-destination", "COPY", f"{s.acct}/{src}",
          [("Destination", rng.choice(["nocontainer", "", "/", "c/"]))])
    s.add("copy-no-destination", "COPY", f"{s.acct}/{src}")
    s.add("copy-if-match-wrong", "COPY", f"{s.acct}/{src}",
          [("Destination", f"{s.name('b')}/d4"), ("If-Match", '"nope"')])
    s.add("copy-if-match", "COPY", f"{s.acct}/{src}",
          [("Destination", f"{s.name('b')}/d5"), ("If-Match", md5(data))])
    s.add("copy-to-self", "COPY", f"{s.acct}/{src}",
          [("Destination", src), ("X-Object-Meta-Self", "1")])
    s.add("head-self", "HEAD", f"{s.acct}/{src}")
    s.add("copy-from-account", "PUT", f"{c2}/d6",
          [("X-Copy-From", src), ("X-Copy-From-Account", ACCOUNT)], body=b"")
    s.add("copy-dest-account", "COPY", f"{s.acct}/{src}",
          [("Destination", f"{s.name('b')}/d7"), ("Destination-Account", "AUTH_test2")])
    s.add("copy-from-bad", "PUT", f"{c2}/d8", [("X-Copy-From", "nocontainer")], body=b"")
    s.add("listing", "GET", f"{c2}?format=json", listing=True)
    # Range on a copy, into a container of its own that nothing lists.
    c3 = f"{s.acct}/{s.name('r')}"
    s.add("put-container", "PUT", c3)
    if rng.random() < 0.5:
        s.add("copy-range", "COPY", f"{s.acct}/{src}",
              [("Destination", f"{s.name('r')}/d3"), ("Range", "bytes=0-3")])
    else:
        s.add("put-copy-from-range", "PUT", f"{c3}/d3", [("X-Copy-From", src), ("Range", "bytes=0-3")],
              body=b"")
    s.add("get-range-copy", "GET", f"{c3}/d3")


def fam_expiry(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-container", "PUT", c)
    # Expires 3 s after its PUT: the steps up to "get-expired" run before
    # that (listing-before first), "get-expired" waits until after it.
    s.add("put-delete-after", "PUT", f"{c}/short", [("X-Delete-After", "3")], body=b"bye")
    s.add("put-delete-at", "PUT", f"{c}/long",
          [("X-Delete-At", str(int(time.time()) + 3600))], body=b"stay")
    s.add("listing-before", "GET", f"{c}?format=json", listing=True)
    s.add("head-delete-at", "HEAD", f"{c}/long")
    s.add("post-delete-after", "POST", f"{c}/long", [("X-Delete-After", "7200")])
    s.add("head-after-post", "HEAD", f"{c}/long")
    s.add("post-lifts", "POST", f"{c}/long", [("X-Object-Meta-A", "b")])
    s.add("head-lifted", "HEAD", f"{c}/long")
    bad = rng.choice([("X-Delete-At", "1000"), ("X-Delete-At", "abc"), ("X-Delete-After", "-5"),
                      ("X-Delete-After", "0"), ("X-Delete-At", str(int(time.time()) + 3600) + ".5")])
    s.add("post-bad", "POST", f"{c}/long", [bad])
    s.add("put-bad", "PUT", f"{c}/bad", [bad], body=b"x")
    s.add("get-expired", "GET", f"{c}/short", pause=3.5)
    s.add("head-expired", "HEAD", f"{c}/short")
    s.add("post-expired", "POST", f"{c}/short", [("X-Object-Meta-A", "b")])
    s.add("copy-expired", "COPY", f"{c}/short", [("Destination", f"{s.name()}/copy")])
    s.add("listing-after", "GET", f"{c}?format=json", settle=("gone", c, "short"), listing=True)
    s.add("container-head-after", "HEAD", c)
    s.add("delete-expired", "DELETE", f"{c}/short")


ACL_READ = [".r:*", ".r:*,.rlistings", "test2:tester2", "test2", "test:member", ".r:example.com",
            ".r:.example.com,.rlistings", ".r:-bad.example.com,.r:*", "test2:tester2,.r:*",
            ".referrer:*", "  test2:tester2 , .r:* ", "*:*", ".rlistings"]
ACL_WRITE = ["test2:tester2", "test:member", "test2", "test2:tester2,test:member"]


def fam_acl(s: Seq):
    rng = s.rng
    cn = s.name()
    c = f"{s.acct}/{cn}"
    read = rng.choice(ACL_READ)
    write = rng.choice(ACL_WRITE + [None])
    hdrs = [("X-Container-Read", read)] + ([("X-Container-Write", write)] if write else [])
    s.add("put-container", "PUT", c, hdrs)
    s.add("put-object", "PUT", f"{c}/o1", body=b"data")
    s.add("head-owner", "HEAD", c)
    callers = [(OTHER, []), (MEMBER, []), (ANON, []), (ANON, [("Referer", "http://www.example.com/x")]),
               (ANON, [("Referer", "http://bad.example.com/")]), (BAD_TOKEN, [])]
    ops = [("get-object", "GET", f"{c}/o1", b""), ("head-object", "HEAD", f"{c}/o1", b""),
           ("get-listing", "GET", f"{c}?format=json", b""), ("head-container", "HEAD", c, b""),
           ("put-object", "PUT", f"{c}/new", b"new"), ("post-object", "POST", f"{c}/o1", b""),
           ("post-container", "POST", c, b""), ("delete-object", "DELETE", f"{c}/new", b"")]
    for who, extra in callers:
        label = {OTHER: "other", MEMBER: "member", ANON: "anon", BAD_TOKEN: "badtoken"}[who]
        if extra:
            label += "-referer"
        for case, m, path, body in rng.sample(ops, rng.randint(3, len(ops))):
            h = list(extra)
            if case == "post-container":
                h.append(("X-Container-Read", ".r:*"))
            s.add(f"{label}.{case}", m, path, h, body=body, user=who,
                  listing=case == "get-listing")
    s.add("head-owner-after", "HEAD", c)
    s.add("remove-read", "POST", c, [("X-Remove-Container-Read", "x")])
    s.add("head-removed", "HEAD", c)
    s.add("other.get-after-remove", "GET", f"{c}/o1", user=OTHER)
    s.add("set-empty-write", "POST", c, [("X-Container-Write", "")])
    s.add("head-empty-write", "HEAD", c)


def fam_account_acl(s: Seq):
    rng = s.rng
    acct = f"/v1/AUTH_{s.id}"
    R = dict(user=RESELLER)
    s.add("put-container", "PUT", f"{acct}/c", **R)
    s.add("put-object", "PUT", f"{acct}/c/o", body=b"x", **R)
    grants = {}
    for role in ("read-only", "read-write", "admin"):
        if rng.random() < 0.6:
            grants[role] = rng.sample([OTHER, MEMBER, "test2", "test"], rng.randint(1, 2))
    s.add("post-acl", "POST", acct, [("X-Account-Access-Control", json.dumps(grants))], **R)
    s.add("head-owner", "HEAD", acct, **R)
    for who in (OTHER, MEMBER):
        label = "other" if who == OTHER else "member"
        for case, m, path, h, body in rng.sample([
                ("head-account", "HEAD", acct, [], b""),
                ("get-account", "GET", acct + "?format=json", [], b""),
                ("get-object", "GET", f"{acct}/c/o", [], b""),
                ("put-object", "PUT", f"{acct}/c/new-{label}", [], b"y"),
                ("put-container", "PUT", f"{acct}/c-{label}", [], b""),
                ("post-container-acl", "POST", f"{acct}/c", [("X-Container-Read", ".r:*")], b""),
                ("post-account-meta", "POST", acct, [("X-Account-Meta-By", label)], b""),
                ("post-account-acl", "POST", acct, [("X-Account-Access-Control", "{}")], b""),
                ("delete-object", "DELETE", f"{acct}/c/o", [], b"")], rng.randint(4, 9)):
            s.add(f"{label}.{case}", m, path, h, body=body, user=who,
                  listing=case == "get-account")
    s.add("head-container-owner", "HEAD", f"{acct}/c", **R)
    s.add("post-acl-invalid", "POST", acct,
          [("X-Account-Access-Control", rng.choice(['{"read-only": "x"}', '{"nope": []}', "not json"]))],
          **R)
    s.add("post-acl-clear", "POST", acct, [("X-Account-Access-Control", "{}")], **R)
    s.add("head-cleared", "HEAD", acct, **R)


NAME_CASES = ["a//b", "a/", "/lead", "a%2Fb", "dir/", "x%20y", "plus+sign", "q%3Fmark", "hash%23",
              "caf%C3%A9", "%E2%98%83", ".", "..", "a/./b", "a/../b", "%FF", "a%00b", "%01ctrl",
              "tab%09", "~", "%25", "semi;colon", "amp&er", "eq=al", "space%20end%20",
              "x" * 1024]


def fam_names(s: Seq):
    rng = s.rng
    cn = s.name()
    c = f"{s.acct}/{cn}"
    s.add("put-container", "PUT", c)
    for n in rng.sample(NAME_CASES, rng.randint(4, 8)):
        if n == "x" * 1024:
            n = "x" * (1024 - len(cn) - 1)
        s.add("put", "PUT", f"{c}/{n}", body=b"n")
        s.add("get", "GET", f"{c}/{n}")
    s.add("listing", "GET", f"{c}?format=json", listing=True)
    s.add("listing-plain", "GET", c, listing=True)


def fam_errors(s: Seq):
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    s.add("put-container", "PUT", c)
    acct = f"/v1/AUTH_{s.id}"  # account-level cases: a fresh account (reseller)
    s.add("put-container-fresh-account", "PUT", f"{acct}/c", user=RESELLER)
    cases = [
        ("account-trailing-slash", "GET", acct + "/", [], RESELLER),
        ("account-double-slash", "GET", acct + "//", [], RESELLER),
        ("account-head-trailing-slash", "HEAD", acct + "/", [], RESELLER),
        ("container-trailing-slash", "HEAD", c + "/", [], OWNER),
        ("other-account", "GET", "/v1/AUTH_test2", [], OWNER),
        ("other-account-object", "PUT", "/v1/AUTH_test2/c/o", [], OWNER),
        ("no-prefix-account", "GET", "/v1/foo", [], OWNER),
        ("v1-only", "GET", "/v1", [], OWNER),
        ("bad-token", "GET", c, [], BAD_TOKEN),
        ("anon-container", "GET", c, [], ANON),
        ("anon-object", "GET", c + "/o", [], ANON),
        ("storage-token-header", "GET", c, [("X-Storage-Token", "${tok}")], ANON),
        ("header-too-long", "PUT", c + "/o", [("X-Object-Meta-Big", "v" * 8193)], OWNER),
        ("trace", "TRACE", c, [], OWNER),
        ("method", rng.choice(["PATCH", "FOO", "PROPFIND"]), c + "/o", [], OWNER),
        ("options-no-origin", "OPTIONS", c + "/o", [], ANON),
        ("options-origin", "OPTIONS", c + "/o",
         [("Origin", "http://example.com"), ("Access-Control-Request-Method", "GET")], ANON),
        ("get-with-origin", "GET", c, [("Origin", "http://example.com")], OWNER),
        ("expect-continue", "PUT", c + "/e", [("Expect", "100-continue")], OWNER),
        ("long-url", "GET", c + "/" + "u" * 9000, [], OWNER),
        ("auth-token-and-storage-token", "HEAD", c, [("X-Storage-Token", "bogus")], OWNER),
        ("x-newest", "GET", c, [("X-Newest", "true")], OWNER),
        ("content-length-on-get", "GET", c, [("Content-Length", "0")], OWNER),
        ("invalid-utf8-container", "PUT", s.acct + "/%C3%28", [], OWNER),
        ("bad-percent", "GET", c + "/%zz", [], OWNER),
    ]
    for case, m, path, hdrs, who in rng.sample(cases, rng.randint(10, len(cases))):
        body = b"e" if case == "expect-continue" else b""
        s.add(case, m, path, hdrs, body=body, user=who)


def fam_middleware(s: Seq):
    """Features of Swift's stock pipeline beyond the core API: DLO, SLO,
    symlinks, versioning, quotas, tempurl, bulk, CORS."""
    cn = s.name()
    c = f"{s.acct}/{cn}"
    s.add("put-container", "PUT", c)
    s.add("put-segment", "PUT", f"{c}/seg/1", body=b"one")
    s.add("put-segment", "PUT", f"{c}/seg/2", body=b"two")
    s.add("put-dlo", "PUT", f"{c}/dlo", [("X-Object-Manifest", f"{cn}/seg/")], body=b"")
    s.add("get-dlo", "GET", f"{c}/dlo")
    s.add("head-dlo", "HEAD", f"{c}/dlo")
    s.add("get-dlo-manifest", "GET", f"{c}/dlo?multipart-manifest=get")
    slo = json.dumps([{"path": f"{cn}/seg/1", "etag": md5(b"one"), "size_bytes": 3}])
    s.add("put-slo", "PUT", f"{c}/slo?multipart-manifest=put", body=slo.encode())
    s.add("get-slo", "GET", f"{c}/slo")
    s.add("put-symlink", "PUT", f"{c}/link", [("X-Symlink-Target", f"{cn}/seg/1")], body=b"")
    s.add("get-symlink", "GET", f"{c}/link")
    s.add("put-versions", "PUT", f"{s.acct}/{s.name('v')}", [("X-Versions-Location", s.name("old"))])
    s.add("head-versions", "HEAD", f"{s.acct}/{s.name('v')}")
    s.add("put-quota", "PUT", f"{s.acct}/{s.name('q')}", [("X-Container-Meta-Quota-Count", "1")])
    s.add("put-quota-1", "PUT", f"{s.acct}/{s.name('q')}/1", body=b"1")
    s.add("put-quota-2", "PUT", f"{s.acct}/{s.name('q')}/2", body=b"2")
    s.add("tempurl", "GET", f"{c}/seg/1?temp_url_sig={'0' * 40}&temp_url_expires={int(time.time()) + 60}",
          user=ANON)
    s.add("bulk-delete", "POST", f"{s.acct}?bulk-delete", [("Content-Type", "text/plain")],
          body=f"{cn}/seg/2\n".encode())
    s.add("cors-container", "POST", c, [("X-Container-Meta-Access-Control-Allow-Origin", "*")])
    s.add("cors-preflight", "OPTIONS", f"{c}/seg/1",
          [("Origin", "http://example.com"), ("Access-Control-Request-Method", "GET")], user=ANON)
    s.add("listing", "GET", f"{c}?format=json", listing=True)


def fam_dlo(s: Seq):
    """Dynamic large objects (Swift's dlo middleware): a manifest's GET and
    HEAD join the segments listed under its prefix (Content-Length, the
    quoted MD5 of the segments' ETags), Range across segment boundaries,
    conditions against the joined ETag, ?multipart-manifest=get, POST and
    COPY of a manifest, the PUT's header check, a prefix that lists nothing
    or the manifest itself, segments in another container, a segment
    container others cannot read, a first segment deleted."""
    rng = s.rng
    cn, sn = s.name(), s.name("segs")
    c, sc = f"{s.acct}/{cn}", f"{s.acct}/{sn}"
    s.add("put-container", "PUT", c)
    s.add("put-container", "PUT", sc)
    segc, segp = (sc, sn) if rng.random() < 0.6 else (c, cn)
    bodies = [body_of(rng, rng.choice([0, 1, 3, 5, 8])) for _ in range(rng.randint(1, 5))]
    for i, b in enumerate(bodies):
        s.add("put-segment", "PUT", f"{segc}/big/{i:03d}", body=b)
    whole = b"".join(bodies)
    joined = md5("".join(md5(b) for b in bodies).encode())
    m = f"{c}/big"
    s.add("put-manifest", "PUT", m, [("X-Object-Manifest", f"{segp}/big/"),
                                      ("Content-Type", "text/x-dlo"),
                                      ("X-Object-Meta-Kind", "dlo")])
    s.add("get-dlo", "GET", m)
    s.add("head-dlo", "HEAD", m)
    s.add("get-dlo-manifest", "GET", m + "?multipart-manifest=get")
    s.add("head-dlo-manifest", "HEAD", m + "?multipart-manifest=get")
    n = len(whole)
    specs = ["bytes=0-0", f"bytes=0-{max(n - 1, 0)}", "bytes=-3", "bytes=2-", f"bytes={n}-",
             f"bytes={n + 5}-{n + 9}", "bytes=1-2,4-5", "bytes=abc"]
    if n > 2:
        a = rng.randrange(n - 1)
        specs.append(f"bytes={a}-{rng.randrange(a, n)}")
    for spec in rng.sample(specs, min(len(specs), rng.randint(3, 6))):
        meth = rng.choice(["GET", "GET", "GET", "HEAD"])
        s.add(f"{meth.lower()}-dlo-range", meth, m, [("Range", spec)])
    conds = [("If-None-Match", joined), ("If-None-Match", f'"{joined}"'), ("If-Match", joined),
             ("If-Match", '"nope"'), ("If-None-Match", md5(b"")), ("If-Match", md5(b""))]
    for h, v in rng.sample(conds, 3):
        meth = rng.choice(["GET", "HEAD"])
        s.add(f"{meth.lower()}-dlo-cond", meth, m, [(h, v)])
    # Copies: joined, or the manifest itself with ?multipart-manifest=get.
    s.add("copy-dlo", "COPY", m, [("Destination", f"{cn}/joined")])
    s.add("get-dlo-copy", "GET", f"{c}/joined")
    s.add("copy-dlo-manifest", "COPY", m + "?multipart-manifest=get",
          [("Destination", f"{cn}/manifest2")])
    s.add("head-dlo-manifest-copy", "HEAD", f"{c}/manifest2")
    s.add("copy-dlo-range", "PUT", f"{c}/ranged", [("X-Copy-From", f"{cn}/big"),
                                                   ("Range", rng.choice(["bytes=1-4", "bytes=-2",
                                                                         "bytes=1-2,4-5"]))])
    s.add("get-dlo-range-copy", "GET", f"{c}/ranged")
    s.add("copy-dlo-cond", "COPY", m, [("Destination", f"{cn}/cond"),
                                       ("If-Match", rng.choice([joined, '"nope"']))])
    # POST keeps the manifest only with the header.
    if rng.random() < 0.5:
        s.add("post-dlo", "POST", m, [("X-Object-Manifest", f"{segp}/big/"),
                                      ("X-Object-Meta-Kind", "posted")])
    else:
        s.add("post-dlo-drop", "POST", m, [("X-Object-Meta-Kind", "plain")])
    s.add("get-dlo-after-post", "GET", m)
    # Read rights: a member reads the manifest's container, not the segments'.
    s.add("post-acl", "POST", c, [("X-Container-Read", MEMBER)])
    s.add("put-acl-dlo", "PUT", f"{c}/acl", [("X-Object-Manifest", f"{sn}/acl/")])
    s.add("put-segment", "PUT", f"{sc}/acl/1", body=b"secret")
    s.add("get-dlo-no-read", "GET", f"{c}/acl", user=MEMBER)
    s.add("head-dlo-no-read", "HEAD", f"{c}/acl", user=MEMBER)
    s.add("post-acl", "POST", sc, [("X-Container-Read", ".r:*")])
    s.add("get-dlo-referrer-no-listing", "GET", f"{c}/acl", user=MEMBER)
    s.add("post-acl", "POST", sc, [("X-Container-Read", f"{MEMBER},.rlistings")])
    s.add("get-dlo-read", "GET", f"{c}/acl", user=MEMBER)
    # Prefixes: nothing listed, the manifest's own name, a missing container.
    s.add("put-empty-dlo", "PUT", f"{c}/empty", [("X-Object-Manifest", f"{cn}/nothing-here")])
    s.add("get-empty-dlo", "GET", f"{c}/empty")
    s.add("get-empty-dlo-range", "GET", f"{c}/empty", [("Range", "bytes=0-0")])
    s.add("put-self-dlo", "PUT", f"{c}/self", [("X-Object-Manifest", f"{cn}/sel")],
          body=rng.choice([b"", b"own bytes"]))
    s.add("put-segment", "PUT", f"{c}/self2", body=b"22")
    s.add("get-self-dlo", "GET", f"{c}/self")
    s.add("put-lost-dlo", "PUT", f"{c}/lost", [("X-Object-Manifest", "no-such-container/p")])
    s.add("get-lost-dlo", "GET", f"{c}/lost")
    s.add("head-lost-dlo", "HEAD", f"{c}/lost")
    # The manifest header as a PUT sends it.
    bad = rng.sample(["nocontainer", "/p", "c/", "c//p", "c/p?x", "c/p&x", "c%2Fp", "c/p%3F"], 3)
    for v in bad:
        s.add("put-bad-manifest", "PUT", f"{c}/bad", [("X-Object-Manifest", v)])
    s.add("post-bad-manifest", "POST", m, [("X-Object-Manifest", "nocontainer")])
    s.add("put-manifest", "PUT", f"{c}/big2", [("X-Object-Manifest", f"{segp}/big/")])
    # The first segment deleted: 409 (if it had bytes).
    s.add("delete-segment", "DELETE", f"{segc}/big/000")
    s.add("get-dlo-first-gone", "GET", f"{c}/big2")
    s.add("head-dlo-first-gone", "HEAD", f"{c}/big2")
    s.add("copy-dlo-first-gone", "COPY", f"{c}/big2", [("Destination", f"{cn}/never")])
    s.add("listing", "GET", f"{c}?format=json", listing=True)


BAD_QUOTAS = ["abc", "-1", "1.5", "+1", "1e3", "0x10", "1 0", "\u00b2".encode("latin-1")]


def fam_container_quotas(s: Seq):
    """container_quotas: X-Container-Meta-Quota-Bytes/-Count validated on
    container PUT/POST, and object PUTs, chunked PUTs and copies refused
    (413) when they would take the container over. Swift reads the
    container's counts from a cache that only a container PUT or POST
    clears: every PUT whose answer depends on the counts follows one."""
    rng = s.rng
    cn = s.name()
    c = f"{s.acct}/{cn}"
    kind = rng.choice(["Bytes", "Count"])
    s.add("put-invalid", "PUT", c, [(f"X-Container-Meta-Quota-{kind}", rng.choice(BAD_QUOTAS))])
    s.add("head-invalid", "HEAD", c)
    quota = rng.randint(10, 40)
    count = rng.randint(2, 4)
    s.add("put", "PUT", c, [("X-Container-Meta-Quota-Bytes", str(quota)),
                            ("X-Container-Meta-Quota-Count", str(count))])
    s.add("head", "HEAD", c)
    s.add("post-invalid", "POST", c,
          [(f"X-Container-Meta-Quota-{rng.choice(['Bytes', 'Count'])}", rng.choice(BAD_QUOTAS))])
    s.add("put-over-bytes", "PUT", f"{c}/big", body=b"b" * (quota + rng.randint(1, 5)))
    first = rng.randint(1, quota - 1)
    s.add("put-fits", "PUT", f"{c}/a", body=b"a" * first)
    s.add("post-refresh", "POST", c, [("X-Container-Meta-Step", "1")])
    s.add("put-over-bytes-after", "PUT", f"{c}/b", body=b"b" * (quota - first + 1))
    s.add("put-exactly", "PUT", f"{c}/b", body=b"b" * (quota - first))
    s.add("post-count", "POST", c, [("X-Container-Meta-Quota-Bytes", ""),
                                    ("X-Container-Meta-Quota-Count", "2")])
    s.add("put-over-count", "PUT", f"{c}/c", body=b"")
    s.add("put-overwrite-over-count", "PUT", f"{c}/a", body=b"new")
    s.add("head-after", "HEAD", c)
    # A chunked PUT counts as 0 bytes: let in while the container is
    # within its quota, whatever its size; refused once it is over.
    s.add("post-chunked", "POST", c, [("X-Container-Meta-Quota-Bytes", str(quota)),
                                      ("X-Remove-Container-Meta-Quota-Count", "x")])
    s.add("put-chunked-within", "PUT", f"{c}/chunk", body=b"c" * rng.randint(2, 30), chunked=True)
    s.add("post-refresh", "POST", c, [("X-Container-Meta-Step", "2")])
    s.add("put-chunked-over", "PUT", f"{c}/chunk2", body=b"d" * rng.randint(1, 5), chunked=True)
    s.add("put-empty-over", "PUT", f"{c}/empty", body=b"")
    # Copies count what they write.
    src = f"{s.acct}/{s.name('src')}"
    s.add("put-source-container", "PUT", src)
    size = rng.randint(5, 20)
    s.add("put-source", "PUT", f"{src}/o", body=bytes(range(size)))
    s.add("post-copy", "POST", c, [("X-Container-Meta-Quota-Bytes", "0"),
                                   ("X-Container-Meta-Quota-Count", "")])
    s.add("copy-over", "COPY", f"{src}/o", [("Destination", f"{cn}/copied")])
    s.add("copy-from-over", "PUT", f"{c}/copied", [("X-Copy-From", f"{s.name('src')}/o")], body=b"")
    s.add("post-copy-room", "POST", c, [("X-Container-Meta-Quota-Bytes", str(10 ** 9)),
                                        ("X-Container-Meta-Quota-Count", str(count + 3))])
    s.add("copy-fits", "COPY", f"{src}/o", [("Destination", f"{cn}/copied")])
    s.add("post-copy-range", "POST", c, [("X-Container-Meta-Quota-Bytes", "0")])
    s.add("copy-range-over", "PUT", f"{c}/r", [("X-Copy-From", f"{s.name('src')}/o"),
                                               ("Range", "bytes=0-1")], body=b"")
    # Who may not write learns nothing from the quota.
    s.add("member-over", "PUT", f"{c}/m", body=b"m", user=MEMBER)
    s.add("anon-over", "PUT", f"{c}/m", body=b"m", user=ANON)
    s.add("post-write-acl", "POST", c, [("X-Container-Write", MEMBER)])
    s.add("member-over-with-acl", "PUT", f"{c}/m", body=b"m", user=MEMBER)
    s.add("post-cors", "POST", c, [("X-Container-Meta-Access-Control-Allow-Origin", "*")])
    s.add("put-over-cors", "PUT", f"{c}/o", [("Origin", "http://a.example")], body=b"o")
    s.add("copy-over-cors", "COPY", f"{src}/o", [("Destination", f"{cn}/o"),
                                                 ("Origin", "http://a.example")])
    s.add("listing", "GET", f"{c}?format=json", listing=True)
    # An SLO manifest PUT is checked by the manifest's own length, not by
    # the total of its segments (the segments' source container is src).
    segs = [{"path": f"{s.name('src')}/o", "etag": md5(bytes(range(size))), "size_bytes": size}]
    manifest = json.dumps(segs * rng.randint(2, 4)).encode()
    m = f"{s.acct}/{s.name('m')}"
    s.add("put-slo-container", "PUT", m, [("X-Container-Meta-Quota-Bytes", str(len(manifest)))])
    s.add("slo-put-fits", "PUT", f"{m}/fits?multipart-manifest=put", body=manifest)
    s.add("post-slo", "POST", m, [("X-Container-Meta-Quota-Bytes", str(len(manifest) - 1))])
    s.add("slo-put-over", "PUT", f"{m}/over?multipart-manifest=put", body=manifest)
    for name in ["a", "b", "chunk", "copied"]:
        s.add("cleanup", "DELETE", f"{c}/{name}")
    s.add("cleanup", "DELETE", f"{m}/fits")
    s.add("cleanup", "DELETE", m)
    s.add("cleanup", "DELETE", f"{src}/o")
    s.add("cleanup", "DELETE", src)
    s.add("cleanup", "DELETE", c)


QUOTA_ACCT = "/v1/AUTH_quota"


def plus(n: int):
    return lambda v: str(int(v) + n)


def fam_account_quotas(s: Seq):
    """account_quotas in an account of its own (AUTH_quota): only the
    reseller admin sets X-Account-Quota-* (403 for anyone else, 400 for
    non-digits), and they bind its admin and members, not the reseller.
    Swift's account counters lag (the harness settles them before an
    account request) and its proxy caches them until an account POST: each
    PUT whose answer depends on them follows a POST."""
    rng = s.rng
    acct = QUOTA_ACCT
    A, M, R = dict(user=QUOTA_ADMIN), dict(user=QUOTA_MEMBER), dict(user=RESELLER)
    qc, qg = s.name("c"), s.name("g")
    s.add("put-container", "PUT", f"{acct}/{qc}", **A)
    s.add("put-gold-container", "PUT", f"{acct}/{qg}", [("X-Storage-Policy", "gold")], **A)
    seed = rng.randint(20, 60)
    s.add("put-seed", "PUT", f"{acct}/{qc}/seed", body=b"s" * seed, **A)
    # Who may set quotas.
    header = rng.choice(["X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes",
                         "X-Account-Quota-Count", "X-Account-Quota-Bytes-Policy-gold",
                         "X-Account-Quota-Count-Policy-Policy-0", "X-Remove-Account-Quota-Bytes",
                         "X-Remove-Account-Meta-Quota-Bytes"])
    value = rng.choice(["10", "", "x"])
    s.add("admin-set", "POST", acct, [(header, value)], **A)
    s.add("member-set", "POST", acct, [(header, "10")], **M)
    s.add("anon-set", "POST", acct, [(header, "10")], user=ANON)
    s.add("other-set", "POST", acct, [(header, "10")], user=OTHER)
    s.add("bad-token-set", "POST", acct, [(header, "10")], user=BAD_TOKEN)
    s.add("reseller-invalid", "POST", acct,
          [(rng.choice(["X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes",
                        "X-Account-Quota-Count", "X-Account-Quota-Bytes-Policy-gold"]),
            rng.choice(BAD_QUOTAS))], **R)
    s.add("reseller-put", "PUT", acct, [("X-Account-Quota-Bytes", rng.choice(["5", "x"]))], **R)
    # Bytes.
    room = rng.randint(5, 20)
    s.add("head", "HEAD", acct, capture=[("qb", "X-Account-Bytes-Used", plus(room))], **R)
    legacy = rng.random() < 0.5
    bytes_header = "X-Account-Meta-Quota-Bytes" if legacy else "X-Account-Quota-Bytes"
    s.add("set-bytes", "POST", acct, [(bytes_header, "${qb}")], **R)
    s.add("head-quota", "HEAD", acct, **A)
    s.add("get-quota", "GET", acct + "?format=json", listing=True, **A)
    s.add("put-over", "PUT", f"{acct}/{qc}/big", body=b"b" * (room + 1), **A)
    s.add("put-fits", "PUT", f"{acct}/{qc}/fit", body=b"f" * room, **A)
    s.add("reseller-put-object", "PUT", f"{acct}/{qc}/res", body=b"rrr", **R)
    s.add("refresh", "POST", acct, [("X-Account-Meta-Step", "1")], **R)
    s.add("put-over-after", "PUT", f"{acct}/{qc}/over", body=b"o", **A)
    s.add("put-chunked-over", "PUT", f"{acct}/{qc}/chunk", body=b"c" * rng.randint(1, 9),
          chunked=True, **A)
    s.add("remove-bytes", "POST", acct, [("X-Remove-Account-Quota-Bytes", "x")], **R)
    s.add("head-removed", "HEAD", acct, **R)
    # With the legacy header the metadata stays, and still binds.
    s.add("put-after-remove", "PUT", f"{acct}/{qc}/after", body=b"a", **A)
    s.add("remove-legacy", "POST", acct, [("X-Remove-Account-Meta-Quota-Bytes", "x")], **R)
    s.add("put-after-legacy", "PUT", f"{acct}/{qc}/after2", body=b"a", **A)
    # Count.
    s.add("head-count", "HEAD", acct, capture=[("qn", "X-Account-Object-Count", plus(1))], **R)
    s.add("set-count", "POST", acct, [("X-Account-Quota-Count", "${qn}")], **R)
    s.add("put-count-fits", "PUT", f"{acct}/{qc}/n1", body=b"", **A)
    s.add("refresh", "POST", acct, [("X-Account-Meta-Step", "2")], **R)
    s.add("put-count-over", "PUT", f"{acct}/{qc}/n2", body=b"", **A)
    # Per policy (quotas the body alone goes over: Swift's own reading of
    # a policy's usage depends on its cache).
    limit = rng.randint(0, 3)
    s.add("set-policy", "POST", acct, [("X-Remove-Account-Quota-Count", "x"),
                                       ("X-Account-Quota-Bytes-Policy-gold", str(limit))], **R)
    s.add("head-policy", "HEAD", acct, **A)
    s.add("put-policy-over", "PUT", f"{acct}/{qg}/o", body=b"g" * (limit + 1), **A)
    s.add("put-other-policy", "PUT", f"{acct}/{qc}/p", body=b"p" * (limit + 1), **A)
    s.add("set-policy-count", "POST", acct, [("X-Account-Quota-Count-Policy-gold", "0")], **R)
    s.add("put-policy-count-over", "PUT", f"{acct}/{qg}/e", body=b"", **A)
    s.add("put-container-quota-first", "POST", f"{acct}/{qg}",
          [("X-Container-Meta-Quota-Count", "0")], **A)
    s.add("put-both-over", "PUT", f"{acct}/{qg}/e", body=b"", **A)
    s.add("remove-policy", "POST", acct, [("X-Remove-Account-Quota-Bytes-Policy-gold", "x"),
                                          ("X-Account-Quota-Count-Policy-gold", "")], **R)
    s.add("post-container-no-quota", "POST", f"{acct}/{qg}",
          [("X-Remove-Container-Meta-Quota-Count", "x")], **A)
    s.add("put-policy-fits", "PUT", f"{acct}/{qg}/ok", body=b"g", **A)
    # Copies count what they write.
    s.add("head-copy", "HEAD", acct, capture=[("qcopy", "X-Account-Bytes-Used", plus(2))], **R)
    s.add("set-copy", "POST", acct, [("X-Account-Quota-Bytes", "${qcopy}")], **R)
    s.add("copy-over", "COPY", f"{acct}/{qc}/seed", [("Destination", f"{qc}/copy")], **A)
    s.add("copy-from-over", "PUT", f"{acct}/{qc}/copy", [("X-Copy-From", f"{qc}/seed")],
          body=b"", **A)
    s.add("copy-range-fits", "COPY", f"{acct}/{qc}/seed",
          [("Destination", f"{qc}/copy"), ("Range", "bytes=0-1")], **A)
    s.add("reseller-copy", "COPY", f"{acct}/{qc}/seed", [("Destination", f"{qc}/rcopy")], **R)
    # The account quota's 413 comes from Swift's controller: CORS applies.
    s.add("post-cors", "POST", f"{acct}/{qc}",
          [("X-Container-Meta-Access-Control-Allow-Origin", "*")], **A)
    s.add("refresh", "POST", acct, [("X-Account-Meta-Step", "cors")], **R)
    s.add("put-over-cors", "PUT", f"{acct}/{qc}/cors", [("Origin", "http://a.example")],
          body=b"c" * 3, **A)
    s.add("copy-over-cors", "COPY", f"{acct}/{qc}/seed",
          [("Destination", f"{qc}/cors"), ("Origin", "http://a.example")], **A)
    # Who may not write learns nothing from the quota.
    s.add("set-zero", "POST", acct, [("X-Account-Quota-Count", "0")], **R)
    s.add("member-over", "PUT", f"{acct}/{qc}/m", body=b"m", **M)
    s.add("anon-over", "PUT", f"{acct}/{qc}/m", body=b"m", user=ANON)
    s.add("post-write-acl", "POST", f"{acct}/{qc}", [("X-Container-Write", QUOTA_MEMBER)], **A)
    s.add("refresh", "POST", acct, [("X-Account-Meta-Step", "3")], **R)
    s.add("member-over-with-acl", "PUT", f"{acct}/{qc}/m", body=b"m", **M)
    s.add("put-missing-container", "PUT", f"{acct}/{s.name('nope')}/o", body=b"x", **A)
    # An SLO manifest PUT over the account's quota: Swift's SLO checks its
    # segments with HEADs that carry the deferred 413, and lists them.
    manifest = json.dumps([{"path": f"{qc}/seed", "etag": md5(b"s" * seed),
                            "size_bytes": seed}] * 2).encode()
    s.add("slo-put-over", "PUT", f"{acct}/{qc}/slo?multipart-manifest=put", body=manifest, **A)
    s.add("head-end", "HEAD", acct, **A)
    # Clean up: the next sequence starts from an account without quotas.
    s.add("cleanup", "POST", acct, [("X-Remove-Account-Quota-Bytes", "x"),
                                    ("X-Remove-Account-Meta-Quota-Bytes", "x"),
                                    ("X-Remove-Account-Quota-Count", "x")], **R)
    for name in ["seed", "fit", "res", "after", "after2", "n1", "p", "copy", "rcopy"]:
        s.add("cleanup", "DELETE", f"{acct}/{qc}/{name}", **A)
    s.add("cleanup", "DELETE", f"{acct}/{qg}/ok", **A)
    s.add("cleanup", "DELETE", f"{acct}/{qc}", **A)
    s.add("cleanup", "DELETE", f"{acct}/{qg}", **A)


ORIGINS = ["http://a.example", "http://b.example", "https://a.example", "http://A.example", "null"]
PREFLIGHT_METHODS = [None, "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "COPY", "PATCH", "get"]
REQUEST_HEADERS = [None, "x-auth-token", "X-Auth-Token, Content-Type", "x-object-meta-a,,x-object-meta-a",
                   " content-type , x-foo "]


def fam_slo(s: Seq):
    """Static large objects (Swift's slo middleware): manifest PUTs checked
    segment by segment (each bad input with its 400 and nothing stored),
    GET and HEAD of the joined object (Range across segments, conditional
    requests against the SLO ETag), the manifest itself
    (?multipart-manifest=get, format=raw), nested SLOs, listings, POST,
    DELETE of the manifest alone or with its segments."""
    rng = s.rng
    cn, sn = s.name(), s.name("segs")
    c, sc = f"{s.acct}/{cn}", f"{s.acct}/{sn}"
    s.add("put-container", "PUT", c)
    s.add("put-container", "PUT", sc)
    bodies = [body_of(rng, rng.randint(1, 40)) for _ in range(3)]
    for i, b in enumerate(bodies):
        s.add("put-segment", "PUT", f"{sc}/s{i}", body=b)
    s.add("put-segment", "PUT", f"{c}/local", body=b"local-bytes")
    s.add("put-segment", "PUT", f"{sc}/empty", body=b"")

    def seg(i, **kw):
        d = {"path": rng.choice([f"{sn}/s{i}", f"/{sn}/s{i}"])}
        if rng.random() < 0.7:
            d["etag"] = md5(bodies[i])
        if rng.random() < 0.7:
            d["size_bytes"] = rng.choice([len(bodies[i]), str(len(bodies[i]))])
        d.update(kw)
        return d

    # A good manifest: each segment whole or a range of it.
    segs = [seg(0), seg(1), seg(2)]
    if rng.random() < 0.5:
        segs[1]["range"] = rng.choice(["0-0", "1-", "-1", f"0-{len(bodies[1]) - 1}"])
    segs.append({"path": f"{cn}/local"})
    hdrs = []
    if rng.random() < 0.5:
        hdrs.append(("Content-Type", rng.choice(["text/x-slo", "application/x-big; charset=utf-8"])))
    if rng.random() < 0.5:
        hdrs.append(("X-Object-Meta-Color", "blue"))
    s.add("put", "PUT", f"{c}/big?multipart-manifest=put", hdrs, body=json.dumps(segs).encode())
    s.add("head", "HEAD", f"{c}/big", capture=[("slo", "ETag", None), ("lm", "Last-Modified", None)])
    s.add("get", "GET", f"{c}/big")
    s.add("get-if-none-match", "GET", f"{c}/big", [("If-None-Match", "${slo}")])
    s.add("head-if-match", "HEAD", f"{c}/big", [("If-Match", "${slo}")])
    s.add("get-if-modified-since", "GET", f"{c}/big", [("If-Modified-Since", "${lm}")])
    for r in rng.sample(["bytes=0-4", "bytes=2-40", "bytes=-3", "bytes=5-", "bytes=0-0,3-8",
                         "bytes=1-2,10-70", "bytes=9999-", "bytes=abc"], 3):
        s.add("get-range", "GET", f"{c}/big", [("Range", r)])
    for pn in rng.sample(["1", "2", "4", "5", "0", "x", " 2"], 3):
        s.add("get-part", "GET", f"{c}/big?part-number={qv(pn)}")
    s.add("head-part", "HEAD", f"{c}/big?part-number={rng.choice(['1', '3', '9'])}")
    s.add("get-part-range", "GET", f"{c}/big?part-number=1", [("Range", "bytes=0-1")])
    s.add("get-manifest", "GET", f"{c}/big?multipart-manifest=get", listing=True)
    s.add("head-manifest", "HEAD", f"{c}/big?multipart-manifest=get", listing=True)
    s.add("get-manifest-raw", "GET", f"{c}/big?multipart-manifest=get&format=raw")
    s.add("listing", "GET", f"{c}?format=json", listing=True)
    s.add("post", "POST", f"{c}/big", [("X-Object-Meta-Shape", "round")])
    s.add("head-after-post", "HEAD", f"{c}/big")
    s.add("post-reserved", "POST", f"{c}/big", [("X-Static-Large-Object", "True")])
    s.add("post-type", "POST", f"{c}/big", [("Content-Type", "text/x-posted")])
    s.add("listing-after-post", "GET", f"{c}?format=json", listing=True)
    s.add("head-after-post-type", "HEAD", f"{c}/big")
    # Who may: an anonymous or unprivileged caller's HEADs of the segments
    # are refused (listed in the 400), the manifest's container missing.
    s.add("put-anonymous", "PUT", f"{c}/anon?multipart-manifest=put", user=ANON,
          body=json.dumps([seg(0)]).encode())
    s.add("put-member", "PUT", f"{c}/member?multipart-manifest=put", user=MEMBER,
          body=json.dumps([seg(0)]).encode())
    s.add("put-no-container", "PUT", f"{s.acct}/{s.name('none')}/m?multipart-manifest=put",
          body=json.dumps([seg(0)]).encode())
    s.add("put-no-length", "PUT", f"{c}/nolen?multipart-manifest=put", no_length=True)
    s.add("put-chunked", "PUT", f"{c}/chunked?multipart-manifest=put", chunked=True,
          body=json.dumps([seg(0)]).encode())
    s.add("put-reserved", "PUT", f"{c}/plain", [("X-Static-Large-Object", "True")], body=b"x")
    # Bad manifests: Swift's 400s (413s), nothing stored.
    bad = rng.sample([
        ("bad-json", b"[{"),
        ("not-list", b'{"path": "x"}'),
        ("not-object", b'["x"]'),
        ("no-path", json.dumps([{"etag": "x"}]).encode()),
        ("extra-keys", json.dumps([dict(seg(0), foo=1, bar=2)]).encode()),
        ("path-not-object", json.dumps([{"path": sn}]).encode()),
        ("path-not-string", json.dumps([{"path": 5}]).encode()),
        ("etag-not-string", json.dumps([{"path": f"{sn}/s0", "etag": 5}]).encode()),
        ("bad-size", json.dumps([{"path": f"{sn}/s0", "size_bytes": "x"}]).encode()),
        ("too-small-size", json.dumps([{"path": f"{sn}/s0", "size_bytes": 0}, seg(1)]).encode()),
        ("self", json.dumps([{"path": f"{cn}/bad"}]).encode()),
        ("bad-range", json.dumps([seg(0, range="x-y")]).encode()),
        ("multi-range", json.dumps([seg(0, range="0-0,1-1")]).encode()),
        ("unsatisfiable-range", json.dumps([dict(seg(0), size_bytes=len(bodies[0]),
                                                 range=f"{len(bodies[0]) + 5}-")]).encode()),
        ("missing-segment", json.dumps([seg(0), {"path": f"{sn}/nope"}]).encode()),
        ("etag-mismatch", json.dumps([dict(seg(0), etag="0" * 32)]).encode()),
        ("size-mismatch", json.dumps([dict(seg(0), size_bytes=999)]).encode()),
        ("empty-segment", json.dumps([{"path": f"{sn}/empty"}, seg(0)]).encode()),
        ("data-only", json.dumps([{"data": "YWJj"}]).encode()),
        ("bad-data", json.dumps([{"data": "!!"}, seg(0)]).encode()),
        ("empty-list", b"[]"),
    ], 6)
    for case, body in bad:
        accept = rng.choice([[], [], [("Accept", "application/json")], [("Accept", "text/xml")]])
        s.add(f"put-{case}", "PUT", f"{c}/bad?multipart-manifest=put", accept, body=body)
    s.add("put-wrong-etag", "PUT", f"{c}/bad?multipart-manifest=put", [("Etag", '"' + "1" * 32 + '"')],
          body=json.dumps([seg(0)]).encode())
    s.add("head-bad", "HEAD", f"{c}/bad")
    # Heartbeat answers.
    hb = rng.choice([json.dumps([seg(0)]), json.dumps([{"path": f"{sn}/nope"}])])
    s.add("put-heartbeat", "PUT", f"{c}/hb?multipart-manifest=put&heartbeat=on",
          rng.choice([[], [("Accept", "application/json")]]), body=hb.encode())
    # Inline data between segments.
    s.add("put-data", "PUT", f"{c}/withdata?multipart-manifest=put",
          body=json.dumps([{"data": "aGVsbG8="}, seg(0), {"data": "IHdvcmxk"}]).encode())
    s.add("get-data", "GET", f"{c}/withdata")
    s.add("get-data-range", "GET", f"{c}/withdata", [("Range", "bytes=3-7")])
    # Nested: the SLO as a segment of another.
    s.add("put-nested", "PUT", f"{c}/outer?multipart-manifest=put",
          body=json.dumps([{"path": f"{cn}/big"}, seg(2)]).encode())
    s.add("head-nested", "HEAD", f"{c}/outer")
    s.add("get-nested", "GET", f"{c}/outer")
    s.add("get-nested-range", "GET", f"{c}/outer", [("Range", "bytes=3-12")])
    # Conditional GETs against the SLO ETag.
    s.add("get-if-none-match", "GET", f"{c}/outer", [("If-None-Match", "*")])
    s.add("get-if-match-wrong", "GET", f"{c}/outer", [("If-Match", '"nope"')])
    # Loops: B holds A, A holds B (each was an SLO when the other was put).
    s.add("put-loop-b", "PUT", f"{c}/loop-b?multipart-manifest=put", body=json.dumps([seg(0)]).encode())
    s.add("put-loop-a", "PUT", f"{c}/loop-a?multipart-manifest=put",
          body=json.dumps([{"path": f"{cn}/loop-b"}]).encode())
    s.add("put-loop-b-again", "PUT", f"{c}/loop-b?multipart-manifest=put",
          body=json.dumps([{"path": f"{cn}/loop-a"}]).encode())
    s.add("get-loop", "GET", f"{c}/loop-a")
    s.add("head-loop", "HEAD", f"{c}/loop-a")
    # Copies: the joined bytes, or the manifest (still an SLO).
    s.add("copy", "COPY", f"{c}/big", [("Destination", f"{cn}/copied")])
    s.add("get-copy", "GET", f"{c}/copied")
    s.add("copy-manifest", "COPY", f"{c}/big?multipart-manifest=get", [("Destination", f"{cn}/copied-m")])
    s.add("head-copy-manifest", "HEAD", f"{c}/copied-m")
    # A PUT ?multipart-manifest=put copying its body from an object (Swift's
    # copy hands the source's bytes to slo as the manifest).
    s.add("put-manifest-source", "PUT", f"{c}/manifest-src",
          body=rng.choice([json.dumps([seg(1)]).encode(), b"not json",
                           json.dumps([{"path": f"{sn}/nope"}]).encode()]))
    s.add("put-manifest-copied", "PUT", f"{c}/from-copy?multipart-manifest=put",
          [("X-Copy-From", f"{cn}/manifest-src")], body=b"")
    s.add("get-manifest-copied", "GET", f"{c}/from-copy")
    s.add("head-manifest-copied", "HEAD", f"{c}/from-copy")
    s.add("put-victim", "PUT", f"{c}/victim?multipart-manifest=put", body=json.dumps([seg(2)]).encode())
    # DELETE: the manifest alone, then one with its segments.
    s.add("delete-manifest", "DELETE", f"{c}/withdata")
    s.add("head-segment-kept", "HEAD", f"{sc}/s0")
    s.add("delete-multipart", "DELETE", f"{c}/outer?multipart-manifest=delete",
          rng.choice([[], [("Accept", "application/json")], [("Accept", "application/xml")]]))
    s.add("head-outer-gone", "HEAD", f"{c}/outer")
    s.add("head-segment-gone", "HEAD", f"{sc}/s2")
    s.add("get-victim-broken", "GET", f"{c}/victim")
    s.add("head-victim-broken", "HEAD", f"{c}/victim")
    s.add("delete-multipart-missing", "DELETE", f"{c}/outer?multipart-manifest=delete")
    s.add("delete-multipart-plain", "DELETE", f"{c}/local?multipart-manifest=delete")
    s.add("listing-after", "GET", f"{sc}?format=json", listing=True)
    # async=yes: segments in one container, none a manifest (Swift's
    # expirer deletes them later, Stowage at once: they are not looked at).
    ac = s.name("async")
    s.add("put-container", "PUT", f"{s.acct}/{ac}")
    s.add("put-segment", "PUT", f"{s.acct}/{ac}/x", body=b"xx")
    s.add("put-segment", "PUT", f"{s.acct}/{ac}/y", body=b"yyy")
    s.add("put-async", "PUT", f"{s.acct}/{ac}/m?multipart-manifest=put",
          body=json.dumps([{"path": f"{ac}/x"}, {"path": f"{ac}/y"}]).encode())
    s.add("put-async-nested", "PUT", f"{s.acct}/{ac}/n?multipart-manifest=put",
          body=json.dumps([{"path": f"{ac}/m"}]).encode())
    s.add("delete-async-nested", "DELETE", f"{s.acct}/{ac}/n?multipart-manifest=delete&async=yes")
    s.add("delete-async", "DELETE", f"{s.acct}/{ac}/m?multipart-manifest=delete&async=yes")
    s.add("head-async-gone", "HEAD", f"{s.acct}/{ac}/m")
    s.add("delete-async-missing", "DELETE", f"{s.acct}/{ac}/m?multipart-manifest=delete&async=on")
    s.add("put-segment", "PUT", f"{s.acct}/{ac}/plain", body=b"p")
    s.add("delete-async-plain", "DELETE", f"{s.acct}/{ac}/plain?multipart-manifest=delete&async=yes")
    # A DLO manifest as a segment (the PUT records its joined size and
    # ETag), first and in the middle; several ranges of an SLO copied (the
    # multipart body); the manifest copied with ?multipart-manifest=get
    # (re-PUT through slo) before and after a segment changed.
    dc = s.name("dlo")
    d = f"{s.acct}/{dc}"
    s.add("put-container", "PUT", d)
    s.add("put-segment", "PUT", f"{d}/part-1", body=b"dlo-first-")
    s.add("put-segment", "PUT", f"{d}/part-2", body=b"dlo-second")
    s.add("put-segment", "PUT", f"{d}/plain", body=b"plain-bytes")
    s.add("put-dlo", "PUT", f"{d}/dlo", [("X-Object-Manifest", f"{dc}/part-")], body=b"")
    s.add("put-dlo-mid", "PUT", f"{d}/slo-mid?multipart-manifest=put",
          body=json.dumps([{"path": f"{dc}/plain"}, {"path": f"{dc}/dlo"}]).encode())
    s.add("get-dlo-mid", "GET", f"{d}/slo-mid")
    s.add("head-dlo-mid", "HEAD", f"{d}/slo-mid")
    s.add("copy-dlo-mid", "COPY", f"{d}/slo-mid", [("Destination", f"{dc}/copy-mid")])
    s.add("head-copy-dlo-mid", "HEAD", f"{d}/copy-mid")
    s.add("put-dlo-first", "PUT", f"{d}/slo-first?multipart-manifest=put",
          body=json.dumps([{"path": f"{dc}/dlo"}, {"path": f"{dc}/plain"}]).encode())
    s.add("get-dlo-first", "GET", f"{d}/slo-first")
    s.add("get-dlo-first-range", "GET", f"{d}/slo-first", [("Range", "bytes=12-30")])
    s.add("copy-dlo-first", "COPY", f"{d}/slo-first", [("Destination", f"{dc}/copy-first")])
    s.add("head-copy-dlo-first", "HEAD", f"{d}/copy-first")
    s.add("put-slo", "PUT", f"{d}/slo?multipart-manifest=put",
          body=json.dumps([{"path": f"{dc}/part-1"}, {"path": f"{dc}/plain"}]).encode())
    s.add("copy-ranges", "COPY", f"{d}/slo", [("Destination", f"{dc}/ranges"), ("Range", "bytes=0-2,12-14")])
    # (Swift's own GET of an object typed multipart/byteranges fails: its
    # proxy reads the stored body as a backend's multipart answer.)
    s.add("head-copy-ranges", "HEAD", f"{d}/ranges")
    s.add("put-copy-ranges", "PUT", f"{d}/ranges2", [("X-Copy-From", f"{dc}/slo"), ("Range", "bytes=-3,1-1")])
    s.add("head-copy-ranges", "HEAD", f"{d}/ranges2")
    s.add("copy-manifest-get", "COPY", f"{d}/slo?multipart-manifest=get", [("Destination", f"{dc}/mcopy")])
    s.add("get-manifest-copy", "GET", f"{d}/mcopy")
    s.add("get-manifest-copy-manifest", "GET", f"{d}/mcopy?multipart-manifest=get", listing=True)
    s.add("copy-manifest-range", "COPY", f"{d}/slo?multipart-manifest=get",
          [("Destination", f"{dc}/mcopy-r"), ("Range", "bytes=0-5")])
    s.add("head-manifest-range", "HEAD", f"{d}/mcopy-r")
    s.add("copy-manifest-if", "COPY", f"{d}/slo?multipart-manifest=get",
          [("Destination", f"{dc}/mcopy-i"), ("If-None-Match", "*")])
    s.add("copy-manifest-if-match", "COPY", f"{d}/slo?multipart-manifest=get",
          [("Destination", f"{dc}/mcopy-i"), ("If-Match", '"nope"')])
    s.add("head-manifest-if", "HEAD", f"{d}/mcopy-i")
    s.add("put-segment-changed", "PUT", f"{d}/plain", body=b"other-bytes-now")
    s.add("copy-manifest-changed", "COPY", f"{d}/slo?multipart-manifest=get", [("Destination", f"{dc}/mcopy2")])
    s.add("head-manifest-changed", "HEAD", f"{d}/mcopy2")
    s.add("put-copy-manifest-changed", "PUT", f"{d}/mcopy3?multipart-manifest=get",
          [("X-Copy-From", f"{dc}/slo")])
    s.add("head-copy-manifest-changed", "HEAD", f"{d}/mcopy3")


ORIGINS = ["http://a.example", "http://b.example", "https://a.example", "http://A.example", "null"]
PREFLIGHT_METHODS = [None, "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "COPY", "PATCH", "get"]
REQUEST_HEADERS = [None, "x-auth-token", "X-Auth-Token, Content-Type", "x-object-meta-a,,x-object-meta-a",
                   " content-type , x-foo "]


def fam_cors(s: Seq):
    """OPTIONS and CORS, as Swift's proxy controllers answer them: plain
    OPTIONS at every level, preflights allowed and refused by the
    container's X-Container-Meta-Access-Control-* rules, and actual
    requests with and without an allowed Origin."""
    rng = s.rng
    c = f"{s.acct}/{s.name()}"
    rules = []
    allow = rng.choice([None, "*", ORIGINS[0], f"{ORIGINS[0]}  {ORIGINS[1]}", f" {ORIGINS[1]} ",
                        f"* {ORIGINS[2]}"])
    if allow:
        rules.append(("X-Container-Meta-Access-Control-Allow-Origin", allow))
    if rng.random() < 0.5:
        rules.append(("X-Container-Meta-Access-Control-Max-Age", rng.choice(["600", "0", "abc"])))
    if rng.random() < 0.5:
        rules.append(("X-Container-Meta-Access-Control-Expose-Headers",
                      rng.choice(["X-Foo", "x-foo  X-BAR", "etag x-object-meta-color"])))
    s.add("put-container", "PUT", c, rules)
    # An account of its own for the account-level request (AUTH_test's
    # counters depend on what other families stored).
    acct = f"/v1/AUTH_{s.id}"
    s.add("put-container-fresh-account", "PUT", f"{acct}/c", user=RESELLER)
    meta = [("X-Object-Meta-Color", "blue")] if rng.random() < 0.6 else []
    s.add("put-object", "PUT", f"{c}/o", meta, body=b"cors")

    def origin_headers():
        o = rng.choice(ORIGINS[:3]) if rng.random() < 0.8 else rng.choice(ORIGINS)
        return [("Origin", o)]

    # OPTIONS without Origin, at every level, with and without a token.
    for path in rng.sample([s.acct, c, f"{c}/o", f"{c}/missing", f"{s.acct}/{s.name('none')}/o",
                            "/info"], 3):
        s.add("options", "OPTIONS", path, user=rng.choice([ANON, OWNER]))
    # Preflights.
    for _ in range(rng.randint(3, 6)):
        hdrs = origin_headers()
        m = rng.choice(PREFLIGHT_METHODS)
        if m:
            hdrs.append(("Access-Control-Request-Method", m))
        rh = rng.choice(REQUEST_HEADERS)
        if rh:
            hdrs.append(("Access-Control-Request-Headers", rh))
        path = rng.choice([c, f"{c}/o", f"{c}/o", f"{s.acct}/{s.name('none')}/o", s.acct])
        s.add("preflight", "OPTIONS", path, hdrs, user=ANON)
    # Actual requests.
    actual = [
        ("get-object", "GET", f"{c}/o", OWNER),
        ("head-object", "HEAD", f"{c}/o", OWNER),
        ("get-object-anon", "GET", f"{c}/o", ANON),
        ("get-missing-object", "GET", f"{c}/missing", OWNER),
        ("head-container", "HEAD", c, OWNER),
        ("get-container-json", "GET", f"{c}?format=json", OWNER),
        ("post-container-anon", "POST", c, ANON),
        ("head-account", "HEAD", acct, RESELLER),
        ("post-object", "POST", f"{c}/o", OWNER),
        ("put-object-origin", "PUT", f"{c}/p", OWNER),
    ]
    for case, m, path, who in rng.sample(actual, rng.randint(4, len(actual))):
        s.add(case, m, path, origin_headers(), body=b"p" if m == "PUT" else b"", user=who,
              listing=path.endswith("format=json"))
    # New rules: a POST is answered by the rules before it, later requests by the new ones.
    s.add("post-rules", "POST", c,
          origin_headers() + [("X-Container-Meta-Access-Control-Allow-Origin", ORIGINS[1])])
    s.add("get-after-rules", "GET", f"{c}/o", [("Origin", ORIGINS[1])])
    s.add("preflight-after-rules", "OPTIONS", f"{c}/o",
          [("Origin", ORIGINS[1]), ("Access-Control-Request-Method", "PUT")], user=ANON)


def tar_of(members, compression: str = "") -> bytes:
    """A tar archive (made by Python's tarfile, fixed times) of
    (name, bytes | None for a directory | ("symlink", target), pax headers)."""
    import io
    import tarfile
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, pax in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            ti.pax_headers = dict(pax)
            if data is None:
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif isinstance(data, tuple):
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    out = raw.getvalue()
    if compression == "gz":
        import gzip
        return gzip.compress(out, mtime=0)
    if compression == "bz2":
        import bz2
        return bz2.compress(out)
    return out


def tar_bomb(name: str, size: int, tail: bytes) -> bytes:
    """One member header announcing `size` bytes, followed by `tail` only."""
    import tarfile
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mtime = 1700000000
    return ti.tobuf(tarfile.GNU_FORMAT) + tail


BULK_ACCEPTS = [None, "text/plain", "application/json", "application/xml", "text/xml", "*/*",
                "image/png", "application/json;q=0.5, text/xml"]


def fam_bulk(s: Seq):
    """Swift's bulk middleware: ?bulk-delete lists (objects and containers,
    found, missing, non-empty, forbidden, malformed, too long) and
    ?extract-archive of tar, tar.gz and tar.bz2 at account, container and
    prefix level (odd member names, non-files, corrupt, truncated, bombs)."""
    rng = s.rng
    cn, full, empty = s.name("c"), s.name("full"), s.name("empty")
    c = f"{s.acct}/{cn}"
    s.add("put-container", "PUT", c)
    s.add("put-container", "PUT", f"{s.acct}/{full}")
    s.add("put-container", "PUT", f"{s.acct}/{empty}")
    s.add("put-object", "PUT", f"{s.acct}/{full}/keep", body=b"keep")
    names = rng.sample(WORDS, 4)
    for n in names:
        s.add("put-object", "PUT", f"{c}/{q(n)}", body=n.encode())

    def accept():
        a = rng.choice(BULK_ACCEPTS)
        return [("Accept", a)] if a else []

    # One list mixing every outcome, in a random order.
    items = [f"/{cn}/{q(n)}" for n in names[:3]] + [
        f"{cn}/{q('missing ' + names[0])}", f"/{s.name('nope')}", f"/{full}", f"{empty}/",
        f"/{s.name('nope')}/o"]
    rng.shuffle(items)
    ctype = rng.choice([[("Content-Type", "text/plain")], [], [("Content-Type", "text/plain; charset=utf-8")]])
    s.add("bulk-delete", rng.choice(["POST", "DELETE"]), f"{s.acct}?bulk-delete",
          ctype + accept(), body=("\n".join(items) + rng.choice(["", "\n", "\r\n"])).encode())
    s.add("listing", "GET", f"{c}?format=json", listing=True)
    s.add("head-container", "HEAD", f"{s.acct}/{empty}")
    # By someone without rights on the account.
    s.add("bulk-delete-forbidden", "POST", f"{s.acct}?bulk-delete", accept(),
          body=f"{cn}/{q(names[3])}\n{full}\n".encode(), user=rng.choice([OTHER, ANON, BAD_TOKEN]))
    s.add("head-object", "HEAD", f"{c}/{q(names[3])}")
    # Malformed requests.
    case = rng.choice(["empty", "json-type", "long-line", "too-many", "blank-lines", "nul", "max-failures"])
    if case == "empty":
        s.add("bulk-delete-empty", "POST", f"{s.acct}?bulk-delete", accept(), body=b"")
    elif case == "json-type":
        s.add("bulk-delete-json", "POST", f"{s.acct}?bulk-delete",
              [("Content-Type", "application/json")] + accept(), body=b"x/y\n")
    elif case == "long-line":
        s.add("bulk-delete-long-line", "POST", f"{s.acct}?bulk-delete", accept(),
              body=b"/" + b"a" * 2600 + b"\n")
    elif case == "too-many":
        s.add("bulk-delete-too-many", "POST", f"{s.acct}?bulk-delete", accept(),
              body=b"".join(b"%s/o%d\n" % (cn.encode(), i) for i in range(10001)))
    elif case == "blank-lines":
        s.add("bulk-delete-blank", "POST", f"{s.acct}?bulk-delete", accept(), body=b"\n \n\n")
    elif case == "max-failures":
        # 1,000 failures stop the run: a caller without rights, 1,005 names.
        s.add("bulk-delete-max-failures", "POST", f"{s.acct}?bulk-delete", [("Accept", "text/plain")],
              body=b"".join(b"%s/o%d\n" % (cn.encode(), i) for i in range(1005)), user=OTHER)
    else:
        s.add("bulk-delete-nul", "POST", f"{s.acct}?bulk-delete", accept(),
              body=f"{cn}/a%00b\n{cn}/%FF\n".encode())
    s.add("bulk-delete-get", "GET", f"{c}?bulk-delete&format=json", listing=True)
    # A list sent to a container or object path: the account is what counts.
    s.add("bulk-delete-deeper", "POST", rng.choice([f"{c}?bulk-delete", f"{c}/x?bulk-delete"]), accept(),
          body=f"{cn}/{q(names[3])}\n".encode())

    # Archives.
    x = s.name("x")
    level = rng.choice(["account", "container", "prefix"])
    path = {"account": s.acct, "container": f"{s.acct}/{x}", "prefix": f"{s.acct}/{x}/pre/"}[level]
    if level != "account":
        s.add("put-container", "PUT", f"{s.acct}/{x}")
    inner = f"{x}/" if level == "account" else ""
    members = [
        (f"{inner}a.txt", b"alpha", {}),
        (f"./{inner}dir/b.json", b"{}", {"SCHILY.xattr.user.meta.color": "blue"}),
        (f"/{inner}abs", b"absolute", {"SCHILY.xattr.user.mime_type": "text/x-abs"}),
        (f"{inner}sub", None, {}),
        (f"{inner}link", ("symlink", "a.txt"), {}),
        ("top-level-file", b"top", {}),
        (f"{inner}caf\u00e9 \u2603", b"unicode", {}),
        (f"{inner}empty", b"", {}),
    ]
    if rng.random() < 0.5:
        members.append((f"../{inner}up", b"escape", {}))
    rng.shuffle(members)
    comp, kind = rng.choice([("", "tar"), ("gz", "tar.gz"), ("bz2", "tar.bz2"), ("gz", ".TAR.GZ")])
    hdrs = accept()
    if rng.random() < 0.5:
        hdrs.append(("X-Object-Meta-Batch", "7"))
    s.add("extract", "PUT", f"{path}?extract-archive={kind}", hdrs, body=tar_of(members, comp))
    s.add("listing", "GET", f"{s.acct}/{x}?format=json", listing=True)
    s.add("head-extracted", "HEAD", f"{s.acct}/{x}/{'pre/' if level == 'prefix' else ''}dir/b.json")
    # Broken archives.
    bad = rng.choice(["garbage", "truncated", "bomb", "empty", "zip", "gz-garbage", "bz2-truncated",
                      "no-files", "max-failures"])
    y = f"{s.acct}/{x}"
    good = tar_of([("f1", b"1" * 600, {}), ("f2", b"2" * 700, {})])
    if bad == "garbage":
        s.add("extract-garbage", "PUT", f"{y}?extract-archive=tar", accept(), body=b"not a tar" * 100)
    elif bad == "truncated":
        s.add("extract-truncated", "PUT", f"{y}?extract-archive=tar", accept(), body=good[:2048 + 100])
    elif bad == "bomb":
        s.add("extract-bomb", "PUT", f"{y}?extract-archive=tar", accept(),
              body=tar_bomb("bomb", 6 * 1024 ** 3, b"x" * rng.choice([0, 100, 5000])))
    elif bad == "empty":
        s.add("extract-empty", "PUT", f"{y}?extract-archive=" + rng.choice(["tar", "tar.gz", "tar.bz2"]),
              accept(), body=b"")
    elif bad == "zip":
        s.add("extract-zip", "PUT", f"{y}?extract-archive=" + rng.choice(["zip", "", "tar.xz"]), accept(),
              body=good)
    elif bad == "gz-garbage":
        s.add("extract-gz-garbage", "PUT", f"{y}?extract-archive=tar.gz", accept(), body=good)
    elif bad == "bz2-truncated":
        s.add("extract-bz2-truncated", "PUT", f"{y}?extract-archive=tar.bz2", accept(),
              body=tar_of([("f1", b"1" * 600, {})], "bz2")[:50])
    elif bad == "max-failures":
        # A caller without rights: 1,000 failures stop the extraction.
        s.add("extract-max-failures", "PUT", f"{y}?extract-archive=tar.gz", accept(),
              body=tar_of([(f"m{i:04d}", b"", {}) for i in range(1003)], "gz"), user=OTHER)
    else:
        s.add("extract-no-files", "PUT", f"{y}?extract-archive=tar", accept(),
              body=tar_of([("top", b"t", {}), ("d", None, {})]))
    s.add("listing", "GET", f"{y}?format=json", listing=True)


FAMILIES = {
    "auth": fam_auth,
    "info": fam_info,
    "account": fam_account,
    "owner-account": fam_owner_account,
    "container": fam_container,
    "policy": fam_policy,
    "listing": fam_listing,
    "object": fam_object,
    "object-meta": fam_object_meta,
    "range": fam_range,
    "conditional": fam_conditional,
    "copy": fam_copy,
    "expiry": fam_expiry,
    "acl": fam_acl,
    "account-acl": fam_account_acl,
    "names": fam_names,
    "errors": fam_errors,
    "middleware": fam_middleware,
    "dlo": fam_dlo,
    "slo": fam_slo,
    "cors": fam_cors,
    "bulk": fam_bulk,
    "container-quotas": fam_container_quotas,
    "account-quotas": fam_account_quotas,
}

# Families whose answer hardly varies with the seed: one sequence is enough.
FIXED = {"auth", "info", "middleware", "owner-account"}
# Families that sleep (expiry): fewer of them in long runs.
SLOW = {"expiry"}


def generate(seed: int, per_family: int, families=None) -> list:
    out = []
    for fam, fn in FAMILIES.items():
        if families and fam not in families:
            continue
        n = per_family
        if fam in FIXED:
            n = 1
        elif fam in SLOW:
            n = max(1, min(per_family, (per_family + 3) // 4))
        for i in range(n):
            s = Seq(fam, i, seed)
            fn(s)
            out.append(s.done())
    return out
