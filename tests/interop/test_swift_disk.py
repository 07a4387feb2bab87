"""Stowage's Swift on-disk format against Swift 2.38's own code (run by
tests/interop/run.sh with build/swift-venv's Python): no mocks, Swift's
DiskFileManager, DiskFileWriter, swift-object-info, AuditorWorker and
get_hashes on the same devices as Stowage's module (driven through
examples/swift_disk_tool.rs)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

warnings.simplefilter("ignore")

from swift.common import utils  # noqa: E402
from swift.common.utils import Timestamp, lock_path  # noqa: E402
from swift.common.utils import get_logger  # noqa: E402
from swift.common.ring import RingBuilder, Ring  # noqa: E402
from swift.common.swob import str_to_wsgi, wsgi_to_str  # noqa: E402
from swift.common import storage_policy  # noqa: E402

TOOL = os.environ["STOWAGE_SWIFT_DISK_TOOL"]
VENV = os.environ["STOWAGE_SWIFT_VENV"]
PREFIX, SUFFIX = "interop-prefix", "interop-suffix"
PART_POWER = 10
ACCOUNT, CONTAINER = "AUTH_test", "c"

# Set up once per process: Swift reads its swift.conf into module globals.
TOP = tempfile.mkdtemp(prefix="stowage-interop-", dir="/tmp")
SWIFT_DIR = os.path.join(TOP, "etc")
os.makedirs(SWIFT_DIR)
with open(os.path.join(SWIFT_DIR, "swift.conf"), "w") as f:
    f.write(f"""[swift-hash]
swift_hash_path_prefix = {PREFIX}
swift_hash_path_suffix = {SUFFIX}
[storage-policy:0]
name = gold
default = yes
[storage-policy:1]
name = silver
""")
utils.set_swift_dir(SWIFT_DIR)
storage_policy.reload_storage_policies()
from swift.common.storage_policy import POLICIES  # noqa: E402
from swift.obj import diskfile  # noqa: E402
from swift.obj.auditor import AuditorWorker  # noqa: E402
from swift.common.exceptions import (  # noqa: E402
    DiskFileDeleted, DiskFileExpired, DiskFileQuarantined)

for ring_name in ("object", "object-1"):
    b = RingBuilder(PART_POWER, 1, 0)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6200,
               "device": "sda", "weight": 1})
    b.rebalance()
    b.get_ring().save(os.path.join(SWIFT_DIR, ring_name + ".ring.gz"))
RINGS = {p: Ring(SWIFT_DIR, ring_name="object" + ("-%d" % p if p else "")) for p in (0, 1)}


def tearDownModule():
    shutil.rmtree(TOP, ignore_errors=True)


def now(offset=0):
    # Recent enough that cleanup never reclaims a tombstone as too old.
    return Timestamp(time.time() - 100 + offset)


class Devices:
    def __init__(self, name):
        self.root = tempfile.mkdtemp(prefix=name + "-", dir=TOP)
        os.makedirs(os.path.join(self.root, "sda"))
        self.device = os.path.join(self.root, "sda")
        self.conf = {"devices": self.root, "mount_check": "false"}
        self.logger = get_logger({}, log_route="interop")
        self.mgr = diskfile.DiskFileManager(self.conf, self.logger)

    def part(self, obj, policy=0):
        return RINGS[policy].get_part(ACCOUNT, CONTAINER, obj)

    def swift_df(self, obj, policy=0):
        return self.mgr.get_diskfile("sda", self.part(obj, policy), ACCOUNT, CONTAINER, obj,
                                     policy=POLICIES[policy])

    def tool(self, op, obj, policy=0, wait=True, **kw):
        req = dict(op=op, device=self.device, policy=policy, part_power=PART_POWER,
                   prefix=PREFIX, suffix=SUFFIX, account=ACCOUNT, container=CONTAINER,
                   object=obj, **kw)
        args = [TOOL, json.dumps(req)]
        if not wait:
            return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def stowage_put(self, obj, body, metadata, policy=0):
        answer = self.tool("put", obj, policy, body_hex=body.hex(), metadata=metadata)
        assert answer["status"] == "ok", answer
        return answer

    def audit_once(self):
        worker = AuditorWorker(dict(self.conf), self.logger,
                               os.path.join(self.root, "recon"), ["sda"])
        worker.audit_all_objects(mode="once")
        return worker.total_files_processed, worker.quarantines

    def quarantined(self, policy=0):
        d = os.path.join(self.device, "quarantined", "objects" + ("-%d" % policy if policy else ""))
        return sorted(os.listdir(d)) if os.path.isdir(d) else []


def swift_metadata_as_headers(metadata):
    """Swift's metadata, header values as their text (WSGI strings decoded)."""
    return {k: (v if k == "name" else wsgi_to_str(v)) for k, v in metadata.items()}


