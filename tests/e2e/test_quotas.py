"""Container and account quotas (Swift 2.38's container_quotas and
account_quotas): validation, who may set them, the 413s with Swift's
bodies for PUTs, chunked PUTs and copies, and that a refused upload
stores nothing."""

from __future__ import annotations

import json

import pytest

from harness import (SwiftCLI, build_request, chunked, md5hex, raw_request, start_server,
                     stop_server, tmp_files, unique)

USERS = """\
StowageUser quota:admin adminkey .admin
StowageUser quota:member memberkey
StowageUser quota:boss bosskey .reseller_admin
StowageStoragePolicy 0 Policy-0 default
StowageStoragePolicy 1 gold aliases=yellow
"""

HTML = "text/html; charset=UTF-8"
EXCEEDED = b"Upload exceeds quota."
POLICY_EXCEEDED = b"Upload exceeds policy quota."
QUOTA_HEADERS = ["X-Account-Quota-Bytes", "X-Account-Quota-Count",
                 "X-Account-Quota-Bytes-Policy-Policy-0", "X-Account-Quota-Count-Policy-Policy-0",
                 "X-Account-Quota-Bytes-Policy-gold", "X-Account-Quota-Count-Policy-gold"]


@pytest.fixture(scope="module")
def qserver():
    s = start_server(extra_conf=USERS)
    try:
        yield s
    finally:
        assert not stop_server(s)


@pytest.fixture(scope="module")
def admin(qserver):
    return qserver.client("quota:admin", "adminkey")


@pytest.fixture(scope="module")
def member(qserver):
    return qserver.client("quota:member", "memberkey")


@pytest.fixture(scope="module")
def boss(qserver):
    """The reseller admin, acting on AUTH_quota (its own account)."""
    return qserver.client("quota:boss", "bosskey")


@pytest.fixture(autouse=True)
def no_account_quotas(boss):
    """Every test starts and ends without account quotas."""
    def clear():
        r = boss.request("POST", "", {f"X-Remove-{h[2:]}": "x" for h in QUOTA_HEADERS}
                         | {"X-Remove-Account-Meta-Quota-Bytes": "x"})
        assert r.status == 204, r
    clear()
    yield
    clear()


def stats(client, container: str = "") -> tuple:
    r = client.request("HEAD", container)
    assert r.status in (200, 204), r
    kind = "Container" if container else "Account"
    return int(r.header(f"X-{kind}-Object-Count")), int(r.header(f"X-{kind}-Bytes-Used"))


def assert_413(r, body=EXCEEDED):
    assert (r.status, r.body) == (413, body), r
    assert r.header("Content-Type") == HTML


