#!/usr/bin/env python3
"""What reserving a PUT's Content-Length costs: the object write path
(O_TMPFILE, write, fsync, linkat, fsync dir) with and without
fallocate(FALLOC_FL_KEEP_SIZE) first, alternating, on the filesystem of DIR.

    bench/fallocate_cost.py [DIR] [SIZE_BYTES] [ROUNDS]   # defaults: ./var-bench 4096 400
"""

import ctypes
import os
import shutil
import sys
import time

FALLOC_FL_KEEP_SIZE = 1
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]


def one_put(tmp: str, dest: str, body: bytes, reserve: bool):
    fd = os.open(tmp, os.O_TMPFILE | os.O_RDWR, 0o640)
    try:
        if reserve and libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len(body)) != 0:
            raise OSError(ctypes.get_errno(), "fallocate")
        os.write(fd, body)
        os.fsync(fd)
        # os.link calls link(2), which does not follow the /proc symlink.
        if libc.linkat(AT_FDCWD, f"/proc/self/fd/{fd}".encode(), AT_FDCWD, dest.encode(),
                       AT_SYMLINK_FOLLOW) != 0:
            raise OSError(ctypes.get_errno(), "linkat")
    finally:
        os.close(fd)
    dfd = os.open(os.path.dirname(dest), os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "var-bench"
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    tmp, objs = os.path.join(root, "tmp"), os.path.join(root, "objs")
    os.makedirs(tmp, exist_ok=True)
    os.makedirs(objs, exist_ok=True)
    body = os.urandom(size)
    spent = {False: [], True: []}
    try:
        for i in range(rounds):
            for reserve in (i % 2 == 0, i % 2 == 1):  # alternate who goes first
                t = time.perf_counter()
                one_put(tmp, os.path.join(objs, f"{i}-{int(reserve)}"), body, reserve)
                spent[reserve].append(time.perf_counter() - t)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for reserve, ts in spent.items():
        ts.sort()
        print(f"{'fallocate' if reserve else 'plain    '} size={size} n={len(ts)} "
              f"median={ts[len(ts) // 2] * 1e3:.3f} ms p90={ts[len(ts) * 9 // 10] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
