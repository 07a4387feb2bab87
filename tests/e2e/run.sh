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
    exec "${py[@]}" "${spread[@]}" "${target[@]}" "$@"
fi

if [ "$workers" -le 1 ] && [ "${E2E_PART:-all}" = all ]; then
    exec "${py[@]}" tests/e2e
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
