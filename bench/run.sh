#!/usr/bin/env bash
# bench/run.sh - every benchmark (make bench). Benchmarks, never timed tests:
# they print tables and write bench/results/<name>-<date>.tsv; the exit
# status is non-zero only when a script could not run or the RSS bound
# failed.
#
#   bench/rss.sh         peak RSS growth of the Apache child, 1 GiB PUT + GET
#   bench/throughput.sh  Stowage vs Apache static / fsync loop, wrk load
#
# Env passes through: DURATION, CONNS, THREADS, WARMUP, CASES (throughput),
# SIZE, LIMIT_MIB (rss). Example, quick: DURATION=3 SIZE=268435456 make bench
set -uo pipefail
cd "$(dirname "$0")/.."
export BENCH_DATE=${BENCH_DATE:-$(date +%Y%m%d-%H%M%S)}
rc=0
echo "### bench/rss.sh"
bench/rss.sh || rc=1
echo
echo "### bench/throughput.sh"
bench/throughput.sh || rc=1
exit $rc
