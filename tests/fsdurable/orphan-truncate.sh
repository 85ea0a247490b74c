#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A file unlinked while open stays on the orphan list until its last close,
# also when it is truncated meanwhile: after a crash, recovery (e2fsck's,
# or the filesystem's own at mount) frees it, and nothing else needs fixing.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT 2>/dev/null' EXIT

scenario() {
	local free
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT"
	$PY - "$MNT" "$DEV" "$COPY" <<'PY' || fail "$FSTYPE: the workload failed"
import os, subprocess, sys
mnt, dev, copy = sys.argv[1:]
fds = []
for i, size in enumerate((0, 100, 4096 * 3 + 5)):
    fd = os.open(f"{mnt}/o{i}", os.O_CREAT | os.O_RDWR, 0o644)
    os.write(fd, b"x" * (1 << 20))
    os.fsync(fd)
    os.unlink(f"{mnt}/o{i}")
    os.ftruncate(fd, size)
    fds.append(fd)
os.sync()
# The crash: the files are still open.
subprocess.run(["dd", f"if={dev}", f"of={copy}", "iflag=direct", "oflag=direct",
                "bs=4M", "count=64", "status=none"], check=True)
PY
	fs_umount "$MNT"
	fsck_clean "$DEV" "$FSTYPE, after the last close and unmount"
	run dd if="$COPY" of="$FSD_TMP/crash.img" bs=4M count=64 iflag=direct status=none
	fsck_recovers "$COPY"
	echo "$FSCK_OUT" | grep -c 'Clearing orphaned inode' | grep -qx 3 ||
		{ echo "$FSCK_OUT"; fail "$FSTYPE: e2fsck did not free the three orphans"; }
	# The filesystem's own recovery of the same crash.
	run dd if="$FSD_TMP/crash.img" of="$COPY" bs=4M oflag=direct status=none
	rm -f "$FSD_TMP/crash.img"
	fs_mount "$COPY" "$MNT"
	free=$(stat -f -c %f "$MNT")
	fs_umount "$MNT"
	fsck_clean "$COPY" "$FSTYPE, after its own recovery of the crash copy"
	echo "$FSTYPE: $free free blocks after recovery"
}
for_each_fs scenario