def headers_as_swift_metadata(headers):
    """What Swift's object server would store for these header values."""
    return {k: (v if k == "name" else str_to_wsgi(v)) for k, v in headers.items()}


OBJ = "obj-\u00e9/x"  # a non-ASCII name with a slash


class StowageWritesSwiftReads(unittest.TestCase):
    def test_objects_read_by_swift_diskfile_info_and_auditor(self):
        devs = Devices("stowage")
        t0, t1, t2 = now(), now(1), now(2)
        body = b"hello interop\n" * 100
        devs.stowage_put(OBJ, body, {
            "X-Timestamp": t0.internal,
            "Content-Type": "text/plain",
            "X-Object-Meta-Color": "bl\u00e9",
            "X-Object-Sysmeta-Owner": "stowage",
            "X-Object-Transient-Sysmeta-Crypto": "t",
            "X-Static-Large-Object": "True",
        })
        devs.tool("post", OBJ, metadata={
            "X-Timestamp": t1.internal,
            "X-Object-Meta-Shape": "round \u00e9",
            "Content-Type": "image/png",
            "Content-Type-Timestamp": t1.internal,
        })
        devs.stowage_put("gone", b"x", {"X-Timestamp": t0.internal, "Content-Type": "a/b"})
        deleted = devs.tool("delete", "gone", timestamp=Timestamp(t2, offset=3).internal)
        self.assertEqual(deleted["status"], "ok", deleted)
        devs.stowage_put("p1", b"policy one", {"X-Timestamp": t0.internal,
                                               "Content-Type": "a/b"}, policy=1)

        # Swift's DiskFile: same bytes, same merged metadata as Stowage's.
        df = devs.swift_df(OBJ)
        df.open()
        self.assertEqual(b"".join(df.reader()), body)
        swift_md = swift_metadata_as_headers(df.get_metadata())
        ours = devs.tool("get", OBJ)
        self.assertEqual(ours["status"], "ok", ours)
        self.assertEqual(bytes.fromhex(ours["body_hex"]), body)
        self.assertEqual(swift_md, ours["metadata"])
        self.assertEqual(swift_md["name"], f"/{ACCOUNT}/{CONTAINER}/{OBJ}")
        self.assertEqual(swift_md["X-Object-Meta-Shape"], "round \u00e9")
        self.assertEqual(swift_md["X-Object-Sysmeta-Owner"], "stowage")
        self.assertEqual(swift_md["Content-Type"], "image/png")
        self.assertNotIn("X-Object-Meta-Color", swift_md, "a POST replaces user metadata")
        self.assertEqual(swift_metadata_as_headers(df.get_datafile_metadata())["X-Object-Meta-Color"],
                         "bl\u00e9")
        self.assertEqual(df.content_type_timestamp, t1)
        # The bytes on disk are what Swift's object server writes for a
        # header "blé": the UTF-8 of its WSGI string.
        raw = diskfile.read_metadata(ours["data_file"])
        self.assertEqual(raw["X-Object-Meta-Color"], str_to_wsgi("bl\u00e9"))

        with self.assertRaises(DiskFileDeleted) as ctx:
            devs.swift_df("gone").open()
        self.assertEqual(ctx.exception.timestamp, Timestamp(t2, offset=3))
        p1 = devs.swift_df("p1", policy=1)
        p1.open()
        self.assertEqual(b"".join(p1.reader()), b"policy one")

        # swift-object-info reads it and finds the ETag valid.
        info = subprocess.run([os.path.join(VENV, "bin", "swift-object-info"), "-d", SWIFT_DIR,
                               ours["data_file"]], capture_output=True, text=True)
        self.assertEqual(info.returncode, 0, info.stdout + info.stderr)
        self.assertIn(f"Path: /{ACCOUNT}/{CONTAINER}/{OBJ}", info.stdout)
        self.assertIn("(valid)", info.stdout)
        self.assertIn("Color: bl\u00e9", info.stdout)

        # Swift's auditor passes every Stowage-written object...
        self.assertEqual(devs.audit_once(), (3, 0), "3 objects audited, none quarantined")
        self.assertEqual(devs.quarantined(), [])
        # ...and quarantines one whose bytes were damaged (same length).
        data = ours["data_file"]
        with open(data, "r+b") as f:
            f.seek(5)
            byte = f.read(1)
            f.seek(5)
            f.write(bytes([byte[0] ^ 0x01]))
        self.assertEqual(devs.audit_once(), (3, 1))
        self.assertEqual(devs.quarantined(), [os.path.basename(os.path.dirname(data))])
        self.assertEqual(devs.tool("get", OBJ)["status"], "not_found")

    def test_stowage_waits_for_swifts_partition_lock(self):
        devs = Devices("locks")
        part_dir = os.path.join(devs.device, "objects", str(devs.part("locked")))
        with lock_path(part_dir):
            proc = devs.tool("put", "locked", wait=False, body_hex="6869",
                             metadata={"X-Timestamp": now().internal, "Content-Type": "a/b"})
            time.sleep(1.0)
            self.assertIsNone(proc.poll(), "the write waits for Swift's .lock")
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(json.loads(out)["status"], "ok")
        df = devs.swift_df("locked")
        df.open()
        self.assertEqual(b"".join(df.reader()), b"hi")


