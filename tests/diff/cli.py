"""The `swift` CLI (python-swiftclient) against both servers: the second step
of the differential harness, run by difftest.py after the request sequences.

Each scenario is a list of `swift` commands run in order, the same command
on both sides at once (a child forked by cli_worker.py on each side), each
side in its own copy of the same local files (same bytes, same mtimes, as
`swift upload` stores the mtime).
Compared per command:

  exit        the CLI's exit status (detail "<swift>!=<stowage>"); when it
              differs, the command's output is not compared (it follows)
  stdout,     the normalised output lines (as a multiset: the CLI prints from
  stderr      threads; in order for listings); a row for each pair of lines
              only one side printed, detail what the two do not share
              ("Policy-0!=???")
  header-*    `swift stat`'s output read back into the headers it shows
              ("Meta Color: x" -> x-<level>-meta-color, "Objects" ->
              x-container-object-count, ...), compared as compare.py compares
              headers, with the level and the HTTP status of that HEAD, so
              that a header class of KNOWN_DIFFERENCES classifies it too
  body        `swift list --json`'s output, compared as a JSON listing, and
              `swift capabilities` (text or --json) as /info (level info)
  file        the local files after the command (downloads): names, bytes
              and mtimes (detail "missing:<path>", "extra:", "bytes:", "mtime:")
and, after each command that writes, the state of the containers it names
on both servers, over HTTP: the JSON listing and a HEAD of every object,
compared by compare.py with the object's level and status (so the classes
of the request sequences classify them).

A CLI row of build/diff/report.tsv: sequence = the scenario, step = the
command's index, case "<level>/cli.<label>" (level: cli for the command's own
output and files, account/container/object for stat headers and state),
STATUS Swift's exit status for the command's own output (its HTTP status for
stat headers and state), method the subcommand, path the command line.
KNOWN_DIFFERENCES classifies them like the others.

Normalised in the output: 127.0.0.1:<port>, transaction ids, tokens,
timestamps, HTTP and ISO dates, "YYYY-MM-DD HH:MM:SS" listing times, the
side's local directory, transfer timings; X-Object-Meta-Mtime of an upload
from stdin (the upload's time).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from compare import Response, compare, short
from swiftnode import USERS

CLI_USER = "cli:tester"      # admin of AUTH_cli, an account nothing else uses
CLI_READER = "cli:reader"    # a user of AUTH_cli without a role
CLI_ACCOUNT = "AUTH_cli"
RESELLER = "reseller:reseller"  # a reseller admin (swiftnode.USERS): sets AUTH_cli's quotas

MTIME = 1700000000           # every local source file's mtime
MTIME_CHANGED = 1700000500   # the mtime of a file changed before `upload --changed`

# Options of `swift <cmd> --help` (python-swiftclient 4.11.0) this step does
# not exercise, and why. The others are all covered by scenarios().
SKIPPED = [
    ("upload", "--leave-segments", "keeping a replaced manifest's old segments: not exercised "
     "(segmented uploads: scenarios cli-dlo and cli-slo)"),
    ("stat, download, delete", "--version-id, --versions", "object versioning (the versioned_writes "
     "middleware and ?version-id): Stowage has none"),
    ("list", "--versions", "object versioning: Stowage has none"),
    ("post", "--sync-to, --sync-key", "container sync: Stowage has none"),
    ("tempurl", "(any option)", "tempurl middleware: Stowage has none (mw-tempurl)"),
    ("(global)", "--os-* / -V 2.0 / 3 (Keystone), --insecure, --os-cacert, --os-cert",
     "Keystone and TLS: both servers here speak tempauth over plain HTTP"),
    ("(global)", "--debug, --debug-with-secrets, --info", "print every HTTP exchange as the client "
     "sees it (headers in the server's order, Apache's Server header): the same answers the request "
     "sequences compare header by header"),
    ("(global)", "-R/--retries, -T/--timeout, --force-auth-retry, --prompt", "what happens when a "
     "server fails or is slow, or needs a terminal"),
    ("bash_completion", "(any option)", "prints the client's own options, no request"),
]


# --------------------------------------------------------------------------
# Scenarios.
# --------------------------------------------------------------------------

@dataclass
class Cmd:
    label: str                              # the case: cli.<label>
    args: list                              # after `swift -A URL -U USER -K KEY`
    user: str = CLI_USER
    stdin: Optional[bytes] = None
    before: Optional[Callable[[Path], None]] = None   # run in each side's directory first
    settle: bool = False                    # an account-level command: let Swift's counters settle
    writes: bool = False                    # compare the containers' state after it
    json_out: bool = False                  # stdout is a JSON listing
    ordered: bool = False                   # stdout's line order matters (listings)
    preauth: bool = False                   # --os-auth-token + --os-storage-url, not -A/-U/-K


@dataclass
class Scenario:
    id: str
    containers: list
    cmds: list = field(default_factory=list)


def _md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


FILES = {
    "a.txt": b"alpha\n",
    "b.bin": bytes(random.Random("cli/b.bin").getrandbits(8) for _ in range(5000)),
    "empty.txt": b"",
    "page.html": b"<html><body>hi</body></html>\n",
    "dir/c.txt": b"gamma\n",
    "dir/e.json": b'{"e": 1}\n',
    "dir/sub/d.txt": b"delta\n",
}
A_MD5 = _md5(FILES["a.txt"])


def make_files(root: Path):
    for rel, data in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, (MTIME, MTIME))


def change_a(root: Path):
    p = root / "a.txt"
    p.write_bytes(b"alpha, changed\n")
    os.utime(p, (MTIME_CHANGED, MTIME_CHANGED))


def touch_a(root: Path):
    """Same bytes, another mtime: --changed uploads it, --skip-identical not."""
    os.utime(root / "a.txt", (MTIME_CHANGED + 100, MTIME_CHANGED + 100))


def scenarios() -> list:
    out = []

    c = "cli-stat"
    out.append(Scenario("cli-stat", [c], [
        Cmd("post-create", ["post", c], writes=True),
        Cmd("upload-files", ["upload", c, "a.txt", "b.bin", "empty.txt"], writes=True),
        Cmd("stat-account", ["stat"], settle=True),
        Cmd("stat-account-lh", ["stat", "--lh"], settle=True),
        Cmd("stat-account-verbose", ["-v", "stat"], settle=True),
        Cmd("stat-container", ["stat", c]),
        Cmd("stat-container-lh", ["stat", "--lh", c]),
        Cmd("stat-container-verbose", ["-v", "stat", c]),
        Cmd("stat-object", ["stat", c, "a.txt"]),
        Cmd("stat-object-lh", ["stat", "--lh", c, "b.bin"]),
        Cmd("stat-object-empty", ["stat", c, "empty.txt"]),
        Cmd("stat-object-verbose", ["-v", "stat", c, "a.txt"]),
        Cmd("stat-object-header", ["stat", "-H", f"If-Match: {A_MD5}", c, "a.txt"]),
        Cmd("stat-object-header-304", ["stat", "--header", f"If-None-Match: {A_MD5}", c, "a.txt"]),
        Cmd("stat-object-missing", ["stat", c, "missing.txt"]),
        Cmd("stat-container-missing", ["stat", "cli-nope"]),
        Cmd("stat-reader-denied", ["stat", c], user=CLI_READER),
        Cmd("upload-quiet", ["-q", "upload", c, "page.html"], writes=True),
        Cmd("stat-preauth", ["stat", c], preauth=True),
        Cmd("stat-auth-version", ["-V", "1.0", "stat", c, "a.txt"]),
    ]))

    c = "cli-list"
    out.append(Scenario("cli-list", [c], [
        Cmd("upload-tree", ["upload", c, "dir", "a.txt", "page.html", "empty.txt"], writes=True),
        Cmd("list-account", ["list"], settle=True, ordered=True),
        Cmd("list-account-long", ["list", "--long"], settle=True, ordered=True),
        Cmd("list-account-lh", ["list", "--lh"], settle=True, ordered=True),
        Cmd("list-account-totals", ["list", "--long", "--totals"], settle=True, ordered=True),
        Cmd("list-account-prefix", ["list", "--prefix", "cli-l"], settle=True, ordered=True),
        Cmd("list-account-json", ["list", "--json"], settle=True, json_out=True),
        Cmd("list-container", ["list", c], ordered=True),
        Cmd("list-container-long", ["list", "-l", c], ordered=True),
        Cmd("list-container-lh", ["list", "--lh", c], ordered=True),
        Cmd("list-container-totals", ["list", "--lh", "--totals", c], ordered=True),
        Cmd("list-container-totals-alone", ["list", "--totals", c], ordered=True),
        Cmd("list-container-json", ["list", "--json", c], json_out=True),
        Cmd("list-container-preauth", ["list", "--lh", c], preauth=True, ordered=True),
        Cmd("list-container-prefix", ["list", "--prefix", "dir/", c], ordered=True),
        Cmd("list-container-delimiter", ["list", "--delimiter", "/", c], ordered=True),
        Cmd("list-container-prefix-delimiter", ["list", "-p", "dir/", "-d", "/", "--long", c],
            ordered=True),
        Cmd("list-container-header", ["list", "-H", "X-Newest: true", c], ordered=True),
        Cmd("list-container-missing", ["list", "cli-nope"], ordered=True),
        Cmd("list-account-delimiter", ["list", "-d", "/"], ordered=True),
        Cmd("list-reader-denied", ["list", c], user=CLI_READER, ordered=True),
    ]))

    c = "cli-upload"
    out.append(Scenario("cli-upload", [c], [
        Cmd("upload-one", ["upload", c, "a.txt"], writes=True),
        Cmd("upload-changed-same", ["upload", "--changed", c, "a.txt"], writes=True),
        Cmd("upload-skip-identical-same", ["upload", "--skip-identical", c, "a.txt"], writes=True),
        Cmd("upload-changed-touched", ["upload", "-c", c, "a.txt"], before=touch_a, writes=True),
        Cmd("upload-skip-identical-changed", ["upload", "--skip-identical", c, "a.txt"],
            before=change_a, writes=True),
        Cmd("upload-object-name", ["upload", "--object-name", "renamed.txt", c, "a.txt"], writes=True),
        Cmd("upload-object-name-unicode", ["upload", "--object-name", "dir with space/\u00fcn\u00ef %2F.txt",
                                           c, "a.txt"], writes=True),
        Cmd("upload-object-name-dir", ["upload", "--object-name", "pfx", c, "dir"], writes=True),
        Cmd("upload-object-name-many", ["upload", "--object-name", "x", c, "a.txt", "b.bin"]),
        Cmd("upload-meta", ["upload", "-m", "Color:Blue", "--meta", "Size:Large", c, "b.bin"],
            writes=True),
        Cmd("upload-header", ["upload", "-H", "Content-Type: text/x-cli", "-H",
                              "Content-Disposition: attachment", "--header", "X-Delete-After: 86400",
                              c, "page.html"], writes=True),
        Cmd("upload-ignore-checksum", ["upload", "--ignore-checksum", c, "empty.txt"], writes=True),
        Cmd("upload-stdin", ["upload", "--object-name", "from-stdin.txt", c, "-"],
            stdin=b"from standard input\n", writes=True),
        Cmd("upload-stdin-no-name", ["upload", c, "-"], stdin=b"x"),
        Cmd("upload-dir-threads", ["upload", "--object-threads", "1", c, "dir"], writes=True),
        Cmd("upload-skip-container-put", ["upload", "--skip-container-put", c, "page.html"],
            writes=True),
        Cmd("upload-skip-container-put-missing", ["upload", "--skip-container-put", "cli-nope",
                                                  "a.txt"]),
        Cmd("upload-local-missing", ["upload", c, "no-such-file"]),
        Cmd("upload-bad-etag", ["upload", "-H", "ETag: 00000000000000000000000000000000", c,
                                "b.bin"], writes=True),
        Cmd("upload-reader-denied", ["upload", c, "b.bin"], user=CLI_READER, writes=True),
    ]))

    c = "cli-dl"
    out.append(Scenario("cli-download", [c], [
        Cmd("upload-all", ["upload", c, "a.txt", "b.bin", "dir", "empty.txt"], writes=True),
        Cmd("download-container", ["download", "--output-dir", "out", c]),
        Cmd("download-object", ["download", c, "a.txt"]),
        Cmd("download-object-dir", ["download", "-D", "one", c, "a.txt"]),
        Cmd("download-objects", ["download", "-D", "two", c, "a.txt", "dir/c.txt"]),
        Cmd("download-output", ["download", "--output", "single.txt", c, "a.txt"]),
        Cmd("download-stdout", ["download", "-o", "-", c, "a.txt"]),
        Cmd("download-prefix", ["download", "--prefix", "dir/", "-D", "pre", c]),
        Cmd("download-remove-prefix", ["download", "-p", "dir/", "--remove-prefix", "-D", "rem", c]),
        Cmd("download-marker", ["download", "--marker", "dir/", "-D", "mark", c]),
        Cmd("download-skip-identical", ["download", "--skip-identical", "-D", "out", c]),
        Cmd("download-skip-identical-changed", ["download", "--skip-identical", "-D", "out", c,
                                                "a.txt", "b.bin"],
            before=lambda d: (d / "out" / "a.txt").write_bytes(b"local change\n")),
        Cmd("download-range", ["download", "-H", "Range: bytes=1-3", "-o", "range.txt", c, "a.txt"]),
        Cmd("download-if-match", ["download", "--header", f"If-Match: {A_MD5}", "-o", "im.txt", c,
                                  "a.txt"]),
        Cmd("download-if-none-match", ["download", "-H", f"If-None-Match: {A_MD5}", "-o", "inm.txt",
                                       c, "a.txt"]),
        Cmd("download-ignore-checksum", ["download", "--ignore-checksum", "-D", "ic", c, "a.txt",
                                         "b.bin"]),
        Cmd("download-no-download", ["download", "--no-download", c]),
        Cmd("download-threads", ["download", "--no-shuffle", "--object-threads", "1",
                                 "--ignore-mtime", "-D", "thr", c]),
        Cmd("download-object-missing", ["download", "-o", "miss.txt", c, "missing.txt"]),
        Cmd("download-container-missing", ["download", "-D", "miss", "cli-nope"]),
        Cmd("download-reader-denied", ["download", "-o", "denied.txt", c, "a.txt"],
            user=CLI_READER),
    ]))

    c = "cli-post"
    out.append(Scenario("cli-post", [c], [
        Cmd("post-create", ["post", c], writes=True),
        Cmd("post-acls", ["post", "--read-acl", ".r:*,.rlistings,cli:reader", "--write-acl",
                          "cli:reader", c], writes=True),
        Cmd("post-container-meta", ["post", "-m", "Color:Red", "--meta", "Empty:", "-H",
                                    "X-Container-Meta-Web-Index: index.html", c], writes=True),
        Cmd("stat-container", ["stat", c]),
        Cmd("list-reader", ["list", c], user=CLI_READER, ordered=True),
        Cmd("upload-reader", ["upload", c, "b.bin"], user=CLI_READER, writes=True),
        Cmd("post-remove-meta", ["post", "-H", "X-Remove-Container-Meta-Color: x", "-r", "", c],
            writes=True),
        Cmd("stat-container-after", ["stat", c]),
        Cmd("list-reader-denied", ["list", c], user=CLI_READER, ordered=True),
        Cmd("post-account-meta", ["post", "-m", "Cli-Temp:one", "--header",
                                  "X-Account-Meta-Other: two"], settle=True),
        Cmd("stat-account-meta", ["stat"], settle=True),
        Cmd("post-account-remove-meta", ["post", "-H", "X-Remove-Account-Meta-Cli-Temp: x", "-H",
                                         "X-Remove-Account-Meta-Other: x"], settle=True),
        Cmd("upload-object", ["upload", c, "a.txt"], writes=True),
        Cmd("post-object", ["post", "-m", "Owner:me", "-H", "Content-Type: text/x-changed", c,
                            "a.txt"], writes=True),
        Cmd("stat-object", ["stat", c, "a.txt"]),
        Cmd("list-after-post", ["list", "--long", c], ordered=True),
        Cmd("post-object-missing", ["post", "-m", "K:v", c, "missing.txt"], writes=True),
        Cmd("post-create-implicit", ["post", "-m", "New:yes", "cli-post-new"], writes=True),
        Cmd("post-reader-denied", ["post", "-m", "K:v", c], user=CLI_READER, writes=True),
        Cmd("delete-implicit", ["delete", "cli-post-new"], writes=True),
    ]))

    c, d, e = "cli-copy", "cli-copy-dst", "cli-copy-new"
    out.append(Scenario("cli-copy", [c, d, e], [
        Cmd("upload-sources", ["upload", "-m", "Origin:src", c, "a.txt", "b.bin"], writes=True),
        Cmd("post-destination", ["post", d], writes=True),
        Cmd("copy-in-place", ["copy", c, "a.txt"], writes=True),
        Cmd("copy-in-place-meta", ["copy", "-m", "Color:Green", c, "a.txt"], writes=True),
        Cmd("copy-to-container", ["copy", "--destination", f"/{d}", c, "a.txt", "b.bin"],
            writes=True),
        Cmd("copy-renamed-meta", ["copy", "-d", f"/{d}/renamed.txt", "--meta", "Extra:1", c,
                                  "a.txt"], writes=True),
        Cmd("copy-fresh-metadata", ["copy", "--fresh-metadata", "-d", f"/{d}/fresh.bin", c,
                                    "b.bin"], writes=True),
        Cmd("copy-fresh-metadata-meta", ["copy", "-M", "-m", "Only:this", "-d", f"/{d}/fresh2.bin",
                                         c, "b.bin"], writes=True),
        Cmd("copy-header", ["copy", "-H", "Content-Type: text/x-copied", "--header",
                            "X-Object-Meta-Via: header", "-d", f"/{d}/typed.txt", c, "a.txt"],
            writes=True),
        Cmd("copy-missing", ["copy", "-d", f"/{d}/never", c, "missing.txt"], writes=True),
        Cmd("copy-new-container", ["copy", "-d", f"/{e}/x", c, "a.txt"], writes=True),
        Cmd("copy-many-to-one", ["copy", "-d", f"/{d}/x", c, "a.txt", "b.bin"]),
        Cmd("copy-reader-denied", ["copy", "-d", f"/{d}/r.txt", c, "a.txt"], user=CLI_READER,
            writes=True),
    ]))

    c = "cli-dlo"
    out.append(Scenario("cli-dlo", [c, f"{c}_segments"], [
        Cmd("upload-dlo", ["upload", "--use-dlo", "--segment-size", "1000", c, "b.bin"],
            writes=True),
        Cmd("stat-dlo", ["stat", c, "b.bin"]),
        Cmd("download-dlo", ["download", c, "b.bin", "-o", "dlo.bin"]),
        Cmd("download-dlo-manifest-range", ["download", "-H", "Range: bytes=990-1010", c,
                                            "b.bin", "-o", "dlo-range.bin"]),
        Cmd("upload-dlo-resegmented", ["upload", "--use-dlo", "-S", "2048", c, "b.bin"],
            writes=True),
        Cmd("list-segments", ["list", f"{c}_segments"], ordered=True),
        Cmd("delete-dlo", ["delete", c, "b.bin"], writes=True),
        Cmd("list-segments-after", ["list", f"{c}_segments"], ordered=True),
    ]))

    c, d = "cli-del", "cli-del2"
    out.append(Scenario("cli-delete", [c, d], [
        Cmd("upload-all", ["upload", c, "a.txt", "b.bin", "dir", "empty.txt", "page.html"],
            writes=True),
        Cmd("upload-second", ["upload", d, "a.txt", "b.bin"], writes=True),
        Cmd("delete-object", ["delete", c, "a.txt"], writes=True),
        Cmd("delete-objects", ["delete", c, "b.bin", "empty.txt"], writes=True),
        Cmd("delete-prefix", ["delete", "--prefix", "dir/sub", c], writes=True),
        Cmd("delete-leave-segments", ["delete", "--leave-segments", c, "dir/c.txt"], writes=True),
        Cmd("delete-header", ["delete", "-H", "X-Newest: true", c, "dir/e.json"], writes=True),
        Cmd("delete-object-missing", ["delete", c, "missing.txt"], writes=True),
        Cmd("delete-reader-denied", ["delete", c, "page.html"], user=CLI_READER, writes=True),
        Cmd("delete-container", ["delete", "--object-threads", "2", c], writes=True),
        Cmd("delete-container-missing", ["delete", "cli-nope"], writes=True),
        Cmd("delete-container-threads", ["delete", "--container-threads", "1", d], writes=True),
        Cmd("list-after", ["list", "--prefix", "cli-del"], settle=True, ordered=True),
    ]))

    c = "cli-slo"
    out.append(Scenario("cli-slo", [c, c + "_segments", "cli-slo-segs"], [
        Cmd("upload-slo", ["upload", "--segment-size", "1024", "--segment-threads", "1", c,
                           "b.bin"], writes=True),
        Cmd("stat-slo", ["stat", c, "b.bin"]),
        Cmd("list-slo-long", ["list", "--long", c], ordered=True),
        Cmd("list-segments", ["list", c + "_segments"], ordered=True),
        Cmd("download-slo", ["download", c, "b.bin", "-o", "slo.bin"]),
        Cmd("upload-slo-again", ["upload", "--use-slo", "-S", "2000", "--segment-threads", "1",
                                 c, "b.bin"], writes=True),
        Cmd("delete-leave-segments", ["delete", "--leave-segments", c, "b.bin"], writes=True),
        Cmd("upload-slo-container", ["upload", "-S", "4096", "--segment-threads", "1",
                                     "--segment-container", "cli-slo-segs", c, "b.bin"],
            writes=True),
        Cmd("delete-slo", ["delete", c, "b.bin"], writes=True),
    ]))

    # Quotas: a container's set with -m by its owner; the account's only
    # by the reseller admin (here with --os-storage-url on AUTH_cli).
    c = "cli-quota"
    out.append(Scenario("cli-quota", [c], [
        Cmd("post-create", ["post", c], writes=True),
        Cmd("quota-container", ["post", "-m", "quota-bytes:10", c], writes=True),
        Cmd("quota-container-invalid", ["post", "-m", "quota-count:ten", c], writes=True),
        Cmd("upload-over", ["upload", c, "b.bin"], writes=True),
        Cmd("upload-fits", ["upload", c, "a.txt"], writes=True),
        Cmd("quota-account-denied", ["post", "-m", "quota-bytes:100"], settle=True),
        Cmd("quota-account", ["post", "-m", "quota-bytes:1000000000000"], user=RESELLER,
            preauth=True, settle=True),
        Cmd("stat-quota", ["stat"], settle=True),
        Cmd("quota-account-count", ["post", "-H", "X-Account-Quota-Count: 0"], user=RESELLER,
            preauth=True, settle=True),
        Cmd("upload-count-over", ["upload", c, "empty.txt"], writes=True),
        Cmd("quota-account-remove", ["post", "-m", "quota-bytes:", "-H",
                                     "X-Remove-Account-Quota-Count: x"], user=RESELLER,
            preauth=True, settle=True),
        Cmd("stat-quota-removed", ["stat"], settle=True),
        Cmd("upload-after", ["upload", c, "empty.txt"], writes=True),
    ]))

    out.append(Scenario("cli-account", [], [
        Cmd("download-all", ["download", "--all", "-D", "all", "--container-threads", "2"],
            settle=True),
        Cmd("download-all-prefix", ["download", "-a", "-p", "dir/", "-D", "allp"], settle=True),
        Cmd("auth", ["auth"]),
        Cmd("capabilities", ["capabilities"]),
        Cmd("capabilities-json", ["capabilities", "--json"]),
        Cmd("delete-all", ["delete", "--all"], settle=True),
        Cmd("list-after", ["list"], settle=True, ordered=True),
        Cmd("stat-after", ["stat"], settle=True),
    ]))
    return out


# --------------------------------------------------------------------------
# Running and normalising.
# --------------------------------------------------------------------------

def find_python(repo: Path, swift_venv: Path) -> Optional[str]:
    """A Python that imports python-swiftclient: $STOWAGE_DIFF_SWIFTCLIENT_PYTHON,
    the e2e suite's .venv (run.sh installs tests/e2e/requirements.txt, which
    pins python-swiftclient, there) or the Swift venv."""
    env = os.environ.get("STOWAGE_DIFF_SWIFTCLIENT_PYTHON")
    cands = [env] if env else [str(repo / ".venv" / "bin" / "python"),
                               str(swift_venv / "bin" / "python")]
    for py in cands:
        if Path(py).exists() and subprocess.run([py, "-c", "import swiftclient.shell"],
                                                capture_output=True).returncode == 0:
            return py
    return None


@dataclass
class Result:
    exit: int
    stdout: str
    stderr: str


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ST_", "SWIFT"))}
    env["PYTHONWARNINGS"] = "ignore"
    env["LC_ALL"] = env["LANG"] = "C.UTF-8"
    return env


class Worker:
    """cli_worker.py: the `swift` CLI's main, forked for each command."""

    def __init__(self, python: str):
        self.proc = subprocess.Popen([python, str(Path(__file__).with_name("cli_worker.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env())

    def send(self, argv: list, cwd: Path, stdin: bytes):
        req = {"argv": ["swift", *argv], "cwd": str(cwd), "env": _env(),
               "stdin": base64.b64encode(stdin).decode()}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()

    def result(self) -> Result:
        line = self.proc.stdout.readline()
        if not line:
            return Result(-1, "", "tests/diff: the CLI worker died")
        r = json.loads(line)
        return Result(r["exit"], base64.b64decode(r["stdout"]).decode("utf-8", "replace"),
                      base64.b64decode(r["stderr"]).decode("utf-8", "replace"))

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_pair(cmd: Cmd, sides: list) -> list:
    """The command on every side at once: [Result] in the sides' order."""
    for side in sides:
        if cmd.preauth:
            argv = ["--os-auth-token", side.tokens[cmd.user], "--os-storage-url",
                    f"http://127.0.0.1:{side.port}/v1/{CLI_ACCOUNT}", *cmd.args]
        else:
            argv = ["-A", f"http://127.0.0.1:{side.port}/auth/v1.0", "-U", cmd.user,
                    "-K", USERS[cmd.user][0], *cmd.args]
        side.cli_worker.send(argv, side.cli_dir, cmd.stdin or b"")
    return [side.cli_worker.result() for side in sides]


_TEXT_NORMS = [
    (re.compile(r"tx[0-9a-f]{21}-[0-9a-f]{10}"), "<trans-id>"),
    (re.compile(r"AUTH_tk[0-9a-f]{32}"), "<token>"),
    (re.compile(r"\b\d{10}\.\d{5}\b"), "<timestamp>"),
    (re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
                r"Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT"), "<http-date>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}"), "<iso-time>"),
    (re.compile(r"\d{4}-\d\d-\d\d +\d\d:\d\d:\d\d"), "<date> <time>"),
    (re.compile(r"\[auth [\d.]+s, headers [\d.]+s, total [\d.]+s, [\d.]+ [KMG]?B/s\]"), "<timing>"),
    (re.compile(r"\[headers [\d.]+s, total [\d.]+s, [\d.]+ [KMG]?B/s\]"), "<timing>"),
]


def norm_text(text: str, port: int, cli_dir: Path) -> str:
    text = text.replace(str(cli_dir), "<dir>").replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")
    for rx, rep in _TEXT_NORMS:
        text = rx.sub(rep, text)
    return text


def _lines(text: str) -> list:
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def _only(a: list, b: list) -> tuple:
    """Lines of a not in b and of b not in a, as multisets, in their order."""
    rest_b = list(b)
    only_a = []
    for ln in a:
        if ln in rest_b:
            rest_b.remove(ln)
        else:
            only_a.append(ln)
    rest_a = list(a)
    only_b = []
    for ln in b:
        if ln in rest_a:
            rest_a.remove(ln)
        else:
            only_b.append(ln)
    return only_a, only_b


# `swift stat` output: "<Item>: value" lines, right-aligned items.
STAT_ITEMS = {
    "account": {"Containers": "x-account-container-count", "Objects": "x-account-object-count",
                "Bytes": "x-account-bytes-used", "Quota Bytes": "x-account-meta-quota-bytes"},
    "container": {"Objects": "x-container-object-count", "Bytes": "x-container-bytes-used",
                  "Read ACL": "x-container-read", "Write ACL": "x-container-write",
                  "Sync To": "x-container-sync-to", "Sync Key": "x-container-sync-key"},
    "object": {"Content Type": "content-type", "Content Length": "content-length",
               "Last Modified": "last-modified", "ETag": "etag", "Manifest": "x-object-manifest"},
}
POLICY_ITEM = re.compile(r'^(Containers|Objects|Bytes) in policy "(.*)"$')
POLICY_SUFFIX = {"Containers": "container-count", "Objects": "object-count", "Bytes": "bytes-used"}


def stat_headers(text: str, level: str) -> list:
    """`swift stat` output as the headers it shows: [(lower-case name, value)].
    An empty value is a header the server did not send (the CLI prints
    "Read ACL:" either way)."""
    out = []
    items = STAT_ITEMS.get(level, {})
    for ln in text.splitlines():
        key, sep, value = ln.strip().partition(":")
        if not sep:
            continue
        value = value.strip()
        if not value:
            continue
        m = POLICY_ITEM.match(key)
        if key in items:
            name = items[key]
        elif m:
            name = f"x-account-storage-policy-{m.group(2).lower()}-{POLICY_SUFFIX[m.group(1)]}"
        elif key.startswith("Meta "):
            name = f"x-{level}-meta-{key[5:].lower()}"
        elif key == "Auth Token":
            name = "x-auth-token"
        else:
            name = key.lower().replace(" ", "-")
        out.append((name, value))
    return out


def capabilities(text: str) -> dict:
    """`swift capabilities` output ("Core: swift", "Additional middleware:
    NAME", then "  key: value" lines) as /info's shape: {section: {key:
    value}}, so that its differences get /info's paths."""
    out = {}
    section = None
    for ln in text.splitlines():
        m = re.match(r"^(?:Core|Additional middleware): (.+)$", ln)
        if m:
            section = out.setdefault(m.group(1), {})
            continue
        m = re.match(r"^  (\S[^:]*): ?(.*)$", ln)
        if m and section is not None:
            section[m.group(1)] = m.group(2)
    return out


# Options that take a value, global and of any subcommand.
WITH_VALUE = {"-A", "--auth", "-U", "--user", "-K", "--key", "-V", "--auth-version",
              "--os-auth-token", "--os-storage-url", "-R", "--retries", "-T", "--timeout",
              "-H", "--header", "-m", "--meta", "-p", "--prefix", "-d", "--delimiter", "-D",
              "--output-dir", "-o", "--output", "--marker", "--object-name", "-r", "--read-acl",
              "-w", "--write-acl", "--destination", "--object-threads", "--container-threads",
              "--segment-size", "-S", "--segment-container", "--segment-threads"}


def positionals(cmd: Cmd) -> list:
    """The subcommand and its positional arguments."""
    pos = []
    skip = False
    for a in cmd.args:
        if skip:
            skip = False
        elif a in WITH_VALUE:
            skip = True
        elif a == "-" or not a.startswith("-"):
            pos.append(a)
    return pos


def cmd_level(cmd: Cmd) -> str:
    """account, container or object: what the command's positional
    arguments name."""
    n = len(positionals(cmd)) - 1
    return "account" if n <= 0 else "container" if n == 1 else "object"


def stat_path(cmd: Cmd) -> str:
    parts = [CLI_ACCOUNT] + [urllib.parse.quote(p) for p in positionals(cmd)[1:]]
    return "/v1/" + "/".join(parts)


def now_mtime(headers: list) -> list:
    """X-Object-Meta-Mtime of an upload from stdin is the time of the
    upload (the CLI's clock, a second apart on the two sides): "<now>"."""
    out = []
    for k, v in headers:
        if k.lower() == "x-object-meta-mtime":
            try:
                if abs(float(v) - time.time()) < 3600:
                    v = "<now>"
            except ValueError:
                pass
        out.append((k, v))
    return out


def _files(root: Path) -> dict:
    """Local files below root: relative path -> (md5, mtime or "<now>")."""
    out = {}
    now = time.time()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            mtime = "<now>" if abs(st.st_mtime - now) < 3600 else str(int(st.st_mtime))
            out[str(p.relative_to(root))] = (_md5(p.read_bytes()), mtime)
    return out


# --------------------------------------------------------------------------
# The step.
# --------------------------------------------------------------------------

def listing_of(scns: list) -> list:
    """difftest.py --list: each command, then the options left out."""
    out = []
    for s in scns:
        for i, c in enumerate(s.cmds):
            out.append(f"{s.id}\t{i}\tcli.{c.label}\t{c.user}\tswift {' '.join(c.args)}")
    if scns:
        out += [f"# not run: swift {cmd} {opts}: {why}" for cmd, opts, why in SKIPPED]
    return out


def run(scns: list, sides: list, known, settle: Callable[[str], float], python: str, base: Path,
        verbose: bool = False) -> tuple:
    """Every scenario on both sides; (rows as difftest.run's, commands
    compared, seconds spent settling)."""
    for side in sides:
        side.cli_worker = Worker(python)
    try:
        return _run(scns, sides, known, settle, base, verbose)
    finally:
        for side in sides:
            side.cli_worker.close()


def _run(scns, sides, known, settle, base, verbose) -> tuple:
    rows = []
    compared = 0
    settle_time = 0.0
    swift, stow = sides
    for side in sides:
        side.cli_dir = base / side.name
        shutil.rmtree(side.cli_dir, ignore_errors=True)
        (base / f"{side.name}.log").unlink(missing_ok=True)
    for scn in scns:
        for side in sides:
            side.cli_dir = base / side.name / scn.id
            side.cli_dir.mkdir(parents=True)
            make_files(side.cli_dir)
        for i, cmd in enumerate(scn.cmds):
            if cmd.before:
                for side in sides:
                    cmd.before(side.cli_dir)
            if cmd.settle:
                settle_time += settle(CLI_ACCOUNT)
            t0 = time.monotonic()
            ra, rb = run_pair(cmd, sides)
            if os.environ.get("DIFF_DEBUG"):
                print(f"cli {scn.id}#{i} {time.monotonic() - t0:.2f}s", file=sys.stderr)
            compared += 1
            for side, r in ((swift, ra), (stow, rb)):
                with open(base / f"{side.name}.log", "a", encoding="utf-8") as log:
                    log.write(f"### {scn.id}#{i} cli.{cmd.label} ({cmd.user}): swift "
                              f"{' '.join(cmd.args)}\nexit {r.exit}\n--- stdout\n{r.stdout}"
                              f"--- stderr\n{r.stderr}\n")
            diffs = compare_cmd(cmd, ra, rb, swift, stow)
            if cmd.writes:
                diffs += compare_state(scn, cmd, swift, stow)
            for lvl, status, aspect, detail, va, vb, method, path in diffs:
                case = f"cli.{cmd.label}"
                cls = known.classify(lvl, case, status, aspect, detail)
                rows.append((scn.id, i, f"{lvl}/{case}", status, method, short(path, 200),
                             aspect, detail, va, vb, cls or "NEW", cmd.user))
                if verbose or cls is None:
                    print(f"{'NEW' if cls is None else cls}: {scn.id}#{i} cli.{cmd.label} "
                          f"{short(path, 80)} {aspect} {detail}\n"
                          f"    swift:   {short(va, 200)}\n    stowage: {short(vb, 200)}")
    return rows, compared, settle_time


def line_diffs(a: list, b: list) -> list:
    """The lines only one side printed, paired in order: [(detail, swift
    line, stowage line)], the detail the two lines without what they share
    at the start and the end ("Policy-0!=???"), so that a KNOWN_DIFFERENCES
    glob can name what differs."""
    a_only, b_only = _only(a, b)
    out = []
    for k in range(max(len(a_only), len(b_only))):
        x = a_only[k] if k < len(a_only) else ""
        y = b_only[k] if k < len(b_only) else ""
        i = 0
        while i < min(len(x), len(y)) and x[i] == y[i]:
            i += 1
        j = 0
        while j < min(len(x), len(y)) - i and x[len(x) - 1 - j] == y[len(y) - 1 - j]:
            j += 1
        mx, my = x[i:len(x) - j].strip(), y[i:len(y) - j].strip()
        out.append((short(mx, 150) + "!=" + short(my, 150), x, y))
    return out


def compare_cmd(cmd: Cmd, ra: Result, rb: Result, swift, stow) -> list:
    """[(level, status, aspect, detail, swift value, stowage value, method, path)]"""
    line = "swift " + " ".join(cmd.args)
    sub = (positionals(cmd) or [""])[0]
    out = []

    def add(lvl, status, aspect, detail, va, vb, method=sub, path=line):
        out.append((lvl, status, aspect, detail, short(va, 3000), short(vb, 3000), method, path))

    files_a, files_b = _files(swift.cli_dir), _files(stow.cli_dir)
    for rel in sorted(set(files_a) | set(files_b)):
        fa, fb = files_a.get(rel), files_b.get(rel)
        if fb is None:
            add("cli", ra.exit, "file", f"missing:{rel}", str(fa), "")
        elif fa is None:
            add("cli", ra.exit, "file", f"extra:{rel}", "", str(fb))
        elif fa[0] != fb[0]:
            add("cli", ra.exit, "file", f"bytes:{rel}", fa[0], fb[0])
        elif fa[1] != fb[1]:
            add("cli", ra.exit, "file", f"mtime:{rel}", fa[1], fb[1])

    if ra.exit != rb.exit:
        add("cli", ra.exit, "exit", f"{ra.exit}!={rb.exit}",
            ra.stdout + ra.stderr, rb.stdout + rb.stderr)
        return out
    oa = norm_text(ra.stdout, swift.port, swift.cli_dir)
    ob = norm_text(rb.stdout, stow.port, stow.cli_dir)
    ea = _lines(norm_text(ra.stderr, swift.port, swift.cli_dir))
    eb = _lines(norm_text(rb.stderr, stow.port, stow.cli_dir))
    level = cmd_level(cmd)
    if sub == "stat" and ra.exit == 0:
        path = stat_path(cmd)
        token = swift.tokens[cmd.user]
        head = swift.raw("HEAD", path, [("X-Auth-Token", token)])
        resp_a = Response(head.status, "", now_mtime(stat_headers(oa, level)), b"")
        resp_b = Response(head.status, "", now_mtime(stat_headers(ob, level)), b"")
        for d in compare(resp_a, resp_b, swift.port, stow.port):
            add(level, head.status, d.aspect, d.detail, d.swift, d.stowage, "stat", line)
    elif sub == "capabilities" and ra.exit == 0:
        if "--json" in cmd.args:
            ja, jb = oa.encode(), ob.encode()
        else:
            ja, jb = (json.dumps(capabilities(o)).encode() for o in (oa, ob))
        resp_a = Response(200, "", [("Content-Type", "application/json")], ja)
        resp_b = Response(200, "", [("Content-Type", "application/json")], jb)
        for d in compare(resp_a, resp_b, swift.port, stow.port):
            add("info", ra.exit, d.aspect, d.detail, d.swift, d.stowage)
    elif cmd.json_out and ra.exit == 0:
        resp_a = Response(200, "", [("Content-Type", "application/json")], ra.stdout.encode())
        resp_b = Response(200, "", [("Content-Type", "application/json")], rb.stdout.encode())
        for d in compare(resp_a, resp_b, swift.port, stow.port, listing=True):
            add(level, ra.exit, d.aspect, d.detail, d.swift, d.stowage)
    else:
        la, lb = _lines(oa), _lines(ob)
        if not cmd.ordered:
            la, lb = sorted(la), sorted(lb)
        if la != lb:
            pairs = line_diffs(la, lb)
            if not pairs:
                add("cli", ra.exit, "stdout", "order", "\n".join(la), "\n".join(lb))
            for detail, x, y in pairs:
                add("cli", ra.exit, "stdout", detail, x, y)
    for detail, x, y in line_diffs(sorted(ea), sorted(eb)):
        add("cli", ra.exit, "stderr", detail, x, y)
    return out


def compare_state(scn: Scenario, cmd: Cmd, swift, stow) -> list:
    """Each container of the scenario the command names (its container, a
    copy's destination) over HTTP, as the CLI user: its JSON listing, then a
    HEAD of every object either side lists."""
    out = []
    named = set(positionals(cmd)[1:2])
    for k, a in enumerate(cmd.args[:-1]):
        if a in ("-d", "--destination"):
            named.add(cmd.args[k + 1].strip("/").split("/")[0])
    for c in scn.containers:
        if c not in named:
            continue  # the command names another container: this one did not change
        path = f"/v1/{CLI_ACCOUNT}/{urllib.parse.quote(c)}?format=json"
        la = swift.raw("GET", path, [("X-Auth-Token", swift.tokens[CLI_USER])])
        lb = stow.raw("GET", path, [("X-Auth-Token", stow.tokens[CLI_USER])])
        for d in compare(la, lb, swift.port, stow.port, listing=True):
            out.append(("container", la.status, d.aspect, d.detail, d.swift, d.stowage, "GET", path))
        names = []
        for r in (la, lb):
            if r.status == 200:
                try:
                    names += [o["name"] for o in json.loads(r.body) if "name" in o]
                except (ValueError, TypeError, KeyError):
                    pass
        for name in sorted(set(names)):
            opath = f"/v1/{CLI_ACCOUNT}/{urllib.parse.quote(c)}/{urllib.parse.quote(name)}"
            ha = swift.raw("HEAD", opath, [("X-Auth-Token", swift.tokens[CLI_USER])])
            hb = stow.raw("HEAD", opath, [("X-Auth-Token", stow.tokens[CLI_USER])])
            ha.headers, hb.headers = now_mtime(ha.headers), now_mtime(hb.headers)
            for d in compare(ha, hb, swift.port, stow.port):
                out.append(("object", ha.status, d.aspect, d.detail, d.swift, d.stowage, "HEAD",
                            opath))
    return out
