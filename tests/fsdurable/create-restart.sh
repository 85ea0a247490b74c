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

# ops OP N: N creates, mkdirs, links or renames of long names, each its own
# system call (and handle), from one process: under TCG, starting a program
# costs 0.2 s, and 360 of them took most of this test's time.
ops() {
	"$PY" - "$MNT" "$1" "$2" <<'EOF' || fail "$FSTYPE: $2 ${1}s failed"
import os, sys
mnt, op, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Long names: a leaf holds 16, so 120 of them split leaves a dozen times
# (under TCG each restart's commit takes a while: keep it short).
name = 'n' * 240
for i in range(1, n + 1):
    if op == 'create':
        os.close(os.open(f'{mnt}/d/{name}.{i}', os.O_CREAT | os.O_WRONLY, 0o644))
    elif op == 'mkdir':
        os.mkdir(f'{mnt}/e/{name}.{i}')
    elif op == 'link':
        os.link(f'{mnt}/d/{name}.{i}', f'{mnt}/l/{name}.{i}')
    else:
        os.rename(f'{mnt}/d/{name}.{i}', f'{mnt}/r/{name}.{i}')
EOF
}

scenario() {
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT" commit=60
	[ "$FSTYPE" = aiosfs ] && run sh -c "echo 1 >$restart"
	mkdir "$MNT/d" "$MNT/e" "$MNT/l" "$MNT/r"
	ops create 120
	phase "120 creates"
	ops mkdir 60
	phase "60 mkdirs"
	ops link 60
	phase "60 hard links"
	ops rename 60
	phase "60 renames"
	[ "$FSTYPE" = aiosfs ] && echo 0 >$restart
	fs_umount "$MNT"
	fsck_clean "$DEV" "$FSTYPE, after unmount"
}
for_each_fs scenario
