"""Static large objects as Swift's slo middleware serves them: the manifest
PUT (?multipart-manifest=put) with every bad input Swift refuses and nothing
stored, joined GET/HEAD with the SLO's size and quoted ETag, Range across
segments and into nested SLOs, conditions, ?multipart-manifest=get (and
&format=raw), the listing row, DELETE ?multipart-manifest=delete, COPY,
segments that go missing under a manifest, loops; and the real `swift`
CLI (SLO is its default once /info has `slo`) round-tripping a file."""

import hashlib
import http.client
import json
import os

import pytest

from harness import HOST, get_and_leave, get_until_closed, EXTRA_USERS, md5hex, unique

PARTS = [b"abcd", b"efghij", b"klm"]


def slo_etag(entries) -> str:
    """Swift's SLO ETag: md5 of the segments' ETags, "etag:range;" for a
    ranged one."""
    return md5hex("".join(entries).encode())


@pytest.fixture
def segs(swift, container):
    s = container + "_segs"
    swift.put_container(s)
    for i, p in enumerate(PARTS):
        swift.put_object(s, f"p{i}", p)
    swift.put_object(s, "empty", b"")
    return container, s


def put_manifest(swift, c, name, entries, headers=None, query="multipart-manifest=put"):
    return swift.request("PUT", f"{c}/{name}", headers or {}, body=json.dumps(entries).encode(),
                         query=query)


def full(s):
    return [{"path": f"{s}/p{i}", "etag": md5hex(p), "size_bytes": len(p)}
            for i, p in enumerate(PARTS)]


def test_put_get_head_and_listing(swift, segs):
    c, s = segs
    r = put_manifest(swift, c, "big", full(s), {"Content-Type": "text/x-big",
                                                 "X-Object-Meta-Color": "blue"})
    assert r.status == 201, r
    etag = slo_etag(md5hex(p) for p in PARTS)
    assert r.header("ETag") == f'"{etag}"'
    whole = b"".join(PARTS)
    for method in ("GET", "HEAD"):
        g = swift.request(method, f"{c}/big")
        assert g.status == 200, g
        assert g.header("Content-Length") == str(len(whole))
        assert g.header("ETag") == f'"{etag}"'
        assert g.header("Content-Type") == "text/x-big"
        assert g.header("X-Static-Large-Object") == "True"
        assert g.header("X-Object-Meta-Color") == "blue"
        assert g.header("X-Manifest-Etag")
        assert g.body == (whole if method == "GET" else b"")
    # Conditions are the SLO's.
    assert swift.request("GET", f"{c}/big", {"If-None-Match": f'"{etag}"'}).status == 304
    assert swift.request("GET", f"{c}/big", {"If-Match": '"nope"'}).status == 412
    assert swift.request("GET", f"{c}/big", {"If-Match": etag}).status == 200
    # The listing shows the SLO's size and both ETags, not the manifest's bytes.
    row = next(o for o in swift.listing(c) if o["name"] == "big")
    m = swift.request("GET", f"{c}/big", query="multipart-manifest=get")
    assert row["bytes"] == len(whole)
    assert row["slo_etag"] == f'"{etag}"'
    assert row["hash"] == md5hex(m.body) == m.header("ETag")
    assert row["content_type"] == "text/x-big"
    # The container counts the manifest's own bytes, as Swift.
    h = swift.request("HEAD", c)
    assert h.header("X-Container-Bytes-Used") == str(len(m.body))
    # POST keeps it an SLO.
    assert swift.request("POST", f"{c}/big", {"X-Object-Meta-Shape": "round"}).status == 202
    g = swift.request("GET", f"{c}/big")
    assert g.body == whole and g.header("X-Object-Meta-Shape") == "round"
    assert g.header("X-Object-Meta-Color") is None


