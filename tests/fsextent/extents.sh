#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Extent trees changed by aiosfs: files with thousands of extents, punched
# holes, truncates to many sizes, appends and unwritten extents, checked
# against a model after every phase, again from disk (drop_caches, a new
# mount), by e2fsck -fn, and through ext4.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

EXT=$AIOS_ROOT/tests/fsextent/extents.py
model=/tmp/fsextent.model
dev=$(test_disk)
fs_test_init /tmp/fsextent.mnt
run mkfs.ext4 -q -F "$dev"
aios_load
klog_mark
mount -t aiosfs "$dev" $mnt || { klog_since; skip "no read-write aiosfs mount yet"; }
$PY "$EXT" ops $mnt $model || { klog_since; fail "operations on aiosfs failed"; }
run filefrag $mnt/sparse $mnt/appends $mnt/prealloc
sync
echo 3 >/proc/sys/vm/drop_caches
$PY "$EXT" verify $mnt $model || fail "contents differ after drop_caches"
run umount $mnt
run mount -t aiosfs "$dev" $mnt
$PY "$EXT" verify $mnt $model || fail "contents differ after a new mount"
run umount $mnt
run e2fsck -fn "$dev"
run mount -t ext4 -o ro "$dev" $mnt
$PY "$EXT" verify $mnt $model || fail "ext4 reads other contents"
run umount $mnt
aios_unload
exit 0
