#!/usr/bin/env bash
# tests/abi/run.sh - the ABI tested from C (make test-abi).
#
# Builds the C test host (tests/abi/host.c) into build/abi-host with
# -Wall -Wextra -Werror and AddressSanitizer + UBSan, builds the library's
# test-hooks variant (cargo feature `test-hooks`, never in release builds)
# into target/test-hooks, then runs:
#   build/abi-host --suite=normal target/release/libstowage.so
#   build/abi-host --suite=panic  target/test-hooks/release/libstowage.so
# Output is TAP-style ("ok - ..." / "not ok - ..."); exits non-zero when any
# check fails or anything cannot be built.
set -uo pipefail
cd "$(dirname "$0")/../.."

CARGO=${CARGO:-cargo}
CC=${CC:-gcc}
LIB=target/release/libstowage.so
HOOK_DIR=target/test-hooks
HOOK_LIB=$HOOK_DIR/release/libstowage.so
HOST=build/abi-host
LOG_DIR=build/abi-logs
mkdir -p build "$LOG_DIR"

# ASan in the host (the Rust library is not instrumented, but every malloc
# and free it makes goes through ASan's allocator, so heap misuse across the
# boundary is caught). Leak checking stays on: the host frees what it makes.
SAN=${ABI_SANITIZE:-address,undefined}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
pass=0
fail=0
tally() { # file
    local p f
    p=$(grep -c '^ok - ' "$1" || true)
    f=$(grep -c '^not ok - ' "$1" || true)
    pass=$((pass + p)); fail=$((fail + f))
}

# 1. The host.
if ! $CC -std=c11 -Wall -Wextra -Werror -fsanitize="$SAN" -fno-omit-frame-pointer -g \
        -o "$HOST" tests/abi/host.c -ldl -lpthread 2>"$LOG_DIR/cc.log"; then
    cat "$LOG_DIR/cc.log"
    echo "not ok - build $HOST"
    exit 1
fi
echo "ok - build $HOST (-fsanitize=$SAN)"
pass=$((pass + 1))

# 2. The release library (make test-abi builds it first; build it if missing).
if [ ! -f "$LIB" ]; then
    $CARGO build --release >"$LOG_DIR/cargo-release.log" 2>&1 || true
fi
if [ -f "$LIB" ]; then
    echo "ok - $LIB exists"
    pass=$((pass + 1))
else
    tail -30 "$LOG_DIR/cargo-release.log" 2>/dev/null | sed 's/^/#   /'
    echo "not ok - $LIB exists (cargo build --release failed)"
    fail=$((fail + 1))
fi

# 3. The test-hooks variant, in its own target dir so it never mixes with release.
if $CARGO build --release --features test-hooks --target-dir "$HOOK_DIR" \
        >"$LOG_DIR/cargo-test-hooks.log" 2>&1 && [ -f "$HOOK_LIB" ]; then
    echo "ok - build $HOOK_LIB (--features test-hooks)"
    pass=$((pass + 1))
else
    tail -30 "$LOG_DIR/cargo-test-hooks.log" | sed 's/^/#   /'
    echo "not ok - build $HOOK_LIB (--features test-hooks)"
    fail=$((fail + 1))
fi

# 4. Run the suites. A crash (signal, sanitizer report) is itself a failure.
run_suite() { # suite lib
    local suite=$1 lib=$2 out=$LOG_DIR/$1.tap rc
    echo "# suite $suite against $lib"
    timeout 600 "$HOST" --suite="$suite" "$lib" >"$out" 2>"$LOG_DIR/$suite.stderr"
    rc=$?
    cat "$out"
    tally "$out"
    if [ $rc -ne 0 ] && ! grep -q '^not ok - ' "$out"; then
        echo "not ok - abi-host --suite=$suite exited with status $rc (crash, sanitizer or timeout)"
        fail=$((fail + 1))
    fi
    if [ $rc -ge 124 ] || grep -q -E 'Sanitizer|runtime error' "$LOG_DIR/$suite.stderr"; then
        echo "#   stderr of the host ($LOG_DIR/$suite.stderr):"
        grep -v '^$' "$LOG_DIR/$suite.stderr" | head -60 | sed 's/^/#   /'
        if grep -q -E 'Sanitizer|runtime error' "$LOG_DIR/$suite.stderr"; then
            echo "not ok - abi-host --suite=$suite: sanitizer report"
            fail=$((fail + 1))
        fi
    fi
}
[ -f "$LIB" ] && run_suite normal "$LIB"
[ -f "$HOOK_LIB" ] && run_suite panic "$HOOK_LIB"

echo "1..$((pass + fail))"
if [ $fail -ne 0 ]; then
    echo "# ABI tests: $fail of $((pass + fail)) checks FAILED (logs in $LOG_DIR/)"
    exit 1
fi
echo "# ABI tests: all $pass checks passed"
