#!/usr/bin/env bash
# `make cluster`: a three-node OpenStack Swift cluster on 127.0.0.1 in the
# foreground; Ctrl-C stops every process it started (docs/cluster.md).
#   PORT               the proxy's port (default 8080)
#   CLUSTER_DATA       devices, configs, rings, logs (default <repo>/var/cluster)
#   CLUSTER_PORT_BASE  node N's servers on BASE+10N .. BASE+10N+5 (default 6200)
#   OBJECT_SERVER      stowage (default) | swift: who serves the nodes' object
#                      data port; stowage fails at start until mod_stowage can be
#                      a Swift object node (issue 20)
# Installs Swift and python-swiftclient when missing (scripts/cluster/venvs.sh);
# memcached and rsync come from scripts/deps.sh (make's deps target).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
"$repo/scripts/cluster/venvs.sh"
exec python3 "$repo/scripts/cluster/cluster.py" run
