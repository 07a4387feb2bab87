"""Object semantics as Swift 2.38 has them (issue 18; tests/diff compares
each with a real Swift): the guessed Content-Type, POST's new type and its
listing row, the PUT ETag check, swift_* type parameters, the kept headers,
far X-Delete-At times, X-If-Delete-At, and Range on copies."""

import hashlib
import mimetypes
import re

import pytest


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


# Names whose type Swift's proxy guesses with Python's mimetypes: the
# expected values are Python's own answers on this machine (the same table
# Swift reads), so the test holds wherever /etc/mime.types differs.
GUESS_NAMES = ["a.txt", "a.TXT", "a.html", "a.json", "a.js", "a.css", "a.csv", "a.xml",
               "a.svg", "a.svgz", "a.png", "a.jpg", "a.JPEG", "a.webp", "a.pdf", "a.zip",
               "a.tar", "a.tar.gz", "a.tgz", "a.TGZ", "a.gz", "a.GZ", "a.tar.GZ", "a.tar.bz2",
               "a.tar.xz", "a.txz", "a.Z", "a.tar.Z", "a.br", "a.7z", "a.mp3", "a.mp4",
               "a.ogg", "a.md", "a.yaml", "a.py", "a.c", "a.sh", "a.docx", "a.xlsx", "a.odt",
               "a.wasm", "a.woff2", "a.rtf", "a.avif", "a.exe", "a.iso", "a.deb", "a.ics",
               "a.m3u8", "a.flac", "a.eml", "a.pem", "a.", ".txt", "..txt", "d/.h.txt",
               "a.txt/", "noext", "a.unknownext", "a.b.c.html", "caf\u00e9.txt",
               "a.tar.gz.txt"]


def test_guessed_types_are_pythons(swift, container):
    for name in GUESS_NAMES:
        swift.put_object(container, name, b"g")
        want = mimetypes.guess_type("/v1/AUTH_test/c/" + name)[0] or "application/octet-stream"
        got = swift.request("HEAD", f"{container}/{name}").header("Content-Type")
        assert got == want, name
    assert swift.request("HEAD", f"{container}/a.tar.gz").header(
        "Content-Type") == "application/x-tar"
    # X-Detect-Content-Type: the name decides even when a type is given.
    swift.put_object(container, "d.html", b"d", {"Content-Type": "text/plain",
                                                  "X-Detect-Content-Type": "true"})
    assert swift.request("HEAD", f"{container}/d.html").header("Content-Type") == "text/html"


def _row(swift, container, name):
    return next(o for o in swift.listing(container) if o["name"] == name)


def test_post_sets_the_type_and_the_listing_row(swift, container):
    swift.put_object(container, "t", b"typed", {"Content-Type": "text/x-first"})
    r = swift.request("POST", f"{container}/t", {"Content-Type": "text/x-second"})
    assert r.status == 202, r
    assert swift.request("HEAD", f"{container}/t").header("Content-Type") == "text/x-second"
    assert _row(swift, container, "t")["content_type"] == "text/x-second"
    assert _row(swift, container, "t")["bytes"] == 5
    # A POST without a type keeps it.
    r = swift.request("POST", f"{container}/t", {"X-Object-Meta-A": "1"})
    assert r.status == 202, r
    h = swift.request("HEAD", f"{container}/t")
    assert h.header("Content-Type") == "text/x-second"
    assert h.header("X-Object-Meta-A") == "1"
    assert _row(swift, container, "t")["content_type"] == "text/x-second"
    # A new PUT brings its own.
    swift.put_object(container, "t", b"again", {"Content-Type": "text/x-third"})
    assert _row(swift, container, "t")["content_type"] == "text/x-third"


def test_post_moves_the_listed_time(swift, container):
    """Swift lists an object's meta timestamp: a POST's time, until the
    next PUT."""
    swift.put_object(container, "m", b"meta")
    put_time = _row(swift, container, "m")["last_modified"]
    assert swift.request("POST", f"{container}/m", {"X-Object-Meta-A": "1"}).status == 202
    posted = _row(swift, container, "m")["last_modified"]
    assert posted > put_time
    assert _row(swift, container, "m")["bytes"] == 4
    swift.put_object(container, "m", b"again")
    assert _row(swift, container, "m")["last_modified"] > posted


def test_put_etag_is_compared_exactly(swift, container):
    data = b"etag body"
    r = swift.request("PUT", f"{container}/upper", {"ETag": md5(data).upper()}, body=data)
    assert r.status == 422, r
    assert r.header("Last-Modified") is not None
    assert swift.request("HEAD", f"{container}/upper").status == 404
    r = swift.request("PUT", f"{container}/quoted", {"ETag": f'"{md5(data)}"'}, body=data)
    assert r.status == 201, r
    r = swift.request("PUT", f"{container}/empty", {"ETag": '""'}, body=data)
    assert r.status == 201, r


def test_swift_params_in_a_type_are_refused(swift, container):
    for ct in ("text/plain;swift_bytes=5", "text/plain; charset=utf-8; swift_x=1"):
        r = swift.request("PUT", f"{container}/sb", {"Content-Type": ct}, body=b"x")
        assert r.status == 400, r
        assert r.body.startswith(b"Invalid Content-Type, swift_* is not a valid parameter name.")
    r = swift.request("PUT", f"{container}/sb", {"Content-Type": "text/plain;xswift_a=1"},
                      body=b"x")
    assert r.status == 201, r


