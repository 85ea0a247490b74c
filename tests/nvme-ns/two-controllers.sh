#!/bin/bash
# aiosnvme drives several controllers at once, and every active namespace
# of a controller becomes its own disk, with its own size and contents.
. "$AIOS_ROOT/tests/lib/common.sh"

mapfile -t bdfs < <(nvme_bdfs)
[ ${#bdfs[@]} -eq 2 ] || fail "expected two NVMe controllers, found ${#bdfs[@]}"
aios_bind "${bdfs[0]}"
aios_bind "${bdfs[1]}"
declare -A size=([aiosnvme0n1]=96 [aiosnvme0n2]=64 [aiosnvme1n1]=32)
for d in "${!size[@]}"; do
	wait_for_dev /dev/$d
	assert_eq $((size[$d] << 20)) "$(blockdev --getsize64 /dev/$d)" "size of $d"
	echo "$d" | dd of=/dev/$d bs=4096 conv=sync oflag=direct status=none ||
		fail "cannot write $d"
done
for d in "${!size[@]}"; do
	got=$(dd if=/dev/$d bs=4096 count=1 iflag=direct status=none | tr -d '\0')
	assert_eq "$d" "$got" "first block of $d"
done
# Each controller has its own passthrough device and queues.
for c in aiosnvme0 aiosnvme1; do
	for i in $(seq 50); do [ -c /dev/$c ] && break; sleep 0.1; done
	[ -c /dev/$c ] || fail "no /dev/$c"
done
run "$AIOS_ROOT/tools/aios-bind" --reset "${bdfs[0]}" "${bdfs[1]}"
for d in "${!size[@]}"; do
	[ -e /sys/block/$d ] && fail "$d still there after unbinding"
done
aios_unload
exit 0
