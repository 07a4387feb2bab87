#!/usr/bin/env bash
# Write a self-contained Apache config that serves Stowage on loopback.
#
#   scripts/apache-config.sh OUTDIR PORT DATADIR [EXTRA_CONF_FILE]
#
# Writes OUTDIR/httpd.conf (absolute paths only), creates OUTDIR and DATADIR
# and prints the path of the config. Start it with
#   apache2 -f OUTDIR/httpd.conf -DFOREGROUND
#
# Environment:
#   MPM=event|prefork        MPM to load (default event)
#   LOGLEVEL="..."           LogLevel value (default "warn"; e.g. "info stowage:debug")
#   EXTRA_SERVER_CONF=FILE   included at server level, outside the vhost
#                            (e.g. a second Listen + <VirtualHost>)
#   STOWAGE_USER=a:u STOWAGE_KEY=k   the test user (default test:tester / testing)
#   STOWAGE_SHIM=FILE        the mod_stowage.so to load (default build/mod_stowage.so;
#                            tests/e2e uses a test-hooks build)
#   HASH_PATH_SALT=none      make a new DATADIR without a hash-path salt (default:
#                            a random one, see below)
# EXTRA_CONF_FILE (4th argument) is included inside the Stowage vhost.
#
# The hash-path salt (StowageHashPathSuffix, README): a new DATADIR gets a
# random one, kept with its data in DATADIR/hash-path-salt.conf (mode 0600)
# and included in the vhost, so a restart, or a new config for the same
# DATADIR, finds the same names. A DATADIR that already holds Stowage data
# without that file was written without a salt and gets none (the server
# would refuse a salt the data was not written with).
set -euo pipefail

usage() { echo "usage: $0 OUTDIR PORT DATADIR [EXTRA_CONF_FILE]" >&2; exit 2; }
[ $# -ge 3 ] && [ $# -le 4 ] || usage

REPO="$(cd "$(dirname "$0")/.." && pwd)"
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

OUTDIR="$(abspath "$1")"
PORT="$2"
DATADIR="$(abspath "$3")"
EXTRA_CONF="${4:-}"
MPM="${MPM:-event}"
LOGLEVEL="${LOGLEVEL:-warn}"
EXTRA_SERVER_CONF="${EXTRA_SERVER_CONF:-}"
STOWAGE_USER="${STOWAGE_USER:-test:tester}"
STOWAGE_KEY="${STOWAGE_KEY:-testing}"
MODDIR=/usr/lib/apache2/modules
SHIM="${STOWAGE_SHIM:-$REPO/build/mod_stowage.so}"

case "$PORT" in ''|*[!0-9]*) echo "apache-config: PORT must be a number, got '$PORT'" >&2; exit 2 ;; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || { echo "apache-config: PORT out of range: $PORT" >&2; exit 2; }
for f in "$EXTRA_CONF" "$EXTRA_SERVER_CONF"; do
    if [ -n "$f" ] && [ ! -f "$f" ]; then
        echo "apache-config: include file not found: $f" >&2; exit 2
    fi
done
[ -n "$EXTRA_CONF" ] && EXTRA_CONF="$(abspath "$EXTRA_CONF")"
[ -n "$EXTRA_SERVER_CONF" ] && EXTRA_SERVER_CONF="$(abspath "$EXTRA_SERVER_CONF")"
[ -f "$SHIM" ] || echo "apache-config: warning: $SHIM does not exist yet (make all)" >&2

case "$MPM" in
event)
    # A worker is held for the whole time a request body takes to arrive
    # (up to RequestReadTimeout's body maximum below) and while a request
    # waits at a gate; idle keep-alive connections and lingering closes hold
    # none. 512 workers (16 children x 32 threads, Apache's default
    # ServerLimit) leave room for 256 admitted writes plus reads; only 2
    # children start, more as load needs them (README, "Slow clients and
    # workers").
    MPM_CONF="LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
<IfModule mpm_event_module>
    StartServers 2
    ServerLimit 16
    ThreadsPerChild 32
    MaxRequestWorkers 512
    MinSpareThreads 32
    MaxSpareThreads 128
</IfModule>" ;;
prefork)
    MPM_CONF="LoadModule mpm_prefork_module $MODDIR/mod_mpm_prefork.so
<IfModule mpm_prefork_module>
    StartServers 4
    MinSpareServers 2
    MaxSpareServers 8
    MaxRequestWorkers 32
</IfModule>" ;;
*) echo "apache-config: MPM must be event or prefork, got '$MPM'" >&2; exit 2 ;;
esac

mkdir -p "$OUTDIR" "$OUTDIR/htdocs" "$DATADIR"
# The storage root is the server user's alone (the library refuses a root
# that other users can write, and makes everything in it owner-only).
chmod 0700 "$DATADIR"

SALT_CONF="$DATADIR/hash-path-salt.conf"
new_root=1
[ -e "$DATADIR/hash-path-salt.fingerprint" ] && new_root=0
for d in accounts containers objects; do
    if [ -d "$DATADIR/$d" ] && [ -n "$(ls -A "$DATADIR/$d")" ]; then new_root=0; fi
