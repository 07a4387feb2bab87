"""Logs: the X-Trans-Id in the access log and in the error-log lines
Stowage writes for a request; keys from the configuration never logged."""

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import (APACHE, CONFIG_SCRIPT, HTTP, RawConnection, build_request, free_ports,
                     unique)

pytestmark = pytest.mark.apache

SECRET = "s3cr3t-Key-That-Must-Not-Leak"


def wait_for(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def test_trans_id_in_access_and_error_logs(server_factory):
    srv = server_factory(extra_conf=f"StowageUser log:user {SECRET} .admin\n",
                         loglevel="info stowage:debug")
    _, token = srv.auth("log:user", SECRET)
    h = HTTP(srv.port)
    c = unique("log")
    r = h.request("PUT", f"/v1/AUTH_log/{c}", {"X-Auth-Token": token})
    assert r.status == 201
    tx = r.header("X-Trans-Id")
    assert re.fullmatch(r"tx[0-9a-f]{21}-[0-9a-f]{10}", tx)
    access = srv.outdir / "access.log"
    assert wait_for(lambda: access.exists() and tx in access.read_text()), \
        access.read_text() if access.exists() else "no access log"
    # A client that gives up mid-body: Stowage logs it, prefixed with the id.
    with RawConnection(srv.port) as conn:
        conn.send(build_request("PUT", f"/v1/AUTH_log/{c}/partial",
                                [("X-Auth-Token", token), ("Content-Length", "100000")],
                                body=b"x" * 10, content_length=False, port=srv.port))
        conn.shutdown_write()
        try:
            conn.read_response()
        except Exception:
            pass

    def logged_with_id():
        for line in access.read_text().splitlines():
            if "/partial" in line:
                ids = re.findall(r"tx[0-9a-f]{21}-[0-9a-f]{10}", line)
                if ids and f"[{ids[0]}]" in srv.read_error_log():
                    return True
        return False
    assert wait_for(logged_with_id), srv.read_error_log()[-3000:]
    # Bad and good credentials, a bad token: the key shows up nowhere.
    srv.http_get("/auth/v1.0", {"X-Auth-User": "log:user", "X-Auth-Key": SECRET + "x"})
    srv.http_get("/auth/v1.0", {"X-Auth-User": "log:user", "X-Auth-Key": SECRET})
    h.request("GET", "/v1/AUTH_log", {"X-Auth-Token": "AUTH_tk" + "1" * 32})
    time.sleep(0.3)
    for f in srv.outdir.iterdir():
        if f.is_file() and f.suffix in (".log", ".conf"):
            if f.suffix == ".conf":
                continue  # the configuration itself holds the key
            assert SECRET not in f.read_text(errors="replace"), f
    assert SECRET not in (srv.stdout_path.read_text(errors="replace")
                          if srv.stdout_path.exists() else "")


def test_key_not_echoed_by_config_errors():
    tmp = Path(tempfile.mkdtemp(prefix="stowage-log-"))
    os.chmod(tmp, 0o755)
    try:
        (tmp / "extra.conf").write_text(f"StowageUser bad:user {SECRET} .root\n")
        res = subprocess.run([str(CONFIG_SCRIPT), str(tmp / "run"), str(free_ports(1)[0]),
                              str(tmp / "data"), str(tmp / "extra.conf")],
                             capture_output=True, text=True, timeout=60, check=True)
        conf = res.stdout.strip().splitlines()[-1]
        t = subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True,
                           timeout=60)
        assert t.returncode != 0
        assert "StowageUser" in t.stderr
        assert SECRET not in t.stderr + t.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
