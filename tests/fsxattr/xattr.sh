#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Extended attributes written by aiosfs: set, replace and remove in the
# inode's area and in the external block (spilling over, up to the block's
# limit and ENOSPC past it), XATTR_CREATE/XATTR_REPLACE errors, many
# attributes, removing them all; then blocks that ext4 shares between files,
# changed through aiosfs (copy-on-write: the other files keep their values).
# After each phase: e2fsck -fn is clean, and ext4 shows the same attributes.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

XA="$PY $AIOS_ROOT/tests/fsxattr/xa.py"
dev=$(test_disk)
fs_test_init /tmp/fsxattr.mnt
aios_load

# expect WANT CMD...: CMD's output must be WANT.
expect() {
	local want=$1 got
	shift
	got=$("$@")
	echo "+ $* -> $got"
	[ "$got" = "$want" ] || fail "$*: expected '$want', got '$got'"
}

# The file's xattr block (0: none), from debugfs.  The journal may not have
# written it home yet: aiosfs is unmounted around the look.
acl_of() {
	local mounted=0
	if grep -q " $mnt " /proc/mounts; then
		mounted=1
		umount $mnt || fail "umount for debugfs"
	fi
	debugfs -R "stat $1" "$dev" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p'
	[ $mounted = 0 ] || mount -t aiosfs "$dev" $mnt || fail "mount after debugfs"
}

# Every file's attributes, names sorted, values in hex: one process for the
# whole tree (getfattr and sort per file took a third of this test).
dump_attrs() {
	$PY - "$mnt" <<'EOF' || fail "listing the attributes under $mnt failed"
import os, sys
root = sys.argv[1]
paths = ["."]
for d, dirs, files in os.walk(root):
    paths += [os.path.join(".", os.path.relpath(os.path.join(d, n), root)) for n in dirs + files]
for p in sorted(paths):
    print("# " + p)
    full = os.path.join(root, p)
    try:
        lines = ["%s=0x%s" % (n, os.getxattr(full, n, follow_symlinks=False).hex())
                 for n in os.listxattr(full, follow_symlinks=False)]
    except OSError as e:
        lines = ["%s: %s" % (p, e.strerror)]
    for line in sorted(lines):
        print(line)
EOF
}

# check_phase WHAT: what aiosfs shows is what ext4 shows, and e2fsck is clean.
check_phase() {
	local out rc
	dump_attrs >/tmp/fsxattr.aiosfs
	run umount $mnt
	out=$(e2fsck -fn "$dev" 2>&1)
	rc=$?
	echo "$out" | tail -n 1
	[ $rc -eq 0 ] || { echo "$out"; fail "e2fsck -fn: status $rc ($1)"; }
	klog_mark
	run mount -t ext4 -o ro "$dev" $mnt
	dump_attrs >/tmp/fsxattr.ext4
	run umount $mnt
	klog_since | grep -E "EXT4-fs (error|warning)" && fail "ext4 complained ($1)"
	diff -u /tmp/fsxattr.ext4 /tmp/fsxattr.aiosfs || fail "ext4 and aiosfs disagree ($1)"
	echo "$1: $(grep -vc '^#' /tmp/fsxattr.aiosfs) attribute lines agree"
	run mount -t aiosfs "$dev" $mnt
}

run mkfs.ext4 -q -F -b 4096 "$dev"
run mount -t aiosfs "$dev" $mnt
grep -q " $mnt aiosfs rw" /proc/mounts || fail "not mounted read-write"

# Phase 1: small values stay in the inode (no block); ctime moves.
f=$mnt/small
run touch $f
c0=$($XA ctime $f)
sleep 0.01
# 88 bytes for entries and values: 28 + 28 + 24.
expect ok $XA set $f user.a 8 a1
expect ok $XA set $f trusted.t 8 t1
expect ok $XA set $f security.s 4 s1
c1=$($XA ctime $f)
[ "$c1" -gt "$c0" ] || fail "ctime did not change on setxattr ($c0, $c1)"
expect ok $XA check $f user.a 8 a1
expect ok $XA check $f trusted.t 8 t1
expect ok $XA check $f security.s 4 s1
expect 0 stat -c %b $f
expect 0 acl_of /small
run mkdir $mnt/dir
expect ok $XA set $mnt/dir user.d 12 d1
expect ok $XA set $mnt/dir user.e 0 e
expect ok $XA check $mnt/dir user.e 0 e
run ln -s small $mnt/link
expect ok $XA set $mnt/link trusted.l 10 l1
check_phase "in-inode values"

# Phase 2: a larger value spills into a block; the small ones stay put.
expect ok $XA set $f user.big 300 b1
expect 8 stat -c %b $f
blk=$(acl_of /small)
[ "$blk" -gt 0 ] || fail "a 300-byte value is not in an xattr block"
expect ok $XA check $f user.big 300 b1
expect ok $XA check $f user.a 8 a1
# No room left in the inode: an empty value goes to the block too.
expect ok $XA set $f user.empty 0 e
expect ok $XA check $f user.empty 0 e
# Replacing in the block (in place: the block is this file's alone).
expect ok $XA set $f user.big 600 b2 replace
expect "$blk" acl_of /small
# A small value grows into the block, and an in-block value shrinks.
expect ok $XA set $f user.a 200 a2
expect ok $XA set $f user.big 4 b3
expect ok $XA check $f user.a 200 a2
expect ok $XA check $f user.big 4 b3
check_phase "spilled into the block"

