"""Listings carry arbitrary names faithfully: XML and JSON escaping, UTF-8,
query parameters that are themselves percent-encoded."""

import json
import xml.etree.ElementTree as ET

import pytest

from harness import unique

pytestmark = pytest.mark.beyond_brief

CTYPE = "application/x-&<odd>\"'"
NAMES = ['amp&er', 'lt<gt>', 'quote"apos\'', 'ünï/cødé ☃', 'tab\tin', 'back\\slash',
         'percent%25', 'plus+sign', 'emoji 🚀']


def test_escaping_in_all_formats(swift, container):
    for n in NAMES:
        swift.put_object(container, n, n.encode(), {"Content-Type": CTYPE})
    expected = sorted(NAMES, key=str.encode)
    r = swift.request("GET", container, query={"format": "json"})
    rows = json.loads(r.body.decode("utf-8"))
    assert [x["name"] for x in rows] == expected
    assert {x["content_type"] for x in rows} == {CTYPE}
    r = swift.request("GET", container, query={"format": "xml"})
    root = ET.fromstring(r.body)
    assert [o.findtext("name") for o in root.findall("object")] == expected
    assert {o.findtext("content_type") for o in root.findall("object")} == {CTYPE}
    r = swift.request("GET", container)
    assert r.body.decode("utf-8") == "".join(n + "\n" for n in expected)


def test_unicode_prefix_marker_delimiter(swift, container):
    for n in ("ü/1", "ü/2", "üx", "u/1", "☃/a/b"):
        swift.put_object(container, n, b"")
    rows = swift.listing(container, prefix="ü")
    assert [x["name"] for x in rows] == ["ü/1", "ü/2", "üx"]
    rows = swift.listing(container, delimiter="/")
    assert [x.get("name", x.get("subdir")) for x in rows] == ["u/", "ü/", "üx", "☃/"]
    rows = swift.listing(container, marker="ü/1")
    assert [x["name"] for x in rows] == ["ü/2", "üx", "☃/a/b"]
    rows = swift.listing(container, prefix="☃/", delimiter="/")
    assert rows == [{"subdir": "☃/a/"}]


def test_multi_character_delimiter(swift, container):
    for n in ("a--b--c", "a--d", "e"):
        swift.put_object(container, n, b"")
    rows = swift.listing(container, delimiter="--")
    assert [x.get("name", x.get("subdir")) for x in rows] == ["a--", "e"]


def test_invalid_utf8_query_parameter_is_400(swift, container):
    r = swift.request("GET", container, query="prefix=%FF&format=json")
    assert r.status == 400, r
    r = swift.request("GET", "", query="marker=%C3&format=json")
    assert r.status == 400, r


def test_account_listing_unicode_containers(swift):
    p = unique("uni")
    names = [f"{p}-ü", f"{p}-☃", f"{p}-a<b>&"]
    for n in names:
        swift.put_container(n)
    rows = swift.listing("", prefix=p)
    assert [x["name"] for x in rows] == sorted(names, key=str.encode)
    r = swift.request("GET", "", query={"prefix": p, "format": "xml"})
    root = ET.fromstring(r.body)
    assert [c.findtext("name") for c in root.findall("container")] == sorted(names, key=str.encode)
