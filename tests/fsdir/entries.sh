#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Directory entries and namespace operations through aiosfs, read-write:
# every kind of entry in a small (linear) directory, a directory that grows
# into an htree, an htree made by ext4 worked on by aiosfs, and rename
# cases.  Afterwards e2fsck must find the filesystem clean and ext4 must
# see the tree aiosfs saw.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"
OPS=$AIOS_ROOT/tests/fsdir/fsdir.py

dev=$(test_disk)
fs_test_init /tmp/fsdir.mnt

# check WHAT: unmount aiosfs, fsck, and compare the ext4 view with aiosfs's.
check() {
	$PY $OPS record $mnt >/tmp/aiosfs.json || fail "$1: recording the aiosfs view failed"
	run umount $mnt
	e2fsck -fn "$dev" >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; fail "$1: e2fsck found errors"; }
	run mount -t ext4 -o ro "$dev" $mnt
	$PY $OPS record $mnt >/tmp/ext4.json || fail "$1: recording the ext4 view failed"
	run umount $mnt
	$PY $OPS compare /tmp/aiosfs.json /tmp/ext4.json || fail "$1: ext4 sees another tree"
}

# The htree is built by ext4 first (it takes a while under TCG).
run mkfs.ext4 -q -F "$dev"
run mount -t ext4 "$dev" $mnt
run $PY $OPS htree-prep $mnt
run umount $mnt
run e2fsck -fn "$dev"

aios_load
klog_mark
run mount -t aiosfs "$dev" $mnt
grep -q " $mnt aiosfs rw" /proc/mounts || skip "aiosfs does not mount read-write yet"
run $PY $OPS linear $mnt
run $PY $OPS convert $mnt
check "linear and converted directories"

run mount -t aiosfs "$dev" $mnt
run $PY $OPS htree $mnt
check "htree"

run mount -t aiosfs "$dev" $mnt
run $PY $OPS rename $mnt
# A cold cache: everything read back from disk through aiosfs.
run umount $mnt
run mount -t aiosfs "$dev" $mnt
check "renames"

aios_unload
klog_since | grep -E "aiosfs.*\((nvme|loop|aiosnvme)" && fail "aiosfs complained"
exit 0
