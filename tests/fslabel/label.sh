#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# LSM labels of new inodes, as ext4 writes them.  With an SELinux policy
# that uses xattrs on both filesystems (label.cil), every inode aiosfs
# creates (file, directory, symlink, FIFO, device node, O_TMPFILE) must get
# the security.selinux xattr the policy computes, in the create's own
# transaction: from the parent's type, or from a type_transition rule.  The
# same steps run on ext4, and the bytes on disk (debugfs) must be the same;
# after a remount and through the other filesystem the labels read back the
# same; e2fsck is clean.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
DEV=$(nvme_disk aios0)
OUT=/tmp/label
SEL=/sys/fs/selinux
mkdir -p $OUT
trap 'umount $MNT 2>/dev/null' EXIT

# The policy, compiled here (secilc writes into the directory it runs in)
# and loaded through selinuxfs; the guest stays permissive.
load_policy() {
	mountpoint -q /sys/kernel/security || run mount -t securityfs none /sys/kernel/security
	grep -qw selinux /sys/kernel/security/lsm ||
		fail "SELinux is not active (lsm=$(cat /sys/kernel/security/lsm))"
	mountpoint -q $SEL || run mount -t selinuxfs none $SEL
	run secilc -U allow -M false -o $OUT/policy -f $OUT/file_contexts \
		"$AIOS_ROOT/tests/fslabel/label.cil"
	cat $OUT/policy >$SEL/load || fail "loading the policy failed"
	assert_eq 0 "$(cat $SEL/enforce)" "enforce after the load"
	assert_eq lab_u:lab_r:lab_t "$(tr -d '\0' </proc/self/attr/current)" "this shell's context"
}

# label_of PATH: the context SELinux holds for PATH (read from the xattr
# when the inode was loaded).
label_of() {
	getfattr -h --absolute-names --only-values -n security.selinux "$1" 2>&1 | tr -d '\0'
}

# ondisk: each inode's security.selinux as debugfs reads it off the
# unmounted volume (its bytes, with the NUL SELinux stores).
ondisk() {
	local p
	for p in / f h d l p c d/g d/e d/e/x t; do
		printf '%s ' "$p"
		debugfs -R "ea_get -x /${p#/} security.selinux" "$DEV" 2>&1 | grep -v -e "^debugfs " -e "^$"
	done
}

# labels DIR: each path and the label SELinux reads for it.
labels() {
	(cd "$1" && find . | sort | while read -r p; do echo "$p $(label_of "$p")"; done)
}

expect_label() {
	assert_eq "lab_u:object_r:$2" "$(label_of "$MNT/$1")" "$FSTYPE: label of $1"
}

scenario() {
	local m=$MNT
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$m"
	echo a >"$m/f"
	ln "$m/f" "$m/h"
	mkdir "$m/d"
	ln -s f "$m/l"
	mkfifo "$m/p"
	mknod "$m/c" c 1 3
	# In a directory of type lab_dir_t, the rule makes regular files
	# lab_new_t; a directory keeps its parent's type.
	run setfattr -h -n security.selinux -v lab_u:object_r:lab_dir_t "$m/d"
	echo b >"$m/d/g"
	mkdir "$m/d/e"
	echo c >"$m/d/e/x"
	# An O_TMPFILE inode is labelled at its creation, then linked.
	run $PY -c 'import os, sys
fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600)
os.write(fd, b"tmp")
sys.exit(os.system("ln -L /proc/%d/fd/%d %s" % (os.getpid(), fd, sys.argv[2])))' "$m" "$m/t"
	expect_label f lab_t
	expect_label l lab_t
	expect_label p lab_t
	expect_label c lab_t
	expect_label t lab_t
	expect_label d lab_dir_t
	expect_label d/g lab_new_t
	expect_label d/e lab_dir_t
	expect_label d/e/x lab_new_t
	labels "$m" >"$OUT/$FSTYPE.wrote"
	fs_umount "$m"
	fsck_clean "$DEV" "$FSTYPE, after the labels"
	ondisk >"$OUT/$FSTYPE.ondisk"
	cat "$OUT/$FSTYPE.ondisk"
	# With fresh inodes, whose labels come from the disk.
	read_by_both "$DEV" "$m" "$OUT/$FSTYPE.wrote" labels labels
}

load_policy
for_each_fs scenario
diff -u "$OUT/ext4.ondisk" "$OUT/aiosfs.ondisk" || fail "aiosfs's labels on disk differ from ext4's"
diff -u "$OUT/ext4.wrote" "$OUT/aiosfs.wrote" || fail "aiosfs's labels differ from ext4's"
echo "ok: new inodes labelled as on ext4 ($(wc -l <"$OUT/aiosfs.wrote") paths)"
