#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fsync of an inode whose last change was made before it left the inode
# cache (xfstests generic/106): unlink one of two hard links, drop the
# caches (the other name's inode is evicted and read again), fsync the
# other name.  The unlink changed that inode's link count, so the fsync
# must make it durable: the crash copy has one name with one link, as on
# ext4.  An inode read from disk cannot know which transaction last
# changed it, so it must count on the running one.  Before, aiosfs took it
# for unchanged and committed nothing: the crash copy had both names.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT $FSD_TMP/c 2>/dev/null' EXIT
mkdir -p "$FSD_TMP/c"

scenario() {
	local how names links mode
	for how in fsync fdatasync chmod; do
		fs_mkfs "$DEV" 256M
		fs_mount "$DEV" "$MNT" commit=60
		mkdir "$MNT/d"
		: >"$MNT/d/foo"
		ln "$MNT/d/foo" "$MNT/d/bar"
		sync
		if [ $how = chmod ]; then
			chmod 600 "$MNT/d/foo"
		else
			rm "$MNT/d/bar"
		fi
		# Inodes and dentries only, and no sync (drop_caches syncs).
		echo 2 >/proc/sys/vm/drop_caches
		$PY -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY)
(os.fdatasync if sys.argv[2] == "fdatasync" else os.fsync)(fd)' "$MNT/d/foo" $how ||
			fail "$FSTYPE: $how of foo failed"
		crash_copy 256
		fs_umount "$MNT"
		fs_mount "$COPY" "$FSD_TMP/c"
		names=$(ls "$FSD_TMP/c/d" | xargs)
		links=$(stat -c %h "$FSD_TMP/c/d/foo")
		mode=$(stat -c %a "$FSD_TMP/c/d/foo")
		fs_umount "$FSD_TMP/c"
		echo "$FSTYPE, $how: names '$names', foo has $links links, mode $mode"
		if [ $how = chmod ]; then
			assert_eq 600 "$mode" "$FSTYPE: foo's mode after chmod, eviction and fsync"
			continue
		fi
		# fdatasync need not keep a link count (ext4's does, as it commits it all).
		[ $how = fdatasync ] && continue
		assert_eq foo "$names" "$FSTYPE: names left after unlink, eviction and fsync"
		assert_eq 1 "$links" "$FSTYPE: foo's links after unlink, eviction and fsync"
	done
}

for_each_fs scenario
