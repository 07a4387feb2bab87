"""Container and account ACLs beyond the matrix: how they are set, cleaned,
validated and shown, referrer rules, and the swift CLI's -r / -w flags.

Uses its own server (accounts AUTH_acx, AUTH_acx2) so account ACLs set here
cannot leak into other tests.
"""

import json
import subprocess

import pytest

from harness import HTTP, SwiftCLI, server_with_users, unique

USERS = {
    "acx:admin": ("adminkey", True),
    "acx:member": ("memberkey", False),
    "acx2:admin": ("otherkey", True),
}
ACCOUNT = "/v1/AUTH_acx"


class Caller:
    def __init__(self, srv, login):
        self.http = HTTP(srv.port)
        self.token = srv.auth(login, USERS[login][0])[1] if login else None

    def __call__(self, method, path, headers=None, body=None):
        h = dict(headers or {})
        if self.token:
            h["X-Auth-Token"] = self.token
        return self.http.request(method, ACCOUNT + path, h, body)


@pytest.fixture(scope="module")
def srv():
    yield from server_with_users(USERS)


@pytest.fixture(scope="module")
def admin(srv):
    return Caller(srv, "acx:admin")


@pytest.fixture(scope="module")
def member(srv):
    return Caller(srv, "acx:member")


@pytest.fixture(scope="module")
def anon(srv):
    return Caller(srv, None)


@pytest.fixture
def cont(admin):
    name = unique("acl")
    assert admin("PUT", f"/{name}").status == 201
    assert admin("PUT", f"/{name}/o", body=b"hello").status == 201
    return name


def test_acls_are_cleaned_and_shown_to_owners_only(admin, member, cont):
    r = admin("POST", f"/{cont}", {"X-Container-Read": " .referrer : * , acx:member ,,",
                                   "X-Container-Write": "acx:member"})
    assert r.status == 204, r
    h = admin("HEAD", f"/{cont}")
    assert h.header("X-Container-Read") == ".r:*,acx:member"
    assert h.header("X-Container-Write") == "acx:member"
    # A reader may list but does not see the ACLs.
    h = member("HEAD", f"/{cont}")
    assert h.status == 204, h
    assert h.header("X-Container-Read") is None
    assert h.header("X-Container-Write") is None
    # Removal: empty value, or X-Remove-*.
    assert admin("POST", f"/{cont}", {"X-Container-Read": ""}).status == 204
    assert admin("POST", f"/{cont}", {"X-Remove-Container-Write": "x"}).status == 204
    h = admin("HEAD", f"/{cont}")
    assert h.header("X-Container-Read") is None
    assert h.header("X-Container-Write") is None


@pytest.mark.parametrize("header,value,message", [
    ("X-Container-Read", ".r:", "No host/domain value after referrer"),
    ("X-Container-Read", ".x:y", "Unknown designator"),
    ("X-Container-Write", ".r:*", "Referrers not allowed in write ACL"),
])
def test_bad_container_acl_400(admin, cont, header, value, message):
    for method, path in (("POST", f"/{cont}"), ("PUT", f"/{unique('c')}")):
        r = admin(method, path, {header: value})
        assert r.status == 400, r
        assert message in r.text


def test_non_owner_cannot_set_acls(admin, member, cont):
    # Without rights on the container at all: 403.
    assert member("POST", f"/{cont}", {"X-Container-Read": ".r:*"}).status == 403
    # With read-write on the account, Swift accepts the POST but drops the
    # owner-only headers.
    acl = json.dumps({"read-write": ["acx:member"]})
    assert admin("POST", "", {"X-Account-Access-Control": acl}).status == 204
    try:
        r = member("POST", f"/{cont}", {"X-Container-Read": ".r:*",
                                         "X-Container-Meta-Color": "blue"})
        assert r.status == 204, r
        h = admin("HEAD", f"/{cont}")
        assert h.header("X-Container-Read") is None
        assert h.header("X-Container-Meta-Color") == "blue"
        # ... and may not touch the account itself.
        assert member("POST", "", {"X-Account-Meta-X": "1"}).status == 403
    finally:
        assert admin("POST", "", {"X-Account-Access-Control": ""}).status == 204


def test_account_acl_round_trip(admin, member):
    acl = {"read-only": ["acx:member"], "admin": ["acx2:admin"]}
    r = admin("POST", "", {"X-Account-Access-Control": json.dumps(acl)})
    assert r.status == 204, r
    try:
        h = admin("HEAD", "")
        assert h.status == 204
        assert json.loads(h.header("X-Account-Access-Control")) == acl
        assert h.header("X-Account-Access-Control") == \
            '{"admin":["acx2:admin"],"read-only":["acx:member"]}'
        # A read-only member lists the account but does not see the ACL.
        r = member("GET", "")
        assert r.status in (200, 204), r
        assert r.header("X-Account-Access-Control") is None
        assert member("HEAD", "").header("X-Account-Access-Control") is None
    finally:
        assert admin("POST", "", {"X-Account-Access-Control": ""}).status == 204
    assert admin("HEAD", "").header("X-Account-Access-Control") is None
    assert member("GET", "").status == 403


