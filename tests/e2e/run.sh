#!/usr/bin/env bash
# End-to-end suite: a real Apache httpd with mod_stowage loaded, driven over
# HTTP by pytest, python-swiftclient, the `swift` CLI and raw sockets.
#
#   tests/e2e/run.sh                 # whole suite
#   tests/e2e/run.sh -k range -x     # any pytest arguments pass through
#
# The servers' storage dirs go on a filesystem that holds Swift's full object
# metadata (scripts/storage-fs.sh, docs/storage-fs.md): as root, each run
# mounts an XFS image of its own on /tmp/stowage-e2e-fs/run-PID when /tmp
# cannot hold it, exports that path as STOWAGE_TEST_ROOT for the harness (and
# every pytest worker) and releases it when it ends. STOWAGE_TEST_ROOT set by
# the caller is used as it is. With STOWAGE_E2E_KEEP=1 the image is kept.
#
# Creates (or reuses) <repo>/.venv and installs tests/e2e/requirements.txt
# into it only when that file changed since the last install.
# Needs the built module: `make all` (target/release/libstowage.so and
# build/mod_stowage.so).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.venv"
req="$here/requirements.txt"
stamp="$venv/.e2e-requirements.sha256"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
fi

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
    # What runs killed before their cleanup left behind.
    for left in "$fs_base"/run-*; do
        left="${left%.img}"
        pid="${left##*/run-}"
        [ -e "$left" ] || [ -e "$left.img" ] || continue
        kill -0 "$pid" 2>/dev/null && continue
        "$storage_fs" release "$left" --delete-image || true
        rmdir "$left" 2>/dev/null || true
    done
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
# Run the whole directory unless a test path was named.
target=(tests/e2e)
for a in "$@"; do
    case "$a" in tests/e2e/*|*.py|*.py::*) target=() ;; esac
done
"$venv/bin/python" -m pytest -q "${target[@]}" "$@"
