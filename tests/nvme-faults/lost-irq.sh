#!/bin/bash
# A completion whose interrupt is lost is found by the watchdog when the
# command passes its deadline: a log line, the I/O succeeds, and the
# controller is not reset (test build: fault_drop_irq ignores the next
# interrupts).  Before, the watchdog reset a controller that had done
# its work.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters
aios_bind "$b"
wait_for_dev $dev
echo 2 >$P/io_timeout
head -c 64k /dev/urandom >/tmp/irq-blob
run dd if=/tmp/irq-blob of=$dev bs=64k oflag=direct status=none
# libaio: not waited for in submit_bio, so on a queue with an interrupt.
echo 1 >$P/fault_drop_irq
start=$(date +%s)
fio --name=lost --filename=$dev --rw=read --bs=4k --size=4k --direct=1 --ioengine=libaio \
	--iodepth=1 --verify=0 >/tmp/irq-fio.log 2>&1 || { cat /tmp/irq-fio.log; fail "the read failed"; }
took=$(($(date +%s) - start))
echo "the read whose interrupt was lost took ${took}s"
assert_eq 0 "$(cat $P/fault_drop_irq)" "interrupts left to lose"
dmesg | grep -q "completions found past their deadline without an interrupt" ||
	fail "no log line for the completion found without its interrupt"
dmesg | grep "reset after I/O timeout" && fail "the controller was reset for a lost interrupt"
[ "$took" -le 20 ] || fail "the read took ${took}s"
cmp -n 64k /tmp/irq-blob $dev || fail "data read back differs"
echo 30 >$P/io_timeout
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
