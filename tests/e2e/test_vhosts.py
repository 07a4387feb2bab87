"""Two virtual hosts with separate StowageRoots never share data."""

import os
import pwd
from pathlib import Path

import pytest

from harness import HTTP, SwiftClient, data_files, unique

pytestmark = pytest.mark.apache


def _second_vhost(ctx):
    port2 = ctx.extra_ports[0]
    data2 = ctx.tmp / "data2"
    data2.mkdir()
    if os.geteuid() == 0:  # the children run as www-data
        pw = pwd.getpwnam("www-data")
        os.chown(data2, pw.pw_uid, pw.pw_gid)
    return f"""
Listen 127.0.0.1:{port2}
<VirtualHost 127.0.0.1:{port2}>
    ServerName vhost-two.test
    AllowEncodedSlashes NoDecode
    MergeSlashes Off
    StowageRoot {data2}
    StowageUser test:tester testing .admin
    <Location />
        SetHandler stowage
    </Location>
</VirtualHost>
"""


class _Port2:
    """The server object, seen through its second port."""

    def __init__(self, srv):
        self.srv, self.port = srv, srv.extra_ports[0]

    def auth(self, user, key):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        url, tok = r.getheader("X-Storage-Url"), r.getheader("X-Auth-Token")
        c.close()
        return url, tok


def _files_containing(root: Path, marker: bytes) -> list:
    hits = []
    for rel in data_files(root):
        p = root / rel
        try:
            if marker in p.read_bytes():
                hits.append(rel)
        except OSError:
            pass
    return hits


def test_two_vhosts_do_not_mix(server_factory):
    srv = server_factory(extra_server_conf=_second_vhost, extra_ports=1)
    one = SwiftClient(srv)
    two = SwiftClient(_Port2(srv))
    assert two.storage_url.endswith(f":{srv.extra_ports[0]}/v1/AUTH_test")
    assert one.account_path == two.account_path == "/v1/AUTH_test"

    c = "shared-name"
    m1, m2 = unique("MARKER-ONE").encode(), unique("MARKER-TWO").encode()
    one.put_container(c)
    one.put_object(c, "obj", m1 * 100)
    one.put_object(c, "only-on-one", b"1")

    # the other vhost sees nothing of it
    assert two.request("HEAD", c).status == 404
    assert two.request("GET", f"{c}/obj").status == 404
    assert two.listing("") == []

    two.put_container(c)
    assert two.request("GET", f"{c}/obj").status == 404
    two.put_object(c, "obj", m2 * 100)

    assert one.request("GET", f"{c}/obj").body == m1 * 100
    assert two.request("GET", f"{c}/obj").body == m2 * 100
    assert [x["name"] for x in one.listing(c)] == ["obj", "only-on-one"]
    assert [x["name"] for x in two.listing(c)] == ["obj"]
    h1, h2 = one.request("HEAD", ""), two.request("HEAD", "")
    assert (h1.header("X-Account-Object-Count"), h2.header("X-Account-Object-Count")) == ("2", "1")

    # tokens are per vhost
    r = two.http.request("HEAD", "/v1/AUTH_test", {"X-Auth-Token": one.token})
    assert r.status == 401, r

    # deleting on one leaves the other alone
    assert one.request("DELETE", f"{c}/obj").status == 204
    assert two.request("GET", f"{c}/obj").body == m2 * 100

    data1, data2 = srv.datadir, srv.tmp / "data2"
    assert data_files(data1) and data_files(data2)
    assert _files_containing(data2, m2) and not _files_containing(data1, m2)
    assert not _files_containing(data2, m1)
