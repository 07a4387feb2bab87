"""A small ext4 image, loop-mounted for a test (what users have: mkfs.ext4
-m 0, so the www-data workers get every block; with or without a journal).
Needs root and permission to loop-mount: skips the test otherwise."""

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

MIB = 1 << 20


def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def mounted_ext4(size_mib: int, journal: bool = True, inode_size: int = 256):
    """Yields the mount point of a fresh `size_mib` ext4 filesystem (with a
    journal, or without one: mkfs -O ^has_journal; `inode_size` bytes per
    inode, whose room beyond 256 holds extended attributes in the inode);
    unmounts it afterwards whatever happened (lazily if a server still holds
    files open)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small filesystem")
    if not shutil.which("mkfs.ext4"):
        pytest.skip("mkfs.ext4 (e2fsprogs) is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="stowage-disk-"))
    os.chmod(tmp, 0o755)  # www-data must reach the mount point
    image, mnt = tmp / "disk.img", tmp / "mnt"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(size_mib * MIB)
    features = [] if journal else ["-O", "^has_journal"]
    made = _run("mkfs.ext4", "-q", "-F", "-m", "0", "-b", "4096", "-I", str(inode_size),
                *features,
                "-E", "lazy_itable_init=0,lazy_journal_init=0", str(image))
    assert made.returncode == 0, made.stderr
    mounted = _run("mount", "-o", "loop", str(image), str(mnt))
    if mounted.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"loop mount not permitted here: {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        if _run("umount", str(mnt)).returncode != 0:
            _run("umount", "-l", str(mnt))
        shutil.rmtree(tmp, ignore_errors=True)
