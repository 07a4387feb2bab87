#!/usr/bin/env bash
# scripts/test-suite.sh - `make test`: every check of the suite, with the
# stages that do not need each other run at the same time.
#
#   stage        needs                 what
#   deps         -                     scripts/deps.sh (Debian packages), first
#   venvs        deps                  .venv (tests/e2e) and build/swift-venv (tests/diff)
#   build        deps                  make all, then the seed of target/test-hooks
#   fuzz-build   deps                  cargo-fuzz (installed when missing), the targets
#   lint         build                 make test-lint (fmt, clippy, check-layers)
#   unit         build                 make test-unit (cargo test --release)
#   hooks        build                 scripts/build-test-hooks.sh
#   abi          hooks                 tests/abi/run.sh
#   e2e          build venvs           tests/e2e/run.sh, part 1 (parallel workers;
#                                      a worker that needs the hooks build waits)
#   diff         build venvs           tests/diff/run.sh
#   interop      build venvs           tests/interop/run.sh (Swift's on-disk format
#                                      against Swift's own code)
#   object-node  build venvs           tests/cluster/object_node.sh (the backend
#                                      vhost against Swift's direct_client, object
#                                      server, auditor and updater)
#   cluster      build venvs           tests/cluster/run.sh (make cluster-test: three
#                                      Stowage object nodes behind Swift's proxy, a
#                                      node down, healed, wiped and healed)
#   fuzz         fuzz-build            tests/fuzz/run.sh --no-build (FUZZ_SECONDS
#                                      CPU seconds per target)
#   e2e-serial   build hooks venvs,    tests/e2e/run.sh, part 2 (the tests marked
#                after all the others  serial, which measure time: run alone)
#
# Each stage's output goes to build/test-logs/STAGE.log and is printed whole
# when the stage ends; a stage whose needs failed is not run (and fails).
# At the end: a table of each stage's exit code, wall and CPU seconds
# (user+sys of the stage's processes), the tail of every failed stage's log,
# and "stages: N passed, N failed". Exit 0 only when every stage passed.
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
T0=$EPOCHREALTIME

# stage NAME "NEEDS" CMD... : runs CMD in the background once every stage
# in NEEDS has ended with 0 (after:STAGE: has ended, whatever its exit);
# writes LOGS/NAME.result ("rc wall-seconds cpu-seconds ended-at").
stage() {
    local name=$1 needs=$2
    shift 2
    (
        for n in $needs; do
            local only_after=0
            case $n in after:*) n=${n#after:}; only_after=1 ;; esac
            until [ -e "$LOGS/$n.result" ]; do sleep 0.2; done
            if [ $only_after = 0 ] && [ "$(cut -d' ' -f1 "$LOGS/$n.result")" != 0 ]; then
                echo "not run: stage $n failed" >"$LOGS/$name.log"
                result "$name" "skip 0 0 $(elapsed)"
                report "$name"
                exit 0
            fi
        done
        local t=$EPOCHREALTIME c0 c1 tf="$LOGS/.$name.times"
        children_cpu "$tf" >"$tf.0"
        "$@" >"$LOGS/$name.log" 2>&1 </dev/null
        local rc=$?
        local wall
        wall=$(sub "$EPOCHREALTIME" "$t")
        children_cpu "$tf" >"$tf.1"
        read -r c0 <"$tf.0"
        read -r c1 <"$tf.1"
        result "$name" "$rc $wall $(sub "$c1" "$c0") $(elapsed)"
        report "$name"
    ) &
}

# result NAME LINE: the stage's result file, whole or not at all (waiters
# poll for it).
result() {
    echo "$2" >"$LOGS/.$1.result"
    mv "$LOGS/.$1.result" "$LOGS/$1.result"
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
elapsed() { awk -v a="$EPOCHREALTIME" -v b="$T0" 'BEGIN { printf "%.0f", a - b }'; }
# children_cpu FILE: user+sys seconds of this shell's finished children
# (bash's `times`, run in this shell: a $(...) would be a fresh process).
children_cpu() {
    times >"$1"
    awk 'END { s = 0; for (i = 1; i <= 2; i++) {
        split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.2f", s }' "$1"
}

# Prints a finished stage's log as one block (a lock keeps blocks whole).
report() {
    local name=$1
    (
        flock 9
        read -r rc wall cpu at <"$LOGS/$name.result"
        printf '\n===== %s: exit %s, %.0f s wall, %s s CPU (ended at %s s) =====\n' \
            "$name" "$rc" "$wall" "$cpu" "$at"
        cat "$LOGS/$name.log"
    ) 9>"$LOGS/.print.lock"
}

# The path to the end is build, then e2e part 1, then part 2: the stages
# beside it run at a lower CPU priority, so they take what it leaves idle
# (the e2e suite mostly waits) rather than slow it down. The fuzz budget is
# CPU seconds, so this does not shorten the fuzzing.
LOW="nice -n 10"

echo "make test: stages run side by side; logs in $LOGS/ (load: $(cut -d' ' -f1-3 /proc/loadavg))"
stage deps "" scripts/deps.sh
stage venvs "deps" sh -c 'scripts/python-venv.sh .venv tests/e2e/requirements.txt &&
    scripts/python-venv.sh build/swift-venv tests/diff/requirements-swift.txt'
stage build "deps" sh -c 'make all && scripts/build-test-hooks.sh --seed'
stage fuzz-build "deps" $LOW tests/fuzz/run.sh --build-only
stage lint "build" $LOW make test-lint
stage unit "build" $LOW make test-unit
stage hooks "build" scripts/build-test-hooks.sh
stage abi "hooks" $LOW tests/abi/run.sh
stage e2e "build venvs" env E2E_PART=parallel tests/e2e/run.sh
stage diff "build venvs" $LOW tests/diff/run.sh
stage interop "build venvs" $LOW tests/interop/run.sh
stage object-node "build venvs" $LOW tests/cluster/object_node.sh
stage cluster "build venvs" $LOW tests/cluster/run.sh
stage fuzz "fuzz-build" $LOW tests/fuzz/run.sh --no-build
ALL="deps venvs build fuzz-build lint unit hooks abi e2e diff interop object-node cluster fuzz"
stage e2e-serial "build hooks venvs $(printf 'after:%s ' $ALL)" \
    env E2E_PART=serial tests/e2e/run.sh
wait

pass=0
fail=0
echo
echo "===== make test: summary ($(elapsed) s) ====="
printf '%-11s %5s %8s %8s %8s\n' stage exit "wall s" "CPU s" "end s"
total_cpu=0
for n in $ALL e2e-serial; do
    read -r rc wall cpu at <"$LOGS/$n.result"
    printf '%-11s %5s %8.0f %8.0f %8s\n' "$n" "$rc" "$wall" "$cpu" "$at"
    total_cpu=$(awk -v a="$total_cpu" -v b="$cpu" 'BEGIN { print a + b }')
    if [ "$rc" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
printf '%-11s %5s %8s %8.0f\n' total "" "$(elapsed)" "$total_cpu"
for n in $ALL e2e-serial; do
    read -r rc _ <"$LOGS/$n.result"
    if [ "$rc" != 0 ]; then
        echo
        echo "----- $n failed (exit $rc): last lines of $LOGS/$n.log -----"
        tail -40 "$LOGS/$n.log"
    fi
done
echo "stages: $pass passed, $fail failed"
[ $fail -eq 0 ]
