#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fill-and-delete cycles to ENOSPC on a small $FSTYPE volume: big files,
# many small files (until blocks or inodes run out), and mixed writes,
# fallocates and partial deletes.  Each cycle fills until the filesystem
# says ENOSPC (and nothing else), checks that everything written before it
# reads back after a remount, deletes, and checks that e2fsck is clean and
# that df's free space and inodes come back to what they were.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

trap 'umount $MNT 2>/dev/null' EXIT
fsrw_setup 128M
dev=$(test_disk) || exit 1

# fill DIR KIND SEED: writes until ENOSPC; prints "name size crc32" per file
# (crc32: sha256 took the guest three times as long).
fill() {
	timeout 300 $PY - "$@" <<'EOF'
import errno, os, random, sys, zlib
d, kind, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
os.makedirs(d, exist_ok=True)
n = 0
def size():
    if kind == "big":
        return rnd.randrange(8, 64) << 20
    if kind == "small":
        return rnd.choice([0, 1, 100, 4096, 5000])
    return rnd.choice([1, 4096, 70000, 1 << 20, 9 << 20])
while True:
    n += 1
    name = os.path.join(d, "%s%06d" % (kind[0], n))
    want = size()
    buf = rnd.randbytes(min(want, 1 << 20)) if want else b""
    try:
        fd = os.open(name, os.O_CREAT | os.O_WRONLY, 0o644)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        print("# ENOSPC creating file %d" % n, file=sys.stderr)
        break
    crc = 0
    done, full = 0, False
    try:
        if kind == "mixed" and n % 3 == 0:
            os.posix_fallocate(fd, 0, want)
        while done < want:
            chunk = buf[:want - done]
            k = os.write(fd, chunk)
            crc = zlib.crc32(chunk[:k], crc)
            done += k
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        full = True
    if kind == "mixed" and n % 3 == 0:
        # Preallocated past what was written: trim to the written size.
        os.ftruncate(fd, done)
    os.close(fd)
    print(os.path.basename(name), done, "%08x" % crc)
    if full:
        print("# ENOSPC after %d files" % n, file=sys.stderr)
        break
EOF
}

# check_files DIR LIST: every file of LIST has its size and digest.
check_files() {
	$PY - "$1" "$2" <<'EOF' || fail "files written before ENOSPC read back wrong"
import os, sys, zlib
bad = 0
for line in open(sys.argv[2]):
    name, size, digest = line.split()
    p = os.path.join(sys.argv[1], name)
    b = open(p, "rb").read()
    if len(b) != int(size) or "%08x" % zlib.crc32(b) != digest:
        print("DIFF %s: %d bytes, expected %s" % (name, len(b), size))
        bad += 1
print("%d files checked, %d wrong" % (sum(1 for _ in open(sys.argv[2])), bad))
sys.exit(1 if bad else 0)
EOF
}

# free blocks and inodes, as df shows them.
df_free() {
	sync
	stat -f -c '%f %d' "$MNT"
}

fsrw_remount
read -r blocks0 inodes0 <<<"$(df_free)"
echo "free: $blocks0 blocks, $inodes0 inodes"
cycle=0
for kind in big small mixed; do
	cycle=$((cycle + 1))
	echo "== cycle $cycle: $kind files"
	fill "$MNT/fill" "$kind" "$cycle" >"$FSRW_TMP/files" || fail "cycle $cycle: filling failed with something other than ENOSPC"
	read -r b i <<<"$(df_free)"
	echo "full: $b blocks, $i inodes free; $(wc -l <"$FSRW_TMP/files") files"
	avail=$(stat -f -c %a "$MNT")
	[ "$avail" -le 64 ] || [ "$i" -le 1 ] ||
		fail "cycle $cycle: ENOSPC with $avail blocks and $i inodes available"
	fsrw_remount
	check_files "$MNT/fill" "$FSRW_TMP/files"
	if [ "$kind" = mixed ]; then
		# Half away, then fill the holes that leaves, and check it all.
		awk -v d="$MNT/fill/" 'NR % 2 { print d $1 }' "$FSRW_TMP/files" | xargs rm --
		awk '!(NR % 2)' "$FSRW_TMP/files" >"$FSRW_TMP/kept"
		fill "$MNT/fill2" mixed 99 >"$FSRW_TMP/files2" || fail "refilling failed"
		fsrw_remount
		check_files "$MNT/fill" "$FSRW_TMP/kept"
		check_files "$MNT/fill2" "$FSRW_TMP/files2"
	fi
	run rm -rf "$MNT/fill" "$MNT/fill2"
	fs_umount
	fsck_clean "$dev" "cycle $cycle"
	fs_mount "$dev"
	read -r b i <<<"$(df_free)"
	echo "after the delete: $b blocks, $i inodes free"
	[ $((blocks0 - b)) -le 8 ] && [ $((b - blocks0)) -le 8 ] ||
		fail "cycle $cycle: $b blocks free after the delete, $blocks0 before"
	assert_eq "$inodes0" "$i" "cycle $cycle: free inodes after the delete"
done
fsrw_verify "$dev"
exit 0