class SwiftWritesStowageReads(unittest.TestCase):
    def test_objects_written_by_swift_read_by_stowage(self):
        devs = Devices("swift")
        t0, t1, t2 = now(), now(1), now(2)
        body = os.urandom(70000)
        df = devs.swift_df(OBJ)
        headers = {
            "X-Timestamp": t0.internal,
            "Content-Type": "application/octet-stream",
            "X-Object-Meta-Color": "bl\u00e9",
            "X-Object-Sysmeta-Owner": "swift",
        }
        with df.create() as w:
            w.write(body)
            size, etag = w.chunks_finished()
            md = headers_as_swift_metadata(headers)
            md.update({"Content-Length": str(size), "ETag": etag})
            w.put(md)
        df.write_metadata(headers_as_swift_metadata({
            "X-Timestamp": t1.internal, "X-Object-Meta-Shape": "square",
            # A POST replaces X-Delete-At too (it is not data-file metadata).
            "X-Delete-At": str(int(time.time()) + 3600),
            "Content-Type": "text/html", "Content-Type-Timestamp": t1.internal}))
        gone = devs.swift_df("gone")
        with gone.create() as w:
            w.write(b"x")
            w.put({"X-Timestamp": t0.internal, "Content-Length": "1",
                   "ETag": utils.md5(b"x", usedforsecurity=False).hexdigest(),
                   "Content-Type": "a/b"})
        gone.delete(t2)

        ours = devs.tool("get", OBJ)
        self.assertEqual(ours["status"], "ok", ours)
        self.assertEqual(bytes.fromhex(ours["body_hex"]), body)
        df = devs.swift_df(OBJ)
        df.open()
        self.assertEqual(ours["metadata"], swift_metadata_as_headers(df.get_metadata()))
        self.assertEqual(ours["datafile_metadata"],
                         swift_metadata_as_headers(df.get_datafile_metadata()))
        self.assertEqual(ours["metadata"]["Content-Type"], "text/html")
        self.assertEqual(ours["datafile_metadata"]["X-Object-Meta-Color"], "bl\u00e9")
        self.assertEqual(ours["metadata"]["ETag"], utils.md5(body, usedforsecurity=False).hexdigest())
        # Swift's X-Delete-At: expired an hour and a second from now.
        later = devs.tool("get", OBJ, now=time.time() + 3601)
        self.assertEqual(later["status"], "expired", later.get("detail"))
        with self.assertRaises(DiskFileExpired):
            devs.swift_df(OBJ).open(current_time=time.time() + 3601)
        gone_answer = devs.tool("get", "gone")
        self.assertEqual(gone_answer["status"], "deleted", gone_answer)
        self.assertEqual(gone_answer["timestamp"], t2.internal)


