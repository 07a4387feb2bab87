#!/usr/bin/env bash
# The two Python environments the cluster harness runs, installed when
# missing or when their pinned requirements changed (scripts/python-venv.sh:
# the same venvs, files and stamps as tests/diff/run.sh and tests/e2e/run.sh
# use, so each is installed once for all three):
#   build/swift-venv  OpenStack Swift 2.38.3 (tests/diff/requirements-swift.txt;
#                     about 20 s, once; pip needs PyPI)
#   .venv             python-swiftclient, pytest (tests/e2e/requirements.txt):
#                     the clients of make cluster-test, and the swiftclient
#                     Swift's dispersion tools authenticate with
# SWIFT_VENV overrides the first (as STOWAGE_DIFF_SWIFT_VENV does for tests/diff).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

"$repo/scripts/python-venv.sh" "${SWIFT_VENV:-$repo/build/swift-venv}" \
    "$repo/tests/diff/requirements-swift.txt"
"$repo/scripts/python-venv.sh" "$repo/.venv" "$repo/tests/e2e/requirements.txt"
