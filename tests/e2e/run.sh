#!/usr/bin/env bash
# End-to-end suite: a real Apache httpd with mod_stowage loaded, driven over
# HTTP by pytest, python-swiftclient, the `swift` CLI and raw sockets.
#
#   tests/e2e/run.sh                 # whole suite
#   tests/e2e/run.sh -k range -x     # any pytest arguments pass through
#
# Creates (or reuses) <repo>/.venv and installs tests/e2e/requirements.txt
# into it only when that file changed since the last install.
# Needs the built module: `make all` (target/release/libstowage.so and
# build/mod_stowage.so).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv"
req="$here/requirements.txt"
stamp="$venv/.e2e-requirements.sha256"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

for f in target/release/libstowage.so build/mod_stowage.so; do
    if [ ! -e "$repo/$f" ]; then
        echo "tests/e2e: warning: $f is missing; run 'make all' first" >&2
    fi
done

cd "$repo"
# Run the whole directory unless a test path was named.
target=(tests/e2e)
for a in "$@"; do
    case "$a" in tests/e2e/*|*.py|*.py::*) target=() ;; esac
done
exec "$venv/bin/python" -m pytest -q "${target[@]}" "$@"
