"""The soak's request mix (used by bench/soak_driver.py): one Worker per client
process, one keep-alive connection each, Python's standard library only.

Each worker owns the object names w<id>/o<k> (k < POOL, spread over the
containers soak-0..3) and is their only writer, so it knows what each must
answer: a GET of a live object must return its exact length, version stamp
and ETag; HEAD its metadata; DELETE/POST/GET of a deleted one 404; a
listing with prefix w<id>/ exactly the live names. Anything else is a
mismatch. The mix also has 404s, 401s (bad and missing token), auth
requests, chunked PUTs, uploads cut off mid-body, and containers created and
deleted again (DB files opened and closed through the per-process pool).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import uuid

ACCOUNT = "/v1/AUTH_test"
CONTAINERS = [f"soak-{i}" for i in range(4)]
POOL = 200  # object names per worker
CHURN_NAMES = 16  # names of the containers a worker creates and deletes again
# Object sizes and how often each is PUT (the 64 KiB boundary is the gate's
# small-body prefetch; bigger bodies stream).
SIZES = [(0, 10), (1024, 40), (16384, 30), (100_000, 17), (1 << 20, 3)]
STAMP = 8  # bytes of version counter at the start of every body

# op name -> weight (per mille of operations)
WEIGHTS = {
    "get": 300, "head": 120, "put": 140, "put_chunked": 10, "delete": 60,
    "post": 40, "range": 30, "listing": 80, "container_head": 30,
    "account_head": 40, "account_get": 20, "miss": 40, "unauth": 40,
    "auth": 2, "container_churn": 8, "put_cut": 2,
}


def chosen_ops() -> tuple[list[str], list[int]]:
    """The mix, or only the operations named in SOAK_OPS (comma-separated,
    e.g. SOAK_OPS=get,head: to find which part of the mix a trend comes from)."""
    only = [op for op in os.environ.get("SOAK_OPS", "").split(",") if op]
    unknown = set(only) - set(WEIGHTS)
    if unknown:
        raise SystemExit(f"soak: SOAK_OPS names unknown operations {sorted(unknown)}; known: {list(WEIGHTS)}")
    ops = only or list(WEIGHTS)
    return ops, [WEIGHTS[op] for op in ops]


class Mismatch(Exception):
    pass


class Worker:
    def __init__(self, wid: int, port: int, token: str, seed: int):
        self.wid = wid
        self.port = port
        self.token = token
        self.rng = random.Random(seed)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.live: dict[int, tuple[int, int, str, str | None]] = {}  # k -> (size, version, etag, meta)
        self.version = 0
        self.bodies = {size: bytes(self.rng.getrandbits(8) for _ in range(min(size, 4096))) for size, _ in SIZES}
        self.ops, self.weights = chosen_ops()
        self.size_choices = [s for s, _ in SIZES]
        self.size_weights = [w for _, w in SIZES]
        self.statuses: dict[str, int] = {}  # "op status" -> count
        self.mismatches: list[str] = []
        self.requests = 0

    # -- plumbing ---------------------------------------------------------

    def request(self, op, method, path, headers=None, body=None, chunked=False):
        h = {"X-Auth-Token": self.token}
        h.update(headers or {})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=h, encode_chunked=chunked)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: resend once.
                self.conn.close()
                if attempt == 2:
                    raise
        self.requests += 1
        key = f"{op} {r.status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1
        return r, data

    def expect(self, cond: bool, what: str):
        if not cond:
            self.mismatches.append(f"w{self.wid}: {what}")
            if len(self.mismatches) > 50:
                raise Mismatch("more than 50 mismatches")

    def name(self, k: int) -> tuple[str, str]:
        return CONTAINERS[k % len(CONTAINERS)], f"w{self.wid}/o{k}"

    def path(self, k: int) -> str:
        c, o = self.name(k)
        return f"{ACCOUNT}/{c}/{o}"

    def body(self, size: int, version: int) -> bytes:
        if size == 0:
            return b""
        stamp = version.to_bytes(STAMP, "big")[: min(size, STAMP)]
        base = self.bodies[size]
        rest = size - len(stamp)
        return stamp + (base * (rest // len(base) + 1))[:rest]

    def check_missing(self, op, r, k):
        self.expect(r.status == 404, f"{op} {self.path(k)}: deleted object answered {r.status}, want 404")

    # -- operations ---------------------------------------------------------

    def run(self, n: int):
        """Runs operations until n more requests have been made."""
        goal = self.requests + n
        while self.requests < goal:
            op = self.rng.choices(self.ops, self.weights)[0]
            getattr(self, "op_" + op)()

    def op_put(self, chunked=False):
        k = self.rng.randrange(POOL)
        size = self.rng.choices(self.size_choices, self.size_weights)[0]
        self.version += 1
        data = self.body(size, self.version)
        op = "put_chunked" if chunked else "put"
        if chunked:
            r, _ = self.request(op, "PUT", self.path(k), body=iter([data[:size // 2], data[size // 2:]]), chunked=True)
        else:
            r, _ = self.request(op, "PUT", self.path(k), body=data)
        self.expect(r.status == 201, f"{op} {self.path(k)}: {r.status}, want 201")
        if r.status == 201:
            self.live[k] = (size, self.version, r.getheader("ETag", ""), None)

    def op_put_chunked(self):
        self.op_put(chunked=True)

    def op_get(self, k: int | None = None, rng: str | None = None):
        k = self.rng.randrange(POOL) if k is None else k
        want = self.live.get(k)
        op = "range" if rng else "get"
        r, data = self.request(op, "GET", self.path(k), {"Range": rng} if rng else None)
        if want is None:
            return self.check_missing(op, r, k)
        size, version, etag, _ = want
        full = self.body(size, version)
        if rng:
            self.expect(r.status == 206 and data == full[:10], f"range {self.path(k)}: {r.status}, {len(data)} bytes")
            return
        self.expect(r.status == 200 and data == full and r.getheader("ETag") == etag,
                    f"get {self.path(k)}: {r.status}, {len(data)} bytes (want {size}), etag {r.getheader('ETag')}")

    def op_range(self):
        """The first 10 bytes of a live object of 1 KiB or more."""
        big = [k for k, (size, *_) in self.live.items() if size >= 1024]
        if big:
            self.op_get(self.rng.choice(big), rng="bytes=0-9")
        else:
            self.op_get()

    def op_head(self):
        k = self.rng.randrange(POOL)
        want = self.live.get(k)
        r, _ = self.request("head", "HEAD", self.path(k))
        if want is None:
            return self.check_missing("head", r, k)
        size, _, etag, meta = want
        # Apache drops "Content-Length: 0" from every HEAD answer (the
        # handler may not have known the length), so an empty object has none.
        length = r.getheader("Content-Length", "0")
        ok = (r.status == 200 and length == str(size) and r.getheader("ETag") == etag
              and r.getheader("X-Object-Meta-Soak") == meta)
        self.expect(ok, f"head {self.path(k)}: {r.status} length {length} "
                        f"meta {r.getheader('X-Object-Meta-Soak')} (want {size}, {meta})")

    def op_delete(self):
        k = self.rng.randrange(POOL)
        r, _ = self.request("delete", "DELETE", self.path(k))
        if self.live.pop(k, None) is None:
            return self.check_missing("delete", r, k)
        self.expect(r.status == 204, f"delete {self.path(k)}: {r.status}, want 204")

    def op_post(self):
        k = self.rng.randrange(POOL)
        meta = f"v{self.rng.randrange(1 << 30)}"
        r, _ = self.request("post", "POST", self.path(k), {"X-Object-Meta-Soak": meta})
        want = self.live.get(k)
        if want is None:
            return self.check_missing("post", r, k)
        self.expect(r.status == 202, f"post {self.path(k)}: {r.status}, want 202")
        self.live[k] = want[:3] + (meta,)

    def op_listing(self):
        c = self.rng.randrange(len(CONTAINERS))
        fmt = self.rng.choice(["json", "plain", "xml"])
        r, data = self.request("listing", "GET", f"{ACCOUNT}/{CONTAINERS[c]}?prefix=w{self.wid}/&format={fmt}")
        want = {self.name(k)[1]: v[0] for k, v in self.live.items() if k % len(CONTAINERS) == c}
        if fmt == "json" and r.status == 200:
            got = {row["name"]: row["bytes"] for row in json.loads(data)}
        elif fmt == "plain" and r.status in (200, 204):
            got = {n: want.get(n) for n in data.decode().splitlines()}
        elif fmt == "xml" and r.status == 200:
            got = {n: want.get(n) for n in _xml_names(data.decode())}
        else:
            got = None
        self.expect(got == want, f"listing {CONTAINERS[c]} {fmt}: {r.status}, {len(got or {})} rows, want {len(want)}")

    def op_container_head(self):
        r, _ = self.request("container_head", "HEAD", f"{ACCOUNT}/{self.rng.choice(CONTAINERS)}")
        self.expect(r.status == 204, f"container HEAD: {r.status}, want 204")

    def op_account_head(self):
        r, _ = self.request("account_head", "HEAD", ACCOUNT)
        self.expect(r.status == 204, f"account HEAD: {r.status}, want 204")

    def op_account_get(self):
        r, data = self.request("account_get", "GET", ACCOUNT + "?format=json")
        names = {row["name"] for row in json.loads(data)} if r.status == 200 else set()
        self.expect(set(CONTAINERS) <= names, f"account GET: {r.status}, containers {sorted(names)[:8]}")

    def op_miss(self):
        path = self.rng.choice([f"{ACCOUNT}/{CONTAINERS[0]}/never-{uuid.uuid4().hex}",
                                f"{ACCOUNT}/never-{uuid.uuid4().hex}/o", f"{ACCOUNT}/never-{uuid.uuid4().hex}"])
        r, _ = self.request("miss", "GET", path)
        self.expect(r.status == 404, f"miss {path}: {r.status}, want 404")

    def op_unauth(self):
        token = self.rng.choice([f"AUTH_tk{uuid.uuid4().hex}", ""])
        r, _ = self.request("unauth", "GET", self.path(0), {"X-Auth-Token": token})
        self.expect(r.status == 401, f"unauth (token {token!r}): {r.status}, want 401")

    def op_auth(self):
        r, _ = self.request("auth", "GET", "/auth/v1.0", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
        self.expect(r.status == 200 and (r.getheader("X-Auth-Token") or "").startswith("AUTH_"),
                    f"auth: {r.status}")

    def op_container_churn(self):
        # A bounded set of names: the account DB keeps one row per name
        # ever used, and a soak's data must not grow without bound.
        path = f"{ACCOUNT}/churn-w{self.wid}-{self.rng.randrange(CHURN_NAMES)}"
        r, _ = self.request("container_churn", "PUT", path)
        self.expect(r.status == 201, f"churn PUT {path}: {r.status}, want 201")
        r, _ = self.request("container_churn", "DELETE", path)
        self.expect(r.status == 204, f"churn DELETE {path}: {r.status}, want 204")

    def op_put_cut(self):
        """A PUT whose client goes away after part of its body: no answer is
        read; the name must never appear (the listing check covers it)."""
        path = f"{ACCOUNT}/{CONTAINERS[0]}/w{self.wid}/cut"
        head = (f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {self.token}\r\n"
                f"Content-Length: 200000\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            s.sendall(head + self.bodies[16384] * 3)
        self.requests += 1
        self.statuses["put_cut -"] = self.statuses.get("put_cut -", 0) + 1


def _xml_names(text: str) -> list[str]:
    out = []
    for part in text.split("<name>")[1:]:
        out.append(part.split("</name>", 1)[0])
    return out