def put_chunked(server, client, name: str, data: bytes):
    req = build_request("PUT", client.path(name),
                        [("X-Auth-Token", client.token), ("Transfer-Encoding", "chunked")],
                        chunked([data[: len(data) // 2], data[len(data) // 2:]]),
                        port=server.port, content_length=False)
    return raw_request(server.port, req)


# --------------------------------------------------------------------------
# /info
# --------------------------------------------------------------------------

def test_info_advertises_both(qserver):
    status, _, body = qserver.http_get("/info")
    assert status == 200
    info = json.loads(body)
    assert info["container_quotas"] == {}
    assert info["account_quotas"] == {}


# --------------------------------------------------------------------------
# Container quotas
# --------------------------------------------------------------------------

@pytest.mark.parametrize("header,message", [("X-Container-Meta-Quota-Bytes", b"Invalid bytes quota."),
                                            ("X-Container-Meta-Quota-Count", b"Invalid count quota.")])
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "+1", "1 0"])
def test_container_quota_must_be_digits(admin, header, message, value):
    c = unique("cq")
    r = admin.request("PUT", c, {header: value})
    assert (r.status, r.body, r.header("Content-Type")) == (400, message, HTML), r
    assert admin.request("HEAD", c).status == 404  # not created
    admin.put_container(c, {header: "7"})
    r = admin.request("POST", c, {header: value})
    assert (r.status, r.body) == (400, message), r
    assert admin.request("HEAD", c).header(header) == "7"  # unchanged


def test_container_quota_set_shown_and_removed(admin):
    c = unique("cq")
    admin.put_container(c, {"X-Container-Meta-Quota-Bytes": "100",
                            "X-Container-Meta-Quota-Count": "0"})
    h = admin.request("HEAD", c)
    assert h.header("X-Container-Meta-Quota-Bytes") == "100"
    assert h.header("X-Container-Meta-Quota-Count") == "0"
    assert_413(admin.request("PUT", f"{c}/o", body=b"x"))
    r = admin.request("POST", c, {"X-Container-Meta-Quota-Count": "",
                                  "X-Remove-Container-Meta-Quota-Bytes": "x"})
    assert r.status == 204, r
    h = admin.request("HEAD", c)
    assert h.header("X-Container-Meta-Quota-Bytes") is None
    assert h.header("X-Container-Meta-Quota-Count") is None
    assert admin.request("PUT", f"{c}/o", body=b"x").status == 201


def test_container_bytes_quota(qserver, admin):
    c = unique("cq")
    admin.put_container(c, {"X-Container-Meta-Quota-Bytes": "10"})
    admin.put_object(c, "a", b"123456")
    assert_413(admin.request("PUT", f"{c}/b", body=b"12345"))
    assert admin.request("HEAD", f"{c}/b").status == 404
    assert stats(admin, c) == (1, 6)
    assert [o["name"] for o in admin.listing(c)] == ["a"]
    assert tmp_files(qserver) == []
    admin.put_object(c, "b", b"1234")  # exactly the quota
    assert stats(admin, c) == (2, 10)
    assert_413(admin.request("PUT", f"{c}/c", body=b"1"))
    # A zero-byte PUT fits while the container is not over.
    admin.put_object(c, "empty", b"")
    # Deleting makes room again.
    assert admin.request("DELETE", f"{c}/a").status == 204
    admin.put_object(c, "c", b"123456")


def test_container_count_quota_counts_overwrites(admin):
    c = unique("cq")
    admin.put_container(c, {"X-Container-Meta-Quota-Count": "2"})
    admin.put_object(c, "a", b"1")
    admin.put_object(c, "b", b"2")
    assert_413(admin.request("PUT", f"{c}/c", body=b"3"))
    # As in Swift: an overwrite is counted as one more object.
    assert_413(admin.request("PUT", f"{c}/a", body=b"new"))
    assert admin.request("GET", f"{c}/a").body == b"1"
    assert stats(admin, c) == (2, 2)


def test_container_quota_chunked_put(qserver, admin):
    """Swift cannot know a chunked upload's size: it is let in while the
    container is within its quota (even if it goes over), refused after."""
    c = unique("cq")
    admin.put_container(c, {"X-Container-Meta-Quota-Bytes": "10"})
    r = put_chunked(qserver, admin, f"{c}/big", b"x" * 20)
    assert r.status == 201, r
    assert stats(admin, c) == (1, 20)
    r = put_chunked(qserver, admin, f"{c}/more", b"y")
    assert (r.status, r.body) == (413, EXCEEDED), r
    assert admin.request("HEAD", f"{c}/more").status == 404
    assert stats(admin, c) == (1, 20)
    assert tmp_files(qserver) == []


def test_container_quota_copies(admin):
    src, dst = unique("src"), unique("cq")
    admin.put_container(src)
    admin.put_object(src, "o", b"0123456789")
    admin.put_container(dst, {"X-Container-Meta-Quota-Bytes": "8"})
    assert_413(admin.request("COPY", f"{src}/o", {"Destination": f"{dst}/o"}))
    assert_413(admin.request("PUT", f"{dst}/o", {"X-Copy-From": f"{src}/o"}, body=b""))
    assert admin.request("HEAD", f"{dst}/o").status == 404
    assert stats(admin, dst) == (0, 0)
    # A range copy writes (and counts) only its bytes.
    r = admin.request("PUT", f"{dst}/o", {"X-Copy-From": f"{src}/o", "Range": "bytes=2-9"},
                      body=b"")
    assert r.status == 201, r
    assert admin.request("GET", f"{dst}/o").body == b"23456789"
    assert_413(admin.request("COPY", f"{src}/o", {"Destination": f"{dst}/p",
                                                   "Range": "bytes=0-0"}))
    # The source container has no quota: copies into it are not bound.
    assert admin.request("COPY", f"{dst}/o", {"Destination": f"{src}/o2"}).status == 201


def test_container_quota_answers_who_may_not_write_first(qserver, admin, member):
    c = unique("cq")
    admin.put_container(c, {"X-Container-Meta-Quota-Count": "0"})
    r = member.request("PUT", f"{c}/o", body=b"x")
    assert r.status == 403, r
    anon = qserver.client("quota:member", "memberkey")
    r = anon.request("PUT", f"{c}/o", body=b"x", token=False)
    assert r.status == 401, r
    # With write access the quota answers.
    assert admin.request("POST", c, {"X-Container-Write": "quota:member"}).status == 204
    assert_413(member.request("PUT", f"{c}/o", body=b"x"))


def test_container_quota_binds_the_reseller(boss):
    c = unique("cq")
    boss.put_container(c, {"X-Container-Meta-Quota-Bytes": "1"})
    assert_413(boss.request("PUT", f"{c}/o", body=b"12"))


# --------------------------------------------------------------------------
# Account quotas
# --------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes",
                                    "X-Account-Quota-Count", "X-Account-Quota-Bytes-Policy-gold",
                                    "X-Remove-Account-Quota-Count"])
