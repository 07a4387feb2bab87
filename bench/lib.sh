# bench/lib.sh - shared helpers for the benchmark scripts (sourced, not run).
#
# start_apache OUTDIR PORT DATADIR [EXTRA_SERVER_CONF_FILE]
#     writes OUTDIR/httpd.conf through scripts/apache-config.sh (MPM from the
#     environment), starts `apache2 -f CONF -DFOREGROUND` in the background,
#     waits until 127.0.0.1:PORT answers, sets APACHE_PID. With STATIC_ONLY=1
#     (or when Stowage is not built) it writes a minimal conf itself with no
#     Stowage module, so the baselines can be measured on their own.
#     APACHE_WRAPPER (e.g. "valgrind --tool=callgrind ...") runs apache2 under
#     it; START_WAIT (10) is how many seconds it may take to answer.
# stop_apache            stops the Apache started above (by its PID)
# free_port              prints a free TCP port on 127.0.0.1
# get_token PORT         prints an X-Auth-Token for test:tester
# wrk_parse FILE         prints "rps p99_ms non2xx/sockerr" from `wrk --latency` output
# ab_parse FILE          the same from `ab` output (HEAD cases)
# result_file NAME       prints bench/results/NAME-<date>.tsv (creates the dir)
# static_vhost_conf FILE PORT DIR  writes FILE: a vhost on PORT where Apache's own
#                        static handler serves DIR (the baselines' side)
# same_bytes_both_sides  in $WORK: STATIC (random obj4k, obj1m) and DATA dirs, free
#                        PORT and PORT2, and $WORK/static-vhost.conf serving STATIC
#                        on PORT2 (the baselines' side of a Stowage comparison)
# one_prefork_child CONF  a BENCH_CONF_HOOK: appends prefork limits so that one
#                        child serves every request (its RSS is the one to watch)
# make_workdir NAME      sets WORK to a new /tmp/stowage-NAME-XXXXXX (mode 755, so
#                        www-data can reach it) and removes it, after stopping the
#                        Apache, when the script exits

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
RESULTS_DIR=$BENCH_DIR/results
APACHE_PID=
BENCH_DATE=${BENCH_DATE:-$(date +%Y%m%d-%H%M%S)}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

result_file() {
    mkdir -p "$RESULTS_DIR"
    echo "$RESULTS_DIR/$1-$BENCH_DATE.tsv"
}

make_workdir() { # NAME
    WORK=$(mktemp -d "/tmp/stowage-$1-XXXXXX") || exit 1
    chmod 755 "$WORK"
    trap 'stop_apache; rm -rf "$WORK"' EXIT
    trap 'exit 130' INT TERM
}

stowage_built() {
    [ -f "$REPO_DIR/target/release/libstowage.so" ] && [ -f "$REPO_DIR/build/mod_stowage.so" ] &&
        [ -x "$REPO_DIR/scripts/apache-config.sh" ]
}

# A private Apache without Stowage: only for the static baselines.
static_only_conf() { # OUTDIR PORT EXTRA
    local out=$1 port=$2 extra=${3:-} mpm=${MPM:-event}
    mkdir -p "$out/run"
    cat >"$out/httpd.conf" <<EOF
ServerRoot "$out"
ServerName 127.0.0.1
DefaultRuntimeDir "$out/run"
PidFile "$out/run/httpd.pid"
ErrorLog "$out/error.log"
LogLevel warn
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
User www-data
Group www-data
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    DocumentRoot "$out/empty"
</VirtualHost>
EOF
    mkdir -p "$out/empty"
    [ -n "$extra" ] && echo "Include \"$extra\"" >>"$out/httpd.conf"
    echo "$out/httpd.conf"
}

start_apache() { # OUTDIR PORT DATADIR [EXTRA]
    local out=$1 port=$2 data=$3 extra=${4:-} conf i
    mkdir -p "$out"
    if [ "${STATIC_ONLY:-0}" = 1 ]; then
        conf=$(static_only_conf "$out" "$port" "$extra") || return 1
    else
        conf=$(EXTRA_SERVER_CONF=$extra "$REPO_DIR/scripts/apache-config.sh" "$out" "$port" "$data" | tail -1) ||
            { echo "bench: scripts/apache-config.sh failed" >&2; return 1; }
        # Server-level additions only some generated confs take through the
        # environment: append them when they are not in there yet.
        if [ -n "$extra" ] && ! grep -qF "$extra" "$conf" && ! grep -qF "$(head -1 "$extra")" "$conf"; then
            echo "Include \"$extra\"" >>"$conf"
        fi
    fi
    [ -n "${BENCH_CONF_HOOK:-}" ] && "$BENCH_CONF_HOOK" "$conf"
    apache2 -t -f "$conf" >"$out/configtest.log" 2>&1 ||
        { echo "bench: apache2 -t failed:" >&2; cat "$out/configtest.log" >&2; return 1; }
    # Its own session: on shutdown the prefork MPM sends SIGTERM to its whole
    # process group, which would otherwise include this script. (A background
    # job of a script is no group leader, so setsid execs in place and $! is
    # Apache's own PID.)
    # shellcheck disable=SC2086 # the wrapper is a command line
    setsid ${APACHE_WRAPPER:-} apache2 -f "$conf" -DFOREGROUND >"$out/apache.out" 2>&1 &
    APACHE_PID=$!
    APACHE_CONF=$conf
    APACHE_OUT=$out
    for i in $(seq 1 $((${START_WAIT:-10} * 10))); do
        if ! kill -0 "$APACHE_PID" 2>/dev/null; then
            echo "bench: apache2 exited at start-up:" >&2
            cat "$out/apache.out" >&2
            tail -20 "$out"/*error*.log "$out"/logs/*error* 2>/dev/null >&2
            APACHE_PID=
            return 1
        fi
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench: apache2 did not answer on 127.0.0.1:$port" >&2
    stop_apache
    return 1
}

stop_apache() {
    if [ -n "$APACHE_PID" ] && kill -0 "$APACHE_PID" 2>/dev/null; then
        kill -TERM "$APACHE_PID"
        wait "$APACHE_PID" 2>/dev/null
    fi
    APACHE_PID=
}

# Children of the Apache parent (its worker processes).
apache_children() {
    local f pid ppid rest
    [ -n "$APACHE_PID" ] || return 0
    for f in /proc/[0-9]*/stat; do
        # pid (comm) state ppid ...; apache2's comm has no spaces
        read -r pid _ _ ppid rest 2>/dev/null <"$f" || continue
        [ "$ppid" = "$APACHE_PID" ] && echo "$pid"
    done
    return 0
}