done
if [ ! -f "$SALT_CONF" ] && [ "$new_root" = 1 ] && [ "${HASH_PATH_SALT:-}" != none ]; then
    salt="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    [ "${#salt}" = 32 ] || { echo "apache-config: could not read /dev/urandom" >&2; exit 1; }
    (umask 077 && printf '# The hash-path salt of this storage root (secret; never change it).\nStowageHashPathSuffix %s\n' "$salt" >"$SALT_CONF")
fi

USER_CONF="# not root: Apache runs as $(id -un)"
if [ "$(id -u)" = 0 ]; then
    USER_CONF="User www-data
Group www-data"
    chown -R www-data:www-data "$OUTDIR" "$DATADIR"
    if ! runuser -u www-data -- test -w "$DATADIR" -a -x "$DATADIR"; then
        echo "apache-config: Apache runs as www-data, which cannot write $DATADIR" >&2
        echo "  (a parent directory is probably not searchable by www-data)." >&2
        echo "  Use a data directory www-data can reach, e.g.:" >&2
        echo "    STOWAGE_DATA=/var/lib/stowage make run" >&2
        exit 1
    fi
fi

salt_include=""
[ -f "$SALT_CONF" ] && salt_include="    Include \"$SALT_CONF\""
vhost_include=""
[ -n "$EXTRA_CONF" ] && vhost_include="    Include \"$EXTRA_CONF\""
server_include=""
[ -n "$EXTRA_SERVER_CONF" ] && server_include="Include \"$EXTRA_SERVER_CONF\""

CONF="$OUTDIR/httpd.conf"
# It holds the users' keys: owner-only from its creation (written aside and
# renamed, so a config left readable by an earlier run is replaced, not
# rewritten in place).
CONF_TMP="$CONF.tmp.$$"
trap 'rm -f "$CONF_TMP"' EXIT
(umask 077 && cat >"$CONF_TMP") <<CONF
# Generated by scripts/apache-config.sh - do not edit, re-run the script.
ServerRoot "$OUTDIR"
DefaultRuntimeDir "$OUTDIR"
PidFile "$OUTDIR/httpd.pid"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
$USER_CONF

$MPM_CONF

LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule auth_basic_module $MODDIR/mod_auth_basic.so
LoadModule authn_file_module $MODDIR/mod_authn_file.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule authz_host_module $MODDIR/mod_authz_host.so
LoadModule reqtimeout_module $MODDIR/mod_reqtimeout.so
LoadModule status_module $MODDIR/mod_status.so
LoadModule stowage_module $SHIM

ErrorLog "$OUTDIR/error.log"
LogLevel $LOGLEVEL
# Apache's default error-log format plus the request's log id (%L), the
# same id as in the access log and as libstowage's request_id.
ErrorLogFormat "[%{u}t] [%-m:%l] [pid %P:tid %{g}T] [id %-L] %7F: %E: [client\\ %a] %M% ,\\ referer\\ %{Referer}i"
# %D: microseconds taken, %{stowage-wait-us}n: time queued at a Stowage gate,
# %L: the request's log id (the id libstowage logs with),
# %{stowage-trans-id}n: the X-Trans-Id the client got (also in Stowage's error lines;
# kept before %D so the last fields stay where tests/e2e/test_gates.py reads them).
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %{stowage-trans-id}n %D %{stowage-wait-us}n %L" stowage
CustomLog "$OUTDIR/access.log" stowage

DocumentRoot "$OUTDIR/htdocs"
# Swift object names may contain %2F and '//': keep the raw path.
AllowEncodedSlashes NoDecode
MergeSlashes Off
# Swift enforces its own maximum object size.
LimitRequestBody 0
# Let Swift's header limits (max_header_size 8192 per value, 90 metadata
# items plus ordinary headers) be the binding ones, not Apache's smaller
# defaults (8190 bytes per line, 100 fields).
LimitRequestFieldSize 16384
LimitRequestFields 200
EnableSendfile On
# Client timeouts (Swift's client_timeout is 60 s): no socket read or write
# may stall longer than Timeout; a request body must keep arriving at 500
# bytes/s or more after its first 20 s and must be complete within 600 s
# in all (a 5 GiB object needs 9 MB/s), so a client trickling its body
# holds a worker and a gate permit for 600 s at most (README, "Slow
# clients and workers"; docs/gates.md). A body Stowage does not need (an
# early 401, 403, 413, ...) is not waited for: the connection closes
# instead.
Timeout 60
RequestReadTimeout header=20-40,MinRate=500 body=20-600,MinRate=500
# A graceful stop (SIGWINCH, apachectl graceful-stop) lets requests in
# flight finish, for at most this long.
GracefulShutdownTimeout 5

$server_include

<VirtualHost 127.0.0.1:$PORT>
    ServerName 127.0.0.1
    AllowEncodedSlashes NoDecode
    MergeSlashes Off
    StowageRoot "$DATADIR"
$salt_include
    StowageUser $STOWAGE_USER $STOWAGE_KEY .admin
    <Location />
        SetHandler stowage
    </Location>
    <Location /debug>
        SetHandler stowage-debug
    </Location>
    # Apache's status page with a Stowage section, and the gates as JSON:
    # loopback clients only.
    <Location /server-status>
        SetHandler server-status
        Require ip 127.0.0.1
    </Location>
    <Location /stowage-status>
        SetHandler stowage-status
        Require ip 127.0.0.1
    </Location>
$vhost_include
</VirtualHost>
CONF
[ "$(id -u)" = 0 ] && chown www-data:www-data "$CONF_TMP"
mv -f "$CONF_TMP" "$CONF"
trap - EXIT
echo "$CONF"
