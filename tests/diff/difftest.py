#!/usr/bin/env python3
"""Differential harness: the same request sequences against a real one-node
OpenStack Swift and against Stowage (a real Apache with mod_stowage), with
their answers compared after normalisation (compare.py).

    tests/diff/run.sh [--per-family N] [--seed S] [--only ID] [--families a,b]

Then, as a second step, the `swift` CLI (python-swiftclient) runs the same
commands against both (cli.py; family "cli", scenario ids cli-*; --no-cli
leaves it out). Prints "N requests compared, C CLI commands compared, D
differences (K known)", writes every difference to build/diff/report.tsv and
exits 1 when one of them is not matched by tests/diff/KNOWN_DIFFERENCES (2
when a server would not start or the `swift` CLI is missing). Needs Swift in
a venv (run.sh makes build/swift-venv), python-swiftclient (run.sh installs
it into .venv, as tests/e2e/run.sh) and `make all`.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import socket
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(HERE))

import cli  # noqa: E402  (the `swift` CLI step)
import harness  # noqa: E402  (tests/e2e/harness.py: Apache control, raw HTTP)
from compare import Response, compare, short  # noqa: E402
from sequences import BAD_TOKEN, OWNER, generate  # noqa: E402
from swiftnode import POLICIES, USERS, SwiftNode  # noqa: E402

REQUEST_TIMEOUT = 20.0
SETTLE_TIMEOUT = 15.0


# --------------------------------------------------------------------------
# One side: a server, its users' tokens and the values captured from it.
# --------------------------------------------------------------------------

class Side:
    def __init__(self, name: str, port: int):
        self.name = name
        self.port = port
        self.tokens: dict = {}
        self.vars: dict = {}

    def raw(self, method: str, path: str, headers: list, body: bytes = b"",
            chunked: bool = False, no_length: bool = False) -> Response:
        """One request on a fresh connection (no keep-alive state carried
        from one request to the next)."""
        hdrs = list(headers)
        names = {k.lower() for k, _ in hdrs}
        send_body = body
        content_length = not no_length
        if chunked:
            hdrs.append(("Transfer-Encoding", "chunked"))
            half = len(body) // 2
            send_body = harness.chunked([body[:half], body[half:]])
            content_length = False
        elif (not body and not no_length and method in ("PUT", "POST", "COPY")
              and "content-length" not in names):
            hdrs.append(("Content-Length", "0"))
        data = harness.build_request(method, path, hdrs, send_body, port=self.port,
                                     content_length=content_length)
        try:
            with harness.RawConnection(self.port, timeout=REQUEST_TIMEOUT) as c:
                c.send(data)
                r = c.read_response(head=(method == "HEAD"))
            return Response(r.status, r.reason, r.headers, r.body)
        except harness.ConnectionClosed as e:
            return Response(-1, "", [], b"", f"closed: {e}"[:200])
        except (socket.timeout, TimeoutError):
            return Response(-2, "", [], b"", "timeout")
        except OSError as e:
            return Response(-3, "", [], b"", f"{type(e).__name__}: {e}"[:200])

    def header(self, r: Response, name: str, default=None):
        for k, v in r.headers:
            if k.lower() == name.lower():
                return v
        return default

    def authenticate(self):
        for user, (key, _) in USERS.items():
            r = self.raw("GET", "/auth/v1.0", [("X-Auth-User", user), ("X-Auth-Key", key)])
            tok = self.header(r, "X-Auth-Token")
            if r.status != 200 or not tok:
                raise RuntimeError(f"{self.name}: auth as {user}: {r.status} {r.body[:200]!r}")
            self.tokens[user] = tok

    def fill(self, value):
        if not isinstance(value, str) or "${" not in value:
            return value

        def sub(m):
            k = m.group(1)
            if k == "tok":
                return self.tokens[OWNER]
            if k.startswith("tok:"):
                return self.tokens[k[4:]]
            return self.vars.get(k, "")
        return re.sub(r"\$\{([^}]+)\}", sub, value)

    def send(self, step) -> Response:
        hdrs = []
        if step.user == BAD_TOKEN:
            hdrs.append(("X-Auth-Token", "AUTH_tk" + "0" * 32))
        elif step.user:
            hdrs.append(("X-Auth-Token", self.tokens[step.user]))
        hdrs += [(k, self.fill(v)) for k, v in step.headers]
        r = self.raw(step.method, step.path, hdrs, step.body, step.chunked, step.no_length)
        for var, header, fn in step.capture:
            v = self.header(r, header)
            if v is not None:
                self.vars[var] = fn(v) if fn else v
        return r

    # -- settling: wait until what Swift does asynchronously is done --------

    def _json(self, path: str, user: str = OWNER):
        r = self.raw("GET", path, [("X-Auth-Token", self.tokens[user])])
        if r.status == 204:
            return []
        if r.status != 200:
            return None
        return json.loads(r.body)

    def gone(self, container: str, name: str) -> bool:
        listing = self._json(f"{container}?format=json&prefix={urllib.parse.quote(name)}", OWNER)
        return not listing or all(row.get("name") != name for row in listing)

    def settle_gone(self, container: str, name: str) -> float:
        """Wait until an expired object has left the listing (Swift: its
        object-expirer; Stowage: its sweep, within 2 s)."""
        start = time.monotonic()
        while time.monotonic() - start < SETTLE_TIMEOUT and not self.gone(container, name):
            time.sleep(0.25)
        return time.monotonic() - start


def settle_swift_account(node: SwiftNode, account: str) -> float:
    """Swift's account counters lag its containers' (the container-updater
    reports them, here every second): wait until every container's stats
    are reported, so that account HEAD/GET can be compared exactly."""
    start = time.monotonic()
    while node.unreported(account):
        if time.monotonic() - start > SETTLE_TIMEOUT:
            print(f"tests/diff: Swift's account counters did not settle in {SETTLE_TIMEOUT}s:\n  "
                  + "\n  ".join(node.unreported(account)[:5]), file=sys.stderr)
            break
        time.sleep(0.2)
    return time.monotonic() - start


def level(path: str) -> str:
    """account, container or object for /v1/... paths; auth, info or other."""
    p = path.split("?", 1)[0]
    if p.startswith("/auth"):
        return "auth"
    if p.startswith(("/info", "/healthcheck")):
        return "info"
    parts = p.split("/", 4)  # '', 'v1', account, container, object
    if len(parts) < 3 or parts[1] != "v1" or not parts[2]:
        return "other"
    if len(parts) == 3 or (len(parts) == 4 and not parts[3]):
        return "account"
    if len(parts) == 4 or (len(parts) == 5 and not parts[4]):
        return "container"
    return "object"


ACCOUNT_PATH = re.compile(r"^/v1/([^/?]+)/?(\?.*)?$")
CONTAINER_PATH = re.compile(r"^/v1/([^/?]+)/[^?]")


# --------------------------------------------------------------------------
# Known differences.
# --------------------------------------------------------------------------

class Known:
    """tests/diff/KNOWN_DIFFERENCES: one difference class a line,
        CLASS  CASE  STATUS  ASPECT  DETAIL  reason ...
    CASE, STATUS (Swift's), ASPECT and DETAIL are globs ('*' any text, '?'
    one character, everything else literal, '[' too), CASE matched against
    the case or "<level>/<case>" (Known.classify), each with
    alternatives separated by '|'. The first matching line names a
    difference's class; a class may take several lines."""

    def __init__(self, path: Path):
        self.rules = []
        self.hits = collections.Counter()  # rule index -> differences it matched
        for i, line in enumerate(path.read_text().splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 5)
            if len(parts) < 6:
                raise SystemExit(f"{path}:{i}: want CLASS CASE STATUS ASPECT DETAIL REASON: {line!r}")
            self.rules.append((parts[0], [_glob(p) for p in parts[1:5]], parts[5]))

    def classify(self, level: str, case: str, *fields):
        """CASE globs match the case ("object.put") or the level and the case
        ("object/object.put"; levels: account, container, object, auth, info,
        other)."""
        for i, (cls, globs, _) in enumerate(self.rules):
            if ((globs[0].fullmatch(case) or globs[0].fullmatch(f"{level}/{case}"))
                    and all(g.fullmatch(str(f)) for f, g in zip(fields, globs[1:]))):
                self.hits[i] += 1
                return cls
        return None

    def reasons(self) -> dict:
        out = {}
        for cls, _, reason in self.rules:
            out.setdefault(cls, reason)
        return out


