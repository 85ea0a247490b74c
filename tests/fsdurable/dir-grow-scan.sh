#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A scan of a one-block directory, read a few names per getdents64 call,
# while names are added until the block fills and the directory gets its
# htree index: every name that was there before is seen exactly once.
# ext4 reads one-block directories in hash order, as their index will.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT 2>/dev/null' EXIT

scenario() {
	fs_mkfs "$DEV" 256M
	fs_mount "$DEV" "$MNT"
	$PY - "$MNT" "$FSTYPE" <<'PY' || fail "$FSTYPE: the scan repeated or missed names (above)"
import ctypes, os, struct, sys
mnt, fs = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
SYS_getdents64 = 217
buf = ctypes.create_string_buffer(300)     # a name or two per call

def getdents(fd):
    n = libc.syscall(SYS_getdents64, fd, buf, len(buf))
    if n < 0:
        raise OSError(ctypes.get_errno(), "getdents64")
    names, off = [], 0
    while off < n:
        reclen = struct.unpack_from("<H", buf.raw, off + 16)[0]
        names.append(buf.raw[off + 19:off + reclen].split(b"\0")[0].decode())
        off += reclen
    return names

bad = 0
for trial in range(8):
    d = f"{mnt}/d{trial}"
    os.mkdir(d)
    # 200-byte names: 19 fill the block; the scan starts with 6 + trial.
    old = {f"old-{i:02d}-{'o' * 194}" for i in range(6 + trial)}
    for n in old:
        open(f"{d}/{n}", "w").close()
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    seen = {}
    for n in getdents(fd) + getdents(fd):
        seen[n] = seen.get(n, 0) + 1
    for i in range(40):
        open(f"{d}/new-{i:02d}-{'n' * 194}", "w").close()
    while True:
        names = getdents(fd)
        if not names:
            break
        for n in names:
            seen[n] = seen.get(n, 0) + 1
    os.close(fd)
    twice = [n for n in old if seen.get(n, 0) > 1]
    missing = [n for n in old if n not in seen]
    print(f"{fs}: trial {trial}: {len(seen)} names, {len(twice)} old ones twice, "
          f"{len(missing)} missing")
    bad += len(twice) + len(missing)
sys.exit(1 if bad else 0)
PY
	fs_umount "$MNT"
	fsck_clean "$DEV" "$FSTYPE, after the scans"
}
for_each_fs scenario
