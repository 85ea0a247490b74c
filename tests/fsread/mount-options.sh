#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Read-write mounts and remounts are refused with a clear log line; unknown
# options and non-ext4 devices too; a read-only mount then works.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(nvme_dev)
mnt=/tmp/fsread.mnt
mkdir -p $mnt
trap "umount $mnt 2>/dev/null" EXIT
aios_load

# Not a filesystem at all.
run dd if=/dev/zero of="$dev" bs=1M count=4 status=none
klog_mark
mount -t aiosfs -o ro "$dev" $mnt 2>/dev/null && fail "mounted a zeroed device"
expect_klog "aiosfs: \(nvme0n1\): bad magic 0x0000" "zeroed device"

run mkfs.ext4 -q -F "$dev"
klog_mark
# -w: no fallback to read-only in mount(8).
mount -w -t aiosfs "$dev" $mnt 2>/dev/null && fail "read-write mount succeeded"
expect_klog "aiosfs: .*read-write mounts are not supported yet" "rw mount"
klog_mark
mount -t aiosfs -o ro,bogus_option "$dev" $mnt 2>/dev/null && fail "unknown option accepted"
expect_klog "bogus_option" "unknown option"

run mount -t aiosfs -o ro "$dev" $mnt
klog_mark
mount -o remount,rw $mnt 2>/dev/null && fail "remount rw succeeded"
expect_klog "aiosfs: .*remounting read-write is not supported yet" "remount rw"
touch $mnt/x 2>/dev/null && fail "created a file on a read-only mount"
run mount -o remount,ro $mnt
run ls -la $mnt
assert_eq "lost+found" "$(ls $mnt)" "root directory of a fresh filesystem"
run stat $mnt/lost+found
run df $mnt
run umount $mnt
aios_unload
exit 0