# --------------------------------------------------------------------------
# The run.
# --------------------------------------------------------------------------

def _glob(alternatives: str):
    return re.compile("|".join(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in alt)
        for alt in alternatives.split("|")), re.S)


def stowage_conf() -> str:
    lines = []
    for user, (key, groups) in USERS.items():
        if user == "test:tester":
            continue  # scripts/apache-config.sh's default user
        lines.append(f"StowageUser {user} {key} {groups}".rstrip())
    for i, name, aliases, default, deprecated in POLICIES:
        lines.append(f"StowageStoragePolicy {i} {name}" + (f" aliases={aliases}" if aliases else "")
                     + (" default" if default else "") + (" deprecated" if deprecated else ""))
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--per-family", type=int, default=2,
                    help="sequences per family (the fixed families always have one)")
    ap.add_argument("--families", default="",
                    help="comma-separated families, 'cli' the CLI step (default: all)")
    ap.add_argument("--only", default="",
                    help="run only these sequence or CLI scenario ids (comma-separated)")
    ap.add_argument("--no-cli", action="store_true", help="leave out the `swift` CLI step")
    ap.add_argument("--known", default=str(HERE / "KNOWN_DIFFERENCES"))
    ap.add_argument("--report", default=str(REPO / "build" / "diff" / "report.tsv"))
    ap.add_argument("--swift-venv", default=os.environ.get("STOWAGE_DIFF_SWIFT_VENV",
                                                            str(REPO / "build" / "swift-venv")))
    ap.add_argument("--keep", action="store_true", help="keep both servers' directories")
    ap.add_argument("--list", action="store_true", help="print the requests, run nothing")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every difference")
    args = ap.parse_args()

    fams = [f for f in args.families.split(",") if f]
    seq_fams = [f for f in fams if f != "cli"]
    seqs = [] if fams and not seq_fams else generate(args.seed, args.per_family, seq_fams or None)
    scns = [] if args.no_cli or (fams and "cli" not in fams) else cli.scenarios()
    if args.only:
        only = set(args.only.split(","))
        seqs = [s for s in seqs if s.id in only]
        scns = [s for s in scns if s.id in only]
    if args.list:
        for s in seqs:
            for i, st in enumerate(s.steps):
                print(f"{s.id}\t{i}\t{st.case}\t{st.method}\t{short(st.path, 120)}\t"
                      f"{short(repr(st.headers), 160)}")
        for line in cli.listing_of(scns):
            print(line)
        return 0
    known = Known(Path(args.known))
    cli_python = cli.find_python(REPO, Path(args.swift_venv)) if scns else None
    if scns and not cli_python:
        print("tests/diff: python-swiftclient (the `swift` CLI) is missing; tests/diff/run.sh "
              "installs it into .venv (or --no-cli)", file=sys.stderr)
        return 2
    t0 = time.monotonic()

    swift = SwiftNode(Path(args.swift_venv))
    stow = None
    try:
        try:
            swift.start()
            stow = harness.start_server(extra_conf=stowage_conf())
        except Exception as e:  # noqa: BLE001
            print(f"tests/diff: a server did not start: {e}", file=sys.stderr)
            return 2
        sides = (Side("swift", swift.port), Side("stowage", stow.port))
        for side in sides:
            side.authenticate()
        started = time.monotonic() - t0
        rows, compared, settle_time = run(seqs, sides, swift, known, args.verbose)
        cli_compared = 0
        if scns:
            cli_rows, cli_compared, t = cli.run(
                scns, sides, known, lambda account: settle_swift_account(swift, account), cli_python,
                Path(args.report).parent / "cli", args.verbose)
            rows += cli_rows
            settle_time += t
        crashes = stow.crash_lines()
    finally:
        if stow is not None:
            if args.keep:
                os.environ["STOWAGE_E2E_KEEP"] = "1"
            harness.stop_server(stow)
        swift.stop()
        swift.cleanup(keep=args.keep)
        if args.keep:
            print(f"kept Swift in {swift.dir}", file=sys.stderr)
    return report(rows, compared, known, Path(args.report), time.monotonic() - t0, started,
                  settle_time, crashes, len(seqs), cli_compared, len(scns))