@pytest.mark.parametrize("value,message", [
    ("not json", "Syntax error in input"),
    ('["a"]', "Syntax error in input"),
    ('{"owner": ["a"]}', 'Key "owner" not recognized'),
    ('{"admin": "a"}', 'Value for key "admin" must be a list'),
    ('{"read-only": [1]}', 'Elements of "read-only" list must be strings'),
])
def test_bad_account_acl_400(admin, value, message):
    r = admin("POST", "", {"X-Account-Access-Control": value})
    assert r.status == 400, r
    assert "X-Account-Access-Control invalid" in r.text
    assert message in r.text


def test_only_owners_set_account_acls(member, anon):
    acl = json.dumps({"admin": ["acx:member"]})
    assert member("POST", "", {"X-Account-Access-Control": acl}).status == 403
    assert anon("POST", "", {"X-Account-Access-Control": acl}).status == 401


def test_referrer_rules(admin, anon, cont):
    acl = ".r:.example.com,.r:-bad.example.com"
    assert admin("POST", f"/{cont}", {"X-Container-Read": acl}).status == 204
    ok = anon("GET", f"/{cont}/o", {"Referer": "http://www.example.com/page"})
    assert ok.status == 200 and ok.body == b"hello"
    assert anon("GET", f"/{cont}/o", {"Referer": "http://bad.example.com/"}).status == 401
    assert anon("GET", f"/{cont}/o", {"Referer": "http://example.org/"}).status == 401
    assert anon("GET", f"/{cont}/o").status == 401
    # Object reads only: no .rlistings, no listing.
    assert anon("GET", f"/{cont}", {"Referer": "http://www.example.com/"}).status == 401


def test_anonymous_public_container(admin, anon, cont):
    assert admin("POST", f"/{cont}", {"X-Container-Read": ".r:*"}).status == 204
    assert anon("HEAD", f"/{cont}/o").status == 200
    assert anon("GET", f"/{cont}/missing").status == 404
    assert anon("GET", f"/{cont}").status == 401
    assert anon("PUT", f"/{cont}/new", body=b"x").status == 401
    assert anon("DELETE", f"/{cont}/o").status == 401
    assert anon("POST", f"/{cont}/o").status == 401
    assert anon("GET", "").status == 401


def test_invalid_token_401_with_realm(srv):
    r = HTTP(srv.port).request("GET", ACCOUNT, {"X-Auth-Token": "AUTH_tk" + "0" * 32})
    assert r.status == 401
    assert r.header("Www-Authenticate") == 'Swift realm="AUTH_acx"'


def test_member_on_missing_container(admin, member):
    # Without an ACL there is nothing to grant: 403, not 404 (as in Swift).
    assert member("GET", f"/{unique('nope')}").status == 403
    acl = json.dumps({"read-only": ["acx:member"]})
    assert admin("POST", "", {"X-Account-Access-Control": acl}).status == 204
    try:
        assert member("GET", f"/{unique('nope')}").status == 404
    finally:
        assert admin("POST", "", {"X-Account-Access-Control": ""}).status == 204


def test_account_write_methods(srv, admin):
    # Account PUT/DELETE are not the account owner's to make (tempauth: 403).
    assert admin("PUT", "").status == 403
    assert admin("DELETE", "").status == 403


def test_swift_cli_read_and_write_acls(srv, admin, member, anon):
    cli = SwiftCLI(srv, "acx:admin", USERS["acx:admin"][0])
    c = unique("cli")
    cli("post", c)
    cli("upload", "--object-name", "hello.txt", c, "/etc/hostname")
    cli("post", "-r", ".r:*,.rlistings", c)
    stat = cli("stat", c).stdout
    assert ".r:*,.rlistings" in stat
    # Anonymous, as a browser or curl would.
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                          f"http://127.0.0.1:{srv.port}{ACCOUNT}/{c}/hello.txt"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "200"
    listing = subprocess.run(["curl", "-s", f"http://127.0.0.1:{srv.port}{ACCOUNT}/{c}"],
                             capture_output=True, text=True, timeout=30)
    assert listing.stdout.split() == ["hello.txt"]
    # -w lets a member write, but not read.
    cli("post", "-r", "", "-w", "acx:member", c)
    assert member("PUT", f"/{c}/by-member", body=b"m").status == 201
    assert member("GET", f"/{c}/by-member").status == 403
    assert anon("GET", f"/{c}/hello.txt").status == 401


def test_info_lists_account_acls_only_what_works(srv):
    import json as _json
    status, _, body = srv.http_get("/info")
    assert status == 200
    info = _json.loads(body)
    assert info["tempauth"] == {"account_acls": True}
    # Swift never advertises dlo; tempurl and staticweb are not built.
    for absent in ("dlo", "tempurl", "staticweb"):
        assert absent not in info, absent
    # Static large objects work: advertised with Swift's keys and limits.
    assert info["slo"]["max_manifest_segments"] == 1000
    # Bulk delete and archive extraction work: advertised with Swift's limits.
    assert info["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}
    assert info["bulk_upload"] == {"max_containers_per_extraction": 10000,
                                   "max_failed_extractions": 1000}