@pytest.mark.parametrize("spec,status,body,content_range", [
    ("bytes=2-5", 206, b"cdef", "bytes 2-5/13"),
    ("bytes=-4", 206, b"jklm", "bytes 9-12/13"),
    ("bytes=4-9", 206, b"efghij", "bytes 4-9/13"),
    ("bytes=12-", 206, b"m", "bytes 12-12/13"),
    ("bytes=13-", 416, None, "bytes */13"),
    ("bytes=x", 200, b"abcdefghijklm", None),
])
def test_ranges_across_segments(swift, segs, spec, status, body, content_range):
    c, s = segs
    assert put_manifest(swift, c, "big", full(s)).status == 201
    r = swift.request("GET", f"{c}/big", {"Range": spec})
    assert r.status == status, r
    assert r.header("Content-Range") == content_range
    if body is not None:
        assert r.body == body


def test_multiple_ranges_and_segment_ranges(swift, segs):
    c, s = segs
    entries = [{"path": f"{s}/p0", "range": "1-2"}, {"path": f"{s}/p1", "range": "-3"},
               {"path": f"{s}/p2"}]
    r = put_manifest(swift, c, "ranged", entries)
    assert r.status == 201, r
    want = b"bc" + b"hij" + b"klm"
    assert r.header("ETag") == '"%s"' % slo_etag(
        [f"{md5hex(PARTS[0])}:1-2;", f"{md5hex(PARTS[1])}:3-5;", md5hex(PARTS[2])])
    assert swift.request("GET", f"{c}/ranged").body == want
    m = swift.request("GET", f"{c}/ranged", {"Range": "bytes=0-1,4-6"})
    assert m.status == 206
    ctype = m.header("Content-Type")
    assert ctype.startswith("multipart/byteranges;boundary=")
    boundary = ctype.split("=", 1)[1]
    assert m.body == (f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Range: bytes 0-1/8\r\n\r\nbc\r\n--{boundary}\r\n"
                      f"Content-Type: application/octet-stream\r\nContent-Range: bytes 4-6/8"
                      f"\r\n\r\njkl\r\n--{boundary}--").encode()
    raw = swift.request("GET", f"{c}/ranged", query="multipart-manifest=get&format=raw")
    assert json.loads(raw.body) == [
        {"etag": md5hex(PARTS[0]), "path": f"/{s}/p0", "range": "1-2", "size_bytes": 4},
        {"etag": md5hex(PARTS[1]), "path": f"/{s}/p1", "range": "3-5", "size_bytes": 6},
        {"etag": md5hex(PARTS[2]), "path": f"/{s}/p2", "size_bytes": 3}]
    assert raw.header("ETag") == md5hex(raw.body)


def bad_cases(c, s):
    ok = {"path": f"{s}/p0"}
    return [
        (b"[{", 400, "text/html; charset=UTF-8", b"Manifest must be valid JSON.\n"),
        (b'{"path": "x"}', 400, "text/html; charset=UTF-8", b"Manifest must be a list.\n"),
        (json.dumps([{"path": f"{s}/nope"}]).encode(), 400, "text/plain",
         f"Errors:\n{s}/nope, 404 Not Found\n".encode()),
        (json.dumps([{"path": f"{s}/p0", "etag": "0" * 32}]).encode(), 400, "text/plain",
         f"Errors:\n{s}/p0, Etag Mismatch\n".encode()),
        (json.dumps([{"path": f"{s}/p0", "size_bytes": 99}]).encode(), 400, "text/plain",
         f"Errors:\n{s}/p0, Size Mismatch\n".encode()),
        (json.dumps([{"path": f"{s}/empty"}, ok]).encode(), 400, "text/plain",
         f"Errors:\n{s}/empty, Too small; each segment must be at least 1 byte.\n".encode()),
        (json.dumps([{"path": f"{s}/p0", "size_bytes": 0}, ok]).encode(), 400, "text/plain",
         b"Index 0: too small; each segment must be at least 1 byte.\n"),
        (json.dumps([{"path": f"/{c}/bad"}]).encode(), 400, "text/plain",
         b"Index 0: manifest must not include itself as a segment\n"),
        (json.dumps([dict(ok, range="1-2,4-5")]).encode(), 400, "text/plain",
         b"Index 0: multiple ranges (only one allowed)\n"),
        (json.dumps([dict(ok, range="9-")]).encode(), 400, "text/plain",
         f"Errors:\n{s}/p0, Unsatisfiable Range\n".encode()),
        (json.dumps([dict(ok, extra=1)]).encode(), 400, "text/plain",
         b'Index 0: extraneous keys "extra"\n'),
        (json.dumps([{"data": "YWJj"}]).encode(), 400, "text/plain",
         b"Inline data segments require at least one object-backed segment.\n"),
        (json.dumps([ok] * 1001).encode(), 413, "text/html; charset=UTF-8",
         b"Number of object-backed segments must be <= 1000"),
    ]


