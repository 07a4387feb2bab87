"""An upload holds no more disk than it has sent (issue 17, item 3). Its
Content-Length used to be reserved with fallocate before the body came, so
three header-only PUTs by a user with nothing but X-Container-Write took the
whole filesystem and the owner's writes got 507 for as long as those
connections lived. Now only a Content-Length that cannot fit is refused
early (507 before the body); everything else holds what it has written.

A small ext4 image, loop-mounted (disk_support); needs root, else skipped."""

import os
import time

import pytest

from disk_support import MIB, mounted_ext4
from harness import RawConnection, build_request, tmp_files, users_conf

pytestmark = pytest.mark.apache

DISK_MIB = 64
WRITER = ("test:member", "memberkey")


def free_bytes(path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.fixture
def disk():
    with mounted_ext4(DISK_MIB) as mnt:
        yield mnt


@pytest.fixture
def srv(disk, server_factory):
    # Requested after `disk`, so the server stops before the unmount.
    return server_factory(data_dir=disk, extra_conf=users_conf({WRITER[0]: (WRITER[1], False)}))


def open_upload(srv, token, name, length, first=b""):
    """A PUT whose headers (and `first` body bytes) are sent, the rest not."""
    c = RawConnection(srv.port)
    c.send(build_request("PUT", f"/v1/AUTH_test/c/{name}",
                         [("X-Auth-Token", token), ("Content-Length", str(length))],
                         port=srv.port))
    if first:
        c.send(first)
    return c


def test_header_only_puts_hold_nothing(srv, disk):
    owner = srv.client()
    owner.put_container("c", {"X-Container-Write": WRITER[0]})
    writer = srv.client(*WRITER)
    free = free_bytes(disk)
    each = free // 3 - MIB  # each fits alone; together they take the disk

    trickle = b"x" * 1024
    uploads = [open_upload(srv, writer.token, f"hold{i}", each, trickle) for i in range(3)]
    try:
        time.sleep(1.0)  # the server has read the headers and started the body
        held = free - free_bytes(disk)
        # 3 KiB of body plus the filesystem's own bookkeeping, not 3 x `each`.
        assert held < 512 * 1024, (held, each)

        # The owner's writes are not starved: 8 MiB fits, a second time too.
        data = os.urandom(8 * MIB)
        assert owner.request("PUT", "c/mine", body=data).status == 201
        assert owner.request("PUT", "c/mine2", body=data).status == 201

        # A trickling upload holds what it has sent, about.
        before = free_bytes(disk)
        for _ in range(8):
            for u in uploads:
                u.send(b"y" * (64 * 1024))
        time.sleep(1.0)
        grew = before - free_bytes(disk)
        assert grew < 3 * 8 * 64 * 1024 + 512 * 1024, grew
    finally:
        for u in uploads:
            u.close()

    # Cut uploads leave nothing behind and give their blocks back.
    floor = free - 2 * 8 * MIB - 512 * 1024
    deadline = time.monotonic() + 15
    while free_bytes(disk) < floor and time.monotonic() < deadline:
        time.sleep(0.1)
    assert free_bytes(disk) >= floor
    assert not tmp_files(srv)
    for i in range(3):
        assert owner.request("HEAD", f"c/hold{i}").status == 404
    assert [o["name"] for o in owner.listing("c")] == ["mine", "mine2"]


def test_a_length_that_cannot_fit_is_still_refused_before_its_body(srv, disk):
    owner = srv.client()
    owner.put_container("c", {"X-Container-Write": WRITER[0]})
    writer = srv.client(*WRITER)
    free = free_bytes(disk)
    req = build_request("PUT", "/v1/AUTH_test/c/big",
                        [("X-Auth-Token", writer.token), ("Content-Length", str(free + MIB)),
                         ("Expect", "100-continue")], port=srv.port)
    with RawConnection(srv.port) as c:
        c.send(req)  # headers only: the answer comes without the body
        r = c.read_response(skip_interim=False)
    assert r.status == 507, (r.status, r.body)
    assert b"not enough space" in r.body
    # One that fits is taken (with its body).
    data = os.urandom(4 * MIB)
    r = writer.request("PUT", "c/fits", body=data)
    assert r.status == 201, r
    assert owner.request("GET", "c/fits").body == data
