"""Container PUT/HEAD/POST/DELETE/GET semantics and exact counters."""

import pytest

from harness import unique


def _counts(swift, c):
    h = swift.request("HEAD", c)
    assert h.status == 204, h
    return int(h.header("X-Container-Object-Count")), int(h.header("X-Container-Bytes-Used"))


def test_put_201_then_202(swift):
    c = unique("c")
    r = swift.request("PUT", c)
    assert r.status == 201, r
    r = swift.request("PUT", c)
    assert r.status == 202, r
    assert swift.request("HEAD", c).status == 204


def test_post_moves_last_modified(swift, container):
    """Swift's container POST updates its put timestamp, which its
    Last-Modified shows."""
    import email.utils
    import time

    def last_modified():
        h = swift.request("HEAD", container)
        return email.utils.parsedate_to_datetime(h.header("Last-Modified"))

    before = last_modified()
    time.sleep(1.1)  # Last-Modified has whole seconds
    assert swift.request("POST", container, {"X-Container-Meta-A": "1"}).status == 204
    assert last_modified() > before


def test_counts_follow_put_overwrite_delete(swift, container):
    assert _counts(swift, container) == (0, 0)
    swift.put_object(container, "a", b"x" * 10)
    assert _counts(swift, container) == (1, 10)
    swift.put_object(container, "b", b"y" * 5)
    assert _counts(swift, container) == (2, 15)
    swift.put_object(container, "a", b"z" * 3)        # overwrite, smaller
    assert _counts(swift, container) == (2, 8)
    swift.put_object(container, "b", b"w" * 1000)     # overwrite, bigger
    assert _counts(swift, container) == (2, 1003)
    assert swift.request("DELETE", f"{container}/b").status == 204
    assert _counts(swift, container) == (1, 3)
    assert swift.request("DELETE", f"{container}/a").status == 204
    assert _counts(swift, container) == (0, 0)
    # failed requests change nothing
    assert swift.request("DELETE", f"{container}/a").status == 404
    assert swift.request("PUT", f"{container}/c", {"ETag": "0" * 32}, body=b"abc").status == 422
    assert _counts(swift, container) == (0, 0)


def test_head_get_headers_agree(swift, container):
    swift.put_object(container, "one", b"12345")
    g = swift.request("GET", container)
    assert g.status == 200
    assert g.header("X-Container-Object-Count") == "1"
    assert g.header("X-Container-Bytes-Used") == "5"
    assert g.header("X-Timestamp")


def test_post_metadata(swift, container):
    r = swift.request("POST", container, {"X-Container-Meta-Color": "red",
                                          "X-Container-Meta-Other": "keep"})
    assert r.status == 204, r
    h = swift.request("HEAD", container)
    assert h.header("X-Container-Meta-Color") == "red"
    assert h.header("X-Container-Meta-Other") == "keep"
    # POST updates only what it names
    r = swift.request("POST", container, {"X-Container-Meta-Color": "green"})
    assert r.status == 204, r
    h = swift.request("HEAD", container)
    assert h.header("X-Container-Meta-Color") == "green"
    assert h.header("X-Container-Meta-Other") == "keep"
    # removal: X-Remove-Container-Meta-* and an empty value
    r = swift.request("POST", container, {"X-Remove-Container-Meta-Color": "x",
                                          "X-Container-Meta-Other": ""})
    assert r.status == 204, r
    h = swift.request("HEAD", container)
    assert h.header("X-Container-Meta-Color") is None
    assert h.header("X-Container-Meta-Other") is None


def test_put_with_metadata_and_put_again_updates(swift):
    c = unique("c")
    assert swift.request("PUT", c, {"X-Container-Meta-A": "1"}).status == 201
    assert swift.request("HEAD", c).header("X-Container-Meta-A") == "1"
    assert swift.request("PUT", c, {"X-Container-Meta-B": "2"}).status == 202
    h = swift.request("HEAD", c)
    assert h.header("X-Container-Meta-A") == "1"
    assert h.header("X-Container-Meta-B") == "2"


def test_container_metadata_constraint(swift, container):
    r = swift.request("POST", container, {"X-Container-Meta-Big": "v" * 257})
    assert r.status == 400, r
    assert swift.request("HEAD", container).header("X-Container-Meta-Big") is None


def test_delete_non_empty_409_empty_204_missing_404(swift, container):
    swift.put_object(container, "o", b"x")
    r = swift.request("DELETE", container)
    assert r.status == 409, r
    assert swift.request("HEAD", container).status == 204
    assert swift.request("DELETE", f"{container}/o").status == 204
    r = swift.request("DELETE", container)
    assert r.status == 204, r
    r = swift.request("DELETE", container)
    assert r.status == 404, r
    assert swift.request("HEAD", container).status == 404
    assert swift.request("GET", container).status == 404


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "DELETE"])
def test_missing_container_is_404(swift, method):
    r = swift.request(method, unique("missing"))
    assert r.status == 404, r


def test_recreate_after_delete_is_empty(swift):
    c = unique("c")
    swift.put_container(c)
    swift.put_object(c, "o", b"data", {})
    assert swift.request("DELETE", f"{c}/o").status == 204
    assert swift.request("DELETE", c).status == 204
    assert swift.request("PUT", c).status == 201
    assert _counts(swift, c) == (0, 0)
    assert swift.listing(c) == []
    assert swift.request("GET", f"{c}/o").status == 404
