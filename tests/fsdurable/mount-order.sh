#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A crash at any write of a mount, a commit and an unmount leaves a volume
# that mounts again and that e2fsck finds clean once it has recovered: in
# particular the journal superblock never says the log holds transactions
# before the superblock says needs_recovery (aiosfs refuses such a volume).
# Every write is recorded with dm-log-writes and the log is replayed up to
# each flush, FUA write and mark in turn (tests/crash/replay-log), each
# point on a snapshot of its own.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers

REPLAY=$AIOS_TEST_BIN/crash/replay-log
SECTORS=$((256 * 2048))
[ -x "$REPLAY" ] || fail "no $REPLAY (make tests)"

cleanup() {
	umount "$MNT" 2>/dev/null
	for d in fsd-snap fsd-lw fsd-data fsd-base fsd-cow; do
		dmsetup remove "$d" 2>/dev/null
	done
}
trap cleanup EXIT

run modprobe dm-log-writes
run modprobe dm-snapshot

# The volume on DEV's first 256 MiB, replayed onto the next 256 MiB; the
# log on COPY's first 512 MiB, the snapshots' space after it.
setup() {
	cleanup
	run dmsetup create fsd-data --table "0 $SECTORS linear $DEV 0"
	run dmsetup create fsd-base --table "0 $SECTORS linear $DEV $SECTORS"
	run dmsetup create fsd-cow --table "0 $((512 * 2048)) linear $COPY $((512 * 2048))"
	run blkdiscard -f -z /dev/mapper/fsd-data
	run blkdiscard -f -z /dev/mapper/fsd-base
	# Past the page cache: dm-log-writes writes the log beneath it.
	run dd if=/dev/zero of="$COPY" bs=1M count=1 oflag=direct status=none
	run dmsetup create fsd-lw --table "0 $SECTORS log-writes /dev/mapper/fsd-data $COPY"
	wait_for_dev /dev/mapper/fsd-lw
}

scenario() {
	local entries=$FSD_TMP/entries from p n=0 what
	setup
	fs_mkfs /dev/mapper/fsd-lw
	run dmsetup message fsd-lw 0 mark mkfs
	fs_mount /dev/mapper/fsd-lw "$MNT"
	echo data >"$MNT/f"
	run sync -f "$MNT/f"
	fs_umount "$MNT"
	run dmsetup remove fsd-lw
	run blockdev --flushbufs "$COPY"
	"$REPLAY" list "$COPY" >"$entries" || fail "replay-log cannot read the log"
	# The points: every flush, FUA write and mark after mkfs, and the end
	# (between them the drive may have kept any subset of the writes),
	# each with what the entry is.
	awk '$5 == "mkfs" { m = $1 } m != "" && $1 > m && !/^#/ && $2 ~ /[FUM]/ { print $1, $2, $3, $4 }
	     !/^#/ { last = $1 " " $2 " " $3 " " $4 } END { print last }' "$entries" |
		sort -n -u -k1,1 >"$FSD_TMP/points"
	echo "$FSTYPE: $(wc -l <"$FSD_TMP/points") flush, FUA and mark points after mkfs"
	from=$(awk '$5 == "mkfs" { print $1 + 1 }' "$entries")
	"$REPLAY" replay "$COPY" /dev/mapper/fsd-base 0 "$from" || fail "replaying mkfs failed"
	while read -r p flags sector count; do
		n=$((n + 1))
		"$REPLAY" replay "$COPY" /dev/mapper/fsd-base "$from" $((p + 1)) ||
			fail "replaying entries $from..$p failed"
		from=$((p + 1))
		what="$FSTYPE, crash after entry $p ($flags $sector $count)"
		run dmsetup create fsd-snap --table \
			"0 $SECTORS snapshot /dev/mapper/fsd-base /dev/mapper/fsd-cow N 8"
		wait_for_dev /dev/mapper/fsd-snap
		mount -t "$FSTYPE" /dev/mapper/fsd-snap "$MNT" 2>/dev/null ||
			{ dmesg | tail -n 5; fail "$what: the volume does not mount"; }
		umount "$MNT"
		fsck_clean /dev/mapper/fsd-snap "$what"
		run dmsetup remove fsd-snap
	done <"$FSD_TMP/points"
	echo "ok: $FSTYPE: $n crash points mount and are clean"
}
for_each_fs scenario
