#!/usr/bin/env bash
# bench/profile_get.sh - where a GET's CPU goes: Stowage next to Apache's static
# handler serving the same bytes from the same disk, in one run, one prefork
# child, keep-alive, one request at a time (ab -k -c 1).
#
# Two measures per case:
#   cpu_us    the child's user+system CPU time per request (/proc/PID/stat), over
#             N requests without valgrind: what a request costs, kernel included
#             (sendfile's copy is system time); less sensitive to other load on
#             the machine than wall time, but still read off a shared CPU.
#   Ir        user-space instructions per request counted by callgrind over
#             PROFILE_N requests: the same on a busy machine (valgrind counts,
#             it does not time), and where they go (top functions, inclusive).
#
# Cases: get4k get1m head4k (Stowage's object GET/HEAD vs the static file).
# Env: N (2000), PROFILE_N (200), WARM_N (20), CASES, TOP (25 functions per
# Stowage case).
# Output: a table, bench/results/profile_get-<date>.tsv, and per case the
# callgrind dump and its annotation in bench/results/profile_get-<date>.raw/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${N:-2000}
PROFILE_N=${PROFILE_N:-200}
CASES=${CASES:-"get4k get1m head4k"}
TOP=${TOP:-25}
export MPM=prefork
export BENCH_CONF_HOOK=one_prefork_child

