#!/bin/bash
# The lbio interface (aiosfs's only way to the device) writes and reads
# back whole-page runs of every size with FUA and PREFLUSH, by waiting and
# by callback, and fails a transfer past the end with EIO: directly on an
# aiosnvme disk and on a partition of one, and through the bio fallback on
# a disk of nvme.ko.
. "$AIOS_ROOT/tests/lib/common.sh"

mapfile -t bdfs < <(nvme_bdfs)
run modprobe nvme
aios_bind "${bdfs[0]}"
wait_for_dev /dev/aiosnvme0n1
other=$(stock_disk "${bdfs[1]}")
printf 'label: gpt\nstart=8MiB,size=64MiB\n' | sfdisk -q /dev/aiosnvme0n1 || fail "sfdisk failed"
wait_for_dev /dev/aiosnvme0n1p1
# The partition's data must land at its offset on the disk.
dd if=/dev/zero of=/dev/aiosnvme0n1p1 bs=1M count=2 oflag=direct status=none

st=/sys/kernel/debug/aios/lbio_selftest
selftest() {
	echo "$1" >$st || fail "lbio self-test on $1: $(cat $st)"
	echo "$1: $(cat $st)"
	grep -qx "ok $2 transport" $st || fail "lbio self-test on $1: $(cat $st)"
}
selftest /dev/aiosnvme0n1 direct
selftest /dev/aiosnvme0n1p1 direct
selftest "$other" bio

# What went to the partition is 8 MiB into the disk, seen through nvme.ko's
# view of the same bytes later; here: the same bytes through the whole disk.
a=$(dd if=/dev/aiosnvme0n1p1 bs=4k count=64 iflag=direct status=none | sha256sum)
b=$(dd if=/dev/aiosnvme0n1 bs=4k skip=2048 count=64 iflag=direct status=none | sha256sum)
assert_eq "$a" "$b" "partition data at the partition's offset"
"$AIOS_ROOT/tools/aios-bind" --reset "${bdfs[0]}" >/dev/null
aios_unload
exit 0
