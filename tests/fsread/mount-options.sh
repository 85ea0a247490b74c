#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unknown options, bad values and non-ext4 devices are refused with a clear
# log line; noload only goes with read-only; read-only mounts work, and a
# read-only remount of a read-write mount leaves the volume clean.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(test_disk)
fs_test_init /tmp/fsread.mnt
aios_load

# Not a filesystem at all.
run dd if=/dev/zero of="$dev" bs=1M count=4 status=none
klog_mark
mount -t aiosfs -o ro "$dev" $mnt 2>/dev/null && fail "mounted a zeroed device"
expect_klog "aiosfs: \(nvme0n1\): bad magic 0x0000" "zeroed device"

run mkfs.ext4 -q -F "$dev"
klog_mark
mount -t aiosfs -o ro,bogus_option "$dev" $mnt 2>/dev/null && fail "unknown option accepted"
expect_klog "bogus_option" "unknown option"
klog_mark
mount -t aiosfs -o errors=sometimes "$dev" $mnt 2>/dev/null && fail "errors=sometimes accepted"
expect_klog "errors" "bad errors= value"
klog_mark
mount -w -t aiosfs -o noload "$dev" $mnt 2>/dev/null && fail "rw mount with noload accepted"
expect_klog "aiosfs: .*noload needs a read-only mount" "rw noload"

run mount -t aiosfs -o errors=continue,commit=2 "$dev" $mnt
run mount -o remount,ro $mnt
touch $mnt/x 2>/dev/null && fail "created a file on a read-only remount"
run umount $mnt
run e2fsck -fn "$dev"

run mount -t aiosfs -o ro "$dev" $mnt
touch $mnt/x 2>/dev/null && fail "created a file on a read-only mount"
run mount -o remount,ro $mnt
run ls -la $mnt
assert_eq "lost+found" "$(ls $mnt)" "root directory of a fresh filesystem"
run stat $mnt/lost+found
run df $mnt
run umount $mnt
aios_unload
exit 0