def test_bad_manifests_are_refused_and_nothing_is_stored(swift, segs):
    c, s = segs
    for body, status, ctype, text in bad_cases(c, s):
        r = swift.request("PUT", f"{c}/bad", body=body, query="multipart-manifest=put")
        assert (r.status, r.header("Content-Type"), r.body) == (status, ctype, text), body[:80]
        assert swift.request("HEAD", f"{c}/bad").status == 404
    # The same problems in JSON and XML.
    body = json.dumps([{"path": f"{s}/nope"}, {"path": f"{s}/p0", "etag": "x"}]).encode()
    r = swift.request("PUT", f"{c}/bad", {"Accept": "application/json"}, body=body,
                      query="multipart-manifest=put")
    assert r.status == 400 and r.header("Content-Type") == "application/json"
    assert r.json() == {"Errors": [[f"{s}/nope", "404 Not Found"], [f"{s}/p0", "Etag Mismatch"]]}
    r = swift.request("PUT", f"{c}/bad", {"Accept": "application/xml"}, body=body,
                      query="multipart-manifest=put")
    assert r.body == (f"<upload>\n<errors>\n<object><name>{s}/nope</name><status>404 Not Found"
                      f"</status></object>\n<object><name>{s}/p0</name><status>Etag Mismatch"
                      f"</status></object>\n</errors>\n</upload>\n").encode()
    # A manifest over 8 MiB, and a wrong ETag for the whole.
    big = b"[" + b" " * (8 << 20) + b"]"
    r = swift.request("PUT", f"{c}/bad", body=big, query="multipart-manifest=put")
    assert (r.status, r.body) == (413, b"Manifest File > 8388608 bytes")
    r = put_manifest(swift, c, "bad", [{"path": f"{s}/p0"}], {"Etag": '"' + "1" * 32 + '"'})
    assert r.status == 422
    # The reserved header on a plain write.
    r = swift.request("PUT", f"{c}/bad", {"X-Static-Large-Object": "True"}, body=b"x")
    assert r.status == 400 and r.body.startswith(b"X-Static-Large-Object is a reserved header")
    assert swift.request("HEAD", f"{c}/bad").status == 404
    assert [o["name"] for o in swift.listing(c)] == []


def test_segments_are_read_with_the_callers_rights(server, swift, segs):
    c, s = segs
    member = server.client("test:member", EXTRA_USERS["test:member"][0])
    swift.request("POST", c, {"X-Container-Read": "test:member",
                              "X-Container-Write": "test:member"})
    # Not readable by the member: the segment's HEAD answers 403.
    r = put_manifest(member, c, "m", [{"path": f"{s}/p0"}])
    assert (r.status, r.body) == (400, f"Errors:\n{s}/p0, 403 Forbidden\n".encode())
    assert put_manifest(swift, c, "m", [{"path": f"{s}/p0"}]).status == 201
    assert member.request("GET", f"{c}/m").status == 409
    swift.request("POST", s, {"X-Container-Read": "test:member"})
    assert member.request("GET", f"{c}/m").body == PARTS[0]