def run(seqs, sides, node, known, verbose):
    swift, stow = sides
    rows = []
    compared = 0
    settle_time = 0.0
    dirty = set()  # accounts whose containers changed since their last settling
    for seq in seqs:
        for side in sides:
            side.vars = {}
        for i, step in enumerate(seq.steps):
            if step.pause:
                time.sleep(step.pause)
            if step.settle and step.settle[0] == "gone":
                settle_time += max(side.settle_gone(*step.settle[1:]) for side in sides)
            acct = ACCOUNT_PATH.match(step.path)
            if acct and acct.group(1) in dirty:
                t = settle_swift_account(node, urllib.parse.unquote(acct.group(1)))
                settle_time += t
                if os.environ.get("DIFF_DEBUG"):
                    print(f"settle {acct.group(1)} {t:.2f}s before {seq.id}#{i}", file=sys.stderr)
                dirty.discard(acct.group(1))
            cont = CONTAINER_PATH.match(step.path)
            if cont and (step.method not in ("GET", "HEAD") or step.pause):
                dirty.add(cont.group(1))  # a write, or objects expiring
                dirty.update(v for k, v in step.headers
                             if k.lower() in ("destination-account", "x-copy-from-account"))
            ra = swift.send(step)
            rb = stow.send(step)
            compared += 1
            for d in compare(ra, rb, swift.port, stow.port, listing=step.listing):
                lvl = level(step.path)
                cls = known.classify(lvl, step.case, ra.status, d.aspect, d.detail)
                rows.append((seq.id, i, f"{lvl}/{step.case}", ra.status, step.method, short(step.path, 200),
                             d.aspect, d.detail, d.swift, d.stowage, cls or "NEW",
                             short("; ".join(f"{k}: {v.decode('utf-8', 'replace') if isinstance(v, bytes) else v}"
                                             for k, v in step.headers), 300)))
                if verbose or cls is None:
                    print(f"{'NEW' if cls is None else cls}: {seq.id}#{i} {step.case} {step.method} "
                          f"{short(step.path, 80)} {d.aspect} {d.detail}\n"
                          f"    swift:   {short(d.swift, 200)}\n    stowage: {short(d.stowage, 200)}")
    return rows, compared, settle_time


