#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The journal's life cycle on volumes made by mkfs.ext4: a read-write mount
# sets needs_recovery and a clean unmount clears it; metadata changes
# (chmod, chown, utimes) are logged in jbd2 format, so that e2fsck and
# aiosfs both replay a journal left by a "crash" (a copy of the device taken
# while mounted), and the result is e2fsck-clean with the changes in it.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(test_disk)
copy=/dev/nvme1n1
wait_for_dev $copy || fail "no $copy"
mnt=/tmp/fsj.mnt
img=/tmp/fsj.img
mkdir -p $mnt
trap "umount $mnt 2>/dev/null" EXIT
aios_load

features() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Filesystem features: *//p'; }
# e2fsck_replay WHAT: a fresh copy of the crash image $img on $copy, which
# e2fsck -fy must recover from its journal, fixing nothing worse than what
# recovery itself does (exit 0 or 1).
e2fsck_replay() {
	local rc
	run dd if=$img of=$copy bs=4M oflag=direct status=none
	e2fsck -fy $copy >/tmp/fsj.e2fsck.log 2>&1
	rc=$?
	[ $rc -le 1 ] || { cat /tmp/fsj.e2fsck.log; fail "e2fsck -fy exit $rc on $1"; }
	grep -q 'recovering journal' /tmp/fsj.e2fsck.log ||
		{ cat /tmp/fsj.e2fsck.log; fail "e2fsck did not replay $1"; }
}

run mkfs.ext4 -q -F -b 4096 "$dev" 256M
run mount -t ext4 "$dev" $mnt
for i in $(seq 20); do echo "file $i" > $mnt/f$i; done
mkdir $mnt/d
run umount $mnt

# A clean read-write cycle.
run mount -t aiosfs "$dev" $mnt
features "$dev" | grep -qw needs_recovery || fail "needs_recovery not set while mounted rw"
assert_eq "file 7" "$(cat $mnt/f7)" "read on a rw mount"
run umount $mnt
features "$dev" | grep -qw needs_recovery && fail "needs_recovery left set after umount"
dumpe2fs -h "$dev" 2>/dev/null | grep -q '^Filesystem state: *clean$' || fail "state not clean"
fsck_clean "$dev" "after a clean rw cycle"

# Metadata changes, committed, then a copy of the device as a crash.
run mount -t aiosfs -o commit=60 "$dev" $mnt
mode_of() { echo "$((4 + $1 % 4))$(($1 % 8))$(($1 % 5))"; }
for i in $(seq 20); do chown $i:$((i + 100)) $mnt/f$i; chmod "$(mode_of $i)" $mnt/f$i; done
touch -d '2001-02-03 04:05:06.789' $mnt/d
chmod 0700 $mnt/d
run sync
run dd if="$dev" of=$img bs=4M count=64 iflag=direct status=none
# More changes after the copy, then a clean unmount.
chmod 0644 $mnt/f1
run umount $mnt
fsck_clean "$dev" "after changes and a clean unmount"
assert_eq "644" "$(stat -c %a $(mkdir -p /tmp/e && mount -t ext4 -o ro "$dev" /tmp/e && echo /tmp/e/f1))" "ext4 sees the last chmod"
run umount /tmp/e

features $img | grep -qw needs_recovery || fail "the crash image does not need recovery"
check_replayed() {
	local m=$1 i
	for i in $(seq 20); do
		assert_eq "$(mode_of $i):$i:$((i + 100))" \
			"$(stat -c %a:%u:%g $m/f$i)" "f$i after replay"
	done
	assert_eq "700:2001-02-03 04:05:06.789000000" "$(stat -c '%a:%y' $m/d | sed 's/ +0000$//')" \
		"d after replay"
}

# e2fsck replays our journal ...
e2fsck_replay "the crash image"
fsck_clean $copy "after e2fsck replayed"
run mount -t ext4 -o ro $copy $mnt
check_replayed $mnt
run umount $mnt

# ... and so does aiosfs.
run dd if=$img of=$copy bs=4M oflag=direct status=none
klog_mark
run mount -t aiosfs $copy $mnt
expect_klog "aiosfs: \(nvme1n1\): recovery complete" "aiosfs replay"
check_replayed $mnt
run umount $mnt
fsck_clean $copy "after aiosfs replayed"
rm -f $img

