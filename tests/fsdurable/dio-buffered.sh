#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A buffered read that starts after an O_DIRECT write completed returns
# the written data, never what was there before: one thread overwrites
# pages with O_DIRECT, each with a new generation number, while another
# reads them through the page cache and checks each against the last
# generation whose write had completed when the read began.  A read that
# fetched the old block while the write ran, and put its page in the cache
# after the write's invalidation, would leave that old page there.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT 2>/dev/null' EXIT
SECONDS_EACH=${DIO_RACE_SECONDS:-10}

scenario() {
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT"
	$PY - "$MNT/f" "$SECONDS_EACH" "$FSTYPE" <<'PY' || fail "$FSTYPE: stale reads (above)"
import mmap, os, struct, sys, threading, time
path, seconds, fs = sys.argv[1], float(sys.argv[2]), sys.argv[3]
PAGES = 8
with open(path, "wb") as f:
    f.write(b"\0" * 4096 * PAGES)
    os.fsync(f.fileno())
done = [0] * PAGES		# generation whose write completed, per page
stop = time.monotonic() + seconds
stats = {"writes": 0, "reads": 0, "stale": 0}

def writer():
    fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)		# page-aligned, as O_DIRECT wants
    gen = 0
    while time.monotonic() < stop:
        gen += 1
        for p in range(PAGES):
            buf[:8] = struct.pack("<Q", gen)
            os.pwrite(fd, buf, p * 4096)
            done[p] = gen
            stats["writes"] += 1
    os.close(fd)

def reader():
    fd = os.open(path, os.O_RDONLY)
    while time.monotonic() < stop:
        for p in range(PAGES):
            want = done[p]
            got = struct.unpack("<Q", os.pread(fd, 8, p * 4096))[0]
            stats["reads"] += 1
            if got < want:
                stats["stale"] += 1
                if stats["stale"] <= 5:
                    print(f"page {p}: generation {got} read after {want} was written")
    os.close(fd)

threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"{fs}: {stats['writes']} O_DIRECT writes, {stats['reads']} buffered reads, "
      f"{stats['stale']} stale")
sys.exit(1 if stats["stale"] or stats["reads"] < 1000 else 0)
PY
	fs_umount "$MNT"
}

for_each_fs scenario
