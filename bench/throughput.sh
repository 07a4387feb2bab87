#!/usr/bin/env bash
# bench/throughput.sh - Stowage next to a baseline on the same machine, disk
# and load, in one run:
#
#   get4k   4 KiB object GET         vs Apache's static handler, same 4 KiB file
#   head4k  4 KiB object HEAD        vs static HEAD
#   get1m   1 MiB object GET         vs static 1 MiB file
#   put4k   4 KiB object PUT (new    vs bench/fsync_loop: create, write, fsync,
#           name every request)         rename, fsync dir, CONNS writer threads
#
# One private Apache (scripts/apache-config.sh, MPM from $MPM, default event)
# serves Stowage on PORT and, through EXTRA_SERVER_CONF, a second vhost on
# PORT2 whose DocumentRoot holds the same bytes; both vhosts share the same
# server settings (EnableSendfile/MMAP, MPM, KeepAlive), so the only
# difference is the handler. All data lives in one temp dir (one disk).
#
# Load: wrk --latency, THREADS (2) threads, each of CONNS ("16 64")
# connections, DURATION (10) seconds per cell, after WARMUP (1) seconds of
# unrecorded load. wrk 4.1 cannot send HEAD (its parser waits for the body),
# so the HEAD row uses ab -i -k on both sides (ab's percentiles are whole ms).
#
# Env: DURATION THREADS CONNS WARMUP MPM CASES ("get4k head4k get1m put4k")
# The err columns are "non-2xx answers / socket errors" (wrk: socket errors
# are mostly keep-alive connections the server closed; ab: failed requests).
# Output: a table on stdout, bench/results/throughput-<date>.tsv, raw tool
# output in bench/results/throughput-<date>.raw/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNS=${CONNS:-"16 64"}
WARMUP=${WARMUP:-1}
CASES=${CASES:-"get4k head4k get1m put4k"}
export MPM=${MPM:-event}

TSV=$(result_file throughput)
RAW=${TSV%.tsv}.raw
mkdir -p "$RAW"
make_workdir bench

# The baseline writer.
FSYNC_LOOP=$REPO_DIR/build/fsync_loop
mkdir -p "$REPO_DIR/build"
gcc -O2 -std=c11 -Wall -Wextra -o "$FSYNC_LOOP" "$BENCH_DIR/fsync_loop.c" -lpthread ||
    { echo "bench: cannot build fsync_loop" >&2; exit 1; }

same_bytes_both_sides

HAVE_STOWAGE=0
if stowage_built; then
    if start_apache "$WORK/apache" "$PORT" "$DATA" "$WORK/static-vhost.conf"; then
        HAVE_STOWAGE=1
    else
        echo "bench: Stowage Apache did not start; measuring the baselines only" >&2
    fi
else
    echo "bench: Stowage not built (make all); measuring the baselines only" >&2
fi
if [ $HAVE_STOWAGE = 0 ]; then
    STATIC_ONLY=1 start_apache "$WORK/apache" "$PORT" "$DATA" "$WORK/static-vhost.conf" || exit 1
fi

BASE=http://127.0.0.1:$PORT
STATIC_URL=http://127.0.0.1:$PORT2
TOKEN=
OBJ=/v1/AUTH_test/bench
if [ $HAVE_STOWAGE = 1 ]; then
    TOKEN=$(get_token "$PORT")
    if [ -z "$TOKEN" ]; then
        echo "bench: no token from $BASE/auth/v1.0; Stowage side skipped" >&2
        HAVE_STOWAGE=0
    fi
