#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fdatasync after writing into preallocated space: the conversion of the
# unwritten extent is in a leaf block below the inode (the 768 MiB of
# preallocation make the tree one level deep), and the inode itself does
# not change, yet the write is only reachable through that conversion.
# After fdatasync returns, a crash copy must read the data back.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT $FSD_TMP/c 2>/dev/null' EXIT
mkdir -p "$FSD_TMP/c"

scenario() {
	fs_mkfs "$DEV" 1G
	fs_mount "$DEV" "$MNT"
	$PY - "$MNT/f" <<'PY' || fail "$FSTYPE: the workload failed"
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
os.posix_fallocate(fd, 0, 768 << 20)
os.fsync(fd)
for i, off in enumerate((512 << 20, 600 << 20)):
    os.pwrite(fd, bytes([0x51 + i]) * 4096, off)
os.fdatasync(fd)
PY
	crash_copy 1024
	fs_umount "$MNT"
	debugfs -R 'stat /f' "$COPY" 2>/dev/null | grep -q ETB0 ||
		fail "$FSTYPE: the extent tree of /f is not one level deep; the test needs it"
	run mount -t ext4 -o ro "$COPY" "$FSD_TMP/c"
	$PY - "$FSD_TMP/c/f" <<'PY' || fail "$FSTYPE lost data written before fdatasync"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
bad = 0
for i, off in enumerate((512 << 20, 600 << 20)):
    got = os.pread(fd, 4096, off)
    if got != bytes([0x51 + i]) * 4096:
        print(f"at {off >> 20} MiB: {got[:8].hex()}... instead of {0x51 + i:02x}s")
        bad += 1
sys.exit(bad)
PY
	run umount "$FSD_TMP/c"
}

for_each_fs scenario
