#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# With every DMA mapping bounced (swiotlb=force), O_DIRECT reads and
# writes at buffer offsets of 4 to 2048 bytes, and of up to 1 MiB from one
# buffer, return on aiosnvme what they return on nvme.ko for the same
# controller, with the same data; aiosfs writes, fsyncs and reads back a
# file on it.  No warning and no I/O error in the kernel log.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

# aiosnvme first: nvme.ko's probe would leave its DMA settings on the device.
klog_mark
bind_first_keep_second
dev=/dev/aiosnvme0n1 stock=$STOCK_DISK

# cases DEV: one line per case, "write|read OFFSET LENGTH result digest".
cases() {
	python3 - "$1" <<'PY'
import hashlib, mmap, os, random, sys
dev = sys.argv[1]
fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
buf = mmap.mmap(-1, (2 << 20) + 8192)
data = random.Random(7).randbytes(2 << 20)
pos = 0
for boff in (0, 4, 512, 2048):
    for ln in (4096, 8192, 128 << 10, 512 << 10, 1 << 20):
        view = memoryview(buf)[boff:boff + ln]
        view[:] = data[:ln]
        try:
            r = str(os.pwritev(fd, [view], pos))
        except OSError as e:
            r = "errno %d" % e.errno
        print("write", boff, ln, r)
        view[:] = bytes(ln)
        try:
            r = str(os.preadv(fd, [view], pos))
        except OSError as e:
            r = "errno %d" % e.errno
        same = "same" if bytes(view) == data[:ln] else "differs"
        print("read", boff, ln, r, same)
        pos += ln
PY
}

want=$(cases "$stock") || fail "the cases failed on nvme.ko"
got=$(cases $dev) || fail "the cases failed on aiosnvme"
echo "$want" | grep -v " same$" | grep "^read" && fail "nvme.ko did not read back what it wrote"
if [ "$want" != "$got" ]; then
	diff <(echo "$want") <(echo "$got")
	fail "aiosnvme's results differ from nvme.ko's (above: - nvme.ko, + aiosnvme)"
fi

run mkfs.ext4 -q -F -b 4096 $dev
mkdir -p /mnt/b
run mount -t aiosfs $dev /mnt/b
head -c 8M /dev/urandom >/tmp/f
run dd if=/tmp/f of=/mnt/b/f bs=1M conv=fsync status=none
run umount /mnt/b
run mount -t aiosfs $dev /mnt/b
cmp /tmp/f /mnt/b/f || fail "aiosfs read back other data"
run umount /mnt/b
klog_since | grep -E "I/O error|status 0x|aiosfs.*error|WARNING" && fail "errors in the kernel log"
"$AIOS_ROOT/tools/aios-bind" --reset "$(nvme_bdfs | head -n1)" >/dev/null
aios_unload
echo "ok: aiosnvme under swiotlb=force as nvme.ko"
