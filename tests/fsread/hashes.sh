#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# htree lookups with every directory hash: legacy, half_md4 and tea, each
# signed and unsigned (the superblock flag mke2fs sets from the CPU's char).
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

img=/tmp/fsread.img
fs_test_init /tmp/fsread.mnt
run modprobe loop
aios_load

for alg in legacy half_md4 tea; do
	for flag in 1 2; do
		rm -f $img
		truncate -s 256M $img
		run mkfs.ext4 -q -F -T default $img
		# s_flags: 1 signed, 2 unsigned; set before any directory is indexed.
		debugfs -w -R "ssv flags $flag" $img >/dev/null 2>&1 || fail "debugfs ssv flags"
		debugfs -w -R "ssv def_hash_version $alg" $img >/dev/null 2>&1 ||
			fail "debugfs ssv def_hash_version"
		loop=$(losetup -f --show $img) || fail "losetup"
		run mount -t ext4 $loop $mnt
		$PY - $mnt <<'PY' || fail "creating the names failed"
import os, random, sys
d = os.path.join(sys.argv[1], "dir")
os.mkdir(d)
rnd = random.Random(5)
for i in range(3000):
    n = rnd.choice([1, 5, 17, 40, 255])
    name = b"%d." % i + bytes(rnd.choice(b"az09\x80\xc3\xe9\xff") for _ in range(n))
    os.close(os.open(os.path.join(d.encode(), name[:255]), os.O_CREAT | os.O_WRONLY))
PY
		run umount $mnt
		debugfs -R "stat /dir" $loop 2>/dev/null | grep -q "Flags: 0x81000" ||
			fail "$alg: the directory is not indexed"
		run mount -t aiosfs -o ro $loop $mnt
		# ls lists through readdir; stat looks each name up through the index.
		n=$(cd $mnt/dir && ls -f | $PY -c '
import os, sys
names = [l.rstrip("\n") for l in sys.stdin if l.rstrip("\n") not in (".", "..")]
bad = [n for n in names if not os.path.lexists(n)]
print(len(names), len(bad))') || fail "$alg: lookup script failed"
		assert_eq "3000 0" "$n" "$alg (flags $flag): names listed, names not found"
		echo "ok: $alg flags=$flag: 3000 names found"
		run umount $mnt
		losetup -d $loop
		loop=""
	done
done
aios_unload
exit 0