def test_nested_slos_ranges_and_loops(swift, segs):
    c, s = segs
    assert put_manifest(swift, c, "inner", full(s)).status == 201
    inner = swift.request("HEAD", f"{c}/inner")
    entries = [{"path": f"{c}/inner", "etag": inner.header("ETag").strip('"'),
                "size_bytes": 13, "range": "2-10"}, {"path": f"{s}/p2"}]
    r = put_manifest(swift, c, "outer", entries)
    assert r.status == 201, r
    manifest = swift.request("GET", f"{c}/outer", query="multipart-manifest=get").json()
    assert manifest[0]["sub_slo"] is True and manifest[0]["bytes"] == 13
    assert swift.request("GET", f"{c}/outer").body == b"cdefghijk" + b"klm"
    r = swift.request("GET", f"{c}/outer", {"Range": "bytes=7-9"})
    assert (r.status, r.body) == (206, b"jkk")
    # inner now holds outer: the GET meets Swift's depth limit, 409.
    assert put_manifest(swift, c, "inner", [{"path": f"{c}/outer"}]).status == 201
    assert swift.request("GET", f"{c}/outer").status == 409
    assert swift.request("HEAD", f"{c}/outer").status == 200



def test_segments_changed_or_deleted_under_a_manifest(server, swift, segs):
    c, s = segs
    assert put_manifest(swift, c, "m", full(s)).status == 201
    _, token = server.auth()
    # The second segment replaced: the body ends after the first.
    swift.put_object(s, "p1", b"EFGHIJ")
    status, headers, body = get_until_closed(server, f"/v1/AUTH_test/{c}/m", token)
    assert status == 200 and headers["content-length"] == "13" and body == PARTS[0]
    conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
    conn.request("GET", f"/v1/AUTH_test/{c}/m", headers={"X-Auth-Token": token})
    with pytest.raises(http.client.IncompleteRead):
        conn.getresponse().read()
    conn.close()
    # The first deleted: 409 before any byte.
    assert swift.request("DELETE", f"{s}/p0").status == 204
    r = swift.request("GET", f"{c}/m")
    assert r.status == 409, r
    assert server.healthy()


def test_delete_with_and_without_segments(swift, segs):
    c, s = segs
    assert put_manifest(swift, c, "keep", [{"path": f"{s}/p0"}]).status == 201
    assert swift.request("DELETE", f"{c}/keep").status == 204
    assert swift.request("HEAD", f"{s}/p0").status == 200
    assert put_manifest(swift, c, "inner", [{"path": f"{s}/p0"}, {"path": f"{s}/p1"}]).status == 201
    assert put_manifest(swift, c, "outer", [{"path": f"{c}/inner"}, {"path": f"{s}/p2"}]).status == 201
    r = swift.request("DELETE", f"{c}/outer", {"Accept": "application/json"},
                      query="multipart-manifest=delete")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    assert r.json() == {"Response Status": "200 OK", "Response Body": "", "Number Deleted": 5,
                        "Number Not Found": 0, "Errors": []}
    assert swift.listing(c) == []
    assert [o["name"] for o in swift.listing(s)] == ["empty"]
    # Not an SLO, and not there.
    r = swift.request("DELETE", f"{s}/empty", query="multipart-manifest=delete")
    assert r.body == (b"Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \n"
                      b"Response Status: 400 Bad Request\nErrors:\n"
                      + f"/{s}/empty, Not an SLO manifest\n".encode())
    r = swift.request("DELETE", f"{c}/gone", query="multipart-manifest=delete")
    assert r.body == (b"Number Deleted: 0\nNumber Not Found: 1\nResponse Body: \n"
                      b"Response Status: 200 OK\nErrors:\n")


def test_copy_joins_or_keeps_the_manifest(swift, segs):
    c, s = segs
    assert put_manifest(swift, c, "big", full(s)).status == 201
    whole = b"".join(PARTS)
    r = swift.request("COPY", f"{c}/big", {"Destination": f"{c}/joined"})
    assert r.status == 201 and r.header("ETag") == md5hex(whole)
    g = swift.request("GET", f"{c}/joined")
    assert g.body == whole and g.header("X-Static-Large-Object") is None
    r = swift.request("COPY", f"{c}/big", {"Destination": f"{c}/manifest"},
                      query="multipart-manifest=get")
    assert r.status == 201
    assert r.header("ETag") == swift.request("HEAD", f"{c}/big").header("ETag")
    g = swift.request("GET", f"{c}/manifest")
    assert g.body == whole and g.header("X-Static-Large-Object") == "True"


