#!/bin/bash
# A PCI link lost for good with an aiosfs's writes in flight: the driver's
# perm_failure callback fails the controller with a log line, the writes
# end with EIO rather than wait, a sync and the unmount end, the unbind
# takes seconds, and a fresh bind works.  The PCI core calls it when a
# link reset after an error fails, which QEMU's root ports cannot be made
# to do: the test build's pci_lost runs the callback as the core would.
# (No nvme.ko run: the hook is the driver's own.)
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
mnt=/mnt/lost
lost=/sys/kernel/debug/aios/pci_lost

# within SECONDS PID WHAT: fails unless PID ends within SECONDS.
within() {
	timeout "$1" tail --pid="$2" -f /dev/null || fail "$3 still running after $1 s"
}

trap '"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null 2>&1; aios_unload' EXIT
aios_bind "$b"
wait_for_dev $dev
[ -w $lost ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -w $lost ] || fail "no $lost (test build)"
run mkfs.ext4 -q -F -b 4096 $dev
mkdir -p $mnt
run mount -t aiosfs $dev $mnt
fio --name=lost --directory=$mnt --rw=randwrite --bs=16k --size=32M --ioengine=libaio \
    --iodepth=8 --direct=1 --time_based --runtime=60 >/tmp/lost-fio.log 2>&1 &
fio_pid=$!
sleep 2
kill -0 $fio_pid || { cat /tmp/lost-fio.log; fail "fio ended before the link was lost"; }
echo "$b" >$lost || fail "pci_lost failed"
within 20 $fio_pid "fio on a controller whose link was lost"
wait $fio_pid && fail "fio's writes succeeded after the link was lost"
grep -m3 -E "error|err=" /tmp/lost-fio.log
grep -q "Input/output error" /tmp/lost-fio.log || fail "fio ended without EIO"
dmesg | grep -q "aiosnvme.*PCI link failed for good: controller disabled" ||
	fail "no log line for the lost link"
sync &
within 30 $! "a sync after the link was lost"
sync -f $mnt 2>/dev/null && fail "syncfs on a volume whose link was lost succeeded"
umount $mnt &
within 30 $! "the unmount"
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null &
within 30 $! "the unbind"
# The hook touched only the driver: the controller itself still works.
aios_bind "$b"
wait_for_dev $dev
run dd if=$dev of=/dev/null bs=1M count=4 iflag=direct status=none
exit 0
