#!/usr/bin/env bash
# Stowage's backend object node (StowageObjectServer) against Swift's own
# direct_client, object server and object-updater (tests/cluster/
# test_object_node.py). Needs root (Apache's workers run as www-data),
# `make all`, and build/swift-venv (scripts/cluster/venvs.sh installs it).
#   tests/cluster/object_node.sh [-k NAME]     # KEEP=1 keeps the temp dir
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SWIFT_VENV:-$repo/build/swift-venv}"
[ -x "$venv/bin/python" ] || "$repo/scripts/cluster/venvs.sh"
for f in "$repo/build/mod_stowage.so" "$repo/target/release/libstowage.so"; do
    [ -f "$f" ] || { echo "tests/cluster: $f is missing; run 'make all'" >&2; exit 2; }
done
export SWIFT_VENV="$venv" PYTHONWARNINGS=ignore
cd "$repo/tests/cluster"
exec "$venv/bin/python" -m unittest -v test_object_node "$@"
