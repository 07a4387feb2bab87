#!/usr/bin/env bash
# bench/soak.sh - a bounded mixed load (default 500,000 requests) against one
# private Apache with Stowage, sampling every Apache child's VmRSS, RssAnon
# and open fds, and the storage root's tmp/ files, between rounds (clients
# paused). Prints the samples, writes bench/results/soak-<date>.tsv, and
# exits 1 on a growth trend after warm-up, a wrong answer, a crash line in
# the error log or a replaced child. The mix and the checks: bench/soak_mix.py;
# sampling and the judging rule: bench/soak_driver.py (judge()).
#
# The Apache runs a fixed pool of children that are never recycled
# (MaxConnectionsPerChild 0, spares pinned), so one process's growth cannot
# hide behind a replacement: event MPM, 2 children x 25 threads; or
# MPM=prefork with CONNS+2 children.
#
# Env: REQUESTS (500000), CONNS (client processes = keep-alive connections,
# 4), SAMPLES (50), WARMUP (fraction skipped by the judge, 0.2),
# RSS_SLOPE_KIB (max VmRSS slope in KiB per 100k requests, 512), FD_SLOPE
# (max slope of a child's non-socket fds per 100k requests, 4), MPM (event|prefork),
# MALLOC_ARENA_MAX (1 here, see below).
#
# glibc gives each thread of an event child its own malloc arena (up to 8
# per core), and their high-water marks keep creeping up for hundreds of
# thousands of requests: with glibc's default the children's RSS still grew
# ~1.5 MiB per 100k requests at 100k-500k, slowing down; with one arena it is
# flat. That is allocator fragmentation, not a leak, and it would hide one:
# so the soak runs Apache with MALLOC_ARENA_MAX=1 unless told otherwise
# (MALLOC_ARENA_MAX=16 is glibc's default on 2 cores).
# It is a load: run it niced, e.g. `nice -n 10 bench/soak.sh` (make soak).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REQUESTS=${REQUESTS:-500000}
CONNS=${CONNS:-4}
SAMPLES=${SAMPLES:-50}
export MPM=${MPM:-event}
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-1}

if ! stowage_built; then
    echo "bench/soak.sh: Stowage is not built (make all)" >&2
    exit 1
fi

make_workdir soak

fixed_pool() { # CONF
    cat >>"$1" <<EOF

# bench/soak.sh: a fixed pool of children, never recycled.
MaxConnectionsPerChild 0
<IfModule mpm_event_module>
    ServerLimit 2
    StartServers 2
    ThreadsPerChild 25
    MaxRequestWorkers 50
    MinSpareThreads 1
    MaxSpareThreads 50
</IfModule>
<IfModule mpm_prefork_module>
    ServerLimit $((CONNS + 2))
    StartServers $((CONNS + 2))
    MinSpareServers $((CONNS + 2))
    MaxSpareServers $((CONNS + 2))
    MaxRequestWorkers $((CONNS + 2))
</IfModule>
EOF
}

PORT=$(free_port)
BENCH_CONF_HOOK=fixed_pool start_apache "$WORK/apache" "$PORT" "$WORK/data" || exit 1

python3 "$BENCH_DIR/soak_driver.py" --port "$PORT" --apache-pid "$APACHE_PID" --root "$WORK/data" \
    --error-log "$WORK/apache/error.log" --tsv "$(result_file soak)" --requests "$REQUESTS" \
    --conns "$CONNS" --samples "$SAMPLES" --warmup "${WARMUP:-0.2}" \
    --rss-slope-kib "${RSS_SLOPE_KIB:-512}" --fd-slope "${FD_SLOPE:-4}"
rc=$?
stop_apache
# A failed run keeps its error log next to the samples.
[ "$rc" = 0 ] || cp "$WORK/apache/error.log" "$(result_file soak | sed 's/\.tsv$/-error.log/')"
exit $rc
