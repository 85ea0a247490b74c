#!/bin/bash
# A probe that fails at any I/O queue unwinds cleanly: a log line, the
# bind fails, no oops (nor a slub_debug report), and the controller binds
# again afterwards.  Deep queues (io_queue_depth=2048, whose per-queue
# arrays outgrow kmalloc's limit) work, and a depth past what the
# controller and the driver allow is capped with a log line.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters

# verify_io: 4 MiB written and read back through the queues.
verify_io() {
	head -c 4M /dev/urandom >/tmp/blob
	run dd if=/tmp/blob of=$dev bs=256k oflag=direct status=none
	cmp <(head -c 4M $dev) /tmp/blob || fail "$1: data read back differs"
}

# QEMU's controller allows 2048 entries (CAP.MQES 2047).
for depth in 2048 100000; do
	aios_load io_queue_depth=$depth
	aios_bind "$b"
	wait_for_dev $dev
	dmesg | grep -q "poll queues of depth 2048" ||
		fail "io_queue_depth=$depth: queues not of depth 2048: $(dmesg | grep 'of depth')"
	verify_io "io_queue_depth=$depth"
	"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
	aios_unload
done
dmesg | grep -q "io_queue_depth=100000: using 2048" || fail "no log line for the capped depth"

# Queue N's interrupt fails (N), or its allocation (-N); queue 3 is the
# poll queue of a 2-vCPU guest (2 interrupt queues, then 1 poll queue).
nr_q=$(nproc)
aios_load
for n in 1 2 -1 -2 -$((nr_q + 1)); do
	echo "$n" >$P/fault_queue_setup
	before=$(dmesg | grep -c "cannot bring the controller up")
	"$AIOS_ROOT/tools/aios-bind" "$b" >/dev/null 2>&1
	echo 0 >$P/fault_queue_setup
	[ -e $dev ] && fail "fault_queue_setup=$n: the probe succeeded"
	[ "$(dmesg | grep -c "cannot bring the controller up")" = $((before + 1)) ] ||
		fail "fault_queue_setup=$n: no log line for the failed probe"
	"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null 2>&1 || true
done
aios_bind "$b"
wait_for_dev $dev
verify_io "after the failed probes"
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
