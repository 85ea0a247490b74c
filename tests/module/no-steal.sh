#!/bin/bash
# Loading aios never takes an NVMe controller: nvme.ko keeps the ones it
# has, and with nvme.ko gone aiosnvme still takes none on its own.
. "$AIOS_ROOT/tests/lib/common.sh"

mapfile -t bdfs < <(nvme_bdfs)
[ ${#bdfs[@]} -ge 2 ] || fail "this test needs two NVMe controllers, found ${#bdfs[@]}"

run modprobe nvme
aios_load
for b in "${bdfs[@]}"; do
	assert_eq nvme "$(pci_driver "$b")" "driver of $b with nvme.ko and aios loaded"
done
run rmmod nvme
for b in "${bdfs[@]}"; do
	echo "$b" >/sys/bus/pci/drivers_probe 2>/dev/null
	assert_eq none "$(pci_driver "$b")" "driver of $b with only aios loaded"
done
aios_unload
exit 0
