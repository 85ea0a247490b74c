#!/bin/bash
# Faults end in recovery or in an error, never in a hang or an oops.  A lost
# completion times out and resets the controller, and the command is sent
# again and succeeds, alone or under a verifying fio load; the controller
# keeps working afterwards.  A command lost again after three resends fails
# with an error; a controller that needs too many resets in a short time is
# failed for good.  Unbinding and removing the device under load complete
# every outstanding I/O; the controller can be bound again after each.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters

nr_resets() {
	dmesg | grep -c "reset after I/O timeout: "
}

# A completion that never comes: the read is sent again after a reset and
# returns the right data within a few seconds; admin passthrough commands
# issued meanwhile end too.
aios_bind "$b"
wait_for_dev $dev
echo 2 >$P/io_timeout
head -c 1M /dev/urandom >/tmp/blob
run dd if=/tmp/blob of=$dev bs=1M oflag=direct status=none
echo 1 >$P/fault_drop_completion
start=$(date +%s)
# Admin passthrough meanwhile, back to back, across the reset: each
# command ends, at worst with an error if it was on the device when the
# reset began (NVME_IOCTL_ADMIN_CMD, Identify Controller).
touch /tmp/admin-loop
python3 -c '
import ctypes, errno, fcntl, os, struct
buf = ctypes.create_string_buffer(4096)
fd = os.open("/dev/aiosnvme0", os.O_RDWR)
ok, errs = 0, {}
while os.path.exists("/tmp/admin-loop"):
    cmd = bytearray(struct.pack("=BBHIIIQQII6III", 0x06, 0, 0, 0, 0, 0, 0,
                                ctypes.addressof(buf), 0, 4096, 1, 0, 0, 0, 0, 0, 0, 0))
    try:
        fcntl.ioctl(fd, 0xC0484E41, cmd)
        ok += 1
    except OSError as e:
        errs[errno.errorcode[e.errno]] = errs.get(errno.errorcode[e.errno], 0) + 1
print("admin commands during the lost read:", ok, "ok, failed:", errs or "none")
' >/tmp/admin-loop.log 2>&1 &
admin_pid=$!
dd if=$dev of=/tmp/got bs=4k count=1 skip=7 iflag=direct status=none ||
	fail "a read whose completion was lost failed"
took=$(($(date +%s) - start))
echo "the lost read completed after ${took}s"
rm /tmp/admin-loop
timeout 20 tail --pid=$admin_pid -f /dev/null || fail "admin passthrough hung after a reset"
wait $admin_pid || { cat /tmp/admin-loop.log; fail "admin passthrough loop failed"; }
cat /tmp/admin-loop.log
[ $took -le 10 ] || fail "the lost read took ${took}s"
dd if=/tmp/blob of=/tmp/want bs=4k count=1 skip=7 status=none
cmp /tmp/want /tmp/got || fail "the resent read returned the wrong data"
dmesg | grep -q "took more than 2 s" || fail "no timeout message in the kernel log"
dmesg | grep -q "reset after I/O timeout: 1 commands resubmitted, 0 failed" ||
	fail "no reset line for the lost read: $(dmesg | grep -m3 aiosnvme | tail -n2)"
assert_eq 1 "$(nr_resets)" "resets after one lost completion"
# The controller works as before: I/O and admin commands.
cmp -n 1M /tmp/blob $dev || fail "data written before the reset does not read back"
nvme id-ctrl /dev/aiosnvme0 >/dev/null || fail "nvme id-ctrl after the reset failed"

# A completion lost under a verifying load (32 in flight, on the queues
# with interrupts): fio sees no error.
verify_job() {
	echo 1 >$P/fault_drop_completion
	fio --name=verify --filename=$dev --rw=randwrite --bs=4k --direct=1 \
	    --verify=crc32c --verify_fatal=1 --do_verify=1 "$@" >/tmp/fio0.log 2>&1 ||
		{ cat /tmp/fio0.log; fail "fio $* failed across a reset"; }
	assert_eq 0 "$(cat $P/fault_drop_completion)" "completions left to lose after fio $*"
}
verify_job --size=64M --ioengine=libaio --iodepth=32
assert_eq 2 "$(nr_resets)" "resets after the libaio run"
# The same for polled I/O (io_uring hipri), on a queue without interrupt.
verify_job --size=8M --ioengine=io_uring --hipri=1 --iodepth=4
assert_eq 3 "$(nr_resets)" "resets after the io_uring run"
# And for lbio waiters, who poll a queue without interrupt.
echo 1 >$P/fault_drop_completion
st=/sys/kernel/debug/aios/lbio_selftest
echo $dev >$st || fail "lbio self-test across a reset: $(cat $st)"
grep -q "^ok" $st || fail "lbio self-test across a reset: $(cat $st)"
assert_eq 4 "$(nr_resets)" "resets after the lbio self-test"
run dd if=$dev of=/dev/null bs=1M count=16 iflag=direct status=none
cat /sys/bus/pci/devices/$b/aiosnvme/queue_stats
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"

# A fresh binding (the reset budget is per controller): a read whose
# completion is lost on each of three resends fails after the fourth reset;
# other I/O goes on.
aios_bind "$b"
wait_for_dev $dev
echo 4 >$P/fault_drop_completion
if dd if=$dev of=/dev/null bs=4k count=1 skip=9 iflag=direct status=none; then
	fail "a read lost four times succeeded"
fi
assert_eq 8 "$(nr_resets)" "resets, after a read lost four times"
dmesg | grep -q "reset after I/O timeout: 0 commands resubmitted, 1 failed (passthrough, or timed out 4 times)" ||
	fail "no line for the command given up"
run dd if=$dev of=/dev/null bs=4k count=16 iflag=direct status=none

# Too many resets in a short time: the controller is failed, as before.
echo 100 >$P/fault_drop_completion
if dd if=$dev of=/dev/null bs=4k count=1 skip=11 iflag=direct status=none; then
	fail "a read on a controller that keeps losing completions succeeded"
fi
echo 0 >$P/fault_drop_completion
dmesg | grep -q "more than 5 controller resets within 60 s: controller disabled" ||
	fail "no message about too many resets"
dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &&
	fail "I/O to a failed controller succeeded"
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"

# Unbinding while a completion is lost: the read is resent by a reset
# that began before the unbind, or, since no reset happens during
# teardown, it times out and is cancelled; nothing hangs.
aios_bind "$b"
wait_for_dev $dev
echo 1 >$P/fault_drop_completion
dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none &
dd_pid=$!
sleep 0.5
start=$(date +%s)
timeout 60 "$AIOS_ROOT/tools/aios-bind" --reset "$b" || fail "unbinding with a lost completion failed"
took=$(($(date +%s) - start))
echo "unbinding with a lost completion took ${took}s"
[ $took -le 15 ] || fail "unbinding with a lost completion took ${took}s"
timeout 30 tail --pid=$dd_pid -f /dev/null || fail "dd still running 30 s after the unbind"
if wait $dd_pid; then
	echo "the lost read was resent before the unbind"
else
	echo "the lost read failed: the unbind came first"
fi
assert_eq 0 "$(cat $P/fault_drop_completion)" "completions left to lose after the unbind"
echo 30 >$P/io_timeout

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
