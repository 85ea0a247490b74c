#!/bin/bash
# Data written through aiosnvme reads back intact (fio verify=crc32c): every
# block size from 512 B to 1 MiB, sequential and random, QD1 to QD32, one
# and two jobs, O_DIRECT and buffered, psync, libaio and polled io_uring.
. "$AIOS_ROOT/tests/lib/common.sh"

aios_bind
dev=/dev/aiosnvme0n1
wait_for_dev $dev

job() {
	local name=$1
	shift
	echo "== $name"
	fio --name="$name" --filename=$dev --verify=crc32c --verify_fatal=1 \
	    --do_verify=1 --output-format=terse --minimal "$@" >/tmp/fio.out 2>&1 ||
		{ cat /tmp/fio.out; fail "fio $name failed"; }
	cut -d';' -f1-8 /tmp/fio.out
}

job seq-4k-qd1 --rw=write --bs=4k --size=32M --direct=1 --ioengine=psync
job rand-512-qd1 --rw=randwrite --bs=512 --size=4M --direct=1 --ioengine=psync
job rand-mixed-qd32 --rw=randwrite --bsrange=512-1M --blockalign=512 --size=128M \
	--direct=1 --ioengine=libaio --iodepth=32
job seq-1m-qd8 --rw=write --bs=1M --size=128M --direct=1 --ioengine=libaio --iodepth=8
job rand-2jobs --rw=randwrite --bs=16k --size=64M --offset_increment=64M --numjobs=2 \
	--direct=1 --ioengine=libaio --iodepth=16
job buffered --rw=randwrite --bs=8k --size=32M --direct=0 --ioengine=psync --fsync=64
job uring-hipri --rw=randwrite --bs=4k --size=16M --direct=1 --ioengine=io_uring \
	--hipri=1 --iodepth=4
# Polled I/O went through a poll queue, and only pollers ended it (waited
# psync I/O goes there too).  The counters are not atomic: pollers on two
# CPUs may lose a few updates.
stats=/sys/bus/pci/devices/$(nvme_bdfs | head -n1)/aiosnvme/queue_stats
cat "$stats"
awk '$2 == "poll" && $3 >= 4096 && $4 == 0 && $5 <= $3 && $5 >= $3 - 64 { ok = 1 }
     END { exit !ok }' "$stats" ||
	fail "no poll queue ended the io_uring hipri commands"
"$AIOS_ROOT/tools/aios-bind" --reset "$(nvme_bdfs | head -n1)" >/dev/null
aios_unload
exit 0