def test_only_a_reseller_admin_sets_account_quotas(qserver, admin, member, header):
    for client in (admin, member):
        r = client.request("POST", "", {header: "100"})
        assert (r.status, r.header("Content-Type")) == (403, HTML), r
        assert b"<h1>Forbidden</h1>" in r.body
        # An empty value is a change too (removal), but an empty
        # X-Remove- asks for nothing (Swift reads it as false): then access
        # control decides (the member may not POST to the account).
        want = 204 if header.startswith("X-Remove-") and client is admin else 403
        assert client.request("POST", "", {header: ""}).status == want
    # Without a token: the middleware's 403, not tempauth's 401.
    r = admin.request("POST", "", {header: "100"}, token=False)
    assert r.status == 403, r
    # Nothing changed, and other metadata still works for the admin.
    h = admin.request("HEAD", "")
    assert all(h.header(n) is None for n in QUOTA_HEADERS + ["X-Account-Meta-Quota-Bytes"])
    assert admin.request("POST", "", {"X-Account-Meta-Color": "blue"}).status == 204


@pytest.mark.parametrize("header", ["X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes",
                                    "X-Account-Quota-Count", "X-Account-Quota-Count-Policy-gold"])
@pytest.mark.parametrize("value", ["abc", "-1", "1.0"])
def test_account_quota_must_be_digits(boss, header, value):
    r = boss.request("POST", "", {header: value})
    assert (r.status, r.header("Content-Type")) == (400, HTML), r
    assert b"<h1>Bad Request</h1>" in r.body
    h = boss.request("HEAD", "")
    assert all(h.header(n) is None for n in QUOTA_HEADERS)


def test_account_quotas_set_shown_and_removed(boss, admin, member):
    r = boss.request("POST", "", {"X-Account-Meta-Quota-Bytes": "1000",
                                  "X-Account-Quota-Count": "50",
                                  "X-Account-Quota-Bytes-Policy-gold": "70",
                                  "X-Account-Quota-Count-Policy-Policy-0": "9"})
    assert r.status == 204, r
    for client in (boss, admin):
        h = client.request("HEAD", "")
        assert h.header("X-Account-Meta-Quota-Bytes") == "1000"
        assert h.header("X-Account-Quota-Bytes") == "1000"
        assert h.header("X-Account-Quota-Count") == "50"
        assert h.header("X-Account-Quota-Bytes-Policy-gold") == "70"
        assert h.header("X-Account-Quota-Count-Policy-Policy-0") == "9"
        assert not [n for n in h.headers.keys() if "sysmeta" in n.lower()], h.headers
    assert admin.request("GET", "", query="format=json").header("X-Account-Quota-Count") == "50"
    # A plain user may not read the account at all.
    assert member.request("HEAD", "").status == 403
    r = boss.request("POST", "", {"X-Account-Meta-Quota-Bytes": "",
                                  "X-Remove-Account-Quota-Count": "yes",
                                  "X-Account-Quota-Bytes-Policy-gold": ""})
    assert r.status == 204, r
    h = admin.request("HEAD", "")
    for name in ("X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes",
                 "X-Account-Quota-Count", "X-Account-Quota-Bytes-Policy-gold"):
        assert h.header(name) is None, name
    assert h.header("X-Account-Quota-Count-Policy-Policy-0") == "9"


def test_account_put_by_reseller_is_validated_then_405(boss, admin):
    assert boss.request("PUT", "", {"X-Account-Quota-Bytes": "x"}).status == 400
    assert boss.request("PUT", "", {"X-Account-Quota-Bytes": "5"}).status == 405
    assert admin.request("PUT", "", {"X-Account-Quota-Bytes": "5"}).status == 403
    assert boss.request("HEAD", "").header("X-Account-Quota-Bytes") is None