def test_heartbeat_answers_202_with_the_result_inside(swift, segs):
    c, s = segs
    r = put_manifest(swift, c, "hb", [{"path": f"{s}/p0"}], {"Accept": "application/json"},
                     query="multipart-manifest=put&heartbeat=on")
    assert r.status == 202 and r.header("Content-Type") == "application/json"
    assert r.body.startswith(b" \r\n\r\n")
    doc = json.loads(r.body)
    assert doc["Response Status"] == "201 Created"
    assert doc["Etag"] == '"%s"' % slo_etag([md5hex(PARTS[0])])
    assert doc["Errors"] == []
    r = put_manifest(swift, c, "hb2", [{"path": f"{s}/nope"}],
                     query="multipart-manifest=put&heartbeat=on")
    assert r.status == 202
    assert r.body == (b" \r\n\r\nResponse Body: Bad Request\nThe server could not comply with "
                      b"the request since it is either malformed or otherwise incorrect.\n"
                      b"Response Status: 400 Bad Request\nErrors:\n"
                      + f"{s}/nope, 404 Not Found\n".encode())
    assert swift.request("HEAD", f"{c}/hb2").status == 404


def test_info_advertises_slo(server):
    status, _, body = server.http_get("/info")
    assert status == 200
    assert json.loads(body)["slo"] == {"max_manifest_segments": 1000,
                                       "max_manifest_size": 8388608, "yield_frequency": 10,
                                       "min_segment_size": 1, "allow_async_delete": True}


