"""Stowage's backend object node (StowageObjectServer) against Swift 2.38's own
code, no mocks: Apache + mod_stowage on a free loopback port serving one
device, driven by Swift's swift.common.direct_client (what the proxy's
backend requests are); Swift's ObjectController, in process, reading what
Stowage wrote on the same device and writing what Stowage then reads; a
container update that fails leaving Swift's async_pending pickle, which
Swift's own `swift-object-updater once` delivers to Swift's container
server. Run by tests/cluster/object_node.sh with build/swift-venv's Python,
as root (Apache's workers run as www-data, so Swift's code here writes as
www-data too: the devices are shared by one user, as on a real node)."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import warnings

warnings.simplefilter("ignore")

from swift.common import utils  # noqa: E402
from swift.common import storage_policy  # noqa: E402
from swift.common.utils import Timestamp, hash_path  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.environ.get("SWIFT_VENV", os.path.join(REPO, "build", "swift-venv"))
PREFIX, SUFFIX = "objnode-prefix", "objnode-suffix"
ACCOUNT, CONTAINER = "AUTH_test", "c"
PART = 3

TOP = tempfile.mkdtemp(prefix="stowage-objnode-", dir="/tmp")
ETC = os.path.join(TOP, "etc")
DEVICES = os.path.join(TOP, "devices")
DEVICE = os.path.join(DEVICES, "sda")
os.makedirs(ETC)
os.makedirs(DEVICE)
SWIFT_CONF = os.path.join(ETC, "swift.conf")
with open(SWIFT_CONF, "w") as f:
    f.write(f"[swift-hash]\nswift_hash_path_prefix = {PREFIX}\n"
            f"swift_hash_path_suffix = {SUFFIX}\n"
            "[storage-policy:0]\nname = gold\ndefault = yes\n"
            "[storage-policy:1]\nname = silver\n")
utils.SWIFT_CONF_FILE = SWIFT_CONF
utils.set_swift_dir(ETC)
utils.validate_hash_conf()
storage_policy.reload_storage_policies()

from swift.common import direct_client  # noqa: E402
from swift.common.direct_client import DirectClientException  # noqa: E402
from swift.common.swob import Request  # noqa: E402
from swift.common.ring import RingBuilder  # noqa: E402
from swift.obj import server as object_server  # noqa: E402

WWW = pwd.getpwnam("www-data")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never opened")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class AsWww:
    """Swift's in-process code writes as Apache's workers do."""

    def __enter__(self):
        os.setegid(WWW.pw_gid)
        os.seteuid(WWW.pw_uid)

    def __exit__(self, *exc):
        os.seteuid(0)
        os.setegid(0)


PORT = free_port()
APACHE = None


def start_backend(name, port, extra_lines=""):
    """Apache + mod_stowage as a backend object server for DEVICES."""
    out = os.path.join(TOP, name)
    os.makedirs(out)
    extra = os.path.join(out, "backend.conf")
    with open(extra, "w") as f:
        f.write(f"StowageObjectServer {DEVICES}\nStowageSwiftConf {SWIFT_CONF}\n" + extra_lines)
    r = subprocess.run([os.path.join(REPO, "scripts", "apache-config.sh"), out, str(port),
                        os.path.join(TOP, name + "-root"), extra],
                       capture_output=True, text=True, check=True)
    conf = r.stdout.strip()
    apache = shutil.which("apache2") or "/usr/sbin/apache2"
    proc = subprocess.Popen([apache, "-f", conf, "-DFOREGROUND"], start_new_session=True)
    wait_port(port, proc)
    return proc


def setUpModule():
    global APACHE
    subprocess.run(["chown", "-R", "www-data:www-data", TOP], check=True)
    os.chmod(TOP, 0o755)
    APACHE = start_backend("apache", PORT)


def tearDownModule():
    if APACHE is not None:
        stop(APACHE)
    if os.environ.get("KEEP") != "1":
        shutil.rmtree(TOP, ignore_errors=True)
    else:
        sys.stderr.write(f"kept {TOP}\n")


def node(device="sda"):
    return {"ip": "127.0.0.1", "port": PORT, "device": device}


def ts(offset=0.0):
    return Timestamp(time.time() + offset)


def put(obj, body=b"hello", t=None, headers=None, device="sda", port=None):
    h = {"X-Timestamp": (t or ts()).internal}
    h.update(headers or {})
    to = dict(node(device), port=port or PORT)
    return direct_client.direct_put_object(to, PART, ACCOUNT, CONTAINER, obj, body,
                                           content_type="text/plain", headers=h)


def status_of(call):
    try:
        call()
    except DirectClientException as e:
        return e.http_status, e.http_headers
    return None, {}


def swift_controller():
    conf = {"devices": DEVICES, "mount_check": "false", "swift_dir": ETC}
    return object_server.ObjectController(conf, logger=utils.get_logger({}, log_route="t"))


class ObjectNodeProtocol(unittest.TestCase):

    def test_put_head_get_post_delete(self):
        t1, t2, t3 = ts(-30), ts(-20), ts(-10)
        etag = put("o1", b"hello", t1, {"X-Object-Meta-Color": "blue",
                                         "X-Object-Sysmeta-Thing": "kept",
                                         "X-Object-Transient-Sysmeta-T": "tt",
                                         "Content-Disposition": "inline"})
        self.assertEqual(etag, "5d41402abc4b2a76b9719d911017c592")
        h = direct_client.direct_head_object(node(), PART, ACCOUNT, CONTAINER, "o1")
        self.assertEqual(h["Content-Length"], "5")
        self.assertEqual(h["X-Object-Meta-Color"], "blue")
        self.assertEqual(h["X-Object-Sysmeta-Thing"], "kept")
        self.assertEqual(h["X-Object-Transient-Sysmeta-T"], "tt")
        self.assertEqual(h["Content-Disposition"], "inline")
        self.assertEqual(h["X-Backend-Timestamp"], t1.internal)
        self.assertEqual(h["X-Backend-Data-Timestamp"], t1.internal)
        self.assertEqual(h["X-Timestamp"], t1.normal)
        hdrs, body = direct_client.direct_get_object(node(), PART, ACCOUNT, CONTAINER, "o1")
        self.assertEqual(body, b"hello")
        hdrs, body = direct_client.direct_get_object(node(), PART, ACCOUNT, CONTAINER, "o1",
                                                     headers={"Range": "bytes=1-2"})
        self.assertEqual(body, b"el")
        self.assertEqual(hdrs["Content-Range"], "bytes 1-2/5")
        # As the proxy sends it: an empty Content-Type changes nothing.
        direct_client.direct_post_object(node(), PART, ACCOUNT, CONTAINER, "o1",
                                         {"X-Timestamp": t2.internal,
                                          "Content-Type": "",
                                          "X-Object-Meta-Size": "big",
                                          "X-Object-Sysmeta-Thing": "ignored"})
        h = direct_client.direct_head_object(node(), PART, ACCOUNT, CONTAINER, "o1")
        self.assertEqual(h["X-Object-Meta-Size"], "big")
        self.assertNotIn("X-Object-Meta-Color", h)
        self.assertEqual(h["X-Object-Sysmeta-Thing"], "kept")
        self.assertEqual(h["X-Backend-Timestamp"], t2.internal)
        self.assertEqual(h["X-Backend-Data-Timestamp"], t1.internal)
        self.assertEqual(h["Content-Type"], "text/plain")
        direct_client.direct_delete_object(node(), PART, ACCOUNT, CONTAINER, "o1",
                                           headers={"X-Timestamp": t3.internal})
        status, headers = status_of(lambda: direct_client.direct_head_object(
            node(), PART, ACCOUNT, CONTAINER, "o1"))
        self.assertEqual(status, 404)
        self.assertEqual(headers["X-Backend-Timestamp"], t3.internal)
        status, headers = status_of(lambda: direct_client.direct_get_object(
            node(), PART, ACCOUNT, CONTAINER, "o1"))
        self.assertEqual((status, headers["X-Backend-Timestamp"]), (404, t3.internal))

    def test_older_or_equal_writes_conflict(self):
        t = ts(-50)
        put("o2", b"new", t)
        for older in (t, ts(-60)):
            status, headers = status_of(lambda: put("o2", b"old", older))
            self.assertEqual(status, 409)
            self.assertEqual(headers["X-Backend-Timestamp"], t.internal)
        status, _ = status_of(lambda: direct_client.direct_delete_object(
            node(), PART, ACCOUNT, CONTAINER, "o2", headers={"X-Timestamp": ts(-70).internal}))
        self.assertEqual(status, 409)
        status, _ = status_of(lambda: direct_client.direct_post_object(
            node(), PART, ACCOUNT, CONTAINER, "o2", {"X-Timestamp": ts(-70).internal}))
        self.assertEqual(status, 409)
        # The offset form is newer than the same time without one.
        offset = Timestamp(t, offset=1)
        put("o2", b"offset", offset)
        h = direct_client.direct_head_object(node(), PART, ACCOUNT, CONTAINER, "o2")
        self.assertEqual(h["X-Backend-Timestamp"], offset.internal)

    def test_expect_100_continue_decides_409_before_the_body(self):
        t = ts(-40)
        put("o5", b"there", t)

        def expect(older_or_newer):
            sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
            sock.sendall((f"PUT /sda/{PART}/{ACCOUNT}/{CONTAINER}/o5 HTTP/1.1\r\n"
                          f"Host: x\r\nX-Timestamp: {older_or_newer.internal}\r\n"
                          "Content-Type: text/plain\r\nContent-Length: 5\r\n"
                          "Expect: 100-continue\r\n\r\n").encode())
            first = sock.recv(4096).decode("latin1")
            return sock, first

        sock, first = expect(ts(-45))
        self.assertTrue(first.startswith("HTTP/1.1 409 "), first)
        self.assertIn(f"X-Backend-Timestamp: {t.internal}", first)
        sock.close()
        sock, first = expect(ts(-35))
        self.assertTrue(first.startswith("HTTP/1.1 100 Continue"), first)
        sock.sendall(b"newer")
        rest = first[first.index("\r\n\r\n") + 4:] or sock.recv(4096).decode("latin1")
        self.assertTrue(rest.startswith("HTTP/1.1 201 "), rest)
        sock.close()

    def test_if_none_match_missing_timestamp_and_device(self):
        put("o3")
        status, _ = status_of(lambda: put("o3", headers={"If-None-Match": "*"}))
        self.assertEqual(status, 412)
        # direct_client always adds an X-Timestamp: a bare request.
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        conn.request("PUT", f"/sda/{PART}/{ACCOUNT}/{CONTAINER}/o3", body=b"x",
                     headers={"Content-Type": "a/b"})
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (400, b"Missing X-Timestamp header"))
        conn.close()
        status, _ = status_of(lambda: put("o3", device="sdz"))
        self.assertEqual(status, 507)
        status, _ = status_of(lambda: put("o3", headers={"X-Backend-Storage-Policy-Index": "9"}))
        self.assertEqual(status, 503)

    def test_policy_1_goes_to_objects_1(self):
        put("o4", b"silver", headers={"X-Backend-Storage-Policy-Index": "1"})
        self.assertTrue(os.path.isdir(os.path.join(DEVICE, "objects-1", str(PART))))
        _, body = direct_client.direct_get_object(
            node(), PART, ACCOUNT, CONTAINER, "o4",
            headers={"X-Backend-Storage-Policy-Index": "1"})
        self.assertEqual(body, b"silver")
        status, _ = status_of(lambda: direct_client.direct_head_object(
            node(), PART, ACCOUNT, CONTAINER, "o4"))
        self.assertEqual(status, 404)

    def test_swift_reads_what_stowage_wrote_and_the_reverse(self):
        t = ts(-5)
        put("shared", b"by stowage", t, {"X-Object-Meta-Who": "stowage"})
        ctl = swift_controller()
        path = f"/sda/{PART}/{ACCOUNT}/{CONTAINER}/shared"
        with AsWww():
            resp = Request.blank(path, method="GET").get_response(ctl)
        self.assertEqual(resp.status_int, 200)
        self.assertEqual(resp.body, b"by stowage")
        self.assertEqual(resp.headers["X-Object-Meta-Who"], "stowage")
        self.assertEqual(resp.headers["X-Backend-Timestamp"], t.internal)
        t2 = ts(-1)
        with AsWww():
            req = Request.blank(path.replace("shared", "by-swift"), method="PUT", body=b"by swift",
                                headers={"X-Timestamp": t2.internal,
                                         "Content-Type": "text/x-swift",
                                         "X-Object-Meta-Who": "swift"})
            self.assertEqual(req.get_response(ctl).status_int, 201)
        h, body = direct_client.direct_get_object(node(), PART, ACCOUNT, CONTAINER, "by-swift")
        self.assertEqual(body, b"by swift")
        self.assertEqual(h["X-Object-Meta-Who"], "swift")
        self.assertEqual(h["Content-Type"], "text/x-swift")
        # A Swift tombstone hides Stowage's object from Stowage.
        with AsWww():
            req = Request.blank(path, method="DELETE", headers={"X-Timestamp": ts().internal})
            self.assertEqual(req.get_response(ctl).status_int, 204)
        status, _ = status_of(lambda: direct_client.direct_get_object(
            node(), PART, ACCOUNT, CONTAINER, "shared"))
        self.assertEqual(status, 404)


class Gate(unittest.TestCase):
    """A full write gate sheds with 503 and Retry-After before the body is
    read: the status Swift's proxy answers by trying another node."""

    def test_full_write_gate_sheds_503(self):
        port = free_port()
        proc = start_backend("gated", port, "StowageGate object-write limit=1 queue=0\n")
        try:
            path = f"/sda/{PART}/{ACCOUNT}/{CONTAINER}/gated"
            size = 4 * 1024 * 1024
            holder = socket.create_connection(("127.0.0.1", port), timeout=10)
            holder.sendall((f"PUT {path} HTTP/1.1\r\nHost: x\r\n"
                            f"X-Timestamp: {ts(-2).internal}\r\nContent-Type: a/b\r\n"
                            f"Content-Length: {size}\r\n\r\n").encode() + b"x" * 65536)
            time.sleep(0.5)  # admitted, writing, waiting for the rest
            status, headers = status_of(lambda: put("gated2", b"x" * 100000, port=port))
            self.assertEqual(status, 503)
            self.assertEqual(headers.get("Retry-After"), "1")
            holder.sendall(b"x" * (size - 65536))
            self.assertTrue(holder.recv(4096).startswith(b"HTTP/1.1 201 "))
            holder.close()
            h = direct_client.direct_head_object(
                {"ip": "127.0.0.1", "port": port, "device": "sda"},
                PART, ACCOUNT, CONTAINER, "gated")
            self.assertEqual(h["Content-Length"], str(size))
        finally:
            stop(proc)


