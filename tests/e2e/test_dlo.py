"""Dynamic large objects (X-Object-Manifest) as Swift's dlo middleware
serves them: joined GET/HEAD with Swift's Content-Length and ETag, Range
across segments, conditions, ?multipart-manifest=get, COPY, the PUT's 400s,
read rights per segment container, segments that go missing or rot under a
manifest, a client that leaves mid-join; and real clients (`swift upload
--use-dlo`, rclone's chunked uploads) round-tripping files."""

import hashlib
import http.client
import json
import os
import shutil
import subprocess

import pytest

from harness import HOST, get_and_leave, get_until_closed, DEFAULT_KEY, DEFAULT_USER, EXTRA_USERS, md5hex, tmp_files, unique

SEGS = [b"abc", b"defg", b"", b"hij"]
WHOLE = b"".join(SEGS)


def dlo_etag(parts) -> str:
    return '"' + md5hex("".join(md5hex(p) for p in parts).encode()) + '"'


@pytest.fixture
def dlo(swift, container):
    """`container/m`, a manifest over `container_segs/m/000..003`."""
    segs = container + "_segs"
    swift.put_container(segs)
    for i, body in enumerate(SEGS):
        swift.put_object(segs, f"m/{i:03d}", body)
    swift.put_object(container, "m", b"", {"X-Object-Manifest": f"{segs}/m/",
                                           "Content-Type": "text/x-joined",
                                           "X-Object-Meta-Color": "blue"})
    return container, segs


def test_get_and_head_join_the_segments(swift, dlo):
    c, segs = dlo
    for method in ("GET", "HEAD"):
        r = swift.request(method, f"{c}/m")
        assert r.status == 200, r
        assert r.header("Content-Length") == str(len(WHOLE))
        assert r.header("ETag") == dlo_etag(SEGS)
        assert r.header("Content-Type") == "text/x-joined"
        assert r.header("X-Object-Manifest") == f"{segs}/m/"
        assert r.header("X-Object-Meta-Color") == "blue"
        assert r.body == (WHOLE if method == "GET" else b"")
    # The manifest itself.
    r = swift.request("GET", f"{c}/m", query="multipart-manifest=get")
    assert r.status == 200 and r.body == b"" and r.header("ETag") == md5hex(b"")
    assert r.header("X-Object-Manifest") == f"{segs}/m/"


@pytest.mark.parametrize("spec,status,body,content_range", [
    ("bytes=2-4", 206, b"cde", "bytes 2-4/10"),
    ("bytes=0-0", 206, b"a", "bytes 0-0/10"),
    ("bytes=-4", 206, b"ghij", "bytes 6-9/10"),
    ("bytes=6-", 206, b"ghij", "bytes 6-9/10"),
    ("bytes=3-6", 206, b"defg", "bytes 3-6/10"),
    ("bytes=1-2,5-6", 200, WHOLE, None),      # several ranges: Swift's DLO sends it whole
    ("bytes=x", 200, WHOLE, None),
    ("bytes=10-", 416, None, "bytes */10"),
])
def test_ranges_across_segment_boundaries(swift, dlo, spec, status, body, content_range):
    c, _ = dlo
    r = swift.request("GET", f"{c}/m", {"Range": spec})
    assert r.status == status, r
    assert r.header("Content-Range") == content_range
    if body is not None:
        assert r.body == body
        assert r.header("Content-Length") == str(len(body))
    # HEAD ignores a satisfiable Range.
    h = swift.request("HEAD", f"{c}/m", {"Range": spec})
    assert h.status == (416 if status == 416 else 200), h


def test_conditions_use_the_joined_etag(swift, dlo):
    c, _ = dlo
    etag = dlo_etag(SEGS)
    assert swift.request("GET", f"{c}/m", {"If-None-Match": etag}).status == 304
    r = swift.request("GET", f"{c}/m", {"If-Match": etag})
    assert r.status == 200 and r.body == WHOLE
    assert swift.request("GET", f"{c}/m", {"If-Match": '"nope"'}).status == 412
    # The manifest's own ETag no longer names the object.
    assert swift.request("GET", f"{c}/m", {"If-None-Match": md5hex(b"")}).status == 200


def test_copy_joins_unless_the_manifest_is_asked_for(swift, dlo):
    c, segs = dlo
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{c}/flat"})
    assert r.status == 201, r
    g = swift.request("GET", f"{c}/flat")
    assert g.body == WHOLE and g.header("ETag") == md5hex(WHOLE)
    assert g.header("X-Object-Manifest") is None
    assert g.header("X-Object-Meta-Color") == "blue"
    r = swift.request("PUT", f"{c}/part", {"X-Copy-From": f"{c}/m", "Range": "bytes=2-7"},
                      body=b"")
    assert r.status == 201, r
    assert swift.request("GET", f"{c}/part").body == WHOLE[2:8]
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{c}/m2"},
                      query="multipart-manifest=get")
    assert r.status == 201, r
    g = swift.request("GET", f"{c}/m2")
    assert g.header("X-Object-Manifest") == f"{segs}/m/" and g.body == WHOLE


