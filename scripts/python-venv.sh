#!/usr/bin/env bash
# scripts/python-venv.sh VENV REQUIREMENTS - make VENV a working Python venv
# with REQUIREMENTS installed; quiet and quick when it already is.
#
# A stamp in VENV (the sha256 of REQUIREMENTS) says what was installed: when
# the file changed since, the venv is made anew (pins stay exact, nothing
# left over). A lock (VENV.lock) lets stages started together (make test
# runs the installs beside the builds) share one venv: the second waits for
# the first and then finds it ready.
#   tests/e2e/run.sh:  <repo>/.venv            tests/e2e/requirements.txt
#   tests/diff/run.sh: <repo>/build/swift-venv tests/diff/requirements-swift.txt
set -euo pipefail
venv=$1
req=$2
stamp="$venv/.requirements.sha256"

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 &&
        [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then
    exit 0
fi
echo "python-venv: installing $req into $venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
