#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PCI resets with writes in flight: two function resets asked for through
# sysfs, then a fatal PCI error on the controller's root port (aer_inject),
# whose recovery resets the link, and a non-fatal one, which leaves it up.
# The driver stops its queues before each reset and sets the controller up
# again after it; the writes that waited meanwhile are sent, fio verifies
# them, and no command needs the watchdog.  nvme.ko goes through the same
# on the second controller, as the answer.  Before, aiosnvme had no PCI
# error handlers: the controller lost its commands at each reset, and the
# fatal error ended with it failed for good (fio saw EIO).
. "$AIOS_ROOT/tests/lib/common.sh"

# root_port BDF: the PCIe root port above the controller at BDF.
root_port() {
	basename "$(readlink -f "/sys/bus/pci/devices/$1/..")"
}
b=$(nvme_bdfs | head -n1)
[ -e "/sys/bus/pci/devices/$(root_port "$b")/aer_rootport_total_err_fatal" ] ||
	skip "$b has no PCIe root port with AER above it (aios-vm -P)"
P=/sys/module/aios/parameters
modprobe aer_inject || fail "no aer_inject module"

# aer_error PORT BIT: an uncorrectable error with status bit BIT reported
# by the root port at PORT, and the PCI core's recovery from it, to its
# end: bit 18 (a malformed TLP) is fatal and resets the link, bit 16 (an
# unexpected completion) is not, and leaves it up.  struct aer_error_inj
# is bus, device, function, a pad byte, then the uncorrectable and
# correctable status, four header words and the domain.
aer_error() {
	local ended i=0
	ended=$(dmesg | grep -c "pcieport $1: AER: device recovery")
	python3 - "$1" "$2" <<'EOF' || return 1
import struct, sys
dom, bus, rest = sys.argv[1].split(':')
dev, fn = rest.split('.')
with open('/dev/aer_inject', 'wb', buffering=0) as f:
    f.write(struct.pack('<BBBxIIIIIII', int(bus, 16), int(dev, 16), int(fn, 16),
                        1 << int(sys.argv[2]), 0, 0, 0, 0, 0, int(dom, 16)))
EOF
	while [ "$(dmesg | grep -c "pcieport $1: AER: device recovery")" = "$ended" ]; do
		[ $i -lt 100 ] || { echo "no end of the recovery in 20 s"; return 1; }
		sleep 0.2
		i=$((i + 1))
	done
	dmesg | grep "pcieport $1: AER: device recovery" | tail -n1 | grep -q successful
}

flr() {
	echo 1 >"/sys/bus/pci/devices/$1/reset"
}

# loaded DEV WHAT CMD...: CMD while fio writes and verifies on DEV.
loaded() {
	local dev=$1 what=$2 log=/tmp/pci-reset-fio.log fio_pid
	shift 2
	fio --name=reset --filename="$dev" --rw=randwrite --bs=64k --size=32M --direct=1 \
	    --ioengine=libaio --iodepth=8 --verify=crc32c --verify_fatal=1 --do_verify=1 \
	    --loops=2 >$log 2>&1 &
	fio_pid=$!
	sleep 1
	kill -0 $fio_pid || { cat $log; fail "$what: fio ended before '$*'"; }
	"$@" || fail "$what: '$*' failed"
	wait $fio_pid || { cat $log; fail "$what: fio verify failed across '$*'"; }
	echo "$what: fio verified its writes across '$*'"
}

# resets DEV BDF WHAT: two function resets, a fatal error at the root port
# and a non-fatal one, each under load, on DEV, a disk of the controller
# at BDF.
resets() {
	loaded "$1" "$3" flr "$2"
	loaded "$1" "$3" flr "$2"
	loaded "$1" "$3" aer_error "$(root_port "$2")" 18
	loaded "$1" "$3" aer_error "$(root_port "$2")" 16
}

# A failed check must not leave the controller to the next test.
trap '"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null 2>&1; aios_unload' EXIT
bind_first_keep_second
echo 5 >$P/io_timeout
resets "$STOCK_DISK" "$(nvme_bdfs | sed -n 2p)" nvme.ko
dev=/dev/aiosnvme0n1
resets $dev "$b" aiosnvme
dmesg | grep -E "aiosnvme.*(PCI|reset)"
assert_eq 2 "$(dmesg | grep -c "aiosnvme.*PCI function reset: I/O waits")" "function resets seen"
assert_eq 1 "$(dmesg | grep -c "aiosnvme.*PCI link frozen by an error")" "frozen links seen"
assert_eq 1 "$(dmesg | grep -c "aiosnvme.*PCI error reported; the link still works")" \
	"non-fatal errors seen"
assert_eq 3 "$(dmesg | grep -c "aiosnvme.*back from a PCI reset: .*, 0 failed")" "set-ups after a reset"
dmesg | grep -qE "aiosnvme.*back from a PCI reset: [1-9]" ||
	fail "no reset had a write waiting for it"
dmesg | grep -E "aiosnvme.*(reset after|took more than|controller disabled)" &&
	fail "a command needed the watchdog, or the controller failed"
run dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none
echo 30 >$P/io_timeout
exit 0
