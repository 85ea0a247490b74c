#!/bin/bash
# Load with verification on aiosfs over aiosnvme, in a guest with little
# memory of which a hog holds half: for $AIOS_LOAD_SECONDS (default 80;
# `make soak` runs 600), cycles of $AIOS_LOAD_CYCLE seconds (default 40) of
#  - 2 fio jobs of random reads and writes (4-64 KiB) with fsync every 8
#    writes, verifying what they wrote as they go (crc32c), and
#  - tests/load/meta.py: creates, rewrites, appends, truncates, renames,
#    links, unlinks, mkdirs and rmdirs, with a model of every file's content,
# then unmount, e2fsck -fn clean, mount again, and the model must match the
# whole tree before the next cycle.  fio's files are larger than the memory
# left, so the page cache is reclaimed all along (checked at the end).
. "$AIOS_ROOT/tests/lib/common.sh"

secs=${AIOS_LOAD_SECONDS:-80}
cycle=${AIOS_LOAD_CYCLE:-40}
bdf=$(nvme_bdfs | head -n1)
aios_bind "$bdf"
dev=/dev/aiosnvme0n1
wait_for_dev $dev
run "$AIOS_ROOT/tools/mkfs.aiosfs" -q -F $dev
mnt=/tmp/load
state=/tmp/load.state
mkdir -p $mnt
rm -f $state

# The hog: half the memory, anonymous (there is no swap), touched every
# second so that the page cache cannot take it back.
hog_mb=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
python3 -c '
import sys, time
b = bytearray(int(sys.argv[1]) << 20)
while True:
    for i in range(0, len(b), 4096):
        b[i] = (b[i] + 1) & 255
    time.sleep(1)' "$hog_mb" &
hog=$!
trap 'kill $hog 2>/dev/null; umount $mnt 2>/dev/null' EXIT
echo "hog: $hog_mb MiB of $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"

# reclaimed: pages the kernel's reclaim has scanned so far.
reclaimed() {
	awk '/^pgscan_(kswapd|direct) / { n += $2 } END { print n + 0 }' /proc/vmstat
}
scan0=$(reclaimed)
c=0
end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do
	c=$((c + 1))
	run mount -t aiosfs $dev $mnt
	fio --name=load --directory=$mnt --filename_format='fio.$jobnum' --numjobs=2 \
	    --rw=randrw --bsrange=4k-64k --size=160M --ioengine=psync --fsync=8 \
	    --time_based --runtime="$cycle" --verify=crc32c --verify_backlog=64 \
	    --verify_fatal=1 --output-format=terse --minimal >/tmp/fio.out 2>&1 &
	fio=$!
	python3 "$AIOS_ROOT/tests/load/meta.py" $mnt $state "$cycle" $c || fail "cycle $c: meta.py"
	wait $fio || { cat /tmp/fio.out; fail "cycle $c: fio failed"; }
	echo "cycle $c done at $SECONDS s; $(grep MemFree /proc/meminfo | tr -s ' ')"
	run umount $mnt
	e2fsck -fn $dev >/tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; fail "cycle $c: e2fsck"; }
done
# The last cycle's tree, once more after its unmount.
run mount -t aiosfs $dev $mnt
python3 "$AIOS_ROOT/tests/load/meta.py" $mnt $state 0 0 || fail "after the last unmount"
run umount $mnt
kill $hog
wait $hog 2>/dev/null
scanned=$(($(reclaimed) - scan0))
echo "reclaim scanned $scanned pages"
[ "$scanned" -gt 0 ] || fail "no memory pressure: reclaim never ran"
"$AIOS_ROOT/tools/aios-bind" --reset "$bdf" >/dev/null
aios_unload
echo "$c cycles in $SECONDS s"
exit 0