@pytest.mark.parametrize("value", ["nocontainer", "/p", "c/", "c//p", "c/p?x", "c/p&x", "c%2Fp"])
def test_put_checks_the_manifest_header(swift, container, value):
    r = swift.request("PUT", f"{container}/bad", {"X-Object-Manifest": value}, body=b"x")
    assert r.status == 400, r
    assert r.body == b"X-Object-Manifest must be in the format container/prefix"
    assert swift.request("HEAD", f"{container}/bad").status == 404
    # A copy's PUT is checked alike, and stores nothing.
    swift.put_object(container, "src", b"s")
    r = swift.request("COPY", f"{container}/src",
                      {"Destination": f"{container}/bad", "X-Object-Manifest": value})
    assert r.status == 400, r
    assert swift.request("HEAD", f"{container}/bad").status == 404


def test_prefixes_that_list_nothing_or_the_manifest_itself(swift, container):
    swift.put_object(container, "empty", b"", {"X-Object-Manifest": f"{container}/none-"})
    r = swift.request("GET", f"{container}/empty")
    assert r.status == 200 and r.body == b"" and r.header("ETag") == dlo_etag([])
    # A manifest listed under its own prefix is a segment of itself: its own
    # bytes, read as they are stored (never followed again).
    swift.put_object(container, "self", b"own", {"X-Object-Manifest": f"{container}/sel"})
    swift.put_object(container, "self2", b"22")
    r = swift.request("GET", f"{container}/self")
    assert r.status == 200 and r.body == b"own22"
    swift.put_object(container, "lost", b"", {"X-Object-Manifest": "no-such-container/p"})
    assert swift.request("GET", f"{container}/lost").status == 404


def test_segments_join_in_byte_order_of_their_names(swift, container):
    # Names that sort differently as bytes than as numbers.
    names = ["p/1", "p/10", "p/2", "p/\u00e9", "p/a"]
    for n in names:
        swift.put_object(container, n, n.encode())
    swift.put_object(container, "m", b"", {"X-Object-Manifest": f"{container}/p/"})
    want = b"".join(n.encode() for n in sorted(names, key=lambda s: s.encode()))
    assert swift.request("GET", f"{container}/m").body == want


def test_segments_need_read_rights_on_their_container(server, swift, dlo):
    c, segs = dlo
    member = server.client("test:member", EXTRA_USERS["test:member"][0])
    swift.request("POST", c, {"X-Container-Read": "test:member"})
    # The manifest is readable, the segments' container is not: the listing's 403.
    assert member.request("GET", f"{c}/m").status == 403
    assert member.request("GET", f"{c}/m", query="multipart-manifest=get").status == 200
    swift.request("POST", segs, {"X-Container-Read": "test:member"})
    r = member.request("GET", f"{c}/m")
    assert r.status == 200 and r.body == WHOLE
    # A public segment container without .rlistings: anonymous readers of
    # the manifest cannot list it (401), as in Swift.
    swift.request("POST", c, {"X-Container-Read": ".r:*"})
    swift.request("POST", segs, {"X-Container-Read": ".r:*"})
    assert swift.request("GET", f"{c}/m", token=False).status == 401
    swift.request("POST", segs, {"X-Container-Read": ".r:*,.rlistings"})
    r = swift.request("GET", f"{c}/m", token=False)
    assert r.status == 200 and r.body == WHOLE



def test_segments_deleted_under_a_manifest(swift, dlo):
    c, segs = dlo
    # A DELETE drops the segment's row too: the listing, and so the object,
    # is shorter from then on (its length and ETag with it), as in Swift.
    assert swift.request("DELETE", f"{segs}/m/001").status == 204
    r = swift.request("GET", f"{c}/m")
    assert r.status == 200 and r.body == b"abchij"
    assert r.header("ETag") == dlo_etag([b"abc", b"", b"hij"])
    assert swift.request("DELETE", f"{segs}/m/000").status == 204
    assert swift.request("GET", f"{c}/m").body == b"hij"
    # (A segment still listed but gone from disk: the next test.)


