#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Journals that aiosfs reads but will not write: a read-write mount of each
# is refused with a kernel log line naming why, the read-only mount still
# works, and nothing on the volume changes; ext4 answers the same
# read-write mount beside it.  Where ext4 mounts and aiosfs refuses, the
# case says why aiosfs does not follow.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(test_disk)
fs_test_init /tmp/fsread.mnt
aios_load

fresh() {
	run mkfs.ext4 -q -F -T default "$dev" 64M
	echo hello >/tmp/jw-hello
	run debugfs -w -R "write /tmp/jw-hello hello" "$dev"
}

# refused NAME REGEX EXT4: aiosfs refuses rw with a line matching REGEX,
# mounts ro and reads, and leaves the device as it was; then ext4's rw
# mount must succeed (EXT4=mounts) or fail (EXT4=refuses).
refused() {
	local before after
	before=$(dd if="$dev" bs=1M count=64 iflag=direct status=none | md5sum)
	klog_mark
	mount -t aiosfs -o rw "$dev" $mnt 2>/tmp/jw-mount && {
		umount $mnt
		fail "$1: aiosfs mounted read-write"
	}
	expect_klog "$2" "$1"
	echo "ok: $1: $(klog_since | grep -E "$2" | head -1 | sed 's/^\[[^]]*\] //')"
	run mount -t aiosfs -o ro "$dev" $mnt
	assert_eq hello "$(cat $mnt/hello)" "$1: a read through the read-only mount"
	run umount $mnt
	after=$(dd if="$dev" bs=1M count=64 iflag=direct status=none | md5sum)
	assert_eq "$before" "$after" "$1: the device after aiosfs's mounts"
	if mount -t ext4 -o rw "$dev" $mnt 2>/dev/null; then
		umount $mnt
		echo "ext4: $1: mounts read-write"
		[ "$3" = mounts ] || fail "$1: ext4 mounts read-write, the test expected it to refuse"
	else
		echo "ext4: $1: refuses: $(dmesg | grep -E 'EXT4-fs|JBD2' | tail -n1 | sed 's/^\[[^]]*\] //')"
		[ "$3" = refuses ] || fail "$1: ext4 refuses, the test expected it to mount"
	fi
}

# A v1 journal superblock (h_blocktype 3) has no feature fields, so no
# 64bit or csum_v3 for its tags: aiosfs writes only v2.  jbd2 takes v1,
# but ext4 then cannot set the checksum features metadata_csum needs.
fresh
jpatch "$(journal_pblk 0)" 4 00000003 jsb
refused "v1 journal superblock" "an old \(v1\) journal superblock" refuses

# Asynchronous commits (incompat 0x4): jbd2 writes them, aiosfs's commit
# path does not, and writing a log whose commits another writer reads
# differently would risk replaying half a transaction.
fresh
jpatch "$(journal_pblk 0)" $((0x28)) 00000004 jsb or
refused "async_commit journal" "journal features 0x[0-9a-f]+/0x[0-9a-f]+: aiosfs writes only" mounts

# A log that is not empty while the superblock says nothing needs
# recovery: ext4 throws the log away, aiosfs asks for e2fsck rather than
# guess which of the two is stale.
fresh
# s_start := s_first, the journal superblock's big-endian word at 0x14.
jsb=$(journal_pblk 0)
first=$(dd if="$dev" bs=4096 skip="$jsb" count=1 iflag=direct status=none |
	od -An -tx1 -j20 -N4 | tr -d ' \n')
[ -n "$first" ] && [ "$first" != 00000000 ] || fail "no first block in the journal superblock"
jpatch "$jsb" $((0x1c)) "$first" jsb
refused "non-empty log, needs_recovery clear" "the journal is not empty but needs_recovery is clear" mounts

# The journal in another inode (an old tune2fs -j of a mounted volume
# made a visible .journal file): ext4 takes any journal inode, aiosfs only
# the reserved inode 8, which no user can open or unlink.
fresh
run debugfs -w -R "copy_inode <8> <13>" "$dev"
run debugfs -w -R "ssv journal_inum 13" "$dev"
refused "journal in inode 13" "the journal is not inode 8 \(it is 13\)" mounts

aios_unload
exit 0
