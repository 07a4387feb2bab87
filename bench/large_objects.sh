#!/usr/bin/env bash
# bench/large_objects.sh - joined large object (DLO, SLO) GETs against a
# single object GET of the same bytes, in the same run: throughput of each,
# their ratio, and the peak RSS growth of the Apache child while it joins.
#
# One private Apache, MPM prefork with one child (as bench/rss.sh), so one
# process serves every request and its VmHWM is the join's peak. The body
# is SIZE random bytes (default 1 GiB), stored once whole (`single`) and once
# as SEGMENT-byte segments (default 64 MiB) under a DLO manifest (`dlo`) and
# an SLO manifest (`slo`) over the same segments.
# Each is read twice with curl to md5sum: the first GET checks the bytes
# against their ETags while they stream (objects over 8 MiB), the second
# finds them known good and goes out by sendfile.
#
# Env: SIZE (bytes, default 1073741824), SEGMENT (default 67108864),
# LIMIT_MIB (RSS growth bound, default 32).
# Output: a table, bench/results/large-objects-<date>.tsv; exit 1 when a row
# FAILs (status, MD5, RSS growth).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-1073741824}
SEGMENT=${SEGMENT:-67108864}
LIMIT_MIB=${LIMIT_MIB:-32}
export MPM=prefork

if ! stowage_built; then
    echo "bench/large_objects.sh: Stowage is not built (make all); nothing to measure" >&2
    exit 1
fi
TSV=$(result_file large-objects)
make_workdir large-objects

PORT=$(free_port)
BENCH_CONF_HOOK=one_prefork_child start_apache "$WORK/apache" "$PORT" "$WORK/data" || exit 1
BASE=http://127.0.0.1:$PORT
TOKEN=$(get_token "$PORT")
[ -n "$TOKEN" ] || { echo "bench/large_objects.sh: no token" >&2; exit 1; }
H="X-Auth-Token: $TOKEN"
C=$BASE/v1/AUTH_test/lo
S=$BASE/v1/AUTH_test/lo_segments

echo "bench/large_objects.sh: $SIZE random bytes, segments of $SEGMENT" >&2
BODY=$WORK/body
WANT_MD5=$(head -c "$SIZE" /dev/urandom | tee "$BODY" | md5sum | cut -d' ' -f1)
curl -s -o /dev/null -X PUT -H "$H" "$C"
curl -s -o /dev/null -X PUT -H "$H" "$S"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$BODY" -H "$H" "$C/single")
[ "$code" = 201 ] || { echo "bench/large_objects.sh: single PUT: $code" >&2; exit 1; }
mkdir "$WORK/parts"
split -a 5 -d -b "$SEGMENT" "$BODY" "$WORK/parts/"
rm -f "$BODY"
for part in "$WORK"/parts/*; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$part" -H "$H" "$S/big/$(basename "$part")")
    [ "$code" = 201 ] || { echo "bench/large_objects.sh: segment PUT: $code" >&2; exit 1; }
    rm -f "$part"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$H" -H "Content-Length: 0" \
    -H "X-Object-Manifest: lo_segments/big/" "$C/dlo")
[ "$code" = 201 ] || { echo "bench/large_objects.sh: manifest PUT: $code" >&2; exit 1; }
curl -s -H "$H" "$S?format=json&prefix=big/" |
    python3 -c 'import json, sys; print(json.dumps([{"path": "lo_segments/" + o["name"],
        "etag": o["hash"], "size_bytes": o["bytes"]} for o in json.load(sys.stdin)]))' \
    >"$WORK/slo.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$H" --data-binary "@$WORK/slo.json" \
    "$C/slo?multipart-manifest=put")
[ "$code" = 201 ] || { echo "bench/large_objects.sh: SLO manifest PUT: $code" >&2; exit 1; }

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# get NAME ROUND; prints a TSV row and sets LAST_RATE
get() {
    local name=$1 round=$2 pid base hwm out code secs md5 rate verdict growth
    curl -s -o /dev/null -H "$H" "$C?format=json"
    pid=$(apache_children | head -1)
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    base=$(kib "$pid" VmRSS)
    md5=$(curl -s -w '%{stderr}%{http_code} %{time_total}\n' -H "$H" "$C/$name" 2>"$WORK/w" |
        md5sum | cut -d' ' -f1)
    read -r code secs <"$WORK/w"
    hwm=$(kib "$pid" VmHWM)
    growth=$((hwm - base))
    rate=$(awk -v s="$SIZE" -v t="$secs" 'BEGIN { if (t > 0) printf "%.0f", s / t / 1048576; else print 0 }')
    verdict=PASS
    [ "$code" = 200 ] || verdict="FAIL(status $code)"
    [ "$md5" = "$WANT_MD5" ] || verdict="FAIL(md5)"
    [ "$growth" -gt $((LIMIT_MIB * 1024)) ] && verdict="FAIL(rss)"
    LAST_RATE=$rate
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$code" "$secs" "$rate" \
        "$(mib "$growth")" "$LIMIT_MIB" "$verdict"
}

{
    echo "# large-objects $BENCH_DATE host=$(hostname) nproc=$(nproc) mpm=prefork(1 child) size=$SIZE segment=$SEGMENT git=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none)"
    printf 'object\tround\tstatus\tseconds\tMiB_per_s\trss_growth_MiB\tlimit_MiB\tverdict\n'
} >"$TSV"
declare -A RATE
for round in first second; do
    for name in single dlo slo; do
        get "$name" "$round" >>"$TSV"
        RATE[$name.$round]=$LAST_RATE
    done
done
stop_apache
for round in first second; do
    for lo in dlo slo; do
        echo "# ratio $lo/single ($round GET): $(awk -v d="${RATE[$lo.$round]}" -v s="${RATE[single.$round]}" \
            'BEGIN { if (s > 0) printf "%.2f", d / s; else print "-" }')" >>"$TSV"
    done
done

echo
echo "== GET of a ${SIZE}-byte DLO and SLO (${SEGMENT}-byte segments) vs one object =="
print_table "$TSV"
grep '^# ratio' "$TSV"
echo "results: $TSV"
! grep -q FAIL "$TSV"