def flip_data(srv, container, name, offset=0):
    files = sorted(srv.object_dir(container, name).glob("*.data"))
    assert len(files) == 1, files
    with open(files[0], "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 1]))


def test_a_segment_gone_or_rotten_mid_join_breaks_the_body(server, swift, container):
    segs = container + "_segs"
    swift.put_container(segs)
    parts = [os.urandom(1000), os.urandom(2000), os.urandom(3000)]
    for i, p in enumerate(parts):
        swift.put_object(segs, f"s/{i}", p)
    swift.put_object(container, "m", b"", {"X-Object-Manifest": f"{segs}/s/"})
    _, token = server.auth()
    # Rotten second segment: quarantined, the body ends after the first.
    flip_data(server, segs, "s/1", 10)
    status, headers, body = get_until_closed(server, f"/v1/AUTH_test/{container}/m", token)
    assert status == 200 and int(headers["content-length"]) == 6000
    assert body == parts[0]
    assert swift.request("HEAD", f"{segs}/s/1").status == 404
    # A segment whose file is gone while its row is still listed.
    swift.put_object(segs, "s/1", parts[1])
    for f in server.object_dir(segs, "s/2").glob("*.data"):
        f.unlink()
    status, headers, body = get_until_closed(server, f"/v1/AUTH_test/{container}/m", token)
    assert status == 200 and body == parts[0] + parts[1]
    # http.client takes it as incomplete, never as whole.
    conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
    conn.request("GET", f"/v1/AUTH_test/{container}/m", headers={"X-Auth-Token": token})
    resp = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    # A copy of it stops where the segments do and stores nothing: 500
    # (Swift's proxy says 499, its PUT got less than its length; Apache
    # cannot send 499).
    r = swift.request("COPY", f"{container}/m", {"Destination": f"{container}/flat"})
    assert r.status == 500, r
    assert swift.request("HEAD", f"{container}/flat").status == 404
    assert tmp_files(server) == []
    # The first segment missing: 409, nothing sent.
    for f in server.object_dir(segs, "s/0").glob("*.data"):
        f.unlink()
    r = swift.request("GET", f"{container}/m")
    assert r.status == 409, r
    assert server.healthy()


def test_a_client_leaving_mid_join_does_not_hurt_the_server(server, swift, container):
    segs = container + "_segs"
    swift.put_container(segs)
    blob = os.urandom(4 << 20)
    for i in range(4):
        swift.put_object(segs, f"s/{i}", blob)
    swift.put_object(container, "m", b"", {"X-Object-Manifest": f"{segs}/s/"})
    _, token = server.auth()
    for _ in range(3):
        head = get_and_leave(server, f"/v1/AUTH_test/{container}/m", token)
        assert head.startswith(b"HTTP/1.1 200")
    r = swift.request("GET", f"{container}/m")
    assert r.status == 200 and hashlib.md5(r.body).hexdigest() == hashlib.md5(blob * 4).hexdigest()
    assert server.healthy()


# ---- real clients --------------------------------------------------------------


def test_swift_cli_upload_use_dlo_download_stat_delete(swift_cli, swift, container, tmp_path):
    data = os.urandom(3 * (1 << 20) + 12345)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    swift_cli("upload", "--use-dlo", "--segment-size", "262144", container, "big.bin",
              cwd=tmp_path)
    segs = swift.listing(container + "_segments")
    assert len(segs) == 13
    out = tmp_path / "out.bin"
    swift_cli("download", container, "big.bin", "-o", str(out))
    assert hashlib.md5(out.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    stat = swift_cli("stat", container, "big.bin").stdout
    fields = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in stat.splitlines())}
    assert fields["Content Length"] == str(len(data))
    assert fields["Manifest"].startswith(f"{container}_segments/big.bin/")
    etags = [s["hash"] for s in segs]
    assert fields["ETag"] == '"' + md5hex("".join(etags).encode()) + '"'
    # `swift delete` of a DLO deletes its segments too.
    swift_cli("delete", container, "big.bin")
    assert swift.listing(container + "_segments") == []
    assert swift.request("HEAD", f"{container}/big.bin").status == 404


RCLONE = shutil.which("rclone")