class Auditor(unittest.TestCase):
    """Swift's object auditor over what Stowage wrote: nothing quarantined;
    a bit-flipped .data quarantined, and then Stowage answers 404."""

    def audit_once(self):
        from swift.obj.auditor import AuditorWorker
        for name in ("object", "object-1"):
            ring = os.path.join(ETC, name + ".ring.gz")
            if not os.path.exists(ring):
                b = RingBuilder(4, 1, 0)
                b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": PORT,
                           "device": "sda", "weight": 1})
                b.rebalance()
                b.get_ring().save(ring)
        conf = {"devices": DEVICES, "mount_check": "false", "swift_dir": ETC}
        with AsWww():
            worker = AuditorWorker(conf, utils.get_logger({}, log_route="audit"),
                                   os.path.join(TOP, "recon"), ["sda"])
            worker.audit_all_objects(mode="once")
        return worker.total_files_processed, worker.quarantines

    def test_audit_finds_nothing_then_the_flipped_bit(self):
        for i in range(3):
            put(f"aud{i}", b"audited %d" % i, headers={"X-Object-Meta-N": str(i)})
        put("aud-silver", b"silver", headers={"X-Backend-Storage-Policy-Index": "1"})
        processed, quarantines = self.audit_once()
        self.assertGreaterEqual(processed, 4)
        self.assertEqual(quarantines, 0)
        ohash = hash_path(ACCOUNT, CONTAINER, "aud0")
        hdir = os.path.join(DEVICE, "objects", str(PART), ohash[-3:], ohash)
        data = [f for f in os.listdir(hdir) if f.endswith(".data")][0]
        with open(os.path.join(hdir, data), "r+b") as f:
            first = f.read(1)
            f.seek(0)
            f.write(bytes([first[0] ^ 1]))
        _, quarantines = self.audit_once()
        self.assertEqual(quarantines, 1)
        self.assertFalse(os.path.exists(hdir))
        status, _ = status_of(lambda: direct_client.direct_get_object(
            node(), PART, ACCOUNT, CONTAINER, "aud0"))
        self.assertEqual(status, 404)


