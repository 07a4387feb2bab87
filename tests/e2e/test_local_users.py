"""Other local users and the storage root (issue 17, items 5-7), each attack
reproduced against a real Apache and shown bounded:

- nothing under the root is readable or writable by another user (a whole
  workload, then a walk of every file and directory; the attack was reading
  container DBs with ACLs and temp-URL keys), nor is the generated config
  that holds the keys;
- a root (or tokens/) that another user can write, or that belongs to
  another user, is refused at start-up, naming the fix (the attack was a
  planted token file giving reseller-admin access);
- expiry markers stay one per expiring object however many POSTs change
  X-Delete-At, fail with 409 or precede a DELETE, and expired tokens are
  removed without being presented, a user holding at most 1000."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import pwd
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from harness import ServerStartError, stored_hash, unique, wait_until

pytestmark = pytest.mark.apache

ACCOUNT = "AUTH_test"
WWW = pwd.getpwnam("www-data")
NOBODY = pwd.getpwnam("nobody")
TOKEN_CAP = 1000  # auth::MAX_TOKENS_PER_USER


def walk(root: Path):
    """Every path under root, root included, without following links."""
    yield root
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            yield Path(dirpath) / n


def object_dir(srv, container: str, name: str) -> Path:
    return srv.object_dir(container, name, ACCOUNT)


def markers(srv) -> list:
    """Expiry marker files, whatever the layout (the sweep's lock aside)."""
    exp = srv.datadir / "expiring"
    return [p for p in exp.rglob("*") if p.is_file() and p.name != ".sweep"]


def marker_links(srv) -> list:
    """The markers' second names, by object hash (beside, never inside, the
    objects' hash directories)."""
    return list((srv.datadir / "expiring-links").glob("*/*/*.expiry"))


def as_nobody(*cmd) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "nobody", "--", *cmd],
                          capture_output=True, timeout=30)


def plant(path: Path, text: str):
    """A file as the server would have written it (www-data, 0600)."""
    path.write_text(text)
    os.chown(path, WWW.pw_uid, WWW.pw_gid)
    os.chmod(path, 0o600)


def plant_swift(path: Path, metadata: dict):
    """An empty object file with Swift's metadata (a pickled dict of bytes in
    user.swift.metadata, its MD5 in user.swift.metadata_checksum), as the
    server would have written it."""
    plant(path, "")
    raw = pickle.dumps({k.encode(): v.encode() for k, v in metadata.items()}, 2)
    os.setxattr(path, "user.swift.metadata", raw)
    os.setxattr(path, "user.swift.metadata_checksum", hashlib.md5(raw).hexdigest().encode())


# --------------------------------------------------------------------------
# Item 5: nothing readable or writable by others.
# --------------------------------------------------------------------------

def test_nothing_under_the_root_is_open_to_other_users(server_factory):
    srv = server_factory(extra_conf="StowageUser test:reader readerkey\n")
    c = srv.client()
    cont = unique("perm")
    c.put_container(cont, {"X-Container-Read": "test:reader",
                           "X-Container-Meta-Temp-Url-Key": "container-secret"})
    assert c.request("POST", "", {"X-Account-Meta-Temp-Url-Key": "account-secret"}).status == 204
    for i in range(5):
        c.put_object(cont, f"o{i}", os.urandom(1000), {"X-Object-Meta-I": str(i)})
    assert c.request("POST", f"{cont}/o0", {"X-Object-Meta-Posted": "1"}).status == 202
    assert c.request("DELETE", f"{cont}/o1").status == 204
    c.put_object(cont, "later", b"l", {"X-Delete-At": "9999999999"})
    c.put_object(cont, "soon", b"s", {"X-Delete-After": "1"})
    for _ in range(3):
        srv.auth()
        srv.auth("test:reader", "readerkey")
    # A flipped byte: the GET quarantines the object.
    data = next(object_dir(srv, cont, "o2").glob("*.data"))
    raw = bytearray(data.read_bytes())
    raw[0] ^= 1
    data.write_bytes(bytes(raw))
    assert c.request("GET", f"{cont}/o2").status == 404
    # The expired object is swept (tombstone, .sweep lock).
    assert wait_until(lambda: "soon" not in [o["name"] for o in c.listing(cont)], 10)

    root = srv.datadir
    # The attack: another local user reading a container DB (object names,
    # ACLs, the temp-URL key) or a token file.
    db = next((root / "containers").rglob("*.db"))
    assert b"container-secret" in db.read_bytes() + Path(f"{db}-wal").read_bytes()
    assert as_nobody("cat", str(db)).returncode != 0
    assert as_nobody("ls", str(root / "tokens")).returncode != 0
    # Nothing at all is open to others, nor owned by anyone else.
    paths = list(walk(root))
    open_to_others = []
    for p in paths:
        st = p.lstat()
        if st.st_mode & 0o077 or st.st_uid != WWW.pw_uid:
            open_to_others.append(f"{stat.filemode(st.st_mode)} uid {st.st_uid} {p}")
    assert not open_to_others, "\n".join(open_to_others)
    # The generated config holds the keys.
    assert stat.S_IMODE(os.stat(srv.conf).st_mode) == 0o600
    # The walk covered every kind of file (the DBs are open: WAL and shm).
    names = " ".join(str(p) for p in paths)
    for kind in (".db-wal", ".db-shm", ".db", "gates-v", "quarantined/objects", ".json",
                 "tokens/users", "expiring/.sweep", ".expiry", ".meta", ".ts", ".data",
                 str(root / "intents"), str(root / "tmp")):
        assert kind in names, f"no {kind} under {root}"


