#!/usr/bin/env bash
# tests/fuzz/run.sh - the cargo-fuzz targets in fuzz/ (make test-fuzz).
#
# Builds every target and the unit tests of the targets' checkers, runs
# those tests, then runs each target for FUZZ_SECONDS of CPU time (default
# 30) from its committed seeds (fuzz/seeds/<target>/) plus the working
# corpus (fuzz/corpus/<target>/, ignored by git, kept between runs), all
# targets at once (FUZZ_JOBS at a time if set). A crash, a failed property
# (a panic) or a hang (FUZZ_TIMEOUT seconds on one input) fails the target; libFuzzer
# saves the input under fuzz/artifacts/<target>/.
#
# The budget is CPU seconds, not wall seconds, so a target gets the same
# fuzzing work whether it runs alone on an idle machine or beside other
# targets and tests (make test runs it beside the e2e suite): the run is
# stopped (SIGINT: libFuzzer prints its stats and exits 72, here a pass) once its
# process has used FUZZ_SECONDS of CPU, or after FUZZ_WALL_LIMIT seconds.
#
#   FUZZ_SECONDS=30        CPU seconds per target
#   FUZZ_JOBS=N            targets fuzzed at once (default: all of them; with a
#                          CPU budget each, rounds of fewer would leave CPUs idle
#                          in the last round)
#   FUZZ_WALL_LIMIT=S      wall seconds a target may take at most (default
#                          20 x FUZZ_SECONDS); reaching it fails the target
#   FUZZ_TARGETS="a b"     only these targets (default: all)
#   FUZZ_SANITIZER=none    or "address"; the fuzzed code is safe Rust, so
#                          the short run skips ASan for speed
#   FUZZ_TIMEOUT=10        seconds one input may take
#   --build-only           build the targets and the checkers' tests, run nothing
#   --no-build             skip the build step (make test built them already)
#
# Only the stable toolchain exists here: RUSTC_BOOTSTRAP=1 lets cargo-fuzz
# pass its -Z flags to it.
set -uo pipefail
cd "$(dirname "$0")/../.."

SECS=${FUZZ_SECONDS:-30}
WALL_LIMIT=${FUZZ_WALL_LIMIT:-$((20 * SECS))}
SAN=${FUZZ_SANITIZER:-none}
TIMEOUT=${FUZZ_TIMEOUT:-10}
CARGO=${CARGO:-cargo}
LOGS=fuzz/logs
export RUSTC_BOOTSTRAP=1

STEP=all
case "${1:-}" in --build-only) STEP=build ;; --no-build) STEP=run ;; esac

scripts/cargo-fuzz.sh || { echo "not ok - install cargo-fuzz"; exit 1; }
mkdir -p "$LOGS"
FUZZ=($CARGO fuzz)
OPTS=(--fuzz-dir fuzz --sanitizer "$SAN" --debug-assertions)
# A sanitizer build gets its own target dir, so switching modes (make
# test-fuzz, bench/fuzz-long.sh) does not rebuild everything each time.
[ "$SAN" = none ] || OPTS+=(--target-dir "fuzz/target/san-$SAN")
targets=${FUZZ_TARGETS:-$("${FUZZ[@]}" list --fuzz-dir fuzz)}
JOBS=${FUZZ_JOBS:-$(echo $targets | wc -w)}

# The checkers (fuzz/src/) use only std: their test binary is built by
# rustc alone, in seconds; `cargo test` would first compile every dependency
# of the fuzz crate (the library, libFuzzer) in the debug profile, which
# nothing else uses. If they come to need a crate, cargo builds them.
CHECKERS=fuzz/target/checkers-test
build_checkers() {
    mkdir -p fuzz/target
    rustc --edition 2021 --test --crate-name stowage_fuzz -o "$CHECKERS" fuzz/src/lib.rs ||
        { echo "(rustc alone could not build them: cargo test)"; rm -f "$CHECKERS"
          $CARGO test --manifest-path fuzz/Cargo.toml --lib --no-run; }
}
run_checkers() {
    if [ -x "$CHECKERS" ]; then "$CHECKERS"; else $CARGO test --manifest-path fuzz/Cargo.toml --lib; fi
}

