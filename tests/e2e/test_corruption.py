"""Corruption on disk, against a real Apache: a flipped byte in an object is
never served as good (small objects and ranges: 404; large objects: the
response breaks off before its last byte), the object is quarantined and 404
afterwards; `stowage-audit` finds what no GET touched; a damaged SQLite DB
gets a clear 500 naming the file, and everything else keeps working."""

import http.client
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import get_until_closed, HOST, REPO, md5hex, unique

pytestmark = pytest.mark.apache

AUDIT = REPO / "target" / "release" / "stowage-audit"
BIG = 9 * 1024 * 1024  # above the library's verify-first limit (8 MiB)


def object_dir(srv, container, name, account="AUTH_test") -> Path:
    return srv.object_dir(container, name, account)


def data_file(srv, container, name) -> Path:
    files = sorted(object_dir(srv, container, name).glob("*.data"))
    assert len(files) == 1, files
    return files[0]


def flip(path: Path, offset: int):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def quarantined(srv, data: Path) -> Path:
    return srv.datadir / "quarantined" / "objects" / data.parent.name / data.name


def container_db(srv, container, account="AUTH_test") -> Path:
    return srv.container_db(container, account)


def audit(srv):
    # The root's names are salted: the audit reads the salt from the conf.
    res = subprocess.run([str(AUDIT), "--conf", str(srv.salt_conf), str(srv.datadir)],
                         capture_output=True, text=True, timeout=120)
    return res.returncode, res.stdout + res.stderr


def assert_quarantined(srv, swift, container, name, data: Path, body: bytes):
    """Gone from the object dir and from the listing, kept under
    quarantined/ with a record, 404 for GET and HEAD."""
    assert not data.exists()
    moved = quarantined(srv, data)
    assert moved.exists()
    assert moved.read_bytes()[:len(body)] != body  # the flipped bytes, kept as found
    record = json.loads(moved.with_suffix(".json").read_text())
    assert record["object"] == name and record["container"] == container
    assert record["expected_md5"] == md5hex(body)
    assert record["actual_md5"] not in ("", md5hex(body))
    assert swift.request("GET", f"{container}/{name}").status == 404
    assert swift.request("HEAD", f"{container}/{name}").status == 404
    assert name not in [o["name"] for o in swift.listing(container)]


def log_line(srv, since: int, *needles) -> str:
    lines = [ln for ln in srv.read_error_log(since).splitlines()
             if all(n in ln for n in needles)]
    assert lines, f"no error-log line with {needles}:\n{srv.read_error_log(since)[-3000:]}"
    return lines[0]


def test_a_flipped_byte_in_a_small_object_is_never_served(server, swift, container):
    body = os.urandom(4096)
    other = b"a neighbour that stays fine"
    assert swift.put_object(container, "bad", body).status == 201
    assert swift.put_object(container, "good", other).status == 201
    data = data_file(server, container, "bad")
    flip(data, 1000)
    since = server.error_log_size()

    r = swift.request("GET", f"{container}/bad")
    assert r.status == 404, r
    assert body[:64] not in r.body

    assert_quarantined(server, swift, container, "bad", data, body)
    line = log_line(server, since, "quarantined object", f"/{container}/bad")
    assert str(data) in line and md5hex(body) in line, line
    assert "[tx" in line  # tied to the request's X-Trans-Id
    r = swift.request("GET", f"{container}/good")
    assert r.status == 200 and r.body == other


def test_a_range_of_a_corrupt_object_is_not_served(server, swift, container):
    body = os.urandom(100_000)
    assert swift.put_object(container, "o", body).status == 201
    data = data_file(server, container, "o")
    flip(data, 99_000)  # outside the requested range
    r = swift.request("GET", f"{container}/o", headers={"Range": "bytes=0-99"})
    assert r.status == 404, r
    assert_quarantined(server, swift, container, "o", data, body)



def test_a_large_corrupt_object_breaks_off_before_its_last_byte(server, swift, container,
                                                                swift_conn):
    body = os.urandom(BIG)
    assert swift.put_object(container, "big", body).status == 201
    data = data_file(server, container, "big")
    flip(data, BIG - 10)
    since = server.error_log_size()
    _, token = server.auth()

    status, headers, got = get_until_closed(server, f"/v1/AUTH_test/{container}/big", token)
    # The status line went out before the bytes could be checked; the body
    # ends short of Content-Length and the connection closes.
    assert status == 200
    assert int(headers["content-length"]) == BIG
    assert len(got) < BIG
    assert got == body[:len(got)]
    assert_quarantined(server, swift, container, "big", data, body)
    log_line(server, since, "quarantined object", f"/{container}/big")


def test_real_clients_do_not_take_a_broken_off_object_as_good(server, swift, container,
                                                              swift_conn):
    body = os.urandom(BIG)
    for name in ("a", "b", "c"):
        assert swift.put_object(container, name, body).status == 201
        flip(data_file(server, container, name), BIG - 1)
    # http.client: the body is incomplete.
    _, token = server.auth()
    conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
    conn.request("GET", f"/v1/AUTH_test/{container}/a", headers={"X-Auth-Token": token})
    resp = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    # python-swiftclient: an error, never the bytes.
    try:
        _, got = swift_conn.get_object(container, "b")
    except Exception as e:  # swiftclient wraps the incomplete read its own way
        assert "ncomplete" in repr(e) or "Connection broken" in repr(e), repr(e)
    else:
        pytest.fail(f"swiftclient returned {len(got)} bytes of a corrupt object")
    # curl: error 18, "transfer closed with ... bytes remaining to read".
    res = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", f"X-Auth-Token: {token}",
                          f"{server.base}/v1/AUTH_test/{container}/c"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 18, (res.returncode, res.stderr)