class ExpirerQueue(unittest.TestCase):
    """X-Delete-At queues a task for Swift's expirer; its container server is
    down here, so the PUT of the task and the DELETE of the old one are
    Swift's async_pending pickles, as Swift's object server writes them."""

    def test_tasks_for_set_and_replaced_delete_at(self):
        import pickle
        from swift.obj.expirer import ExpirerConfig, build_task_obj
        cfg = ExpirerConfig({}, logger=utils.get_logger({}, log_route="t"))
        closed = free_port()
        at1, at2 = int(time.time()) + 86400 * 3, int(time.time()) + 86400 * 9
        t1 = ts(-8)
        c1 = cfg.get_expirer_container(at1, ACCOUNT, CONTAINER, "exp")
        put("exp", b"12345", t1, {"X-Delete-At": str(at1), "X-Delete-At-Host": f"127.0.0.1:{closed}",
                                 "X-Delete-At-Device": "sda", "X-Delete-At-Partition": "1",
                                 "X-Delete-At-Container": c1})

        def pending(container, task, t):
            h = hash_path(".expiring_objects", container, task)
            p = os.path.join(DEVICE, "async_pending", h[-3:], f"{h}-{t.internal}")
            self.assertTrue(os.path.isfile(p), p)
            with open(p, "rb") as f:
                return pickle.load(f)

        task1 = build_task_obj(at1, ACCOUNT, CONTAINER, "exp")
        d = pending(c1, task1, t1)
        self.assertEqual((d["op"], d["account"], d["container"], d["obj"]),
                         ("PUT", ".expiring_objects", c1, task1))
        self.assertEqual(d["headers"]["X-Content-Type"], "text/plain;swift_expirer_bytes=5")
        self.assertEqual(d["headers"]["X-Content-Type-Timestamp"], t1.internal)
        self.assertEqual(d["headers"]["X-Backend-Storage-Policy-Index"], "0")
        # A POST that moves X-Delete-At: the new task, and the old one's DELETE.
        t2 = ts(-6)
        c2 = cfg.get_expirer_container(at2, ACCOUNT, CONTAINER, "exp")
        direct_client.direct_post_object(node(), PART, ACCOUNT, CONTAINER, "exp", {
            "X-Timestamp": t2.internal, "X-Delete-At": str(at2),
            "X-Delete-At-Host": f"127.0.0.1:{closed}", "X-Delete-At-Device": "sda",
            "X-Delete-At-Partition": "1", "X-Delete-At-Container": c2})
        task2 = build_task_obj(at2, ACCOUNT, CONTAINER, "exp")
        self.assertEqual(pending(c2, task2, t2)["op"], "PUT")
        self.assertEqual(pending(c1, task1, t2)["op"], "DELETE")
        h = direct_client.direct_head_object(node(), PART, ACCOUNT, CONTAINER, "exp")
        self.assertEqual(h["X-Delete-At"], str(at2))
        # A DELETE removes the current task.
        t3 = ts(-4)
        direct_client.direct_delete_object(node(), PART, ACCOUNT, CONTAINER, "exp",
                                           headers={"X-Timestamp": t3.internal})
        self.assertEqual(pending(c2, task2, t3)["op"], "DELETE")


