"""Answers on the wire exactly as Swift 2.38's proxy sends them (issue 18):
header names title-cased, Content-Type and Content-Length: 0 on answers
without a body (Apache leaves them out of 204, 304 and HEAD answers unless
mod_stowage puts them back), swob's HTML error pages, plain-text messages
without a trailing newline, Allow on 405. Read over a raw socket, so names
and framing are seen as sent."""

from harness import build_request, raw_request, unique

HTML = "text/html; charset=UTF-8"


def page(title: str, text: str) -> bytes:
    return f"<html><h1>{title}</h1><p>{text}</p></html>".encode()


NOT_FOUND = page("Not Found", "The resource could not be found.")
ACCEPTED = page("Accepted", "The request is accepted for processing.")


def req(server, swift, method, path, headers=(), body=b"", token=True):
    hdrs = list(headers)
    if token:
        hdrs.append(("X-Auth-Token", swift.token))
    data = build_request(method, path, hdrs, body, port=server.port)
    return raw_request(server.port, data, head=method == "HEAD")


def names(r) -> list:
    return [k for k, _ in r.headers]


def test_names_title_cased(server, swift, container):
    path = swift.path(f"{container}/o")
    r = req(server, swift, "PUT", path, [("x-object-meta-a1b", "v"), ("X-OBJECT-META-COLOR", "c")],
            b"hello")
    assert r.status == 201
    # A PUT's 201: Etag, Last-Modified, no X-Timestamp, swob's Content-Type.
    assert "Etag" in names(r) and "ETag" not in names(r)
    assert r.header("X-Timestamp") is None
    assert (r.header("Content-Type"), r.header("Content-Length"), r.body) == (HTML, "0", b"")
    r = req(server, swift, "HEAD", path)
    assert r.status == 200
    for name in names(r):
        assert name == name.title(), names(r)
    assert ("X-Object-Meta-A1B", "v") in r.headers
    assert ("X-Object-Meta-Color", "c") in r.headers


def test_bodiless_answers_carry_type_and_zero_length(server, swift, container):
    cpath = swift.path(container)
    r = req(server, swift, "POST", cpath, [("X-Container-Meta-Color", "red")])
    assert r.status == 204
    assert (r.header("Content-Type"), r.header("Content-Length"), r.body) == (HTML, "0", b"")
    r = req(server, swift, "HEAD", cpath)
    assert r.status == 204
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("Content-Length") == "0"
    assert r.header("Accept-Ranges") == "bytes"
    assert r.header("Vary") == "Accept"
    assert r.header("Last-Modified", "").endswith(" GMT")
    assert r.header("X-Put-Timestamp") is None
    assert ("X-Container-Meta-Color", "red") in r.headers
    # ?format= names the format: the Accept header cannot change it.
    r = req(server, swift, "GET", cpath + "?format=json")
    assert (r.status, r.header("Vary"), r.body) == (200, None, b"[]")
    # An account's HEAD.
    r = req(server, swift, "HEAD", swift.path())
    assert (r.status, r.header("Content-Length"), r.header("X-Put-Timestamp")) == (204, "0", None)
    assert (r.header("Accept-Ranges"), r.header("Vary")) == ("bytes", "Accept")


def test_zero_byte_object_and_conditionals(server, swift, container):
    path = swift.path(f"{container}/zero")
    zero = [("Content-Type", "text/x-z"), ("Content-Length", "0")]
    assert req(server, swift, "PUT", path, zero).status == 201
    r = req(server, swift, "HEAD", path)
    assert (r.status, r.header("Content-Length")) == (200, "0")
    etag = r.header("Etag")
    r = req(server, swift, "GET", path, [("If-None-Match", f'"{etag}"')])
    assert r.status == 304
    assert (r.header("Content-Type"), r.header("Content-Length"), r.body) == ("text/x-z", "0", b"")
    r = req(server, swift, "GET", path, [("If-Match", '"nope"')])
    assert r.status == 412
    assert (r.header("Content-Type"), r.header("Content-Length"), r.body) == (HTML, "0", b"")
    assert r.header("Etag") == etag


def test_error_pages(server, swift, container):
    missing = swift.path(f"{container}/missing")
    r = req(server, swift, "GET", missing)
    assert (r.status, r.header("Content-Type"), r.body) == (404, HTML, NOT_FOUND)
    r = req(server, swift, "HEAD", missing)
    assert (r.status, r.header("Content-Type"), r.header("Content-Length")) == (404, HTML, "0")
    r = req(server, swift, "GET", missing, token=False)
    assert r.status == 401
    assert r.body == page("Unauthorized", "This server could not verify that you are "
                          "authorized to access the document you requested.")
    assert r.header("Www-Authenticate", "").startswith("Swift realm=")
    # A message of Swift's proxy: the text alone, under swob's default type.
    r = req(server, swift, "GET", "/v1")
    assert (r.status, r.header("Content-Type"), r.body) == (412, HTML, b"Bad URL")


def test_accepted_page(server, swift, container):
    path = swift.path(f"{container}/o")
    assert req(server, swift, "PUT", path, body=b"x").status == 201
    r = req(server, swift, "POST", path, [("X-Object-Meta-A", "b")])
    assert (r.status, r.header("Content-Type"), r.body) == (202, HTML, ACCEPTED)
    r = req(server, swift, "PUT", swift.path(container))
    assert (r.status, r.body) == (202, ACCEPTED)


def test_plain_messages(server, swift, container):
    r = req(server, swift, "POST", swift.path(container), [("X-Container-Meta-Long", "v" * 257)])
    assert (r.status, r.header("Content-Type")) == (400, "text/plain")
    assert r.body == b"Metadata value longer than 256: x-container-meta-Long"
    # Neither Content-Length nor chunked.
    r = req(server, swift, "PUT", swift.path(f"{container}/o"))
    assert (r.status, r.header("Content-Type"), r.body) == (411, "text/plain",
                                                            b"Missing Content-Length header.")
    # A listing parameter that is not UTF-8 is named; the account's message
    # comes under swob's default type, the container's as plain text.
    r = req(server, swift, "GET", swift.path(container) + "?prefix=%FF")
    assert (r.status, r.header("Content-Type"), r.body) == (
        400, "text/plain", b'"prefix" parameter not valid UTF-8')
    r = req(server, swift, "GET", swift.path() + "?end_marker=%FE")
    assert (r.status, r.header("Content-Type"), r.body) == (
        400, HTML, b'"end_marker" parameter not valid UTF-8')
    # Elsewhere such a parameter is not read.
    assert req(server, swift, "HEAD", swift.path(container) + "?prefix=%FF").status == 204


def test_method_not_allowed_lists_methods(server, swift, container):
    r = req(server, swift, "PATCH", swift.path(container))
    assert r.status == 405
    assert sorted(m.strip() for m in r.header("Allow").split(",")) == [
        "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]
    assert r.body == page("Method Not Allowed", "The method is not allowed for this resource.")
    r = req(server, swift, "DELETE", "/info", token=False)
    assert (r.status, r.header("Allow")) == (405, "GET, HEAD, OPTIONS")


def test_healthcheck_is_text_plain(server, swift):
    r = req(server, swift, "GET", "/healthcheck", token=False)
    assert (r.status, r.header("Content-Type"), r.body) == (200, "text/plain", b"OK")
