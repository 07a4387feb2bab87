"""rclone (Debian's package) as a Swift client: a tree of 200 files of
mixed sizes up and down, `rclone check` clean, `rclone lsjson` exact."""

import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import DEFAULT_KEY, DEFAULT_USER, unique

RCLONE = shutil.which("rclone")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(RCLONE is None, reason="rclone is not installed")]

ODD_NAMES = ["with space.txt", "ünï cødé.bin", "percent%20sign", "hash#tag", "plus+sign",
             "question?mark", "quote'single", "semi;colon", "emoji-🚀.dat", "a&b=c"]


def make_tree(root: Path, count: int = 200, seed: int = 4) -> dict:
    """Files of 0 B .. 3 MiB in nested dirs; returns {relative path: md5}."""
    rnd = random.Random(seed)
    sizes = [0, 1, 2, 1023, 1024, 65536, 65537, 1 << 20, 3 * (1 << 20)]
    dirs = ["", "a", "a/b", "a/b/c", "deep/er/and/deeper", "sp ace", "ü"]
    files = {}
    for i in range(count):
        d = dirs[i % len(dirs)]
        name = ODD_NAMES[i] if i < len(ODD_NAMES) else f"f{i:03d}.bin"
        size = sizes[i] if i < len(sizes) else rnd.choice([0, 10, 500, 4096, 70_000, 300_000])
        rel = f"{d}/{name}" if d else name
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rnd.randbytes(size)
        path.write_bytes(data)
        files[rel] = hashlib.md5(data).hexdigest()
    return files


@pytest.fixture
def rclone(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    env.update({
        "RCLONE_CONFIG": "/dev/null",
        "RCLONE_CONFIG_S_TYPE": "swift",
        "RCLONE_CONFIG_S_AUTH": server.auth_url,
        "RCLONE_CONFIG_S_USER": DEFAULT_USER,
        "RCLONE_CONFIG_S_KEY": DEFAULT_KEY,
    })

    def run(*args, check=True):
        cmd = [RCLONE, "--retries", "1", "--low-level-retries", "1", "--transfers", "4",
               *args]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {res.returncode}\n{res.stderr[-4000:]}")
        return res
    return run


def test_rclone_tree_round_trip(swift, rclone):
    tmp = Path(tempfile.mkdtemp(prefix="stowage-rclone-"))
    try:
        up, down = tmp / "up", tmp / "down"
        files = make_tree(up)
        assert len(files) == 200
        c = unique("rc")
        rclone("copy", str(up), f"s:{c}")
        # What the server holds, seen by rclone and by the plain listing.
        listed = json.loads(rclone("lsjson", "-R", "--hash", "--files-only", f"s:{c}").stdout)
        assert {e["Path"]: e["Size"] for e in listed} == \
            {rel: (up / rel).stat().st_size for rel in files}
        assert {e["Path"]: e["Hashes"]["md5"] for e in listed} == files
        names = {o["name"] for o in swift.listing(c, limit=10000)}
        assert names == set(files)
        rclone("check", str(up), f"s:{c}")
        rclone("copy", f"s:{c}", str(down))
        got = {str(p.relative_to(down)): hashlib.md5(p.read_bytes()).hexdigest()
               for p in down.rglob("*") if p.is_file()}
        assert got == files
        # Modification times survive the round trip (X-Object-Meta-Mtime).
        some = "a/b/c/" + [r for r in files if r.startswith("a/b/c/")][0].split("/")[-1]
        assert abs((up / some).stat().st_mtime - (down / some).stat().st_mtime) < 1
        rclone("check", str(down), f"s:{c}")
        # A second copy has nothing to do; then delete everything.
        res = rclone("copy", "-v", str(up), f"s:{c}")
        assert "Copied" not in res.stderr, res.stderr[-2000:]
        rclone("purge", f"s:{c}")
        assert swift.request("HEAD", c).status == 404
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