def test_account_bytes_quota(qserver, boss, admin):
    c = unique("aq")
    admin.put_container(c)
    count, used = stats(admin)
    assert boss.request("POST", "", {"X-Account-Quota-Bytes": str(used + 10)}).status == 204
    assert_413(admin.request("PUT", f"{c}/o", body=b"x" * 11))
    assert admin.request("HEAD", f"{c}/o").status == 404
    assert stats(admin) == (count, used)
    assert tmp_files(qserver) == []
    admin.put_object(c, "o", b"x" * 10)  # exactly the quota
    assert_413(admin.request("PUT", f"{c}/p", body=b"y"))
    # Chunked: let in while within the quota, whatever its size.
    r = put_chunked(qserver, admin, f"{c}/q", b"")
    assert r.status == 201, r
    # The reseller admin is not bound.
    assert boss.request("PUT", f"{c}/r", body=b"z" * 5).status == 201
    r = put_chunked(qserver, admin, f"{c}/s", b"s")
    assert (r.status, r.body) == (413, EXCEEDED), r
    assert stats(admin) == (count + 3, used + 15)



def test_legacy_account_quota_metadata(boss, admin):
    """X-Account-Meta-Quota-Bytes sets the quota and is kept as metadata,
    which still binds once the quota itself is removed."""
    c = unique("aq")
    admin.put_container(c)
    _, used = stats(admin)
    assert boss.request("POST", "", {"X-Account-Meta-Quota-Bytes": str(used)}).status == 204
    assert_413(admin.request("PUT", f"{c}/o", body=b"x"))
    assert boss.request("POST", "", {"X-Remove-Account-Quota-Bytes": "x"}).status == 204
    h = admin.request("HEAD", "")
    assert (h.header("X-Account-Quota-Bytes"), h.header("X-Account-Meta-Quota-Bytes")) == \
        (None, str(used))
    assert_413(admin.request("PUT", f"{c}/o", body=b"x"))
    assert boss.request("POST", "", {"X-Remove-Account-Meta-Quota-Bytes": "x"}).status == 204
    assert admin.request("HEAD", "").header("X-Account-Meta-Quota-Bytes") is None
    admin.put_object(c, "o", b"x")


def test_account_count_quota(boss, admin):
    c = unique("aq")
    admin.put_container(c)
    count, _ = stats(admin)
    assert boss.request("POST", "", {"X-Account-Quota-Count": str(count + 1)}).status == 204
    admin.put_object(c, "a", b"")
    assert_413(admin.request("PUT", f"{c}/b", body=b""))
    assert stats(admin)[0] == count + 1


def test_account_policy_quotas(boss, admin):
    g, p = unique("gold"), unique("aq")
    admin.put_container(g, {"X-Storage-Policy": "gold"})
    admin.put_container(p)
    admin.put_object(g, "a", b"1234")
    assert boss.request("POST", "", {"X-Account-Quota-Bytes-Policy-gold": "5"}).status == 204
    assert_413(admin.request("PUT", f"{g}/b", body=b"12"), POLICY_EXCEEDED)
    admin.put_object(g, "b", b"1")
    admin.put_object(p, "big", b"x" * 100)  # Policy-0 is not bound by gold's quota
    assert boss.request("POST", "", {"X-Account-Quota-Count-Policy-gold": "2"}).status == 204
    assert_413(admin.request("PUT", f"{g}/c", body=b""), POLICY_EXCEEDED)
    # An alias is not the policy's name: not a quota, but a header passed on.
    r = boss.request("POST", "", {"X-Account-Quota-Bytes-Policy-yellow": "1"})
    assert r.status == 204
    assert boss.request("HEAD", "").header("X-Account-Quota-Bytes-Policy-gold") == "5"


def test_account_quota_answers_who_may_not_write_first(qserver, boss, admin, member):
    c = unique("aq")
    admin.put_container(c)
    assert boss.request("POST", "", {"X-Account-Quota-Count": "0"}).status == 204
    assert member.request("PUT", f"{c}/o", body=b"x").status == 403
    r = admin.request("PUT", f"{c}/o", body=b"x", token=False)
    assert r.status == 401, r
    assert admin.request("POST", c, {"X-Container-Write": "quota:member"}).status == 204
    assert_413(member.request("PUT", f"{c}/o", body=b"x"))
    # Before Stowage's own checks of the PUT (here: a missing container).
    assert_413(admin.request("PUT", f"{unique('nope')}/o", body=b"x"))


def test_account_quota_copies(boss, admin):
    c = unique("aq")
    admin.put_container(c)
    admin.put_object(c, "src", b"0123456789")
    _, used = stats(admin)
    assert boss.request("POST", "", {"X-Account-Quota-Bytes": str(used + 5)}).status == 204
    assert_413(admin.request("COPY", f"{c}/src", {"Destination": f"{c}/dst"}))
    assert_413(admin.request("PUT", f"{c}/dst", {"X-Copy-From": f"{c}/src"}, body=b""))
    assert admin.request("HEAD", f"{c}/dst").status == 404
    r = admin.request("COPY", f"{c}/src", {"Destination": f"{c}/dst", "Range": "bytes=0-4"})
    assert r.status == 201, r
    assert stats(admin)[1] == used + 5
    assert boss.request("COPY", f"{c}/src", {"Destination": f"{c}/dst2"}).status == 201


