"""Object PUT refusals (Swift's check_object_creation / check_metadata and
the object server's ETag check): exact statuses, and nothing stored."""

import os

import pytest

from harness import build_request, md5hex, raw_request, unique


def _absent(swift, container, name):
    r = swift.request("HEAD", f"{container}/{name}")
    assert r.status == 404, r
    assert name not in [x["name"] for x in swift.listing(container)]


def test_put_without_length_or_chunked_is_411(server, swift, container):
    req = build_request("PUT", swift.path(f"{container}/nolen"),
                        [("X-Auth-Token", swift.token), ("Content-Type", "text/plain")],
                        port=server.port)
    r = raw_request(server.port, req)
    assert r.status == 411, r
    _absent(swift, container, "nolen")


def test_put_etag_mismatch_is_422_and_absent(swift, container):
    data = b"some bytes for the etag check"
    r = swift.request("PUT", f"{container}/bad-etag", {"ETag": md5hex(b"other")}, body=data)
    assert r.status == 422, r
    _absent(swift, container, "bad-etag")


def test_put_etag_mismatch_does_not_replace_existing(swift, container):
    swift.put_object(container, "keep", b"original")
    r = swift.request("PUT", f"{container}/keep", {"ETag": md5hex(b"nope")}, body=b"replacement")
    assert r.status == 422, r
    g = swift.request("GET", f"{container}/keep")
    assert g.status == 200 and g.body == b"original"


@pytest.mark.parametrize("quoted", [False, True])
def test_put_etag_match_is_201(swift, container, quoted):
    data = os.urandom(1000)
    etag = md5hex(data)
    r = swift.request("PUT", f"{container}/good-etag",
                      {"ETag": f'"{etag}"' if quoted else etag}, body=data)
    assert r.status == 201, r
    assert r.header("ETag").strip('"') == etag


def test_put_into_missing_container_is_404(swift):
    c = unique("missing")
    r = swift.request("PUT", f"{c}/obj", body=b"x")
    assert r.status == 404, r
    assert swift.request("HEAD", c).status == 404


def test_put_larger_than_max_file_size_is_413(server, swift, container):
    # max_file_size is 5368709122; announce one byte more and send nothing.
    req = build_request("PUT", swift.path(f"{container}/huge"),
                        [("X-Auth-Token", swift.token), ("Content-Length", "5368709123")],
                        port=server.port)
    r = raw_request(server.port, req, timeout=15)
    assert r.status == 413, r
    _absent(swift, container, "huge")


# check_metadata: name <= 128, value <= 256, count <= 90, overall <= 4096
@pytest.mark.parametrize("headers,expect", [
    ({"X-Object-Meta-" + "n" * 128: "v"}, 201),
    ({"X-Object-Meta-" + "n" * 129: "v"}, 400),
    ({"X-Object-Meta-K": "v" * 256}, 201),
    ({"X-Object-Meta-K": "v" * 257}, 400),
    ({f"X-Object-Meta-K{i:02d}": "v" for i in range(90)}, 201),
    ({f"X-Object-Meta-K{i:02d}": "v" for i in range(91)}, 400),
    ({f"X-Object-Meta-K{i:02d}": "v" * 250 for i in range(15)}, 201),   # 15*253 = 3795
    ({f"X-Object-Meta-K{i:02d}": "v" * 254 for i in range(16)}, 400),   # 16*257 = 4112
], ids=["name128", "name129", "value256", "value257", "count90", "count91",
        "overall-under", "overall-over"])
def test_put_metadata_constraints(swift, container, headers, expect):
    name = unique("meta")
    r = swift.request("PUT", f"{container}/{name}", headers, body=b"x")
    assert r.status == expect, r
    h = swift.request("HEAD", f"{container}/{name}")
    assert h.status == (200 if expect == 201 else 404), h


def test_post_metadata_constraints(swift, container):
    swift.put_object(container, "o", b"x", {"X-Object-Meta-Keep": "1"})
    r = swift.request("POST", f"{container}/o", {"X-Object-Meta-K": "v" * 257})
    assert r.status == 400, r
    h = swift.request("HEAD", f"{container}/o")
    assert h.header("X-Object-Meta-Keep") == "1"
    assert h.header("X-Object-Meta-K") is None