fi
if [ $HAVE_STOWAGE = 1 ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" "$BASE$OBJ")
    for f in obj4k obj1m; do
        code2=$(curl -s -o /dev/null -w '%{http_code}' -T "$STATIC/$f" -H "X-Auth-Token: $TOKEN" "$BASE$OBJ/$f")
        got=$(curl -s -H "X-Auth-Token: $TOKEN" "$BASE$OBJ/$f" | md5sum | cut -d' ' -f1)
        want=$(md5sum <"$STATIC/$f" | cut -d' ' -f1)
        if [ "$code2" != 201 ] || [ "$got" != "$want" ]; then
            echo "bench: setup failed: container PUT $code, $f PUT $code2, GET md5 $got (want $want)" >&2
            HAVE_STOWAGE=0
        fi
    done
fi
export STOWAGE_TOKEN=$TOKEN

# run_wrk NAME CONNS URL [SCRIPT] -> "rps p99 non2xx/sockerr"
run_wrk() {
    local name=$1 c=$2 url=$3 script=${4:-} args=() t=$THREADS
    [ -n "$script" ] && args=(-s "$script")
    [ "$c" -lt "$t" ] && t=$c # wrk needs connections >= threads
    if [ "$WARMUP" != 0 ]; then
        timeout $((WARMUP + 30)) wrk -t"$t" -c"$c" -d"${WARMUP}s" "${args[@]}" "$url" >/dev/null 2>&1
    fi
    timeout $((DURATION + 60)) wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
        "${args[@]}" "$url" >"$RAW/$name.txt" 2>&1
    wrk_parse "$RAW/$name.txt"
}

# run_ab_head NAME CONNS URL -> "rps p99 non2xx/failed"
run_ab_head() {
    local name=$1 c=$2 url=$3 hdr=()
    [ -n "$TOKEN" ] && hdr=(-H "X-Auth-Token: $TOKEN")
    if [ "$WARMUP" != 0 ]; then
        timeout $((WARMUP + 30)) ab -q -i -k -c "$c" -t "$WARMUP" -n 100000000 "${hdr[@]}" "$url" >/dev/null 2>&1
    fi
    timeout $((DURATION + 60)) ab -q -i -k -c "$c" -t "$DURATION" -n 100000000 -s 10 "${hdr[@]}" "$url" \
        >"$RAW/$name.txt" 2>&1
    ab_parse "$RAW/$name.txt"
}

# run_fsync NAME CONNS -> "ops/s p99 failed/0"
run_fsync() {
    local name=$1 c=$2 dir
    dir=$(mktemp -d "$WORK/fsync-XXXXXX")
    "$FSYNC_LOOP" "$dir" "$c" "$DURATION" 4096 >"$RAW/$name.txt" 2>&1
    rm -rf "$dir"
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
         END { printf "%s %s %s\n", (v["ops_per_sec"] == "" ? 0 : v["ops_per_sec"]),
                                    (v["p99_ms"] == "" ? "-" : v["p99_ms"]), (v["ops"] == "" ? "1/0" : "0/0") }' \
        "$RAW/$name.txt"
}

{
    echo "# throughput $BENCH_DATE host=$(hostname) nproc=$(nproc) mpm=$MPM threads=$THREADS duration=${DURATION}s git=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo none) stowage=$HAVE_STOWAGE"
    printf 'case\tconns\tstowage_rps\tbaseline_rps\tratio\tstowage_p99_ms\tbaseline_p99_ms\tstowage_err\tbaseline_err\tbaseline\n'
} >"$TSV"

for case in $CASES; do
    for c in $CONNS; do
        s="- - -"
        case $case in
        get4k)
            [ $HAVE_STOWAGE = 1 ] && s=$(run_wrk "$case-c$c-stowage" "$c" "$BASE$OBJ/obj4k" "$BENCH_DIR/token.lua")
            b=$(run_wrk "$case-c$c-static" "$c" "$STATIC_URL/obj4k" "$BENCH_DIR/token.lua")
            what="apache static GET (wrk)" ;;
        head4k)
            [ $HAVE_STOWAGE = 1 ] && s=$(run_ab_head "$case-c$c-stowage" "$c" "$BASE$OBJ/obj4k")
            b=$(run_ab_head "$case-c$c-static" "$c" "$STATIC_URL/obj4k")
            what="apache static HEAD (ab -i)" ;;
        get1m)
            [ $HAVE_STOWAGE = 1 ] && s=$(run_wrk "$case-c$c-stowage" "$c" "$BASE$OBJ/obj1m" "$BENCH_DIR/token.lua")
            b=$(run_wrk "$case-c$c-static" "$c" "$STATIC_URL/obj1m" "$BENCH_DIR/token.lua")
            what="apache static GET (wrk)" ;;
        put4k)
            if [ $HAVE_STOWAGE = 1 ]; then
                curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" "$BASE/v1/AUTH_test/bench-put-c$c"
                s=$(WARMUP=0 PUT_PREFIX="/v1/AUTH_test/bench-put-c$c/o-" PUT_SIZE=4096 \
                    run_wrk "$case-c$c-stowage" "$c" "$BASE/v1/AUTH_test/bench-put-c$c" "$BENCH_DIR/put.lua")
            fi
            b=$(run_fsync "$case-c$c-fsync" "$c")
            what="fsync_loop $c threads" ;;
        *) echo "bench: unknown case $case" >&2; continue ;;
        esac
        read -r s_rps s_p99 s_err <<<"$s"
        read -r b_rps b_p99 b_err <<<"$b"
        ratio=$(awk -v a="$s_rps" -v b="$b_rps" 'BEGIN { if (a == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$c" "$s_rps" "$b_rps" "$ratio" \
            "$s_p99" "$b_p99" "$s_err" "$b_err" "$what" >>"$TSV"
        echo "bench: $case c=$c stowage=$s_rps req/s baseline=$b_rps req/s" >&2
    done
done

if [ $HAVE_STOWAGE = 1 ]; then
    errs=$(cat "$APACHE_OUT"/*error*.log "$APACHE_OUT"/logs/*error* 2>/dev/null | grep -ci -E 'error|panic' || true)
    echo "# apache error-log lines mentioning error/panic: $errs" >>"$TSV"
fi
stop_apache

echo
echo "== throughput (req/s; p99 in ms; $THREADS wrk threads, ${DURATION}s per cell, MPM $MPM) =="
print_table "$TSV"
grep '^# apache' "$TSV" || true
echo "results: $TSV"
