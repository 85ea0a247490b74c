#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A create in an indexed directory whose leaf must split may need more
# journal credits than its handle holds, and the handle then restarts:
# what it did so far commits alone.  That must never be a new inode
# without its name (e2fsck would attach it to lost+found).  aiosfs's
# fault_journal_restart makes every such top-up restart; ext4 reserves the
# worst case up front and runs the same workload as the reference.  Crash
# copies come after runs of creates, mkdirs, links and renames, before any
# other commit (commit=60): the last restart's commit is the newest there.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
restart=/sys/module/aios/parameters/fault_journal_restart
trap 'umount $MNT 2>/dev/null; [ -w $restart ] && echo 0 >$restart' EXIT

# phase WHAT: crash copy after WHAT; the copy must need only recovery.
phase() {
	echo "-- $FSTYPE: $1"
	crash_copy 256
}

scenario() {
	local i name
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT" commit=60
	[ "$FSTYPE" = aiosfs ] && run sh -c "echo 1 >$restart"
	mkdir "$MNT/d" "$MNT/e" "$MNT/l" "$MNT/r"
	# Long names: a leaf holds 16, so 120 of them split leaves a dozen
	# times (under TCG each restart's commit takes a while: keep it short).
	name=$(printf 'n%.0s' {1..240})
	for i in $(seq 120); do
		: >"$MNT/d/$name.$i"
	done
	phase "120 creates"
	for i in $(seq 60); do
		mkdir "$MNT/e/$name.$i"
	done
	phase "60 mkdirs"
	for i in $(seq 60); do
		ln "$MNT/d/$name.$i" "$MNT/l/$name.$i"
	done
	phase "60 hard links"
	for i in $(seq 60); do
		mv "$MNT/d/$name.$i" "$MNT/r/$name.$i"
	done
	phase "60 renames"
	[ "$FSTYPE" = aiosfs ] && echo 0 >$restart
	fs_umount "$MNT"
	fsck_clean "$DEV" "$FSTYPE, after unmount"
}
for_each_fs scenario