class SameTracesForTheReplicator(unittest.TestCase):
    def test_hashes_invalid_and_suffix_hashes_match_swifts(self):
        swift, stowage = Devices("swift-side"), Devices("stowage-side")
        t0, t1, t2 = now(), now(1), now(2)
        names = ["a", "b", OBJ, "c"]
        for name in names:
            md = {"X-Timestamp": t0.internal, "Content-Type": "a/b"}
            df = swift.swift_df(name)
            with df.create() as w:
                w.write(name.encode())
                size, etag = w.chunks_finished()
                w.put(dict(md, **{"Content-Length": str(size), "ETag": etag}))
            stowage.stowage_put(name, name.encode(), md)
        swift.swift_df("b").write_metadata({"X-Timestamp": t1.internal, "X-Object-Meta-M": "1"})
        stowage.tool("post", "b", metadata={"X-Timestamp": t1.internal, "X-Object-Meta-M": "1"})
        swift.swift_df("c").delete(t2)
        stowage.tool("delete", "c", timestamp=t2.internal)

        parts = sorted({swift.part(n) for n in names})
        for part in parts:
            inv = [open(os.path.join(d.device, "objects", str(part), "hashes.invalid")).read()
                   for d in (swift, stowage)]
            self.assertEqual(inv[0], inv[1], f"partition {part}")
            self.assertTrue(inv[0])
            # Every hash directory holds the same file names.
            trees = []
            for d in (swift, stowage):
                top = os.path.join(d.device, "objects", str(part))
                trees.append(sorted(os.path.relpath(os.path.join(r, f), top)
                                    for r, _, fs in os.walk(top) for f in fs
                                    if f not in (".lock",)))
            self.assertEqual(trees[0], trees[1])
            # Swift's replicator would find both replicas in sync.
            hashes = [d.mgr.get_hashes("sda", part, [], POLICIES[0]) for d in (swift, stowage)]
            self.assertEqual(hashes[0], hashes[1], f"partition {part}")
            self.assertTrue(all(hashes[0].values()))


def py2_pickle(metadata):
    """The protocol-2 pickle Swift on Python 2 wrote: every key and value a
    py2 str (SHORT_BINSTRING / BINSTRING), no _codecs.encode."""
    out = bytearray(b"\x80\x02}q\x01(")
    for k, v in metadata.items():
        for item in (k, v):
            if len(item) < 256:
                out += b"U" + bytes([len(item)]) + item
            else:
                out += b"T" + len(item).to_bytes(4, "little") + item
    return bytes(out + b"u.")


