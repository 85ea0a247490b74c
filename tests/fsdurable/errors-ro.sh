#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# errors=remount-ro: at the first error the filesystem stops committing
# (what its running transaction holds may be half an operation), its
# superblock says "errors" on the device at once, fsync fails from then on
# (EIO; ext4 of 6.1 says EROFS), and remount,rw does not make it writable
# again: only e2fsck does.  (ext4 of 6.12 also fails reads then.)  The
# error: a directory block damaged on the device behind the filesystem's
# back, found when the directory is read.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT 2>/dev/null' EXIT

# on_disk_state DEV: s_state of the superblock as the device holds it.
on_disk_state() {
	dd if="$1" iflag=direct bs=4096 count=1 status=none | od -An -tu2 -j $((1024 + 58)) -N2 |
		tr -d ' '
}

scenario() {
	local blk state
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT"
	mkdir "$MNT/d"
	for i in $(seq 40); do echo "$i" >"$MNT/d/file-$i"; done
	echo kept >"$MNT/kept"
	fs_umount "$MNT"
	blk=$(debugfs -R "bmap /d 0" "$DEV" 2>/dev/null)
	[ -n "$blk" ] || fail "no block for /d"
	# Damage entries in the middle of the block: its checksum no longer matches.
	printf 'garbage!%.0s' {1..16} | dd of="$DEV" bs=1 seek=$((blk * 4096 + 1024)) conv=notrunc,fsync \
		status=none
	fs_mount "$DEV" "$MNT" errors=remount-ro,commit=60
	$PY - "$MNT" <<'PY' || fail "$FSTYPE: the workload failed"
import errno, os, sys
mnt = sys.argv[1]
fd = os.open(f"{mnt}/kept", os.O_WRONLY | os.O_APPEND)
os.write(fd, b"more\n")
os.mkdir(f"{mnt}/uncommitted")
try:
    os.listdir(f"{mnt}/d")
    print("listing the damaged directory did not fail")
except OSError as e:
    print("listing the damaged directory:", errno.errorcode[e.errno])
try:
    os.fsync(fd)
    sys.exit("fsync after the error succeeded")
except OSError as e:
    print("fsync after the error:", errno.errorcode[e.errno])
    # ext4 of 6.1 says EROFS, of 6.12 EIO.
    if e.errno not in (errno.EIO, errno.EROFS):
        sys.exit("fsync failed with %s, not EIO" % errno.errorcode[e.errno])
try:
    os.mkdir(f"{mnt}/after")
    sys.exit("mkdir after the error succeeded")
except OSError as e:
    print("mkdir after the error:", errno.errorcode[e.errno])
PY
	# ext4 of 6.12 stops writing but /proc/mounts still says rw: only
	# what a program sees is compared.
	grep " $MNT " /proc/mounts
	state=$(on_disk_state "$DEV")
	echo "$FSTYPE: on-disk s_state $state while still mounted"
	[ $((state & 2)) = 2 ] || fail "$FSTYPE: the superblock on the device does not say errors"
	mount -o remount,rw "$MNT" 2>/dev/null && echo "$FSTYPE: remount,rw did not fail"
	mkdir "$MNT/after-remount" 2>/dev/null && fail "$FSTYPE: writable again after remount,rw"
	echo "$FSTYPE: still not writable after remount,rw"
	run umount "$MNT"
	# e2fsck mends the damaged block; then the volume is whole and writable.
	timeout 300 e2fsck -fy "$DEV" >/dev/null 2>&1
	[ $? -le 1 ] || fail "$FSTYPE: e2fsck -fy could not repair the volume"
	fsck_clean "$DEV" "$FSTYPE, after e2fsck -fy"
	fs_mount "$DEV" "$MNT"
	[ -e "$MNT/uncommitted" ] && echo "$FSTYPE: the directory made before the error survived"
	mkdir "$MNT/again" || fail "$FSTYPE: not writable after e2fsck"
	fs_umount "$MNT"
}
for_each_fs scenario
