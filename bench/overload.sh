#!/usr/bin/env bash
# bench/overload.sh - admission-gate benchmark "overload" (see bench/gates.sh, bench/gates_bench.py).
#   e.g. DURATION=10s bench/overload.sh
exec "$(dirname "$0")/gates.sh" overload "$@"
