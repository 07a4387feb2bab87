"""Container listings: plain, json, xml; prefix, delimiter, marker,
end_marker, limit, reverse; pagination over thousands of objects."""

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import md5hex, unique

LM_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")

OBJECTS = {
    "a": (b"A" * 3, "text/plain"),
    "b/1": (b"B1", "application/x-one"),
    "b/2": (b"", "application/x-two"),
    "c": (b"C" * 100, "image/png"),
    "d/x/y": (b"dxy", "text/x-deep"),
    "e": (b"E", "application/octet-stream"),
}
NAMES = sorted(OBJECTS)


@pytest.fixture(scope="module")
def populated(server):
    swift = server.client()
    c = unique("list")
    swift.put_container(c)
    for name, (data, ctype) in OBJECTS.items():
        swift.put_object(c, name, data, {"Content-Type": ctype})
    return c


def names(swift, c, **params):
    return [row.get("name", row.get("subdir")) for row in swift.listing(c, **params)]


def test_plain(swift, populated):
    r = swift.request("GET", populated)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain")
    assert "charset=utf-8" in r.header("Content-Type").lower()
    assert r.text == "".join(n + "\n" for n in NAMES)
    r = swift.request("GET", populated, query={"format": "plain"})
    assert r.text == "".join(n + "\n" for n in NAMES)


def test_json_rows(swift, populated):
    r = swift.request("GET", populated, query={"format": "json"})
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    rows = r.json()
    assert [row["name"] for row in rows] == NAMES
    for row in rows:
        data, ctype = OBJECTS[row["name"]]
        assert row["hash"] == md5hex(data)
        assert row["bytes"] == len(data)
        assert row["content_type"] == ctype
        assert LM_RE.match(row["last_modified"]), row


def test_json_via_accept_header(swift, populated):
    r = swift.request("GET", populated, {"Accept": "application/json"})
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    assert [row["name"] for row in r.json()] == NAMES


def test_xml(swift, populated):
    r = swift.request("GET", populated, query={"format": "xml"})
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/xml")
    assert r.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(r.body)
    assert root.tag == "container" and root.get("name") == populated
    objs = root.findall("object")
    assert [o.findtext("name") for o in objs] == NAMES
    for o in objs:
        data, ctype = OBJECTS[o.findtext("name")]
        assert o.findtext("hash") == md5hex(data)
        assert o.findtext("bytes") == str(len(data))
        assert o.findtext("content_type") == ctype
        assert LM_RE.match(o.findtext("last_modified"))


def test_xml_via_accept_text_xml(swift, populated):
    """Accept chose text/xml: the answer says text/xml (format=xml and
    Accept: application/xml say application/xml)."""
    r = swift.request("GET", populated, {"Accept": "application/json;q=0.5, text/xml"})
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/xml; charset=utf-8"
    assert [o.findtext("name") for o in ET.fromstring(r.body).findall("object")] == NAMES
    r = swift.request("GET", populated, {"Accept": "text/xml"}, query={"format": "xml"})
    assert r.header("Content-Type") == "application/xml; charset=utf-8"


def test_json_keys_in_swifts_order(swift, populated):
    r = swift.request("GET", populated, query={"format": "json", "limit": "1"})
    assert r.status == 200, r
    assert re.fullmatch(rb'\[\{"bytes": 3, "hash": "[0-9a-f]{32}", "name": "a", '
                        rb'"content_type": "text/plain", "last_modified": "[-0-9T:.]+"\}\]',
                        r.body), r.body


def test_listed_type_parameters_without_spaces(swift, container):
    """Swift's container server lists a type's parameters re-joined with
    no spaces; HEAD of the object keeps the type as it was sent."""
    swift.put_object(container, "o", b"x", {"Content-Type": "text/html; charset=utf-8;  q=1"})
    assert swift.request("HEAD", f"{container}/o").header("Content-Type") == \
        "text/html; charset=utf-8;  q=1"
    assert swift.listing(container)[0]["content_type"] == "text/html;charset=utf-8;q=1"
    r = swift.request("GET", container, query={"format": "xml"})
    assert ET.fromstring(r.body).find("object").findtext("content_type") == \
        "text/html;charset=utf-8;q=1"


def test_path_lists_one_directory(swift, container):
    """The deprecated ?path=: the objects directly in that directory (not
    the directory's own marker object, nothing deeper, no subdirs)."""
    for name in ["a", "a/", "a/b", "a/b/", "a/b/c", "a/d", "x/", "x/y", "z"]:
        swift.put_object(container, name, b"x")
    assert names(swift, container, path="a") == ["a/b", "a/b/", "a/d"]
    assert names(swift, container, path="a/", prefix="x", delimiter="-") == ["a/b", "a/b/", "a/d"]
    assert names(swift, container, path="") == ["a", "a/", "x/", "z"]
    assert names(swift, container, path="nothing") == []
    r = swift.request("GET", container, query={"path": "nothing"})
    assert r.status == 204, r


