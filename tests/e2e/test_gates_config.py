"""StowageGate directive checking (`apache2 -t`) and the gate figures on
mod_status's page and the JSON status endpoint (release build)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import APACHE, CONFIG_SCRIPT, free_ports

pytestmark = pytest.mark.apache


def config_test(extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="stowage-gatecfg-") as d:
        Path(d).chmod(0o755)
        inc = Path(d) / "extra.conf"
        inc.write_text(extra)
        conf = subprocess.run([str(CONFIG_SCRIPT), f"{d}/run", str(free_ports()[0]),
                               f"{d}/data", str(inc)], capture_output=True, text=True,
                              check=True).stdout.split()[-1]
        return subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True)


@pytest.mark.parametrize("line,needle", [
    ("StowageGate object limit=0", "limit must be 1 to 512"),
    ("StowageGate object limit=100000", "limit must be 1 to 512"),
    ("StowageGate object limit=-3", "limit must be 1 to 512"),
    ("StowageGate object queue=5000", "queue must be 0 to 1023"),
    ("StowageGate container wait=0ms", "wait must be a duration"),
    ("StowageGate container wait=10min", "wait must be a duration"),
    ("StowageGate account limit", "expected key=value"),
    ("StowageGate account colour=red", "unknown key colour"),
    ("StowageGate disk limit=4", "unknown gate"),
    ("StowageGate object", "nothing to set"),
    ("StowageGate", "StowageGate takes"),
    ("StowageGate object limit=512 queue=1000", "must not exceed 1024"),
    ("StowageGate object-write limit=600", "limit must be 1 to 512"),
    ("StowageGate object-read queue=x", "queue must be 0 to 1023"),
    ("StowageGate objects limit=4", "unknown gate"),
    ("StowageGate object-write yield=soon", "yield must be off or runnable threads per CPU"),
    ("StowageGate object-write yield=0.2", "from 0.5 to 64"),
    ("StowageGate object-write yield=100", "from 0.5 to 64"),
    # Until 2026-12-01 yield was a CPU wait; an old config fails loudly.
    ("StowageGate object-write yield=250us", "no longer a duration"),
    ("StowageGate container yield=2", "object-write gate only"),
    ("StowageGate object-read yield=off", "object-write gate only"),
    ("StowageGate container scope=node", "scope must be db or vhost"),
    ("StowageGate object scope=db", "container and account gates only"),
])
def test_bad_gate_directives_fail_the_config_test(line, needle):
    res = config_test(line + "\n")
    assert res.returncode != 0, res
    out = res.stdout + res.stderr
    assert "Syntax error on line 1" in out, out
    assert needle in out, out


def test_good_gate_directives_pass():
    res = config_test("StowageGate object limit=16 queue=128 wait=2s\n"
                      "StowageGate object-write limit=64\nStowageGate object-read off\n"
                      "StowageGate container wait=500ms\nStowageGate account off\n"
                      "StowageGate object-write yield=2.5\nStowageGate object yield=off\n"
                      "StowageGate container scope=vhost\nStowageGate account scope=db limit=4\n")
    assert res.returncode == 0, res.stdout + res.stderr


def test_status_json(server, swift, container):
    swift.put_object(container, "s", b"x")
    status, headers, body = server.http_get("/stowage-status")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    import json
    doc = json.loads(body)
    assert set(doc["gates"]) == {"object-read", "object-write", "container", "account"}
    obj = doc["gates"]["object-write"]
    for key in ("limit", "limit_now", "yield_per_cpu", "yield_cuts", "queue_max", "wait_max_ms",
                "in_flight", "parked", "stepped_back", "queued", "admitted", "shed",
                "timed_out", "reclaimed", "wait_us"):
        assert key in obj, key
    assert obj["admitted"] >= 1
    # The write gate yields by default (1.5 runnable threads per CPU); the
    # others have fixed limits.
    assert obj["yield_per_cpu"] == 1.5
    assert 1 <= obj["limit_now"] <= obj["limit"]
    for other in ("object-read", "container", "account"):
        g = doc["gates"][other]
        assert g["yield_per_cpu"] is None and g["limit_now"] == g["limit"], (other, g)
    assert set(obj["wait_us"]) == {"p50", "p90", "p99"}
    # Containers and accounts queue per database by default.
    assert obj["queue_per"] == "device"
    assert doc["gates"]["container"]["queue_per"] == "db"
    assert doc["gates"]["account"]["queue_per"] == "db"


def test_status_json_refuses_other_methods(server):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        c.request("POST", "/stowage-status", body=b"")
        r = c.getresponse()
        r.read()
        assert r.status == 405
        assert r.getheader("Allow") == "GET, HEAD"
    finally:
        c.close()


def test_mod_status_has_a_stowage_section(server):
    status, _, body = server.http_get("/server-status")
    assert status == 200
    html = body.decode()
    assert "Stowage admission gates" in html
    for col in ("queue per", "limit now", "in flight", "parked", "queued", "admitted", "shed",
                "timed out", "wait p99"):
        assert col in html, col
    status, _, body = server.http_get("/server-status?auto")
    assert status == 200
    lines = dict(ln.split(": ", 1) for ln in body.decode().splitlines() if ": " in ln)
    for key in ("Stowage0ObjectReadLimit", "Stowage0ObjectWriteInFlight",
                "Stowage0ContainerShed", "Stowage0AccountWaitP99us",
                "Stowage0ObjectReadTimedOut", "Stowage0ObjectWriteLimitNow",
                "Stowage0ObjectWriteYieldCuts", "Stowage0ContainerQueuePer",
                "Stowage0ObjectWriteParked", "Stowage0ObjectWriteSteppedBack"):
        assert key in lines, key
