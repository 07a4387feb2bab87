#!/usr/bin/env bash
# bench/separation.sh - admission-gate benchmark "separation" (see bench/gates.sh,
# bench/gates_bench.py): read/metadata p99 under a PUT flood per object-write limit.
#   e.g. DURATION=5s bench/separation.sh --write-limits off,256,32,8
exec "$(dirname "$0")/gates.sh" separation "$@"
