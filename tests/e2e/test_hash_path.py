"""Names are hashed with a secret salt (issue 17, item 9): object and DB
paths were a plain MD5 of the name, so a client could choose names whose
hashes collide. With StowageHashPathPrefix/-Suffix they are Swift's
hash_path, md5(prefix + "/a/c/o" + suffix); scripts/apache-config.sh gives
every new data dir a random suffix, kept in <root>/hash-path-salt.conf.

The root records a fingerprint of its salt when first used (never the salt),
and Apache refuses to start, `apache2 -t` included, with a salt the root was
not written with: every name would be invisible. Nothing stored is lost or
touched by a refused start."""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import (APACHE, CONFIG_SCRIPT, free_ports, hash_path_salt, start_server,
                     stop_server, unique)

pytestmark = pytest.mark.apache

FINGERPRINT = "hash-path-salt.fingerprint"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def files_under(root: Path) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def config_test(tmp: Path, datadir: Path, extra: str = "", env=None) -> subprocess.CompletedProcess:
    """`apache2 -t` on a config generated for `datadir`, with `extra` inside
    the vhost (later lines win)."""
    out = tmp / f"conf-{unique('t')}"
    args = [str(CONFIG_SCRIPT), str(out), str(free_ports(1)[0]), str(datadir)]
    if extra:
        extra_file = tmp / f"{out.name}.extra.conf"
        extra_file.write_text(extra)
        args.append(str(extra_file))
    gen = subprocess.run(args, capture_output=True, text=True, timeout=60,
                         env={**os.environ, **(env or {})})
    assert gen.returncode == 0, gen.stderr
    conf = gen.stdout.strip().splitlines()[-1]
    return subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True, timeout=60)


