#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Device errors under aiosfs, injected with dm-flakey (through the bio
# fallback): an fsync whose data or journal writes fail returns EIO, never
# success; the journal aborts and the volume follows errors= (remount-ro:
# later changes get EROFS; continue: the volume stays mounted read-write);
# reads that fail return EIO; unmount does not hang; afterwards e2fsck
# only replays the journal, finds the volume clean, and every file synced
# before the errors reads back intact.  The runner fails the test on any
# kernel warning or oops.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

SECTORS=$((256 * 2048))
DM=fsfault
vol=/dev/mapper/$DM
tmp=/tmp/fsfault
mkdir -p $tmp
dev=$(nvme_disk aios0) || exit 1
cleanup() {
	umount "$MNT" 2>/dev/null
	dmsetup remove $DM 2>/dev/null
}
trap cleanup EXIT
cleanup
run modprobe dm-flakey

# flakey up|ewrite|eall: everything passes, every write fails, every I/O fails.
flakey() {
	local t
	case $1 in
	up) t="0 $SECTORS linear $dev 0" ;;
	ewrite) t="0 $SECTORS flakey $dev 0 0 3600 1 error_writes" ;;
	eall) t="0 $SECTORS flakey $dev 0 0 3600" ;;
	esac
	if [ -e $vol ]; then
		# No freeze of the filesystem on it: the errors must meet it live.
		run dmsetup suspend --nolockfs $DM
		run dmsetup load $DM --table "$t"
		run dmsetup resume $DM
	else
		run dmsetup create $DM --table "$t"
		wait_for_dev $vol
	fi
}

# expect ERRNO OP PATH: OP (write-fsync, create, read) fails with ERRNO.
expect() {
	$PY - "$@" <<'PY' || fail "$2 $3: not $1 (above)"
import errno, os, sys
want, op, path = sys.argv[1:]
try:
    if op == "read":
        fd = os.open(path, os.O_RDONLY)
        while os.read(fd, 1 << 20):
            pass
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        if op == "write-fsync":
            os.write(fd, os.urandom(65536))
            os.fsync(fd)
    os.close(fd)
    print("%s %s: succeeded" % (op, path))
    sys.exit(1)
except OSError as e:
    print("%s %s: %s" % (op, path, os.strerror(e.errno)))
    sys.exit(0 if e.errno == getattr(errno, want) else 1)
PY
}

# good N: N files of random data, synced; their sums go to $tmp/sums.
good() {
	local i
	for i in $(seq "$1"); do
		head -c $((i * 12288)) /dev/urandom >"$MNT/good$i"
	done
	run sync
	(cd "$MNT" && sha256sum good*) >$tmp/sums
}

# after WHAT: the device back, unmount, e2fsck replays and then finds the
# volume clean, and the synced files are intact.
after() {
	flakey up
	timeout 120 umount "$MNT" || fail "$1: umount failed or hung"
	out=$(timeout 300 e2fsck -fy $vol 2>&1)
	rc=$?
	[ $rc -le 1 ] || { echo "$out" | head -n 40; fail "$1: e2fsck -fy exited $rc"; }
	fsck_clean $vol "$1, after e2fsck's recovery"
	fs_mount $vol "$MNT"
	(cd "$MNT" && sha256sum -c --quiet $tmp/sums) || fail "$1: a synced file changed"
}

flakey up
fs_mkfs $vol
fs_mount $vol "$MNT"

echo "== errors=remount-ro (the default): writes fail"
good 20
aborts=$(dmesg | grep -c 'journal aborted')
flakey ewrite
expect EIO write-fsync "$MNT/bad"
[ "$(dmesg | grep -c 'journal aborted')" -gt "$aborts" ] ||
	fail "no 'journal aborted' in the kernel log"
grep -q " $MNT aiosfs ro[, ]" /proc/mounts || fail "not read-only after the journal aborted"
expect EROFS create "$MNT/later"
echo "== reads fail"
flakey eall
run sh -c 'echo 3 >/proc/sys/vm/drop_caches'
expect EIO read "$MNT/good20"
after "errors=remount-ro"

echo "== errors=continue: writes fail"
fs_umount "$MNT"
fs_mount $vol "$MNT" errors=continue
good 10
flakey ewrite
expect EIO write-fsync "$MNT/bad2"
grep -q " $MNT aiosfs rw[, ]" /proc/mounts || fail "errors=continue: no longer mounted read-write"
after "errors=continue"
fs_umount "$MNT"