def test_allowed_headers_are_kept_and_replaced_by_post(swift, container):
    kept = {"Cache-Control": "no-cache", "Content-Language": "en",
            "Expires": "Wed, 01 Jan 2031 00:00:00 GMT", "X-Robots-Tag": "noindex",
            "Content-Disposition": "inline"}
    swift.put_object(container, "k", b"k", kept)
    for method in ("GET", "HEAD"):
        r = swift.request(method, f"{container}/k")
        for k, v in kept.items():
            assert r.header(k) == v, (method, k)
    swift.request("POST", f"{container}/k", {"X-Robots-Tag": "none"})
    r = swift.request("HEAD", f"{container}/k")
    assert r.header("X-Robots-Tag") == "none"
    assert r.header("Cache-Control") is None


@pytest.mark.parametrize("value", ["9999999999", "99999999999", "1" + "0" * 40,
                                   "+1_0000000000"])
def test_far_delete_at_is_capped(swift, container, value):
    r = swift.request("PUT", f"{container}/far", {"X-Delete-At": value}, body=b"f")
    assert r.status == 201, r
    assert swift.request("HEAD", f"{container}/far").header("X-Delete-At") == "9999999999"


def test_non_integer_delete_at(swift, container):
    for value in ("1e10", "0x10", "1__0", "9" * 4301):
        r = swift.request("PUT", f"{container}/bad", {"X-Delete-At": value}, body=b"b")
        assert r.status == 400, (value, r)
        assert r.body.startswith(b"Non-integer X-Delete-At")


def test_if_delete_at(swift, container):
    swift.put_object(container, "e", b"e", {"X-Delete-At": "9999999999"})
    for bad in ("abc", "-1", "", "10000000000", "nan"):
        r = swift.request("DELETE", f"{container}/e", {"X-If-Delete-At": bad})
        assert r.status == 400, (bad, r)
        assert r.body.startswith(b"Bad X-If-Delete-At header value")
    r = swift.request("DELETE", f"{container}/nothing", {"X-If-Delete-At": "9999999999"})
    assert r.status == 404, r
    r = swift.request("DELETE", f"{container}/e", {"X-If-Delete-At": "1234567890"})
    assert r.status == 412, r
    assert r.body.startswith(b"X-If-Delete-At and X-Delete-At do not match")
    assert swift.request("HEAD", f"{container}/e").status == 200
    r = swift.request("DELETE", f"{container}/e", {"X-If-Delete-At": "9999999999.000001"})
    assert r.status == 204, r
    assert swift.request("HEAD", f"{container}/e").status == 404
    # No delete-at time is time 0.
    swift.put_object(container, "z", b"z")
    r = swift.request("DELETE", f"{container}/z", {"X-If-Delete-At": "0"})
    assert r.status == 204, r
    # The container is looked up first.
    r = swift.request("DELETE", "no-such-container/o", {"X-If-Delete-At": "abc"})
    assert r.status == 404, r


SRC = b"0123456789abcdef"


@pytest.fixture
def src(swift, container):
    swift.put_object(container, "src", SRC, {"Content-Type": "text/x-src",
                                              "X-Object-Meta-M": "v"})
    return f"{container}/src"


def test_copy_with_a_range_copies_the_range(swift, container, src):
    r = swift.request("COPY", src, {"Destination": f"{container}/part", "Range": "bytes=2-5"})
    assert r.status == 201, r
    assert r.header("ETag") == md5(SRC[2:6])
    g = swift.request("GET", f"{container}/part")
    assert g.body == SRC[2:6]
    assert g.header("Content-Type") == "text/x-src"
    assert g.header("X-Object-Meta-M") == "v"
    r = swift.request("PUT", f"{container}/tail", {"X-Copy-From": src, "Range": "bytes=-3"},
                      body=b"")
    assert r.status == 201, r
    assert swift.request("GET", f"{container}/tail").body == SRC[-3:]


def test_copy_with_several_ranges_copies_the_multipart_body(swift, container, src):
    r = swift.request("COPY", src, {"Destination": f"{container}/multi",
                                    "Range": "bytes=0-1,4-5"})
    assert r.status == 201, r
    g = swift.request("GET", f"{container}/multi")
    m = re.fullmatch(r"multipart/byteranges;boundary=([0-9a-f]+)", g.header("Content-Type"))
    assert m, g.header("Content-Type")
    b = m.group(1).encode()
    assert g.body == (b"--" + b + b"\r\nContent-Type: text/x-src\r\nContent-Range: bytes 0-1/16"
                      b"\r\n\r\n01\r\n--" + b + b"\r\nContent-Type: text/x-src\r\n"
                      b"Content-Range: bytes 4-5/16\r\n\r\n45\r\n--" + b + b"--")


def test_copy_source_answers_like_a_get(swift, container, src):
    r = swift.request("COPY", src, {"Destination": f"{container}/no", "Range": "bytes=100-"})
    assert r.status == 416, r
    assert r.header("Content-Range") == "bytes */16"
    assert r.header("Content-Type") == "text/x-src"
    r = swift.request("COPY", src, {"Destination": f"{container}/no", "If-Match": "nope"})
    assert r.status == 412, r
    assert r.body == b""
    assert r.header("ETag") == md5(SRC)
    assert r.header("X-Object-Meta-M") == "v"
    r = swift.request("COPY", src, {"Destination": f"{container}/no", "If-None-Match": md5(SRC)})
    assert r.status == 304, r
    assert swift.request("HEAD", f"{container}/no").status == 404
