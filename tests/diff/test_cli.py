"""The CLI step's own logic (tests/diff/cli.py), without servers: how it
reads `swift` output back and what it counts as a difference. Run by
tests/diff/run.sh before the harness (pytest from .venv)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli  # noqa: E402
from compare import Response, compare  # noqa: E402


STAT_CONTAINER = """\
               Account: AUTH_cli
             Container: c
               Objects: 3
                 Bytes: 4.9K
              Read ACL: .r:*
             Write ACL:
            Meta Color: Red
         Accept-Ranges: bytes
           X-Timestamp: 1796673803.85838
            X-Trans-Id: tx4ed5806c30c748b289638-006b17110d
"""


def test_stat_headers_maps_items_back_to_headers():
    h = dict(cli.stat_headers(STAT_CONTAINER, "container"))
    assert h["x-container-object-count"] == "3"
    assert h["x-container-bytes-used"] == "4.9K"
    assert h["x-container-read"] == ".r:*"
    assert "x-container-write" not in h          # printed empty: not sent
    assert h["x-container-meta-color"] == "Red"
    assert h["accept-ranges"] == "bytes"
    assert h["container"] == "c"


def test_stat_headers_policy_and_object_items():
    acct = 'Containers in policy "policy-0": 1\n   Bytes in policy "policy-0": 5006\n'
    h = dict(cli.stat_headers(acct, "account"))
    assert h == {"x-account-storage-policy-policy-0-container-count": "1",
                 "x-account-storage-policy-policy-0-bytes-used": "5006"}
    obj = "  Content Type: text/plain\n          ETag: abc\n    Meta Mtime: 17.0\n"
    assert dict(cli.stat_headers(obj, "object")) == {
        "content-type": "text/plain", "etag": "abc", "x-object-meta-mtime": "17.0"}


def test_stat_headers_compare_as_headers_so_header_classes_apply():
    a = Response(204, "", cli.stat_headers(STAT_CONTAINER, "container"), b"")
    b_text = STAT_CONTAINER.replace("         Accept-Ranges: bytes\n", "")
    b_text = b_text.replace("1796673803.85838", "1796673999.12345")
    b = Response(204, "", cli.stat_headers(b_text, "container"), b"")
    d = compare(a, b, 1, 2)
    assert [(x.aspect, x.detail) for x in d] == [("header-missing", "accept-ranges")]


def test_norm_text():
    t = ("http://127.0.0.1:4711/v1/AUTH_cli (txn: tx4ed5806c30c748b289638-006b17110d) "
         "AUTH_tk21c08509837645049a3b6440de8da354 1796673803.85838 "
         "Mon, 07 Dec 2026 20:03:25 GMT 2026-12-07 20:03:29 2026-12-07T20:03:29.075350 "
         "/tmp/x/out/a.txt [auth 0.023s, headers 0.105s, total 0.106s, 0.000 MB/s]")
    assert cli.norm_text(t, 4711, Path("/tmp/x")) == (
        "http://127.0.0.1:PORT/v1/AUTH_cli (txn: <trans-id>) <token> <timestamp> <http-date> "
        "<date> <time> <iso-time> <dir>/out/a.txt <timing>")


def test_line_diffs_name_what_differs():
    a = ["   3 2026 Policy-0        cli-list", "same"]
    b = ["   3 2026 ???             cli-list", "same"]
    assert [d for d, _, _ in cli.line_diffs(a, b)] == ["Policy-0!=???"]
    assert cli.line_diffs(["x", "y"], ["y", "x"]) == []       # a multiset
    assert [d for d, _, _ in cli.line_diffs(["only swift"], [])] == ["only swift!="]


def test_capabilities_text_gets_info_paths():
    text = ("Core: swift\n Options:\n  version: 2.38.3\n  max_file_size: 5\n"
            "Additional middleware: slo\n Options:\n  max_manifest_segments: 1000\n")
    assert cli.capabilities(text) == {"swift": {"version": "2.38.3", "max_file_size": "5"},
                                      "slo": {"max_manifest_segments": "1000"}}


def test_levels_and_paths():
    lvl = cli.cmd_level
    assert lvl(cli.Cmd("x", ["stat"])) == "account"
    assert lvl(cli.Cmd("x", ["-v", "stat", "c"])) == "container"
    assert lvl(cli.Cmd("x", ["stat", "-H", "If-Match: x", "c", "o"])) == "object"
    assert lvl(cli.Cmd("x", ["post", "-r", "", "c"])) == "container"
    assert cli.stat_path(cli.Cmd("x", ["stat", "--header", "A: b", "c", "d e"])) == \
        "/v1/AUTH_cli/c/d%20e"


def test_every_scenario_is_well_formed():
    scns = cli.scenarios()
    assert len({s.id for s in scns}) == len(scns)
    for s in scns:
        labels = [c.label for c in s.cmds]
        assert len(set(labels)) == len(labels), s.id
        for c in s.cmds:
            assert c.user in cli.USERS


def test_global_options_with_values_are_not_positional():
    cmd = cli.Cmd("x", ["-V", "1.0", "--os-storage-url", "u", "stat", "c", "o"])
    assert cli.positionals(cmd) == ["stat", "c", "o"]
    assert cli.cmd_level(cmd) == "object"


def test_now_mtime_only_for_a_recent_mtime():
    import time
    now = f"{time.time():.6f}"
    assert cli.now_mtime([("X-Object-Meta-Mtime", now), ("X-Object-Meta-Mtime", "1700000000.000000"),
                          ("Etag", "x")]) == [("X-Object-Meta-Mtime", "<now>"),
                                              ("X-Object-Meta-Mtime", "1700000000.000000"),
                                              ("Etag", "x")]


class FakeSide:
    def __init__(self, name, port, root: Path):
        self.name, self.port, self.cli_dir = name, port, root
        self.tokens = {u: "tok" for u in cli.USERS}

    def raw(self, method, path, headers):
        return Response(204, "", [], b"")


def _sides(tmp_path):
    a, b = tmp_path / "swift", tmp_path / "stowage"
    a.mkdir()
    b.mkdir()
    return FakeSide("swift", 1111, a), FakeSide("stowage", 2222, b)


def test_compare_cmd_exit_alone_and_local_files(tmp_path):
    sa, sb = _sides(tmp_path)
    (sa.cli_dir / "got.txt").write_bytes(b"x")
    (sb.cli_dir / "got.txt").write_bytes(b"y")
    (sa.cli_dir / "only.txt").write_bytes(b"z")
    cmd = cli.Cmd("dl", ["download", "c", "o"])
    rows = cli.compare_cmd(cmd, cli.Result(0, "o\n", ""), cli.Result(1, "", "boom\n"), sa, sb)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("cli", 0, "file", "bytes:got.txt"), ("cli", 0, "file", "missing:only.txt"),
        ("cli", 0, "exit", "0!=1")]


def test_compare_cmd_stat_rows_carry_the_head_status_and_level(tmp_path):
    sa, sb = _sides(tmp_path)
    cmd = cli.Cmd("st", ["stat", "c"])
    out_b = STAT_CONTAINER.replace("         Accept-Ranges: bytes\n", "")
    rows = cli.compare_cmd(cmd, cli.Result(0, STAT_CONTAINER, ""), cli.Result(0, out_b, ""), sa, sb)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("container", 204, "header-missing", "accept-ranges")]


def test_compare_cmd_output_ports_and_order(tmp_path):
    sa, sb = _sides(tmp_path)
    cmd = cli.Cmd("up", ["upload", "c", "a", "b"])
    ra = cli.Result(0, "a\nb\n", "see http://127.0.0.1:1111/v1\n")
    rb = cli.Result(0, "b\na\n", "see http://127.0.0.1:2222/v1\n")
    assert cli.compare_cmd(cmd, ra, rb, sa, sb) == []
    listing = cli.Cmd("ls", ["list", "c"], ordered=True)
    rows = cli.compare_cmd(listing, cli.Result(0, "a\nb\n", ""), cli.Result(0, "b\na\n", ""), sa, sb)
    assert [(r[2], r[3]) for r in rows] == [("stdout", "order")]
