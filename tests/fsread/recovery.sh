#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Journal recovery at mount.  ext4 is shut down with its log flushed but not
# checkpointed, after transactions that free and reuse journaled blocks (so
# the log has revoke records).  A read-only aiosfs mount replays the journal
# and leaves the volume as e2fsck would (clean, needs_recovery cleared), and
# then reads exactly what ext4 reads after replaying the same image itself.
# A read-only device is refused unless noload is given; a damaged or hostile
# journal is replayed up to the damage or refused, never an oops or a hang.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsread/helpers"

dev=$(test_disk)
mnt=/tmp/fsread.mnt
img=/tmp/recovery.img
FS_MB=256
mkdir -p $mnt
trap 'umount $mnt 2>/dev/null; blockdev --setrw $dev 2>/dev/null' EXIT

# The dumpe2fs -h field $1 of the device.
sb_field() {
	dumpe2fs -h "$dev" 2>/dev/null | sed -n "s/^$1: *//p"
}

needs_recovery() {
	sb_field "Filesystem features" | grep -qw needs_recovery
}

restore() {
	dd if=$img of="$dev" bs=4M oflag=direct conv=notrunc,fsync status=none || fail "cannot restore the image"
	needs_recovery || fail "the restored image does not need recovery"
}

# Journal blocks of type $1 (1 descriptor, 5 revoke) in the log, in order.
log_blocks() {
	debugfs -R logdump "$dev" 2>/dev/null | sed -n "s/.*, type $1 (.*) at block \([0-9]*\)$/\1/p"
}

# must_refuse NAME REGEX: the aiosfs mount fails, names why, writes nothing.
must_refuse() {
	klog_mark
	mount -t aiosfs -o ro "$dev" $mnt 2>/dev/null && fail "$1: the mount succeeded"
	expect_klog "$2" "$1"
	echo "ok: $1: $(klog_since | grep -E "$2" | head -1 | sed 's/^\[[^]]*\] //')"
	needs_recovery || fail "$1: needs_recovery was cleared"
}

# The crash image.
run mkfs.ext4 -q -F -T default "$dev" ${FS_MB}M
run mount -t ext4 "$dev" $mnt
# Directories of small files: their directory blocks are journaled...
$PY - $mnt/old <<'EOF' || fail "populating failed"
import os, sys
for d in range(30):
    p = os.path.join(sys.argv[1], "d%02d" % d)
    os.makedirs(p)
    for i in range(80):
        with open(os.path.join(p, "a-rather-long-file-name-%04d" % i), "wb") as f:
            f.write(os.urandom(i * 7))
EOF
run sync
# ...and freed when they go, which writes revoke records...
run rm -rf $mnt/old
run sync
# ...while new data, written in place, may take the freed blocks.
$PY - $mnt/new <<'EOF' || fail "writing new data failed"
import os, random, sys
os.makedirs(sys.argv[1])
for i in range(40):
    with open(os.path.join(sys.argv[1], "f%02d" % i), "wb") as f:
        f.write(random.Random(i).randbytes(4096 * (1 + i % 9) + i))
EOF
run sync
# The last transaction is only in the log: shut down with the log flushed.
run mkdir -p $mnt/last/sub
echo "late" >$mnt/last/sub/file
run mv $mnt/new/f01 $mnt/last/moved
run chmod 0700 $mnt/new/f02
run ln -s ../new/f03 $mnt/last/link
run rm $mnt/new/f04
$PY - $mnt/last/synced <<'EOF' || fail "fsync failed"
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o640)
os.write(fd, b"fsynced\n" * 1000)
os.fsync(fd)
os.close(fd)
EOF
run touch $mnt/last/empty
# EXT4_IOC_SHUTDOWN, EXT4_GOING_FLAGS_LOGFLUSH: the log, not the checkpoint.
$PY -c 'import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587d, struct.pack("I", 1))
os.close(fd)' $mnt || fail "EXT4_IOC_SHUTDOWN failed"
run umount $mnt
needs_recovery || fail "needs_recovery is not set after the shutdown"
jstart=$(sb_field "Journal start")
[ -n "$jstart" ] && [ "$jstart" != 0 ] || fail "the journal is empty after the shutdown"
nrevoke=$(log_blocks 5 | wc -l)
echo "journal starts at $jstart; $(log_blocks 1 | wc -l) descriptor and $nrevoke revoke blocks"
[ "$nrevoke" -gt 0 ] || { debugfs -R logdump "$dev"; fail "no revoke block in the log"; }
run dd if="$dev" of=$img bs=4M count=$((FS_MB / 4)) iflag=direct status=none

aios_load

# (a) aiosfs replays, and leaves a clean volume with an empty journal.
klog_mark
run mount -t aiosfs -o ro "$dev" $mnt
expect_klog "aiosfs: \(nvme0n1\): recovering journal" "replay"
re="aiosfs: \(nvme0n1\): recovery complete: [1-9][0-9]* transactions, [1-9][0-9]* blocks replayed, [1-9][0-9]* revoked"
expect_klog "$re" "replay summary with revoke hits"
klog_since | grep -E "recovery complete"
$PY "$TREE" view $mnt >/tmp/aiosfs.json || fail "recording the aiosfs view failed"
# Only in the log: the last transaction's names, and an fsynced file.
[ -e $mnt/last/sub/file ] || fail "a file of the last transaction is missing"
assert_eq fsynced "$(head -n1 $mnt/last/synced)" "the fsynced file"
run umount $mnt
needs_recovery && fail "needs_recovery is still set after the replay"
assert_eq 0 "$(sb_field "Journal start")" "journal start after the replay"
echo "+ e2fsck -fn $dev"
out=$(e2fsck -fn "$dev" 2>&1) || { echo "$out"; fail "e2fsck -fn failed after the replay"; }
echo "$out"
echo "$out" | grep -q "Fix? no" && fail "e2fsck found something to fix after the replay"
klog_mark
run mount -t aiosfs -o ro "$dev" $mnt
run umount $mnt
klog_since | grep -q "recovering journal" && fail "a recovered volume was recovered again"
# needs_recovery over an empty journal: nothing to replay, the flag goes.
debugfs -w -R "feature needs_recovery" "$dev" >/dev/null 2>&1 || fail "debugfs feature"
needs_recovery || fail "debugfs did not set needs_recovery"
klog_mark
run mount -t aiosfs -o ro "$dev" $mnt
run umount $mnt
expect_klog "recovery complete: 0 transactions, 0 blocks replayed" "empty journal"
needs_recovery && fail "needs_recovery is still set over an empty journal"
run e2fsck -fn "$dev"

