#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash consistency with dm-log-writes.  Every write a $FSTYPE workload
# makes (creates, writes, fsyncs, renames, unlinks, truncates) is logged,
# with a mark after every fsync returns (tests/fsrw/crash.py).  The log is
# then replayed (tests/fsrw/replay-log) onto another device, up to a sample
# of its flushes, FUA writes and marks (CRASH_POINTS=all: every one) and a
# few writes between them chosen at random: at each, a snapshot of the
# replayed device is what a disk holds after a power cut there.  $FSTYPE
# mounts it (its own recovery) and every file whose fsync completed before
# that point must have its data and size; unmounted, e2fsck -fn finds it
# clean; and e2fsck -fy on a second snapshot only replays the journal.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

CRASH=$AIOS_ROOT/tests/fsrw/crash.py
REPLAY=$AIOS_TEST_BIN/fsrw/replay-log
POINTS=${CRASH_POINTS:-12}	# about 9 s each under TCG
RANDOM_POINTS=${CRASH_RANDOM_POINTS:-4}
FS_SECTORS=$((256 * 2048))	# a 256 MiB volume
log=$FSRW_TMP/crash
mkdir -p "$log"
[ -x "$REPLAY" ] || fail "no $REPLAY (make tests)"

cleanup() {
	umount "$MNT" 2>/dev/null
	for d in fsrw-snap fsrw-lw fsrw-data fsrw-base fsrw-cow; do
		dmsetup remove "$d" 2>/dev/null
	done
}
trap cleanup EXIT
cleanup

run modprobe dm-log-writes
run modprobe dm-snapshot
data=$(nvme_disk aios0) || exit 1
logdev=$(nvme_disk aios1) || exit 1
repl=$(nvme_disk aios2) || exit 1
# 256 MiB of each drive; the snapshots' copy-on-write space after the first GiB.
run dmsetup create fsrw-data --table "0 $FS_SECTORS linear $data 0"
run dmsetup create fsrw-base --table "0 $FS_SECTORS linear $repl 0"
run dmsetup create fsrw-cow --table "0 $((512 * 2048)) linear $repl $((1024 * 2048))"
# The log starts where the replay starts: both devices zeroed.
run blkdiscard -z /dev/mapper/fsrw-data
run blkdiscard -z /dev/mapper/fsrw-base
run dd if=/dev/zero of="$logdev" bs=1M count=1 conv=fsync status=none
run dmsetup create fsrw-lw --table "0 $FS_SECTORS log-writes /dev/mapper/fsrw-data $logdev"
lw=/dev/mapper/fsrw-lw
wait_for_dev $lw

# The recording.
fs_mkfs $lw
run dmsetup message fsrw-lw 0 mark mkfs
fs_mount $lw "$MNT"
timeout 400 $PY "$CRASH" workload "$MNT" "$log/manifest" fsrw-lw "${CRASH_SEED:-1}" ||
	fail "the workload failed"
tree_record "$MNT" "$log/final.json"
fs_umount "$MNT"
run dmsetup remove fsrw-lw
"$REPLAY" list "$logdev" >"$log/entries" || fail "replay-log cannot read the log"
head -n1 "$log/entries"
grep -q ' dm-log-writes-end$' "$log/entries" || fail "the log has no end mark"

# The points: the mkfs mark, a sample of the flushes, FUA writes and marks
# after it (evenly spread), a few plain writes (a crash between flushes),
# and the end.
mkfs_at=$(awk '$5 == "mkfs" { print $1 }' "$log/entries")
[ -n "$mkfs_at" ] || fail "no mkfs mark in the log"
awk -v m="$mkfs_at" '!/^#/ && $1 > m && ($2 ~ /[FUM]/) { print $1 }' "$log/entries" >"$log/cands"
ncand=$(wc -l <"$log/cands")
[ "$POINTS" = all ] && POINTS=$ncand
last=$(tail -n1 "$log/entries" | cut -d' ' -f1)
{
	echo "$mkfs_at"
	awk -v n="$ncand" -v p="$POINTS" \
		'{ if (n <= p || int((NR - 1) * p / n) != int(NR * p / n)) print }' "$log/cands"
	awk -v m="$mkfs_at" -v k="$RANDOM_POINTS" -v seed="${CRASH_SEED:-1}" '
		BEGIN { srand(seed) }
		!/^#/ && $1 > m && $2 ~ /^[Wm]$/ {
			n++
			if (n <= k) r[n] = $1
			else if ((j = int(rand() * n) + 1) <= k) r[j] = $1
		}
		END { for (i = 1; i <= k && i <= n; i++) print r[i] }' "$log/entries"
	echo "$last"
} | sort -n -u >"$log/points"
echo "$(grep -vc '^#' "$log/entries") log entries, $ncand flush/FUA/mark points, checking $(wc -l <"$log/points")"

# The durable set that holds at entry $1: the last mark at or before it.
mark_at() {
	awk -v p="$1" '!/^#/ && $1 <= p && $2 ~ /M/ && $5 != "mkfs" && $5 != "dm-log-writes-end" { m = $5 }
		END { print m }' "$log/entries"
}

snap_create() {
	dmsetup create fsrw-snap --table \
		"0 $FS_SECTORS snapshot /dev/mapper/fsrw-base /dev/mapper/fsrw-cow N 8" ||
		fail "cannot create the snapshot"
	wait_for_dev /dev/mapper/fsrw-snap
}

snap_remove() {
	dmsetup remove fsrw-snap || fail "cannot remove the snapshot"
}

from=0
n=0
while read -r p; do
	n=$((n + 1))
	timeout 120 "$REPLAY" replay "$logdev" /dev/mapper/fsrw-base $from $((p + 1)) ||
		fail "replaying entries $from..$p failed"
	from=$((p + 1))
	mark=$(mark_at "$p")
	what="point $n: entry $p ($(awk -v p="$p" '$1 == p { print $2, $5 }' "$log/entries")), durable set of ${mark:-nothing}"
	echo "== $what"
	# The filesystem's own recovery, then the fsynced files.
	snap_create
	if [ "$p" -gt "$mkfs_at" ]; then
		fs_mount /dev/mapper/fsrw-snap "$MNT" >/dev/null
		if [ -n "$mark" ]; then
			$PY "$CRASH" check "$MNT" "$log/manifest" "$mark" ||
				fail "$what: fsynced data is missing after recovery"
		fi
		if [ "$p" = "$last" ]; then
			# After a clean unmount everything is there, synced or not;
			# and ext4 reads it as $FSTYPE does (and the reverse).
			tree_record "$MNT" "$log/replayed.json"
			tree_compare "$log/final.json" "$log/replayed.json" "$what: the whole tree"
			fsrw_verify /dev/mapper/fsrw-snap "$MNT"
		else
			fs_umount "$MNT"
		fi
	fi
	fsck_clean /dev/mapper/fsrw-snap "$what, after $FSTYPE's recovery"
	snap_remove
	# e2fsck's own recovery: the journal replay, and nothing else to fix.
	snap_create
	out=$(timeout 300 e2fsck -fy /dev/mapper/fsrw-snap 2>&1)
	rc=$?
	if [ $rc -gt 1 ] || [ -n "$(echo "$out" | fsck_fixes)" ]; then
		echo "$out" | head -n 60
		fail "$what: e2fsck -fy exited $rc and fixed something beyond the journal replay"
	fi
	fsck_clean /dev/mapper/fsrw-snap "$what, after e2fsck's recovery"
	snap_remove
done <"$log/points"
echo "ok: $n crash points recovered with every fsynced file intact"
exit 0
