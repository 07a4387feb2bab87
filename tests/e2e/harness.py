"""Helpers shared by the end-to-end tests: server control, raw HTTP,
a Swift client on http.client, the swift CLI runner."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterable, Optional, Union

REPO = Path(__file__).resolve().parents[2]
CONFIG_SCRIPT = REPO / "scripts" / "apache-config.sh"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
VENV_BIN = Path(sys.executable).parent

# Objects may carry 90 metadata items plus the usual headers: lift
# http.client's default cap of 100 response headers.
http.client._MAXHEADERS = 1000
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 20.0
IO_TIMEOUT = 30.0

DEFAULT_USER = "test:tester"
DEFAULT_KEY = "testing"
DEFAULT_ACCOUNT = "AUTH_test"

# Users every session server knows besides the script's default test:tester.
# Accounts other than AUTH_test are owned by one test module each, so their
# exact counters are not disturbed by other tests.
EXTRA_USERS = {
    "test2:tester2": ("testing2", True),     # AUTH_test2, admin
    "test:member": ("memberkey", False),     # AUTH_test, not admin
    "stats:admin": ("statskey", True),       # AUTH_stats (test_account.py)
    "acctmeta:admin": ("acctmetakey", True), # AUTH_acctmeta (test_account.py)
    "hostile:admin": ("hostilekey", True),   # AUTH_hostile (test_hostile_input.py)
}

# Lines in Apache's error log that mean a worker died or the library hit a
# bug it could only survive by catching a panic.
CRASH_PATTERNS = [
    re.compile(r"exit signal", re.I),
    re.compile(r"seg(mentation)? ?fault", re.I),
    re.compile(r"possible coredump", re.I),
    re.compile(r"panicked", re.I),
    re.compile(r"\bSTOWAGE_ERR_PANIC\b"),
]


def storage_tmp_root() -> Optional[str]:
    """Where the servers' temp dirs (and so their storage roots) go:
    STOWAGE_TEST_ROOT, a filesystem that holds Swift's full object metadata
    (tests/e2e/run.sh mounts one per run, docs/storage-fs.md), else the
    system's temp dir."""
    return os.environ.get("STOWAGE_TEST_ROOT") or None


def wait_until(pred, timeout: float, poke=None) -> bool:
    """Polls `pred` (calling `poke` first each time, e.g. a request that
    gives the expiry sweep its turn) every 0.2 s until it holds or `timeout`
    seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if poke:
            poke()
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def unique(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def md5hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


SALT_CONF = "hash-path-salt.conf"  # what scripts/apache-config.sh keeps in a data dir


def hash_path_salt(datadir: Path) -> tuple:
    """(prefix, suffix) of the salt scripts/apache-config.sh generated for a
    data dir; ('', '') for a root without one."""
    salt = {"prefix": "", "suffix": ""}
    try:
        text = (Path(datadir) / SALT_CONF).read_text()
    except FileNotFoundError:
        return "", ""
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0].lower().startswith("stowagehashpath"):
            salt[words[0].lower()[len("stowagehashpath"):]] = words[1].strip("\"'")
    return salt["prefix"], salt["suffix"]


def stored_hash(datadir: Path, account: str, container: Optional[str] = None,
                obj: Optional[str] = None) -> str:
    """The hex MD5 a name is stored under in a root (docs/on-disk-format.md):
    with a salt, Swift's hash_path; without, the unsalted layout."""
    prefix, suffix = hash_path_salt(datadir)
    names = [n for n in (account, container, obj) if n is not None]
    if prefix or suffix:
        text = prefix + "/" + "/".join(names) + suffix
    elif obj is not None:
        text = "/" + "/".join(names)
    else:
        text = "/".join(names)
    return hashlib.md5(text.encode()).hexdigest()


PART_POWER = 10  # what a Stowage root records in object-part-power


def object_hash_dir(datadir: Path, account: str, container: str, obj: str) -> Path:
    """<root>/objects/<partition>/<suffix>/<hash>: the partition is the
    hash's top PART_POWER bits (Swift's Ring.get_part)."""
    h = stored_hash(datadir, account, container, obj)
    part = int(h[:8], 16) >> (32 - PART_POWER)
    return datadir / "objects" / str(part) / h[29:] / h