def test_container_quota_answers_before_account_quota(boss, admin):
    g = unique("gold")
    admin.put_container(g, {"X-Storage-Policy": "gold", "X-Container-Meta-Quota-Count": "0"})
    assert boss.request("POST", "", {"X-Account-Quota-Count-Policy-gold": "0"}).status == 204
    assert_413(admin.request("PUT", f"{g}/o", body=b""), EXCEEDED)
    assert admin.request("POST", g, {"X-Container-Meta-Quota-Count": ""}).status == 204
    assert_413(admin.request("PUT", f"{g}/o", body=b""), POLICY_EXCEEDED)


def test_swift_cli_sets_a_quota_and_upload_is_refused(qserver, admin, tmp_path):
    """The documented way: `swift post -m quota-bytes:N` as the reseller."""
    boss_cli = SwiftCLI(qserver, "quota:boss", "bosskey")
    _, used = stats(admin)
    boss_cli("post", "-m", f"quota-bytes:{used + 100}")
    assert admin.request("HEAD", "").header("X-Account-Quota-Bytes") == str(used + 100)
    f = tmp_path / "big.bin"
    f.write_bytes(b"b" * 200)
    c = unique("cli")
    cli = SwiftCLI(qserver, "quota:admin", "adminkey")
    res = cli("upload", c, "big.bin", cwd=tmp_path, check=False)
    assert res.returncode != 0
    assert "413" in res.stderr, res.stderr
    assert admin.request("HEAD", f"{c}/big.bin").status == 404
    boss_cli("post", "-m", "quota-bytes:")
    assert admin.request("HEAD", "").header("X-Account-Quota-Bytes") is None
    cli("upload", c, "big.bin", cwd=tmp_path)
    assert admin.request("HEAD", f"{c}/big.bin").header("Content-Length") == "200"


def test_slo_manifest_put_is_checked_by_its_own_length(admin):
    """Swift's container_quotas sees a `?multipart-manifest=put` as the PUT
    it is: its Content-Length (the manifest's), not the segments' total."""
    seg, c = unique("seg"), unique("cq")
    admin.put_container(seg)
    data = b"s" * 100
    admin.put_object(seg, "1", data)
    manifest = json.dumps([{"path": f"{seg}/1", "etag": md5hex(data), "size_bytes": 100}] * 3)
    manifest = manifest.encode()
    admin.put_container(c, {"X-Container-Meta-Quota-Bytes": str(len(manifest))})
    r = admin.request("PUT", f"{c}/fits", body=manifest, query="multipart-manifest=put")
    assert r.status == 201, r  # 300 bytes of segments, a manifest that fits
    assert admin.request("POST", c, {"X-Container-Meta-Quota-Bytes": "0"}).status == 204
    assert_413(admin.request("PUT", f"{c}/over", body=manifest, query="multipart-manifest=put"))
    assert admin.request("HEAD", f"{c}/over").status == 404


def test_cors_headers_as_swift_gives_them(boss, admin):
    """A container quota refuses before Swift's controller (no CORS
    headers, copies too); an account quota's 413 comes from it (headers)."""
    c, src = unique("cq"), unique("src")
    admin.put_container(src)
    admin.put_object(src, "o", b"123")
    admin.put_container(c, {"X-Container-Meta-Quota-Count": "0",
                            "X-Container-Meta-Access-Control-Allow-Origin": "*"})
    origin = {"Origin": "http://a.example"}
    for r in (admin.request("PUT", f"{c}/o", origin, body=b"x"),
              admin.request("COPY", f"{src}/o", {**origin, "Destination": f"{c}/o"})):
        assert_413(r)
        assert r.header("Access-Control-Allow-Origin") is None, r
    assert admin.request("POST", c, {"X-Container-Meta-Quota-Count": ""}).status == 204
    assert boss.request("POST", "", {"X-Account-Quota-Count": "0"}).status == 204
    for r in (admin.request("PUT", f"{c}/o", origin, body=b"x"),
              admin.request("COPY", f"{src}/o", {**origin, "Destination": f"{c}/o"})):
        assert_413(r)
        assert r.header("Access-Control-Allow-Origin") == "*", r
