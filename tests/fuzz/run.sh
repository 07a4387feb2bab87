#!/usr/bin/env bash
# tests/fuzz/run.sh - the cargo-fuzz targets in fuzz/ (make test-fuzz).
#
# Runs the unit tests of the targets' checkers, builds every target, then
# runs each for FUZZ_SECONDS (default 30) from its committed seeds
# (fuzz/seeds/<target>/) plus the working corpus (fuzz/corpus/<target>/,
# ignored by git, kept between runs). A crash,
# a failed property (a panic) or a hang (FUZZ_TIMEOUT seconds on one input)
# fails the target; libFuzzer saves the input under fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS=30        seconds per target
#   FUZZ_TARGETS="a b"     only these targets (default: all)
#   FUZZ_SANITIZER=none    or "address"; the fuzzed code is safe Rust, so
#                          the short run skips ASan for speed
#   FUZZ_TIMEOUT=10        seconds one input may take
#
# Only the stable toolchain exists here: RUSTC_BOOTSTRAP=1 lets cargo-fuzz
# pass its -Z flags to it.
set -uo pipefail
cd "$(dirname "$0")/../.."

SECS=${FUZZ_SECONDS:-30}
SAN=${FUZZ_SANITIZER:-none}
TIMEOUT=${FUZZ_TIMEOUT:-10}
CARGO=${CARGO:-cargo}
LOGS=fuzz/logs
export RUSTC_BOOTSTRAP=1

scripts/cargo-fuzz.sh || { echo "not ok - install cargo-fuzz"; exit 1; }
mkdir -p "$LOGS"
FUZZ=($CARGO fuzz)
OPTS=(--fuzz-dir fuzz --sanitizer "$SAN" --debug-assertions)
# A sanitizer build gets its own target dir, so switching modes (make
# test-fuzz, bench/fuzz-long.sh) does not rebuild everything each time.
[ "$SAN" = none ] || OPTS+=(--target-dir "fuzz/target/san-$SAN")
targets=${FUZZ_TARGETS:-$("${FUZZ[@]}" list --fuzz-dir fuzz)}

if ! "${FUZZ[@]}" build "${OPTS[@]}" >"$LOGS/build.log" 2>&1; then
    tail -40 "$LOGS/build.log" | sed 's/^/#   /'
    echo "not ok - build fuzz targets"
    exit 1
fi

pass=0
fail=0
# The targets' own checkers (fuzz/src/xml.rs) must accept and refuse as meant.
if $CARGO test --manifest-path fuzz/Cargo.toml --lib >"$LOGS/checkers.log" 2>&1; then
    echo "ok - fuzz checkers' unit tests"
    pass=$((pass + 1))
else
    tail -30 "$LOGS/checkers.log" | sed 's/^/#   /'
    echo "not ok - fuzz checkers' unit tests"
    fail=$((fail + 1))
fi
for t in $targets; do
    log=$LOGS/$t.log
    mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
    "${FUZZ[@]}" run "${OPTS[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$SECS" -timeout="$TIMEOUT" -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        echo "ok - fuzz $t: ${execs:-?} execs in ${SECS}s, cov ${cov:-?}, corpus $corpus inputs"
        pass=$((pass + 1))
    else
        grep -E -A12 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -40 | sed 's/^/#   /'
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        echo "not ok - fuzz $t: exit $rc, input ${artifact:-(none saved)}, log $log"
        [ -n "$artifact" ] && echo "#   replay: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz $t $artifact"
        fail=$((fail + 1))
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
