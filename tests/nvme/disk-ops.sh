#!/bin/bash
# Partitions, discard, write-zeroes and flushes work on an aiosnvme disk,
# and the stock ext4 runs on it cleanly (its journal sends PREFLUSH|FUA
# writes, which aiosnvme turns into a Flush chained to a FUA write).
. "$AIOS_ROOT/tests/lib/common.sh"

aios_bind
dev=/dev/aiosnvme0n1
wait_for_dev $dev

printf 'label: gpt\n,64MiB\n,\n' | sfdisk -q $dev || fail "sfdisk failed"
wait_for_dev ${dev}p1
wait_for_dev ${dev}p2
assert_eq $((64 << 20)) "$(blockdev --getsize64 ${dev}p1)" "partition 1 size"

# Write-zeroes reads back as zeroes; discard succeeds.
head -c 4M /dev/urandom | dd of=${dev}p2 bs=1M oflag=direct status=none
run blkdiscard -z -o 0 -l 4M ${dev}p2
cmp -n 4M ${dev}p2 /dev/zero || fail "write-zeroes range does not read back as zeroes"
run blkdiscard -o 8M -l 8M ${dev}p2
# fsync of the raw disk sends an empty PREFLUSH write: it must succeed.
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.write(fd, b"x" * 4096); os.fsync(fd)' \
	${dev}p2 || fail "fsync of ${dev}p2 failed"

run mkfs.ext4 -q -F ${dev}p1
mkdir -p /mnt/t
run mount -t ext4 ${dev}p1 /mnt/t
cp -r "$AIOS_ROOT/fs" "$AIOS_ROOT/blk" /mnt/t/
for i in $(seq 20); do
	head -c 64k /dev/urandom >/mnt/t/f$i
	sync /mnt/t/f$i
done
want=$(cd /mnt/t && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
run umount /mnt/t
run e2fsck -fn ${dev}p1
run mount -t ext4 -o ro ${dev}p1 /mnt/t
echo 3 >/proc/sys/vm/drop_caches
got=$(cd /mnt/t && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
assert_eq "$want" "$got" "ext4 tree on aiosnvme after remount"
run umount /mnt/t
"$AIOS_ROOT/tools/aios-bind" --reset "$(nvme_bdfs | head -n1)" >/dev/null
aios_unload
dmesg | grep -q 'NVMe status' && fail "a command failed: $(dmesg | grep -m1 'NVMe status')"
exit 0