class OlderFormsReadAlike(unittest.TestCase):
    def _hand_made(self, devs, obj, body, pickled, checksum):
        """An object file whose xattrs were written by an older Swift."""
        part = devs.part(obj)
        h = utils.hash_path(ACCOUNT, CONTAINER, obj)
        d = os.path.join(devs.device, "objects", str(part), h[-3:], h)
        os.makedirs(d)
        path = os.path.join(d, now().internal + ".data")
        with open(path, "wb") as f:
            f.write(body)
        os.setxattr(path, "user.swift.metadata", pickled)
        if checksum:
            os.setxattr(path, "user.swift.metadata_checksum",
                        utils.md5(pickled, usedforsecurity=False).hexdigest().encode())
        return path

    def test_python2_pickles_and_missing_checksums(self):
        devs = Devices("old")
        body = b"written by python 2"
        name = f"/{ACCOUNT}/{CONTAINER}/py2-\u00e9".encode("utf-8")
        raw = {b"name": name, b"X-Timestamp": now().internal.encode(),
               b"Content-Length": str(len(body)).encode(),
               b"ETag": utils.md5(body, usedforsecurity=False).hexdigest().encode(),
               b"Content-Type": b"text/plain",
               b"X-Object-Meta-Old": "caf\u00e9".encode("utf-8")}
        for obj, checksum in (("py2-\u00e9", False), ("py2-\u00e9", True)):
            shutil.rmtree(os.path.join(devs.device, "objects"), ignore_errors=True)
            raw[b"name"] = f"/{ACCOUNT}/{CONTAINER}/{obj}".encode("utf-8")
            self._hand_made(devs, obj, body, py2_pickle(raw), checksum)
            df = devs.swift_df(obj)
            df.open()
            swift_md = swift_metadata_as_headers(df.get_metadata())
            ours = devs.tool("get", obj)
            self.assertEqual(ours["status"], "ok", ours.get("detail"))
            self.assertEqual(ours["metadata"], swift_md)
            self.assertEqual(bytes.fromhex(ours["body_hex"]), body)
            self.assertEqual(swift_md["name"], f"/{ACCOUNT}/{CONTAINER}/{obj}")
            self.assertEqual(swift_md["X-Object-Meta-Old"], "caf\u00e9")

    def test_a_wrong_checksum_is_quarantined_by_both(self):
        for reader in ("swift", "stowage"):
            devs = Devices("badsum-" + reader)
            devs.stowage_put("o", b"abc", {"X-Timestamp": now().internal, "Content-Type": "a/b"})
            data = devs.tool("get", "o")["data_file"]
            os.setxattr(data, "user.swift.metadata_checksum", b"0" * 32)
            if reader == "swift":
                with self.assertRaises(DiskFileQuarantined):
                    devs.swift_df("o").open()
            else:
                self.assertEqual(devs.tool("get", "o")["status"], "quarantined")
            self.assertEqual(devs.quarantined(), [os.path.basename(os.path.dirname(data))])


class MixedHistory(unittest.TestCase):
    def test_swift_and_stowage_take_turns_on_one_object(self):
        devs = Devices("mixed")
        t = [now(i) for i in range(5)]
        devs.stowage_put("o", b"one", {"X-Timestamp": t[0].internal, "Content-Type": "a/b",
                                       "X-Object-Meta-Who": "stowage"})
        devs.swift_df("o").write_metadata({"X-Timestamp": t[1].internal,
                                           "X-Object-Meta-Who": "swift"})
        ours = devs.tool("get", "o")
        self.assertEqual(ours["metadata"]["X-Object-Meta-Who"], "swift")
        df = devs.swift_df("o")
        with df.create() as w:
            w.write(b"two")
            w.put({"X-Timestamp": t[2].internal, "Content-Length": "3", "Content-Type": "c/d",
                   "ETag": utils.md5(b"two", usedforsecurity=False).hexdigest()})
        ours = devs.tool("get", "o")
        self.assertEqual(bytes.fromhex(ours["body_hex"]), b"two")
        self.assertNotIn("X-Object-Meta-Who", ours["metadata"])
        hash_dir = os.path.dirname(ours["data_file"])
        self.assertEqual(os.listdir(hash_dir), [t[2].internal + ".data"],
                         "Swift's cleanup removed Stowage's older files")
        self.assertEqual(devs.tool("delete", "o", timestamp=t[3].internal)["status"], "ok")
        self.assertEqual(os.listdir(hash_dir), [t[3].internal + ".ts"],
                         "Stowage's cleanup removed Swift's older files")
        with self.assertRaises(DiskFileDeleted) as ctx:
            devs.swift_df("o").open()
        self.assertEqual(ctx.exception.timestamp, t[3])
        devs.stowage_put("o", b"three", {"X-Timestamp": t[4].internal, "Content-Type": "e/f"})
        df = devs.swift_df("o")
        df.open()
        self.assertEqual(b"".join(df.reader()), b"three")
        self.assertEqual(os.listdir(hash_dir), [t[4].internal + ".data"])


