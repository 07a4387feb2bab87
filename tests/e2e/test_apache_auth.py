"""Apache's own authentication (mod_auth_basic + htpasswd) mapped to Swift
accounts with StowageApacheAuth / StowageApacheUser, side by side with
tokens; and configuration errors caught by `apache2 -t`."""

import base64
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import (APACHE, CONFIG_SCRIPT, HTTP, free_ports, start_server, stop_server,
                     unique)

pytestmark = pytest.mark.apache

PASSWORDS = {"alice": "alicepw", "bob": "bobpw", "carol": "carolpw"}
ACCOUNT = "/v1/AUTH_web"


def basic(user, password=None):
    raw = f"{user}:{password or PASSWORDS[user]}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture(scope="module")
def srv():
    def conf(ctx):
        htpasswd = ctx.tmp / "htpasswd"
        for i, (user, pw) in enumerate(PASSWORDS.items()):
            flags = "-cbB" if i == 0 else "-bB"
            subprocess.run(["htpasswd", flags, str(htpasswd), user, pw], check=True,
                           capture_output=True)
        os.chmod(htpasswd, 0o644)
        return f"""
StowageApacheAuth On
StowageApacheUser alice web .admin
StowageApacheUser bob web
StowageUser web:tok tokkey .admin
<Location "{ACCOUNT}">
    AuthType Basic
    AuthName "stowage"
    AuthBasicProvider file
    AuthUserFile "{htpasswd}"
    Require valid-user
</Location>
"""
    s = start_server(extra_conf=conf)
    try:
        yield s
    finally:
        assert not stop_server(s)


def test_apache_denies_without_credentials(srv):
    h = HTTP(srv.port)
    r = h.request("GET", ACCOUNT)
    assert r.status == 401
    assert r.header("WWW-Authenticate", "").startswith("Basic")
    assert h.request("GET", ACCOUNT, basic("alice", "wrong")).status == 401


def test_mapped_admin_owns_the_account(srv):
    h = HTTP(srv.port)
    c = unique("web")
    assert h.request("PUT", f"{ACCOUNT}/{c}", basic("alice")).status == 201
    assert h.request("PUT", f"{ACCOUNT}/{c}/o", basic("alice"), b"hi").status == 201
    r = h.request("GET", f"{ACCOUNT}/{c}/o", basic("alice"))
    assert r.status == 200 and r.body == b"hi"
    assert h.request("GET", ACCOUNT, basic("alice")).status == 200


def test_mapped_user_needs_acls(srv):
    h = HTTP(srv.port)
    c = unique("web")
    assert h.request("PUT", f"{ACCOUNT}/{c}", basic("alice")).status == 201
    assert h.request("PUT", f"{ACCOUNT}/{c}/o", basic("alice"), b"hi").status == 201
    assert h.request("GET", f"{ACCOUNT}/{c}/o", basic("bob")).status == 403
    assert h.request("GET", ACCOUNT, basic("bob")).status == 403
    # ACLs name a mapped user as <account>:<apache-user>.
    r = h.request("POST", f"{ACCOUNT}/{c}", {**basic("alice"), "X-Container-Read": "web:bob"})
    assert r.status == 204
    assert h.request("GET", f"{ACCOUNT}/{c}/o", basic("bob")).body == b"hi"
    assert h.request("PUT", f"{ACCOUNT}/{c}/x", basic("bob"), b"x").status == 403


def test_unmapped_apache_user_403(srv):
    h = HTTP(srv.port)
    assert h.request("GET", ACCOUNT, basic("carol")).status == 403


def test_tokens_still_work(srv):
    _, token = srv.auth("web:tok", "tokkey")
    h = HTTP(srv.port)
    c = unique("tok")
    # Apache still wants its credentials on this location; the token decides.
    r = h.request("PUT", f"{ACCOUNT}/{c}", {**basic("bob"), "X-Auth-Token": token})
    assert r.status == 201, r
    # Elsewhere, tokens alone, as before.
    _, t2 = srv.auth()
    assert h.request("GET", "/v1/AUTH_test", {"X-Auth-Token": t2}).status in (200, 204)


def test_only_mode_ignores_tokens(server_factory):
    srv = server_factory(extra_conf="StowageApacheAuth Only\n")
    status, _, _ = srv.http_get("/auth/v1.0", {"X-Auth-User": "test:tester",
                                               "X-Auth-Key": "testing"})
    assert status == 401
    # A token (even a made-up one) is ignored: the caller is anonymous.
    r = HTTP(srv.port).request("GET", "/v1/AUTH_test", {"X-Auth-Token": "AUTH_tk" + "0" * 32})
    assert r.status == 401
    assert r.header("Www-Authenticate") is None


def config_test(extra: str) -> subprocess.CompletedProcess:
    tmp = Path(tempfile.mkdtemp(prefix="stowage-t-"))
    os.chmod(tmp, 0o755)
    try:
        (tmp / "extra.conf").write_text(extra)
        port = free_ports(1)[0]
        res = subprocess.run([str(CONFIG_SCRIPT), str(tmp / "run"), str(port), str(tmp / "data"),
                              str(tmp / "extra.conf")], capture_output=True, text=True,
                             timeout=60, check=True)
        conf = res.stdout.strip().splitlines()[-1]
        return subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True,
                              timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("line,needle", [
    ("StowageApacheAuth maybe", "StowageApacheAuth maybe"),
    ("StowageApacheUser alice a/b", "invalid account name"),
    ("StowageApacheUser alice test .root", "unknown role .root"),
    ("StowageApacheUser alice", "StowageApacheUser takes"),
])
def test_bad_directives_fail_config_test(line, needle):
    res = config_test(line + "\n")
    assert res.returncode != 0, res
    assert needle in res.stderr + res.stdout


def test_good_directives_pass_config_test():
    res = config_test("StowageApacheAuth On\nStowageApacheUser alice test .admin\n")
    assert res.returncode == 0, res.stderr
