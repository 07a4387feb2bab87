"""Reloading the configuration of a running server (issue 17, item 10).

Apache re-reads its configuration on a graceful-restart signal, and when
what it reads is bad, the parent exits: the whole server stops. The README's
advice is therefore `apache2 -t` / `apachectl configtest`, then `apache2 -k
graceful` / `apachectl graceful` (both read and check the configuration
before they signal), never a raw `kill -USR1`. These tests pin each part of
that advice against a real Apache.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from harness import APACHE, DEFAULT_KEY, DEFAULT_USER

pytestmark = pytest.mark.apache

# A directive whose value the library refuses (checked while Apache reads
# the configuration).
BAD = "StowageGate object-read limit=banana\n"


def apache(srv, *args) -> subprocess.CompletedProcess:
    return subprocess.run([APACHE, "-f", srv.conf, *args], capture_output=True, text=True,
                          timeout=60, env=srv._env)


def add_conf(srv, text: str):
    with open(srv.tmp / "extra.conf", "a") as f:
        f.write(text)


def can_auth(srv, user: str, key: str) -> bool:
    status, _, _ = srv.http_get("/auth/v1.0", {"X-Auth-User": user, "X-Auth-Key": key})
    return status == 200


def wait_until(pred, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_checked_graceful_restart_applies_a_change(server_factory):
    srv = server_factory(extra_conf="")
    assert not can_auth(srv, "new:user", "newkey")
    add_conf(srv, "StowageUser new:user newkey .admin\n")
    assert apache(srv, "-t").returncode == 0
    res = apache(srv, "-k", "graceful")
    assert res.returncode == 0, res.stderr
    wait_until(lambda: can_auth(srv, "new:user", "newkey"), 15, "the new user after the reload")
    assert can_auth(srv, DEFAULT_USER, DEFAULT_KEY)
    assert srv.proc.poll() is None


def test_bad_directive_is_refused_before_any_signal(server_factory):
    srv = server_factory(extra_conf="")
    add_conf(srv, BAD)
    test = apache(srv, "-t")
    assert test.returncode != 0
    assert "StowageGate" in test.stderr + test.stdout, test
    # `-k graceful` reads and checks the configuration first, too: it
    # refuses and sends nothing.
    graceful = apache(srv, "-k", "graceful")
    assert graceful.returncode != 0
    time.sleep(1.0)
    assert srv.proc.poll() is None, "the server stopped"
    assert srv.healthy()
    assert can_auth(srv, DEFAULT_USER, DEFAULT_KEY)


@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGHUP], ids=["USR1", "HUP"])
def test_raw_signal_with_a_bad_directive_stops_the_server(server_factory, sig):
    # Why the README says never to signal Apache by hand: graceful (USR1)
    # and plain (HUP) restarts alike.
    srv = server_factory(extra_conf="")
    add_conf(srv, BAD)
    os.kill(srv.proc.pid, sig)
    try:
        srv.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("Apache kept running on a configuration it could not read")
    assert not srv.healthy()
    assert "StowageGate" in srv.read_error_log() + srv.stdout_path.read_text(errors="replace")
