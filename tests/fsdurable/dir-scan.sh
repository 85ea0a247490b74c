#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# readdir of a large (htree) directory while names are added: every name
# that existed before a scan began is seen by it exactly once, and no name
# twice (find, rsync, backups and rm -rf rely on it; names added during a
# scan may or may not show).  telldir/seekdir return to the same place.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. ./helpers
trap 'umount $MNT 2>/dev/null' EXIT

scenario() {
	fs_mkfs -N 65536 "$DEV" 256M
	fs_mount "$DEV" "$MNT"
	mkdir "$MNT/d"
	$PY - "$MNT/d" "$FSTYPE" <<'PY' || fail "$FSTYPE: readdir lost or repeated names (above)"
import ctypes, os, sys, threading
d, fs = sys.argv[1], sys.argv[2]
N, SCANS = 12000, 4
for i in range(N):
    os.close(os.open(f"{d}/old-{i:05d}-{'x' * (i % 40)}", os.O_CREAT | os.O_WRONLY, 0o644))
old = set(os.listdir(d))
assert len(old) == N, len(old)
bad = 0

adding = True
def add():
    i = 0
    while adding and i < 30000:
        os.close(os.open(f"{d}/new-{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644))
        i += 1
t = threading.Thread(target=add)
t.start()
for s in range(SCANS):
    seen = {}
    with os.scandir(d) as it:
        for e in it:
            seen[e.name] = seen.get(e.name, 0) + 1
    twice = sum(1 for c in seen.values() if c > 1)
    missing = len(old - seen.keys())
    print(f"{fs}: scan {s}: {len(seen)} names, {twice} seen twice, {missing} old ones missing")
    bad += twice + missing
adding = False
t.join()

# telldir/seekdir, through libc: the names after a saved place, twice.
libc = ctypes.CDLL(None, use_errno=True)
class Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]
libc.opendir.restype = ctypes.c_void_p
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.readdir.argtypes = [ctypes.c_void_p]
libc.telldir.restype = ctypes.c_long
libc.telldir.argtypes = [ctypes.c_void_p]
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
libc.closedir.argtypes = [ctypes.c_void_p]
def rest(dp):
    out = []
    while True:
        e = libc.readdir(dp)
        if not e:
            return out
        out.append(e.contents.d_name)
dp = libc.opendir(d.encode())
for _ in range(N // 2):
    libc.readdir(dp)
where = libc.telldir(dp)
first = rest(dp)
libc.seekdir(dp, where)
again = rest(dp)
libc.closedir(dp)
print(f"{fs}: after telldir {where:#x}: {len(first)} names, then {len(again)} after seekdir")
if first != again or not first:
    print("seekdir did not return to the place telldir gave")
    bad += 1
sys.exit(1 if bad else 0)
PY
	fs_umount "$MNT"
	fsck_clean "$DEV" "$FSTYPE, after the scans"
}

for_each_fs scenario