# (b) ext4 replays the same image: both see the same tree.
restore
run mount -t ext4 -o ro "$dev" $mnt
$PY "$TREE" view $mnt >/tmp/ext4.json || fail "recording the ext4 view failed"
run umount $mnt
$PY "$TREE" diff /tmp/ext4.json /tmp/aiosfs.json || fail "aiosfs's replay and ext4's disagree"
echo "ok: aiosfs's replay reads like ext4's"

# A read-only device is refused; noload mounts it without replay.
restore
run blockdev --setro "$dev"
must_refuse "read-only device" "aiosfs: \(nvme0n1\): the journal needs recovery but the device is read-only"
klog_mark
run mount -t aiosfs -o ro,noload "$dev" $mnt
expect_klog "noload is set: not replaying it" "noload warning"
run ls $mnt/new >/dev/null
run umount $mnt
run blockdev --setrw "$dev"
needs_recovery || fail "noload cleared needs_recovery"

# A damaged descriptor block ends the log before its transaction.
restore
last=$(log_blocks 1 | tail -n1)
[ -n "$last" ] || fail "no descriptor block in the log"
jpatch "$(journal_pblk "$last")" 40 ffffffff
klog_mark
run mount -t aiosfs -o ro "$dev" $mnt
expect_klog "journal block $last of transaction [0-9]+: descriptor block checksum mismatch; the log ends before it" \
	"damaged descriptor"
expect_klog "recovery complete" "replay up to the damage"
klog_since | grep -E "aiosfs"
run umount $mnt

# A damaged logged block is not replayed; the rest is, and then the mount
# fails with the journal kept for e2fsck, as ext4's does.  The last
# transaction's block: nothing revokes it, so its checksum is checked.
restore
jpatch "$(journal_pblk $((last + 1)))" 100 ff
run dd if="$dev" of=$img.bad bs=4M count=$((FS_MB / 4)) iflag=direct status=none
must_refuse "damaged data block" \
	"journal block $((last + 1)) \(transaction [0-9]+, block [0-9]+\) fails its checksum: not replayed"
expect_klog "1 logged blocks failed their checksums and were not replayed: the journal is kept" \
	"damaged data block count"
run dd if=$img.bad of="$dev" bs=4M oflag=direct status=none
mount -t ext4 -o ro "$dev" $mnt 2>/dev/null && fail "ext4 mounted the damaged journal: the test's premise is wrong"
echo "ok: ext4 refuses the damaged journal too"
rm -f $img.bad

# Hostile journals: refused before anything is written.
restore
jpatch "$(journal_pblk 0)" 0 00000000
must_refuse "journal superblock magic" "bad journal superblock \(magic 0x00000000"

restore
jpatch "$(journal_pblk 0)" $((0x28)) 80000000 jsb or
must_refuse "unknown journal feature" "unknown incompatible journal feature 0x80000000"

restore
jpatch "$(journal_pblk 0)" $((0x28)) 00000020 jsb or
must_refuse "fast_commit journal" "unsupported journal feature fast_commit"

restore
jpatch "$(journal_pblk 0)" 200 ff
must_refuse "journal superblock checksum" "journal superblock checksum mismatch"

restore
first=$(log_blocks 1 | head -n1)
[ -n "$first" ] || fail "no descriptor block in the log"
jpatch "$(journal_pblk "$first")" 12 fffffff0 tail
jpatch "$(journal_pblk "$first")" 20 00000000 tail
must_refuse "tag outside the filesystem" "logs block 4294967280, outside the filesystem"

restore
jsb=$(journal_pblk 0)
jpatch "$(journal_pblk "$first")" 12 "$(printf %08x "$jsb")" tail
jpatch "$(journal_pblk "$first")" 20 00000000 tail
must_refuse "tag inside the journal" "logs block $jsb, outside the filesystem or inside the journal"

restore
rev=$(log_blocks 5 | head -n1)
jpatch "$(journal_pblk "$rev")" 12 00002000 tail
must_refuse "revoke count past the block" "revoke block $rev of transaction [0-9]+ claims 8192 bytes"

# A one-block log that starts at a descriptor: its data would go round.
restore
seq=$(debugfs -R logdump "$dev" 2>/dev/null |
	sed -n "s/.*expected sequence \([0-9]*\), type 1 .* at block $first\$/\1/p")
[ -n "$seq" ] || fail "no sequence for descriptor block $first"
jsb=$(journal_pblk 0)
jpatch "$jsb" $((0x10)) "$(printf %08x $((first + 1)))" jsb
jpatch "$jsb" $((0x14)) "$(printf %08x "$first")" jsb
jpatch "$jsb" $((0x18)) "$(printf %08x "$seq")" jsb
jpatch "$jsb" $((0x1c)) "$(printf %08x "$first")" jsb
must_refuse "looping log" "the journal log runs over its own start"

aios_unload
exit 0
