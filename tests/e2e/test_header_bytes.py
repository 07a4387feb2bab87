"""Header values that are not UTF-8 (issue 17, item 8). HTTP lets a client
send any bytes but control characters in a header value (Apache refuses
those, and any name that is not a token, itself); until now Stowage read
values lossily and stored U+FFFD in place of such bytes, answering 201/204.

Now it does what Swift does (swift/common/constraints.py check_metadata,
swift/common/db.py validate_metadata): account and container metadata and
ACLs must be UTF-8, else 400 `Metadata must be valid UTF-8` and nothing is
stored; an object keeps the exact bytes of its metadata and gives them back.
Every test checks that nothing was lost or rewritten."""

import pytest

from harness import build_request, raw_request, server_with_users, unique

pytestmark = pytest.mark.apache

USERS = {"hb:admin": ("hbkey", True), "hb:member": ("hbmember", False)}
NOT_UTF8 = b"Metadata must be valid UTF-8"
LATIN1 = b"caf\xe9"          # "café" in Latin-1: not UTF-8
UTF8 = "café".encode()


@pytest.fixture(scope="module")
def srv():
    yield from server_with_users(USERS)


@pytest.fixture(scope="module")
def owner(srv):
    return srv.client("hb:admin", USERS["hb:admin"][0])


def raw_header(resp, name):
    """A response header's bytes as sent (http.client reads them as Latin-1)."""
    v = resp.header(name)
    return None if v is None else v.encode("latin-1")


def headers_with(resp, prefix):
    return {k.lower(): v.encode("latin-1") for k, v in resp.header_list
            if k.lower().startswith(prefix)}


def refused(r, body):
    assert r.status == 400, r
    assert r.body.rstrip(b"\n") == body, r.body


# ---- accounts and containers: Swift's 400, nothing stored -----------------

def test_container_metadata_must_be_utf8(owner):
    c = unique("c")
    refused(owner.request("PUT", c, {"X-Container-Meta-A": LATIN1}), NOT_UTF8)
    assert owner.request("HEAD", c).status == 404, "no container was made"
    r = owner.request("PUT", c, {"X-Container-Meta-A": UTF8, "X-Container-Meta-B": "b"})
    assert r.status == 201, r
    before = headers_with(owner.request("HEAD", c), "x-container-meta-")
    assert before == {"x-container-meta-a": UTF8, "x-container-meta-b": b"b"}
    # One bad value refuses the whole request, whatever else it carries.
    refused(owner.request("POST", c, {"X-Container-Meta-A": b"x", "X-Container-Meta-C": LATIN1}),
            NOT_UTF8)
    refused(owner.request("PUT", c, {"X-Container-Meta-C": LATIN1}), NOT_UTF8)
    assert headers_with(owner.request("HEAD", c), "x-container-meta-") == before


def test_container_acls_must_be_utf8(owner):
    c = unique("c")
    owner.put_container(c, {"X-Container-Read": "hb:member", "X-Container-Write": "hb:member"})
    for name in ("X-Container-Read", "X-Container-Write"):
        refused(owner.request("POST", c, {name: b"hb:m\xe9mber"}), NOT_UTF8)
        refused(owner.request("POST", c, {name: b"hb:member,\xff"}), NOT_UTF8)
    # A malformed ACL is found first (the proxy cleans ACLs before the
    # container server checks what it stores).
    r = owner.request("POST", c, {"X-Container-Read": b"\xff", "X-Container-Write": ".r:*"})
    refused(r, b"Referrers not allowed in write ACL: '.r:*'")
    h = owner.request("HEAD", c)
    assert raw_header(h, "X-Container-Read") == b"hb:member"
    assert raw_header(h, "X-Container-Write") == b"hb:member"
    # A new container is not made with one either.
    c2 = unique("c")
    refused(owner.request("PUT", c2, {"X-Container-Read": b".r:*,\xe9"}), NOT_UTF8)
    assert owner.request("HEAD", c2).status == 404
    # UTF-8 that is not ASCII is stored as sent.
    assert owner.request("POST", c, {"X-Container-Read": "hb:mémber".encode()}).status == 204
    assert raw_header(owner.request("HEAD", c), "X-Container-Read") == "hb:mémber".encode()


def test_account_metadata_and_acl_must_be_utf8(owner):
    r = owner.request("POST", "", {"X-Account-Meta-Kept": UTF8})
    assert r.status == 204, r
    before = owner.request("HEAD", "")
    refused(owner.request("POST", "", {"X-Account-Meta-A": LATIN1}), NOT_UTF8)
    # In a JSON string the bytes make valid JSON: tempauth lets it through,
    # the account server refuses to store it.
    acl = b'{"read-only": ["hb:m\xe9mber"]}'
    refused(owner.request("POST", "", {"X-Account-Access-Control": acl}), NOT_UTF8)
    # Outside one it is no JSON at all: tempauth's syntax error.
    r = owner.request("POST", "", {"X-Account-Access-Control": b'{"read-only": [\xff]}'})
    assert r.status == 400, r
    assert r.body.startswith(b"X-Account-Access-Control invalid: Syntax error in input"), r.body
    after = owner.request("HEAD", "")
    assert headers_with(after, "x-account-meta-") == headers_with(before, "x-account-meta-")
    assert headers_with(after, "x-account-meta-")["x-account-meta-kept"] == UTF8
    assert after.header("X-Account-Access-Control") is None


