"""Where the gate benchmarks keep their servers' data: a journaled ext4
image, loop-mounted (what Debian's installer gives an operator), or the
host's own temp directory.

Why it matters: a CI or cloud VM's root filesystem may be ext4 without a
journal. There, ext4's inode allocator skips every inode deleted in the
last minute or more (`recently_deleted` in fs/ext4/ialloc.c), scanning them
again at each allocation, and every PUT allocates an inode or two. On a
host that has just deleted thousands of test files, a 256-connection PUT
flood then spent most of its CPU in that scan (perf, 2026-12-01): the
writers became CPU-bound, which a journaled disk's writers are not. The
benchmarks say which filesystem they measured.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

IMAGE_GIB = 16  # sparse: only what the runs write takes space


def choices() -> list[str]:
    return ["ext4", "host"]


def default_choice() -> str:
    """ext4 when this process may make and loop-mount one, else host."""
    can = os.geteuid() == 0 and shutil.which("mkfs.ext4") and shutil.which("mount")
    return "ext4" if can else "host"


@contextlib.contextmanager
def scratch_dir(kind: str, prefix: str, parent: str | None):
    """A new directory (mode 755, so www-data can reach it) on the chosen
    filesystem, removed afterwards; with "ext4", on a fresh image that is
    unmounted afterwards (lazily, if something still holds it)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(base, 0o755)
    mnt = None
    try:
        if kind == "ext4":
            mnt = base / "mnt"
            mount_image(base / "disk.img", mnt)
            work = mnt / "work"
        else:
            work = base / "work"
        work.mkdir()
        os.chmod(work, 0o755)
        print(f"data on: {describe(work)}", flush=True)
        yield work
    finally:
        if mnt is not None:
            shutil.rmtree(mnt / "work", ignore_errors=True)
            if run("umount", str(mnt)).returncode != 0:
                run("umount", "-l", str(mnt))
        shutil.rmtree(base, ignore_errors=True)


def mount_image(image: Path, mnt: Path):
    with open(image, "wb") as f:
        f.truncate(IMAGE_GIB << 30)
    for cmd in (["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                 str(image)],
                ["mount", "-o", "loop", str(image), str(mnt)]):
        mnt.mkdir(exist_ok=True)
        done = run(*cmd)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()} "
                               "(or run with --fs host)")
    os.chmod(mnt, 0o755)


def describe(path: Path) -> str:
    """"ext4 with a journal (/dev/loop0 on /tmp/...)" and the like, found as
    the server does it (src/storage_fs.rs): the mount of `path`'s device
    (st_dev) in /proc/self/mountinfo, the device's kernel name from
    /sys/dev/block (a /dev/mapper/... source is "dm-0" there), and
    /proc/fs/jbd2, which has an entry "<name>-<inode>" per journal."""
    st = os.stat(path)
    dev = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split(" - ") for line in f if " - " in line]
    found = [(left.split()[4].replace("\\040", " "), right.split()[:2])
             for left, right in mounts if left.split()[2] == dev]
    if not found:
        return "unknown filesystem"
    point, (fstype, source) = found[0]
    if fstype == "ext4":
        try:
            name = os.path.basename(os.readlink(f"/sys/dev/block/{dev}"))
            journals = os.listdir("/proc/fs/jbd2")
        except OSError:
            name, journals = "", []
        journaled = any(j.rpartition("-")[0] == name for j in journals)
        fstype = "ext4 with a journal" if journaled else "ext4 WITHOUT a journal"
    return f"{fstype} ({source} on {point})"


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
