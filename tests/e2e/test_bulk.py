"""Swift's bulk middleware: POST/DELETE ?bulk-delete and PUT
?extract-archive=tar|tar.gz|tar.bz2. Both answer 200 and report the real
outcome in a results body (Accept: text/plain, JSON, XML), exactly as
Swift 2.38 writes it (tests/diff compares the same requests with Swift)."""

import bz2
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from harness import DEFAULT_KEY, DEFAULT_USER, md5hex, tmp_files, unique

OK_JSON = {"Accept": "application/json"}


def bulk_delete(swift, names, headers=None, method="POST", **kw):
    body = "\n".join(names).encode() if isinstance(names, list) else names
    h = {"Content-Type": "text/plain", **OK_JSON, **(headers or {})}
    return swift.request(method, "", h, body=body, query="bulk-delete", **kw)


def tar_of(members, compression=""):
    """members: (name, bytes | None for a directory | ("symlink", target), pax)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for m in members:
            name, data = m[0], m[1]
            ti = tarfile.TarInfo(name)
            ti.pax_headers = dict(m[2]) if len(m) > 2 else {}
            if data is None:
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif isinstance(data, tuple):
                ti.type, ti.linkname = tarfile.SYMTYPE, data[1]
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    out = raw.getvalue()
    if compression == "gz":
        return gzip.compress(out)
    if compression == "bz2":
        return bz2.compress(out)
    return out


def extract(swift, path, body, kind="tar", headers=None, **kw):
    h = {**OK_JSON, **(headers or {})}
    return swift.request("PUT", path, h, body=body, query=f"extract-archive={kind}", **kw)


def results(r):
    assert r.status == 200, r
    return json.loads(r.body)


def names_in(swift, container):
    return [o["name"] for o in swift.listing(container)]


# --------------------------------------------------------------------------
# Bulk delete.
# --------------------------------------------------------------------------

def test_bulk_delete_objects_and_containers(swift):
    c, full, empty = unique("bd"), unique("bdfull"), unique("bdempty")
    for name in (c, full, empty):
        swift.put_container(name)
    for o in ("a", "b b", "caf\u00e9"):
        swift.put_object(c, o, o.encode())
    swift.put_object(full, "keep", b"keep")
    r = bulk_delete(swift, [f"/{c}/a", f"{c}/b%20b", f"/{c}/caf%C3%A9", f"/{c}/missing",
                            f"/{full}", f"{empty}/", f"/{unique('nope')}", f"/{c}"])
    assert r.header("Content-Type") == "application/json"
    # Objects go first, so the emptied container goes too.
    assert results(r) == {"Response Status": "400 Bad Request", "Response Body": "",
                          "Number Deleted": 5, "Number Not Found": 2,
                          "Errors": [[f"/{full}", "409 Conflict"]]}
    assert swift.request("HEAD", c).status == 404
    assert swift.request("HEAD", empty).status == 404
    assert names_in(swift, full) == ["keep"]


def test_bulk_delete_all_found_is_200_ok_and_delete_method_works(swift, container):
    swift.put_object(container, "x", b"x")
    r = bulk_delete(swift, [f"{container}/x", f"{container}/gone"], method="DELETE")
    assert results(r) == {"Response Status": "200 OK", "Response Body": "",
                          "Number Deleted": 1, "Number Not Found": 1, "Errors": []}


@pytest.mark.parametrize("accept,ctype,body", [
    (None, "text/plain",
     b"Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n"),
    ("text/plain", "text/plain",
     b"Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n"),
    ("application/json", "application/json",
     b'{"Response Status": "200 OK", "Response Body": "", "Number Deleted": 1, '
     b'"Number Not Found": 0, "Errors": []}'),
    ("application/xml", "application/xml",
     b"<delete>\n<number_deleted>1</number_deleted>\n<number_not_found>0</number_not_found>\n"
     b"<response_body></response_body>\n<response_status>200 OK</response_status>\n"
     b"<errors>\n</errors>\n</delete>\n"),
    ("text/xml", "text/xml",
     b"<delete>\n<number_deleted>1</number_deleted>\n<number_not_found>0</number_not_found>\n"
     b"<response_body></response_body>\n<response_status>200 OK</response_status>\n"
     b"<errors>\n</errors>\n</delete>\n"),
])
def test_bulk_delete_each_accept_format(swift, container, accept, ctype, body):
    swift.put_object(container, "o", b"o")
    h = {"Accept": accept} if accept else {}
    r = swift.request("POST", "", {"Content-Type": "text/plain", **h},
                      body=f"{container}/o\n".encode(), query="bulk-delete")
    assert r.status == 200, r
    assert r.header("Content-Type") == ctype
    assert r.body == body


def test_bulk_delete_unacceptable_accept_reports_406_and_deletes_nothing(swift, container):
    swift.put_object(container, "o", b"o")
    r = swift.request("POST", "", {"Accept": "image/png"}, body=f"{container}/o".encode(),
                      query="bulk-delete")
    assert r.status == 200
    # No format chosen: the plain-text body under swob's default type.
    assert r.header("Content-Type") == "text/html; charset=UTF-8"
    assert r.body == (b"Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \n"
                      b"Response Status: 406 Not Acceptable\nErrors:\n")
    assert names_in(swift, container) == ["o"]


def test_bulk_delete_json_body_is_406(swift, container):
    swift.put_object(container, "o", b"o")
    r = bulk_delete(swift, [f"{container}/o"], {"Content-Type": "application/json"})
    assert results(r)["Response Status"] == "406 Not Acceptable"
    assert names_in(swift, container) == ["o"]


def test_bulk_delete_forbidden_and_unauthorised(server, swift, container):
    swift.put_object(container, "o", b"o")
    member = server.client("test:member", "memberkey")
    r = bulk_delete(member, [f"{container}/o", container])
    assert results(r) == {"Response Status": "400 Bad Request", "Response Body": "",
                          "Number Deleted": 0, "Number Not Found": 0,
                          "Errors": [[f"{container}/o", "403 Forbidden"],
                                     [container, "403 Forbidden"]]}
    anon = bulk_delete(swift, [f"{container}/o"], token=False)
    assert results(anon)["Errors"] == [[f"{container}/o", "401 Unauthorized"]]
    assert names_in(swift, container) == ["o"]


def test_bulk_delete_stops_after_1000_failures(server, swift, container):
    member = server.client("test:member", "memberkey")
    names = [f"{container}/o{i}" for i in range(1005)]
    got = results(bulk_delete(member, names))
    assert got["Response Status"] == "400 Bad Request"
    assert got["Response Body"] == "Max delete failures exceeded"
    # The 1,000th failure stops it; the deletion Swift has in flight then
    # (it runs two at a time) is counted too.
    assert got["Errors"] == [[n, "403 Forbidden"] for n in names[:1001]]


def test_bulk_delete_too_many_names_is_413_and_deletes_nothing(swift, container):
    swift.put_object(container, "o0", b"o")
    names = [f"{container}/o{i}" for i in range(10001)]
    r = bulk_delete(swift, names)
    assert results(r) == {"Response Status": "413 Request Entity Too Large",
                          "Response Body": "Maximum Bulk Deletes: 10000 per request",
                          "Number Deleted": 0, "Number Not Found": 0, "Errors": []}
    assert names_in(swift, container) == ["o0"]


def test_bulk_delete_overlong_line_is_400(swift, container):
    swift.put_object(container, "o", b"o")
    r = bulk_delete(swift, f"{container}/o\n{'x' * 3000}\n".encode())
    assert results(r)["Response Status"] == "400 Bad Request"
    assert results(r)["Response Body"] == "Invalid File Name"
    assert names_in(swift, container) == ["o"]


def test_bulk_delete_empty_list_and_bad_names(swift, container):
    r = bulk_delete(swift, b"\n\n")
    assert results(r)["Response Body"] == "Invalid bulk delete."
    r = bulk_delete(swift, f"{container}/a%00b\n{container}/%FF\n".encode())
    assert results(r) == {"Response Status": "400 Bad Request", "Response Body": "",
                          "Number Deleted": 0, "Number Not Found": 0,
                          "Errors": [[f"{container}/a%00b", "412 Precondition Failed"],
                                     [f"{container}/%FF", "412 Precondition Failed"]]}


def test_bulk_delete_without_length_is_411_and_empty_body_invalid(swift):
    r = swift.request("POST", "", OK_JSON, query="bulk-delete")
    assert results(r)["Response Status"] == "411 Length Required"
    r = swift.request("POST", "", {**OK_JSON, "Content-Length": "0"}, query="bulk-delete")
    assert results(r)["Response Body"] == "Invalid bulk delete."


def test_account_post_with_bulk_delete_is_not_a_metadata_post(swift):
    r = swift.request("POST", "", {"X-Account-Meta-Bulk": "no"}, body=b"", query="bulk-delete")
    assert r.status == 200
    assert swift.request("HEAD", "").header("X-Account-Meta-Bulk") is None


def test_swift_cli_delete_uses_bulk_delete(swift, swift_cli):
    c = unique("cli-bd")
    swift.put_container(c)
    for i in range(5):
        swift.put_object(c, f"o{i}", b"x")
    swift_cli("delete", c)
    assert swift.request("HEAD", c).status == 404


# --------------------------------------------------------------------------
# Archive extraction.
# --------------------------------------------------------------------------

MEMBERS = [
    ("a.txt", b"alpha"),
    ("./dir/b.json", b"{}", {"SCHILY.xattr.user.meta.color": "blue",
                              "SCHILY.xattr.user.mime_type": "text/x-b"}),
    ("/abs", b"absolute"),
    ("sub", None),
    ("link", ("symlink", "a.txt")),
    ("empty", b""),
]


@pytest.mark.parametrize("kind,comp", [("tar", ""), ("tar.gz", "gz"), ("tar.bz2", "bz2")])
def test_extract_into_container(swift, container, kind, comp):
    r = extract(swift, container, tar_of(MEMBERS, comp), kind, {"X-Object-Meta-Batch": "7"})
    assert results(r) == {"Response Status": "201 Created", "Response Body": "",
                          "Number Files Created": 4, "Errors": []}
    assert names_in(swift, container) == ["a.txt", "abs", "dir/b.json", "empty"]
    g = swift.request("GET", f"{container}/dir/b.json")
    assert g.body == b"{}"
    assert g.header("Content-Type") == "text/x-b"
    assert g.header("X-Object-Meta-Color") == "blue"
    assert g.header("X-Object-Meta-Batch") == "7"
    assert swift.request("GET", f"{container}/a.txt").header("ETag") == md5hex(b"alpha")


def test_extract_at_account_level_creates_containers_and_skips_top_files(swift):
    c1, c2 = unique("ea"), unique("eb")
    r = extract(swift, "", tar_of([(f"{c1}/x", b"1"), (f"{c2}/y/z", b"2"), ("top", b"t")]))
    assert results(r)["Number Files Created"] == 2
    assert names_in(swift, c1) == ["x"] and names_in(swift, c2) == ["y/z"]


def test_extract_under_a_prefix_and_escaping_names_stay_inside(swift, container):
    r = extract(swift, f"{container}/pre/", tar_of([("../up", b"u"), ("/etc/passwd", b"p"),
                                                    ("./ok", b"k")]))
    assert results(r)["Number Files Created"] == 3
    assert names_in(swift, container) == ["pre/../up", "pre/etc/passwd", "pre/ok"]


def test_extract_unsupported_format_is_a_real_400(swift, container):
    r = extract(swift, container, tar_of(MEMBERS), "zip")
    assert r.status == 400 and r.body == b"Unsupported archive format"


@pytest.mark.parametrize("body,kind,why", [
    (b"not a tar file" * 100, "tar", "invalid header"),
    (b"", "tar", "empty file"),
    (b"xyz", "tar", "truncated header"),
    (b"plain bytes", "tar.gz", "not a gzip file"),
    (b"garbage" * 10, "tar.bz2", "invalid compressed data"),
])
def test_extract_corrupt_archive(swift, container, body, kind, why):
    r = extract(swift, container, body, kind)
    assert results(r) == {"Response Status": "400 Bad Request",
                          "Response Body": f"Invalid Tar File: {why}",
                          "Number Files Created": 0, "Errors": []}
    assert names_in(swift, container) == []


def test_extract_truncated_archive_stores_nothing_half_way(server, swift, container):
    whole = tar_of([("f1", b"1" * 600), ("f2", b"2" * 70000)])
    r = extract(swift, container, whole[:3072 + 1000])
    assert results(r) == {"Response Status": "400 Bad Request",
                          "Response Body": "Invalid Tar File: unexpected end of data",
                          "Number Files Created": 1,
                          "Errors": [[f"{container}/f2", "500 Internal Error"]]}
    assert names_in(swift, container) == ["f1"]
    assert swift.request("HEAD", f"{container}/f2").status == 404
    assert tmp_files(server) == []


def test_extract_bomb_header_of_6_gib(server, swift, container):
    ti = tarfile.TarInfo("bomb")
    ti.size = 6 * 1024 ** 3
    body = ti.tobuf(tarfile.GNU_FORMAT) + b"x" * 10000
    r = extract(swift, container, body)
    assert results(r) == {"Response Status": "400 Bad Request",
                          "Response Body": "Invalid Tar File: unexpected end of data",
                          "Number Files Created": 0,
                          "Errors": [[f"{container}/bomb", "413 Request Entity Too Large"]]}
    assert names_in(swift, container) == []
    assert tmp_files(server) == []
    # The server keeps serving.
    swift.put_object(container, "after", b"ok")
    assert swift.request("GET", f"{container}/after").body == b"ok"


def test_extract_long_name_bomb_is_refused_before_it_is_buffered(server, swift, container):
    # A GNU long-name header announcing 6 GiB: the name would be read into
    # memory whole; Stowage refuses extension headers over 1 MiB (Swift has
    # no such limit and would try to buffer it).
    ti = tarfile.TarInfo("././@LongLink")
    ti.type = tarfile.GNUTYPE_LONGNAME
    ti.size = 6 * 1024 ** 3
    first = tar_of([("ok", b"fine")])[:1024]
    body = first + ti.tobuf(tarfile.GNU_FORMAT) + b"n" * (2 << 20)
    r = extract(swift, container, body)
    assert results(r) == {"Response Status": "400 Bad Request",
                          "Response Body": "Invalid Tar File: extension header too large",
                          "Number Files Created": 1, "Errors": []}
    assert names_in(swift, container) == ["ok"]
    assert server.healthy()


def test_extract_many_entries_and_no_valid_files(swift, container):
    r = extract(swift, container, tar_of([("d", None), ("l", ("symlink", "x"))]))
    # At container level every file is valid; only non-files here.
    assert results(r)["Response Body"] == "Invalid Tar File: No Valid Files"
    many = tar_of([(f"n{i:04d}", b"") for i in range(300)], "gz")
    assert results(extract(swift, container, many, "tar.gz"))["Number Files Created"] == 300
    assert len(names_in(swift, container)) == 300


def test_extract_by_someone_without_rights(server, swift, container):
    member = server.client("test:member", "memberkey")
    r = extract(member, container, tar_of([("a", b"a")]))
    assert results(r) == {"Response Status": "400 Bad Request", "Response Body": "",
                          "Number Files Created": 0,
                          "Errors": [[f"/v1/AUTH_test/{container}", "403 Forbidden"],
                                     [f"{container}/a", "403 Forbidden"]]}
    anon = extract(swift, container, tar_of([("a", b"a")]), token=False)
    assert results(anon)["Response Status"] == "401 Unauthorized"
    assert names_in(swift, container) == []


def test_extract_stops_after_1000_failed_files(server, swift, container):
    member = server.client("test:member", "memberkey")
    body = tar_of([(f"m{i:04d}", b"") for i in range(1003)], "gz")
    got = results(extract(member, container, body, "tar.gz"))
    assert got["Response Status"] == "400 Bad Request"
    # The container's failure comes with its first file's; the check runs
    # before each member, so 999 files were tried.
    assert len(got["Errors"]) == 1000
    assert got["Errors"][:2] == [[f"/v1/AUTH_test/{container}", "403 Forbidden"],
                                 [f"{container}/m0000", "403 Forbidden"]]
    assert got["Errors"][-1] == [f"{container}/m0998", "403 Forbidden"]
    assert names_in(swift, container) == []


def test_extract_chunked_upload(swift, container):
    body = tar_of([("c1", b"chunked")], "gz")
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    r = swift.request("PUT", container, {**OK_JSON, "Transfer-Encoding": "chunked"},
                      body=chunked, query="extract-archive=tar.gz")
    assert results(r)["Number Files Created"] == 1
    assert swift.request("GET", f"{container}/c1").body == b"chunked"


# --------------------------------------------------------------------------
# rclone: its swift backend deletes chunked uploads' segments through
# ?bulk-delete once /info offers it.
# --------------------------------------------------------------------------

RCLONE = shutil.which("rclone")


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed")
def test_rclone_delete_and_purge_clean_up_segments(server, swift):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    env.update({"RCLONE_CONFIG": "/dev/null", "RCLONE_CONFIG_S_TYPE": "swift",
                "RCLONE_CONFIG_S_AUTH": server.auth_url, "RCLONE_CONFIG_S_USER": DEFAULT_USER,
                "RCLONE_CONFIG_S_KEY": DEFAULT_KEY})

    def rclone(*args):
        return subprocess.run([RCLONE, "--retries", "1", "--low-level-retries", "1", *args],
                              env=env, capture_output=True, text=True, timeout=300)

    c = unique("rc")
    swift.put_container(c)
    swift.put_container(f"{c}_segments")
    for i in range(3):
        swift.put_object(f"{c}_segments", f"big/seg{i:08d}", b"s" * 10)
        swift.put_object(c, f"small{i}", b"x")
    # A DLO manifest as rclone's chunked upload leaves it: deleting it
    # makes rclone delete its segments too.
    swift.put_object(c, "big", b"", {"X-Object-Manifest": f"{c}_segments/big/"})
    res = rclone("delete", "--dump", "headers", f"s:{c}")
    assert res.returncode == 0, res.stderr
    assert names_in(swift, c) == []
    assert names_in(swift, f"{c}_segments") == []
    assert "bulk-delete" in res.stderr
    res = rclone("purge", f"s:{c}")
    assert res.returncode == 0, res.stderr
    assert swift.request("HEAD", c).status == 404
