"""OPTIONS and CORS through Apache, as Swift 2.38's proxy answers them:
plain OPTIONS (no token needed), preflights allowed and refused by the
container's X-Container-Meta-Access-Control-* rules and the node-wide
StowageCorsAllowOrigin, actual requests' Access-Control-* headers, and the
StowageCorsExposeHeaders / StowageStrictCorsMode directives."""

import pytest

from harness import HTTP, unique

ACCOUNT = {"GET", "HEAD", "POST", "OPTIONS"}
CONTAINER = {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"}
OBJECT = CONTAINER | {"COPY"}
UNAUTHORIZED = (b"<html><h1>Unauthorized</h1><p>This server could not verify that you are "
                b"authorized to access the document you requested.</p></html>")
EXPOSED_ALWAYS = ["cache-control", "content-language", "content-type", "expires",
                  "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id",
                  "x-openstack-request-id"]


def methods(value):
    return {m.strip() for m in value.split(",")}


def names(resp):
    """The response's header names as spelled, minus the framing ones."""
    skip = {"date", "server", "x-trans-id", "x-openstack-request-id", "keep-alive",
            "connection", "content-length"}
    return sorted(n for n, _ in resp.header_list if n.lower() not in skip)


def with_rules(swift, rules):
    c = unique("cors")
    swift.put_container(c, rules)
    swift.put_object(c, "o", b"hello", {"X-Object-Meta-Color": "blue"})
    return c


def options(swift, path, headers=None):
    return HTTP(swift.server.port).request("OPTIONS", path, headers or {})


def test_options_needs_no_token_at_any_level(swift):
    c = unique("cors")
    for path, allow in [(swift.path(), ACCOUNT), (swift.path(c), CONTAINER),
                        (swift.path(f"{c}/o"), OBJECT), ("/info", {"HEAD", "GET", "OPTIONS"})]:
        r = options(swift, path)
        assert r.status == 200, (path, r)
        assert methods(r.header("Allow")) == allow, (path, r)
        assert r.header("Content-Type") == "text/html; charset=UTF-8", r
        assert r.header("Content-Length") == "0" and r.body == b"", r
        assert r.header("Www-Authenticate") is None, r
    # Tempauth's refusals still come first: an account outside its prefix,
    # a token that is not valid.
    r = options(swift, "/v1/foo")
    assert r.status == 401 and r.header("Www-Authenticate") == 'Swift realm="foo"', r
    r = options(swift, swift.path(f"{c}/o"), {"X-Auth-Token": "AUTH_tk" + "0" * 32})
    assert r.status == 401 and r.header("Www-Authenticate") == 'Swift realm="AUTH_test"', r


def test_allowed_preflight(swift):
    c = with_rules(swift, {
        "X-Container-Meta-Access-Control-Allow-Origin": "http://a.example  http://b.example",
        "X-Container-Meta-Access-Control-Max-Age": "600",
    })
    r = options(swift, swift.path(f"{c}/o"), {
        "Origin": "http://b.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-auth-token, Content-Type,x-auth-token"})
    assert r.status == 200, r
    # Swift's spelling, and no Content-Type.
    assert names(r) == ["Access-Control-Allow-Methods", "Allow", "access-control-allow-headers",
                        "access-control-allow-origin", "access-control-max-age", "vary"], r
    assert methods(r.header("Allow")) == OBJECT
    assert methods(r.header("Access-Control-Allow-Methods")) == OBJECT
    assert r.header("Access-Control-Allow-Origin") == "http://b.example"
    assert r.header("Access-Control-Max-Age") == "600"
    assert r.header("Access-Control-Allow-Headers") == "x-auth-token, Content-Type"
    # Apache joins a Vary list without spaces (Swift: "Origin, Access-...").
    assert r.header("Vary") == "Origin,Access-Control-Request-Headers", r
    assert r.header("Content-Length") == "0" and r.body == b""
    # The container level; a container that allows any origin.
    r = options(swift, swift.path(c), {"Origin": "http://a.example",
                                       "Access-Control-Request-Method": "DELETE"})
    assert r.status == 200, r
    assert methods(r.header("access-control-allow-methods")) == CONTAINER
    star = with_rules(swift, {"X-Container-Meta-Access-Control-Allow-Origin": "*"})
    r = options(swift, swift.path(f"{star}/o"), {"Origin": "http://x.example",
                                                 "Access-Control-Request-Method": "GET"})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "*", r
    assert r.header("Vary") is None and r.header("Access-Control-Max-Age") is None, r


def test_refused_preflight_is_a_401_without_a_challenge(swift):
    c = with_rules(swift, {"X-Container-Meta-Access-Control-Allow-Origin": "http://a.example"})
    for path, hdrs in [
        (f"{c}/o", {"Origin": "http://x.example", "Access-Control-Request-Method": "GET"}),
        (f"{c}/o", {"Origin": "http://a.example"}),
        (f"{c}/o", {"Origin": "http://a.example", "Access-Control-Request-Method": "COPY"}),
        (c, {"Origin": "http://a.example", "Access-Control-Request-Method": "PATCH"}),
        (unique("none") + "/o", {"Origin": "http://a.example",
                                 "Access-Control-Request-Method": "GET"}),
    ]:
        r = options(swift, swift.path(path), hdrs)
        assert r.status == 401, (path, hdrs, r)
        assert r.header("Www-Authenticate") is None, r
        assert methods(r.header("Allow")) == CONTAINER, r
        assert r.header("Content-Type") == "text/html; charset=UTF-8", r
        assert r.body == UNAUTHORIZED, r
        assert r.header("Access-Control-Allow-Origin") is None, r


def test_actual_requests(swift):
    c = with_rules(swift, {
        "X-Container-Meta-Access-Control-Allow-Origin": "http://a.example",
        "X-Container-Meta-Access-Control-Expose-Headers": "X-Foo  x-bar",
    })
    origin = {"Origin": "http://a.example"}
    r = swift.request("GET", f"{c}/o", origin)
    assert r.status == 200 and r.body == b"hello", r
    assert r.header("Access-Control-Allow-Origin") == "http://a.example", r
    assert r.header("Access-Control-Expose-Headers") == ", ".join(
        EXPOSED_ALWAYS + ["x-object-meta-color", "x-foo", "x-bar"]), r
    assert r.header("Vary") == "Origin", r
    # An anonymous read refused by access control carries them too, with
    # its challenge; a container write refused before its handler does not.
    r = swift.request("GET", f"{c}/o", origin, token=False)
    assert r.status == 401 and r.header("Access-Control-Allow-Origin") == "http://a.example", r
    assert r.header("Www-Authenticate") == 'Swift realm="AUTH_test"', r
    r = swift.request("POST", c, origin, token=False)
    assert r.status == 401 and r.header("Access-Control-Allow-Origin") is None, r
    # An origin nobody allowed (strict mode), and the account level: none.
    r = swift.request("GET", f"{c}/o", {"Origin": "http://x.example"})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") is None, r
    assert r.header("Access-Control-Expose-Headers") is None, r
    r = swift.request("HEAD", "", origin)
    assert r.status == 204 and r.header("Access-Control-Allow-Origin") is None, r


@pytest.mark.apache
def test_node_wide_directives(server_factory):
    srv = server_factory(extra_conf=(
        "StowageCorsAllowOrigin https://app.example, https://other.example\n"
        "StowageCorsExposeHeaders X-Custom-One X-Custom-Two\n"
        "StowageStrictCorsMode Off\n"))
    swift = srv.client()
    c = with_rules(swift, {})
    # A container without rules: the node's origins are allowed.
    r = options(swift, swift.path(f"{c}/o"), {"Origin": "https://other.example",
                                              "Access-Control-Request-Method": "GET"})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "https://other.example", r
    r = options(swift, swift.path(f"{c}/o"), {"Origin": "https://evil.example",
                                              "Access-Control-Request-Method": "GET"})
    assert r.status == 401, r
    # Strict mode off: an actual request from any origin gets the headers,
    # with the node's exposed headers.
    r = swift.request("HEAD", f"{c}/o", {"Origin": "https://evil.example"})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == "https://evil.example", r
    assert r.header("Access-Control-Expose-Headers") == ", ".join(
        EXPOSED_ALWAYS + ["X-Custom-One", "X-Custom-Two", "x-object-meta-color"]), r
    status, _, body = srv.http_get("/info")
    import json
    assert status == 200 and json.loads(body)["swift"]["strict_cors_mode"] is False


@pytest.mark.apache
@pytest.mark.parametrize("line,needle", [
    ("StowageStrictCorsMode maybe", "expected On or Off"),
    ("StowageCorsAllowOrigin", "takes one or more values"),
    ("StowageCorsExposeHeaders ,", "takes one or more values"),
])
def test_bad_directives_fail_the_config_test(line, needle):
    from test_gates_config import config_test
    res = config_test(line + "\n")
    assert res.returncode != 0, res
    out = res.stdout + res.stderr
    assert "Syntax error on line 1" in out and needle in out, out


@pytest.mark.apache
def test_preflights_reach_stowage_behind_apaches_own_authentication(server_factory):
    """A browser's preflight carries no credentials: where Apache itself
    requires a user, OPTIONS must be left out of the Require (LimitExcept),
    and then Stowage answers it."""
    import os
    import subprocess

    def conf(ctx):
        htpasswd = ctx.tmp / "htpasswd"
        subprocess.run(["htpasswd", "-cbB", str(htpasswd), "alice", "pw"], check=True,
                       capture_output=True)
        os.chmod(htpasswd, 0o644)
        return f"""
StowageApacheAuth On
StowageApacheUser alice web .admin
<Location "/v1/AUTH_web">
    AuthType Basic
    AuthName "stowage"
    AuthBasicProvider file
    AuthUserFile "{htpasswd}"
    <LimitExcept OPTIONS>
        Require valid-user
    </LimitExcept>
</Location>
"""
    srv = server_factory(extra_conf=conf)
    h = HTTP(srv.port)
    assert h.request("GET", "/v1/AUTH_web/c/o").status == 401
    r = h.request("OPTIONS", "/v1/AUTH_web/c/o", {"Origin": "http://a.example",
                                                   "Access-Control-Request-Method": "GET"})
    # Stowage's answer (no container, no allowed origin): its refused preflight.
    assert r.status == 401 and r.body == UNAUTHORIZED, r
    assert r.header("X-Trans-Id", "").startswith("tx"), r
    r = h.request("OPTIONS", "/v1/AUTH_web/c/o")
    assert r.status == 200 and methods(r.header("Allow")) == OBJECT, r