def test_swift_cli_upload_download_delete(swift_cli, swift, container, tmp_path):
    data = os.urandom(3 * (1 << 20) + 4321)
    (tmp_path / "big.bin").write_bytes(data)
    # SLO is the CLI's default once /info has `slo`.
    swift_cli("upload", "--segment-size", "262144", container, "big.bin", cwd=tmp_path)
    head = swift.request("HEAD", f"{container}/big.bin")
    assert head.header("X-Static-Large-Object") == "True"
    assert head.header("Content-Length") == str(len(data))
    segs = swift.listing(container + "_segments")
    assert len(segs) == 13
    out = tmp_path / "out.bin"
    swift_cli("download", container, "big.bin", "-o", str(out))
    assert hashlib.md5(out.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    stat = swift_cli("stat", container, "big.bin").stdout
    assert "Content Length: %d" % len(data) in stat
    # `swift delete` of an SLO deletes its segments too.
    swift_cli("delete", container, "big.bin")
    assert swift.listing(container + "_segments") == []
    assert swift.request("HEAD", f"{container}/big.bin").status == 404
    # --use-slo says the same.
    swift_cli("upload", "--use-slo", "--segment-size", "1048576", container, "big.bin",
              cwd=tmp_path)
    swift_cli("download", container, "big.bin", "-o", str(out))
    assert hashlib.md5(out.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()


def test_async_delete(swift, segs):
    c, s = segs
    assert put_manifest(swift, c, "m", [{"path": f"{s}/p0"}, {"path": f"{s}/p1"}]).status == 201
    assert put_manifest(swift, c, "two", [{"path": f"{s}/p2"}, {"path": f"{c}/m"}]).status == 201
    r = swift.request("DELETE", f"{c}/two", query="multipart-manifest=delete&async=yes")
    assert r.status == 400
    assert r.body in (f'All segments must be in one container. Found segments in "{a}", "{b}"'
                      .encode() for a, b in ((s, c), (c, s)))
    assert put_manifest(swift, c, "nested", [{"path": f"{c}/m"}]).status == 201
    r = swift.request("DELETE", f"{c}/nested", query="multipart-manifest=delete&async=yes")
    assert (r.status, r.body) == (400, b"No segments may be large objects.")
    r = swift.request("DELETE", f"{c}/m", query="multipart-manifest=delete&async=yes")
    assert r.status == 204
    assert swift.request("HEAD", f"{c}/m").status == 404
    assert [o["name"] for o in swift.listing(s)] == ["empty", "p2"]


def test_a_client_leaving_mid_join_does_not_hurt_the_server(server, swift, container):
    s = container + "_segs"
    swift.put_container(s)
    blob = os.urandom(4 << 20)
    for i in range(4):
        swift.put_object(s, f"s/{i}", blob)
    entries = [{"path": f"{s}/s/{i}", "etag": md5hex(blob)} for i in range(4)]
    assert put_manifest(swift, container, "m", entries).status == 201
    _, token = server.auth()
    for _ in range(3):
        head = get_and_leave(server, f"/v1/AUTH_test/{container}/m", token)
        assert head.startswith(b"HTTP/1.1 200")
    r = swift.request("GET", f"{container}/m")
    assert r.status == 200 and hashlib.md5(r.body).hexdigest() == hashlib.md5(blob * 4).hexdigest()
    assert server.healthy()


def test_part_number(swift, segs):
    c, s = segs
    assert put_manifest(swift, c, "big", full(s)).status == 201
    r = swift.request("GET", f"{c}/big", query="part-number=2")
    assert (r.status, r.body) == (206, b"efghij")
    assert r.header("Content-Range") == "bytes 4-9/13"
    assert r.header("X-Parts-Count") == "3"
    h = swift.request("HEAD", f"{c}/big", query="part-number=3")
    assert (h.status, h.header("Content-Length"), h.header("Content-Range")) == (206, "3", "bytes 10-12/13")
    r = swift.request("GET", f"{c}/big", query="part-number=4")
    assert (r.status, r.body) == (416, b"The requested part number is not satisfiable")
    assert r.header("Content-Range") == "bytes */13"
    r = swift.request("GET", f"{c}/big", query="part-number=0")
    assert (r.status, r.body) == (400, b"Part number must be an integer greater than 0")
    r = swift.request("GET", f"{c}/big", {"Range": "bytes=0-1"}, query="part-number=1")
    assert (r.status, r.body) == (400, b"Range requests are not supported with part number queries")
    # A plain object ignores it, as Swift.
    r = swift.request("GET", f"{s}/p0", query="part-number=2")
    assert (r.status, r.body) == (200, PARTS[0])


def test_copy_into_a_manifest_put_is_checked_as_a_manifest(swift, segs):
    c, s = segs
    # Swift's copy expects the source's MD5 of the manifest PUT: never the
    # SLO's ETag, so a list that checks out ends in 422; nothing stored.
    swift.put_object(c, "list", json.dumps([{"path": f"{s}/p0"}]).encode())
    r = swift.request("PUT", f"{c}/m", {"X-Copy-From": f"{c}/list"}, body=b"",
                      query="multipart-manifest=put")
    assert r.status == 422, r
    swift.put_object(c, "junk", b"not json")
    r = swift.request("COPY", f"{c}/junk", {"Destination": f"{c}/m"}, query="multipart-manifest=put")
    assert (r.status, r.body) == (400, b"Manifest must be valid JSON.\n")
    assert swift.request("HEAD", f"{c}/m").status == 404


@pytest.mark.apache
def test_slo_requests_pass_gates_of_one_without_holding_two_permits(server_factory):
    """With one object-read and one object-write permit node-wide, every
    SLO request takes the permits of its sub-requests in turn (segment
    HEADs, the manifest's PUT or GET, each segment, each DELETE), never two
    of one gate at once (it would wait for itself)."""
    srv = server_factory(extra_conf="StowageGate object-read limit=1 queue=8 wait=3s\n"
                                    "StowageGate object-write limit=1 queue=8 wait=3s\n")
    swift = srv.client()
    c = unique("c")
    swift.put_container(c)
    for i, p in enumerate(PARTS):
        swift.put_object(c, f"s/{i}", p)
    entries = [{"path": f"{c}/s/{i}"} for i in range(len(PARTS))]
    assert put_manifest(swift, c, "m", entries).status == 201
    assert put_manifest(swift, c, "outer", [{"path": f"{c}/m"}]).status == 201
    for _ in range(3):
        r = swift.request("GET", f"{c}/outer")
        assert r.status == 200 and r.body == b"".join(PARTS), r
    assert swift.request("COPY", f"{c}/outer", {"Destination": f"{c}/flat"}).status == 201
    assert swift.request("GET", f"{c}/flat").body == b"".join(PARTS)
    r = swift.request("DELETE", f"{c}/outer", query="multipart-manifest=delete")
    assert r.status == 200 and b"Number Deleted: 5" in r.body, r.body


def test_a_dlo_manifest_as_a_segment(server, swift, segs):
    """A DLO manifest as a segment: the PUT records its joined size and
    ETag (Swift HEADs it through dlo), but Swift fetches every segment with
    ?multipart-manifest=get, so the DLO is not joined and its own bytes do
    not match what was recorded: 409 when it is the first segment, a body
    broken off after the bytes before it otherwise. HEAD answers from the
    manifest."""
    c, s = segs
    swift.put_object(s, "dlo-1", b"dlo-first-")
    swift.put_object(s, "dlo-2", b"dlo-second")
    r = swift.request("PUT", f"{s}/dlo", {"X-Object-Manifest": f"{s}/dlo-"}, body=b"")
    assert r.status == 201, r
    dlo_etag = md5hex((md5hex(b"dlo-first-") + md5hex(b"dlo-second")).encode())
    assert swift.request("HEAD", f"{s}/dlo").header("ETag") == f'"{dlo_etag}"'
    r = put_manifest(swift, c, "first", [{"path": f"{s}/dlo"}, {"path": f"{s}/p0"}])
    assert r.status == 201, r
    r = put_manifest(swift, c, "mid", [{"path": f"{s}/p0"}, {"path": f"{s}/dlo"}])
    assert r.status == 201, r
    m = swift.request("GET", f"{c}/first", query="multipart-manifest=get").json()
    assert (m[0]["bytes"], m[0]["hash"]) == (20, dlo_etag)
    for name in ("first", "mid"):
        h = swift.request("HEAD", f"{c}/{name}")
        assert (h.status, h.header("Content-Length")) == (200, "24"), h
    # First: refused before any byte, whole or ranged.
    assert swift.request("GET", f"{c}/first").status == 409
    assert swift.request("GET", f"{c}/first", {"Range": "bytes=12-30"}).status == 409
    # In the middle: the first segment's bytes, then the body breaks off.
    _, token = server.auth()
    status, headers, body = get_until_closed(server, f"/v1/AUTH_test/{c}/mid", token)
    assert status == 200 and headers["content-length"] == "24" and body == PARTS[0]
    # A copy of either stores nothing: the GET's 409, or (broken off
    # mid-copy) 500 (Swift's 499, which Apache cannot send).
    r = swift.request("COPY", f"{c}/first", {"Destination": f"{c}/first-copy"})
    assert r.status == 409, r
    r = swift.request("COPY", f"{c}/mid", {"Destination": f"{c}/mid-copy"})
    assert r.status == 500, r
    for name in ("first-copy", "mid-copy"):
        assert swift.request("HEAD", f"{c}/{name}").status == 404
    assert server.healthy()


def multipart_parts(body: bytes, boundary: str):
    """(Content-Range, bytes) of each part of a multipart/byteranges body."""
    out = []
    for chunk in body.split(b"--" + boundary.encode())[1:-1]:
        head, _, data = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        fields = dict(ln.split(": ", 1) for ln in head.decode().split("\r\n"))
        out.append((fields["Content-Type"], fields["Content-Range"], data))
    return out


def test_copy_of_several_ranges_stores_the_multipart_body(swift, segs):
    c, s = segs
    r = put_manifest(swift, c, "big", full(s), {"Content-Type": "text/x-big"})
    assert r.status == 201
    r = swift.request("COPY", f"{c}/big", {"Destination": f"{c}/parts",
                                           "Range": "bytes=1-2,9-11"})
    assert r.status == 201, r
    g = swift.request("GET", f"{c}/parts")
    assert g.status == 200 and g.header("X-Static-Large-Object") is None
    ctype = g.header("Content-Type")
    assert ctype.startswith("multipart/byteranges;boundary=")
    assert g.header("ETag") == r.header("ETag") == md5hex(g.body)
    boundary = ctype.split("boundary=")[1]
    assert g.body.endswith(f"\r\n--{boundary}--".encode())
    assert multipart_parts(g.body, boundary) == [
        ("text/x-big", "bytes 1-2/13", b"bc"), ("text/x-big", "bytes 9-11/13", b"jkl")]
    # PUT with X-Copy-From, the type given: stored as given.
    r = swift.request("PUT", f"{c}/parts2", {"X-Copy-From": f"{c}/big", "Range": "bytes=-1,0-0",
                                             "Content-Type": "application/x-mine"}, body=b"")
    assert r.status == 201, r
    g = swift.request("GET", f"{c}/parts2")
    assert g.header("Content-Type") == "application/x-mine"
    assert [p[1:] for p in multipart_parts(g.body, g.body[2:34].decode())] == [
        ("bytes 12-12/13", b"m"), ("bytes 0-0/13", b"a")]
    # A segment changed under the second part: nothing is stored.
    swift.put_object(s, "p2", b"KLM")
    r = swift.request("COPY", f"{c}/big", {"Destination": f"{c}/parts3",
                                           "Range": "bytes=0-0,10-11"})
    assert r.status == 500, r
    assert swift.request("HEAD", f"{c}/parts3").status == 404


def test_copy_of_the_manifest_is_put_again_through_slo(swift, segs):
    """COPY (or PUT with X-Copy-From) ?multipart-manifest=get: Swift's copy
    reads the manifest in the client's form and PUTs it with
    ?multipart-manifest=put, so every segment is checked again."""
    c, s = segs
    entries = [{"path": f"{s}/p0", "range": "1-2"}] + full(s)[1:]
    assert put_manifest(swift, c, "m", entries, {"X-Object-Meta-Color": "blue"}).status == 201
    src = swift.request("GET", f"{c}/m", query="multipart-manifest=get&format=raw").json()
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{c}/m2"}, query="multipart-manifest=get")
    assert r.status == 201, r
    assert r.header("ETag") == swift.request("HEAD", f"{c}/m").header("ETag")
    assert r.header("X-Copied-From") == f"{c}/m"
    g = swift.request("GET", f"{c}/m2")
    assert g.body == b"bc" + b"".join(PARTS[1:]) and g.header("X-Static-Large-Object") == "True"
    assert g.header("X-Object-Meta-Color") == "blue"
    assert swift.request("GET", f"{c}/m2", query="multipart-manifest=get&format=raw").json() == src
    # Conditions or a Range on the manifest read: Swift's slo cannot load
    # what comes back (500), nothing stored.
    for h in ({"Range": "bytes=0-5"}, {"If-None-Match": "*"}, {"If-Match": '"nope"'},
              {"Range": "bytes=0-0,2-3"}):
        r = swift.request("COPY", f"{c}/m", dict(h, Destination=f"{c}/m-cond"),
                          query="multipart-manifest=get")
        assert (r.status, r.body) == (500, b"Unable to load SLO manifest"), (h, r)
    assert swift.request("HEAD", f"{c}/m-cond").status == 404
    # A segment changed since: slo's 400, nothing stored.
    swift.put_object(s, "p1", b"EFGHIJ-longer")
    expect = (f"Errors:\n/{s}/p1, Size Mismatch\n/{s}/p1, Etag Mismatch\n").encode()
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{c}/m3"}, query="multipart-manifest=get")
    assert (r.status, r.body) == (400, expect), r
    r = swift.request("PUT", f"{c}/m4", {"X-Copy-From": f"{c}/m"}, body=b"",
                      query="multipart-manifest=get")
    assert (r.status, r.body) == (400, expect), r
    for name in ("m3", "m4"):
        assert swift.request("HEAD", f"{c}/{name}").status == 404
    # A plain object copied with ?multipart-manifest=get is a plain copy.
    r = swift.request("COPY", f"{s}/p0", {"Destination": f"{c}/plain"},
                      query="multipart-manifest=get")
    assert r.status == 201 and swift.request("GET", f"{c}/plain").body == PARTS[0]
