#!/usr/bin/env bash
# bench/swift_cli_large.sh - the issue's end-to-end proof with the real
# `swift` CLI: a file larger than Swift's 5 GiB single-object limit (SIZE,
# default 6 GiB of random bytes) uploaded with `swift upload --segment-size`
# (SEGMENT, default 64M) as an SLO (the CLI's default once /info has `slo`)
# and as a DLO (`--use-dlo`), downloaded back with `swift download -o -`
# into md5sum, then deleted with `swift delete`, which must remove the
# segments too.
#
# One private Apache, MPM prefork, as generated (the CLI opens up to ten
# connections at once, which a single child would serve one keep-alive at a
# time): before the download every child's peak-RSS mark is reset, after it
# the largest growth of any child's peak (VmHWM) is the join's, against
# LIMIT_MIB (default 32).
# The CLI comes from <repo>/.venv (tests/e2e/run.sh creates it).
#
# Needs about 3 x SIZE of free disk under /tmp (the source file and the
# stored segments). Env: SIZE, SEGMENT (a size the CLI takes, e.g. 64M),
# LIMIT_MIB.
# Output: a table, bench/results/swift-cli-large-<date>.tsv; exit 1 when a
# row FAILs (exit status, MD5, RSS growth, segments left).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-6442450944}
SEGMENT=${SEGMENT:-64M}
LIMIT_MIB=${LIMIT_MIB:-32}
export MPM=prefork
SWIFT=$REPO_DIR/.venv/bin/swift

if ! stowage_built; then
    echo "bench/swift_cli_large.sh: Stowage is not built (make all); nothing to measure" >&2
    exit 1
fi
if [ ! -x "$SWIFT" ]; then
    echo "bench/swift_cli_large.sh: no $SWIFT (run tests/e2e/run.sh once to create the venv)" >&2
    exit 1
fi
TSV=$(result_file swift-cli-large)
make_workdir swift-cli-large

PORT=$(free_port)
start_apache "$WORK/apache" "$PORT" "$WORK/data" || exit 1
swift() {
    env -u OS_AUTH_URL -u ST_AUTH "$SWIFT" -A "http://127.0.0.1:$PORT/auth/v1.0" \
        -U test:tester -K testing "$@"
}
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "bench/swift_cli_large.sh: writing $SIZE random bytes" >&2
mkdir -p "$WORK/src"
BODY=$WORK/src/big.bin
WANT_MD5=$(head -c "$SIZE" /dev/urandom | tee "$BODY" | md5sum | cut -d' ' -f1)

# run MODE [upload options]; prints a TSV row
run() {
    local mode=$1 container=big-$1 t0 t1 up down pid hwm growth md5 rc rate left verdict
    shift
    verdict=PASS
    t0=$(date +%s.%N)
    (cd "$WORK/src" && swift upload "$@" --segment-size "$SEGMENT" "$container" big.bin) \
        >"$WORK/upload-$mode.log" 2>&1 || verdict="FAIL(upload)"
    t1=$(date +%s.%N)
    up=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    swift stat "$container" big.bin >"$WORK/stat-$mode.log" 2>&1 || verdict="FAIL(stat)"
    declare -A base=()
    for pid in $(apache_children); do
        echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
        base[$pid]=$(kib "$pid" VmRSS)
    done
    t0=$(date +%s.%N)
    md5=$(swift download "$container" big.bin -o - 2>"$WORK/download-$mode.log" | md5sum | cut -d' ' -f1)
    t1=$(date +%s.%N)
    growth=0
    for pid in "${!base[@]}"; do
        hwm=$(kib "$pid" VmHWM)
        [ -n "$hwm" ] && [ $((hwm - base[$pid])) -gt "$growth" ] && growth=$((hwm - base[$pid]))
    done
    down=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    rate=$(awk -v s="$SIZE" -v t="$down" 'BEGIN { if (t > 0) printf "%.0f", s / t / 1048576; else print 0 }')
    [ "$md5" = "$WANT_MD5" ] || verdict="FAIL(md5)"
    [ "$growth" -gt $((LIMIT_MIB * 1024)) ] && verdict="FAIL(rss)"
    swift delete "$container" big.bin >"$WORK/delete-$mode.log" 2>&1 || verdict="FAIL(delete)"
    rc=0
    left=$(swift list "${container}_segments" 2>/dev/null | wc -l) || rc=$?
    [ "$left" = 0 ] || verdict="FAIL(segments left: $left)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$up" "$down" "$rate" \
        "$(mib "$growth")" "$LIMIT_MIB" "$left" "$verdict"
}

{
    echo "# swift-cli-large $BENCH_DATE host=$(hostname) nproc=$(nproc) mpm=prefork size=$SIZE segment=$SEGMENT git=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
    printf 'mode\tupload_s\tdownload_s\tdownload_MiB_per_s\trss_growth_MiB\tlimit_MiB\tsegments_left\tverdict\n'
} >"$TSV"
run slo >>"$TSV"
run dlo --use-dlo >>"$TSV"
stop_apache

echo
echo "== swift upload/download/delete of a ${SIZE}-byte file in ${SEGMENT} segments =="
print_table "$TSV"
echo "results: $TSV"
! grep -q FAIL "$TSV"
