"""TempAuth-style v1 authentication and authorization."""

import pytest

from harness import EXTRA_USERS, unique


def _auth(server, headers):
    status, hdrs, body = server.http_get("/auth/v1.0", headers)
    return status, {k.lower(): v for k, v in hdrs.items()}, body


@pytest.mark.parametrize("user_hdr,key_hdr", [
    ("X-Auth-User", "X-Auth-Key"),
    ("X-Storage-User", "X-Storage-Pass"),
])
def test_get_token(server, user_hdr, key_hdr):
    status, h, body = _auth(server, {user_hdr: "test:tester", key_hdr: "testing"})
    assert status == 200, (status, h, body)
    assert h["x-storage-url"] == f"http://127.0.0.1:{server.port}/v1/AUTH_test"
    token = h["x-auth-token"]
    assert token
    assert h.get("x-storage-token") == token
    assert int(h["x-auth-token-expires"]) > 0
    # the token works
    from harness import HTTP
    r = HTTP(server.port).request("HEAD", "/v1/AUTH_test", {"X-Auth-Token": token})
    assert r.status == 204, r


def test_tokens_distinct_per_auth_call(server):
    """Project decision (brief): every auth call mints a new token, as
    Swift's tempauth does with fernet tokens (with memcache it would hand
    back the cached one)."""
    tokens = {server.auth()[1] for _ in range(3)}
    assert len(tokens) == 3


@pytest.mark.parametrize("headers", [
    {"X-Auth-User": "test:tester", "X-Auth-Key": "wrong"},
    {"X-Auth-User": "test:nobody", "X-Auth-Key": "testing"},
    {"X-Auth-User": "nobody:tester", "X-Auth-Key": "testing"},
    {"X-Storage-User": "test:tester", "X-Storage-Pass": "wrong"},
    {"X-Auth-User": "test:tester"},
    {"X-Auth-Key": "testing"},
    {},
], ids=["bad-key", "unknown-user", "unknown-account", "bad-storage-pass",
        "no-key", "no-user", "nothing"])
def test_bad_credentials_401(server, headers):
    status, h, _ = _auth(server, headers)
    assert status == 401, (status, h)
    assert "x-auth-token" not in h


def test_v1_without_token_401(swift, container):
    for method, path in (("GET", ""), ("HEAD", ""), ("GET", container),
                         ("PUT", unique("c")), ("GET", f"{container}/o")):
        r = swift.request(method, path, token=False)
        assert r.status == 401, (method, path, r)


def test_v1_bad_token_401(swift, container):
    r = swift.request("GET", container, token="AUTH_tk" + "0" * 32)
    assert r.status == 401, r
    r = swift.request("PUT", f"{container}/x", token="garbage", body=b"x")
    assert r.status == 401, r
    assert swift.listing(container) == []


def test_other_account_user_403(server, swift, container):
    swift.put_object(container, "secret", b"mine")
    key, _ = EXTRA_USERS["test2:tester2"]
    other = server.client("test2:tester2", key)
    assert other.account_path == "/v1/AUTH_test2"
    t2 = other.token
    for method, path in (("GET", "/v1/AUTH_test"), ("HEAD", "/v1/AUTH_test"),
                         ("GET", f"/v1/AUTH_test/{container}"),
                         ("GET", f"/v1/AUTH_test/{container}/secret"),
                         ("DELETE", f"/v1/AUTH_test/{container}/secret"),
                         ("PUT", f"/v1/AUTH_test/{container}/new")):
        r = other.http.request(method, path, {"X-Auth-Token": t2},
                               body=b"x" if method == "PUT" else None)
        assert r.status == 403, (method, path, r)
    assert swift.request("GET", f"{container}/secret").body == b"mine"
    assert [x["name"] for x in swift.listing(container)] == ["secret"]
    # and its own account works (200 while never written: see test_account)
    assert other.request("HEAD", "").status in (200, 204)


def test_non_admin_user_403(server, container):
    """A user of the account without .admin has no rights without ACLs."""
    key, admin = EXTRA_USERS["test:member"]
    assert not admin
    m = server.client("test:member", key)
    assert m.account_path == "/v1/AUTH_test"
    assert m.request("GET", "").status == 403
    assert m.request("GET", container).status == 403
    assert m.request("PUT", unique("c")).status == 403
    assert m.request("PUT", f"{container}/o", body=b"x").status == 403


def test_token_life_directive_sets_expiry():
    """StowageTokenLife is a directive Apache registers (the shim's table
    comes from ffi/stowage.h's list): a server configured with it starts,
    hands out tokens of that life, and refuses them once it has passed."""
    import time
    from harness import HTTP, start_server, stop_server
    srv = start_server(extra_conf="StowageTokenLife 2\n")
    try:
        status, h, _ = _auth(srv, {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
        assert status == 200, (status, h)
        assert h["x-auth-token-expires"] == "2"
        token = {"X-Auth-Token": h["x-auth-token"]}
        assert HTTP(srv.port).request("HEAD", "/v1/AUTH_test", token).status == 204
        time.sleep(2.5)
        assert HTTP(srv.port).request("HEAD", "/v1/AUTH_test", token).status == 401
    finally:
        assert stop_server(srv) == []
