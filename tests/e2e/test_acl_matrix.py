"""Tempauth access matrix: every caller x every ACL setting x read object /
list container / write object, with the exact status Swift gives.

A server of its own (accounts AUTH_acl and AUTH_acl2), so that account ACLs
set here never leak into other tests.
"""

import json

import pytest

from harness import HTTP, start_server, stop_server, unique, users_conf

USERS = {
    "acl:admin": ("aclkey", True),       # owner of AUTH_acl
    "acl:member": ("memberkey", False),  # same account, not admin
    "acl2:admin": ("acl2key", True),     # admin of another account
}
ACCOUNT = "/v1/AUTH_acl"

# setting -> (X-Container-Read, X-Container-Write, account ACL)
SETTINGS = {
    "none": ("", "", None),
    "r-star": (".r:*", "", None),
    "r-star-listings": (".r:*,.rlistings", "", None),
    "read-member": ("acl:member", "", None),
    "write-member": ("", "acl:member", None),
    "acct-read-only": ("", "", {"read-only": ["acl:member"]}),
    "acct-read-write": ("", "", {"read-write": ["acl:member"]}),
    "acct-admin": ("", "", {"admin": ["acl:member"]}),
}

# caller -> setting -> (read object, list container, write object)
MATRIX = {
    "admin": {s: (200, 200, 201) for s in SETTINGS},
    "member": {
        "none": (403, 403, 403),
        "r-star": (200, 403, 403),
        "r-star-listings": (200, 200, 403),
        "read-member": (200, 200, 403),
        "write-member": (403, 403, 201),
        "acct-read-only": (200, 200, 403),
        "acct-read-write": (200, 200, 201),
        "acct-admin": (200, 200, 201),
    },
    "other-admin": {
        "none": (403, 403, 403),
        "r-star": (200, 403, 403),
        "r-star-listings": (200, 200, 403),
        "read-member": (403, 403, 403),
        "write-member": (403, 403, 403),
        "acct-read-only": (403, 403, 403),
        "acct-read-write": (403, 403, 403),
        "acct-admin": (403, 403, 403),
    },
    "anonymous": {
        "none": (401, 401, 401),
        "r-star": (200, 401, 401),
        "r-star-listings": (200, 200, 401),
        "read-member": (401, 401, 401),
        "write-member": (401, 401, 401),
        "acct-read-only": (401, 401, 401),
        "acct-read-write": (401, 401, 401),
        "acct-admin": (401, 401, 401),
    },
}
CALLER_LOGIN = {"admin": "acl:admin", "member": "acl:member", "other-admin": "acl2:admin"}
OPS = ("read-object", "list-container", "write-object")

CASES = [(caller, setting, op, MATRIX[caller][setting][i])
         for caller in MATRIX for setting in SETTINGS for i, op in enumerate(OPS)]


class World:
    def __init__(self, srv):
        self.srv = srv
        self.http = HTTP(srv.port)
        self.tokens = {name: srv.auth(login, USERS[login][0])[1]
                       for name, login in CALLER_LOGIN.items()}
        self.containers = {}
        self.account_acl = "unset"

    def req(self, caller, method, path, headers=None, body=None):
        h = dict(headers or {})
        if caller != "anonymous":
            h["X-Auth-Token"] = self.tokens[caller]
        return self.http.request(method, path, h, body)

    def container_for(self, setting):
        """A container with one object and the setting's container ACLs."""
        if setting not in self.containers:
            read, write, _ = SETTINGS[setting]
            name = unique(f"m-{setting}")
            r = self.req("admin", "PUT", f"{ACCOUNT}/{name}",
                         {"X-Container-Read": read, "X-Container-Write": write})
            assert r.status == 201, r
            r = self.req("admin", "PUT", f"{ACCOUNT}/{name}/o", body=b"data")
            assert r.status == 201, r
            self.containers[setting] = name
        return self.containers[setting]

    def set_account_acl(self, setting):
        acl = SETTINGS[setting][2]
        value = json.dumps(acl) if acl else ""
        if value != self.account_acl:
            r = self.req("admin", "POST", ACCOUNT, {"X-Account-Access-Control": value})
            assert r.status == 204, r
            self.account_acl = value


@pytest.fixture(scope="module")
def world():
    srv = start_server(extra_conf=users_conf(USERS))
    try:
        yield World(srv)
    finally:
        crashes = stop_server(srv)
        assert not crashes, crashes


@pytest.mark.parametrize("caller,setting,op,expected", CASES,
                         ids=[f"{c}-{s}-{o}" for c, s, o, _ in CASES])
def test_access(world, caller, setting, op, expected):
    world.set_account_acl(setting)
    c = world.container_for(setting)
    if op == "read-object":
        r = world.req(caller, "GET", f"{ACCOUNT}/{c}/o")
    elif op == "list-container":
        r = world.req(caller, "GET", f"{ACCOUNT}/{c}")
    else:
        r = world.req(caller, "PUT", f"{ACCOUNT}/{c}/{unique('w')}", body=b"x")
    assert r.status == expected, r
    if expected == 200 and op == "read-object":
        assert r.body == b"data"
    if expected == 200 and op == "list-container":
        assert "o" in r.body.decode().split()
    if expected == 401:
        assert caller == "anonymous"
