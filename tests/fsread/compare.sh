#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A tree written by ext4 reads back the same through aiosfs: every path's
# type, mode, owner, size, times, link count, blocks, xattrs, readdir names
# and d_type, contents (read and mmap), and statfs; on nvme.ko (the bio
# fallback) and on aiosnvme (the direct lbio path), each from a fresh
# mount, so cold.  (A third view, after drop_caches within the nvme.ko
# mount, read what the first did, the same way, for 30 s.)
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(test_disk)
fs_test_init /tmp/fsread.mnt
run mkfs.ext4 -q -F "$dev"
run mount -t ext4 "$dev" $mnt
t0=$(date +%s)
run $PY "$TREE" build $mnt
echo "built in $(($(date +%s) - t0)) s"
run umount $mnt
# A fresh mount, so that ext4 reports from disk like aiosfs will.
run mount -t ext4 -o ro "$dev" $mnt
$PY "$TREE" view $mnt >/tmp/ext4.json || fail "recording the ext4 view failed"
run umount $mnt
run e2fsck -fn "$dev"

aios_load
klog_mark
run mount -t aiosfs -o ro "$dev" $mnt
t0=$(date +%s)
$PY "$TREE" view $mnt >/tmp/aiosfs.json || { klog_since; fail "recording the aiosfs view failed"; }
echo "recorded in $(($(date +%s) - t0)) s"
grep -q " $mnt aiosfs ro" /proc/mounts || fail "not mounted read-only as aiosfs"
$PY "$TREE" diff /tmp/ext4.json /tmp/aiosfs.json || fail "aiosfs and ext4 disagree"

run umount $mnt

# The same controller on aiosnvme, where reads take the direct lbio path.
bdf=$(nvme_bdfs | head -n1)
aios_bind "$bdf"
wait_for_dev /dev/aiosnvme0n1
run mount -t aiosfs -o ro /dev/aiosnvme0n1 $mnt
$PY "$TREE" view $mnt >/tmp/aiosfs3.json || fail "recording on aiosnvme failed"
$PY "$TREE" diff /tmp/ext4.json /tmp/aiosfs3.json || fail "aiosfs on aiosnvme disagrees"
run umount $mnt
"$AIOS_ROOT/tools/aios-bind" --reset "$bdf" >/dev/null || fail "giving $bdf back failed"
aios_unload
klog_since | grep -E "aiosfs.*\((nvme|loop|aiosnvme)" && fail "aiosfs complained about a clean filesystem"
exit 0
