#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fio's verify over files ext4 wrote, read through aiosfs on aiosnvme with a
# cold cache: two jobs reading the same file at once (sequentially and at
# random, buffered and O_DIRECT), every block's checksum and offset header
# checked.
. "$AIOS_ROOT/tests/lib/common.sh"

mnt=/tmp/fsaio.verify
mkdir -p $mnt
trap "umount $mnt 2>/dev/null" EXIT
aios_bind "$(nvme_bdfs | head -n1)"
dev=/dev/aiosnvme0n1
wait_for_dev $dev
run mkfs.ext4 -q -F $dev
run mount -t ext4 $dev $mnt

# fio_job NAME RW EXTRA...: the job that wrote NAME, and that verifies it.
fio_job() {
	local name=$1 rw=$2
	shift 2
	fio --name="$name" --filename="$mnt/$name" --size=16M --bs=4k --rw="$rw" \
	    --verify=crc32c --verify_fatal=1 "$@"
}
for f in seq rnd; do
	rw=write
	[ $f = rnd ] && rw=randwrite
	fio_job $f $rw --do_verify=0 --randseed=4242 >/tmp/fio-$f-w.log 2>&1 || { cat /tmp/fio-$f-w.log; fail "writing $f"; }
done
# No headers: proves that the reads below really check something.
run dd if=/dev/urandom of=$mnt/junk bs=1M count=4 status=none
run umount $mnt
run mount -t aiosfs -o ro $dev $mnt
fio_job junk read --size=4M --readonly >/tmp/fio.log 2>&1 && { cat /tmp/fio.log; fail "verify passed over random data"; }

# Reading with verify= checks each block's header (offset) and checksum.
# The first pass also counts the stages of the reads that missed.
stages=/sys/kernel/debug/aiosfs/read_stages
mountpoint -q /sys/kernel/debug || run mount -t debugfs none /sys/kernel/debug
echo on >$stages || fail "cannot turn the read stage counters on"
for direct in 0 1; do
	for rw in read randread; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		# Two jobs at once over the same file: they race for its pages.
		fio_job seq $rw --numjobs=2 --invalidate=1 --direct=$direct --readonly \
			>/tmp/fio.log 2>&1 || { cat /tmp/fio.log; fail "verify, $rw, direct=$direct"; }
		fio_job rnd $rw --numjobs=2 --invalidate=1 --direct=$direct --readonly \
			>>/tmp/fio.log 2>&1 || { cat /tmp/fio.log; fail "verify, $rw, direct=$direct"; }
		grep -Eq "verify: bad|crc32c: verify failed" /tmp/fio.log && { cat /tmp/fio.log; fail "bad blocks"; }
		echo "verified: $rw, direct=$direct"
		if [ -e $stages ] && grep -q "state: on" $stages; then
			cat $stages
			grep -Eq "reads that missed: [1-9]" $stages || fail "no missed read was counted"
			grep -Eq "^total +[0-9]+\.[0-9] us" $stages || fail "no stage total"
			echo off >$stages
		fi
	done
done

# A sequential reader's window is issued ahead of it, so that reading a cold
# file 4 KiB at a time misses only at its start; read again, all from the
# page cache, it never misses.
misses() {
	sed -n 's/^reads that missed: //p' $stages
}
echo reset >$stages
echo on >$stages
sync
echo 3 >/proc/sys/vm/drop_caches
run dd if=$mnt/seq of=/dev/null bs=4k status=none
n=$(misses)
echo "sequential cold read: $n misses"
[ "$n" -ge 1 ] && [ "$n" -le 4 ] || fail "sequential cold read of 16 MiB: $n misses, not 1 to 4"
echo reset >$stages
run dd if=$mnt/seq of=/dev/null bs=4k status=none
run dd if=$mnt/seq of=/dev/null bs=1M status=none
assert_eq 0 "$(misses)" "misses reading a cached file"
echo off >$stages
run umount $mnt
"$AIOS_ROOT/tools/aios-bind" --reset "$(nvme_bdfs | head -n1)" >/dev/null
aios_unload
exit 0
