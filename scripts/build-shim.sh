#!/usr/bin/env bash
# Build build/mod_stowage.so (the Apache shim) with apxs, linked dynamically
# against target/release/libstowage.so (rpath to that directory).
# `make shim` runs this after `cargo build --release`.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$REPO/ffi/apache/mod_stowage.c"
LIBDIR="${STOWAGE_LIBDIR:-$REPO/target/release}"   # override only for testing
# STOWAGE_SHIM_OUT: another output path (the test-hooks shim of tests/e2e).
OUT="${STOWAGE_SHIM_OUT:-$REPO/build/mod_stowage.so}"

APXS="${APXS:-$(command -v apxs || command -v apxs2 || true)}"
if [ -z "$APXS" ]; then
    echo "build-shim: apxs not found; install apache2-dev (scripts/deps.sh)" >&2
    exit 1
fi
if [ ! -f "$LIBDIR/libstowage.so" ]; then
    echo "build-shim: $LIBDIR/libstowage.so is missing; run 'make lib' (cargo build --release) first" >&2
    exit 1
fi

# The build runs in a scratch directory: make both paths absolute.
LIBDIR="$(cd "$LIBDIR" && pwd)"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
mkdir -p "$REPO/build" "$(dirname "$OUT")"
# apxs/libtool litter goes to a private directory (builds may run at once).
WORK="$(mktemp -d "$REPO/build/shim.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# apxs writes its objects next to the source: compile a copy in build/.
# (apxs strips one -Wl, and hands the rest to libtool, hence -Wl,-Wl,-rpath.)
# -z nodelete: Apache's children can reach exit() (and its atexit pool
# teardown, which dlcloses modules) while worker threads are still inside
# the shim or the library; code that stays mapped cannot crash them there.
cp "$SRC" "$WORK/mod_stowage.c"
cd "$WORK"
"$APXS" -c \
    -I "$REPO/ffi" \
    -Wc,-Wall -Wc,-Wextra -Wc,-Werror -Wc,-std=gnu11 \
    -L "$LIBDIR" -lstowage -Wl,-Wl,-rpath,"$LIBDIR" -Wl,-Wl,-z,nodelete \
    -o mod_stowage.la mod_stowage.c >build.log 2>&1 || {
    cat build.log >&2
    echo "build-shim: compiling $SRC failed" >&2
    exit 1
}
# libtool prints the commands; show diagnostics only (there should be none).
grep -E '(warning|error|note):' build.log >&2 || true

# Replace atomically: a running Apache keeps its mapping of the old file.
install -m 0755 "$WORK/.libs/mod_stowage.so" "$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
echo "build-shim: built $OUT"
