#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# POSIX ACLs, as ext4 has them (mke2fs makes acl a default mount option):
# access checks follow the ACL, not only the mode; default ACLs are
# inherited; chmod moves the mask; without a default ACL the umask still
# applies; noacl refuses them; and what one of ext4 and aiosfs writes, the
# other reads back the same.  Each step runs on ext4 too, and getfacl's
# output must be the same on both.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
DEV=$(nvme_disk aios0)
OUT=/tmp/acl
mkdir -p $OUT
trap 'umount $MNT 2>/dev/null' EXIT

# as UID GID CMD...: runs CMD with those ids and no other groups.
as() {
	local uid=$1 gid=$2
	shift 2
	setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
}

denied() { ! as "$@" 2>/dev/null; }

# acls DIR: getfacl of everything under DIR, in name order.
acls() {
	(cd "$1" && find . | sort | xargs getfacl -n 2>/dev/null)
}

scenario() {
	local m=$MNT
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$m"
	grep -q " $m $FSTYPE .*[, ]noacl" /proc/mounts && fail "$FSTYPE: acl is not on by default"
	chmod 0755 "$m"
	# The owning group's entry denies what the mode's group bits (the mask) allow.
	echo data >"$m/f"
	chown 0:1000 "$m/f"
	run setfacl -m u::rw,g::r,m::rw,o::- "$m/f"
	assert_eq 660 "$(stat -c %a "$m/f")" "$FSTYPE: mode after setfacl"
	denied 1001 1000 sh -c "echo x >>$m/f" || fail "$FSTYPE: the owning group appended against its ACL entry"
	as 1001 1000 cat "$m/f" >/dev/null || fail "$FSTYPE: the owning group cannot read"
	# A named user gets what its entry says, another user nothing.
	run setfacl -m u:1002:rw "$m/f"
	as 1002 1002 sh -c "echo y >>$m/f" || fail "$FSTYPE: the named user cannot append"
	denied 1003 1003 cat "$m/f" || fail "$FSTYPE: a user with no entry could read"
	# chmod moves the mask, which limits the named user.
	run chmod 0640 "$m/f"
	denied 1002 1002 sh -c "echo z >>$m/f" || fail "$FSTYPE: the mask did not follow chmod"
	# Default ACLs are inherited by files and directories.
	mkdir "$m/d"
	run setfacl -d -m u:1002:rwx,g::rx,o::- "$m/d"
	(umask 022 && echo new >"$m/d/new" && mkdir "$m/d/sub")
	as 1002 1002 sh -c "echo w >>$m/d/new" || fail "$FSTYPE: the inherited entry does not work"
	# Without a default ACL, the umask still applies.
	(umask 077 && echo u >"$m/umask" && mkdir "$m/umaskd")
	assert_eq 600:700 "$(stat -c %a "$m/umask"):$(stat -c %a "$m/umaskd")" "$FSTYPE: umask with acl on"
	acls "$m" >"$OUT/$FSTYPE.wrote"
	fs_umount "$m"
	fsck_clean "$DEV" "$FSTYPE, after the ACLs"
	read_by_both "$DEV" "$m" "$OUT/$FSTYPE.wrote" ACLs acls
	# noacl: no ACL can be set.  (ext4 of 6.12 no longer takes the option.)
	if [ $FSTYPE = ext4 ] && ! mount -t ext4 -o noacl "$DEV" "$m" 2>/dev/null; then
		echo "ext4 here refuses noacl"
		return
	fi
	mountpoint -q "$m" || fs_mount "$DEV" "$m" noacl
	setfacl -m u:1003:r "$m/f" 2>/dev/null && fail "$FSTYPE: setfacl worked with noacl"
	fs_umount "$m"
}

for_each_fs scenario
diff -u "$OUT/ext4.wrote" "$OUT/aiosfs.wrote" || fail "aiosfs's ACLs differ from ext4's after the same steps"
echo "ok: ACLs enforced, inherited and read back alike on ext4 and aiosfs"
