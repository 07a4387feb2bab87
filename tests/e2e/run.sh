#!/usr/bin/env bash
# End-to-end suite: a real Apache httpd with mod_stowage loaded, driven over
# HTTP by pytest, python-swiftclient, the `swift` CLI and raw sockets.
#
#   tests/e2e/run.sh                 # whole suite, in two parts:
#       1. every test not marked `serial`, spread over E2E_WORKERS pytest-xdist
#          workers (default: 2 per CPU; each worker has its own session
#          server, ports and temp dirs; a test file stays on one worker);
#       2. the tests marked `serial` (they measure latency or the machine's
#          load), one at a time with nothing else of the suite running.
#   tests/e2e/run.sh -k range -x     # any pytest arguments pass through (one
#                                    # process; E2E_WORKERS=N to spread them)
#   E2E_WORKERS=1 tests/e2e/run.sh   # the whole suite in one process
#   E2E_PART=parallel|serial         # only part 1 or part 2 (make test runs
#                                    # part 2 once every other stage is done)
#
# The servers' storage dirs go on a filesystem that holds Swift's full object
# metadata (scripts/storage-fs.sh, docs/storage-fs.md): as root, each run
# mounts an XFS image of its own on /tmp/stowage-e2e-fs/run-PID when /tmp
# cannot hold it, exports that path as STOWAGE_TEST_ROOT for the harness (and
# every pytest worker) and releases it when it ends. STOWAGE_TEST_ROOT set by
# the caller is used as it is. With STOWAGE_E2E_KEEP=1 the image is kept.
#
# Creates (or reuses) <repo>/.venv with tests/e2e/requirements.txt
# (scripts/python-venv.sh). Needs the built module: `make all`
# (target/release/libstowage.so and build/mod_stowage.so).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv"
"$repo/scripts/python-venv.sh" "$venv" "$here/requirements.txt" || exit 1

for f in target/release/libstowage.so build/mod_stowage.so; do
    if [ ! -e "$repo/$f" ]; then
        echo "tests/e2e: warning: $f is missing; run 'make all' first" >&2
    fi
done

cd "$repo"

if [ -z "${STOWAGE_TEST_ROOT:-}" ]; then
    storage_fs="$repo/scripts/storage-fs.sh"
    fs_base=/tmp/stowage-e2e-fs
    mkdir -p "$fs_base"
    chmod 0755 "$fs_base"  # www-data children reach their dirs through it
    "$storage_fs" reap "$fs_base"
    fs_root="$fs_base/run-$$"
    release_fs() {
        if [ -n "${STOWAGE_E2E_KEEP:-}" ]; then
            "$storage_fs" release "$fs_root" || true
            [ -e "$fs_root.img" ] && echo "tests/e2e: kept $fs_root.img" \
                "(scripts/storage-fs.sh ensure $fs_root mounts it again)" >&2
        else
            "$storage_fs" release "$fs_root" --delete-image || true
        fi
        rmdir "$fs_root" 2>/dev/null || true
    }
    trap release_fs EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if fs="$("$storage_fs" ensure "$fs_root")"; then
        echo "tests/e2e: storage root $fs_root ($fs)" >&2
        export STOWAGE_TEST_ROOT="$fs_root"
    else
        echo "tests/e2e: warning: the servers' storage stays on $(findmnt -n -o FSTYPE -T /tmp \
            | tail -n 1) /tmp; tests of large metadata fail there" >&2
    fi
fi
py=("$venv/bin/python" -m pytest -q --durations=10)
ncpu=$(nproc 2>/dev/null || echo 2)
workers=${E2E_WORKERS:-$((2 * ncpu))}
spread=()
[ "$workers" -gt 1 ] && spread=(-n "$workers" --dist loadfile)

if [ $# -gt 0 ]; then
    # Run the whole directory unless a test path was named.
    target=(tests/e2e)
    for a in "$@"; do
        case "$a" in tests/e2e/*|*.py|*.py::*) target=() ;; esac
    done
    [ -n "${E2E_WORKERS:-}" ] || spread=()
    "${py[@]}" "${spread[@]}" "${target[@]}" "$@"
    exit $?
fi

if [ "$workers" -le 1 ] && [ "${E2E_PART:-all}" = all ]; then
    "${py[@]}" tests/e2e
    exit $?
fi
start=$SECONDS
rc1=0
rc2=0
if [ "${E2E_PART:-all}" != serial ]; then
    echo "tests/e2e: part 1: the tests not marked serial, $workers workers"
    "${py[@]}" "${spread[@]}" -m "not serial" tests/e2e
    rc1=$?
    echo "tests/e2e: part 1: exit $rc1 after $((SECONDS - start)) s"
fi
if [ "${E2E_PART:-all}" != parallel ]; then
    echo "tests/e2e: part 2: the tests marked serial, one at a time"
    "${py[@]}" -m serial tests/e2e
    rc2=$?
    echo "tests/e2e: part 2: exit $rc2; $((SECONDS - start)) s in all"
fi
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
