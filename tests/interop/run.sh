#!/usr/bin/env bash
# Interoperability of Stowage's Swift on-disk format (src/store/swift_disk)
# with Swift's own code: Stowage writes, Swift's DiskFileManager,
# swift-object-info and object auditor read (and quarantine a bit-flipped
# object); Swift's DiskFileWriter writes, Stowage reads; both leave the same
# hashes.invalid and the same replicator suffix hashes.
#
#   tests/interop/run.sh            # make test-interop
#   tests/interop/run.sh -k auditor # one test (unittest -k)
#
# Installs Swift 2.38.3 into build/swift-venv when missing
# (scripts/python-venv.sh, as tests/diff/run.sh; pip needs PyPI).
# Builds the test-only driver examples/swift_disk_tool.rs. Devices live in
# a temp dir under /tmp (Swift's metadata needs user xattrs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${STOWAGE_DIFF_SWIFT_VENV:-$repo/build/swift-venv}"
"$repo/scripts/python-venv.sh" "$venv" "$repo/tests/diff/requirements-swift.txt"

(cd "$repo" && cargo build --release --quiet --example swift_disk_tool)
export STOWAGE_SWIFT_DISK_TOOL="$repo/target/release/examples/swift_disk_tool"
export STOWAGE_SWIFT_VENV="$venv" PYTHONWARNINGS=ignore
exec "$venv/bin/python" -m unittest discover -v -s "$here" -p "test_*.py" "$@"
