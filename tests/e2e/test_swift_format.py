"""Stowage's objects are Swift's (issue 20): what Apache+Stowage stores is
read by Swift's own code from build/swift-venv (DiskFileManager/DiskFile,
swift-object-info) with the same bytes and metadata, and Swift's object
auditor quarantines nothing on a Stowage root after a mixed workload (PUT
with metadata, POST, DELETE, expiry, SLO), while a flipped byte is caught.
A root in Stowage's old object format is refused at start."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import (APACHE, CONFIG_SCRIPT, REPO, free_ports, hash_path_salt, md5hex,
                     unique, wait_until)

pytestmark = pytest.mark.apache

SWIFT_VENV = Path(os.environ.get("STOWAGE_DIFF_SWIFT_VENV", REPO / "build" / "swift-venv"))
SWIFT_PY = SWIFT_VENV / "bin" / "python"
OBJECT_INFO = SWIFT_VENV / "bin" / "swift-object-info"
PART_POWER = 10

# Runs inside Swift's venv: Swift's own code reads the Stowage root.
SWIFT_SIDE = r'''
import json, os, sys
cfg = json.loads(sys.argv[1])
with open(os.path.join(cfg["swift_dir"], "swift.conf"), "w") as f:
    f.write("[swift-hash]\nswift_hash_path_prefix = %s\nswift_hash_path_suffix = %s\n"
            "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
            % (cfg["prefix"], cfg["suffix"]))
from swift.common import utils, storage_policy
utils.set_swift_dir(cfg["swift_dir"])
storage_policy.reload_storage_policies()
from swift.common.storage_policy import POLICIES
from swift.common.ring import RingBuilder, Ring
from swift.common.utils import get_logger
from swift.obj import diskfile
from swift.obj.auditor import AuditorWorker

conf = {"devices": cfg["devices"], "mount_check": "false",
        # No rate limit: the test waits for the pass.
        "files_per_second": "100000", "bytes_per_second": "1000000000"}
logger = get_logger({}, log_route="e2e-swift-format")
if cfg["op"] == "read":
    ring_path = os.path.join(cfg["swift_dir"], "object.ring.gz")
    if not os.path.exists(ring_path):
        b = RingBuilder(cfg["part_power"], 1, 0)
        b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6200,
                   "device": cfg["device"], "weight": 1})
        b.rebalance()
        b.get_ring().save(ring_path)
    ring = Ring(cfg["swift_dir"], ring_name="object")
    mgr = diskfile.DiskFileManager(conf, logger)
    out = {}
    for a, c, o in cfg["objects"]:
        part = ring.get_part(a, c, o)
        df = mgr.get_diskfile(cfg["device"], part, a, c, o, policy=POLICIES[0])
        try:
            with df.open():
                md = df.get_metadata()
                body = b"".join(df.reader())
            out[o] = {"metadata": md, "body_hex": body.hex(), "data_file": df._data_file}
        except Exception as e:
            out[o] = {"error": type(e).__name__}
    print(json.dumps(out))
else:
    w = AuditorWorker(dict(conf), logger, os.path.join(cfg["swift_dir"], "recon"),
                      [cfg["device"]])
    w.audit_all_objects(mode="once")
    print(json.dumps({"processed": w.total_files_processed, "quarantines": w.quarantines}))
'''

needs_swift = pytest.mark.skipif(not SWIFT_PY.exists(),
                                 reason=f"Swift's venv {SWIFT_VENV} is not installed")


class SwiftSide:
    """Swift's code pointed at one Stowage root: a devices dir whose one
    device is a link to the root."""

    def __init__(self, srv):
        self.top = Path(tempfile.mkdtemp(prefix="stowage-e2e-swift-"))
        self.swift_dir = self.top / "etc"
        self.swift_dir.mkdir()
        self.devices = self.top / "devices"
        self.devices.mkdir()
        self.device = "stowage"
        (self.devices / self.device).symlink_to(srv.datadir)
        self.prefix, self.suffix = hash_path_salt(srv.datadir)

    def run(self, op: str, **kw) -> dict:
        cfg = dict(op=op, swift_dir=str(self.swift_dir), devices=str(self.devices),
                   device=self.device, prefix=self.prefix, suffix=self.suffix,
                   part_power=PART_POWER, **kw)
        res = subprocess.run([str(SWIFT_PY), "-c", SWIFT_SIDE, json.dumps(cfg)],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert res.returncode == 0, res.stderr[-3000:]
        return json.loads(res.stdout.strip().splitlines()[-1])

    def read(self, container: str, names: list, account: str = "AUTH_test") -> dict:
        return self.run("read", objects=[[account, container, n] for n in names])

    def audit(self) -> tuple:
        r = self.run("audit")
        return r["processed"], r["quarantines"]


@pytest.fixture
def swift_side(server):
    side = SwiftSide(server)
    yield side
    subprocess.run(["rm", "-rf", str(side.top)], check=False)


@needs_swift
def test_an_object_put_through_apache_is_read_by_swifts_own_code(server, swift, container,
                                                                  swift_side):
    body = os.urandom(70_000)
    assert swift.put_object(container, "dir/ö", body, {
        "Content-Type": "application/x-test",
        "X-Object-Meta-Color": "bl\u00e9".encode().decode("latin-1"),
        "X-Object-Meta-Plain": "yes",
        "Content-Disposition": "inline",
    }).status == 201
    got = swift_side.read(container, ["dir/ö"])["dir/ö"]
    assert "error" not in got, got
    assert bytes.fromhex(got["body_hex"]) == body
    md = got["metadata"]
    assert md["name"] == f"/AUTH_test/{container}/dir/ö"
    assert md["ETag"] == md5hex(body)
    assert md["Content-Length"] == str(len(body))
    assert md["Content-Type"] == "application/x-test"
    assert md["Content-Disposition"] == "inline"
    assert md["X-Object-Meta-Plain"] == "yes"
    # Header values as Swift's object server keeps them (WSGI strings).
    assert md["X-Object-Meta-Color"].encode("latin-1") == "bl\u00e9".encode()
    r = swift.request("HEAD", f"{container}/dir/ö")
    assert md["X-Timestamp"] == r.header("X-Timestamp")

    # A POST: Swift merges the .meta as Stowage does.
    assert swift.request("POST", f"{container}/dir/ö",
                         {"X-Object-Meta-After": "posted",
                          "Content-Type": "text/x-new"}).status == 202
    md = swift_side.read(container, ["dir/ö"])["dir/ö"]["metadata"]
    assert md["X-Object-Meta-After"] == "posted" and "X-Object-Meta-Plain" not in md
    assert md["Content-Type"] == "text/x-new" and md["ETag"] == md5hex(body)

    # swift-object-info finds the name, the metadata and a valid ETag.
    info = subprocess.run([str(OBJECT_INFO), "-d", str(swift_side.swift_dir),
                           got["data_file"]], capture_output=True, text=True, timeout=120)
    assert info.returncode == 0, info.stdout + info.stderr
    assert f"Path: /AUTH_test/{container}/dir/ö" in info.stdout, info.stdout
    assert "(valid)" in info.stdout, info.stdout
    assert "Color: bl\u00e9" in info.stdout, info.stdout

    # A DELETE: Swift sees the tombstone.
    assert swift.request("DELETE", f"{container}/dir/ö").status == 204
    assert swift_side.read(container, ["dir/ö"])["dir/ö"] == {"error": "DiskFileDeleted"}


@needs_swift
def test_swifts_auditor_quarantines_nothing_after_a_mixed_workload(server_factory):
    # A root of its own: the auditor walks every object on it.
    server = server_factory()
    swift = server.client()
    swift_side = SwiftSide(server)
    c = unique("audit")
    assert swift.put_container(c).status == 201
    names = []
    for i in range(6):
        name = f"o{i}"
        assert swift.put_object(c, name, os.urandom(1000 + i * 4000),
                                {"X-Object-Meta-I": str(i)}).status == 201
        names.append(name)
    # Overwrites, POSTs (one with a new type), a DELETE.
    assert swift.put_object(c, "o0", b"second version").status == 201
    assert swift.request("POST", f"{c}/o1", {"X-Object-Meta-P": "1"}).status == 202
    assert swift.request("POST", f"{c}/o2", {"Content-Type": "text/x-post"}).status == 202
    assert swift.request("DELETE", f"{c}/o3").status == 204
    # Expiry: one far off, one swept now.
    assert swift.put_object(c, "later", b"l", {"X-Delete-At": "9999999999"}).status == 201
    assert swift.put_object(c, "soon", b"s", {"X-Delete-After": "1"}).status == 201
    time.sleep(1.5)
    assert swift.request("GET", f"{c}/soon").status == 404
    assert wait_until(lambda: "soon" not in [o["name"] for o in swift.listing(c)], 15)
    # An SLO: segments and a manifest.
    segs = [os.urandom(1024 * 1024) for _ in range(2)]
    manifest = []
    for i, seg in enumerate(segs):
        assert swift.put_object(c, f"seg/{i}", seg).status == 201
        manifest.append({"path": f"/{c}/seg/{i}", "etag": md5hex(seg), "size_bytes": len(seg)})
    r = swift.request("PUT", f"{c}/slo", body=json.dumps(manifest).encode(),
                      query="multipart-manifest=put")
    assert r.status == 201, r
    assert swift.request("GET", f"{c}/slo").body == b"".join(segs)

    live = ["o0", "o1", "o2", "o4", "o5", "later", "seg/0", "seg/1", "slo"]
    read = swift_side.read(c, live + ["o3", "soon"])
    for name in live:
        assert "error" not in read[name], (name, read[name])
    assert read["o0"]["body_hex"] == b"second version".hex()
    assert read["o2"]["metadata"]["Content-Type"] == "text/x-post"
    assert read["slo"]["metadata"]["X-Static-Large-Object"] == "True"
    assert read["o3"] == {"error": "DiskFileDeleted"}
    assert read["soon"] == {"error": "DiskFileDeleted"}

    processed, quarantines = swift_side.audit()
    assert quarantines == 0
    assert processed >= len(live)
    assert not (server.datadir / "quarantined").exists() or not any(
        (server.datadir / "quarantined").rglob("*.data"))
    # Every hash directory holds only Swift's own kinds of files.
    for f in (server.datadir / "objects").rglob("*"):
        if f.is_file():
            assert f.suffix in (".data", ".meta", ".ts") or f.name in (
                "hashes.invalid", "hashes.pkl", ".lock"), f

    # The auditor is really checking: a flipped byte is quarantined.
    data = Path(read["o4"]["data_file"])
    with open(data, "r+b") as f:
        f.seek(10)
        b = f.read(1)
        f.seek(10)
        f.write(bytes([b[0] ^ 1]))
    processed, quarantines = swift_side.audit()
    assert quarantines == 1
    assert not data.exists()
    assert swift.request("GET", f"{c}/o4").status == 404
    subprocess.run(["rm", "-rf", str(swift_side.top)], check=False)


def test_a_root_in_the_old_object_format_is_refused_at_start():
    """No migration: a root holding Stowage's old layout is refused with a
    message, never served as if empty."""
    top = Path(tempfile.mkdtemp(prefix="stowage-e2e-old-"))
    try:
        os.chmod(top, 0o755)
        datadir = top / "data"
        h = "c986cba3005b6c92e63df5b00b653e6b"
        old = datadir / "objects" / h[29:] / h
        old.mkdir(parents=True)
        (old / "1700000000.00000.data").write_bytes(b"hello" + b"{}" + b"\x02\0\0\0STOWAGE1")
        subprocess.run(["chown", "-R", "www-data:www-data", str(datadir)], check=True)
        os.chmod(datadir, 0o700)
        out = top / "conf"
        gen = subprocess.run([str(CONFIG_SCRIPT), str(out), str(free_ports(1)[0]),
                              str(datadir)], capture_output=True, text=True, timeout=60)
        assert gen.returncode == 0, gen.stderr
        conf = gen.stdout.strip().splitlines()[-1]
        res = subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode != 0, res
        assert "old format" in res.stderr and "no migration" in res.stderr.lower(), res.stderr
        assert (old / "1700000000.00000.data").exists(), "a refused start touches nothing"
    finally:
        subprocess.run(["rm", "-rf", str(top)], check=False)
