#!/usr/bin/env bash
# bench/sweep.sh - admission-gate benchmark "sweep" (see bench/gates.sh, bench/gates_bench.py).
#   e.g. DURATION=10s bench/sweep.sh
exec "$(dirname "$0")/gates.sh" sweep "$@"