def test_nul_in_markers_lists(swift, populated):
    """A NUL in marker or end_marker is just a bound (no name has one)."""
    assert names(swift, populated, marker="b\x00") == ["b/1", "b/2", "c", "d/x/y", "e"]
    assert names(swift, populated, end_marker="c\x00") == ["a", "b/1", "b/2", "c"]
    assert names(swift, populated, marker="\x00", limit=1) == ["a"]
    r = swift.request("GET", populated, query={"prefix": "\x00"})
    assert r.status == 204, r


def test_prefix(swift, populated):
    assert names(swift, populated, prefix="b/") == ["b/1", "b/2"]
    assert names(swift, populated, prefix="d") == ["d/x/y"]
    assert names(swift, populated, prefix="zz") == []


def test_delimiter(swift, populated):
    rows = swift.listing(populated, delimiter="/")
    assert [r.get("name", r.get("subdir")) for r in rows] == ["a", "b/", "c", "d/", "e"]
    assert {"subdir": "b/"} in rows and {"subdir": "d/"} in rows
    assert names(swift, populated, prefix="d/", delimiter="/") == ["d/x/"]
    assert names(swift, populated, prefix="b/", delimiter="/") == ["b/1", "b/2"]
    r = swift.request("GET", populated, query={"delimiter": "/"})
    assert r.text == "a\nb/\nc\nd/\ne\n"


def test_delimiter_xml_subdir(swift, populated):
    r = swift.request("GET", populated, query={"format": "xml", "delimiter": "/"})
    root = ET.fromstring(r.body)
    subdirs = root.findall("subdir")
    assert [s.get("name") for s in subdirs] == ["b/", "d/"]
    assert [s.findtext("name") for s in subdirs] == ["b/", "d/"]


def test_marker_end_marker_limit(swift, populated):
    assert names(swift, populated, marker="b/1") == ["b/2", "c", "d/x/y", "e"]
    assert names(swift, populated, marker="b") == ["b/1", "b/2", "c", "d/x/y", "e"]
    assert names(swift, populated, end_marker="c") == ["a", "b/1", "b/2"]
    assert names(swift, populated, marker="a", end_marker="d/x/y") == ["b/1", "b/2", "c"]
    assert names(swift, populated, limit=2) == ["a", "b/1"]
    assert names(swift, populated, limit=2, marker="b/2") == ["c", "d/x/y"]
    assert names(swift, populated, marker="e") == []


def test_reverse(swift, populated):
    assert names(swift, populated, reverse="true") == NAMES[::-1]
    assert names(swift, populated, reverse="true", limit=2) == ["e", "d/x/y"]
    assert names(swift, populated, reverse="true", marker="c") == ["b/2", "b/1", "a"]
    assert names(swift, populated, reverse="true", end_marker="c") == ["e", "d/x/y"]
    assert names(swift, populated, reverse="true", delimiter="/") == ["e", "d/", "c", "b/", "a"]


def test_limit_above_maximum_is_412(swift, populated):
    r = swift.request("GET", populated, query={"limit": "10001", "format": "json"})
    assert r.status == 412, r
    r = swift.request("GET", populated, query={"limit": "10000", "format": "json"})
    assert r.status == 200, r


def test_empty_container(swift, container):
    r = swift.request("GET", container)
    assert r.status == 204, r
    assert r.body == b""
    r = swift.request("GET", container, query={"format": "json"})
    assert r.status == 200, r
    assert r.json() == []
    r = swift.request("GET", container, query={"format": "xml"})
    assert r.status == 200, r
    root = ET.fromstring(r.body)
    assert root.tag == "container" and list(root) == []


@pytest.mark.slow
def test_pagination_2500_objects(server, swift):
    c = unique("page")
    swift.put_container(c)
    # Names of varying shape so byte order is exercised, not just numbering.
    all_names = [f"obj-{i:05d}" for i in range(2000)] + \
                [f"{chr(0x61 + i % 26)}/{i}-{unique('n')}" for i in range(450)] + \
                [f"ü-{i}" for i in range(25)] + [f"Z{i}" for i in range(25)]
    assert len(set(all_names)) == 2500

    def put(name):
        r = swift.request("PUT", f"{c}/{name}", body=b"")
        assert r.status == 201, (name, r)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(put, all_names))

    h = swift.request("HEAD", c)
    assert h.header("X-Container-Object-Count") == "2500"

    expected = sorted(all_names, key=lambda s: s.encode("utf-8"))
    got, marker, pages = [], "", 0
    while True:
        page = names(swift, c, limit=700, marker=marker)
        pages += 1
        if not page:
            break
        assert len(page) <= 700
        got.extend(page)
        marker = page[-1]
    assert pages == 5
    assert got == expected

    # plain listing with the default limit holds them all
    r = swift.request("GET", c)
    assert r.text.splitlines() == expected

    # paging backwards
    got, marker = [], ""
    while True:
        page = names(swift, c, limit=1000, marker=marker, reverse="true")
        if not page:
            break
        got.extend(page)
        marker = page[-1]
    assert got == expected[::-1]
