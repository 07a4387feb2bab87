#!/usr/bin/env bash
# Install the Debian packages Stowage needs to build, run and test, when
# missing. Quiet when everything is present.
set -euo pipefail

PACKAGES=(apache2 apache2-dev libclang-dev wrk python3-venv python3-pip curl
          rclone gcc g++ make pkg-config
          e2fsprogs mount   # mkfs.ext4 + loop mount: tests/e2e/test_full_disk.py
          xfsprogs          # mkfs.xfs: scripts/storage-fs.sh (docs/storage-fs.md)
          memcached rsync)  # tests/diff's Swift and make cluster: the proxy's cache; Swift's replication

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps: missing packages: ${missing[*]}" >&2
        echo "deps: not root and no sudo; install them with: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "deps: cargo (Rust) is not on PATH. Install Rust from https://rustup.rs" >&2
    echo "      (or 'apt-get install cargo'), then re-run make." >&2
    exit 1
fi
