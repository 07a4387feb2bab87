#!/usr/bin/env bash
# bench/rss.sh - does a 1 GiB object go through Stowage without being held in
# memory? Peak RSS growth of the Apache child serving a PUT and then a GET of
# a SIZE-byte (default 1 GiB) object, against a LIMIT_MIB (default 32) bound.
#
# One private Apache, MPM prefork with exactly one child (StartServers 1,
# ServerLimit 1, MaxRequestWorkers 1, appended to the generated conf), so one
# process serves every request. Before each transfer the child is warmed up
# (auth, container PUT, a small PUT and GET), its peak-RSS mark is reset
# (`echo 5 > /proc/PID/clear_refs`) and VmRSS is the baseline; after it,
# VmHWM is the peak. A sampler also polls VmRSS/RssAnon every 50 ms, in case
# the kernel does not reset VmHWM. The body is a random file (curl -T), the
# GET goes to md5sum (checked against the PUT's bytes) with curl -o-.
#
# Env: SIZE (bytes, default 1073741824), LIMIT_MIB (32), KEEP_FILE=path to
# reuse a pre-made body file.
# Output: a table, bench/results/rss-<date>.tsv. Exit 1 when a row FAILs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-1073741824}
LIMIT_MIB=${LIMIT_MIB:-32}
export MPM=prefork

TSV=$(result_file rss)
WORK=$(mktemp -d /tmp/stowage-rss-XXXXXX)
chmod 755 "$WORK"
SAMPLER=
cleanup() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
    stop_apache
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! stowage_built; then
    echo "bench/rss.sh: Stowage is not built (make all); nothing to measure" >&2
    exit 1
fi

PORT=$(free_port)
BENCH_CONF_HOOK=one_prefork_child start_apache "$WORK/apache" "$PORT" "$WORK/data" || exit 1
BASE=http://127.0.0.1:$PORT

# The body.
if [ -n "${KEEP_FILE:-}" ] && [ -f "$KEEP_FILE" ] && [ "$(stat -c %s "$KEEP_FILE")" = "$SIZE" ]; then
    BODY=$KEEP_FILE
    WANT_MD5=$(md5sum <"$BODY" | cut -d' ' -f1)
else
    BODY=$WORK/body
    echo "bench/rss.sh: writing $SIZE random bytes to $BODY" >&2
    WANT_MD5=$(head -c "$SIZE" /dev/urandom | tee "$BODY" | md5sum | cut -d' ' -f1)
fi

TOKEN=$(get_token "$PORT")
[ -n "$TOKEN" ] || { echo "bench/rss.sh: no token from $BASE/auth/v1.0" >&2; exit 1; }
H="X-Auth-Token: $TOKEN"
C=$BASE/v1/AUTH_test/rss

children() { apache_children | tr '\n' ' '; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

warm_up() {
    curl -s -o /dev/null -X PUT -H "$H" "$C"
    head -c 65536 /dev/urandom >"$WORK/small"
    curl -s -o /dev/null -T "$WORK/small" -H "$H" "$C/small"
    curl -s -o /dev/null -H "$H" "$C/small"
    curl -s -o /dev/null -H "$H" "$C?format=json"
}

# measure OP CURL-ARGS... ; prints a TSV row
measure() {
    local op=$1 pid base hwm peak_sampled anon_peak out code secs growth verdict
    shift
    warm_up
    read -r pid _ <<<"$(children)"
    if [ -z "$pid" ]; then echo "bench/rss.sh: no Apache child" >&2; return 1; fi
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    base=$(kib "$pid" VmRSS)
    # sampler: max VmRSS and RssAnon while the transfer runs
    (
        m=0 a=0
        while kill -0 "$pid" 2>/dev/null; do
            r=$(kib "$pid" VmRSS); n=$(kib "$pid" RssAnon)
            [ -n "$r" ] && [ "$r" -gt "$m" ] && m=$r
            [ -n "$n" ] && [ "$n" -gt "$a" ] && a=$n
            echo "$m $a" >"$WORK/sample.$op"
            sleep 0.05
        done
    ) &
    SAMPLER=$!
    out=$("$@")
    kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=
    hwm=$(kib "$pid" VmHWM)
    read -r peak_sampled anon_peak <"$WORK/sample.$op" || true
    [ -z "$hwm" ] && hwm=${peak_sampled:-0}
    [ "${peak_sampled:-0}" -gt "$hwm" ] && hwm=$peak_sampled
    read -r code secs md5 <<<"$out"
    growth=$((hwm - base))
    verdict=PASS
    [ "$growth" -gt $((LIMIT_MIB * 1024)) ] && verdict=FAIL
    case $op in
    PUT) [ "$code" = 201 ] || verdict="FAIL(status $code)" ;;
    GET) [ "$code" = 200 ] || verdict="FAIL(status $code)"
         [ "$md5" = "$WANT_MD5" ] || verdict="FAIL(md5 $md5)" ;;
    esac
    [ "$(children)" = "$pid " ] || verdict="$verdict (child changed: $(children))"
    local rate
    rate=$(awk -v s="$SIZE" -v t="$secs" 'BEGIN { if (t > 0) printf "%.0f", s / t / 1048576; else print "-" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$SIZE" "$code" "$secs" "$rate" \
        "$(mib "$base")" "$(mib "$hwm")" "$(mib "$growth")" "$(mib "${anon_peak:-0}")" "$LIMIT_MIB" "$verdict"
}

do_put() {
    curl -s -o /dev/null -w '%{http_code} %{time_total} -\n' -T "$BODY" -H "$H" "$C/big"
}
do_get() {
    local md5
    md5=$(curl -s -w '%{stderr}%{http_code} %{time_total}\n' -H "$H" "$C/big" 2>"$WORK/get.w" |
        md5sum | cut -d' ' -f1)
    echo "$(cat "$WORK/get.w") $md5"
}

{
    echo "# rss $BENCH_DATE host=$(hostname) nproc=$(nproc) mpm=prefork(1 child) size=$SIZE git=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
    printf 'op\tbytes\tstatus\tseconds\tMiB_per_s\tbaseline_rss_MiB\tpeak_rss_MiB\tgrowth_MiB\tpeak_anon_MiB\tlimit_MiB\tverdict\n'
} >"$TSV"
measure PUT do_put >>"$TSV"
measure GET do_get >>"$TSV"
stop_apache

echo
echo "== peak RSS of the one Apache child, ${SIZE}-byte object (limit ${LIMIT_MIB} MiB growth) =="
print_table "$TSV"
echo "results: $TSV"
! grep -q FAIL "$TSV"
