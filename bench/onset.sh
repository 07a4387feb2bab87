#!/usr/bin/env bash
# bench/onset.sh - admission-gate benchmark "onset" (see bench/onset.py): a steady
# reader's p99 while PUT floods come and go, per object-write setting.
#   e.g. ROUNDS=3 bench/onset.sh --write-limits 256,256:yield=off,2:yield=off
exec "$(dirname "$0")/gates.sh" onset "$@"
