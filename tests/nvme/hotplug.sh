#!/bin/bash
# CPU hotplug under load: while fio writes and verifies on the disk, CPU 1
# goes offline for longer than the I/O timeout, and online again.  Commands
# in flight on CPU 1's queue complete while it is offline (its interrupt
# moves to CPU 0; a managed interrupt would be shut down, its completions
# held back until CPU 1 returns, and the commands would time out), the
# verify passes, I/O keeps working, and CPU 1's queue interrupt is steered
# back to it once it is online again.
. "$AIOS_ROOT/tests/lib/common.sh"

cpu=/sys/devices/system/cpu/cpu1
[ -w $cpu/online ] || skip "CPU 1 cannot be taken offline in this guest"
b=$(nvme_bdfs | head -n1)
aios_bind "$b"
dev=/dev/aiosnvme0n1
wait_for_dev $dev
P=/sys/module/aios/parameters
echo 2 >$P/io_timeout

# The CPUs each aiosnvme interrupt is steered to, sorted: "0 1" with 2 CPUs.
irq_cpus() {
	local i
	for i in $(awk '/aiosnvme/ { sub(":", "", $1); print $1 }' /proc/interrupts); do
		cat /proc/irq/$i/smp_affinity_list
	done | sort | xargs
}
assert_eq "0 1" "$(irq_cpus)" "interrupt affinity before hotplug"

verify_load() {
	fio --name=hotplug --filename=$dev --rw=randwrite --bs=4k --size=64M \
	    --offset_increment=64M --numjobs=2 --direct=1 --ioengine=libaio --iodepth=16 \
	    --verify=crc32c --verify_fatal=1 --do_verify=1 "$@" >/tmp/fio.log 2>&1
}

# Deep queues of large writes keep each queue busy for a while, so that
# CPU 1's queue still has commands on the device when it goes offline.
verify_load --bs=512k --iodepth=128 --loops=4 &
fio_pid=$!
sleep 1
cycles=0
while kill -0 $fio_pid 2>/dev/null; do
	echo 0 >$cpu/online || fail "cannot take CPU 1 offline"
	sleep 3
	echo 1 >$cpu/online || fail "cannot bring CPU 1 back online"
	cycles=$((cycles + 1))
	sleep 1
done
wait $fio_pid || { cat /tmp/fio.log; fail "fio verify failed across CPU hotplug"; }
echo "CPU 1 went offline and online $cycles times under fio"
[ $cycles -ge 1 ] || fail "fio ended before CPU 1 went offline"
assert_eq 1 "$(cat $cpu/online)" "CPU 1 online at the end"
assert_eq "0 1" "$(irq_cpus)" "interrupt affinity after hotplug"

# With CPU 1 offline, fresh I/O from CPU 0 goes to a live queue.
echo 0 >$cpu/online || fail "cannot take CPU 1 offline"
verify_load --size=16M || { echo 1 >$cpu/online; cat /tmp/fio.log; fail "fio with CPU 1 offline"; }
echo 1 >$cpu/online || fail "cannot bring CPU 1 back online"

# And everything again with both CPUs.
verify_load --size=16M || { cat /tmp/fio.log; fail "fio after CPU hotplug"; }
# A lost interrupt would only show as a timeout and a reset.
dmesg | grep -q "took more than" && fail "a command timed out: $(dmesg | grep -m1 'took more than')"
cat /sys/bus/pci/devices/$b/aiosnvme/queue_stats
echo 30 >$P/io_timeout
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
