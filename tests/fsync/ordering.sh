#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The order of aiosfs's fsync writes (issue 7), from a dm-log-writes log
# of a workload of appends, new files, overwrites with fdatasync and fsyncs
# with nothing to do (tests/fsync/order.py): no commit block before the
# log blocks of its transaction, none without preflush + FUA, no fsync
# return before its data and a flush after it, no journal write for an
# fdatasync of an overwrite, no I/O at all for an fsync with nothing to
# write.  Through the bio fallback (the volume is a device-mapper target).
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

ORDER=$AIOS_ROOT/tests/fsync/order.py
SECTORS=$((256 * 2048))
tmp=/tmp/fsync-order
mkdir -p $tmp

cleanup() {
	umount "$MNT" 2>/dev/null
	dmsetup remove fsync-lw 2>/dev/null
	dmsetup remove fsync-data 2>/dev/null
}
trap cleanup EXIT
cleanup

run modprobe dm-log-writes
data=$(nvme_disk aios0) || exit 1
logdev=$(nvme_disk aios1) || exit 1
run dmsetup create fsync-data --table "0 $SECTORS linear $data 0"
fs_mkfs /dev/mapper/fsync-data
run dd if=/dev/zero of="$logdev" bs=1M count=1 conv=fsync status=none
run dmsetup create fsync-lw --table "0 $SECTORS log-writes /dev/mapper/fsync-data $logdev"
wait_for_dev /dev/mapper/fsync-lw
vwc=0
for d in /sys/block/dm-*; do
	[ "$(cat "$d/dm/name")" = fsync-lw ] && grep -q back "$d/queue/write_cache" && vwc=1
done

# No periodic commit: whatever reaches the journal, an fsync sent.
fs_mount /dev/mapper/fsync-lw "$MNT" commit=3600,noatime
timeout 300 $PY "$ORDER" workload "$MNT" fsync-lw $tmp/manifest 1 || fail "the workload failed"
fs_umount "$MNT"
run dmsetup remove fsync-lw

# The journal's blocks, which mkfs makes contiguous.
dbg() { debugfs -R "$1" /dev/mapper/fsync-data 2>/dev/null; }
jlen=$(($(dbg "stat <8>" | sed -n 's/.*[^a-z]Size: \([0-9]*\).*/\1/p' | head -n1) / 4096))
jstart=$(dbg "bmap <8> 0")
[ "$jlen" -gt 0 ] && [ -n "$jstart" ] || fail "cannot find the journal with debugfs"
[ "$(dbg "bmap <8> $((jlen - 1))")" = $((jstart + jlen - 1)) ] ||
	fail "the journal is not contiguous"
echo "journal: $jlen blocks from $jstart; volatile write cache: $vwc"
$PY "$ORDER" check "$logdev" "$jstart" "$jlen" $tmp/manifest $vwc ||
	fail "the log shows fsync's writes out of order (above)"
fsck_clean /dev/mapper/fsync-data "after the workload"
