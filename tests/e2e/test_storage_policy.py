"""Storage policies (StowageStoragePolicy, as swift.conf's
[storage-policy:N]): X-Storage-Policy on container PUT, HEAD/GET, the
account's per-policy counts and listings, /info. Every answer here is the
one a real Swift 2.38.3 with the same policies gives (tests/diff runs the
same policies against it)."""

import json
import xml.etree.ElementTree as ET

import pytest

from harness import unique

pytestmark = pytest.mark.apache

POLICIES = ("StowageStoragePolicy 0 Policy-0 default\n"
            "StowageStoragePolicy 1 gold aliases=yellow,orange\n"
            "StowageStoragePolicy 2 silver deprecated\n")


@pytest.fixture(scope="module")
def srv():
    from harness import start_server, stop_server
    s = start_server(extra_conf=POLICIES)
    yield s
    assert not stop_server(s)


def test_put_head_conflict_and_recreate(srv):
    s = srv.client()
    c = unique("pol")
    assert s.request("PUT", c, {"X-Storage-Policy": "YELLOW"}).status == 201
    assert s.request("HEAD", c).header("X-Storage-Policy") == "gold"
    assert s.request("GET", c).header("X-Storage-Policy") == "gold"
    assert s.request("PUT", c, {"X-Storage-Policy": "orange"}).status == 202
    assert s.request("PUT", c).status == 202  # no policy asked: unchanged
    r = s.request("PUT", c, {"X-Storage-Policy": "Policy-0"})
    assert (r.status, r.text) == (409, "<html><h1>Conflict</h1><p>There was a conflict when "
                                       "trying to complete your request.</p></html>")
    assert s.request("HEAD", c).header("X-Storage-Policy") == "gold"
    # deleted, then created again: the new PUT's policy
    assert s.request("DELETE", c).status == 204
    assert s.request("PUT", c).status == 201
    assert s.request("HEAD", c).header("X-Storage-Policy") == "Policy-0"


@pytest.mark.parametrize("name,body", [
    ("platinum", "Invalid X-Storage-Policy 'platinum'"),
    ("silver", "Storage Policy 'silver' is deprecated"),
    ("SILVER", "Storage Policy 'silver' is deprecated"),
])
def test_unknown_or_deprecated_policy_400(srv, name, body):
    s = srv.client()
    c = unique("bad")
    r = s.request("PUT", c, {"X-Storage-Policy": name})
    assert (r.status, r.text.rstrip("\n")) == (400, body)
    assert s.request("HEAD", c).status == 404


def test_account_counts_per_policy_and_listings(srv):
    s = srv.client()
    a, g = unique("plain"), unique("gold")
    assert s.request("PUT", a).status == 201
    assert s.request("PUT", g, {"X-Storage-Policy": "gold"}).status == 201
    s.put_object(g, "o", b"abcdefg")
    h = s.request("HEAD", "")
    assert h.header("X-Account-Storage-Policy-Gold-Container-Count") is not None
    assert int(h.header("X-Account-Storage-Policy-Gold-Bytes-Used")) >= 7
    assert int(h.header("X-Account-Storage-Policy-Policy-0-Container-Count")) >= 1
    assert not any("silver" in n.lower() for n in h.headers)
    rows = {r["name"]: r for r in s.listing("", prefix="")}
    assert rows[a]["storage_policy"] == "Policy-0"
    assert rows[g]["storage_policy"] == "gold"
    r = s.request("GET", "", query={"format": "xml"})
    policy = {c.findtext("name"): c.findtext("storage_policy")
              for c in ET.fromstring(r.body).findall("container")}
    assert policy[g] == "gold" and policy[a] == "Policy-0"


def test_info_lists_policies_not_deprecated(srv):
    status, _, body = srv.http_get("/info")
    assert status == 200
    assert json.loads(body)["swift"]["policies"] == [
        {"name": "Policy-0", "aliases": "Policy-0", "default": True},
        {"name": "gold", "aliases": "gold, yellow, orange"},
    ]


def test_default_is_policy_0(server):
    status, _, body = server.http_get("/info")
    assert json.loads(body)["swift"]["policies"] == [
        {"name": "Policy-0", "aliases": "Policy-0", "default": True}]
    s = server.client()
    c = unique("dflt")
    assert s.request("PUT", c).status == 201
    assert s.request("HEAD", c).header("X-Storage-Policy") == "Policy-0"


@pytest.mark.parametrize("conf,why", [
    ("StowageStoragePolicy 1 gold default\n", "index 0 must be declared"),
    ("StowageStoragePolicy 0 a\nStowageStoragePolicy 1 b\n", "none is marked default"),
    ("StowageStoragePolicy 0 a default deprecated\n", "cannot be the default"),
    ("StowageStoragePolicy 1 Policy-0\n", "reserved for index 0"),
    ("StowageStoragePolicy 0 a default\nStowageStoragePolicy 1 A\n", "is used by indexes"),
])
def test_bad_policies_stop_apache(conf, why):
    from harness import ServerStartError, start_server, stop_server
    try:
        s = start_server(extra_conf=conf)
    except ServerStartError as e:
        assert why in str(e), e
        return
    stop_server(s)
    pytest.fail(f"Apache started with {conf!r}")