def quote(name: str) -> str:
    """Percent-encode a name for a URL path, keeping '/' as is."""
    return urllib.parse.quote(name, safe="/")


def free_ports(n: int = 1) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# --------------------------------------------------------------------------
# Raw HTTP over a socket: for chunked bodies, malformed requests, raw bytes.
# --------------------------------------------------------------------------

@dataclass
class RawResponse:
    version: str
    status: int
    reason: str
    headers: list  # [(name, value)] in wire order, names as sent
    body: bytes = b""

    def header(self, name: str, default=None):
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def header_all(self, name: str) -> list:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class ConnectionClosed(Exception):
    """The peer closed the connection before a complete response."""


class RawConnection:
    """One TCP connection; send arbitrary bytes, read HTTP/1.x responses."""

    def __init__(self, port: int, timeout: float = IO_TIMEOUT):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes):
        self.sock.sendall(data)

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out, self.buf = self.buf[: i + len(marker)], self.buf[i + len(marker):]
                return out
            if not self._fill():
                raise ConnectionClosed(f"closed while waiting for {marker!r}; got {self.buf[:200]!r}")

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionClosed(f"closed after {len(self.buf)} of {n} body bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_to_eof(self) -> bytes:
        while self._fill():
            pass
        out, self.buf = self.buf, b""
        return out

    def read_response(self, head: bool = False, skip_interim: bool = True) -> RawResponse:
        """Read one response. Raises ConnectionClosed when the server closed
        the connection without sending (the rest of) a response."""
        while True:
            block = self._read_until(b"\r\n\r\n")
            lines = block[:-4].split(b"\r\n")
            parts = lines[0].decode("latin-1").split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise AssertionError(f"not an HTTP status line: {lines[0]!r}")
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            headers = []
            for line in lines[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                headers.append((name.strip(), value.strip()))
            resp = RawResponse(version, status, reason, headers)
            if 100 <= status < 200 and skip_interim:
                continue
            break
        te = (resp.header("Transfer-Encoding") or "").lower()
        cl = resp.header("Content-Length")
        if head or status in (204, 304) or 100 <= status < 200:
            resp.body = b""
        elif "chunked" in te:
            body = []
            while True:
                size_line = self._read_until(b"\r\n")[:-2]
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers, up to the empty line
                    while self._read_until(b"\r\n") != b"\r\n":
                        pass
                    break
                body.append(self._read_exact(size))
                if self._read_exact(2) != b"\r\n":
                    raise AssertionError("chunk not followed by CRLF")
            resp.body = b"".join(body)
        elif cl is not None:
            resp.body = self._read_exact(int(cl))
        else:
            resp.body = self._read_to_eof()
        return resp

    def request(self, data: bytes, head: bool = False) -> RawResponse:
        self.send(data)
        return self.read_response(head=head)


def build_request(method: str, path: Union[str, bytes], headers: Iterable = (),
                  body: bytes = b"", port: Optional[int] = None,
                  content_length: bool = True, version: str = "HTTP/1.1") -> bytes:
    """Serialise a request. `path` goes on the wire unchanged (bytes allowed).
    A Host header is added unless given; Content-Length is added for a
    non-empty body unless content_length=False or one is given."""
    if isinstance(path, str):
        path = path.encode("latin-1")
    hdrs = list(headers)
    names = {k.lower() for k, _ in hdrs}
    if "host" not in names:
        hdrs.insert(0, ("Host", f"{HOST}:{port}" if port else HOST))
    if body and content_length and "content-length" not in names and "transfer-encoding" not in names:
        hdrs.append(("Content-Length", str(len(body))))
    out = method.encode() + b" " + path + b" " + version.encode() + b"\r\n"
    for k, v in hdrs:
        kb = k if isinstance(k, bytes) else k.encode("latin-1")
        vb = v if isinstance(v, bytes) else str(v).encode("latin-1")
        out += kb + b": " + vb + b"\r\n"
    return out + b"\r\n" + body


def chunked(chunks: Iterable[bytes], trailer: bytes = b"") -> bytes:
    """Encode chunks with Transfer-Encoding: chunked framing."""
    out = []
    for c in chunks:
        if c:
            out.append(b"%x\r\n" % len(c) + c + b"\r\n")
    out.append(b"0\r\n" + trailer + b"\r\n")
    return b"".join(out)


def raw_request(port: int, data: bytes, head: bool = False, timeout: float = IO_TIMEOUT) -> RawResponse:
    """Send one request on a new connection and read its response."""
    with RawConnection(port, timeout=timeout) as c:
        c.send(data)
        return c.read_response(head=head)


# --------------------------------------------------------------------------
# Swift-level client on http.client (no URL normalisation, keep-alive).
# --------------------------------------------------------------------------

@dataclass
class Resp:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    header_list: list = field(default_factory=list)

    def header(self, name: str, default=None):
        return self.headers.get(name, default)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Resp {self.status} {self.reason} {dict(self.header_list)!r} {self.body[:300]!r}>"


class HTTP:
    """Thread-safe: one keep-alive connection per thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(HOST, self.port, timeout=IO_TIMEOUT)
            self.local.conn = c
            self.local.used = False
        return c

    def _drop(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            c.close()
        self.local.conn = None

    def request(self, method: str, path: str, headers: Optional[dict] = None,
                body: Union[bytes, None] = None) -> Resp:
        """`path` is sent as is (already percent-encoded, may carry ?query)."""
        headers = dict(headers or {})
        if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
            headers["Content-Length"] = str(len(body))
        for attempt in (0, 1):
            c = self._conn()
            reused = self.local.used
            try:
                c.putrequest(method, path, skip_accept_encoding=True)
                for k, v in headers.items():
                    c.putheader(k, v)
                c.endheaders()
                if body:
                    c.send(body)
                r = c.getresponse()
                data = r.read()
                self.local.used = True
                if r.getheader("Connection", "").lower() == "close" or r.will_close:
                    self._drop()
                return Resp(r.status, r.reason, r.headers, data, r.getheaders())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # A keep-alive connection the server had already closed: the
                # request was not processed, so sending it again is safe.
                self._drop()
                if attempt or not reused:
                    raise
            except Exception:
                self._drop()
                raise
        raise AssertionError("unreachable")


class SwiftClient:
    """Requests against one account, authenticated as one user."""

    def __init__(self, server: "ApacheServer", user: str = DEFAULT_USER, key: str = DEFAULT_KEY):
        self.server = server
        self.user, self.key = user, key
        self.storage_url, self.token = server.auth(user, key)
        self.account_path = urllib.parse.urlsplit(self.storage_url).path  # /v1/AUTH_x
        self.http = HTTP(server.port)

    def path(self, name: str = "", query=None, raw: bool = False) -> str:
        """URL path for `name` (container or container/object) below the
        account; quoted unless raw=True."""
        p = self.account_path
        if name:
            p += "/" + (name if raw else quote(name))
        if query:
            if isinstance(query, dict):
                query = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
            p += "?" + query
        return p

    def request(self, method: str, name: str = "", headers: Optional[dict] = None,
                body: Optional[bytes] = None, query=None, raw: bool = False,
                token: Union[bool, str] = True) -> Resp:
        h = {}
        if token is True:
            h["X-Auth-Token"] = self.token
        elif token:
            h["X-Auth-Token"] = token
        h.update(headers or {})
        return self.http.request(method, self.path(name, query, raw), h, body)

    # conveniences that assert success
    def put_container(self, name: str, headers=None) -> Resp:
        r = self.request("PUT", name, headers)
        assert r.status in (201, 202), r
        return r

    def put_object(self, container: str, name: str, data: bytes = b"", headers=None) -> Resp:
        r = self.request("PUT", f"{container}/{name}", headers, body=data)
        assert r.status == 201, r
        return r

    def listing(self, container: str = "", **params) -> list:
        """JSON listing of the account ('' ) or a container."""
        params.setdefault("format", "json")
        r = self.request("GET", container, query=params)
        assert r.status == 200, r
        return r.json()


# --------------------------------------------------------------------------
# The server.
# --------------------------------------------------------------------------

class ServerStartError(RuntimeError):
    pass


class ApacheServer:
    def __init__(self, tmp: Path, port: int, extra_ports: list, mpm: str,
                 datadir: Optional[Path] = None):
        self.tmp = tmp
        self.port = port
        self.extra_ports = extra_ports
        self.mpm = mpm
        self.outdir = tmp / "run"
        self.datadir = datadir or tmp / "data"
        self.conf: Optional[str] = None
        self.proc: Optional[subprocess.Popen] = None
        self.stdout_path = tmp / "apache.stdout"

    def object_dir(self, container: str, name: str, account: str = DEFAULT_ACCOUNT) -> Path:
        """The object's hash directory in Swift's layout
        (<root>/objects/<partition>/<suffix>/<hash>, docs/on-disk-format.md)."""
        return object_hash_dir(self.datadir, account, container, name)

    def container_db(self, container: str, account: str = DEFAULT_ACCOUNT) -> Path:
        h = stored_hash(self.datadir, account, container)
        return self.datadir / "containers" / h[:3] / f"{h}.db"

    def account_db(self, account: str = DEFAULT_ACCOUNT) -> Path:
        h = stored_hash(self.datadir, account)
        return self.datadir / "accounts" / h[:3] / f"{h}.db"

    @property
    def salt_conf(self) -> Path:
        """The data dir's generated salt (a StowageHashPathSuffix line)."""
        return self.datadir / SALT_CONF

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.base}/auth/v1.0"

    @property
    def error_log(self) -> Path:
        return self.outdir / "error.log"

    def read_error_log(self, start: int = 0) -> str:
        try:
            with open(self.error_log, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def error_log_size(self) -> int:
        try:
            return self.error_log.stat().st_size
        except FileNotFoundError:
            return 0

    def crash_lines(self, start: int = 0) -> list:
        return [line for line in self.read_error_log(start).splitlines()
                if any(p.search(line) for p in CRASH_PATTERNS)]

    def diagnostics(self, tail: int = 60) -> str:
        log = self.read_error_log().splitlines()[-tail:]
        try:
            out = self.stdout_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            out = ""
        return (f"--- {self.error_log} (last {tail} lines) ---\n" + "\n".join(log) +
                f"\n--- apache2 stdout/stderr ---\n{out}")

    def http_get(self, path: str, headers: Optional[dict] = None, timeout: float = 5.0):
        c = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def auth(self, user: str = DEFAULT_USER, key: str = DEFAULT_KEY):
        status, headers, body = self.http_get(
            "/auth/v1.0", {"X-Auth-User": user, "X-Auth-Key": key})
        assert status == 200, f"auth as {user}: {status} {body[:200]!r}"
        lower = {k.lower(): v for k, v in headers.items()}
        return lower["x-storage-url"], lower["x-auth-token"]

    def client(self, user: str = DEFAULT_USER, key: str = DEFAULT_KEY) -> SwiftClient:
        return SwiftClient(self, user, key)

    def healthy(self) -> bool:
        try:
            status, _, body = self.http_get("/healthcheck", timeout=5)
            return status == 200
        except OSError:
            return False

    def start(self, extra_conf: Optional[str], extra_server_conf: Optional[str],
              loglevel: Optional[str]):
        self.outdir.mkdir()
        self.datadir.mkdir(exist_ok=True)  # a given data_dir may be a mount point
        env = {k: v for k, v in os.environ.items()
               if k not in ("MPM", "EXTRA_SERVER_CONF", "LOGLEVEL", "EXTRA_CONF")}
        env["MPM"] = self.mpm
        args = [str(CONFIG_SCRIPT), str(self.outdir), str(self.port), str(self.datadir)]
        if extra_conf is not None:
            p = self.tmp / "extra.conf"
            p.write_text(extra_conf)
            args.append(str(p))
        if extra_server_conf is not None:
            p = self.tmp / "extra-server.conf"
            p.write_text(extra_server_conf)
            env["EXTRA_SERVER_CONF"] = str(p)
        if loglevel:
            env["LOGLEVEL"] = loglevel
        if not CONFIG_SCRIPT.exists():
            raise ServerStartError(f"{CONFIG_SCRIPT} does not exist (yet)")
        res = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise ServerStartError(
                f"{' '.join(args)} exited {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}")
        lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
        if not lines:
            raise ServerStartError(f"{CONFIG_SCRIPT} printed no config path; stderr:\n{res.stderr}")
        self.conf = lines[-1].strip()
        self._env = env
        self._launch()

    def _launch(self):
        env = self._env
        out = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"],
                                     stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        out.close()
        deadline = time.monotonic() + START_TIMEOUT
        last = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"apache2 exited with {self.proc.returncode} during start-up "
                    f"(conf {self.conf})\n{self.diagnostics()}")
            if not self._pid_file_is_ours():
                # Not listening yet: whatever answers on the port now is
                # not this server (a parallel worker's may hold the port).
                last = "no pid file of this apache2 yet"
                time.sleep(0.05)
                continue
            try:
                status, _, body = self.http_get("/healthcheck", timeout=2)
                if status == 200:
                    for p in self.extra_ports:
                        self._wait_port(p, deadline)
                    return
                last = f"GET /healthcheck -> {status} {body[:200]!r}"
            except OSError as e:
                last = f"GET /healthcheck -> {e!r}"
            time.sleep(0.1)
        raise ServerStartError(
            f"server on port {self.port} not healthy after {START_TIMEOUT}s ({last}); "
            f"conf {self.conf}\n{self.diagnostics()}")

    def _pid_file_is_ours(self) -> bool:
        """Apache writes its PidFile after binding its Listen ports: holding
        our child's pid, the ports are this server's."""
        try:
            return (self.outdir / "httpd.pid").read_text().strip() == str(self.proc.pid)
        except OSError:
            return False

    def kill_all(self):
        """SIGKILL the parent and every worker at once (a crash of the whole
        server), and wait until none of them is left."""
        pgid = self.proc.pid  # start_new_session: the group is ours alone
        os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if not _live_members(pgid):
                return
            time.sleep(0.05)
        raise RuntimeError(f"workers of process group {pgid} outlived SIGKILL")

    def worker_pids(self) -> list:
        """Apache's children: the workers (and helpers) of this server."""
        return [pid for pid, ppid, _ in _processes() if ppid == self.proc.pid]

    def relaunch(self):
        """Start Apache again with the same config and storage root."""
        self._launch()

    def _wait_port(self, port: int, deadline: float):
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise ServerStartError(f"extra port {port} never accepted\n{self.diagnostics()}")

    def stop(self):
        """Graceful stop first (SIGWINCH, as `apachectl graceful-stop`).
        SIGTERM makes each event-MPM child close its workers' sockets from
        its main thread while the workers may still be using them; Debian's
        Apache 2.4.71 then segfaults now and then (core of 2026-12-01:
        close_socket_at -> apr_os_sock_get(NULL) in mod_mpm_event, no
        Stowage frame on any thread), which reads as a crash here.
        GracefulShutdownTimeout in the generated config bounds the wait."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, timeout in ((signal.SIGWINCH, STOP_TIMEOUT), (signal.SIGTERM, STOP_TIMEOUT)):
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
                return
            except subprocess.TimeoutExpired:
                continue
        # Our own child's process group (start_new_session): its workers.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def cleanup(self):
        if os.environ.get("STOWAGE_E2E_KEEP"):
            sys.stderr.write(f"\nkeeping {self.tmp}\n")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)


def _processes():
    """(pid, ppid, pgid) of every live process, from /proc (no procps
    needed); zombies are left out, as whoever reaps orphans may take its time."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid, pgid = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if state != "Z":
            yield int(stat.parent.name), int(ppid), int(pgid)


def _live_members(pgid: int) -> list:
    return [pid for pid, _, group in _processes() if group == pgid]


class ExternalServer(ApacheServer):
    """A server this suite did not start (STOWAGE_E2E_URL): used to check the
    tests themselves against another Swift implementation. It has no data
    dir and no error log we can read; Apache-only tests are skipped."""

    external = True

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname in ("127.0.0.1", "localhost"), "loopback only"
        tmp = Path(tempfile.mkdtemp(prefix="stowage-e2e-ext-", dir=storage_tmp_root()))
        super().__init__(tmp, parts.port or 80, [], "external")

    def stop(self):
        pass


ApacheServer.external = False

_LIVE_SERVERS: list = []


def users_conf(users: dict) -> str:
    lines = []
    for user, (key, admin) in users.items():
        lines.append(f"StowageUser {user} {key}" + (" .admin" if admin else ""))
    return "\n".join(lines) + "\n"


def server_with_users(users: dict):
    """A server of a test module's own, with these users; for a module-scoped
    fixture (`yield from server_with_users(USERS)`). It must stop without a
    crash line in its error log."""
    s = start_server(extra_conf=users_conf(users))
    try:
        yield s
    finally:
        assert not stop_server(s)


def start_server(mpm: str = "event", extra_conf: Union[str, Callable, None] = None,
                 extra_server_conf: Union[str, Callable, None] = None,
                 extra_ports: int = 0, loglevel: Optional[str] = None,
                 data_dir: Optional[Path] = None) -> ApacheServer:
    """Start a server. extra_conf / extra_server_conf may be callables taking
    a context (tmp, port, extra_ports, datadir) and returning the text.
    data_dir: the StowageRoot to use instead of a fresh <tmp>/data (the
    caller owns it: it is not removed)."""
    for attempt in range(PORT_ATTEMPTS):
        try:
            srv = _start_once(mpm, extra_conf, extra_server_conf, extra_ports, loglevel,
                              data_dir)
        except ServerStartError as e:
            # Another process (a parallel worker's server, a client's
            # ephemeral port) took a port between free_ports() and Apache's
            # bind: try again on fresh ports.
            if PORT_TAKEN in str(e) and attempt + 1 < PORT_ATTEMPTS:
                continue
            raise
        _LIVE_SERVERS.append(srv)
        return srv
    raise AssertionError("unreachable")


# Apache's words when a Listen port is in use, and how often start_server
# tries fresh ports before giving up.
PORT_TAKEN = "Address already in use"
PORT_ATTEMPTS = 3


def _start_once(mpm, extra_conf, extra_server_conf, extra_ports, loglevel,
                data_dir) -> ApacheServer:
    tmp = Path(tempfile.mkdtemp(prefix="stowage-e2e-", dir=storage_tmp_root()))
    os.chmod(tmp, 0o755)  # www-data children must traverse it
    ports = free_ports(1 + extra_ports)
    srv = ApacheServer(tmp, ports[0], ports[1:], mpm, data_dir)
    ctx = SimpleNamespace(tmp=tmp, port=srv.port, extra_ports=srv.extra_ports,
                          datadir=srv.datadir)
    if callable(extra_conf):
        extra_conf = extra_conf(ctx)
    if callable(extra_server_conf):
        extra_server_conf = extra_server_conf(ctx)
    try:
        srv.start(extra_conf, extra_server_conf, loglevel)
    except BaseException:
        srv.stop()
        srv.cleanup()
        raise
    return srv


def stop_server(srv: ApacheServer) -> list:
    """Stop and clean up; returns crash lines found in its error log."""
    try:
        srv.stop()
        return srv.crash_lines()
    finally:
        if srv in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(srv)
        srv.cleanup()


class SwiftCLI:
    def __init__(self, server: ApacheServer, user=DEFAULT_USER, key=DEFAULT_KEY):
        self.server, self.user, self.key = server, user, key
        exe = VENV_BIN / "swift"
        self.exe = str(exe) if exe.exists() else "swift"

    def __call__(self, *args: str, cwd=None, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_", "SWIFT"))}
        cmd = [self.exe, "-A", self.server.auth_url, "-U", self.user, "-K", self.key, *args]
        res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {res.returncode}\n"
                                 f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}")
        return res


def get_until_closed(srv: "ApacheServer", path: str, token: str) -> tuple:
    """A GET on its own connection: status, headers (lower-case names) and
    every body byte the server sent before it closed, so a body that broke
    off half-way shows as what it is."""
    s = socket.create_connection((HOST, srv.port), timeout=60)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nX-Auth-Token: {token}\r\n"
                  "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(1 << 20):
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def get_and_leave(srv: "ApacheServer", path: str, token: str) -> bytes:
    """A GET whose client goes away after the first read (at most 64 KiB of
    the answer, returned), as a client that gives up mid-body."""
    s = socket.create_connection((HOST, srv.port), timeout=30)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nX-Auth-Token: {token}\r\n\r\n"
                  .encode())
        return s.recv(65536)
    finally:
        s.close()


def data_files(root: Path) -> list:
    """All regular files below root (relative paths)."""
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def tmp_files(server: ApacheServer) -> list:
    """Files left in the library's PUT staging area, <data>/tmp/."""
    tmpdir = server.datadir / "tmp"
    if not tmpdir.exists():
        return []
    return data_files(tmpdir)