@pytest.mark.slow
@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed")
def test_rclone_chunked_copy_check_and_download(server, swift, container, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    env.update({
        "RCLONE_CONFIG": "/dev/null",
        "RCLONE_CONFIG_S_TYPE": "swift",
        "RCLONE_CONFIG_S_AUTH": server.auth_url,
        "RCLONE_CONFIG_S_USER": DEFAULT_USER,
        "RCLONE_CONFIG_S_KEY": DEFAULT_KEY,
    })

    def rclone(*args):
        cmd = [RCLONE, "--retries", "1", "--low-level-retries", "1", *args]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"{' '.join(cmd)} exited {res.returncode}\n{res.stderr[-4000:]}"
        return res

    up = tmp_path / "up"
    up.mkdir()
    data = os.urandom(5 * (1 << 20) + 777)
    (up / "large.bin").write_bytes(data)
    rclone("copy", "--swift-chunk-size", "1M", str(up), f"s:{container}")
    head = swift.request("HEAD", f"{container}/large.bin")
    assert head.status == 200 and head.header("Content-Length") == str(len(data))
    assert head.header("X-Object-Manifest"), "rclone stored no DLO manifest"
    rclone("check", str(up), f"s:{container}")
    down = tmp_path / "down"
    rclone("copy", f"s:{container}", str(down))
    got = (down / "large.bin").read_bytes()
    assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest()
    info = json.loads(rclone("lsjson", f"s:{container}").stdout)
    assert [(e["Path"], e["Size"]) for e in info] == [("large.bin", len(data))]


@pytest.mark.slow
def test_more_segments_than_one_listing_page(server, swift, container):
    """10,001 segments: Swift's DLO knows neither length nor joined ETag
    from its first listing page, so the answer has no Content-Length
    (chunked) and the manifest's own ETag; the later page is listed as the
    body reaches it. A Range inside the first page is still served; a
    copy is refused (413), as Swift refuses one it cannot size."""
    from concurrent.futures import ThreadPoolExecutor
    from harness import HTTP

    segs = container + "_segs"
    swift.put_container(segs)
    n = 10_001
    names = [f"s/{i:05d}" for i in range(n)]

    def put_some(chunk):
        http = HTTP(server.port)
        for name in chunk:
            r = http.request("PUT", swift.path(f"{segs}/{name}"),
                             {"X-Auth-Token": swift.token}, name[-1:].encode())
            assert r.status == 201, r

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put_some, [names[i::4] for i in range(4)]))
    swift.put_object(container, "m", b"", {"X-Object-Manifest": f"{segs}/s/"})
    want = b"".join(name[-1:].encode() for name in names)
    r = swift.request("GET", f"{container}/m")
    assert r.status == 200 and r.body == want
    assert r.header("Content-Length") is None
    assert r.header("Transfer-Encoding") == "chunked"
    assert r.header("ETag") == md5hex(b"")
    r = swift.request("GET", f"{container}/m", {"Range": "bytes=5-9"})
    assert r.status == 206 and r.body == want[5:10]
    assert r.header("Content-Range") == "bytes 5-9/10000"
    # A Range past the first page cannot be judged from it: the whole body.
    r = swift.request("GET", f"{container}/m", {"Range": "bytes=10000-10000"})
    assert r.status == 200 and r.body == want
    r = swift.request("COPY", f"{container}/m", {"Destination": f"{container}/flat"})
    assert r.status == 413, r


def test_post_keeps_a_manifest_only_with_its_header(swift, dlo):
    c, segs = dlo
    r = swift.request("POST", f"{c}/m", {"X-Object-Manifest": f"{segs}/m/",
                                         "X-Object-Meta-Color": "red"})
    assert r.status == 202, r
    r = swift.request("GET", f"{c}/m")
    assert r.body == WHOLE and r.header("X-Object-Meta-Color") == "red"
    # Swift checks the header only on PUT: a POST stores any value.
    assert swift.request("POST", f"{c}/m", {"X-Object-Meta-Color": "plain"}).status == 202
    r = swift.request("GET", f"{c}/m")
    assert r.status == 200 and r.body == b"" and r.header("X-Object-Manifest") is None


@pytest.mark.apache
def test_joins_pass_gates_of_one_without_holding_two_permits(server_factory):
    """With one object-read permit and one container permit node-wide, a
    join takes the manifest's, the listing's and each segment's in turn,
    never two at once (it would wait for itself)."""
    srv = server_factory(extra_conf="StowageGate object-read limit=1 queue=8 wait=3s\n"
                                    "StowageGate container limit=1 queue=8 wait=3s scope=vhost\n")
    swift = srv.client()
    c = unique("c")
    swift.put_container(c)
    for i, p in enumerate(SEGS):
        swift.put_object(c, f"s/{i}", p)
    swift.put_object(c, "m", b"", {"X-Object-Manifest": f"{c}/s/"})
    for _ in range(3):
        r = swift.request("GET", f"{c}/m")
        assert r.status == 200 and r.body == WHOLE, r
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{c}/flat"})
    assert r.status == 201, r
    assert swift.request("GET", f"{c}/flat").body == WHOLE


def test_a_copy_of_a_dlo_counts_its_joined_length_against_quotas(swift, dlo):
    c, _ = dlo
    dst = unique("q")
    swift.put_container(dst, {"X-Container-Meta-Quota-Bytes": str(len(WHOLE) - 1)})
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{dst}/flat"})
    assert r.status == 413, r
    assert swift.request("HEAD", f"{dst}/flat").status == 404
    swift.request("POST", dst, {"X-Container-Meta-Quota-Bytes": str(len(WHOLE))})
    r = swift.request("COPY", f"{c}/m", {"Destination": f"{dst}/flat"})
    assert r.status == 201, r
    assert swift.request("GET", f"{dst}/flat").body == WHOLE
