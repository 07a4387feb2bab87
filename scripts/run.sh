#!/usr/bin/env bash
# Serve Stowage in the foreground on 127.0.0.1:$PORT (what `make run` runs,
# after building). Ctrl-C stops it.
#   PORT          listen port (default 8080)
#   STOWAGE_DATA  storage root (default <repo>/var: the data then lives in
#                 <repo>/var/data, on an XFS image <repo>/var/data.img that
#                 scripts/storage-fs.sh makes and mounts when <repo>/var's
#                 filesystem cannot hold Swift's full metadata; needs root).
#                 A root of your choosing is used as it is.
#   EXTRA_CONF    optional file included inside the Stowage <VirtualHost>
#   MPM, LOGLEVEL, EXTRA_SERVER_CONF: see scripts/apache-config.sh
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${PORT:-8080}"
STOWAGE_DATA="${STOWAGE_DATA:-$REPO/var}"
EXTRA_CONF="${EXTRA_CONF:-}"
OUTDIR="$REPO/build/run"

APACHE2="$(command -v apache2 || true)"
[ -n "$APACHE2" ] || APACHE2=/usr/sbin/apache2
[ -x "$APACHE2" ] || { echo "run: apache2 not found (scripts/deps.sh installs it)" >&2; exit 1; }

for f in "$REPO/build/mod_stowage.so" "$REPO/target/release/libstowage.so"; do
    [ -f "$f" ] || { echo "run: $f is missing; run 'make all' first" >&2; exit 1; }
done

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        ss -Htln "sport = :$1" 2>/dev/null | grep -q .
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
if port_in_use "$PORT"; then
    echo "run: port $PORT is already in use on this machine." >&2
    echo "     Stop what listens there, or pick another port: make run PORT=8081" >&2
    exit 1
fi

if [ -f "$OUTDIR/httpd.pid" ] && kill -0 "$(cat "$OUTDIR/httpd.pid")" 2>/dev/null; then
    echo "run: an Apache from $OUTDIR is still running (pid $(cat "$OUTDIR/httpd.pid"))." >&2
    exit 1
fi

# Swift's metadata (xattrs of up to ~15 KiB per object) needs XFS or the like
# (docs/storage-fs.md).
if [ "$STOWAGE_DATA" = "$REPO/var" ] || [ "$STOWAGE_DATA" = "$REPO/var/" ]; then
    STOWAGE_DATA="$REPO/var/data"
    STORAGE="$("$REPO/scripts/storage-fs.sh" ensure "$STOWAGE_DATA")"
    if [ -e "$REPO/var/hash-path-salt.conf" ]; then
        echo "run: note: $REPO/var/ holds data from before var/data (an older layout);" >&2
        echo "     it is not served. Move it away or remove it." >&2
    fi
else
    mkdir -p "$STOWAGE_DATA"
    STORAGE="$(findmnt -n -o FSTYPE -T "$STOWAGE_DATA" | tail -n 1), as it is"
    if ! "$REPO/scripts/storage-fs.sh" probe "$STOWAGE_DATA" >/dev/null; then
        STORAGE="$STORAGE; too small for Swift's object metadata: see docs/storage-fs.md"
    fi
fi

CONF="$("$REPO/scripts/apache-config.sh" "$OUTDIR" "$PORT" "$STOWAGE_DATA" ${EXTRA_CONF:+"$EXTRA_CONF"})"
"$APACHE2" -t -f "$CONF"

URL="http://127.0.0.1:$PORT"
cat <<MSG

Stowage serves $URL  (MPM: ${MPM:-event})
Data: $STOWAGE_DATA  ($STORAGE)
  swift -A $URL/auth/v1.0 -U test:tester -K testing stat
  curl -i -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' $URL/auth/v1.0
  curl -i $URL/info
  curl $URL/debug/anything      # echo of the request as libstowage sees it
Logs: $OUTDIR/error.log  $OUTDIR/access.log   (LOGLEVEL='info stowage:debug' for more)
Config: $CONF
Ctrl-C stops the server.

MSG
# Apache runs in a session of its own: prefork signals its whole process
# group when it stops (killpg), which would otherwise hit make and whatever
# started it. Ctrl-C / SIGTERM / SIGHUP here are passed on as a clean stop.
setsid "$APACHE2" -f "$CONF" -DFOREGROUND </dev/null &
APACHE_PID=$!
stop() { kill -TERM "$APACHE_PID" 2>/dev/null || true; }
trap stop INT TERM HUP
status=0
while kill -0 "$APACHE_PID" 2>/dev/null; do
    wait "$APACHE_PID" && status=0 || status=$?
done
trap - INT TERM HUP
echo "run: Apache stopped"
# The image stays in var/ and is mounted again on the next start.
case "$STORAGE" in
    *", image "*) "$REPO/scripts/storage-fs.sh" release "$STOWAGE_DATA" || true ;;
esac
# 128+n (a signal we forwarded) is a normal stop.
[ "$status" -gt 128 ] && status=0
exit "$status"
