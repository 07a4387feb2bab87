#!/usr/bin/env bash
# Run this suite against a real one-node OpenStack Swift (tempauth,
# memcached), to check what Swift itself does when a test and Stowage
# disagree. Not part of `make test`.
#
#   tests/e2e/swift-reference.sh [pytest args]
#
# Installs `swift` from PyPI into /tmp/stowage-swift-ref/venv and memcached
# from Debian if missing, starts account/container/object/proxy servers on
# loopback, runs the suite with STOWAGE_E2E_URL pointing at the proxy (tests
# that need an Apache of their own are skipped), and stops everything.
#
# Known differences from Stowage's brief, all expected: account counters lag
# (Swift updates them asynchronously), tempauth hands back a cached token,
# eventlet accepts `%zz` and header lines without a colon, and ext4's xattr
# space rejects near-4096-byte object metadata (507 -> 503).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ref=/tmp/stowage-swift-ref
venv="$ref/venv"
[ -x "$venv/bin/swift-proxy-server" ] || {
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q swift
}
command -v memcached >/dev/null || apt-get install -y -q memcached >/dev/null

pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
node="$(mktemp -d /tmp/stowage-swift-ref/node.XXXXXX)"
mkdir -p "$node/etc" "$node/srv/node/sdb1" "$node/log"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$node"
}
trap cleanup EXIT

mc=$(pick_port); pa=$(pick_port); pc=$(pick_port); po=$(pick_port); pp=$(pick_port)
cat >"$node/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = stowage-e2e
swift_hash_path_suffix = stowage-e2e
[storage-policy:0]
name = gold
default = yes
CONF
for t in account:$pa container:$pc object:$po; do
    n=${t%%:*}; p=${t##*:}
    (cd "$node/etc" && "$venv/bin/swift-ring-builder" $n.builder create 0 1 1 >/dev/null &&
        "$venv/bin/swift-ring-builder" $n.builder add r1z1-127.0.0.1:$p/sdb1 1 >/dev/null &&
        { "$venv/bin/swift-ring-builder" $n.builder rebalance >/dev/null || true; })
    cat >"$node/etc/$n-server.conf" <<CONF
[DEFAULT]
devices = $node/srv/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = $p
workers = 1
user = $(id -un)
swift_dir = $node/etc
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
CONF
done
cat >"$node/etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $pp
workers = 1
user = $(id -un)
swift_dir = $node/etc
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth copy proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
error_suppression_limit = 1000000
error_suppression_interval = 0
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
user_test_member = memberkey
user_stats_admin = statskey .admin
user_acctmeta_admin = acctmetakey .admin
user_hostile_admin = hostilekey .admin
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$mc
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
CONF

mcuser=(); [ "$(id -u)" = 0 ] && mcuser=(-u nobody)
memcached "${mcuser[@]}" -l 127.0.0.1 -p "$mc" -m 64 >"$node/log/memcached.log" 2>&1 & pids+=($!)
for n in account container object proxy; do
    "$venv/bin/swift-$n-server" "$node/etc/$n-server.conf" >"$node/log/$n.log" 2>&1 & pids+=($!)
done
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$pp/healthcheck" >/dev/null 2>&1 && break
    sleep 0.2
done
echo "swift-reference: Swift proxy on 127.0.0.1:$pp (logs in $node/log)" >&2
cd "$repo"
set +e
STOWAGE_E2E_URL="http://127.0.0.1:$pp" "$here/run.sh" "$@"
rc=$?
exit $rc
