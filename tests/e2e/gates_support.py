"""Support for the admission-gate tests: a mod_stowage linked against a
libstowage built with the `test-hooks` cargo feature (so a request can hold
its permit for a while: `X-Stowage-Test-Delay-Ms: N`), and servers that load
it. The release build `make run` serves is never touched: the hooks library
goes to target/test-hooks/ and its shim to build/test-hooks/."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

from harness import HOST, REPO, RawConnection, build_request, start_server, stop_server

HOOKS_TARGET = REPO / "target" / "test-hooks"
HOOKS_LIBDIR = HOOKS_TARGET / "release"
HOOKS_SHIM = REPO / "build" / "test-hooks" / "mod_stowage.so"
DELAY = "X-Stowage-Test-Delay-Ms"
# Sleep after each checkpoint an admitted write passes (src/test_hooks.rs).
CHECKPOINT_DELAY = "X-Stowage-Test-Checkpoint-Delay-Ms"

# Enough idle workers up front that held requests never wait for a spawn,
# spread over several processes.
MANY_CHILDREN = {
    "prefork": "StartServers 12\nMinSpareServers 10\nMaxSpareServers 20\n",
    "event": "ThreadsPerChild 2\nStartServers 8\nMinSpareThreads 8\nMaxSpareThreads 24\n",
}

_built = threading.Lock()
_done = False


def build_hooks_shim() -> str:
    """Builds (incrementally) the test-hooks library and its shim once per
    session; returns the shim's path."""
    global _done
    with _built:
        if not _done:
            env = dict(os.environ)
            subprocess.run(["cargo", "build", "--release", "--features", "test-hooks",
                            "--target-dir", str(HOOKS_TARGET)], cwd=REPO, env=env,
                           check=True, capture_output=True, timeout=900)
            env["STOWAGE_LIBDIR"] = str(HOOKS_LIBDIR)
            env["STOWAGE_SHIM_OUT"] = str(HOOKS_SHIM)
            subprocess.run([str(REPO / "scripts" / "build-shim.sh")], cwd=REPO, env=env,
                           check=True, capture_output=True, timeout=300)
            _done = True
    return str(HOOKS_SHIM)


def start_gated(**kw):
    """start_server(...) with the test-hooks shim."""
    shim = build_hooks_shim()
    old = os.environ.get("STOWAGE_SHIM")
    os.environ["STOWAGE_SHIM"] = shim
    try:
        return start_server(**kw)
    finally:
        if old is None:
            os.environ.pop("STOWAGE_SHIM", None)
        else:
            os.environ["STOWAGE_SHIM"] = old


def gate_status(srv) -> dict:
    status, _, body = srv.http_get("/stowage-status")
    assert status == 200, (status, body)
    return json.loads(body)["gates"]


def wait_for(pred, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


class Held:
    """A request sent on its own connection whose response is read later
    (it holds a permit for the delay it asks for)."""

    def __init__(self, srv, method: str, path: str, token: str, delay_ms: int = 0,
                 body: bytes = b"", headers: Optional[list] = None):
        self.conn = RawConnection(srv.port, timeout=120)
        hdrs = [("X-Auth-Token", token)]
        if delay_ms:
            hdrs.append((DELAY, str(delay_ms)))
        hdrs += headers or []
        if method == "PUT" and not body:
            hdrs.append(("Content-Length", "0"))
        self.conn.send(build_request(method, path, hdrs, body, port=srv.port))

    def response(self):
        try:
            return self.conn.read_response()
        finally:
            self.conn.close()


def serving_child(parent: int, held: Held) -> int:
    """The child of `parent` that holds the server side of `held`'s
    connection (prefork: the child that accepted it)."""
    client, server = held.conn.sock.getsockname()[1], held.conn.sock.getpeername()[1]
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        ends = (int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16))
        if ends == (server, client) and f[9] != "0":
            inodes.add(f"socket:[{f[9]}]")
    assert len(inodes) == 1, f"server sockets for client port {client}: {inodes}"
    for d in Path("/proc").iterdir():
        try:
            stat = (d / "stat").read_text()
            if int(stat[stat.rfind(")") + 2:].split()[1]) != parent:
                continue
            fds = list((d / "fd").iterdir())
        except (OSError, ValueError, IndexError):
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return int(d.name)
            except OSError:
                continue
    raise AssertionError(f"no child of {parent} serves client port {client}")


def stop_after_kills(srv, killed: list):
    """Stops the server; the only crashes allowed are the children killed."""
    crashes = stop_server(srv)
    unexpected = [c for c in crashes if not any(f"pid {p} " in c for p in killed)]
    assert not unexpected, "\n".join(unexpected)


__all__ = ["CHECKPOINT_DELAY", "HOST", "MANY_CHILDREN", "Held", "build_hooks_shim",
           "gate_status", "serving_child", "start_gated", "stop_after_kills", "stop_server",
           "wait_for"]
