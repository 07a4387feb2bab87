#!/usr/bin/env python3
"""Admission-gate benchmarks' command line (driven by bench/gates.sh and
bench/sweep.sh, overload.sh, separation.sh, db-scope.sh, onset.sh): one
subcommand per run, each in gates_bench, db_scope or onset, which share
gates_bench's pieces and never import this file (bench/ has no import
circle).
"""

from __future__ import annotations

import argparse
import shutil
import sys

import db_scope
import gates_bench as gb
import onset
import scratch_fs


def add_scratch_args(p):
    p.add_argument("--fs", choices=scratch_fs.choices(), default=scratch_fs.default_choice(),
                   help="where the servers keep their data: a fresh journaled ext4 image, "
                        "loop-mounted (the default as root), or the host's temp dir "
                        "(see bench/scratch_fs.py)")
    p.add_argument("--tmpdir", default=None, help="where the image or the data dirs go")


def main():
    ap = argparse.ArgumentParser(description=gb.__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sweep")
    s.add_argument("--processors", default="object-write,object-read,container,account")
    s.add_argument("--limits", default="1,2,4,8,16,32,64")
    s.add_argument("--conns", type=int, default=256)
    add_scratch_args(s)
    o = sub.add_parser("overload")
    o.add_argument("--conns", default="1,4,16,64,256,1024")
    o.add_argument("--knee", type=int, default=8, help="knee from bench/sweep (both object gates)")
    o.add_argument("--knee-put", type=int, default=0, help="object-write knee (default --knee)")
    o.add_argument("--knee-get", type=int, default=0, help="object-read knee (default --knee)")
    o.add_argument("--gates", default="",
                   help='StowageGate settings for the "on" side instead of the defaults, '
                        '";"-separated, e.g. "object-write limit=128; object-read limit=64"')
    o.add_argument("--ops", default="PUT,GET", help="which of PUT,GET to run")
    o.add_argument("--no-separation", action="store_true", help="skip the separation probes")
    add_scratch_args(o)
    p = sub.add_parser("separation")
    p.add_argument("--write-limits", default="off,256:yield=off,256,8:yield=off,2:yield=off",
                   help="object-write settings to compare: LIMIT[:key=value...] "
                        "(e.g. 256:yield=off), or off (no gate); @FILE after one loads that "
                        "mod_stowage.so instead of this tree's (another build, side by side)")
    p.add_argument("--gates", default="", help='other StowageGate settings, ";"-separated')
    add_scratch_args(p)
    d = sub.add_parser("db-scope")
    d.add_argument("--scopes", default="db,vhost,vhost:queue=64",
                   help="container gate settings to compare: SCOPE[:key=value:...]")
    d.add_argument("--conns", type=int, default=256, help="connections of each listing flood")
    d.add_argument("--gates", default="", help='other StowageGate settings, ";"-separated')
    add_scratch_args(d)
    n = sub.add_parser("onset")
    n.add_argument("--write-limits", default="256,256:yield=off",
                   help="object-write settings to compare, as for separation")
    n.add_argument("--gates", default="", help='other StowageGate settings, ";"-separated')
    add_scratch_args(n)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (scripts/deps.sh)")
    {"sweep": gb.sweep, "overload": gb.overload, "separation": gb.separation_sweep,
     "db-scope": db_scope.compare, "onset": onset.compare}[args.cmd](args)


if __name__ == "__main__":
    main()
