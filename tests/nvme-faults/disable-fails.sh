#!/bin/bash
# A controller that does not disable when a reset or a failure needs it
# to loses bus mastering before its commands are ended, so that it cannot
# DMA into pages handed back meanwhile (test build: fault_disable makes
# the disable time out).  The I/O fails with EIO, nothing oopses or
# hangs, and a new binding brings the controller back.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters

# bus_master: 1 if the device's PCI command register has Bus Master set.
bus_master() {
	echo $((0x$(od -An -tx1 -j4 -N1 "/sys/bus/pci/devices/$b/config" | tr -d ' ') >> 2 & 1))
}

aios_bind "$b"
wait_for_dev $dev
assert_eq 1 "$(bus_master)" "bus mastering of a working controller"
echo 2 >$P/io_timeout
# The lost completion's reset, and then the failure it leads to, both
# find a controller that does not disable.
echo 2 >$P/fault_disable
echo 1 >$P/fault_drop_completion
if timeout 60 dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none; then
	fail "a read on a controller that could not be reset succeeded"
fi
echo 0 >$P/fault_drop_completion
assert_eq 0 "$(cat $P/fault_disable)" "disable faults left"
dmesg | grep -q "controller did not disable: bus mastering turned off" ||
	fail "no log line for the controller that did not disable"
assert_eq 0 "$(bus_master)" "bus mastering after the disable timed out"
timeout 60 dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &&
	fail "I/O to the failed controller succeeded"
echo 30 >$P/io_timeout
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"

aios_bind "$b"
wait_for_dev $dev
assert_eq 1 "$(bus_master)" "bus mastering after a new binding"
run dd if=$dev of=/dev/null bs=1M count=4 iflag=direct status=none
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
