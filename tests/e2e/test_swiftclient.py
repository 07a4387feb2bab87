"""python-swiftclient and the `swift` CLI against Stowage: large round trips
byte for byte, and the everyday CLI flow."""

import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from harness import md5hex, unique

TEN_MIB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def big_blob() -> bytes:
    return os.urandom(TEN_MIB)


@pytest.mark.slow
def test_library_round_trip_10mib(swift_conn, big_blob):
    c = unique("sc")
    swift_conn.put_container(c)
    etag = swift_conn.put_object(c, "big.bin", contents=big_blob,
                                 content_type="application/octet-stream")
    assert etag == md5hex(big_blob)
    headers, body = swift_conn.get_object(c, "big.bin")
    assert len(body) == TEN_MIB
    assert body == big_blob
    assert headers["etag"] == md5hex(big_blob)
    assert int(headers["content-length"]) == TEN_MIB
    head = swift_conn.head_object(c, "big.bin")
    assert head["etag"] == md5hex(big_blob)
    _, listing = swift_conn.get_container(c)
    assert [(o["name"], o["bytes"], o["hash"]) for o in listing] == \
        [("big.bin", TEN_MIB, md5hex(big_blob))]


@pytest.mark.slow
def test_library_streamed_upload_chunked(swift_conn, big_blob):
    """A file-like object without a length goes out chunked."""
    c = unique("sc")
    swift_conn.put_container(c)

    def gen():
        view = memoryview(big_blob)
        step = 65536 + 7
        for i in range(0, len(view), step):
            yield bytes(view[i:i + step])

    etag = swift_conn.put_object(c, "streamed.bin", contents=gen())
    assert etag == md5hex(big_blob)
    _, body = swift_conn.get_object(c, "streamed.bin")
    assert body == big_blob


@pytest.mark.slow
def test_cli_upload_download_10mib(swift_cli, swift_conn, big_blob, tmp_path):
    c = unique("cli")
    work = tmp_path
    (work / "big.bin").write_bytes(big_blob)
    swift_cli("upload", c, "big.bin", cwd=work)
    head = swift_conn.head_object(c, "big.bin")
    assert head["etag"] == md5hex(big_blob)
    assert int(head["content-length"]) == TEN_MIB
    swift_cli("download", c, "big.bin", "-o", "copy.bin", cwd=work)
    got = (work / "copy.bin").read_bytes()
    assert len(got) == TEN_MIB
    assert hashlib.md5(got).hexdigest() == md5hex(big_blob)
    assert got == big_blob


def _lines(out: str) -> list:
    return [ln for ln in out.splitlines() if ln.strip()]


def _stat_fields(out: str) -> dict:
    fields = {}
    for ln in out.splitlines():
        k, sep, v = ln.partition(":")
        if sep:
            fields[k.strip()] = v.strip()
    return fields


def test_cli_flow(swift_cli, tmp_path):
    c = unique("cli")
    work = tmp_path
    (work / "x").mkdir()
    (work / "x" / "sub").mkdir()
    (work / "x" / "one.txt").write_bytes(b"one\n")
    (work / "x" / "sub" / "two.txt").write_bytes(b"two\n")
    (work / "y.txt").write_bytes(b"why\n")
    payload = os.urandom(4096 + 13)
    (work / "file.bin").write_bytes(payload)

    st = _stat_fields(swift_cli("stat", cwd=work).stdout)
    assert st.get("Account") == "AUTH_test"
    assert "Containers" in st and "Objects" in st and "Bytes" in st

    swift_cli("post", c, cwd=work)
    st = _stat_fields(swift_cli("stat", c, cwd=work).stdout)
    assert st.get("Container") == c
    assert st.get("Objects") == "0"

    for f in ("file.bin", "x/one.txt", "x/sub/two.txt", "y.txt"):
        swift_cli("upload", c, f, cwd=work)

    assert _lines(swift_cli("list", c, cwd=work).stdout) == \
        ["file.bin", "x/one.txt", "x/sub/two.txt", "y.txt"]
    assert _lines(swift_cli("list", c, "--prefix", "x", "--delimiter", "/", cwd=work).stdout) == ["x/"]
    assert _lines(swift_cli("list", c, "--prefix", "x/", "--delimiter", "/", cwd=work).stdout) == \
        ["x/one.txt", "x/sub/"]

    swift_cli("download", c, "file.bin", "-o", "down.bin", cwd=work)
    assert (work / "down.bin").read_bytes() == payload

    swift_cli("post", "-m", "k:v", c, "file.bin", cwd=work)
    st = _stat_fields(swift_cli("stat", c, "file.bin", cwd=work).stdout)
    assert st.get("Meta K") == "v", st
    assert st.get("ETag") == md5hex(payload)
    assert st.get("Content Length") == str(len(payload))

    swift_cli("delete", c, "file.bin", cwd=work)
    assert _lines(swift_cli("list", c, cwd=work).stdout) == ["x/one.txt", "x/sub/two.txt", "y.txt"]
    r = swift_cli("stat", c, "file.bin", cwd=work, check=False)
    assert r.returncode != 0

    swift_cli("delete", c, cwd=work)
    r = swift_cli("stat", c, cwd=work, check=False)
    assert r.returncode != 0
    assert "not found" in (r.stderr + r.stdout).lower()
    assert c not in _lines(swift_cli("list", cwd=work).stdout)
