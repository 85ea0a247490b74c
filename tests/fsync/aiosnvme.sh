#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fsync path on aiosnvme, where data, log and commit blocks go as lbio
# commands and a commit is a Flush chained to a FUA write by the driver:
# fio verify workloads of writes with fsync=1 and fdatasync=1 (2 jobs,
# random, appending, over preallocated blocks), with polling and without,
# verified again after a remount; then e2fsck -fn finds the volume clean.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

trap 'umount $MNT 2>/dev/null' EXIT
stock=$(nvme_disk aios2) || exit 1
ctrl=${stock#/dev/}
bdf=$(basename "$(readlink -f "/sys/class/nvme/${ctrl%n1}/device")")
aios_bind "$bdf"
# The only controller aiosnvme has.
dev=/dev/aiosnvme0n1
wait_for_dev $dev
fs_mkfs "$dev"

# wl NAME MOUNT-OPTIONS FIO-OPTIONS...
wl() {
	local name=$1 opts=$2 log=/tmp/fsync-fio-$1.log
	shift 2
	local common=(--name="$name" --directory="$MNT" --numjobs=2 --size=8M --bs=4k
		      --verify=crc32c --verify_fatal=1 --randseed=$((RANDOM + 1)) "$@")
	fs_mount "$dev" "$MNT" "$opts"
	echo "+ fio ${common[*]}"
	timeout 400 fio "${common[@]}" >"$log" 2>&1 ||
		{ tail -n 40 "$log"; fail "fio $name: writing and verifying failed"; }
	grep -Eq "verify: bad|verify failed|bad magic" "$log" && { tail -n 40 "$log"; fail "fio $name: bad blocks"; }
	grep -E '^ +(sync|fsync)' "$log" | head -n 3
	fs_umount "$MNT"
	fs_mount "$dev" "$MNT" "$opts"
	timeout 400 fio "${common[@]}" --verify_only=1 >"$log" 2>&1 ||
		{ tail -n 40 "$log"; fail "fio $name: verifying after a remount failed"; }
	fs_umount "$MNT"
}

wl rand-fsync "" --rw=randwrite --fsync=1
wl append-fsync "" --rw=write --fsync=1 --fallocate=none --size=2M
wl rand-fdatasync "" --rw=randwrite --fdatasync=1 --fallocate=native
wl rand-nopoll nopoll --rw=randwrite --fsync=1 --size=2M
wl rand-poll poll --rw=randwrite --fdatasync=1 --size=2M
fsck_clean "$dev" "after the fsync workloads"
