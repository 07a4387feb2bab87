"""A full disk: writes get 507 and leave nothing behind, reads keep working,
and writes work again once space is freed (issue 5).

Each test mounts a small ext4 image (what users have; mkfs.ext4 -m 0, so the
www-data workers get every block) as the StowageRoot of its own server.
Needs root and permission to loop-mount; skipped otherwise."""

import os
from pathlib import Path

import pytest

from disk_support import MIB, mounted_ext4
from harness import RawConnection, build_request, chunked, md5hex, stored_hash

pytestmark = pytest.mark.apache

DISK_MIB = 16


@pytest.fixture
def small_disk():
    """A mounted DISK_MIB ext4 filesystem (disk_support), with 1 KiB inodes:
    a tombstone's Swift metadata (its pickled xattrs, about 150 bytes) fits
    in its inode, as in XFS's, so a DELETE needs no free block."""
    with mounted_ext4(DISK_MIB, inode_size=1024) as mnt:
        yield mnt


@pytest.fixture
def disk_server(small_disk, server_factory):
    # Requested after small_disk, so the server stops before the unmount.
    return server_factory(data_dir=small_disk)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill_up(mnt: Path):
    """Takes every free block with a file of the test's own, as another
    user of the disk would: after this, nothing that needs a block fits."""
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (64 << 10, 4096, 1):
            block = b"\0" * size
            try:
                while True:
                    os.write(fd, block)
            except OSError as e:
                assert e.errno == 28, e  # ENOSPC
        os.fsync(fd)
    finally:
        os.close(fd)
    # Even one byte more found no room. ext4 may still count one block free
    # that it keeps for its own metadata (seen under parallel e2e workers).
    assert free_bytes(mnt) <= 4096


def db_path(root: Path, account: str, container: str) -> Path:
    """Where the catalog keeps a container's DB (docs/on-disk-format.md)."""
    h = stored_hash(root, account, container)
    return root / "containers" / h[:3] / f"{h}.db"


def same_prefix_container(root: Path, account: str, container: str) -> str:
    """Another container name whose DB shares `container`'s directory."""
    want = db_path(root, account, container).parent
    return next(f"twin{i}" for i in range(1_000_000)
                if db_path(root, account, f"twin{i}").parent == want)


def count_headers(swift, container):
    r = swift.request("HEAD", container)
    assert r.status == 204, r
    return int(r.header("X-Container-Object-Count")), int(r.header("X-Container-Bytes-Used"))


def assert_507(r, server, log_from):
    assert r.status == 507, r
    assert b"not enough space" in r.body, r.body
    assert "storage full" in server.read_error_log(log_from)


def test_put_larger_than_the_free_space_is_refused_before_its_body(disk_server, small_disk):
    swift = disk_server.client()
    swift.put_container("c")
    log_from = disk_server.error_log_size()
    free = free_bytes(small_disk)
    size = 2 * DISK_MIB * MIB
    req = build_request("PUT", swift.path("c/big"),
                        [("X-Auth-Token", swift.token), ("Content-Length", str(size)),
                         ("Expect", "100-continue")], port=disk_server.port)
    with RawConnection(disk_server.port) as c:
        c.send(req)  # headers only: the answer must come without the body
        r = c.read_response(skip_interim=False)
    assert r.status == 507, (r.status, r.body)
    assert b"not enough space" in r.body
    assert "storage full" in disk_server.read_error_log(log_from)

    assert swift.request("HEAD", "c/big").status == 404
    assert swift.listing("c") == []
    assert count_headers(swift, "c") == (0, 0)
    assert free_bytes(small_disk) >= free - 64 * 1024  # nothing was reserved for good
    # The space that is there is still usable.
    swift.put_object("c", "fits", os.urandom(MIB))


def _send_chunked_until_refused(port, head, total):
    """Sends a chunked body of `total` bytes, stopping early if the server
    has answered and closed; returns its response."""
    with RawConnection(port) as c:
        c.send(head)
        piece = os.urandom(256 * 1024)
        sent = 0
        try:
            while sent < total:
                c.send(chunked([piece])[:-5])  # one chunk, not yet the last
                sent += len(piece)
            c.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return c.read_response()