def test_audit_finds_and_quarantines_what_no_get_touched(server_factory):
    srv = server_factory()
    swift = srv.client()
    c = unique("c")
    assert swift.put_container(c).status == 201
    bodies = {f"o{i}": os.urandom(5000 + i) for i in range(4)}
    for name, body in bodies.items():
        assert swift.put_object(c, name, body).status == 201
    assert audit(srv)[0] == 0, audit(srv)[1]
    bad = data_file(srv, c, "o2")
    flip(bad, 17)

    rc, out = audit(srv)  # while the server runs
    assert rc == 1, out
    assert f"quarantined object /AUTH_test/{c}/o2" in out and str(bad) in out, out
    assert "4 objects checked, 1 quarantined" in out, out
    assert_quarantined(srv, swift, c, "o2", bad, bodies["o2"])
    for name in ("o0", "o1", "o3"):
        r = swift.request("GET", f"{c}/{name}")
        assert r.status == 200 and r.body == bodies[name]
    r = swift.request("HEAD", c)
    assert r.header("X-Container-Object-Count") == "3"
    rc, out = audit(srv)
    assert rc == 0 and "3 objects checked, 0 quarantined" in out, out
    # What the audit made stays usable by the server's own user.
    qdir = srv.datadir / "quarantined" / "objects"
    assert qdir.stat().st_uid == srv.datadir.stat().st_uid


def restart(srv):
    """SIGHUP: Apache replaces its children, so no SQLite connection (or
    page cache) from before the damage survives."""
    marker = "resuming normal operations"
    before = srv.read_error_log().count(marker)
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if srv.read_error_log().count(marker) > before and srv.healthy():
            return
        time.sleep(0.1)
    raise AssertionError("apache did not restart\n" + srv.diagnostics())


def checkpoint(db: Path):
    """Fold the WAL into the DB file, as a checkpoint on a quiet server does,
    so that damage to the file hits the rows themselves."""
    subprocess.run(["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
                    "c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()", str(db)],
                   check=True)


def garbage(path: Path):
    path.write_bytes(b"\x5a" * path.stat().st_size)


def truncate(path: Path):
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)


def flip_page(path: Path):
    # Page 2 onwards holds the tables; flip bytes in every page's header.
    with open(path, "r+b") as f:
        size = path.stat().st_size
        for off in range(4096, size, 4096):
            f.seek(off)
            f.write(b"\xff\xff\xff\xff")


@pytest.mark.parametrize("damage", [garbage, truncate, flip_page])
def test_a_damaged_container_db_gets_500_naming_it(server_factory, damage):
    srv = server_factory()
    swift = srv.client()
    broken, fine = unique("broken"), unique("fine")
    for c in (broken, fine):
        assert swift.put_container(c).status == 201
        for i in range(50):
            assert swift.put_object(c, f"o{i:03}", b"x" * i).status == 201
    db = container_db(srv, broken)
    checkpoint(db)
    damage(db)
    restart(srv)
    since = srv.error_log_size()

    r = swift.request("GET", broken)
    assert r.status == 500, r
    assert b"sqlite" not in r.body.lower() and str(db).encode() not in r.body
    line = log_line(srv, since, "damaged SQLite database", str(db))
    assert "[tx" in line, line
    assert swift.request("PUT", f"{broken}/new", body=b"new").status == 500
    # The same children keep serving everything else.
    for _ in range(5):
        assert len(swift.listing(fine)) == 50
    r = swift.request("GET", f"{fine}/o007")
    assert r.status == 200 and r.body == b"x" * 7
    assert srv.healthy()

    rc, out = audit(srv)
    assert rc == 1, out
    assert f"damaged DB {db}" in out, out


def test_a_damaged_account_db_gets_500_and_containers_still_work(server_factory):
    srv = server_factory()
    swift = srv.client()
    c = unique("c")
    assert swift.put_container(c).status == 201
    assert swift.put_object(c, "o", b"data").status == 201
    db = srv.account_db("AUTH_test")
    checkpoint(db)
    garbage(db)
    restart(srv)
    since = srv.error_log_size()
    r = swift.request("GET", "")
    assert r.status == 500, r
    log_line(srv, since, "damaged SQLite database", str(db))
    r = swift.request("GET", f"{c}/o")
    assert r.status == 200 and r.body == b"data"
    rc, out = audit(srv)
    assert rc == 1 and f"damaged DB {db}" in out, out


@pytest.mark.parametrize("size", [4096, BIG])
def test_a_flip_after_good_reads_is_still_caught(server, swift, container, size):
    """Recently verified files skip hashing only while their inode is
    unchanged: a write in between is noticed at once."""
    body = os.urandom(size)
    assert swift.put_object(container, "o", body).status == 201
    for _ in range(3):
        r = swift.request("GET", f"{container}/o")
        assert r.status == 200 and r.body == body
    data = data_file(server, container, "o")
    flip(data, size // 2)
    _, token = server.auth()
    status, headers, got = get_until_closed(server, f"/v1/AUTH_test/{container}/o", token)
    assert status == 404 or len(got) < int(headers["content-length"]), (status, len(got))
    assert_quarantined(server, swift, container, "o", data, body)
