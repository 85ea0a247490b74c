#!/bin/bash
# The module loads, registers both of its halves, and unloads without a
# trace, several times in a row.
. "$AIOS_ROOT/tests/lib/common.sh"

for i in 1 2 3; do
	echo "round $i"
	aios_load
	aios_loaded || fail "aios is not in /sys/module after insmod"
	grep -qw aiosfs /proc/filesystems || fail "aiosfs missing from /proc/filesystems"
	[ -d /sys/bus/pci/drivers/aiosnvme ] || fail "no PCI driver aiosnvme in /sys/bus/pci/drivers"
	dmesg | grep -q "aios $(modinfo -F version "$AIOS_KO") loaded" ||
		fail "no load message in the kernel log"
	aios_unload
	aios_loaded && fail "aios still loaded after rmmod"
	grep -qw aiosfs /proc/filesystems && fail "aiosfs still registered after rmmod"
	[ -e /sys/bus/pci/drivers/aiosnvme ] && fail "aiosnvme still registered after rmmod"
done
exit 0
