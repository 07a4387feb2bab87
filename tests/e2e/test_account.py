"""Account listings, exact account counters, account metadata."""

import re
import xml.etree.ElementTree as ET

import pytest

from harness import EXTRA_USERS, unique

LM_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture(scope="module")
def acct(server):
    """Containers <p>-a (2 objects, 7 bytes), <p>-b-1, <p>-b-2, <p>-c (empty)
    in AUTH_test."""
    swift = server.client()
    p = unique("acct")
    for suffix in ("a", "b-1", "b-2", "c"):
        swift.put_container(f"{p}-{suffix}")
    swift.put_object(f"{p}-a", "one", b"1234")
    swift.put_object(f"{p}-a", "two", b"567")
    swift.put_object(f"{p}-b-2", "x", b"x" * 10)
    return p


def names(swift, **params):
    return [row.get("name", row.get("subdir")) for row in swift.listing("", **params)]


def test_listing_json_rows(swift, acct):
    p = acct
    rows = swift.listing("", prefix=p)
    assert [r["name"] for r in rows] == [f"{p}-a", f"{p}-b-1", f"{p}-b-2", f"{p}-c"]
    by = {r["name"]: r for r in rows}
    assert (by[f"{p}-a"]["count"], by[f"{p}-a"]["bytes"]) == (2, 7)
    assert (by[f"{p}-b-2"]["count"], by[f"{p}-b-2"]["bytes"]) == (1, 10)
    assert (by[f"{p}-c"]["count"], by[f"{p}-c"]["bytes"]) == (0, 0)
    for r in rows:
        if "last_modified" in r:
            assert LM_RE.match(r["last_modified"]), r


def test_listing_plain_and_xml(swift, acct):
    p = acct
    r = swift.request("GET", "", query={"prefix": p})
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain")
    assert r.text == "".join(f"{p}-{s}\n" for s in ("a", "b-1", "b-2", "c"))
    r = swift.request("GET", "", query={"prefix": p, "format": "xml"})
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/xml")
    root = ET.fromstring(r.body)
    assert root.tag == "account" and root.get("name") == "AUTH_test"
    cs = root.findall("container")
    assert [c.findtext("name") for c in cs] == [f"{p}-a", f"{p}-b-1", f"{p}-b-2", f"{p}-c"]
    assert (cs[0].findtext("count"), cs[0].findtext("bytes")) == ("2", "7")


def test_listing_params(swift, acct):
    p = acct
    assert names(swift, prefix=f"{p}-b") == [f"{p}-b-1", f"{p}-b-2"]
    rows = swift.listing("", prefix=f"{p}-", delimiter="-")
    assert [r.get("name", r.get("subdir")) for r in rows] == [f"{p}-a", f"{p}-b-", f"{p}-c"]
    assert {"subdir": f"{p}-b-"} in rows
    assert names(swift, prefix=p, marker=f"{p}-b-1") == [f"{p}-b-2", f"{p}-c"]
    assert names(swift, prefix=p, end_marker=f"{p}-b-2") == [f"{p}-a", f"{p}-b-1"]
    assert names(swift, prefix=p, limit=2) == [f"{p}-a", f"{p}-b-1"]
    assert names(swift, prefix=p, limit=1, marker=f"{p}-a") == [f"{p}-b-1"]
    assert names(swift, prefix=p, reverse="true") == [f"{p}-c", f"{p}-b-2", f"{p}-b-1", f"{p}-a"]
    assert names(swift, prefix=p, reverse="true", marker=f"{p}-b-2") == [f"{p}-b-1", f"{p}-a"]
    r = swift.request("GET", "", query={"limit": "10001"})
    assert r.status == 412, r


def test_counters_exact(server):
    key, _ = EXTRA_USERS["stats:admin"]
    s = server.client("stats:admin", key)
    assert s.account_path == "/v1/AUTH_stats"

    def counts(fresh=False):
        h = s.request("HEAD", "")
        # Swift answers 200 (not 204) for an account that was never written
        # (its autocreate path fakes a JSON listing); 204 once it exists.
        assert h.status == (200 if fresh else 204), h
        return (int(h.header("X-Account-Container-Count")),
                int(h.header("X-Account-Object-Count")),
                int(h.header("X-Account-Bytes-Used")))

    assert counts(fresh=True) == (0, 0, 0)
    r = s.request("GET", "")
    assert r.status == 204, r          # empty plain listing
    assert s.listing("") == []

    s.put_container("one")
    s.put_container("two")
    assert counts() == (2, 0, 0)
    s.put_object("one", "a", b"x")
    s.put_object("one", "b", b"x" * 10)
    s.put_object("two", "c", b"x" * 100)
    assert counts() == (2, 3, 111)
    s.put_object("one", "b", b"x" * 20)          # overwrite
    assert counts() == (2, 3, 121)
    assert s.request("DELETE", "one/a").status == 204
    assert counts() == (2, 2, 120)
    assert s.request("DELETE", "two/c").status == 204
    assert s.request("DELETE", "two").status == 204
    assert counts() == (1, 1, 20)
    g = s.request("GET", "", query={"format": "json"})
    assert g.header("X-Account-Container-Count") == "1"
    assert [(r["name"], r["count"], r["bytes"]) for r in g.json()] == [("one", 1, 20)]


def test_account_metadata(server):
    key, _ = EXTRA_USERS["acctmeta:admin"]
    s = server.client("acctmeta:admin", key)
    r = s.request("POST", "", {"X-Account-Meta-Color": "blue", "X-Account-Meta-Size": "xl"})
    assert r.status == 204, r
    h = s.request("HEAD", "")
    assert h.header("X-Account-Meta-Color") == "blue"
    assert h.header("X-Account-Meta-Size") == "xl"
    r = s.request("POST", "", {"X-Remove-Account-Meta-Color": "x"})
    assert r.status == 204, r
    h = s.request("HEAD", "")
    assert h.header("X-Account-Meta-Color") is None
    assert h.header("X-Account-Meta-Size") == "xl"
    r = s.request("POST", "", {"X-Account-Meta-Size": ""})
    assert r.status == 204, r
    assert s.request("GET", "").header("X-Account-Meta-Size") is None
    r = s.request("POST", "", {"X-Account-Meta-Big": "v" * 257})
    assert r.status == 400, r
