"""Swift's metadata limits hold for what a container or account ends up
with, not only per request (issue 17, item 2): 90 items and 4096 bytes of
X-Container-Meta-* / X-Account-Meta-* in all, merged with what is stored, as
Swift's container and account servers check it (swift/common/db.py,
validate_metadata). Before, each POST was checked alone, and a few hundred
POSTs (by the owner, or by a read-write account-ACL user) left tens of
thousands of items on every HEAD. A refused request is Swift's 400 with its
message and leaves everything stored as it was."""

import json

import pytest

from harness import server_with_users, unique

pytestmark = pytest.mark.apache

USERS = {"lim:admin": ("limkey", True), "lim:member": ("limmember", False)}
TOO_MANY = b"Too many metadata items; max 90"
TOO_LARGE = b"Total metadata too large; max 4096"


@pytest.fixture(scope="module")
def srv():
    yield from server_with_users(USERS)


@pytest.fixture(scope="module")
def owner(srv):
    return srv.client("lim:admin", USERS["lim:admin"][0])


@pytest.fixture(scope="module")
def member(srv):
    return srv.client("lim:member", USERS["lim:member"][0])


def items(kind, start, n, value="v"):
    return {f"X-{kind}-Meta-K{i:04d}": value for i in range(start, start + n)}


def user_meta(resp, kind):
    prefix = f"x-{kind.lower()}-meta-"
    return {k.lower(): v for k, v in resp.header_list if k.lower().startswith(prefix)}


def refused(r, message):
    assert r.status == 400, r
    assert r.body.rstrip(b"\n") == message, r.body


def test_container_items_are_counted_after_the_merge(owner):
    c = unique("c")
    assert owner.request("PUT", c, items("Container", 0, 60)).status == 201
    before = user_meta(owner.request("HEAD", c), "Container")
    assert len(before) == 60
    refused(owner.request("POST", c, items("Container", 60, 60)), TOO_MANY)
    # A PUT of the existing container merges too.
    refused(owner.request("PUT", c, items("Container", 60, 31)), TOO_MANY)
    assert user_meta(owner.request("HEAD", c), "Container") == before, "nothing lost or added"
    # Exactly 90 is fine; ACLs, removals and other headers are not items.
    r = owner.request("POST", c, {**items("Container", 60, 30), "X-Container-Read": ".r:*",
                                  "X-Container-Write": "lim:member"})
    assert r.status == 204, r
    refused(owner.request("POST", c, items("Container", 90, 1)), TOO_MANY)
    # Making room in the same request is making room.
    r = owner.request("POST", c, {**items("Container", 90, 1),
                                  "X-Remove-Container-Meta-K0000": "x"})
    assert r.status == 204, r
    h = owner.request("HEAD", c)
    assert len(user_meta(h, "Container")) == 90
    assert h.header("X-Container-Read") == ".r:*"


def test_container_bytes_are_counted_after_the_merge(owner):
    c = unique("c")
    # 8 items of (5-byte name + 250-byte value): 2040 bytes each request.
    r = owner.request("PUT", c, items("Container", 0, 8, "v" * 250))
    assert r.status == 201, r
    assert owner.request("POST", c, items("Container", 8, 8, "v" * 250)).status == 204
    refused(owner.request("POST", c, items("Container", 16, 1, "v" * 12)), TOO_LARGE)  # 4097
    # A longer value takes room (4086: the same item is now 4097), a shorter
    # one gives it back.
    assert owner.request("POST", c, {"X-Container-Meta-K0000": "v" * 256}).status == 204
    refused(owner.request("POST", c, items("Container", 16, 1, "v" * 6)), TOO_LARGE)
    assert owner.request("POST", c, {"X-Container-Meta-K0000": "v" * 240}).status == 204
    assert owner.request("POST", c, items("Container", 16, 1, "v" * 6)).status == 204
    h = owner.request("HEAD", c)
    assert len(user_meta(h, "Container")) == 17
    assert h.header("X-Container-Meta-K0000") == "v" * 240


def test_repeated_posts_cannot_grow_a_container_without_bound(owner, member):
    """The attack of issue 17 as a read-write account-ACL user against the
    owner's container (and the owner's own container works on)."""
    c = unique("c")
    assert owner.request("PUT", c, {"X-Container-Meta-Owner": "keep"}).status == 201
    acl = json.dumps({"read-write": ["lim:member"]})
    assert owner.request("POST", "", {"X-Account-Access-Control": acl}).status == 204
    try:
        # 89 names at a time, new ones every time: the first fills the
        # container to 90 items, every later one is refused.
        statuses = [member.request("POST", c, items("Container", 89 * i, 89)).status
                    for i in range(20)]
    finally:
        assert owner.request("POST", "", {"X-Account-Access-Control": ""}).status == 204
    assert statuses == [204] + [400] * 19, statuses
    h = owner.request("HEAD", c)
    stored = user_meta(h, "Container")
    assert len(stored) == 90 and stored["x-container-meta-owner"] == "keep"
    assert len(h.header_list) < 120, len(h.header_list)
    # The owner's writes into it are unaffected.
    owner.put_object(c, "o", b"data")
    assert owner.request("GET", f"{c}/o").body == b"data"


def test_account_metadata_is_limited_after_the_merge(owner):
    base = {k.lower(): v for k, v in user_meta(owner.request("HEAD", ""), "Account").items()}
    assert owner.request("POST", "", items("Account", 0, 60)).status == 204
    try:
        refused(owner.request("POST", "", items("Account", 60, 60)), TOO_MANY)
        after = user_meta(owner.request("HEAD", ""), "Account")
        assert len(after) == 60 + len(base)
        # Size: 60 one-byte values use 60 * (5 + 1) = 360 bytes; 15 of them
        # 255 bytes longer (+3825) pass 4096, 14 (+3570) do not.
        refused(owner.request("POST", "", items("Account", 0, 15, "v" * 256)), TOO_LARGE)
        assert owner.request("POST", "", items("Account", 0, 14, "v" * 256)).status == 204
        # The account ACL is not user metadata.
        acl = json.dumps({"read-only": ["lim:member"]})
        assert owner.request("POST", "", {"X-Account-Access-Control": acl}).status == 204
    finally:
        remove = {f"X-Remove-Account-Meta-K{i:04d}": "x" for i in range(0, 60)}
        assert owner.request("POST", "", remove).status == 204
        assert owner.request("POST", "", {"X-Account-Access-Control": ""}).status == 204
    assert user_meta(owner.request("HEAD", ""), "Account") == base
