#!/bin/bash
# Format NVM through passthrough to 4 KiB blocks and back to 512 bytes,
# as nvme.ko does it: aiosnvme fences the namespace (no I/O in flight, new
# I/O waits), identifies it again and takes its new block size, so the
# disk reports what nvme.ko's disk of the second controller reports and
# O_DIRECT I/O of 4 KiB, 12 KiB and 1 MiB reads back what was written.  A
# reader running through each format sees data or an error, never an oops
# or a slub_debug report (a read built for 512-byte blocks after the
# format to 4 KiB would move eight times its buffer).
. "$AIOS_ROOT/tests/lib/common.sh"

bind_first_keep_second
aios=/dev/aiosnvme0n1 stock=$STOCK_DISK

# check DEV: block size, size, and data read back in three sizes.
check() {
	local d=$1 sz
	head -c 1M /dev/urandom >/tmp/fmt-data
	dd if=/tmp/fmt-data of="$d" bs=1M oflag=direct status=none || echo "write failed"
	for sz in 4k 12k 1M; do
		dd if="$d" of=/tmp/fmt-got bs=$sz count=1 iflag=direct status=none || echo "$sz read failed"
		head -c "$(stat -c %s /tmp/fmt-got)" /tmp/fmt-data | cmp -s - /tmp/fmt-got ||
			echo "$sz read differs"
	done
	echo "block size $(blockdev --getss "$d"), size $(blockdev --getsize64 "$d")"
}

# sequence DEV: the checks after a format to LBA format 4 (4096) and 0 (512).
sequence() {
	local d=$1 lbaf rpid
	for lbaf in 4 0; do
		(while :; do dd if="$d" of=/dev/null bs=4k count=8 iflag=direct status=none; done) \
			>/dev/null 2>&1 &
		rpid=$!
		sleep 0.5
		nvme format "$d" --lbaf=$lbaf --force >/tmp/fmt-out 2>&1 ||
			{ kill $rpid; cat /tmp/fmt-out; echo "format to $lbaf failed"; return; }
		kill $rpid
		wait $rpid 2>/dev/null
		echo "LBA format $lbaf: $(check "$d" | xargs)"
	done
}

want=$(sequence "$stock")
echo "nvme.ko:  $want"
echo "$want" | grep -q "failed\|differs" && fail "the format sequence failed on nvme.ko"
echo "$want" | grep -q "block size 4096" || fail "nvme.ko's disk never had 4096-byte blocks"
got=$(sequence $aios)
echo "aiosnvme: $got"
assert_eq "$want" "$got" "block sizes, sizes and data after each format"
dmesg | grep -q "namespace 1: 4096-byte blocks now" || fail "no log line for the new block size"
"$AIOS_ROOT/tools/aios-bind" --reset "$(nvme_bdfs | head -n1)" >/dev/null
aios_unload
exit 0