if [ $STEP != run ]; then
    if ! "${FUZZ[@]}" build "${OPTS[@]}" >"$LOGS/build.log" 2>&1; then
        tail -40 "$LOGS/build.log" | sed 's/^/#   /'
        echo "not ok - build fuzz targets"
        exit 1
    fi
    echo "ok - build fuzz targets"
    if ! build_checkers >"$LOGS/checkers-build.log" 2>&1; then
        tail -30 "$LOGS/checkers-build.log" | sed 's/^/#   /'
        echo "not ok - build fuzz checkers' unit tests"
        exit 1
    fi
    echo "ok - build fuzz checkers' unit tests"
    [ $STEP = build ] && exit 0
fi
# The binaries cargo fuzz built, run directly (as `cargo fuzz run` does
# after its build), so the CPU time read below is the fuzzer's own.
triple=$(rustc -vV | sed -n 's/^host: //p')
bindir="fuzz/target/$triple/release"
[ "$SAN" = none ] || bindir="fuzz/target/san-$SAN/$triple/release"
[ "$SAN" = address ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"
HZ=$(getconf CLK_TCK)
INTERRUPTED=72  # libFuzzer's exit code after SIGINT (-interrupted_exit_code)

# fuzz_one TARGET: fuzz it for SECS CPU seconds; the outcome (the TAP line
# and any detail lines) goes to LOGS/TARGET.result.
fuzz_one() {
    local t=$1 log=$LOGS/$1.log out=$LOGS/$1.result pid rc stat ticks=0 stopped=0
    mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t" "fuzz/artifacts/$t"
    "$bindir/$t" -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$WALL_LIMIT" \
        -timeout="$TIMEOUT" -print_final_stats=1 "fuzz/corpus/$t" "fuzz/seeds/$t" \
        >"$log" 2>&1 &
    pid=$!
    while kill -0 $pid 2>/dev/null; do
        # utime + stime (fields 14 and 15 of /proc/PID/stat, after the
        # command name in parentheses)
        read -r stat 2>/dev/null </proc/$pid/stat || break
        set -- ${stat##*) }
        ticks=$((${12} + ${13}))
        if [ "$ticks" -ge $((SECS * HZ)) ]; then
            kill -INT $pid 2>/dev/null
            stopped=1
            break
        fi
        sleep 0.2
    done
    wait $pid
    rc=$?
    [ $stopped = 1 ] && [ $rc = $INTERRUPTED ] && rc=0
    local execs cov corpus artifact
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    if [ $rc -eq 0 ] && [ $stopped = 1 ]; then
        echo "ok - fuzz $t: ${execs:-?} execs in ${SECS} CPU s, cov ${cov:-?}, corpus $corpus inputs" >"$out"
    elif [ $rc -eq 0 ]; then
        echo "not ok - fuzz $t: only $((ticks / HZ)) of $SECS CPU s in the ${WALL_LIMIT} s wall limit, log $log" >"$out"
    else
        {
            grep -a -E -A12 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -40 | sed 's/^/#   /'
            artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
            echo "not ok - fuzz $t: exit $rc, input ${artifact:-(none saved)}, log $log"
            [ -n "$artifact" ] && echo "#   replay: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz $t $artifact"
        } >"$out"
    fi
}

pass=0
fail=0
# The targets' own checkers (fuzz/src/xml.rs) must accept and refuse as meant.
if run_checkers >"$LOGS/checkers.log" 2>&1; then
    echo "ok - fuzz checkers' unit tests"
    pass=$((pass + 1))
else
    tail -30 "$LOGS/checkers.log" | sed 's/^/#   /'
    echo "not ok - fuzz checkers' unit tests"
    fail=$((fail + 1))
fi
# FUZZ_JOBS targets at a time.
running=0
for t in $targets; do
    rm -f "$LOGS/$t.result"
    fuzz_one "$t" &
    running=$((running + 1))
    if [ $running -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
for t in $targets; do
    cat "$LOGS/$t.result" 2>/dev/null || echo "not ok - fuzz $t: no result"
    if grep -q '^ok - ' "$LOGS/$t.result" 2>/dev/null; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
