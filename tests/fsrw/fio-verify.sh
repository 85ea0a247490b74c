#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fio verify workloads on a read-write mount of $FSTYPE: two jobs at once,
# each writing its own file (sequential, random, buffered, O_DIRECT, mmap,
# libaio, with and without preallocation), every block carrying a checksum
# and its offset.  Each workload verifies as it goes, then again from the
# device after a remount; then the volume is checked (fsrw_verify).
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

trap 'umount $MNT 2>/dev/null' EXIT
fsrw_setup
dev=$(test_disk) || exit 1
mkdir -p "$MNT/fio"

# wl NAME FIO-OPTIONS...: writes and verifies, then verifies again cold.
# 16 MiB a job: random 4 KiB O_DIRECT writes still make extent trees of
# more than one level (checked below), and fio reads every byte twice and
# fsrw_verify four times (under TCG, 32 MiB made this the suite's longest
# test).
wl() {
	local name=$1 log=$FSRW_TMP/fio-$1.log
	shift
	local common=(--name="$name" --directory="$MNT/fio" --numjobs=2 --size=16M
		      --verify=crc32c --verify_fatal=1 --randseed=$((RANDOM + 1)) "$@")
	echo "+ fio ${common[*]}"
	timeout 400 fio "${common[@]}" >"$log" 2>&1 ||
		{ tail -n 40 "$log"; fail "fio $name: writing and verifying failed (status $?)"; }
	grep -Eq "verify: bad|crc32c: verify failed|bad magic" "$log" &&
		{ tail -n 40 "$log"; fail "fio $name: bad blocks"; }
	fsrw_remount
	timeout 400 fio "${common[@]}" --verify_only=1 >"$log" 2>&1 ||
		{ tail -n 40 "$log"; fail "fio $name: verifying after a remount failed"; }
	grep -Eq "verify: bad|crc32c: verify failed|bad magic" "$log" &&
		{ tail -n 40 "$log"; fail "fio $name: bad blocks after a remount"; }
	echo "verified: $name"
}

# A run whose data does not match must fail, or the checks above prove nothing.
run dd if=/dev/urandom of="$MNT/fio/junk.0.0" bs=1M count=4 status=none
fio --name=junk --directory="$MNT/fio" --size=4M --rw=read --verify=crc32c \
	--verify_only=1 >"$FSRW_TMP/fio-junk.log" 2>&1 &&
	{ cat "$FSRW_TMP/fio-junk.log"; fail "verify passed over random data"; }
rm -f "$MNT/fio/junk.0.0"

wl seq-buffered --rw=write --bs=64k
wl rand-buffered --rw=randwrite --bsrange=1k-64k --fallocate=none
wl rand-direct --rw=randwrite --bs=4k --direct=1 --fsync=16
# The extent tree's depth, as debugfs reads it from the device (-D: not
# the block device's page cache): "0/ D" on the first row.
depth=$(debugfs -D -R "ex /fio/rand-direct.0.0" "$dev" 2>/dev/null |
	awk 'NR == 2 { sub(/^ *[0-9]+\/ */, ""); print $1 + 0; exit }')
echo "rand-direct.0.0: extent tree depth ${depth:-unknown}"
[ "${depth:-0}" -ge 1 ] || fail "the random O_DIRECT file's extent tree has one level"
wl rand-direct-aio --rw=randwrite --bsrange=4k-128k --direct=1 --ioengine=libaio --iodepth=8
wl rand-mmap --rw=randwrite --bs=8k --ioengine=mmap --fallocate=none
wl seq-sync --rw=write --bs=16k --sync=1 --size=8M
# Overwrites of existing data, in place.
wl overwrite --rw=randwrite --bs=4k --overwrite=1 --fsync_on_close=1

fsrw_verify "$dev"
exit 0