# Phase 3: the block's limit: 4096 - header 32 - entry 20 - end 4 = 4040.
g=$mnt/limit
run touch $g
expect ok $XA set $g user.x 4040 x1
expect ok $XA check $g user.x 4040 x1
expect ENOSPC $XA set $g user.y 100 y1
expect ENOSPC $XA set $g user.x 4041 x2
expect ENOSPC $XA set $g user.z 8000 z1
expect ok $XA check $g user.x 4040 x1
# Entries of 120 bytes: none fits the inode's 92, 33 fill the block.
h=$mnt/fill
run touch $h
expect "33 ENOSPC" $XA fill $h user.f 100 F
expect ok $XA check $h user.f000 100 F.0
expect ok $XA check $h user.f032 100 F.32
# The inode still takes a small one.
expect ok $XA set $h user.s 8 s2
expect ok $XA set $g user.y 1 y1
check_phase "block limits"

# Phase 4: create/replace semantics.
expect EEXIST $XA set $f user.a 8 a3 create
expect EEXIST $XA set $f user.big 8 a3 create
expect ENODATA $XA set $f user.nope 8 n1 replace
expect ENODATA $XA rm $f user.nope
expect ok $XA set $f user.new 8 n2 create
expect ok $XA set $f user.new 9 n3 replace
expect ok $XA check $f user.new 9 n3
expect ok $XA check $f user.a 200 a2
expect ENODATA $XA check $f user.nope 1 x
expect ok $XA rm $f user.new
expect ENODATA $XA check $f user.new 1 x
check_phase "create and replace"

# Phase 5: many attributes, half removed, others added, then all removed.
m=$mnt/many
run touch $m
expect ok $XA many $m user.m 0 99 1 8 M
expect ok $XA checkmany $m user.m 0 99 1 8 M
expect ok $XA rmmany $m user.m 0 98 2
expect ok $XA checkmany $m user.m 1 99 2 8 M
expect ok $XA many $m trusted.n 0 39 1 24 N
expect ok $XA checkmany $m trusted.n 0 39 1 24 N
expect ENODATA $XA check $m user.m000 8 M.user.m000
check_phase "many attributes"
expect ok $XA rmmany $m user.m 1 99 2
expect ok $XA rmmany $m trusted.n 0 39 1
expect "" $XA list $m 2>/dev/null
expect 0 acl_of /many
expect 0 stat -c %b $m
for n in user.a trusted.t security.s user.empty user.big; do
	expect ok $XA rm $f $n
done
expect 0 acl_of /small
expect 0 stat -c %b $f
check_phase "all removed"
run umount $mnt

# Phase 6: blocks that ext4 shares between files with identical attributes.
run mount -t ext4 "$dev" $mnt
for s in s1 s2 s3; do
	run touch $mnt/$s
	run setfattr -n user.k -v kkkkkkkk $mnt/$s
	setfattr -n user.big -v "$(head -c 1000 < <(yes shared | tr -d '\n'))" $mnt/$s ||
		fail "ext4: setfattr user.big on $s"
done
for s in s4 s5; do
	run touch $mnt/$s
	setfattr -n user.other -v "$(head -c 2000 < <(yes other | tr -d '\n'))" $mnt/$s ||
		fail "ext4: setfattr user.other on $s"
done
run umount $mnt
b1=$(acl_of /s1)
b4=$(acl_of /s4)
echo "s1-s3 share block $b1, s4-s5 block $b4"
[ "$b1" -gt 0 ] && [ "$b4" -gt 0 ] || fail "ext4 made no xattr blocks"
expect "$b1" acl_of /s2
expect "$b1" acl_of /s3
expect "$b4" acl_of /s5
run mount -t aiosfs "$dev" $mnt
big=$(getfattr --absolute-names --only-values -n user.big $mnt/s2 | md5sum)
# Changing s1 copies the block; s2 and s3 keep it and the old value.
expect ok $XA set $mnt/s1 user.big 1500 B1
expect ok $XA check $mnt/s1 user.big 1500 B1
assert_eq "$big" "$(getfattr --absolute-names --only-values -n user.big $mnt/s2 | md5sum)" "s2's value"
assert_eq "$big" "$(getfattr --absolute-names --only-values -n user.big $mnt/s3 | md5sum)" "s3's value"
n1=$(acl_of /s1)
[ "$n1" != "$b1" ] && [ "$n1" -gt 0 ] || fail "s1 still on the shared block ($n1)"
expect "$b1" acl_of /s2
# s3's block attribute goes: it drops its reference, the block stays for s2.
expect ok $XA rm $mnt/s3 user.big
expect 0 acl_of /s3
expect "$b1" acl_of /s2
assert_eq "$big" "$(getfattr --absolute-names --only-values -n user.big $mnt/s2 | md5sum)" "s2's value"
# s2 is now its only user: it changes it in place.
expect ok $XA set $mnt/s2 user.more 100 R1
expect "$b1" acl_of /s2
# A sharer deleted: the other keeps the block, with one reference.
run rm $mnt/s4
check_phase "shared blocks"
expect ok $XA check $mnt/s2 user.more 100 R1
assert_eq "$big" "$(getfattr --absolute-names --only-values -n user.big $mnt/s2 | md5sum)" "s2's value"
expect ok $XA set $mnt/s5 user.other 10 O1
expect ok $XA rm $mnt/s5 user.other
expect 0 acl_of /s5
check_phase "last sharer"
run umount $mnt
echo "all phases clean"