def report(rows, compared, known, path: Path, elapsed, started, settle_time, crashes, nseq,
           cli_compared=0, nscn=0) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("sequence\tstep\tcase\tstatus\tmethod\tpath\taspect\tdetail\tswift\tstowage\tclass"
                "\trequest headers\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")
    new = [r for r in rows if r[10] == "NEW"]
    by_class = collections.Counter(r[10] for r in rows if r[10] != "NEW")
    reasons = known.reasons()
    cli_part = f", {nscn} CLI scenarios, {cli_compared} CLI commands compared" if nscn else ""
    print(f"\ntests/diff: {nseq} sequences, {compared} requests compared{cli_part}, {len(rows)} differences "
          f"({len(rows) - len(new)} known, {len(new)} new) in {elapsed:.1f}s "
          f"(servers up in {started:.1f}s, {settle_time:.1f}s waiting for Swift to settle)")
    if by_class:
        print(f"known difference classes seen ({len(by_class)} of {len(reasons)}):")
        for cls, n in sorted(by_class.items(), key=lambda x: -x[1]):
            print(f"  {n:5d}  {cls}")
    unseen = [c for c in reasons if c not in by_class]
    if unseen:
        print(f"known classes not seen in this run ({len(unseen)}): {', '.join(unseen)}")
    if new:
        groups = collections.OrderedDict()
        for r in new:
            groups.setdefault((r[2], r[3], r[6], r[7]), []).append(r)
        print(f"NEW differences, by (case, status, aspect, detail): {len(groups)} groups")
        for (case, status, aspect, detail), rs in groups.items():
            r = rs[0]
            print(f"  {len(rs):4d}  {case}  {status}  {aspect}  {detail}   e.g. {r[0]}#{r[1]} {r[4]} "
                  f"{short(r[5], 80)}\n"
                  f"          swift:   {short(r[8], 160)}\n          stowage: {short(r[9], 160)}")
    print(f"report: {path}")
    if crashes:
        print("Stowage's error log has crash lines:\n  " + "\n  ".join(crashes[:10]))
    return 1 if new or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
