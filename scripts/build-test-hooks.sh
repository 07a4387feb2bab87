#!/usr/bin/env bash
# scripts/build-test-hooks.sh [--seed] - the library's test-hooks variant
# (cargo feature `test-hooks`, fault injection for tests; never served) in
# target/test-hooks/release/, and a shim linked against it in
# build/test-hooks/mod_stowage.so. tests/abi/run.sh (the panic suite) and
# tests/e2e/gates_support.py use them; both build them too when missing.
#
# It has its own target dir (one cdylib file name per dir), so it would
# compile every dependency a second time. When that dir does not exist yet
# it starts as a copy of target/release: the dependencies are built with the
# same profile and features there, cargo finds them fresh and compiles only
# the stowage crate (seconds of copying instead of minutes of CPU).
#   --seed   only make that copy (make test does it right after the release
#            build, before other cargo runs write into target/release)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"
CARGO=${CARGO:-cargo}
HOOKS=target/test-hooks

if [ ! -d "$HOOKS/release" ] && [ -d target/release/deps ]; then
    mkdir -p "$HOOKS"
    rm -rf "$HOOKS/release.tmp"
    cp -a target/release "$HOOKS/release.tmp"
    mv "$HOOKS/release.tmp" "$HOOKS/release"
fi
[ "${1:-}" = --seed ] && exit 0

$CARGO build --release --features test-hooks --target-dir "$HOOKS"
STOWAGE_LIBDIR="$REPO/$HOOKS/release" STOWAGE_SHIM_OUT="$REPO/build/test-hooks/mod_stowage.so" \
    scripts/build-shim.sh