@pytest.fixture
def work():
    """A scratch dir www-data can reach (pytest's tmp_path is root's alone)."""
    d = Path(tempfile.mkdtemp(prefix="stowage-e2e-hash-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def salted(work):
    """A server on a fresh data dir (salted by the config script) holding one
    object, and the names it was stored under."""
    datadir = work / "data"
    srv = start_server(data_dir=datadir)
    try:
        swift = srv.client()
        c = unique("c")
        swift.put_container(c)
        swift.put_object(c, "dir/o", b"salted bytes", {"X-Object-Meta-A": "1"})
        yield srv, swift, c
    finally:
        assert not stop_server(srv)


def test_paths_are_swifts_hash_path_with_the_generated_salt(salted):
    srv, swift, c = salted
    prefix, suffix = hash_path_salt(srv.datadir)
    assert prefix == "" and len(suffix) == 32 and int(suffix, 16) >= 0, suffix
    conf = srv.datadir / "hash-path-salt.conf"
    assert conf.stat().st_mode & 0o077 == 0, "the salt is readable by its owner only"

    obj = md5(f"/AUTH_test/{c}/dir/o{suffix}")
    cont = md5(f"/AUTH_test/{c}{suffix}")
    acct = md5(f"/AUTH_test{suffix}")
    # Swift's layout: objects/<partition>/<suffix>/<hash>, part power 10.
    assert (srv.datadir / "objects" / str(int(obj[:8], 16) >> 22) / obj[29:] / obj).is_dir()
    assert (srv.datadir / "containers" / cont[:3] / f"{cont}.db").is_file()
    assert (srv.datadir / "accounts" / acct[:3] / f"{acct}.db").is_file()
    # Nothing under the unsalted names, and the salt itself nowhere but its conf.
    plain = [md5(f"/AUTH_test/{c}/dir/o"), md5(f"AUTH_test/{c}"), md5("AUTH_test")]
    listed = files_under(srv.datadir)
    assert not [f for f in listed if any(h in f for h in plain)], listed
    for f in srv.datadir.rglob("*"):
        if f.is_file() and f != conf and f.suffix != ".db":
            assert suffix.encode() not in f.read_bytes(), f
    fingerprint = (srv.datadir / FINGERPRINT).read_text()
    assert fingerprint.startswith("sha256:") and suffix not in fingerprint

    # A restart finds everything again.
    srv.stop()
    srv.relaunch()
    r = swift.request("GET", f"{c}/dir/o")
    assert (r.status, r.body, r.header("X-Object-Meta-A")) == (200, b"salted bytes", "1")
    assert [o["name"] for o in swift.listing(c)] == ["dir/o"]


def test_a_wrong_or_missing_salt_refuses_to_start_and_touches_nothing(salted, work):
    tmp_path = work
    srv, swift, c = salted
    srv.stop()
    before = {f: (srv.datadir / f).read_bytes() for f in files_under(srv.datadir)
              if not f.endswith(("-wal", "-shm"))}
    # Another suffix (the vhost's later line wins over the generated one).
    res = config_test(tmp_path, srv.datadir, "StowageHashPathSuffix not-the-salt\n")
    assert res.returncode != 0, res
    assert "wrong hash-path salt" in res.stderr, res.stderr
    assert "would be invisible" in res.stderr and "not-the-salt" not in res.stderr, res.stderr
    # No salt at all: the generated conf moved away.
    conf = srv.datadir / "hash-path-salt.conf"
    hidden = tmp_path / "salt.conf"
    conf.rename(hidden)
    try:
        res = config_test(tmp_path, srv.datadir)
        assert res.returncode != 0, res
        assert "no StowageHashPathPrefix/-Suffix is configured" in res.stderr, res.stderr
    finally:
        hidden.rename(conf)
    after = {f: (srv.datadir / f).read_bytes() for f in before}
    assert after == before, "a refused start changed nothing"
    # With its own salt it starts, and everything is there.
    assert config_test(tmp_path, srv.datadir).returncode == 0
    srv.relaunch()
    assert swift.request("GET", f"{c}/dir/o").body == b"salted bytes"


def test_an_unsalted_root_keeps_working_and_takes_no_salt(work):
    """A root written without a salt (before salts existed, or
    HASH_PATH_SALT=none) keeps its layout; adding a salt to it is refused."""
    tmp_path = work
    datadir = tmp_path / "plain"
    os.environ["HASH_PATH_SALT"] = "none"
    try:
        srv = start_server(data_dir=datadir)
    finally:
        del os.environ["HASH_PATH_SALT"]
    try:
        assert not (datadir / "hash-path-salt.conf").exists()
        assert (datadir / FINGERPRINT).read_text() == "unsalted\n"
        swift = srv.client()
        c = unique("c")
        swift.put_container(c)
        swift.put_object(c, "o", b"plain")
        h = md5(f"/AUTH_test/{c}/o")
        assert (datadir / "objects" / str(int(h[:8], 16) >> 22) / h[29:] / h).is_dir()
        # A root from before salts has no fingerprint: its names say unsalted.
        srv.stop()
        (datadir / FINGERPRINT).unlink()
        res = config_test(tmp_path, datadir, "StowageHashPathSuffix late-salt\n")
        assert res.returncode != 0 and "written without one" in res.stderr, res.stderr
        # The config script gives such a root no salt: it starts as before.
        assert config_test(tmp_path, datadir).returncode == 0
        assert not (datadir / "hash-path-salt.conf").exists()
        srv.relaunch()
        assert swift.request("GET", f"{c}/o").body == b"plain"
    finally:
        assert not stop_server(srv)


def test_an_object_file_holding_another_name_is_not_that_name(salted):
    """The stored name is checked on open, as Swift's diskfile does
    (DiskFileCollision): files of object `dir/o` put into the directory of
    name `p` (what an MD5 collision would do) are not `p`'s: reads answer
    404 with a log line, writes never replace them (403, Swift's object
    server's answer), and `dir/o` itself is untouched."""
    srv, swift, c = salted
    src, dst = srv.object_dir(c, "dir/o"), srv.object_dir(c, "p")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst)
    st = src.stat()
    for p in [dst, *dst.iterdir()]:
        os.chown(p, st.st_uid, st.st_gid)
    held = {f.name: f.read_bytes() for f in dst.iterdir()}
    since = srv.error_log_size()

    for method, name, headers, want in [
        ("GET", "p", {}, 404),
        ("HEAD", "p", {}, 404),
        ("POST", "p", {"X-Object-Meta-B": "2"}, 404),
        ("DELETE", "p", {}, 404),
        ("COPY", "p", {"Destination": f"{c}/q"}, 404),
        ("PUT", "p", {}, 403),
        ("PUT", "p", {"If-None-Match": "*"}, 403),
        ("PUT", "p", {"X-Copy-From": f"{c}/dir/o"}, 403),
    ]:
        body = b"" if method == "PUT" else None
        r = swift.request(method, f"{c}/{name}", headers, body=body)
        assert r.status == want, (method, headers, r)
    log = srv.read_error_log(since)
    assert f'holds object "/AUTH_test/{c}/dir/o", not "/AUTH_test/{c}/p"' in log, log

    assert {f.name: f.read_bytes() for f in dst.iterdir()} == held, "nothing replaced"
    r = swift.request("GET", f"{c}/dir/o")
    assert (r.status, r.body) == (200, b"salted bytes")
    assert [o["name"] for o in swift.listing(c)] == ["dir/o"]
    assert swift.request("HEAD", f"{c}/q").status == 404
