"""Object and container names: UTF-8, odd slashes and dots, encoded slashes,
length limits, bad percent-encoding and invalid UTF-8."""

import urllib.parse

import pytest

from harness import build_request, md5hex, quote, raw_request, unique

ODD_NAMES = [
    "ünï/cødé ☃",
    "a//b",
    "double//slash//",
    "/leading-slash",
    "trailing/",
    "x/../y",
    "x/./z",
    "../up",
    "dots/..",
    "sp ace+plus&amp=1;semi",
    "q?mark#hash",
    "100%",
    "%2F-literal-percent-2F",
    "tab\there",
    "emoji 🚀/日本語",
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_name_round_trip(swift, container, name):
    data = f"body of {name!r}".encode()
    r = swift.request("PUT", f"{container}/{name}", body=data)
    assert r.status == 201, r
    g = swift.request("GET", f"{container}/{name}")
    assert g.status == 200, g
    assert g.body == data
    rows = swift.listing(container)
    assert [x["name"] for x in rows] == [name]
    assert rows[0]["hash"] == md5hex(data)
    # plain listing carries the exact name too
    assert swift.request("GET", container).body == name.encode() + b"\n"
    assert swift.request("DELETE", f"{container}/{name}").status == 204
    assert swift.listing(container) == []


def test_raw_socket_names_with_slashes_and_dots(server, swift, container):
    """Paths exactly as sent on the wire, no client-side normalisation."""
    cases = {
        "/a//b": "a//b",
        "/x/../y": "x/../y",
        "/x/./z": "x/./z",
        "/trailing/": "trailing/",
        "/%C3%BCn%C3%AF/c%C3%B8d%C3%A9%20%E2%98%83": "ünï/cødé ☃",
    }
    base = swift.path(container)
    for wire, name in cases.items():
        body = wire.encode()
        r = raw_request(server.port, build_request(
            "PUT", base + wire, [("X-Auth-Token", swift.token)], body=body, port=server.port))
        assert r.status == 201, (wire, r)
        g = raw_request(server.port, build_request(
            "GET", base + "/" + quote(name), [("X-Auth-Token", swift.token)], port=server.port))
        assert g.status == 200 and g.body == body, (wire, g)
    assert [x["name"] for x in swift.listing(container)] == sorted(cases.values(), key=str.encode)


def test_encoded_slash_is_part_of_the_name(swift, container):
    r = swift.request("PUT", f"{container}/a%2Fb", body=b"encoded slash", raw=True)
    assert r.status == 201, r
    assert [x["name"] for x in swift.listing(container)] == ["a/b"]
    g = swift.request("GET", f"{container}/a/b", raw=True)
    assert g.status == 200 and g.body == b"encoded slash"
    g = swift.request("GET", f"{container}/a%2fb", raw=True)
    assert g.status == 200 and g.body == b"encoded slash"


def test_object_name_length(swift, container):
    ok = "n" * 1024
    assert swift.request("PUT", f"{container}/{ok}", body=b"x").status == 201
    r = swift.request("PUT", f"{container}/{ok}n", body=b"x")
    assert r.status == 400, r
    # (Multi-byte names are left out on purpose: Swift documents the limit in
    # UTF-8 bytes, but Swift on py3 counts code points.)
    assert [x["name"] for x in swift.listing(container)] == [ok]


def test_container_name_length(swift):
    p = unique("c")
    ok = p + "c" * (256 - len(p))
    assert len(ok) == 256
    assert swift.request("PUT", ok).status == 201
    assert swift.request("HEAD", ok).status == 204
    bad = ok + "c"
    r = swift.request("PUT", bad)
    assert r.status == 400, r
    assert bad not in [x["name"] for x in swift.listing("", prefix=ok[:20])]


def test_container_name_cannot_contain_slash(swift):
    """An encoded slash in the container part splits it: /c%2Fsub is object
    `sub` of container `c`, so a container named `c/sub` cannot be made."""
    c = unique("c")
    r = swift.request("PUT", f"{c}%2Fsub", raw=True, body=b"")
    assert r.status == 404, r                     # object PUT into missing container
    assert not swift.listing("", prefix=c)
    swift.put_container(c)
    r = swift.request("PUT", f"{c}%2Fsub", raw=True, body=b"")
    assert r.status == 201, r                     # now: object `sub` in `c`
    assert [x["name"] for x in swift.listing(c)] == ["sub"]
    assert [x["name"] for x in swift.listing("", prefix=c)] == [c]


def test_bad_percent_encoding_is_400(server, swift, container):
    """`%` not followed by two hex digits is not a valid URI (RFC 3986).
    Apache's core rejects it with 400 before any handler runs. (Swift behind
    eventlet would keep `%zz` literally; behind Apache that is impossible.)"""
    for wire in ("bad%zzname", "bad%", "bad%4", "bad%g0"):
        r = raw_request(server.port, build_request(
            "PUT", swift.path(container) + "/" + wire, [("X-Auth-Token", swift.token)],
            body=b"x", port=server.port))
        assert r.status == 400, (wire, r)
    assert swift.listing(container) == []


# Invalid UTF-8, overlong forms and NUL (412), in object, container and
# account names: rows of the table in test_hostile_input.py.


def test_raw_utf8_bytes_in_request_line(server, swift, container):
    """Unencoded UTF-8 in the request line names the same object."""
    name = "raw-ünï"
    path = (swift.path(container) + "/").encode() + name.encode("utf-8")
    r = raw_request(server.port, build_request(
        "PUT", path, [("X-Auth-Token", swift.token)], body=b"raw", port=server.port))
    if r.status == 400:
        pytest.skip("the host refuses raw non-ASCII bytes in the request line (Apache strict parsing)")
    assert r.status == 201, r
    assert [x["name"] for x in swift.listing(container)] == [name]