class AsyncPending(unittest.TestCase):
    """Container server down: the update is pickled; Swift's updater sends it."""

    def test_updater_delivers_the_pickle(self):
        cport = free_port()
        b = RingBuilder(4, 1, 0)
        b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": cport,
                   "device": "sda", "weight": 1})
        b.rebalance()
        b.get_ring().save(os.path.join(ETC, "container.ring.gz"))
        from swift.common.ring import Ring
        ring = Ring(ETC, ring_name="container")
        cpart, cnodes = ring.get_nodes(ACCOUNT, CONTAINER)
        t = ts(-3)
        put("pending", b"later", t, {
            "X-Container-Host": f"127.0.0.1:{cport}",
            "X-Container-Device": "sda",
            "X-Container-Partition": str(cpart),
        })
        ohash = hash_path(ACCOUNT, CONTAINER, "pending")
        pickle_path = os.path.join(DEVICE, "async_pending", ohash[-3:], f"{ohash}-{t.internal}")
        self.assertTrue(os.path.isfile(pickle_path), os.listdir(DEVICE))
        conf = os.path.join(ETC, "container-server.conf")
        with open(conf, "w") as f:
            f.write(f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {cport}\nworkers = 0\n"
                    f"devices = {DEVICES}\nmount_check = false\nswift_dir = {ETC}\n"
                    "user = www-data\n"
                    "[pipeline:main]\npipeline = container-server\n"
                    "[app:container-server]\nuse = egg:swift#container\n"
                    "[object-updater]\ninterval = 1\n")
        subprocess.run(["chown", "-R", "www-data:www-data", ETC], check=True)
        py = os.path.join(VENV, "bin", "python")
        exec_ = os.path.join(REPO, "scripts", "cluster", "swift_exec.py")
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        server = subprocess.Popen([py, exec_, SWIFT_CONF, "swift-container-server", conf],
                                  start_new_session=True, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(cport, server)
            direct_client.direct_put_container(cnodes[0], cpart, ACCOUNT, CONTAINER,
                                               headers={"X-Timestamp": ts(-100).internal})
            _, listing = direct_client.direct_get_container(cnodes[0], cpart, ACCOUNT, CONTAINER)
            self.assertEqual(listing, [])
            r = subprocess.run([py, exec_, SWIFT_CONF, "swift-object-updater", conf, "once"],
                               env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            _, listing = direct_client.direct_get_container(cnodes[0], cpart, ACCOUNT, CONTAINER)
            etag = direct_client.direct_head_object(
                node(), PART, ACCOUNT, CONTAINER, "pending")["Etag"].strip('"')
            self.assertEqual([(o["name"], o["bytes"], o["hash"], o["content_type"])
                              for o in listing],
                             [("pending", 5, etag, "text/plain")])
            self.assertFalse(os.path.exists(pickle_path))
        finally:
            stop(server)


if __name__ == "__main__":
    unittest.main(verbosity=2)
