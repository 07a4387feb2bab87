#!/usr/bin/env bash
# Make sure a storage directory sits on a filesystem with room for Swift's
# full object metadata (docs/storage-fs.md).
#
#   scripts/storage-fs.sh probe DIR           exit 0 if DIR's filesystem holds it, 1 if too small
#   scripts/storage-fs.sh ensure DIR [SIZE]   DIR holds it afterwards (see below)
#   scripts/storage-fs.sh release DIR [--delete-image]
#   scripts/storage-fs.sh reap BASE           release and delete BASE/run-PID images
#                                             whose PID is gone (test runs killed
#                                             before their cleanup)
#
# Swift keeps an object's metadata as a pickled dict in the
# user.swift.metadata* extended attributes of its .data file, in chunks of up
# to 64 KiB. At Swift's metadata limits that pickle is 11-15 KiB; ext4 without
# ea_inode holds about 4 KiB of xattrs per inode (Swift answers 507 beyond).
# The probe writes a Swift-style 64 KiB user.swift.metadata chunk plus its
# user.swift.metadata_checksum on a temp file in DIR.
#
# ensure: if DIR's filesystem passes the probe, DIR is used as it is.
# Otherwise (as root) an XFS image DIR.img (sparse, SIZE bytes, e.g. 64G;
# default: the free space of DIR's parent filesystem, at most 1T) is made
# once, and loop-mounted on DIR; an image already there is mounted again with
# its data. DIR must then be empty (a DIR holding files is never mounted
# over). Already mounted from DIR.img: nothing to do.
# On success stdout is one line for a banner: "xfs, image /path/DIR.img" or
# "ext4 (as it is)"; messages go to stderr.
#
# release: unmount DIR if it is mounted from DIR.img (the image stays, so the
# data survives, unless --delete-image). Anything else is left alone.
#
#   STORAGE_FS_TYPE=ext4   make the image ext4 with ea_inode instead of XFS
set -euo pipefail

PROG="storage-fs"
MAX_DEFAULT_SIZE=$((1 << 40))  # 1 TiB
MIN_SIZE=$((512 << 20))        # XFS wants at least 300 MiB; keep some room
FS_TYPE="${STORAGE_FS_TYPE:-xfs}"

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }
usage() {
    echo "usage: $0 probe DIR | ensure DIR [SIZE] | release DIR [--delete-image] | reap BASE" >&2
    exit 2
}

abspath() { (cd "$1" && pwd -P); }

# Writes the probe chunks on a temp file in $1. Exit 0 when they fit; else
# exit 1 with the largest single value that did fit (bytes) on stdout.
probe_xattrs() {
    python3 - "$1" <<'PY'
import errno, hashlib, os, sys, tempfile

CHUNK = 65536  # Swift's write_metadata(xattr_size=65536): the largest chunk
fd, path = tempfile.mkstemp(prefix=".storage-fs-probe-", dir=sys.argv[1])
try:
    value = b"\x80\x02}q\x00" + b"m" * (CHUNK - 5)  # pickle-looking bytes
    try:
        os.setxattr(fd, "user.swift.metadata", value)
        os.setxattr(fd, "user.swift.metadata_checksum",
                    hashlib.md5(value).hexdigest().encode())
        ok = os.getxattr(fd, "user.swift.metadata") == value
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.E2BIG, errno.EDQUOT,
                           errno.ENOTSUP, errno.ERANGE):
            raise
        ok = False
    if ok:
        sys.exit(0)
    # How much did fit? (for the message)
    for name in os.listxattr(fd):
        if name.startswith("user.swift."):
            os.removexattr(fd, name)
    lo, hi = 0, CHUNK
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            os.setxattr(fd, "user.swift.metadata", b"m" * mid)
            lo = mid
        except OSError:
            hi = mid - 1
    print(lo)
    sys.exit(1)
finally:
    os.close(fd)
    os.unlink(path)
PY
}

# "TYPE" of the filesystem holding $1.
fs_type_of() { findmnt -n -o FSTYPE -T "$1" | tail -n 1; }  # the top one of stacked mounts

# The backing file of the loop device mounted on $1 (nothing if $1 is not a
# loop mount point).
loop_backing_file() {
    local src
    src="$(findmnt -n -o SOURCE --mountpoint "$1" 2>/dev/null || true)"
    case "$src" in
        /dev/loop*) losetup -n -O BACK-FILE "$src" 2>/dev/null | sed 's/ *$//' ;;
    esac
}

# True if $1 is mounted from its own image $1.img.
is_ours() {
    local back
    back="$(loop_backing_file "$1")"
    [ -n "$back" ] && [ "$back" = "$(realpath -m "$1.img")" ]
}

default_size() {
    local free
    free=$(( $(stat -f -c '%a * %S' "$1") ))
    [ "$free" -gt "$MAX_DEFAULT_SIZE" ] && free=$MAX_DEFAULT_SIZE
    echo $(( free / (1 << 30) * (1 << 30) ))
}

cmd_probe() {
    local dir="$1" fit
    [ -d "$dir" ] || die "$dir is not a directory"
    if fit="$(probe_xattrs "$dir")"; then
        echo "$dir: $(fs_type_of "$dir") holds Swift's full metadata (a 64 KiB user.swift.metadata xattr)"
        return 0
    fi
    echo "$dir: $(fs_type_of "$dir") is too small for Swift's metadata: one xattr holds at most" \
         "$fit bytes; Swift's metadata limits need 11-15 KiB (probe: 64 KiB)"
    return 1
}

