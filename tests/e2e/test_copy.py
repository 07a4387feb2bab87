"""Server-side copy: COPY + Destination, PUT + X-Copy-From, across
accounts, metadata rules, errors and access checks on both sides."""

import json

import pytest

from harness import EXTRA_USERS, md5hex, unique


@pytest.fixture
def src(swift, container):
    swift.put_object(container, "src", b"copy me", {
        "Content-Type": "text/x-src",
        "X-Object-Meta-Color": "blue",
        "X-Object-Meta-Shape": "round",
        "Content-Disposition": "attachment",
    })
    return container


def test_copy_verb_carries_data_and_metadata(swift, src):
    r = swift.request("COPY", f"{src}/src", {"Destination": f"/{src}/dst",
                                              "X-Object-Meta-Shape": "square"})
    assert r.status == 201, r
    assert r.header("ETag") == md5hex(b"copy me")
    assert r.header("X-Copied-From") == f"{src}/src"
    assert r.header("X-Copied-From-Account") == "AUTH_test"
    assert r.header("X-Copied-From-Last-Modified")
    assert r.header("X-Object-Meta-Color") == "blue"
    g = swift.request("GET", f"{src}/dst")
    assert g.status == 200 and g.body == b"copy me"
    assert g.header("Content-Type") == "text/x-src"
    assert g.header("X-Object-Meta-Color") == "blue"
    assert g.header("X-Object-Meta-Shape") == "square"
    assert g.header("Content-Disposition") == "attachment"
    names = [o["name"] for o in swift.listing(src)]
    assert names == ["dst", "src"]


def test_put_x_copy_from_with_fresh_metadata(swift, src):
    r = swift.request("PUT", f"{src}/fresh", {"X-Copy-From": f"{src}/src",
                                               "X-Fresh-Metadata": "true",
                                               "X-Object-Meta-New": "yes",
                                               "Content-Type": "text/plain",
                                               "Content-Length": "0"}, body=b"")
    assert r.status == 201, r
    g = swift.request("HEAD", f"{src}/fresh")
    assert g.header("X-Object-Meta-New") == "yes"
    assert g.header("X-Object-Meta-Color") is None
    assert g.header("Content-Disposition") is None
    assert g.header("Content-Type") == "text/plain"
    assert g.header("ETag") == md5hex(b"copy me")


def test_copy_onto_itself_updates_metadata(swift, src):
    r = swift.request("COPY", f"{src}/src", {"Destination": f"{src}/src",
                                              "X-Object-Meta-Color": "red"})
    assert r.status == 201, r
    g = swift.request("GET", f"{src}/src")
    assert g.body == b"copy me"
    assert g.header("X-Object-Meta-Color") == "red"
    assert g.header("X-Object-Meta-Shape") == "round"


def test_copy_odd_names(swift, src):
    name = "dir/with space/ü?#%"
    r = swift.request("COPY", f"{src}/src",
                      {"Destination": f"{src}/" + "dir/with%20space/%C3%BC%3F%23%25"})
    assert r.status == 201, r
    assert swift.request("GET", f"{src}/{name}").body == b"copy me"
    r = swift.request("PUT", f"{src}/back", {"X-Copy-From": f"/{src}/dir/with%20space/%C3%BC%3F%23%25"},
                      body=b"")
    assert r.status == 201, r
    assert r.header("X-Copied-From") == f"{src}/dir/with%20space/%C3%BC%3F%23%25"


def test_copy_large_object_streams(swift, container):
    blob = bytes(range(256)) * (12 * 4096)  # 12 MiB
    swift.put_object(container, "big", blob)
    r = swift.request("COPY", f"{container}/big", {"Destination": f"{container}/big2"})
    assert r.status == 201, r
    g = swift.request("GET", f"{container}/big2")
    assert len(g.body) == len(blob) and md5hex(g.body) == md5hex(blob)


@pytest.mark.parametrize("headers,status,message", [
    ({}, 412, "Destination header required"),
    ({"Destination": "nocontainer"}, 412,
     "Destination header must be of the form <container name>/<object name>"),
    ({"Destination": "/c/"}, 412,
     "Destination header must be of the form <container name>/<object name>"),
    ({"Destination": "c/o", "Destination-Account": "a/b"}, 412,
     "Account name cannot contain slashes"),
])
def test_copy_bad_destination(swift, src, headers, status, message):
    r = swift.request("COPY", f"{src}/src", headers)
    assert r.status == status, r
    assert message in r.text


