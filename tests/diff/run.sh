#!/usr/bin/env bash
# Differential harness: the same generated request sequences against a real
# one-node OpenStack Swift 2.38.3 and against Stowage in Apache, answers
# compared; differences not listed in tests/diff/KNOWN_DIFFERENCES fail.
#
#   tests/diff/run.sh                    # the bounded set (make test-diff)
#   tests/diff/run.sh --per-family 25    # the long run (make diff)
#   tests/diff/run.sh --only copy-003 -v # one sequence, every difference
#
# Installs what it needs when missing: Swift and its dependencies (pinned in
# requirements-swift.txt) into build/swift-venv (about 20 s, once; pip needs
# PyPI), memcached from Debian (root or sudo). Needs `make all`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${STOWAGE_DIFF_SWIFT_VENV:-$repo/build/swift-venv}"
req="$here/requirements-swift.txt"
stamp="$venv/.requirements.sha256"

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "tests/diff: installing Swift into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

if ! command -v memcached >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo)
    else echo "tests/diff: memcached is missing; apt-get install memcached" >&2; exit 2; fi
    echo "tests/diff: installing memcached" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends memcached >/dev/null ||
        { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends memcached >/dev/null; }
fi

for f in target/release/libstowage.so build/mod_stowage.so; do
    [ -e "$repo/$f" ] || { echo "tests/diff: $f is missing; run 'make all' first" >&2; exit 2; }
done

export STOWAGE_DIFF_SWIFT_VENV="$venv" PYTHONWARNINGS=ignore
exec python3 "$here/difftest.py" "$@"
