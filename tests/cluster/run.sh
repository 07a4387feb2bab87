#!/usr/bin/env bash
# `make cluster-test`: the three-node Swift cluster (scripts/cluster) on free
# loopback ports with a temporary CLUSTER_DATA, the client checks, the
# node-failure and wiped-device proofs (tests/cluster/cluster_test.py).
#   tests/cluster/run.sh [--keep] [--object-server swift|stowage] [--sync-method rsync|ssync]
# About 1.5 to 2 minutes on 2 cores. Not part of `make test`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
"$repo/scripts/cluster/venvs.sh"
for t in memcached rsync; do
    command -v "$t" >/dev/null 2>&1 || { echo "tests/cluster: $t is missing (make deps installs it)" >&2; exit 2; }
done
cd "$repo"
exec "$repo/.venv/bin/python" "$repo/tests/cluster/cluster_test.py" "$@"
