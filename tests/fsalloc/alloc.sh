#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The block and inode allocators: files and directories are created, the
# filesystem is filled to ENOSPC (blocks, then inodes), emptied and filled
# again; after each phase e2fsck -fn finds nothing and statfs agrees with
# what e2fsck counted.  Run on Debian's default mkfs.ext4 layout, then on
# small groups (-g 8192 -G 4: four flex groups) so that directories spread.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(test_disk)
fs_test_init /tmp/fsalloc.mnt
aios_load

# statfs_free: "free-blocks free-inodes" as the mounted filesystem says.
statfs_free() {
	stat -f -c '%f %d' $mnt
}

# check_counts WHAT: unmounts, runs e2fsck, compares with statfs from before.
check_counts() {
	local sf
	echo "[${SECONDS}s] $1"
	run sync
	sf=$(statfs_free)
	run umount $mnt
	fsck_clean "$dev" "$1"
	assert_eq "$E2_FREEB $E2_FREEI" "$sf" "statfs free blocks/inodes vs e2fsck ($1)"
	run mount -t aiosfs "$dev" $mnt
}

# Geometry from the superblock (unmounted or not).
sb_field() {
	dumpe2fs -h "$dev" 2>/dev/null | sed -n "s/^$1: *//p"
}

# The first physical block of a file (debugfs; unmounted).
first_block() {
	debugfs -R "stat $1" "$dev" 2>/dev/null | grep -A1 '^EXTENTS:' | tail -n1 |
		sed -n 's/^(0[^)]*):\([0-9]*\).*/\1/p'
}

# Creates empty files in $1 until that fails; prints "count errno-name".
fill_inodes() {
	$PY - "$1" <<'PY'
import errno, os, sys
d, i = sys.argv[1], 0
while True:
    try:
        os.close(os.open(f"{d}/f{i}", os.O_CREAT | os.O_WRONLY, 0o644))
    except OSError as e:
        print(i, errno.errorcode.get(e.errno, e.errno))
        break
    i += 1
PY
}

one_fs() {
	local what=$1 i d n err groups ipg bpg flex sum1 sum2
	shift
	run mkfs.ext4 -q -F "$@" "$dev"
	run mount -t aiosfs "$dev" $mnt
	grep -q " $mnt aiosfs rw" /proc/mounts || fail "not mounted read-write ($what)"

	# Files and directories, a few levels deep, of assorted sizes.
	for d in $(seq 1 24); do
		run mkdir -p $mnt/top$d/a/b
	done
	# One process for all files: process start-up is slow under TCG.
	python3 - "$mnt" <<'PY' || fail "writing the files ($what)"
import sys
mnt = sys.argv[1]
for d in range(1, 25):
    for i in range(1, 21):
        name = f"{mnt}/top{d}/a/f{i}"
        size = ((d * 7 + i * 13) % 97 + 1) * 1024
        with open(name, "wb") as f:
            f.write((name.encode() * (size // len(name) + 1))[:size])
PY
	run dd if=/dev/urandom of=$mnt/big bs=1M count=64 status=none
	sum1=$(cd $mnt && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
	check_counts "$what: after creating"

	# Top-level directories spread over the flex groups, when there are several.
	ipg=$(sb_field "Inodes per group")
	bpg=$(sb_field "Blocks per group")
	flex=$(sb_field "Flex block group size")
	groups=$(for d in $(seq 1 24); do echo $((($(stat -c %i $mnt/top$d) - 1) / ipg)); done |
		sort -u | wc -l)
	echo "24 top-level directories in $groups groups"
	if [ $(($(sb_field "Block count") / bpg)) -gt "$flex" ] && [ "$groups" -le 1 ]; then
		fail "24 top-level directories all in one group ($what)"
	fi

	# A file's data lies in its inode's flex group.
	i=$(stat -c %i $mnt/top3/a/f5)
	run umount $mnt
	n=$(first_block /top3/a/f5)
	echo "top3/a/f5: inode $i, first block $n"
	[ -n "$n" ] || fail "no extent for top3/a/f5 ($what)"
	assert_eq $(((i - 1) / ipg / flex)) $((n / bpg / flex)) "flex group of f5's inode and data ($what)"
	run mount -t aiosfs "$dev" $mnt

	# Fill the blocks: ENOSPC, and statfs then says nothing is available.
	dd if=/dev/zero of=$mnt/fill bs=1M status=none 2>/tmp/fsalloc.dd &&
		fail "filling the filesystem did not fail ($what)"
	grep -q "No space left on device" /tmp/fsalloc.dd || { cat /tmp/fsalloc.dd; fail "fill: not ENOSPC ($what)"; }
	run df $mnt
	assert_eq 0 "$(stat -f -c %a $mnt)" "available blocks after ENOSPC ($what)"
	check_counts "$what: full"

	# Freed blocks come back (once the freeing transaction commits).
	n=$(stat -c %s $mnt/fill)
	run rm $mnt/fill
	run sync
	dd if=/dev/zero of=$mnt/fill2 bs=1M count=$((n / 1048576 - 1)) status=none ||
		fail "rewriting $((n / 1048576 - 1)) MiB after deleting more ($what)"
	run rm $mnt/fill2
	check_counts "$what: emptied"

	# Fill the inodes (quick only with few of them): ENOSPC, none left.
	if [ "$(stat -f -c %d $mnt)" -le 20000 ]; then
		run mkdir $mnt/many
		read -r n err < <(fill_inodes $mnt/many)
		echo "$n empty files, then $err"
		assert_eq ENOSPC "$err" "creating files until it fails ($what)"
		assert_eq 0 "$(stat -f -c %d $mnt)" "free inodes after ENOSPC ($what)"
		check_counts "$what: no inodes left"
		run rm -rf $mnt/many
		check_counts "$what: inodes freed"
	fi

	# Nothing else changed.
	sum2=$(cd $mnt && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
	assert_eq "$sum1" "$sum2" "file contents ($what)"
	run rm -rf $mnt/top* $mnt/big
	check_counts "$what: all deleted"
	run umount $mnt

	# ext4 itself reads the result.
	run mount -t ext4 -o ro "$dev" $mnt
	assert_eq "lost+found" "$(ls $mnt)" "what ext4 sees ($what)"
	run umount $mnt
}

# 4 KiB blocks like mkfs.aiosfs (mke2fs would pick 1 KiB on 512 MiB).
one_fs default -b 4096 -N 32768
# Small groups and flex groups (four flex groups of four); -N: fewer inodes,
# so that running out of them is quick.
one_fs small-groups -b 4096 -g 8192 -G 4 -N 8192
aios_unload
exit 0
