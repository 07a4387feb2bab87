#!/usr/bin/env bash
# The two Python environments the cluster harness runs, installed when
# missing or when their pinned requirements changed (the same venvs, files
# and stamps as tests/diff/run.sh and tests/e2e/run.sh use, so each is
# installed once for all three):
#   build/swift-venv  OpenStack Swift 2.38.3 (tests/diff/requirements-swift.txt;
#                     about 20 s, once; pip needs PyPI)
#   .venv             python-swiftclient, pytest (tests/e2e/requirements.txt):
#                     the clients of make cluster-test, and the swiftclient
#                     Swift's dispersion tools authenticate with
# SWIFT_VENV overrides the first (as STOWAGE_DIFF_SWIFT_VENV does for tests/diff).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

swift_venv="${SWIFT_VENV:-$repo/build/swift-venv}"
req="$repo/tests/diff/requirements-swift.txt"
stamp="$swift_venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "cluster: installing Swift into $swift_venv" >&2
    rm -rf "$swift_venv"
    python3 -m venv "$swift_venv"
    "$swift_venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

e2e_venv="$repo/.venv"
e2e_req="$repo/tests/e2e/requirements.txt"
e2e_stamp="$e2e_venv/.e2e-requirements.sha256"
if [ ! -x "$e2e_venv/bin/python" ] || ! "$e2e_venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$e2e_venv"
    python3 -m venv "$e2e_venv"
fi
e2e_want="$(sha256sum "$e2e_req" | cut -d' ' -f1)"
if [ "$(cat "$e2e_stamp" 2>/dev/null || true)" != "$e2e_want" ]; then
    echo "cluster: installing tests/e2e/requirements.txt (python-swiftclient) into $e2e_venv" >&2
    "$e2e_venv/bin/python" -m pip install -q --disable-pip-version-check -r "$e2e_req"
    echo "$e2e_want" > "$e2e_stamp"
fi
