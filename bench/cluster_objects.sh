#!/usr/bin/env bash
# bench/cluster_objects.sh - 4 KiB PUT and GET through Swift's proxy, Stowage's
# object nodes beside Swift's own (bench/cluster_objects.py says how). As root
# (the nodes' XFS images); env: DURATION WARMUP THREADS CONNS ROUNDS.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
"$repo/scripts/cluster/venvs.sh"
exec "$repo/.venv/bin/python" "$repo/bench/cluster_objects.py" "$@"
