#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bytes a truncate or a hole punch cut off inside a block read as zeros
# once the change is durable: the zeroed block must reach the disk before
# the transaction with the new size or the punched extent commits.  The
# crash copy is then extended by the filesystem under test, which must
# show zeros past the old end, as it must whatever a crash left there.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT $FSD_TMP/c 2>/dev/null' EXIT
mkdir -p "$FSD_TMP/c"

# cut_then_commit HOW: the truncate and the punch, then their commit: by
# another file's fsync, or (HOW=timer) by the commit timer, with the pages
# read back from the disk first.
cut_then_commit() {
	[ "$1" = timer ] && drop_caches
	run truncate -s 100 "$MNT/t"
	run fallocate -p -o 100 -l 8192 "$MNT/p"
	if [ "$1" = timer ]; then
		sleep 3		# commit=1
	else
		$PY -c 'import os, sys; os.fsync(os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY))' \
			"$MNT/other" || fail "$FSTYPE: fsync of another file failed"
	fi
}

# raw_tail_zero HOW: t's first block on the crash copy holds zeros past
# byte 100 (the zeroed page went before the size that hides the rest).
raw_tail_zero() {
	local blk n
	blk=$(debugfs -R 'bmap /t 0' "$COPY" 2>/dev/null)
	[ -n "$blk" ] && [ "$blk" -gt 0 ] || fail "$FSTYPE ($1): no block 0 of /t on the copy"
	n=$(dd if="$COPY" bs=4096 skip="$blk" count=1 status=none | tail -c +101 | tr -d '\0' | wc -c)
	[ "$n" = 0 ] || fail "$FSTYPE ($1): $n old bytes past the new end of t are on the disk"
}

scenario() {
	local how
	for how in fsync timer; do
		fs_mkfs "$DEV" 256M
		fs_mount "$DEV" "$MNT" commit=1
		$PY - "$MNT" <<'PY' || fail "$FSTYPE: the workload failed"
import os, sys
for name in ("t", "p"):
    fd = os.open(f"{sys.argv[1]}/{name}", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"\xaa" * 12288)
    os.fsync(fd)
    os.close(fd)
PY
		cut_then_commit $how
		crash_copy 256
		fs_umount "$MNT"
		raw_tail_zero "$how"
		fs_mount "$COPY" "$FSD_TMP/c"
		run truncate -s 12288 "$FSD_TMP/c/t"
		$PY - "$FSD_TMP/c" <<'PY' || fail "$FSTYPE ($how): cut-off bytes came back after the crash"
import os, sys
bad = 0
for name, zero in (("t", range(100, 4096)), ("p", range(100, 8292))):
    data = open(f"{sys.argv[1]}/{name}", "rb").read()
    old = [i for i in zero if data[i] != 0]
    if old:
        print(f"{name}: {len(old)} bytes of {zero.start}..{zero.stop - 1} are not zero "
              f"(first at {old[0]}: {data[old[0]]:02x})")
        bad += 1
sys.exit(bad)
PY
		fs_umount "$FSD_TMP/c"
	done
}

# Growing a file whose last block holds old bytes past its end on the disk
# (as a crash or another system may leave it: here debugfs cuts the size).
grow_over_tail() {
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT"
	$PY -c 'import sys; open(sys.argv[1], "wb").write(b"\xaa" * 4096)' "$MNT/g" ||
		fail "$FSTYPE: writing g failed"
	fs_umount "$MNT"
	run debugfs -w -R 'sif /g size 100' "$DEV"
	fs_mount "$DEV" "$MNT"
	run truncate -s 8192 "$MNT/g"
	n=$(tail -c +101 "$MNT/g" | tr -d '\0' | wc -c)
	if [ "$n" != 0 ] && [ "$FSTYPE" = ext4 ]; then
		# ext4 of 6.1 does not zero that tail yet; 6.12's does, and so does aiosfs.
		echo "ext4 on $(uname -r) shows $n old bytes past the old end"
		fs_umount "$MNT"
		return
	fi
	[ "$n" = 0 ] || fail "$FSTYPE: growing g showed $n old bytes past its old end"
	drop_caches
	n=$(tail -c +101 "$MNT/g" | tr -d '\0' | wc -c)
	[ "$n" = 0 ] || fail "$FSTYPE: after a drop of the caches, g shows $n old bytes"
	fs_umount "$MNT"
}

for_each_fs scenario
for_each_fs grow_over_tail
