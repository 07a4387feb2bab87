"""GET /info (Swift's capabilities document) and GET /healthcheck."""

import pytest

SWIFT_DEFAULTS = {
    "max_file_size": 5368709122,
    "max_meta_name_length": 128,
    "max_meta_value_length": 256,
    "max_meta_count": 90,
    "max_meta_overall_size": 4096,
    "max_header_size": 8192,
    "max_object_name_length": 1024,
    "max_account_name_length": 256,
    "max_container_name_length": 256,
    "container_listing_limit": 10000,
    "account_listing_limit": 10000,
}


@pytest.fixture
def info(server):
    status, headers, body = server.http_get("/info")
    assert status == 200, (status, body[:300])
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert ctype.startswith("application/json"), ctype
    import json
    return json.loads(body)


def test_info_swift_constraints(info):
    assert isinstance(info.get("swift"), dict), info
    for k, v in SWIFT_DEFAULTS.items():
        assert info["swift"].get(k) == v, (k, info["swift"].get(k))


def test_info_api_versions_and_tempauth(info):
    # Swift keeps valid_api_versions out of /info; if served, it must be right.
    if "valid_api_versions" in info["swift"]:
        assert info["swift"]["valid_api_versions"] == ["v1", "v1.0"]
    assert "version" in info["swift"]
    assert "tempauth" in info


def test_info_needs_no_token_and_head_works(server):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    c.request("HEAD", "/info")
    r = c.getresponse()
    assert r.status == 200
    assert r.read() == b""
    c.close()


def test_healthcheck(server):
    status, headers, body = server.http_get("/healthcheck")
    assert status == 200
    assert body == b"OK"
