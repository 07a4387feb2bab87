#!/usr/bin/env bash
# Differential harness: the same generated request sequences against a real
# one-node OpenStack Swift 2.38.3 and against Stowage in Apache, answers
# compared; differences not listed in tests/diff/KNOWN_DIFFERENCES fail.
#
#   tests/diff/run.sh                    # the bounded set (make test-diff)
#   tests/diff/run.sh --per-family 25    # the long run (make diff)
#   tests/diff/run.sh --only copy-003 -v # one sequence, every difference
#
# Installs what it needs when missing: Swift and its dependencies (pinned in
# requirements-swift.txt) into build/swift-venv (about 20 s, once; pip needs
# PyPI), python-swiftclient for the CLI step into .venv (tests/e2e's venv and
# requirements, as tests/e2e/run.sh does), memcached from Debian (root or
# sudo). Needs `make all`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${STOWAGE_DIFF_SWIFT_VENV:-$repo/build/swift-venv}"
req="$here/requirements-swift.txt"

"$repo/scripts/python-venv.sh" "$venv" "$req"

# The `swift` CLI step (cli.py): tests/e2e's venv, which pins python-swiftclient.
case " $* " in *" --no-cli "*|*" --list "*) ;; *)
    e2e_venv="$repo/.venv"
    "$repo/scripts/python-venv.sh" "$e2e_venv" "$repo/tests/e2e/requirements.txt"
    # the CLI step's own parsing and normalisation, without servers (1 s)
    "$e2e_venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_cli.py" >/dev/null ||
        { "$e2e_venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_cli.py"; exit 1; } ;;
esac

if ! command -v memcached >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo)
    else echo "tests/diff: memcached is missing; apt-get install memcached" >&2; exit 2; fi
    echo "tests/diff: installing memcached" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends memcached >/dev/null ||
        { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq --no-install-recommends memcached >/dev/null; }
fi

for f in target/release/libstowage.so build/mod_stowage.so; do
    [ -e "$repo/$f" ] || { echo "tests/diff: $f is missing; run 'make all' first" >&2; exit 2; }
done

# Stowage keeps objects in Swift's format, metadata in xattrs: its storage
# goes on a filesystem that holds Swift's full metadata (scripts/storage-fs.sh,
# as tests/e2e/run.sh does), else the metadata-limit sequences answer 507.
if [ -z "${STOWAGE_TEST_ROOT:-}" ] && [ "$(id -u)" = 0 ]; then
    storage_fs="$repo/scripts/storage-fs.sh"
    fs_base=/tmp/stowage-diff-fs
    mkdir -p "$fs_base"
    chmod 0755 "$fs_base"
    "$storage_fs" reap "$fs_base"
    fs_root="$fs_base/run-$$"
    release_fs() {
        "$storage_fs" release "$fs_root" --delete-image || true
        rmdir "$fs_root" 2>/dev/null || true
    }
    trap release_fs EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if fs="$("$storage_fs" ensure "$fs_root")"; then
        echo "tests/diff: Stowage's storage root $fs_root ($fs)" >&2
        export STOWAGE_TEST_ROOT="$fs_root"
    fi
fi

export STOWAGE_DIFF_SWIFT_VENV="$venv" PYTHONWARNINGS=ignore
python3 "$here/difftest.py" "$@"
