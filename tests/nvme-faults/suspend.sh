#!/bin/bash
# System sleep with writes in flight: the controller gets its shutdown
# notification before the sleep, and is enabled with its queues again
# after it; the writes that waited meanwhile are sent, fio verifies them,
# and no command needs the watchdog.  The sleep is the test build's
# pm_cycle (the driver's suspend callback, 3 s, its resume callback, under
# the device lock as the PM core runs them), since a guest under TCG does
# not wake from a real one (rtcwake -m freeze stayed asleep) and the
# guest's 9p share does not survive even the kernel's pm_test.  So the PCI
# core's own steps (D3 and back) are not part of it, and nvme.ko, which
# has no such hook, is not run beside it.  Before, aiosnvme had no power
# callbacks at all: the controller slept with no shutdown notification.
# Then it was shut down with the writes on it, and the guest's QEMU
# sometimes died in nvme_rw_complete_cb (CI, 6.1).
. "$AIOS_ROOT/tests/lib/common.sh"

cycle=/sys/kernel/debug/aios/pm_cycle
b=$(nvme_bdfs | head -n1)
P=/sys/module/aios/parameters
aios_bind "$b"
dev=/dev/aiosnvme0n1
wait_for_dev $dev
[ -w $cycle ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -w $cycle ] || fail "no $cycle (test build)"
echo 5 >$P/io_timeout

fio --name=sleep --filename=$dev --rw=randwrite --bs=64k --size=32M --direct=1 \
    --ioengine=libaio --iodepth=8 --verify=crc32c --verify_fatal=1 --do_verify=1 \
    --loops=4 >/tmp/sleep-fio.log 2>&1 &
fio_pid=$!
sleep 2
kill -0 $fio_pid || { cat /tmp/sleep-fio.log; fail "fio ended before the sleep"; }
for i in 1 2; do
	echo "$b 3000" >$cycle || fail "pm_cycle failed"
	sleep 1
done
wait $fio_pid || { cat /tmp/sleep-fio.log; fail "fio verify failed across the sleeps"; }
dmesg | grep "aiosnvme.*shut down for suspend"
assert_eq 2 "$(dmesg | grep -c "aiosnvme.*shut down for suspend")" "shutdowns before a sleep"
# The writes on the device complete before its shutdown, which may drop
# them (QEMU's then crashed at times); before, it was shut down under them.
assert_eq 2 "$(dmesg | grep -c "aiosnvme.*shut down for suspend, 0 commands abandoned")" \
	"shutdowns with nothing in flight"
dmesg | grep "aiosnvme.*resumed: "
assert_eq 2 "$(dmesg | grep -c "aiosnvme.*resumed: ")" "resumes"
dmesg | grep -E "aiosnvme.*(reset after|took more than)" && fail "a command needed the watchdog"
start=$(date +%s%N)
run dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none
echo "a read after the resumes took $((($(date +%s%N) - start) / 1000000)) ms"
echo 30 >$P/io_timeout
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
