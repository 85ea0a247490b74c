#!/bin/bash
# aios-bind hands a controller to aiosnvme and back; the disk has the size
# and queue limits the controller reports; unloading aios while it is bound
# releases it cleanly.
. "$AIOS_ROOT/tests/lib/common.sh"

mapfile -t bdfs < <(nvme_bdfs)
b=${bdfs[0]}
run modprobe nvme
assert_eq nvme "$(pci_driver "$b")" "driver before binding"

aios_bind "$b"
assert_eq aiosnvme "$(pci_driver "$b")" "driver after aios-bind"
wait_for_dev /dev/aiosnvme0n1
assert_eq $((256 << 20)) "$(blockdev --getsize64 /dev/aiosnvme0n1)" "disk size"
assert_eq 512 "$(blockdev --getss /dev/aiosnvme0n1)" "logical block size"
q=/sys/block/aiosnvme0n1/queue
assert_eq "write back" "$(cat $q/write_cache)" "write cache (QEMU reports a volatile cache)"
assert_eq 1 "$(cat $q/fua)" "FUA"
assert_eq 1 "$(cat $q/io_poll)" "io_poll"
[ "$(cat $q/max_hw_sectors_kb)" -ge 128 ] || fail "max_hw_sectors_kb $(cat $q/max_hw_sectors_kb)"
a=/sys/bus/pci/devices/$b/aiosnvme
assert_eq "QEMU NVMe Ctrl" "$(cat $a/model)" "model attribute"
assert_eq aios0 "$(cat $a/serial)" "serial attribute"
[ "$(cat $a/queue_count)" -ge 1 ] || fail "queue_count $(cat $a/queue_count)"
[ "$(cat $a/queue_depth)" -ge 2 ] || fail "queue_depth $(cat $a/queue_depth)"
"$AIOS_ROOT/tools/aios-bind" | grep -q "^$b *aiosnvme *aiosnvme0n1" ||
	fail "aios-bind does not list $b on aiosnvme: $("$AIOS_ROOT/tools/aios-bind")"
# The other controller stays where it was.
assert_eq nvme "$(pci_driver "${bdfs[1]}")" "driver of the other controller"

run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
assert_eq nvme "$(pci_driver "$b")" "driver after --reset"
[ -e /dev/aiosnvme0n1 ] && [ -e /sys/block/aiosnvme0n1 ] && fail "aiosnvme0n1 left behind"

# Bound again, then the module goes away under it.
aios_bind "$b"
wait_for_dev /dev/aiosnvme0n1
dd if=/dev/aiosnvme0n1 of=/dev/null bs=1M count=4 iflag=direct status=none || fail "read failed"
run rmmod aios
assert_eq none "$(pci_driver "$b")" "driver after rmmod aios"
[ -e /sys/block/aiosnvme0n1 ] && fail "disk still registered after rmmod"
aios_bind "$b"
wait_for_dev /dev/aiosnvme0n1
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
aios_unload
exit 0
