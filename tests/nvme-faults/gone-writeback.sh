#!/bin/bash
# A controller that vanishes with an aiosfs's writeback in flight: its
# removal ends what the controller had (it will complete nothing) before
# it removes the disk, so it returns within seconds instead of waiting
# forever in del_gendisk(); the sync that was writing back returns, a
# syncfs then fails with EIO, and the unmount ends.  Test build:
# fault_gone makes teardown find the controller gone and
# fault_drop_completion loses every completion meanwhile.  (No ext4 run:
# the fault is the driver's own; nvme.ko has no such hook.)
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters
mnt=/mnt/gone

# within SECONDS PID WHAT: fails unless PID ends within SECONDS.
within() {
	timeout "$1" tail --pid="$2" -f /dev/null || fail "$3 still running after $1 s"
}

aios_bind "$b"
wait_for_dev $dev
run mkfs.ext4 -q -F -b 4096 $dev
mkdir -p $mnt
run mount -t aiosfs $dev $mnt
head -c 32M /dev/urandom >$mnt/f
echo 1 >$P/fault_gone
echo 1000000 >$P/fault_drop_completion
sync &
sync_pid=$!
sleep 2
kill -0 $sync_pid 2>/dev/null || fail "sync ended while every completion was lost"
echo 1 >"/sys/bus/pci/devices/$b/remove" &
remove_pid=$!
within 30 $remove_pid "the removal"
within 30 $sync_pid "the sync"
echo 0 >$P/fault_drop_completion
echo 0 >$P/fault_gone
dmesg | grep -q "controller gone at removal: controller disabled" ||
	fail "no log line for the controller gone at removal"
sync -f $mnt/f 2>/dev/null && fail "syncfs on a volume whose disk was removed succeeded"
umount $mnt &
within 30 $! "the unmount"

echo 1 >/sys/bus/pci/rescan
for _ in $(seq 50); do [ -e "/sys/bus/pci/devices/$b" ] && break; sleep 0.1; done
[ -e "/sys/bus/pci/devices/$b" ] || fail "$b did not come back after a rescan"
aios_bind "$b"
wait_for_dev $dev
run dd if=$dev of=/dev/null bs=1M count=4 iflag=direct status=none
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
