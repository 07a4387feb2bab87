"""Swift's max_header_size (8192 bytes per value, as /info advertises) and
its metadata count are the binding limits, not Apache's smaller defaults."""

import pytest


@pytest.mark.parametrize("size,status", [(8192, 201), (8193, 400)])
def test_header_value_size(swift, container, size, status):
    r = swift.request("PUT", f"{container}/h{size}", {"X-Object-Meta-Big": "v" * 200,
                                                       "X-Long": "x" * size}, body=b"data")
    assert r.status == status, r
    head = swift.request("HEAD", f"{container}/h{size}")
    assert head.status == (200 if status == 201 else 404), head
    if status == 400:
        assert b"Header value too long" in r.body


def test_ninety_metadata_items_plus_ordinary_headers(swift, container):
    meta = {f"X-Object-Meta-K{i:02d}": "v" for i in range(90)}
    extra = {f"X-Extra-{i}": "1" for i in range(20)}
    r = swift.request("PUT", f"{container}/many", {**meta, **extra}, body=b"data")
    assert r.status == 201, r
    head = swift.request("HEAD", f"{container}/many")
    assert sum(1 for k in head.headers.keys() if k.lower().startswith("x-object-meta-")) == 90