class SwiftsObjectServer(unittest.TestCase):
    """Swift's object server (its WSGI app, in process) on the same device."""

    def request(self, devs, method, obj, headers=None, body=None):
        from swift.common.swob import Request
        from swift.obj.server import ObjectController
        app = ObjectController(dict(devs.conf), logger=devs.logger)
        path = "/sda/%d/%s/%s/%s" % (devs.part(obj), ACCOUNT, CONTAINER, str_to_wsgi(obj))
        req = Request.blank(path, method=method, body=body,
                            headers={k: str_to_wsgi(v) for k, v in (headers or {}).items()})
        return req.get_response(app)

    def test_headers_stored_by_swifts_server_read_by_stowage_and_back(self):
        devs = Devices("server")
        t0, t1, t2 = now(), now(1), now(2)
        resp = self.request(devs, "PUT", OBJ, {
            "X-Timestamp": t0.internal, "Content-Type": "text/plain", "Content-Length": "5",
            "X-Object-Meta-Color": "bl\u00e9", "Content-Disposition": "inline"}, b"hello")
        self.assertEqual(resp.status_int, 201, resp.body)
        ours = devs.tool("get", OBJ)
        self.assertEqual(ours["metadata"]["X-Object-Meta-Color"], "bl\u00e9",
                         "Swift's server stores header values as WSGI strings")
        self.assertEqual(ours["metadata"]["Content-Disposition"], "inline")
        self.assertEqual(bytes.fromhex(ours["body_hex"]), b"hello")
        resp = self.request(devs, "POST", OBJ, {"X-Timestamp": t1.internal,
                                                "Content-Type": "image/png"})
        self.assertEqual(resp.status_int, 202, resp.body)
        ours = devs.tool("get", OBJ)
        self.assertEqual(ours["metadata"]["Content-Type"], "image/png")
        self.assertEqual(ours["metadata"]["Content-Type-Timestamp"], t1.internal)

        # Stowage writes; Swift's server answers GET, HEAD and 404 from it.
        devs.stowage_put("s", b"from stowage", {
            "X-Timestamp": t0.internal, "Content-Type": "text/csv",
            "X-Object-Meta-Color": "bl\u00e9", "Content-Encoding": "gzip"})
        resp = self.request(devs, "GET", "s")
        self.assertEqual(resp.status_int, 200)
        self.assertEqual(resp.body, b"from stowage")
        self.assertEqual(wsgi_to_str(resp.headers["X-Object-Meta-Color"]), "bl\u00e9")
        self.assertEqual(resp.headers["Content-Type"], "text/csv")
        self.assertEqual(resp.headers["Content-Encoding"], "gzip")
        self.assertEqual(resp.headers["X-Backend-Timestamp"], t0.internal)
        self.assertEqual(resp.etag, utils.md5(b"from stowage", usedforsecurity=False).hexdigest())
        devs.tool("delete", "s", timestamp=Timestamp(t2, offset=1).internal)
        resp = self.request(devs, "HEAD", "s")
        self.assertEqual(resp.status_int, 404)
        self.assertEqual(resp.headers["X-Backend-Timestamp"], Timestamp(t2, offset=1).internal)
        # Swift's server refuses a write older than Stowage's tombstone.
        resp = self.request(devs, "PUT", "s", {"X-Timestamp": t1.internal, "Content-Length": "1",
                                               "Content-Type": "a/b"}, b"x")
        self.assertEqual(resp.status_int, 409)


if __name__ == "__main__":
    unittest.main()