make_image() {
    local image="$1" size="$2"
    case "$FS_TYPE" in
        xfs)
            command -v mkfs.xfs >/dev/null 2>&1 ||
                die "mkfs.xfs is missing: install xfsprogs (scripts/deps.sh does)" ;;
        ext4)
            command -v mkfs.ext4 >/dev/null 2>&1 ||
                die "mkfs.ext4 is missing: install e2fsprogs (scripts/deps.sh does)" ;;
        *) die "STORAGE_FS_TYPE must be xfs or ext4, not '$FS_TYPE'" ;;
    esac
    [ "$size" -ge "$MIN_SIZE" ] ||
        die "not enough room for an image next to it ($size bytes; at least $MIN_SIZE needed)"
    # The image holds every byte of the root, keys included: root's alone.
    (umask 077 && truncate -s "$size" "$image.new")
    local made=0
    if [ "$FS_TYPE" = xfs ]; then
        mkfs.xfs -q "$image.new" >&2 && made=1
    else
        # -m 0: Apache's www-data workers get every block; no lazy init so
        # the image does not keep writing in the background after mkfs.
        mkfs.ext4 -q -F -m 0 -O ea_inode -E lazy_itable_init=0,lazy_journal_init=0 \
            "$image.new" >&2 && made=1
    fi
    if [ "$made" != 1 ]; then
        rm -f "$image.new"
        die "mkfs.$FS_TYPE failed on $image.new"
    fi
    mv "$image.new" "$image"
}

cmd_ensure() {
    local dir="$1" size="${2:-}" parent image type
    [ -e "$dir" ] && [ ! -d "$dir" ] && die "$dir exists and is not a directory"
    mkdir -p "$dir"
    dir="$(abspath "$dir")"
    image="$dir.img"
    if is_ours "$dir"; then
        echo "$(fs_type_of "$dir"), image $image"
        return 0
    fi
    if probe_xattrs "$dir" >/dev/null; then
        echo "$(fs_type_of "$dir") (as it is)"
        return 0
    fi
    parent="$(dirname "$dir")"
    if [ "$(id -u)" != 0 ]; then
        say "$dir is on $(fs_type_of "$dir"), which cannot hold Swift's object metadata"
        say "(xattrs of 11-15 KiB per object). Either run this as root (sudo) so that an"
        say "XFS image $image is made and loop-mounted there, or point the storage"
        say "root at an XFS filesystem (e.g. STOWAGE_DATA=/srv/node/xfs make run)."
        exit 1
    fi
    # One ensure at a time per parent directory (two test runs starting
    # together, a `make run` next to them).
    exec 9<"$parent"
    flock 9
    if is_ours "$dir"; then
        echo "$(fs_type_of "$dir"), image $image"
        return 0
    fi
    if [ -n "$(ls -A "$dir")" ]; then
        say "$dir is not empty and is on $(fs_type_of "$dir"), which cannot hold Swift's"
        say "object metadata (xattrs of 11-15 KiB per object). Nothing was changed."
        say "Move its content away (it then goes onto an XFS image $image),"
        say "or point the storage root at an XFS filesystem."
        exit 1
    fi
    if [ ! -e "$image" ]; then
        [ -n "$size" ] || size="$(default_size "$parent")"
        size="$(numfmt --from=iec "$size")" || die "SIZE '$2' is not a size (e.g. 64G)"
        say "making a sparse $(numfmt --to=iec "$size") $FS_TYPE image $image"
        make_image "$image" "$size"
    fi
    type="$(blkid -p -o value -s TYPE "$image" 2>/dev/null || true)"
    case "$type" in
        xfs|ext4) ;;
        *) die "$image exists but holds no xfs or ext4 filesystem ('$type'); not mounting it" ;;
    esac
    mount -o loop -t "$type" "$image" "$dir" ||
        die "could not loop-mount $image on $dir (in a container, loop devices may be off limits)"
    if ! probe_xattrs "$dir" >/dev/null; then
        umount "$dir"
        die "$image ($type) still cannot hold Swift's metadata; not using it"
    fi
    echo "$type, image $image"
}

cmd_release() {
    local dir="$1" delete="${2:-}" image
    [ -z "$delete" ] || [ "$delete" = --delete-image ] || usage
    [ -d "$dir" ] || return 0
    dir="$(abspath "$dir")"
    image="$dir.img"
    if is_ours "$dir"; then
        if ! umount "$dir" 2>/dev/null; then
            say "$dir is busy; detaching it lazily (it goes once its last user closes it)"
            umount -l "$dir"
        fi
    fi
    if [ "$delete" = --delete-image ] && [ -f "$image" ]; then
        rm -f "$image"
    fi
}

[ $# -ge 2 ] || usage
# What test runs (tests/e2e, tests/diff: BASE/run-PID) killed before their
# cleanup left behind.
cmd_reap() {
    local left pid
    for left in "$1"/run-*; do
        left="${left%.img}"
        pid="${left##*/run-}"
        [ -e "$left" ] || [ -e "$left.img" ] || continue
        kill -0 "$pid" 2>/dev/null && continue
        cmd_release "$left" --delete-image || true
        rmdir "$left" 2>/dev/null || true
    done
}

case "$1" in
    reap) [ $# -eq 2 ] || usage; cmd_reap "$2" ;;
    probe) [ $# -eq 2 ] || usage; cmd_probe "$2" ;;
    ensure) [ $# -le 3 ] || usage; cmd_ensure "$2" "${3:-}" ;;
    release) [ $# -le 3 ] || usage; cmd_release "$2" "${3:-}" ;;
    *) usage ;;
esac