def test_chunked_put_that_runs_out_mid_body_leaves_nothing(disk_server, small_disk):
    swift = disk_server.client()
    swift.put_container("c")
    old = os.urandom(300_000)
    swift.put_object("c", "o", old)
    free = free_bytes(small_disk)
    log_from = disk_server.error_log_size()
    head = build_request("PUT", swift.path("c/o"),
                         [("X-Auth-Token", swift.token), ("Transfer-Encoding", "chunked")],
                         port=disk_server.port, content_length=False)
    r = _send_chunked_until_refused(disk_server.port, head, 2 * DISK_MIB * MIB)
    assert_507(r, disk_server, log_from)

    # The previous version is untouched and the space of the partial upload is back.
    got = swift.request("GET", "c/o")
    assert got.status == 200 and md5hex(got.body) == md5hex(old)
    assert [(o["name"], o["bytes"], o["hash"]) for o in swift.listing("c")] == \
        [("o", len(old), md5hex(old))]
    assert count_headers(swift, "c") == (1, len(old))
    assert free_bytes(small_disk) >= free - 64 * 1024
    assert not [p for p in (small_disk / "tmp").iterdir()]


def test_full_disk_keeps_serving_reads_and_recovers(disk_server, small_disk):
    swift = disk_server.client()
    swift.put_container("c", {"X-Container-Meta-Color": "blue"})
    stored = {}
    for i in range(4):
        data = os.urandom(MIB + i)
        swift.put_object("c", f"big{i}", data, {"X-Object-Meta-N": str(i)})
        stored[f"big{i}"] = data
    for i in range(8):
        data = os.urandom(3000 + i)
        swift.put_object("c", f"small{i}", data)
        stored[f"small{i}"] = data
    fill_up(small_disk)
    log_from = disk_server.error_log_size()

    # Every kind of write that needs space is refused with 507 ...
    r = swift.request("PUT", "c/new", body=os.urandom(10_000))
    assert_507(r, disk_server, log_from)
    assert_507(swift.request("PUT", "c/new0", body=b""), disk_server, log_from)
    # (A POST's .meta is an empty file whose Swift metadata fits in its
    # inode: it needs no free block, so it is accepted, as on XFS.)
    r = swift.request("POST", "c/big0", {"X-Object-Meta-N": "changed"})
    assert r.status == 202, r
    assert_507(swift.request("PUT", "c2"), disk_server, log_from)
    # A container whose DB would go into an existing prefix directory: the
    # DB file gets made, cannot get its schema, and must be removed again.
    twin = same_prefix_container(small_disk, "AUTH_test", "c")
    assert_507(swift.request("PUT", twin), disk_server, log_from)
    kept = db_path(small_disk, "AUTH_test", "c")
    assert {p.name for p in kept.parent.iterdir()} <= \
        {kept.name, kept.name + "-wal", kept.name + "-shm"}
    assert_507(swift.request("POST", "c", {"X-Container-Meta-Color": "red"}),
               disk_server, log_from)
    assert_507(swift.request("PUT", "c/copy", {"X-Copy-From": "c/big1"}), disk_server, log_from)

    # ... and changes nothing: reads still see exactly what was stored.
    assert swift.request("HEAD", twin).status == 404
    for name in ("new", "new0", "copy"):
        assert swift.request("HEAD", f"c/{name}").status == 404
    assert swift.request("HEAD", "c2").status == 404
    assert [c["name"] for c in swift.listing()] == ["c"]
    assert swift.request("HEAD", "c").header("X-Container-Meta-Color") == "blue"
    assert swift.request("HEAD", "c/big0").header("X-Object-Meta-N") == "changed"
    for name, data in stored.items():
        got = swift.request("GET", f"c/{name}")
        assert got.status == 200, (name, got)
        assert md5hex(got.body) == md5hex(data), name
        assert swift.request("HEAD", f"c/{name}").header("ETag") == md5hex(data)
    listed = {o["name"]: (o["bytes"], o["hash"]) for o in swift.listing("c")}
    assert listed == {n: (len(d), md5hex(d)) for n, d in stored.items()}
    assert count_headers(swift, "c") == (len(stored), sum(map(len, stored.values())))
    ranged = swift.request("GET", "c/big2", {"Range": "bytes=10-19"})
    assert ranged.status == 206 and ranged.body == stored["big2"][10:20]

    # Deleting objects gives their space back, and writes work again.
    for name in ("big0", "big1"):
        assert swift.request("DELETE", f"c/{name}").status == 204
        del stored[name]
    assert free_bytes(small_disk) >= MIB
    data = os.urandom(MIB // 2)
    swift.put_object("c", "again", data)
    stored["again"] = data
    r = swift.request("POST", "c/big2", {"X-Object-Meta-N": "changed"})
    assert r.status == 202, r
    assert swift.request("HEAD", "c/big2").header("X-Object-Meta-N") == "changed"
    assert swift.request("PUT", "c2").status == 201
    listed = {o["name"]: (o["bytes"], o["hash"]) for o in swift.listing("c")}
    assert listed == {n: (len(d), md5hex(d)) for n, d in stored.items()}
    assert count_headers(swift, "c") == (len(stored), sum(map(len, stored.values())))