# A small journal (1024 blocks) that many fsyncs wrap around several times,
# with checkpoints on the way: a crash image still replays to every file.
run mkfs.ext4 -q -F -b 4096 -J size=4 "$dev" 256M
run mount -t aiosfs "$dev" $mnt
mkdir $mnt/w
python3 - "$mnt/w" <<'PY' || fail "the fsync loop failed"
import os, sys
d = sys.argv[1]
for i in range(400):
    fd = os.open(f"{d}/f{i}", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, f"file {i}\n".encode() * (i % 7 + 1))
    os.fsync(fd)
    os.close(fd)
    if i % 50 == 49:
        dfd = os.open(d, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
PY
run sync
run dd if="$dev" of=$img bs=4M count=64 iflag=direct status=none
run umount $mnt
fsck_clean "$dev" "after the wrapping workload"
check_wrapped() {
	local i
	assert_eq 400 "$(ls $1 | wc -l)" "files after replay"
	for i in 0 1 77 199 200 398 399; do
		assert_eq "$(python3 -c "print(('file $i\n' * ($i % 7 + 1)), end='')" | sha256sum)" \
			"$(sha256sum < $1/f$i)" "f$i after replay"
	done
}
e2fsck_replay "the wrapped image"
fsck_clean $copy "after e2fsck replayed the wrapped log"
run mount -t ext4 -o ro $copy $mnt
check_wrapped $mnt/w
run umount $mnt
run dd if=$img of=$copy bs=4M oflag=direct status=none
run mount -t aiosfs $copy $mnt
check_wrapped $mnt/w
run umount $mnt
fsck_clean $copy "after aiosfs replayed the wrapped log"
rm -f $img

# Read-only remount and back.
run mount -t aiosfs "$dev" $mnt
run mount -o remount,ro $mnt
features "$dev" | grep -qw needs_recovery && fail "needs_recovery set after remount ro"
touch $mnt/w/f2 2>/dev/null && fail "wrote on a read-only remount"
run mount -o remount,rw $mnt
chmod 0600 $mnt/w/f2
run umount $mnt
fsck_clean "$dev" "after remounts"

# Files unlinked while open are on the orphan list when the "crash" copy is
# taken: the next mount frees their blocks and inodes, whoever mounts it.
run mkfs.ext4 -q -F -b 4096 "$dev" 256M
run mount -t aiosfs "$dev" $mnt
echo kept > $mnt/kept
free0=$(stat -f -c %f $mnt)
for f in o1 o2 o3; do
	run dd if=/dev/urandom of=$mnt/$f bs=1M count=16 conv=fsync status=none
done
exec 3<$mnt/o1 4<$mnt/o2 5<$mnt/o3
rm $mnt/o1 $mnt/o2 $mnt/o3
run sync
assert_eq 3 "$(ls -l /proc/$$/fd | grep -c "$mnt/o.* (deleted)")" "open unlinked files"
run dd if="$dev" of=$img bs=4M count=64 iflag=direct status=none
exec 3<&- 4<&- 5<&-
run umount $mnt
fsck_clean "$dev" "after closing the unlinked files"
run dd if=$img of=$copy bs=4M oflag=direct status=none
check_orphans_freed() {
	local free
	free=$(stat -f -c %f $mnt)
	[ $((free0 - free)) -le 8 ] && [ $((free - free0)) -le 8 ] ||
		fail "$1: $free blocks free after recovery, $free0 before the orphans"
	assert_eq "kept" "$(cat $mnt/kept)" "$1: kept file"
	assert_eq "kept" "$(ls $mnt | grep -v lost+found)" "$1: names"
}
klog_mark
run mount -t aiosfs $copy $mnt
expect_klog "aiosfs \(nvme1n1\): 3 inodes on the orphan list" "aiosfs orphan recovery"
check_orphans_freed aiosfs
run umount $mnt
fsck_clean $copy "after aiosfs freed the orphans"
# ext4 frees them the same way from our journal and orphan chain.
run dd if=$img of=$copy bs=4M oflag=direct status=none
klog_mark
run mount -t ext4 $copy $mnt
expect_klog "EXT4-fs \(nvme1n1\): 3 orphan inodes deleted" "ext4 orphan recovery"
check_orphans_freed ext4
run umount $mnt
fsck_clean $copy "after ext4 freed the orphans"
rm -f $img

# A journaled block that starts with the jbd2 magic, here a slow symlink's
# block, is logged escaped (tag flag 0x1, first word zeroed): replay, by
# e2fsck and by aiosfs, puts the magic back.
run mkfs.ext4 -q -F -b 4096 "$dev" 256M
run mount -t aiosfs -o commit=60 "$dev" $mnt
target="$(printf '\xc0\x3b\x39\x98')$(printf 'x%.0s' $(seq 80))"
ln -s "$target" $mnt/esc || fail "cannot make the symlink"
run sync
run dd if="$dev" of=$img bs=4M count=64 iflag=direct status=none
run umount $mnt
fsck_clean "$dev" "after the magic symlink"
blk=$(debugfs -R "bmap /esc 0" "$dev" 2>/dev/null)
[ -n "$blk" ] && [ "$blk" -gt 0 ] || fail "no block for the symlink"
debugfs -R "logdump -b $blk" $img >/tmp/fsj.logdump 2>&1
flags=$(sed -n "s/^ *FS block $blk logged at .*journal block [0-9]* (flags \(0x[0-9a-f]*\))$/\1/p" \
	/tmp/fsj.logdump | tail -n1)
[ -n "$flags" ] || { head -n 40 /tmp/fsj.logdump; fail "the crash image's log has no copy of block $blk"; }
[ $((flags & 1)) = 1 ] || fail "block $blk was logged with flags $flags, not escaped"
check_magic_link() {
	assert_eq "$(printf '%s' "$target" | od -An -tx1 | tr -d ' \n')" \
		"$(readlink $mnt/esc | tr -d '\n' | od -An -tx1 | tr -d ' \n')" "$1: the symlink's target"
}
e2fsck_replay "the escape image"
run mount -t ext4 -o ro $copy $mnt
check_magic_link "e2fsck's replay"
run umount $mnt
run dd if=$img of=$copy bs=4M oflag=direct status=none
run mount -t aiosfs $copy $mnt
check_magic_link "aiosfs's replay"
run umount $mnt
fsck_clean $copy "after aiosfs replayed the escaped block"
rm -f $img

aios_unload
