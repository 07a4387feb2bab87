#!/usr/bin/env bash
# bench/gates.sh MODE [options] - the admission-gate benchmarks (MODE: sweep,
# overload, separation, db-scope or onset; see bench/gates_bench.py), behind
# bench/sweep.sh, bench/overload.sh, bench/separation.sh, bench/db-scope.sh and
# bench/onset.sh. Needs the release build (make all) and wrk; as root, runs the
# servers on a loop-mounted journaled ext4 image (--fs host: the host's temp dir,
# bench/scratch_fs.py); installs
# matplotlib (for the PNG) into <repo>/.venv-bench on first use. Results in
# bench/results/.
set -euo pipefail
mode="$1"; shift
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
venv="$repo/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import matplotlib' 2>/dev/null ||
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements-gates.txt"
for f in target/release/libstowage.so build/mod_stowage.so; do
    [ -f "$repo/$f" ] || { echo "bench/$mode: $f is missing; run 'make all'" >&2; exit 1; }
done
ulimit -n 65536 2>/dev/null || true   # wrk with 1024 connections
exec "$venv/bin/python" "$here/gates.py" "$mode" "$@"
