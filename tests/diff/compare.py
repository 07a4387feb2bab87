"""Normalise one response pair (Swift, Stowage) and list their differences.

A difference is (aspect, detail, swift_value, stowage_value):

  status          detail "<swift>!=<stowage>"; when the statuses differ nothing
                  else of the pair is compared (the rest follows from it)
  header-missing  a header Swift sent and Stowage did not (detail: its name)
  header-extra    a header Stowage sent and Swift did not
  header-case     same header, names spelled in a different case
  header-value    same header, different value after normalisation
  body            different body after normalisation (detail: json:<paths>,
                  xml, html, text or bytes, or "<swift kind>!=<stowage kind>")
A header-value difference of Content-Type names both media types in its
detail ("content-type=text/html!=text/plain"); one only in the spacing
between a list's items is "<name>:list-spacing".

Normalisation replaces what legitimately differs from run to run and server
to server by a placeholder, and only when the value has the expected format
(a malformed value stays as is and shows up as a difference):
timestamps, dates, transaction ids, tokens, the server's own host:port,
multipart boundaries, `last_modified` inside listings, ETags of listings,
the order of the lists Swift prints from a set (Allow, Access-Control-*).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Optional

# Transport headers: how the bytes travel, not what Swift's clients read.
IGNORED = {"server", "connection", "keep-alive", "transfer-encoding", "proxy-connection"}

HTTP_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                       r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
HTTP_DATE_IN_TEXT = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|"
                               r"Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT")
TRANS_ID = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$")
TIMESTAMP = re.compile(r"^\d{10}\.\d{5}$")
TOKEN = re.compile(r"^AUTH_tk[0-9a-f]{32}$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
MD5 = re.compile(r'^"?[0-9a-f]{32}"?$')
INT = re.compile(r"^-?\d+$")

DATE_HEADERS = {"date", "last-modified", "x-copied-from-last-modified"}
TRANS_HEADERS = {"x-trans-id", "x-openstack-request-id"}
TIMESTAMP_HEADERS = {"x-timestamp", "x-put-timestamp", "x-backend-timestamp"}
TOKEN_HEADERS = {"x-auth-token", "x-storage-token"}
# Lists Swift prints from a Python set: their order changes with each
# process's hash seed, so their items are compared sorted.
SET_LIST_HEADERS = {"allow", "access-control-allow-methods", "access-control-allow-headers",
                    "access-control-expose-headers"}
# Integers computed from "now" on each side.
CLOSE_INT_HEADERS = {"x-auth-token-expires": 120, "x-delete-at": 5}


@dataclass
class Response:
    status: int            # -1: no response (see error)
    reason: str
    headers: list          # [(name, value)] as received
    body: bytes
    error: str = ""


@dataclass
class Diff:
    aspect: str
    detail: str
    swift: str
    stowage: str


def _hostport(value: str, port: int) -> str:
    return value.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")


def norm_header(name: str, value: str, port: int, listing: bool) -> str:
    n = name.lower()
    if n in DATE_HEADERS and HTTP_DATE.match(value):
        return "<http-date>"
    if n in TRANS_HEADERS and TRANS_ID.match(value):
        return "<trans-id>"
    if n in TIMESTAMP_HEADERS and TIMESTAMP.match(value):
        return "<timestamp>"
    if n in TOKEN_HEADERS and TOKEN.match(value):
        return "<token>"
    if n == "etag" and listing and MD5.match(value):
        return "<listing-etag>"
    if n == "x-manifest-etag" and MD5.match(value):
        # An SLO manifest's MD5: its JSON holds its segments' Last-Modified.
        return "<manifest-etag>"
    if n in SET_LIST_HEADERS:
        return ", ".join(sorted(item.strip() for item in value.split(",")))
    if n == "content-type" and "boundary=" in value:
        return re.sub(r"boundary=[^;\s]+", "boundary=<boundary>", value)
    return _hostport(value, port)


def _close_ints(name: str, a: str, b: str) -> bool:
    tol = CLOSE_INT_HEADERS.get(name)
    return (tol is not None and INT.match(a) is not None and INT.match(b) is not None
            and abs(int(a) - int(b)) <= tol)


def _boundary(headers: list) -> Optional[str]:
    for k, v in headers:
        if k.lower() == "content-type":
            m = re.search(r"boundary=([^;\s]+)", v)
            if m:
                return m.group(1).strip('"')
    return None


def _ctype(headers: list) -> str:
    for k, v in headers:
        if k.lower() == "content-type":
            return v.split(";")[0].strip().lower()
    return ""


def _norm_json(obj):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "last_modified" and isinstance(v, str) and ISO_TIME.match(v):
                v = "<iso-time>"
            if k == "Last Modified" and isinstance(v, str) and HTTP_DATE.match(v):
                v = "<http-date>"  # a results body's (SLO's heartbeat PUT)
            if k == "hash" and "slo_etag" in obj and isinstance(v, str) and MD5.match(v):
                # An SLO manifest's row: the MD5 of JSON that holds its
                # segments' Last-Modified.
                v = "<manifest-etag>"
            out[k] = _norm_json(v)
        return out
    if isinstance(obj, list):
        return [_norm_json(v) for v in obj]
    return obj


def _json_paths(a, b, path="") -> list:
    """Paths where two JSON values differ; list indices generalised to [*]."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}/{k}"
            if k not in a:
                out.append(p + "(extra)")
            elif k not in b:
                out.append(p + "(missing)")
            else:
                out += _json_paths(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        if len(a) != len(b):
            out.append(f"{path}[len]")
        for x, y in zip(a, b):
            out += _json_paths(x, y, f"{path}[*]")
        return out
    return [] if a == b else [path or "/"]


def norm_body(resp: Response, port: int) -> tuple:
    """(kind, normalised body) where kind is json, xml, text or bytes."""
    body = resp.body
    boundary = _boundary(resp.headers)
    if boundary:
        body = body.replace(boundary.encode(), b"<boundary>")
    ctype = _ctype(resp.headers)
    if ctype == "application/json":
        try:
            return "json", _norm_json(json.loads(body))
        except ValueError:
            pass
    text = None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes", body
    text = _hostport(text, port)
    # HTTP dates inside a results body (SLO's heartbeat PUT: "Last Modified").
    text = HTTP_DATE_IN_TEXT.sub("<http-date>", text)
    if text.lstrip().lower().startswith(("<html", "<!doctype html")):
        return "html", text
    if ctype in ("application/xml", "text/xml"):
        text = re.sub(r"<last_modified>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}</last_modified>",
                      "<last_modified>{iso-time}</last_modified>", text)
        return "xml", text
    return "text", text


def short(v, n: int = 300) -> str:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "backslashreplace")
    elif not isinstance(v, str):
        v = json.dumps(v, sort_keys=True, ensure_ascii=False)
    v = v.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return v if len(v) <= n else v[:n] + f"...({len(v)} chars)"


