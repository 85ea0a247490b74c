#!/bin/bash
# With interrupt handlers in threads, queue_stats still counts what the
# handler reaped as ended from the interrupt: reads on the interrupt-driven
# queues (libaio, QD8) end there.  Before, the count asked in_hardirq(),
# false in a thread, and every completion was counted as polled.
. "$AIOS_ROOT/tests/lib/common.sh"

grep -qw threadirqs /proc/cmdline || fail "not booted with threadirqs"
bdf=$(nvme_bdfs | head -n1)
trap '"$AIOS_ROOT/tools/aios-bind" --reset "$bdf" >/dev/null 2>&1; aios_unload' EXIT
aios_bind "$bdf"
dev=/dev/aiosnvme0n1
wait_for_dev $dev
stats=/sys/bus/pci/devices/$bdf/aiosnvme/queue_stats
# The handler runs in its own thread: irq/N-aiosnvme.
pgrep -f 'irq/[0-9]+-aiosnvme' >/dev/null || fail "no interrupt thread for aiosnvme"

# ended FIELD: the sum of FIELD (4: by the interrupt, 5: by a poller) over
# the interrupt-driven queues.
ended() {
	awk -v f="$1" '$2 == "irq" { n += $f } END { print n + 0 }' "$stats"
}
i0=$(ended 4) p0=$(ended 5)
fio --name=irq --filename=$dev --rw=randread --bs=4k --size=32M --number_ios=2000 \
    --direct=1 --ioengine=libaio --iodepth=8 --output-format=terse >/tmp/fio.out 2>&1 ||
	{ cat /tmp/fio.out; fail "fio failed"; }
cat "$stats"
irq=$(($(ended 4) - i0)) polled=$(($(ended 5) - p0))
echo "interrupt-driven queues: $irq ended by the interrupt thread, $polled by a poller"
[ "$irq" -ge 1900 ] || fail "only $irq of 2000 reads counted as ended by the interrupt"
exit 0
