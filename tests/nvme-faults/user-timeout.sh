#!/bin/bash
# A passthrough caller's own short timeout (timeout_ms) is the caller's
# business: the command that outlives it ends with an error, the
# controller is reset as nvme.ko resets it (the command is not sent again),
# and it stays usable however often that happens.  Only timeouts of the driver's own count towards the
# reset budget.  The completions are lost on purpose (test build:
# fault_drop_completion), so that each call outlives its 1 ms; nvme.ko has
# no such hook, so there is no run beside it.  Before, the sixth such call
# within a minute failed the controller for good.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
dev=/dev/aiosnvme0n1
P=/sys/module/aios/parameters
aios_bind "$b"
wait_for_dev $dev
head -c 1M /dev/urandom >/tmp/ut-blob
run dd if=/tmp/ut-blob of=$dev bs=1M oflag=direct status=none

# Reads through the I/O passthrough, each with its completion lost.
timed_out=0
for i in $(seq 8); do
	echo 1 >$P/fault_drop_completion
	if nvme io-passthru $dev --opcode=2 --namespace-id=1 --data-len=4096 --read \
		--cdw10=0 --cdw12=7 --timeout=1 >/tmp/ut-io.out 2>&1; then
		echo "call $i: ended without error"
	else
		timed_out=$((timed_out + 1))
	fi
done
echo 0 >$P/fault_drop_completion
echo "I/O passthrough calls that timed out: $timed_out of 8"
# As on nvme.ko, a passthrough command is not sent again after the reset.
assert_eq 8 "$timed_out" "I/O passthrough calls that ended with an error"

# Admin commands with a 1 ms timeout, back to back; some may outlive it.
for i in $(seq 20); do
	nvme admin-passthru /dev/aiosnvme0 --opcode=6 --cdw10=1 --data-len=4096 --read \
		--timeout=1 >/dev/null 2>&1 || true
done

dmesg | grep "controller disabled" && fail "user timeouts failed the controller"
cmp -n 1M /tmp/ut-blob $dev || fail "the controller no longer reads back its data"
run nvme id-ctrl /dev/aiosnvme0 >/dev/null
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