command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
    { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
command -v ab >/dev/null || { echo "bench: ab is missing (apache2-utils)" >&2; exit 1; }
stowage_built || { echo "bench: build first (make all)" >&2; exit 1; }

TSV=$(result_file profile_get)
RAW=${TSV%.tsv}.raw
mkdir -p "$RAW"
make_workdir profile

same_bytes_both_sides
OBJ=/v1/AUTH_test/bench

start_apache "$WORK/apache" "$PORT" "$DATA" "$WORK/static-vhost.conf" || exit 1
TOKEN=$(get_token "$PORT")
[ -n "$TOKEN" ] || { echo "bench: no token" >&2; exit 1; }
curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" "http://127.0.0.1:$PORT$OBJ"
for f in obj4k obj1m; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$STATIC/$f" -H "X-Auth-Token: $TOKEN" \
        "http://127.0.0.1:$PORT$OBJ/$f")
    [ "$code" = 201 ] || { echo "bench: PUT $f: $code" >&2; exit 1; }
done

# url_of CASE SIDE -> the URL; ab_args CASE -> extra ab flags
url_of() {
    local f=obj4k
    [ "$1" = get1m ] && f=obj1m
    if [ "$2" = stowage ]; then echo "http://127.0.0.1:$PORT$OBJ/$f"; else echo "http://127.0.0.1:$PORT2/$f"; fi
}
ab_args() { [ "$1" = head4k ] && echo "-i"; }

child_pid() { apache_children | head -1; }
# CPU ticks (user + system) of all the Apache's children so far
cpu_ticks() {
    local p t=0
    for p in $(apache_children); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

# run_ab CASE SIDE COUNT: COUNT requests, fails on any non-2xx or error
run_ab() {
    local out
    # shellcheck disable=SC2046
    out=$(ab -q -k -c 1 -n "$3" $(ab_args "$1") -H "X-Auth-Token: $TOKEN" "$(url_of "$1" "$2")" 2>&1)
    if ! grep -q "^Failed requests: *0" <<<"$out" || grep -q "^Non-2xx" <<<"$out"; then
        echo "bench: $1 $2: ab failed:" >&2
        grep -E "Failed|Non-2xx|Complete" <<<"$out" >&2
        return 1
    fi
}

# Phase 1: CPU time per request, no valgrind.
declare -A CPU
HZ=$(getconf CLK_TCK)
for c in $CASES; do
    for side in stowage static; do
        run_ab "$c" "$side" 200 || exit 1 # warm: page cache, verification, keep-alive
        t0=$(cpu_ticks)
        run_ab "$c" "$side" "$N" || exit 1
        t1=$(cpu_ticks)
        CPU[$c.$side]=$(awk -v d=$((t1 - t0)) -v n="$N" -v hz="$HZ" 'BEGIN{printf "%.1f", d * 1e6 / hz / n}')
    done
done
stop_apache

# Phase 2: instructions per request under callgrind. The child's counts
# are written when it exits; each case and side runs twice in an Apache of
# its own, after WARM_N and after WARM_N + PROFILE_N requests, and the
# difference is what PROFILE_N requests cost (start-up, warm-up and exit
# cancel out). (callgrind_control cannot reach a child that changed user.)
WARM_N=${WARM_N:-20}
CG=$WORK/callgrind
mkdir -p "$CG"
chmod 777 "$CG"
# callgrind_total N CASE SIDE -> the child's Ir after N requests
callgrind_total() {
    local n=$1 c=$2 side=$3 pid out
    rm -f "$CG"/cg.*
    APACHE_WRAPPER="valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=$CG/cg.%p" \
        START_WAIT=120 start_apache "$WORK/apache" "$PORT" "$DATA" "$WORK/static-vhost.conf" >/dev/null || return 1
    pid=$(child_pid)
    run_ab "$c" "$side" "$n" || return 1
    stop_apache
    out=$CG/cg.$pid
    [ -s "$out" ] || { echo "bench: no callgrind output of child $pid" >&2; return 1; }
    cp "$out" "$RAW/$c-$side-n$n.callgrind"
    callgrind_annotate --inclusive=yes --auto=no "$out" >"$RAW/$c-$side-n$n.annotate.txt" 2>/dev/null
    callgrind_annotate --auto=no --threshold=100 "$out" >"$RAW/$c-$side-n$n.self.txt" 2>/dev/null
    awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' "$RAW/$c-$side-n$n.annotate.txt"
}

declare -A IR
for c in $CASES; do
    for side in stowage static; do
        lo=$(callgrind_total "$WARM_N" "$c" "$side") || exit 1
        hi=$(callgrind_total $((WARM_N + PROFILE_N)) "$c" "$side") || exit 1
        IR[$c.$side]=$(awk -v a="$lo" -v b="$hi" -v n="$PROFILE_N" 'BEGIN{printf "%.0f", (b - a) / n}')
    done
done

{
    printf '# machine: %s, %s cores; fs of %s: %s; MPM prefork, one child; ab -k -c 1\n' \
        "$(uname -r)" "$(nproc)" "$WORK" "$(stat -f -c %T "$WORK")"
    printf 'case\tstowage_cpu_us\tstatic_cpu_us\tcpu_ratio\tstowage_Ir\tstatic_Ir\tIr_ratio\n'
    for c in $CASES; do
        awk -v c="$c" -v a="${CPU[$c.stowage]}" -v b="${CPU[$c.static]}" \
            -v x="${IR[$c.stowage]}" -v y="${IR[$c.static]}" 'BEGIN{
            printf "%s\t%s\t%s\t%.2f\t%d\t%d\t%.2f\n", c, a, b, (b > 0 ? a / b : 0), x, y, (y > 0 ? x / y : 0) }'
    done
} >"$TSV"
print_table "$TSV"
echo
# per_request LO HI [PATTERN]: Ir per request by function (HI minus LO over
# PROFILE_N), the TOP largest; with PATTERN only the one function matching it.
per_request() {
    awk -v n="$PROFILE_N" -v top="$TOP" -v pat="${3:-}" '
        FNR == 1 { file++; sep = 0 }
        /^-+$/ { sep++; next }
        sep >= 3 && NF >= 2 && $1 ~ /^[0-9,]+$/ {
            v = $1; gsub(",", "", v); name = $0
            sub(/^ *[0-9,]+ *(\([^)]*\))? */, "", name)
            if (name ~ /PROGRAM TOTALS/) next
            if (file == 1) lo[name] = v; else hi[name] = v
        }
        END {
            m = 0
            for (k in hi) { d = (hi[k] - lo[k]) / n; if (pat != "" && index(k, pat) == 0) continue; keys[++m] = k; val[m] = d }
            for (i = 1; i <= m && i <= top; i++) {
                best = 0
                for (j = 1; j <= m; j++) if (!(j in used) && (best == 0 || val[j] > val[best])) best = j
                used[best] = 1
                printf "%10.0f  %s\n", val[best], substr(keys[best], 1, 150)
            }
        }' "$1" "$2"
}
for c in $CASES; do
    lo=$RAW/$c-stowage-n$WARM_N
    hi=$RAW/$c-stowage-n$((WARM_N + PROFILE_N))
    echo "## $c, Stowage: instructions per request"
    printf '%10s  %s\n' "${IR[$c.stowage]}" "the Apache child in all (static: ${IR[$c.static]})"
    TOP=1 per_request "$lo.annotate.txt" "$hi.annotate.txt" "src/abi/mod.rs:stowage::abi::handle ["
    TOP=1 per_request "$lo.annotate.txt" "$hi.annotate.txt" "http::send_in ["
    echo "   top $TOP functions by their own instructions (self):"
    per_request "$lo.self.txt" "$hi.self.txt"
    echo
done
echo "raw: $RAW"
