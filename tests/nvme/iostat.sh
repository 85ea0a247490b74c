#!/bin/bash
# The disk keeps I/O statistics (/sys/block/*/stat, /proc/diskstats, what
# iostat reads): a known dd and a known fio run are counted exactly, on the
# disk and on a partition, nothing stays in flight, and the queue's
# iostats switch turns the counting off and on.
. "$AIOS_ROOT/tests/lib/common.sh"

aios_bind
dev=/dev/aiosnvme0n1
wait_for_dev $dev
sys=/sys/block/aiosnvme0n1
assert_eq 1 "$(cat $sys/queue/iostats)" "queue/iostats"

# Fields of the stat file: 1 reads, 3 sectors read, 5 writes, 7 sectors
# written, 9 in flight, 10 busy time (ms), 12 discards, 14 sectors discarded.
field() {
	awk -v f="$2" '{ print $f }' "$1"
}
declare -A before
snap() {
	local f
	for f in 1 3 5 7 12 14; do before[$f]=$(field "$1" $f); done
}
# delta STATFILE FIELD EXPECTED WHAT
delta() {
	assert_eq "$3" $(($(field "$1" "$2") - before[$2])) "$4"
}

snap $sys/stat
run dd if=$dev of=/dev/null bs=4k count=100 iflag=direct status=none
run dd if=/dev/zero of=$dev bs=64k count=10 oflag=direct status=none
delta $sys/stat 1 100 "reads counted after 100 reads"
delta $sys/stat 3 800 "sectors read after 100 reads of 4 KiB"
delta $sys/stat 5 10 "writes counted after 10 writes"
delta $sys/stat 7 1280 "sectors written after 10 writes of 64 KiB"
assert_eq 0 "$(field $sys/stat 9)" "I/O in flight once idle"
# Busy time grows only when a jiffy boundary falls inside an I/O (a 4 KiB
# read is ~0.1 ms of a 4 ms jiffy), so 110 I/Os count none now and then:
# the block layer counts it so for every driver (as its source reads; not
# tried on nvme.ko).  Read on until it moves; fail only after 50 times as many.
for i in $(seq 50); do
	[ "$(field $sys/stat 10)" -gt 0 ] && break
	dd if=$dev of=/dev/null bs=4k count=100 iflag=direct status=none
done
[ "$(field $sys/stat 10)" -gt 0 ] || fail "no busy time counted after 5000 reads: $(cat $sys/stat)"
grep -q " aiosnvme0n1 " /proc/diskstats || fail "aiosnvme0n1 missing from /proc/diskstats"

# Asynchronous I/O on the queues with interrupts: 1024 reads of 4 KiB.
snap $sys/stat
run fio --name=acct --filename=$dev --rw=randread --bs=4k --size=4M --direct=1 \
	--ioengine=libaio --iodepth=16 --norandommap --randrepeat=0 --output=/dev/null
delta $sys/stat 1 1024 "reads counted after fio"
delta $sys/stat 3 8192 "sectors read after fio"

# Discard is counted as such.
snap $sys/stat
run blkdiscard -o 0 -l 1M $dev
delta $sys/stat 12 1 "discards counted"
delta $sys/stat 14 2048 "sectors discarded"

# A partition has its own counters; the disk counts its I/O too.
printf 'label: gpt\nstart=1MiB,size=16MiB\n' | sfdisk -q $dev || fail "sfdisk failed"
wait_for_dev ${dev}p1
psys=$sys/aiosnvme0n1p1
snap $psys/stat
run dd if=${dev}p1 of=/dev/null bs=4k count=10 iflag=direct status=none
delta $psys/stat 1 10 "partition reads"
snap $sys/stat
run dd if=${dev}p1 of=/dev/null bs=4k count=10 iflag=direct status=none
delta $sys/stat 1 10 "disk reads through its partition"

# Counting off: nothing moves; on again: counted again.
echo 0 >$sys/queue/iostats
snap $sys/stat
run dd if=$dev of=/dev/null bs=4k count=10 iflag=direct status=none
delta $sys/stat 1 0 "reads counted with iostats off"
echo 1 >$sys/queue/iostats
snap $sys/stat
run dd if=$dev of=/dev/null bs=4k count=10 iflag=direct status=none
delta $sys/stat 1 10 "reads counted with iostats on again"

"$AIOS_ROOT/tools/aios-bind" --reset "$(nvme_bdfs | head -n1)" >/dev/null
aios_unload
exit 0
