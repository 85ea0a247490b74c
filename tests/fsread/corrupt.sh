#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Corrupt and hostile images: each one is refused at mount or makes the
# affected operation fail, with a kernel log line naming the problem, and
# never oopses or hangs (the runner fails the test on any kernel warning).
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

src=/tmp/fsread.src
img=/tmp/fsread.img
fs_test_init /tmp/fsread.mnt
run modprobe loop
aios_load

# The source tree: a file, a fragmented file (its extent tree has an index
# block), a directory, a symlink.
rm -rf $src
mkdir -p $src/d
echo hello >$src/a
for i in 1 2 3; do echo $i >$src/d/f$i; done
ln -s a $src/link
$PY -c '
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY)
for i in range(0, 2000, 2):
    os.pwrite(fd, b"%d" % i * 100, i * 4096)
os.close(fd)' $src/frag

# mkimg [MKFS OPTIONS]: a fresh 64 MiB image of the source tree.
mkimg() {
	rm -f $img
	truncate -s 64M $img
	mkfs.ext4 -q -F -T default -d $src "$@" $img || fail "mkfs.ext4 $* failed"
}

poke() {
	$PY -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(bytes.fromhex(sys.argv[3]))' \
		$img "$1" "$2" || fail "cannot write the image"
}

# The byte offset in the image of block N of a file's data, or of an inode.
file_block() {
	debugfs -R "stat $1" $img 2>/dev/null | grep -o "($2):[0-9]*" | head -1 | cut -d: -f2
}

inode_offset() {
	local out blk off
	out=$(debugfs -R "imap $1" $img 2>/dev/null)
	blk=$(echo "$out" | sed -n 's/.*located at block \([0-9]*\),.*/\1/p')
	off=$(echo "$out" | sed -n 's/.*offset \(0x[0-9a-f]*\).*/\1/p')
	[ -n "$blk" ] || fail "no inode location for $1"
	echo $((blk * 4096 + off))
}

sif() {
	debugfs -w -R "sif $1 $2 $3" $img 2>/dev/null || fail "debugfs sif $*"
}

attach() {
	loop=$(losetup -f --show "$@" $img) || fail "losetup failed"
}

detach() {
	umount $mnt 2>/dev/null
	losetup -d $loop
	loop=""
}

# must_not_mount NAME REGEX
must_not_mount() {
	attach "${@:3}"
	klog_mark
	mount -t aiosfs -o ro $loop $mnt 2>/dev/null && fail "$1: the mount succeeded"
	expect_klog "$2" "$1"
	echo "ok: $1: $(klog_since | grep -E "$2" | head -1 | sed 's/^\[[^]]*\] //')"
	detach
}

# must_fail NAME REGEX COMMAND...: mounts, then COMMAND fails with REGEX logged.
must_fail() {
	local name=$1 re=$2
	shift 2
	attach
	run mount -t aiosfs -o ro $loop $mnt
	klog_mark
	"$@" >/dev/null 2>&1 && fail "$name: '$*' succeeded"
	expect_klog "$re" "$name"
	echo "ok: $name: $(klog_since | grep -E "$re" | head -1 | sed 's/^\[[^]]*\] //')"
	# The rest of the filesystem still reads.
	assert_eq a "$(readlink $mnt/link)" "$name: the symlink next to it"
	detach
}

# A clean image mounts and reads.
mkimg
attach
run mount -t aiosfs -o ro $loop $mnt
run cmp $src/frag $mnt/frag
run cmp $src/a $mnt/a
assert_eq a "$(readlink $mnt/link)" "symlink"
detach

mkimg
poke $((1024 + 56)) 0000
must_not_mount "bad magic" "aiosfs: \(loop[0-9]+\): bad magic 0x0000"

mkimg
poke $((1024 + 120)) 58
must_not_mount "superblock checksum" "superblock checksum mismatch"

mkimg
poke $((4096 + 12)) 0100
must_not_mount "group descriptor checksum" "checksum mismatch in group descriptor 0"

mkimg
must_not_mount "truncated device" "has 16384 blocks but the device only 8192: truncated" \
	--sizelimit $((32 << 20))

mkimg -b 1024
must_not_mount "1 KiB blocks" "block size 2\^10 is not supported"

mkimg -O inline_data
must_not_mount "inline_data" "unsupported incompatible feature inline_data"

mkimg
debugfs -w -R "feature needs_recovery" $img >/dev/null 2>&1 || fail "debugfs feature"
must_not_mount "needs_recovery" "the journal needs recovery but the device is read-only" -r

mkimg
poke $(($(inode_offset /a) + 16)) ff
must_fail "inode checksum" "checksum mismatch in inode 1[0-9]" stat $mnt/a

mkimg
poke $(($(file_block /frag ETB0) * 4096 + 20)) ff
must_fail "extent block checksum" "checksum mismatch in extent tree block" cat $mnt/frag

mkimg
poke $(($(file_block /d 0) * 4096 + 30)) ff
must_fail "directory block checksum" "checksum mismatch in directory block 0" ls $mnt/d

# debugfs recomputes the inode checksum: these reach the structural checks.
mkimg
sif /a "block[5]" 0x7fffffff
must_fail "extent outside the device" "extent 0\+1 points outside the filesystem" cat $mnt/a

mkimg
sif /a "block[1]" 0x60004
must_fail "extent tree too deep" "bad extent tree root .*depth 6" cat $mnt/a

mkimg
sif /frag "block[1]" 0x20004
must_fail "extent tree depth mismatch" "extent tree block [0-9]+: wrong depth" cat $mnt/frag

mkimg
sif /frag "block[4]" 0
must_fail "extent index to block 0" "extent tree block 0 is outside the filesystem" cat $mnt/frag

# Directory entries, on an image without metadata_csum so that the
# checksum does not catch them first.
mkimg -O ^metadata_csum
poke $(($(file_block /d 0) * 4096 + 4)) 0500
must_fail "bad rec_len" "bad rec_len at offset 0" ls $mnt/d

mkimg -O ^metadata_csum
poke $(($(file_block /d 0) * 4096 + 12 + 6)) c8
must_fail "bad name_len" "name_len larger than rec_len at offset 12" ls $mnt/d

mkimg -O ^metadata_csum
poke $(($(file_block /d 0) * 4096 + 12 + 4)) f80f
must_fail "rec_len past the block" "rec_len crosses the block end at offset 12" ls $mnt/d

mkimg -O ^metadata_csum
poke $(($(file_block /d 0) * 4096 + 24)) ffffff7f
must_fail "inode number out of range" "inode number out of range" ls $mnt/d

aios_unload
exit 0
