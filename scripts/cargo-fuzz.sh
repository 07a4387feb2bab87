#!/usr/bin/env bash
# Installs the pinned cargo-fuzz from crates.io when missing (tests/fuzz/run.sh
# calls it). About 3 minutes of compiling, once per machine.
set -euo pipefail
VERSION=0.13.2
CARGO=${CARGO:-cargo}
if [ "$($CARGO fuzz --version 2>/dev/null)" = "cargo-fuzz $VERSION" ]; then
    exit 0
fi
echo "cargo-fuzz: installing $VERSION"
$CARGO install --locked --quiet "cargo-fuzz@$VERSION"