def compare(swift: Response, stowage: Response, swift_port: int, stowage_port: int,
            listing: bool = False) -> list:
    if swift.status != stowage.status:
        return [Diff("status", f"{swift.status}!={stowage.status}",
                     short(swift.error or swift.body, 600), short(stowage.error or stowage.body, 600))]
    if swift.status < 0:
        return []
    diffs = []
    a = {}
    b = {}
    for k, v in swift.headers:
        a.setdefault(k.lower(), []).append((k, v))
    for k, v in stowage.headers:
        b.setdefault(k.lower(), []).append((k, v))
    body_kind_a, body_a = norm_body(swift, swift_port)
    body_kind_b, body_b = norm_body(stowage, stowage_port)
    bodies_equal = body_a == body_b
    for n in sorted(set(a) | set(b)):
        if n in IGNORED:
            continue
        if n not in b:
            detail = n
            if n == "content-length" and a[n][0][1] == "0":
                detail = "content-length:0"  # a zero length left out: its own class
            diffs.append(Diff("header-missing", detail, short(a[n][0][0] + ": " + a[n][0][1]), ""))
            continue
        if n not in a:
            diffs.append(Diff("header-extra", n, "", short(b[n][0][0] + ": " + b[n][0][1])))
            continue
        names_a = sorted(k for k, _ in a[n])
        names_b = sorted(k for k, _ in b[n])
        if names_a != names_b:
            diffs.append(Diff("header-case", n, names_a[0], names_b[0]))
        va = sorted(norm_header(n, v, swift_port, listing) for _, v in a[n])
        vb = sorted(norm_header(n, v, stowage_port, listing) for _, v in b[n])
        if va == vb:
            continue
        if len(va) == 1 and len(vb) == 1 and _close_ints(n, va[0], vb[0]):
            continue
        # Content-Length follows the body: when the bodies differ, that
        # difference is reported (and classified) instead; multipart
        # boundaries of another length are normalised in the body.
        if n == "content-length" and (not bodies_equal or _boundary(swift.headers)):
            continue
        detail = n
        if [re.sub(r",\s+", ",", v) for v in va] == [re.sub(r",\s+", ",", v) for v in vb]:
            detail += ":list-spacing"  # the same list, joined with other spacing
        if n == "content-type":
            # the media types (no parameters, no spaces) classify the difference
            detail += "=" + "!=".join(v[0].split(";")[0].strip() or "-" for v in (va, vb))
        diffs.append(Diff("header-value", detail, short(", ".join(va)), short(", ".join(vb))))
    if not bodies_equal:
        diffs += _body_diffs(body_kind_a, body_a, body_kind_b, body_b)
    elif body_kind_a == "json" and _json_text(swift) != _json_text(stowage):
        # equal data, written differently: keys in another order, or other
        # spacing or escapes
        ta, tb = _json_text(swift), _json_text(stowage)
        same_order = _key_order(ta) == _key_order(tb)
        diffs.append(Diff("body", "json:format" if same_order else "json:key-order",
                          short(ta, 600), short(tb, 600)))
    return diffs