def test_apache_refuses_control_bytes_and_non_token_names(srv, owner):
    """What never reaches Stowage: Apache's own 400s."""
    c = unique("c")
    owner.put_container(c)
    path = f"{owner.account_path}/{c}/o"
    for header in ((b"X-Object-Meta-A", b"a\x01b"), (b"X-Object-Meta-A", b"a\x7fb"),
                   (b"X-Object-Meta-\xff", b"v"), ("X-Object-Meta-\u00e9".encode(), b"v")):
        req = build_request("PUT", path, [("X-Auth-Token", owner.token), header], body=b"x",
                            port=srv.port)
        assert raw_request(srv.port, req).status == 400, header
    assert owner.request("HEAD", f"{c}/o").status == 404


# ---- objects: the exact bytes, as Swift's object server keeps them ---------

RAW = b"caf\xe9 \xff\x80 end"     # no UTF-8 at all in places
KEPT = {
    "X-Object-Meta-Raw": RAW,
    "X-Object-Meta-Text": UTF8,
    "Content-Disposition": b'attachment; filename="caf\xe9.txt"',
    "Content-Encoding": b"x-\xe9",
    "X-Object-Manifest": b"segs/caf\xe9",
}


def stored(resp):
    """The object metadata of a response, as bytes."""
    return {k.lower(): v.encode("latin-1") for k, v in resp.header_list
            if k.lower().startswith("x-object-meta-")
            or k.lower() in ("content-disposition", "content-encoding", "x-object-manifest")}


def expected(headers):
    return {k.lower(): v for k, v in headers.items()}


def test_object_metadata_keeps_its_bytes(owner):
    c = unique("c")
    owner.put_container(c)
    r = owner.request("PUT", f"{c}/o", KEPT, body=b"data")
    assert r.status == 201, r
    # X-Object-Manifest makes it a DLO manifest: read as itself with
    # ?multipart-manifest=get; plainly, its segments' container "segs" is
    # listed, and is missing (404, as Swift answers).
    for method in ("HEAD", "GET"):
        r = owner.request(method, f"{c}/o", query="multipart-manifest=get")
        assert r.status == 200, r
        assert stored(r) == expected(KEPT), method
        assert owner.request(method, f"{c}/o").status == 404, method
    assert owner.request("GET", f"{c}/o", query="multipart-manifest=get").body == b"data"
    # A POST replaces the metadata with its own bytes.
    posted = {"X-Object-Meta-Posted": b"\xfe\xfd", "Content-Disposition": b"inline; x=\xe9"}
    assert owner.request("POST", f"{c}/o", posted).status == 202
    assert stored(owner.request("HEAD", f"{c}/o")) == expected(posted)
    # So does a new PUT with none.
    assert owner.request("PUT", f"{c}/o", {}, body=b"x").status == 201
    assert stored(owner.request("HEAD", f"{c}/o")) == {}


def test_object_metadata_limits_count_the_bytes_sent(owner):
    c = unique("c")
    owner.put_container(c)
    # 256 bytes is the limit: 256 Latin-1 bytes fit (they are not 768
    # bytes of U+FFFD), 257 do not.
    value = b"\xe9" * 256
    r = owner.request("PUT", f"{c}/o", {"X-Object-Meta-Long": value}, body=b"")
    assert r.status == 201, r
    assert stored(owner.request("HEAD", f"{c}/o")) == {"x-object-meta-long": value}
    r = owner.request("POST", f"{c}/o", {"X-Object-Meta-Long": value + b"\xe9"})
    assert r.status == 400 and r.body.startswith(b"Metadata value longer than 256"), r
    assert stored(owner.request("HEAD", f"{c}/o")) == {"x-object-meta-long": value}


def test_copy_keeps_the_bytes(owner):
    c = unique("c")
    owner.put_container(c)
    owner.put_object(c, "src", b"payload", {"X-Object-Meta-Raw": RAW})
    r = owner.request("PUT", f"{c}/dst", {"X-Copy-From": f"{c}/src",
                                          "X-Object-Meta-Added": b"\xe0\xe1"}, body=b"")
    assert r.status == 201, r
    want = {"x-object-meta-raw": RAW, "x-object-meta-added": b"\xe0\xe1"}
    assert stored(r) == want, "the copy's 201 shows the metadata it carries"
    assert stored(owner.request("HEAD", f"{c}/dst")) == want
    r = owner.request("COPY", f"{c}/src", {"Destination": f"{c}/dst2"})
    assert r.status == 201, r
    assert stored(owner.request("HEAD", f"{c}/dst2")) == {"x-object-meta-raw": RAW}


def test_content_type_must_be_utf8(owner):
    """Swift's check_object_creation: 400 'Invalid Content-Type'. A POST is
    refused the same way (Swift's object server would store it, then fail
    to record it in the container listing)."""
    c = unique("c")
    owner.put_container(c)
    bad = {"Content-Type": b"text/plain; charset=caf\xe9"}
    refused(owner.request("PUT", f"{c}/o", bad, body=b"x"), b"Invalid Content-Type")
    assert owner.request("HEAD", f"{c}/o").status == 404, "nothing stored"
    assert owner.listing(c) == []
    owner.put_object(c, "o", b"x", {"Content-Type": "text/plain; charset=café".encode(),
                                    "X-Object-Meta-A": b"a"})
    refused(owner.request("POST", f"{c}/o", {**bad, "X-Object-Meta-B": b"b"}),
            b"Invalid Content-Type")
    refused(owner.request("PUT", f"{c}/copy", {**bad, "X-Copy-From": f"{c}/o"}, body=b""),
            b"Invalid Content-Type")
    h = owner.request("HEAD", f"{c}/o")
    assert raw_header(h, "Content-Type") == "text/plain; charset=café".encode()
    assert stored(h) == {"x-object-meta-a": b"a"}, "the POST changed nothing"
    assert [o["name"] for o in owner.listing(c)] == ["o"]
