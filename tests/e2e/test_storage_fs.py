"""The startup warning about the storage root's filesystem: on ext4 without
a journal every PUT's inode allocation gets slow after many deletions, and
the filesystem needs fsck after a crash (src/storage_fs.rs). A server whose
StowageRoot is on such an image says so in its error log as it starts, and
serves as usual; on ext4 with a journal it says nothing. Needs root to
loop-mount (disk_support)."""

import pytest

from disk_support import mounted_ext4

pytestmark = pytest.mark.apache

WARNING = "without a journal"


def test_a_root_on_ext4_without_a_journal_is_warned_about(server_factory):
    with mounted_ext4(32, journal=False) as mnt:
        srv = server_factory(data_dir=mnt)
        try:
            lines = [l for l in srv.read_error_log().splitlines() if WARNING in l]
            assert lines, srv.read_error_log()
            assert ":warn]" in lines[0], lines[0]
            assert f"storage root {mnt} is on ext4 without a journal (/dev/loop" in lines[0], \
                lines[0]
            # A warning, not a refusal: it stores and serves.
            swift = srv.client()
            swift.put_container("c")
            swift.put_object("c", "o", b"kept")
            r = swift.request("GET", "c/o")
            assert (r.status, r.body) == (200, b"kept")
        finally:
            srv.stop()  # before the unmount


def test_a_root_on_ext4_with_a_journal_gets_no_warning(server_factory):
    with mounted_ext4(32, journal=True) as mnt:
        srv = server_factory(data_dir=mnt)
        try:
            swift = srv.client()
            swift.put_container("c")  # the server is up and has logged its start
            log = srv.read_error_log()
            assert WARNING not in log, log
        finally:
            srv.stop()