# --------------------------------------------------------------------------
# Item 6: a root others can write is refused at start-up.
# --------------------------------------------------------------------------

def refused(srv, *needles) -> str:
    with pytest.raises(ServerStartError) as e:
        srv.relaunch()
    text = str(e.value) + srv.diagnostics(200)
    for n in needles:
        assert n in text, f"{n!r} not in:\n{text[-3000:]}"
    return text


def test_a_root_other_users_can_write_is_refused(server_factory):
    srv = server_factory(extra_conf="StowageUser boss:admin bosskey .admin .reseller_admin\n")
    srv.auth()  # makes tokens/
    srv.stop()
    root = srv.datadir
    tokens = root / "tokens"

    # The attack: with a world-writable root, another user swaps tokens/
    # for their own and plants a reseller admin's token.
    os.chmod(root, 0o777)
    token = "AUTH_tk" + "ab" * 16
    expiry = f"{time.time() + 3600:.5f}"
    plant_script = (f"mv {tokens} {root}/tokens.old && mkdir {tokens} && "
                    f"printf 'boss:admin\\n{expiry}\\n' > "
                    f"{tokens}/{hashlib.sha256(token.encode()).hexdigest()}")
    planted = as_nobody("sh", "-c", plant_script)
    assert planted.returncode == 0, planted.stderr.decode(errors="replace")
    refused(srv, f"storage root {root} is writable by its group and every user (mode 0777)",
            "chmod go-w")
    # Root fixed, but tokens/ belongs to the other user.
    os.chmod(root, 0o700)
    refused(srv, f"{tokens} belongs to uid {NOBODY.pw_uid}", "chown")
    shutil.rmtree(tokens)
    os.rename(root / "tokens.old", tokens)
    # Group-writable is refused too, and so is a root owned by someone else.
    os.chmod(tokens, 0o770)
    refused(srv, f"{tokens} is writable by its group (mode 0770)")
    os.chmod(tokens, 0o700)
    os.chown(root, NOBODY.pw_uid, NOBODY.pw_gid)
    refused(srv, f"storage root {root} belongs to uid {NOBODY.pw_uid}")
    os.chown(root, WWW.pw_uid, WWW.pw_gid)

    # A directory of ours that others can only read is made 0700, with a
    # warning (on stderr: Apache checks the configuration before it opens
    # its error log), and the server starts.
    os.chmod(tokens, 0o755)
    srv.relaunch()
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o700
    assert f"{tokens} was readable by other local users (mode 0755): made it 0700" in \
        srv.diagnostics(200)
    # The planted token is gone with the planted directory.
    status, _, _ = srv.http_get(f"/v1/{ACCOUNT}", {"X-Auth-Token": token})
    assert status == 401


# --------------------------------------------------------------------------
# Item 7: markers and tokens do not accumulate.
# --------------------------------------------------------------------------

