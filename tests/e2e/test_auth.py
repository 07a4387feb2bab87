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
    # Swift 2.38's tempauth: the token and URL in headers, an empty body
    assert h["content-type"] == "text/html; charset=UTF-8"
    assert body == b"" and h.get("content-length") == "0", (h, body)
    # the token works
    from harness import HTTP
    r = HTTP(server.port).request("HEAD", "/v1/AUTH_test", {"X-Auth-Token": token})
    assert r.status in (200, 204), r  # 200 until the account is first written


@pytest.mark.parametrize("path,status", [
    ("/auth/v1.0", 200), ("/auth/v1.0/", 200), ("/auth/v1.0/x/y", 200), ("/auth/auth", 200),
    ("/auth/v1", 400), ("/auth/v1/", 400), ("/auth/v2.0", 400), ("/auth/v1/test/x", 400),
    ("/auth/", 404), ("/auth//v1.0", 404),
])
def test_auth_paths_as_tempauth(server, path, status):
    """Tempauth owns everything under /auth/: v1.0 and auth are token
    requests, other versions 400, an empty first segment 404."""
    got, h, body = server.http_get(path, {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    assert got == status, (path, got, h, body)
    assert (got == 200) == ("X-Auth-Token" in h or "x-auth-token" in {k.lower() for k in h})


def test_auth_account_in_path(server):
    """GET /auth/v1/<account>/auth: the account is the path's, the user a
    bare X-Storage-User, or an X-Auth-User naming that same account."""
    for hdrs, status in (({"X-Storage-User": "tester", "X-Storage-Pass": "testing"}, 200),
                         ({"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}, 200),
                         ({"X-Auth-User": "test2:tester", "X-Auth-Key": "testing"}, 401),
                         ({"X-Storage-User": "tester", "X-Storage-Pass": "wrong"}, 401)):
        got, h, body = server.http_get("/auth/v1/test/auth", hdrs)
        assert got == status, (hdrs, got, h, body)
        if status == 401:
            lower = {k.lower(): v for k, v in h.items()}
            assert lower["www-authenticate"] == 'Swift realm="test"', h
        else:
            lower = {k.lower(): v for k, v in h.items()}
            assert lower["x-storage-url"].endswith("/v1/AUTH_test"), h


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
        # a fresh server's account, not yet written: Swift's 200
        assert HTTP(srv.port).request("HEAD", "/v1/AUTH_test", token).status == 200
        time.sleep(2.5)
        assert HTTP(srv.port).request("HEAD", "/v1/AUTH_test", token).status == 401
    finally:
        assert stop_server(srv) == []
