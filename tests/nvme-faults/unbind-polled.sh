#!/bin/bash
# Unbinding a controller while io_uring polls for its I/O (hipri, on a poll
# queue) ends soon, as on nvme.ko: what the device completed is reaped, the
# rest fails, and the unbind does not wait out the I/O timeout.  Before, it
# took the full timeout, since a removed disk's bios are no longer polled
# by their submitter.  nvme.ko, given a poll queue, is run the same way on
# the second controller.  On both, fio may go on until its runtime ends
# after the disk is gone (io_uring keeps polling a dead disk): that is
# reported, not asserted.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
b2=$(nvme_bdfs | sed -n 2p)
P=/sys/module/aios/parameters
bind_first_keep_second
dev=/dev/aiosnvme0n1
echo 20 >$P/io_timeout

# Polled random reads at depth 16 for 8 s, the unbind 3 s in.
polled_load() {
	fio --name=polled --filename="$1" --rw=randread --bs=4k --size=128M --direct=1 \
	    --ioengine=io_uring --hipri=1 --iodepth=16 --time_based --runtime=8 \
	    >"$2" 2>&1
}

# Milliseconds the unbind of $1 from driver $2 takes while $3 is under polled load.
unbind_under_load() {
	local start took ended pid
	polled_load "$3" /tmp/polled-$2.log &
	pid=$!
	sleep 3
	kill -0 $pid 2>/dev/null || { cat /tmp/polled-$2.log; fail "fio on $3 ended early"; }
	start=$(date +%s%N)
	echo "$1" >/sys/bus/pci/drivers/$2/unbind || fail "unbind of $1 from $2 failed"
	took=$((($(date +%s%N) - start) / 1000000))
	# fio sees errors for the reads after the removal, on both drivers.
	wait $pid || true
	ended=$((($(date +%s%N) - start) / 1000000))
	tail -n 5 /tmp/polled-$2.log >&2
	echo "$took $ended"
}

# nvme.ko with one poll queue: the module parameter applies at its next probe.
echo 1 >/sys/module/nvme/parameters/poll_queues
echo "$b2" >/sys/bus/pci/drivers/nvme/unbind
echo "$b2" >/sys/bus/pci/drivers/nvme/bind
STOCK_DISK=$(stock_disk "$b2") || exit 1
# Right after the probe, O_DIRECT opens of the new disk may fail for a while.
for i in $(seq 50); do
	fio --name=ready --filename="$STOCK_DISK" --rw=randread --bs=4k --size=1M --direct=1 \
	    --ioengine=io_uring --hipri=1 >/dev/null 2>&1 && break
	sleep 0.2
done
read -r stock stock_end < <(unbind_under_load "$b2" nvme "$STOCK_DISK")
read -r ours ours_end < <(unbind_under_load "$b" aiosnvme $dev)
echo "unbind under polled load: aiosnvme ${ours} ms, nvme.ko ${stock} ms"
echo "fio ended after the unbind began: aiosnvme ${ours_end} ms, nvme.ko ${stock_end} ms"
dmesg | grep "timed out during teardown" && fail "a command timed out during the unbind"
[ "$ours" -lt 10000 ] || fail "the unbind took ${ours} ms"
aios_unload
exit 0
