"""The servers' storage holds Swift's full object metadata (issue 20).

Swift keeps an object's metadata as a pickled dict in the
user.swift.metadata* xattrs of its .data file (swift/obj/diskfile.py,
write_metadata: pickle protocol 2 of the dict with str encoded as UTF-8, in
chunks of up to 64 KiB, then user.swift.metadata_checksum). At the limits in
src/core/constraints.rs that pickle is 11-15 KiB, more than the ~4 KiB of
xattrs ext4 without ea_inode holds per inode. tests/e2e/run.sh mounts a
filesystem that holds it (scripts/storage-fs.sh) and the harness puts every
server's storage root there; these tests check that they did, by writing
such metadata as Swift writes it next to the session server's root, and by
storing an object with the largest metadata the limits allow."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest

from harness import storage_tmp_root, unique

pytestmark = pytest.mark.apache

# src/core/constraints.rs
MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_COUNT = 90
MAX_META_OVERALL_SIZE = 4096
MAX_OBJECT_NAME_LENGTH = 1024
MAX_ACCOUNT_NAME_LENGTH = 256
MAX_CONTAINER_NAME_LENGTH = 256

XATTR_CHUNK = 65536  # diskfile.write_metadata(xattr_size=65536)
PICKLE_PROTOCOL = 2  # diskfile.PICKLE_PROTOCOL
EXT4_XATTR_ROOM = 4096  # one block: what ext4 without ea_inode holds per inode


def swift_pickle(metadata: dict) -> bytes:
    """The bytes Swift writes for `metadata` (diskfile._encode_metadata, then
    pickle protocol 2)."""
    encoded = {k.encode("utf-8", "surrogateescape"): v.encode("utf-8", "surrogateescape")
               for k, v in metadata.items()}
    return pickle.dumps(encoded, PICKLE_PROTOCOL)


def write_swift_metadata(path: Path, metastr: bytes) -> None:
    """Swift-style: chunks under user.swift.metadata, metadata1, ..., then
    the checksum (diskfile.write_metadata)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        key, rest = 0, metastr
        while rest:
            os.setxattr(fd, "user.swift.metadata" + (str(key) if key else ""),
                        rest[:XATTR_CHUNK])
            rest, key = rest[XATTR_CHUNK:], key + 1
        os.setxattr(fd, "user.swift.metadata_checksum",
                    hashlib.md5(metastr).hexdigest().encode())
    finally:
        os.close(fd)


def read_swift_metadata(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        metastr, key = b"", 0
        while True:
            try:
                metastr += os.getxattr(fd, "user.swift.metadata" + (str(key) if key else ""))
            except OSError:
                break
            key += 1
        assert os.getxattr(fd, "user.swift.metadata_checksum") == \
            hashlib.md5(metastr).hexdigest().encode()
        return metastr
    finally:
        os.close(fd)


def user_meta(char: str, name_len: int) -> dict:
    """MAX_META_COUNT items of `name_len`-byte names whose names and values
    add up to MAX_META_OVERALL_SIZE bytes, values of `char` (1 or 2 bytes
    in UTF-8), none longer than the per-item limits."""
    per_item = MAX_META_OVERALL_SIZE // MAX_META_COUNT
    value_bytes = min(MAX_META_VALUE_LENGTH, per_item - name_len)
    meta = {}
    for i in range(MAX_META_COUNT):
        name = (f"{i:03d}" + "n" * name_len)[:name_len]
        meta["X-Object-Meta-" + name] = char * (value_bytes // len(char.encode()))
    size = sum(len(k) - len("X-Object-Meta-") + len(v.encode()) for k, v in meta.items())
    assert size <= MAX_META_OVERALL_SIZE
    return meta


def full_metadata(char: str, name_len: int) -> dict:
    """What Swift stores for an object at the limits: its longest name,
    system keys, the user metadata, and some sysmeta a middleware adds."""
    meta = {
        "name": "/" + "/".join(["a" * MAX_ACCOUNT_NAME_LENGTH, "c" * MAX_CONTAINER_NAME_LENGTH,
                                "o" * MAX_OBJECT_NAME_LENGTH]),
        "X-Timestamp": "1765150000.12345",
        "Content-Type": "application/octet-stream;swift_bytes=1073741824",
        "ETag": "d41d8cd98f00b204e9800998ecf8427e",
        "Content-Length": "0",
        "X-Object-Sysmeta-Slo-Etag": "0" * 32,
        "X-Object-Sysmeta-Slo-Size": "5368709122",
        "X-Object-Sysmeta-Container-Update-Override-Etag": "0" * 32 + "; s3_etag=" + "0" * 32,
    }
    meta.update(user_meta(char, name_len))
    return meta


SHAPES = {
    "ascii, short names": ("v", 8),
    "two-byte UTF-8 values": ("\u00e9", 8),
    "longest names": ("v", MAX_META_NAME_LENGTH // 4),
}


@pytest.fixture(scope="module")
def root(server) -> Path:
    where = storage_tmp_root()
    if where is None:
        pytest.fail("STOWAGE_TEST_ROOT is not set: run the suite through tests/e2e/run.sh, "
                    "which mounts a filesystem for Swift's metadata (docs/storage-fs.md)",
                    pytrace=False)
    root = Path(where).resolve()
    assert server.datadir.resolve().is_relative_to(root), (server.datadir, root)
    assert os.stat(server.datadir).st_dev == os.stat(root).st_dev
    return root


@pytest.mark.parametrize("shape", SHAPES)
def test_the_storage_root_holds_swifts_metadata_at_the_limits(server, root, shape):
    metastr = swift_pickle(full_metadata(*SHAPES[shape]))
    # The point: more than ext4 without ea_inode can hold.
    assert len(metastr) > 2 * EXT4_XATTR_ROOM, len(metastr)
    probe = server.tmp / f"metadata-probe-{unique()}"
    try:
        write_swift_metadata(probe, metastr)
        assert read_swift_metadata(probe) == metastr
    finally:
        probe.unlink(missing_ok=True)


def test_the_storage_root_holds_a_full_64_kib_chunk(server, root):
    """Headroom: the largest chunk Swift writes, about 4x metadata at the
    limits."""
    metastr = b"\x80\x02}q\x00" + os.urandom(XATTR_CHUNK - 5)
    probe = server.tmp / f"metadata-probe-{unique()}"
    try:
        write_swift_metadata(probe, metastr)
        assert read_swift_metadata(probe) == metastr
    finally:
        probe.unlink(missing_ok=True)


def test_an_object_with_metadata_at_the_limits_is_stored_and_read_back(server, root, swift,
                                                                         container):
    meta = user_meta("\u00e9", 8)
    wire = {k: v.encode("utf-8") for k, v in meta.items()}  # UTF-8 on the wire
    r = swift.request("PUT", f"{container}/full", headers=wire, body=b"x")
    assert r.status == 201, r
    r = swift.request("HEAD", f"{container}/full")
    assert r.status == 200, r
    # http.client hands header bytes over as latin-1 text.
    got = {k.lower(): v.encode("latin-1") for k, v in r.header_list
           if k.lower().startswith("x-object-meta-")}
    assert got == {k.lower(): v for k, v in wire.items()}
