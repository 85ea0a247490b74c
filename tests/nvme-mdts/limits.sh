#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# aiosnvme on a controller with MDTS=3 (32 KiB transfers): the disk's
# limits say so, and aiosfs's every lbio path stays within them, as the
# block layer's splitting keeps bios within them for ext4 on the same
# disk.  Written with fsync (writeback and commit runs), read back cold
# (read-ahead runs) and with O_DIRECT reads of 512 and 128 KiB, fio-verified, on
# ext4 first and then on aiosfs; no I/O error, e2fsck clean.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/fsread/helpers"

trap 'umount $MNT 2>/dev/null' EXIT
stock=$(nvme_disk aios0) || exit 1
ctrl=${stock#/dev/}
bdf=$(basename "$(readlink -f "/sys/class/nvme/${ctrl%n1}/device")")
klog_mark
aios_bind "$bdf"
dev=/dev/aiosnvme0n1
wait_for_dev $dev
klog_since | grep -q "max transfer 32 KiB" || { klog_since; fail "aiosnvme did not take MDTS=3 (32 KiB)"; }
assert_eq 32 "$(cat /sys/block/aiosnvme0n1/queue/max_hw_sectors_kb)" "max_hw_sectors_kb"

# fio JOB OPTIONS...: one fio run on the mounted volume, which must verify.
fio_ok() {
	local name=$1 log=/tmp/mdts-fio-$1.log
	shift
	echo "+ fio $name $*"
	timeout 300 fio --name="$name" --directory="$MNT" --filename=data --size=24M \
		--verify=crc32c --verify_fatal=1 --randseed=7 "$@" >"$log" 2>&1 ||
		{ tail -n 30 "$log"; fail "$FSTYPE: fio $name failed"; }
	grep -Eq "verify: bad|verify failed|bad magic" "$log" && { tail -n 30 "$log"; fail "$FSTYPE: fio $name: bad blocks"; }
	return 0
}

scenario() {
	local sum
	fs_mkfs "$dev"
	fs_mount "$dev" "$MNT"
	fio_ok write --rw=write --bs=512k --fsync=8 --do_verify=0
	sum=$(sha256sum <"$MNT/data")
	fs_umount "$MNT"
	fs_mount "$dev" "$MNT"
	# Cold: read-ahead builds runs up to its window.
	assert_eq "$sum" "$(sha256sum <"$MNT/data")" "$FSTYPE: a cold buffered read"
	fs_umount "$MNT"
	fs_mount "$dev" "$MNT"
	fio_ok dread --rw=read --bs=512k --direct=1 --verify_only=1
	fio_ok rewrite --rw=randwrite --bs=128k --fdatasync=4 --do_verify=0 --randseed=8
	fio_ok rdread --rw=read --bs=128k --direct=1 --verify_only=1 --randseed=8
	fs_umount "$MNT"
	fsck_clean "$dev" "$FSTYPE on MDTS=3"
}

for_each_fs scenario
klog_since | grep -E "I/O error|status 0x|aiosfs.*error" && fail "I/O errors in the kernel log"
echo "ok: ext4 and aiosfs within 32 KiB transfers"
