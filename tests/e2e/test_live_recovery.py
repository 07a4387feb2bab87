"""Crash recovery while the server keeps running (src/recovery.rs): a child
killed between an object's file and its catalog row leaves an intent that
the surviving children reconcile within seconds, in the node-wide turn one
of them takes (not each child every interval), and the object, which the
client never got a 201 for, is listed with its size and ETag, as Swift
keeps a durable object whose container update was lost."""

from __future__ import annotations

import os
import signal
import time

import pytest

from gates_support import (CHECKPOINT_DELAY, MANY_CHILDREN, Held, serving_child, start_gated,
                           stop_after_kills, wait_for)
from harness import ConnectionClosed, data_files, md5hex, unique

pytestmark = [pytest.mark.apache, pytest.mark.serial]


def test_survivors_reconcile_a_write_killed_before_its_catalog_row():
    srv = start_gated(mpm="prefork", extra_server_conf=MANY_CHILDREN["prefork"])
    killed = []
    try:
        client = srv.client()
        c = unique("r")
        client.put_container(c)
        body = b"published, never committed"
        # The writer sleeps after each checkpoint (test hooks): after the
        # first it begins its intent and publishes its file, after the
        # second (before its catalog commit) it is killed.
        w = Held(srv, "PUT", client.path(f"{c}/o"), client.token, body=body,
                 headers=[(CHECKPOINT_DELAY, "3000")])
        intents = srv.datadir / "intents"
        wait_for(lambda: data_files(intents), what="the writer's intent")
        time.sleep(0.5)  # past publishing, asleep before the catalog commit
        killed = [serving_child(srv.proc.pid, w)]
        log_from = srv.error_log_size()
        os.kill(killed[0], signal.SIGKILL)
        with pytest.raises(ConnectionClosed):
            w.response()

        # Recovery rides on requests; the survivors' turn comes within
        # about two intervals (2 s each).
        t0 = time.monotonic()
        names = wait_for(lambda: [o["name"] for o in client.listing(c)], timeout=10,
                         what="the killed write listed")
        assert names == ["o"], names
        assert time.monotonic() - t0 < 8
        row = client.listing(c)[0]
        assert (row["bytes"], row["hash"]) == (len(body), md5hex(body)), row
        r = client.request("GET", f"{c}/o")
        assert (r.status, r.body) == (200, body)
        assert data_files(intents) == []
        log = srv.read_error_log(log_from)
        assert "crash recovery: reconciled 1 interrupted writes" in log, log[-2000:]
    finally:
        stop_after_kills(srv, killed)
