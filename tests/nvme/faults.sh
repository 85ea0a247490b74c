#!/bin/bash
# Faults end I/O with an error, never with a hang or an oops: a lost
# completion times out and fails the controller; unbinding and removing
# the device under load complete every outstanding I/O; the controller can
# be bound again after each.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters

# A completion that never comes: the read fails within a few seconds.
aios_bind "$b"
wait_for_dev $dev
echo 2 >$P/io_timeout
echo 1 >$P/fault_drop_completion
start=$(date +%s)
if dd if=$dev of=/dev/null bs=4k count=1 skip=7 iflag=direct status=none; then
	fail "a read whose completion was lost succeeded"
fi
took=$(($(date +%s) - start))
echo "the lost read failed after ${took}s"
[ $took -le 10 ] || fail "the lost read took ${took}s to fail"
dmesg | grep -q "took more than 2 s" || fail "no timeout message in the kernel log"
dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &&
	fail "I/O to a failed controller succeeded"
echo 30 >$P/io_timeout
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"

# Unbinding under load: fio sees errors and ends; nothing hangs.
aios_bind "$b"
wait_for_dev $dev
fio --name=load --filename=$dev --direct=1 --rw=randrw --bs=4k --ioengine=libaio \
    --iodepth=16 --numjobs=2 --time_based --runtime=60 --size=64M >/tmp/fio1.log 2>&1 &
fio_pid=$!
sleep 3
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
timeout 30 tail --pid=$fio_pid -f /dev/null || fail "fio still running 30 s after the unbind"
wait $fio_pid && fail "fio did not notice that its disk went away"

# Removing the device under load, then finding it again.
aios_bind "$b"
wait_for_dev $dev
fio --name=load --filename=$dev --direct=1 --rw=randwrite --bs=64k --ioengine=libaio \
    --iodepth=32 --time_based --runtime=60 --size=64M >/tmp/fio2.log 2>&1 &
fio_pid=$!
sleep 3
echo 1 >/sys/bus/pci/devices/$b/remove
timeout 30 tail --pid=$fio_pid -f /dev/null || fail "fio still running 30 s after the removal"
wait $fio_pid
echo 1 >/sys/bus/pci/rescan
for i in $(seq 50); do [ -e /sys/bus/pci/devices/$b ] && break; sleep 0.1; done
[ -e /sys/bus/pci/devices/$b ] || fail "$b did not come back after a rescan"

# The controller works again, under aiosnvme and under nvme.ko.
aios_bind "$b"
wait_for_dev $dev
head -c 1M /dev/urandom >/tmp/blob
run dd if=/tmp/blob of=$dev bs=1M oflag=direct status=none
cmp -n 1M /tmp/blob $dev || fail "data written after the faults does not read back"
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
aios_unload
exit 0
