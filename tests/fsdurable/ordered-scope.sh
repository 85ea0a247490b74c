#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An fsync writes the ordered data of other files, and only that: with
# 48 MiB of another file's overwrites dirty in the page cache and one newly
# allocated block of it in the same transaction (an append, into a block
# that held another file's bytes), a 4 KiB file's fsync must write the
# appended block before its commit (a crash copy reads it back, not the
# old bytes) and need not write the overwrites (ordered mode does not).
# Counted with the disk's sectors written (/sys/block/X/stat, field 7);
# ext4 runs the same steps and must stay under the same bound.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
BOUND_KIB=2048
wb=$(cat /proc/sys/vm/dirty_writeback_centisecs)
restore() {
	echo "$wb" >/proc/sys/vm/dirty_writeback_centisecs
	umount "$MNT" "$FSD_TMP/c" 2>/dev/null
}
trap restore EXIT
mkdir -p "$FSD_TMP/c"

written_kib() { awk '{ print $7 / 2 }' "/sys/block/${DEV#/dev/}/stat"; }

# fill FILE BYTE KIB [dd options]: KIB KiB of BYTE (hex) written to FILE.
fill() {
	local f=$1 byte=$2 kib=$3
	shift 3
	echo "+ fill $f with $kib KiB of 0x$byte $*"
	head -c $((kib * 1024)) /dev/zero | tr '\0' "\\$(printf %03o "0x$byte")" |
		dd of="$f" bs=4k iflag=fullblock status=none "$@" || fail "writing $f"
}

scenario() {
	local m=$MNT before after got
	# Inode tables zeroed now: ext4 would write them in the background.
	fs_mkfs -E lazy_itable_init=0,lazy_journal_init=0 "$DEV" 128M
	fs_mount "$DEV" "$m"
	run dd if=/dev/urandom of="$m/big" bs=1M count=48 conv=fsync status=none
	# Freed blocks that hold 0xaa: the append below takes one of them.
	fill "$m/old" aa 1024 conv=fsync
	run rm "$m/old"
	run sync
	# No flusher from here on: what is written, the fsync wrote.
	echo 0 >/proc/sys/vm/dirty_writeback_centisecs
	run dd if=/dev/zero of="$m/big" bs=1M count=48 conv=notrunc status=none
	fill "$m/big" 55 4 oflag=append conv=notrunc
	fill "$m/small" 11 4
	grep -E '^(Dirty|Writeback):' /proc/meminfo
	before=$(written_kib)
	run sync "$m/small"
	after=$(written_kib)
	echo "$FSTYPE: the fsync of small wrote $((after - before)) KiB"
	[ $((after - before)) -le $BOUND_KIB ] ||
		fail "$FSTYPE: a 4 KiB fsync wrote $((after - before)) KiB (bound $BOUND_KIB): other files' pages"
	crash_copy 128
	echo "$wb" >/proc/sys/vm/dirty_writeback_centisecs
	fs_umount "$m"
	run mount -t ext4 -o ro "$COPY" "$FSD_TMP/c"
	assert_eq 4096 "$(stat -c %s "$FSD_TMP/c/small")" "$FSTYPE: small's size in the crash copy"
	# big's new size may or may not have committed (ext4 allocates at
	# writeback); if it did, the block under it holds what was written.
	got=$(stat -c %s "$FSD_TMP/c/big")
	echo "$FSTYPE: big in the crash copy: $got bytes"
	if [ "$got" -gt $((48 << 20)) ]; then
		got=$(tail -c 4096 "$FSD_TMP/c/big" | od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//' |
		      tr ' ' '\n' | sort -u | paste -sd,)
		assert_eq 55 "$got" "$FSTYPE: the bytes of big's appended block in the crash copy"
	fi
	run umount "$FSD_TMP/c"
	fsck_clean "$DEV" "$FSTYPE, after the fsyncs"
}

for_each_fs scenario
echo "ok: the fsync wrote big's new block and no more than $BOUND_KIB KiB beside 48 MiB of overwrites"