def test_expiry_markers_stay_one_per_object(server_factory):
    srv = server_factory()
    c = srv.client()
    cont = unique("exp")
    c.put_container(cont)
    c.put_object(cont, "o", b"x", {"X-Delete-At": "9999999999"})
    assert len(markers(srv)) == 1
    # The attack: POSTs with distinct X-Delete-At, as far away as allowed.
    for i in range(200):
        r = c.request("POST", f"{cont}/o", {"X-Delete-At": str(9999999999 - 3600 * i)})
        assert r.status == 202, r
    assert len(markers(srv)) == 1
    # ... nor empty directories for the hours of the replaced ones.
    hours = [p for p in (srv.datadir / "expiring").iterdir() if p.is_dir()]
    assert len(hours) == 1, hours
    assert c.request("HEAD", f"{cont}/o").header("X-Delete-At") == str(9999999999 - 3600 * 199)
    # Overwritten with another expiry, then without one.
    c.put_object(cont, "o", b"y", {"X-Delete-At": "9999990000"})
    assert len(markers(srv)) == 1
    c.put_object(cont, "o", b"z")
    assert markers(srv) == []

    # POSTs that fail with 409 (a newer metadata write is on disk) and PUTs
    # that lose to a newer tombstone (202) leave nothing.
    c.put_object(cont, "p", b"p")
    plant_swift(object_dir(srv, cont, "p") / "9999999990.00000.meta",
                {"name": f"/{ACCOUNT}/{cont}/p", "X-Timestamp": "9999999990.00000"})
    for i in range(50):
        r = c.request("POST", f"{cont}/p", {"X-Delete-At": str(9999999999 - i)})
        assert r.status == 409, r
    c.put_object(cont, "q", b"q")
    plant_swift(object_dir(srv, cont, "q") / "9999999990.00000.ts",
                {"name": f"/{ACCOUNT}/{cont}/q", "X-Timestamp": "9999999990.00000"})
    for i in range(20):
        r = c.request("PUT", f"{cont}/q", {"X-Delete-At": str(9999999999 - i)}, body=b"q")
        assert r.status == 202, r
    assert markers(srv) == []

    # Deleted: its marker goes with it.
    c.put_object(cont, "d", b"d", {"X-Delete-At": "9999999999"})
    assert c.request("POST", f"{cont}/d", {"X-Delete-At": "9999999998"}).status == 202
    assert len(markers(srv)) == 1
    assert len(marker_links(srv)) == 1
    assert c.request("DELETE", f"{cont}/d").status == 204
    assert markers(srv) == []
    assert marker_links(srv) == []

    # A marker left by a crash (written, then the process died before the
    # object) is dropped by the sweep once due.
    bucket = srv.datadir / "expiring" / "0000003600"
    bucket.mkdir()
    os.chown(bucket, WWW.pw_uid, WWW.pw_gid)
    h = stored_hash(srv.datadir, ACCOUNT, cont, "never")
    plant(bucket / f"0000003601-{h}-0000003000.00000", json.dumps([ACCOUNT, cont, "never"]))
    assert wait_until(lambda: not bucket.exists(), 10,
                      poke=lambda: srv.http_get("/healthcheck")), "stale marker not swept"


@pytest.mark.serial  # the sweep's timing, measured
def test_expired_tokens_are_removed_without_being_presented(server_factory):
    srv = server_factory(extra_conf="StowageTokenLife 2\nStowageUser test:two twokey\n")
    tokens = srv.datadir / "tokens"

    def token_files():
        return [p for p in tokens.iterdir() if p.is_file()] if tokens.exists() else []

    issued = [srv.auth()[1] for _ in range(20)] + \
        [srv.auth("test:two", "twokey")[1] for _ in range(20)]
    assert len(set(issued)) == 40
    assert len(token_files()) == 40
    start = time.monotonic()
    # Expired after 2 s; the reaper takes the sweep's turn (every 2 s, after
    # some request): none of these tokens is ever presented again.
    assert wait_until(lambda: token_files() == [], 10,
                      poke=lambda: srv.http_get("/healthcheck")), token_files()
    took = time.monotonic() - start
    assert took < 2 + 2 + 1.5, took
    assert list((tokens / "users").iterdir()) == []


def test_a_user_cannot_pile_up_tokens(server_factory):
    srv = server_factory()
    tokens = srv.datadir / "tokens"
    first = srv.auth()[1]
    for _ in range(TOKEN_CAP + 50):
        srv.auth()
    files = [p for p in tokens.iterdir() if p.is_file()]
    assert len(files) == TOKEN_CAP, len(files)
    # The oldest went first (a process that cached it may still accept it
    # until it expires: the cap bounds the disk, it does not revoke).
    assert not (tokens / hashlib.sha256(first.encode()).hexdigest()).exists()