get_token() { # PORT
    curl -s -D - -o /dev/null --max-time 10 \
        -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' \
        "http://127.0.0.1:$1/auth/v1.0" | tr -d '\r' |
        awk -F': ' 'tolower($1)=="x-auth-token" {print $2}'
}

# wrk_parse FILE -> "rps p99_ms non2xx/sockerr": non-2xx/3xx answers, and
# socket errors (mostly "read": the server closing a keep-alive connection,
# e.g. after MaxKeepAliveRequests, which both sides of a comparison share).
wrk_parse() { # FILE
    awk '
    function ms(v) {
        if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
        if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
        if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
        if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
        return v
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { bad += $NF }
    /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(/,/, "", v); sock += v } }
    END { printf "%s %s %d/%d\n", (rps == "" ? "0" : rps), (p99 == "" ? "-" : sprintf("%.2f", p99)), bad, sock }
    ' "$1"
}

# wrk 4.1 (Debian 12) cannot do HEAD: its parser waits for the body the
# Content-Length announces and every request times out. HEAD cases use ab
# (apache2-utils, -i) on both sides instead; same columns.
# ab_parse FILE -> "rps p99_ms non2xx/failed" (same shape as wrk_parse)
ab_parse() { # FILE
    awk '
    /Requests per second:/ { rps = $4 }
    $1 == "99%" { p99 = $2 }
    /^Failed requests:/ { sock += $3 }
    /^Non-2xx responses:/ { bad += $3 }
    END { printf "%s %s %d/%d\n", (rps == "" ? "0" : rps), (p99 == "" ? "-" : sprintf("%.2f", p99)), bad, sock }
    ' "$1"
}

# print_table FILE: a TSV (lines starting with # skipped) as aligned columns
# (awk, so no dependency on column(1) from bsdextrautils).
print_table() {
    awk -F'\t' '
    /^#/ { next }
    { rows[NR] = $0; n = NR; for (i = 1; i <= NF; i++) if (length($i) > w[i]) w[i] = length($i); if (NF > nf) nf = NF }
    END {
        for (r = 1; r <= n; r++) {
            if (!(r in rows)) continue
            k = split(rows[r], f, "\t"); line = ""
            for (i = 1; i <= k; i++) line = line sprintf(i < k ? "%-" w[i] "s  " : "%s", f[i])
            print line
        }
    }' "$1"
}

static_vhost_conf() { # FILE PORT DIR
    cat >"$1" <<EOF
# bench: Apache's own static handler on the same disk.
Listen 127.0.0.1:$2
<VirtualHost 127.0.0.1:$2>
    ServerName 127.0.0.1
    DocumentRoot "$3"
    <Directory "$3">
        Require all granted
        Options None
        AllowOverride None
    </Directory>
</VirtualHost>
EOF
}

same_bytes_both_sides() {
    STATIC=$WORK/static
    DATA=$WORK/data
    mkdir -p "$STATIC" "$DATA"
    head -c 4096 /dev/urandom >"$STATIC/obj4k"
    head -c 1048576 /dev/urandom >"$STATIC/obj1m"
    chmod -R a+rX "$STATIC"
    PORT=$(free_port)
    PORT2=$(free_port)
    while [ "$PORT2" = "$PORT" ]; do PORT2=$(free_port); done
    static_vhost_conf "$WORK/static-vhost.conf" "$PORT2" "$STATIC"
}

one_prefork_child() { # CONF
    cat >>"$1" <<'EOF'

# bench/lib.sh one_prefork_child: one prefork child serves everything.
<IfModule mpm_prefork_module>
    StartServers 1
    MinSpareServers 1
    MaxSpareServers 1
    ServerLimit 1
    MaxRequestWorkers 1
    MaxConnectionsPerChild 0
</IfModule>
EOF
}
