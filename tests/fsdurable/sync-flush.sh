#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sync(2) and syncfs(2) end with a cache flush when data was written since
# the last one, even if there is no transaction left to commit: here the
# overwrite's timestamp change was committed by the commit timer before
# its data was written back, so the sync itself writes only data over
# blocks that were already allocated.  Counted in the disk's statistics.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT 2>/dev/null' EXIT

# overwrite_then CMD...: an overwrite whose metadata commits alone, then
# CMD, which must flush the cache at least once.
overwrite_then() {
	local f0 f1
	run dd if=/dev/urandom of="$MNT/f" bs=64k count=16 conv=notrunc status=none
	sleep 3		# commit=1: the timestamp change commits; the data stays dirty
	f0=$(flushes "$DEV")
	run "$@"
	f1=$(flushes "$DEV")
	echo "$FSTYPE: '$*' sent $((f1 - f0)) flushes"
	[ "$f1" -gt "$f0" ] || fail "$FSTYPE: '$*' returned without a cache flush"
}

scenario() {
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT" commit=1
	run dd if=/dev/zero of="$MNT/f" bs=64k count=16 status=none
	run sync
	overwrite_then sync
	overwrite_then sync -f "$MNT"
	fs_umount "$MNT"
}

for_each_fs scenario