def test_put_copy_errors(swift, src):
    r = swift.request("PUT", f"{src}/x", {"X-Copy-From": "justone"}, body=b"")
    assert r.status == 412, r
    assert "X-Copy-From header must be of the form" in r.text
    r = swift.request("PUT", f"{src}/x", {"X-Copy-From": f"{src}/src"}, body=b"abc")
    assert r.status == 400, r
    assert "Copy requests require a zero byte body" in r.text
    r = swift.request("PUT", f"{src}/x", {"X-Copy-From": f"{src}/missing"}, body=b"")
    assert r.status == 404, r
    r = swift.request("COPY", f"{src}/missing", {"Destination": f"{src}/x"})
    assert r.status == 404, r
    r = swift.request("COPY", f"{src}/src", {"Destination": f"{unique('nope')}/x"})
    assert r.status == 404, r
    assert [o["name"] for o in swift.listing(src)] == ["src"]


def test_copy_respects_source_preconditions(swift, src):
    r = swift.request("COPY", f"{src}/src", {"Destination": f"{src}/d",
                                              "If-Match": '"00000000000000000000000000000000"'})
    assert r.status == 412, r
    r = swift.request("COPY", f"{src}/src", {"Destination": f"{src}/d",
                                              "If-Match": md5hex(b"copy me")})
    assert r.status == 201, r


def test_cross_account_copy(server, swift, src):
    key, _ = EXTRA_USERS["test2:tester2"]
    other = server.client("test2:tester2", key)
    dest = unique("x")
    other.put_container(dest)
    # test2's admin may not read AUTH_test's object.
    r = other.request("PUT", f"{dest}/o", {"X-Copy-From": f"{src}/src",
                                            "X-Copy-From-Account": "AUTH_test"}, body=b"")
    assert r.status == 403, r
    # ... until the container's read ACL lets them.
    assert swift.request("POST", src, {"X-Container-Read": "test2"}).status == 204
    r = other.request("PUT", f"{dest}/o", {"X-Copy-From": f"{src}/src",
                                            "X-Copy-From-Account": "AUTH_test"}, body=b"")
    assert r.status == 201, r
    assert r.header("X-Copied-From-Account") == "AUTH_test"
    assert other.request("GET", f"{dest}/o").body == b"copy me"
    # Writing into AUTH_test needs write access there.
    r = other.request("COPY", f"{dest}/o", {"Destination": f"{src}/back",
                                             "Destination-Account": "AUTH_test"})
    assert r.status == 403, r
    assert swift.request("POST", src, {"X-Container-Write": "test2:tester2"}).status == 204
    r = other.request("COPY", f"{dest}/o", {"Destination": f"{src}/back",
                                             "Destination-Account": "AUTH_test"})
    assert r.status == 201, r
    assert swift.request("GET", f"{src}/back").body == b"copy me"


def test_anonymous_copy_401(swift, src):
    r = swift.request("COPY", f"{src}/src", {"Destination": f"{src}/d"}, token=False)
    assert r.status == 401, r
    # Readable by referrer rule, but writing still needs an identity.
    assert swift.request("POST", src, {"X-Container-Read": ".r:*"}).status == 204
    r = swift.request("COPY", f"{src}/src", {"Destination": f"{src}/d"}, token=False)
    assert r.status == 401, r


def test_swift_cli_copy(swift, swift_cli, src):
    c2 = unique("c2")
    swift.put_container(c2)
    swift_cli("copy", "-d", f"/{c2}/o2", src, "src")
    g = swift.request("GET", f"{c2}/o2")
    assert g.status == 200 and g.body == b"copy me"
    assert g.header("X-Object-Meta-Color") == "blue"
    swift_cli("copy", "-d", f"/{c2}/o3", "-m", "Color:green", src, "src")
    assert swift.request("HEAD", f"{c2}/o3").header("X-Object-Meta-Color") == "green"


def test_swiftclient_library_copy(swift_conn, swift, src):
    swift_conn.copy_object(src, "src", destination=f"/{src}/lib", headers={"X-Object-Meta-K": "v"})
    h = swift_conn.head_object(src, "lib")
    assert h["x-object-meta-k"] == "v" and h["x-object-meta-color"] == "blue"
    swift_conn.copy_object(src, "src", destination=f"/{src}/lib2", fresh_metadata=True)
    h = swift_conn.head_object(src, "lib2")
    assert "x-object-meta-color" not in h
    assert json.loads(swift.request("GET", src, query={"format": "json"}).body)
