"""Long requests answer while they work, as Swift's bulk and SLO middleware
do: `?extract-archive`, `?bulk-delete`, SLO `?multipart-manifest=put&
heartbeat=on` and `?multipart-manifest=delete` send their status and
headers at once (chunked), a heartbeat (a space; bulk's XML answers start
with the XML declaration) every `yield_frequency` between two steps of the
work, then a blank line and the results.

Swift's interval is 10 s; the test-hooks build (the `gated` fixture) takes
`X-Stowage-Test-Yield-Ms` instead, so these tests see heartbeats at once."""

import io
import json
import tarfile
import time

from harness import RawConnection, build_request, md5hex, unique

FAST = ("X-Stowage-Test-Yield-Ms", "1")


def member(name: str, data: bytes) -> bytes:
    """One ustar member (header and padded data), no end-of-archive blocks."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    whole = raw.getvalue()
    return whole[: 512 + (len(data) + 511) // 512 * 512]


def read_head(conn: RawConnection):
    """Status and headers, without reading the body."""
    block = conn._read_until(b"\r\n\r\n")
    lines = block[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


def read_chunk(conn: RawConnection) -> bytes:
    size = int(conn._read_until(b"\r\n")[:-2].split(b";")[0], 16)
    if size == 0:
        conn._read_until(b"\r\n")
        return b""
    data = conn._read_exact(size)
    assert conn._read_exact(2) == b"\r\n"
    return data


def read_rest(conn: RawConnection) -> bytes:
    out = b""
    while True:
        chunk = read_chunk(conn)
        if not chunk:
            return out
        out += chunk


def test_extract_answers_while_the_archive_is_still_uploading(gated):
    """The heartbeat arrives before the client has sent the whole archive:
    the client waits for it before sending the rest (it would wait forever
    if the answer came only at the end)."""
    srv = gated()
    swift = srv.client()
    c = unique("hb")
    assert swift.put_container(c).status == 201
    parts = [member(f"f{i}", b"x" * (100 + i)) for i in range(3)]
    archive = b"".join(parts) + b"\0" * 1024
    path = swift.path(c, query="extract-archive=tar")
    head = build_request("PUT", path, [
        ("X-Auth-Token", swift.token), ("Accept", "application/json"), FAST,
        ("Content-Length", str(len(archive)))], port=srv.port)
    with RawConnection(srv.port, timeout=30) as conn:
        conn.send(head + parts[0])
        time.sleep(0.3)
        conn.send(parts[1])
        status, headers = read_head(conn)
        assert status == 200
        assert headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in headers
        assert headers["content-type"] == "application/json"
        first = read_chunk(conn)
        assert first == b" "
        conn.send(parts[2] + b"\0" * 1024)
        body = first + read_rest(conn)
    spaces, sep, results = body.partition(b"\r\n\r\n")
    assert sep and set(spaces) == {ord(" ")}, body[:80]
    out = json.loads(results)
    assert out["Response Status"] == "201 Created", out
    assert out["Number Files Created"] == 3
    assert sorted(o["name"] for o in swift.listing(c)) == ["f0", "f1", "f2"]


def test_bulk_delete_xml_heartbeat_starts_with_the_declaration(gated):
    srv = gated()
    swift = srv.client()
    c = unique("hb")
    assert swift.put_container(c).status == 201
    names = [f"o{i}" for i in range(20)]
    for n in names:
        assert swift.put_object(c, n, b"x").status == 201
    body = "\n".join(f"/{c}/{n}" for n in names).encode()
    r = swift.request("POST", "", {"Content-Type": "text/plain", "Accept": "application/xml",
                                   FAST[0]: FAST[1]}, body=body, query="bulk-delete")
    assert r.status == 200
    assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    assert r.body.startswith(decl + b" "), r.body[:80]
    beats, sep, results = r.body.partition(b"\r\n\r\n")
    assert sep and set(beats[len(decl):]) == {ord(" ")}
    assert b"<number_deleted>20</number_deleted>" in results
    assert b"<response_status>200 OK</response_status>" in results
    assert swift.listing(c) == []


def test_bulk_delete_quicker_than_the_interval_sends_only_the_results(swift, container):
    """No heartbeat was due (Swift's 10 s): the body is the results alone,
    still chunked as Swift's."""
    swift.put_object(container, "a", b"x")
    r = swift.request("POST", "", {"Content-Type": "text/plain", "Accept": "application/json"},
                      body=f"/{container}/a".encode(), query="bulk-delete")
    assert r.status == 200
    assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None
    assert json.loads(r.body)["Number Deleted"] == 1


def slo_segments(swift, c, n=3):
    segs = []
    for i in range(n):
        data = bytes([65 + i]) * (1024 * 1024)
        assert swift.put_object(c, f"seg{i}", data).status == 201
        segs.append({"path": f"/{c}/seg{i}", "etag": md5hex(data), "size_bytes": len(data)})
    return segs


def test_slo_put_heartbeat_sends_202_at_once_then_the_real_status(gated):
    srv = gated()
    swift = srv.client()
    c = unique("hb")
    assert swift.put_container(c).status == 201
    segs = slo_segments(swift, c)
    r = swift.request("PUT", f"{c}/big", {"Accept": "application/json", FAST[0]: FAST[1]},
                      body=json.dumps(segs).encode(),
                      query="multipart-manifest=put&heartbeat=on")
    assert r.status == 202
    assert r.header("Transfer-Encoding") == "chunked"
    beats, sep, results = r.body.partition(b"\r\n\r\n")
    assert sep and beats.startswith(b" ") and set(beats) == {ord(" ")}, r.body[:80]
    out = json.loads(results)
    assert out["Response Status"] == "201 Created", out
    assert out["Etag"].strip('"') == md5hex("".join(s["etag"] for s in segs).encode())
    got = swift.request("GET", f"{c}/big")
    assert got.status == 200 and len(got.body) == 3 * 1024 * 1024


def test_slo_put_heartbeat_reports_a_bad_segment_inside_and_stores_nothing(gated):
    srv = gated()
    swift = srv.client()
    c = unique("hb")
    assert swift.put_container(c).status == 201
    segs = slo_segments(swift, c, 2)
    segs[1]["etag"] = "0" * 32
    r = swift.request("PUT", f"{c}/big", {"Accept": "application/json", FAST[0]: FAST[1]},
                      body=json.dumps(segs).encode(),
                      query="multipart-manifest=put&heartbeat=on")
    assert r.status == 202
    out = json.loads(r.body.partition(b"\r\n\r\n")[2])
    assert out["Response Status"] == "400 Bad Request"
    assert out["Errors"] == [[f"/{c}/seg1", "Etag Mismatch"]]
    assert swift.request("HEAD", f"{c}/big").status == 404


def test_slo_multipart_delete_streams_its_results(gated):
    srv = gated()
    swift = srv.client()
    c = unique("hb")
    assert swift.put_container(c).status == 201
    segs = slo_segments(swift, c)
    r = swift.request("PUT", f"{c}/big", {}, body=json.dumps(segs).encode(),
                      query="multipart-manifest=put")
    assert r.status == 201
    r = swift.request("DELETE", f"{c}/big", {"Accept": "application/json", FAST[0]: FAST[1]},
                      query="multipart-manifest=delete")
    assert r.status == 200 and r.header("Transfer-Encoding") == "chunked"
    beats, sep, results = r.body.partition(b"\r\n\r\n")
    assert sep and set(beats) == {ord(" ")}, r.body[:80]
    out = json.loads(results)
    assert out["Number Deleted"] == 4 and out["Response Status"] == "200 OK"
    assert swift.listing(c) == []


def test_extract_client_gone_mid_archive_keeps_the_server_serving(gated):
    """The client leaves after a heartbeat: the work stops at its next
    step; what was extracted stays, whole; the server keeps serving."""
    srv = gated()
    swift = srv.client()
    c = unique("hb")
    assert swift.put_container(c).status == 201
    parts = [member(f"f{i}", b"y" * 700) for i in range(2)]
    path = swift.path(c, query="extract-archive=tar")
    head = build_request("PUT", path, [
        ("X-Auth-Token", swift.token), ("Accept", "application/json"), FAST,
        ("Content-Length", str(10 * 1024 * 1024))], port=srv.port)
    with RawConnection(srv.port, timeout=30) as conn:
        conn.send(head + parts[0])
        time.sleep(0.3)
        conn.send(parts[1])
        status, _ = read_head(conn)
        assert status == 200
        assert read_chunk(conn) == b" "
    # Whatever was stored is whole; nothing half-written is listed.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        names = [o["name"] for o in swift.listing(c)]
        if "f0" in names:
            break
        time.sleep(0.1)
    for o in swift.listing(c):
        assert o["bytes"] == 700
        got = swift.request("GET", f"{c}/{o['name']}")
        assert got.status == 200 and got.body == b"y" * 700
    assert swift.request("HEAD", c).status == 204
