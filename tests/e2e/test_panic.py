"""A panic inside the library (test-hooks build only: X-Stowage-Test-Panic)
becomes a 500 with an error-log line, and the Apache child that caught it
keeps serving; a permit held at the time comes back."""

from __future__ import annotations

import pytest

from gates_support import gate_status, start_gated, stop_server, wait_for
from harness import tmp_files, unique

pytestmark = pytest.mark.apache

# One child only, so "the child keeps serving" is observable by its PID
# (prefork without keep-alive, or the one worker would idle on a client's
# open connection).
ONE_CHILD = {
    "prefork": "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"
               "ServerLimit 1\nMaxRequestWorkers 1\nKeepAlive Off\n",
    "event": "StartServers 1\nServerLimit 1\nThreadsPerChild 8\nThreadLimit 8\n"
             "MaxRequestWorkers 8\nMinSpareThreads 1\nMaxSpareThreads 8\n",
}
PANIC = "X-Stowage-Test-Panic"


def debug_pid(srv) -> int:
    status, _, body = srv.http_get("/debug")
    assert status == 200
    return int(next(ln.split(": ", 1)[1] for ln in body.decode().splitlines()
                    if ln.startswith("PID: ")))


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_panic_is_a_500_and_the_child_keeps_serving(mpm):
    srv = start_gated(mpm=mpm, extra_server_conf=ONE_CHILD[mpm],
                      extra_conf="StowageGate object-write limit=1 queue=0 wait=1s\n")
    try:
        client = srv.client()
        cont = unique("panic")
        assert client.put_container(cont).status == 201
        pid = debug_pid(srv)
        log_at = srv.error_log_size()

        # Before routing, and inside the processor while holding the only
        # object-write permit (with a body that was read before admission).
        r = client.request("GET", cont, headers={PANIC: "1"})
        assert r.status == 500, r
        r = client.request("PUT", f"{cont}/o", headers={PANIC: "admitted"}, body=b"x" * 1000)
        assert r.status == 500, r

        log = srv.read_error_log(log_at)
        panics = [ln for ln in log.splitlines() if "request handler panicked" in ln]
        assert len(panics) == 2, log
        assert all("test panic requested" in ln for ln in panics), panics

        # Same child, still serving; the permit came back; nothing stored.
        assert debug_pid(srv) == pid
        g = wait_for(lambda: (lambda g: g if g["in_flight"] == 0 else None)(
            gate_status(srv)["object-write"]), what="the permit back")
        assert g["in_flight"] == 0 and g["queued"] == 0, g
        assert client.request("HEAD", f"{cont}/o").status == 404
        assert tmp_files(srv) == []
        assert client.put_object(cont, "o", b"fine").status == 201
        got = client.request("GET", f"{cont}/o")
        assert got.status == 200 and got.body == b"fine"
        assert debug_pid(srv) == pid
    finally:
        crashes = stop_server(srv)
        # The two panics are expected; nothing else may look like a crash.
        unexpected = [c for c in crashes if "test panic requested" not in c]
        assert not unexpected, "\n".join(unexpected)