def _key_order(text: str):
    return json.loads(text, object_pairs_hook=list)  # objects as (key, value) lists, in order


def _json_text(resp: Response) -> str:
    text = resp.body.decode("utf-8", "replace")
    text = re.sub(r'("last_modified": ?)"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}"', r'\1"<iso-time>"', text)
    text = HTTP_DATE_IN_TEXT.sub("<http-date>", text)
    # An SLO manifest's row: its hash is the MD5 of JSON holding its
    # segments' Last-Modified (as in _norm_json).
    return re.sub(r'("hash": ?)"[0-9a-f]{32}"(?=[^{}]*"slo_etag")', r'\1"<manifest-etag>"', text)


def _body_diffs(kind_a, a, kind_b, b) -> list:
    if kind_a == "json" and kind_b == "json":
        paths = list(dict.fromkeys(_json_paths(a, b)))
        if isinstance(a, dict) and isinstance(b, dict):
            # an object (/info): one difference per path, each its own class
            return [Diff("body", "json:" + p, short(_at(a, p), 600), short(_at(b, p), 600))
                    for p in paths[:40]]
        detail = "json:" + ",".join(paths)
        if len(detail) > 160:
            detail = detail[:160] + "..."
        return [Diff("body", detail, short(a, 3000), short(b, 3000))]
    if kind_a == kind_b == "xml":
        xa, xb = _xml_tree(a), _xml_tree(b)
        if xa is not None and xb is not None:
            paths = list(dict.fromkeys(_json_paths(xa, xb))) or ["format"]
            detail = "xml:" + ",".join(paths)
            if len(detail) > 160:
                detail = detail[:160] + "..."
            return [Diff("body", detail, short(a, 3000), short(b, 3000))]
    if kind_a == kind_b == "text" and b == a + "\n":
        detail = "text+newline"  # the same message, Stowage ends it with a newline
    elif kind_a == kind_b == "text" and not a:
        detail = "text:empty!=text"
    elif kind_a == kind_b:
        detail = kind_a
    else:
        detail = f"{kind_a}!={kind_b}"
    return [Diff("body", detail, short(a, 3000), short(b, 3000))]


def _xml_tree(text: str):
    """A listing's XML as JSON-like data, so that its differences get paths
    like those of JSON listings: {"@root": tag, "@attrs": {...}, "items":
    [{"@tag": "object", "name": ..., ...}, ...]}; None if it does not parse."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError:
        return None
    items = []
    for child in root:
        item = {"@tag": child.tag, **{f"@{k}": v for k, v in child.attrib.items()}}
        for sub in child:
            item[sub.tag] = sub.text
        items.append(item)
    return {"@root": root.tag, "@attrs": dict(root.attrib), "items": items}


def _at(obj, path: str):
    """The value at a path of _json_paths (dict keys only), or None."""
    for k in path.split("(")[0].strip("/").split("/"):
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj
