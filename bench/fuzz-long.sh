#!/usr/bin/env bash
# bench/fuzz-long.sh - a long fuzzing session: every target for
# FUZZ_SECONDS (default 1800 = 30 min each) with AddressSanitizer, growing
# the working corpus in fuzz/corpus/ (kept between runs). Same runner and
# report as `make test-fuzz`; extra settings as in tests/fuzz/run.sh.
#   bench/fuzz-long.sh                       # all targets, 30 min each
#   FUZZ_SECONDS=7200 FUZZ_TARGETS=range_header bench/fuzz-long.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS=${FUZZ_SECONDS:-1800}
export FUZZ_SANITIZER=${FUZZ_SANITIZER:-address}
exec nice -n 19 tests/fuzz/run.sh
