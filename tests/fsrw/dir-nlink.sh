#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# More than 65000 subdirectories in one directory (ext4's dir_nlink): past
# 64999 the parent's link count is 1 ("many"), the directory works on, and
# e2fsck and ext4 agree.  Then most of them go again: the count stays 1
# (ext4 does not count back), and removing the rest works.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"

N=65010
trap 'umount $MNT 2>/dev/null' EXIT
fsrw_setup
dev=$(test_disk) || exit 1

nlink() { stat -c %h "$1"; }

run mkdir "$MNT/many"
timeout 500 $PY - "$MNT/many" $N <<'EOF' || fail "creating the subdirectories failed"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    try:
        os.mkdir(os.path.join(d, "sub%05d" % i))
    except OSError as e:
        sys.exit("mkdir #%d: %s (link count of the parent %d)" % (i, e, os.stat(d).st_nlink))
    if i == 64997:
        # 2 + 64998 subdirectories = 65000 links: the last real count.
        n1 = os.stat(d).st_nlink
        if n1 != 65000:
            sys.exit("link count %d with 64998 subdirectories, expected 65000" % n1)
print("created %d subdirectories" % n)
EOF
assert_eq 1 "$(nlink "$MNT/many")" "link count of a directory with $N subdirectories"
# A subdirectory's own '..' still works, and so do new entries.
assert_eq "$(stat -c %i "$MNT/many")" "$(stat -c %i "$MNT/many/sub65009/..")" "'..' of the last one"
run touch "$MNT/many/a-file"
fsrw_remount
assert_eq 1 "$(nlink "$MNT/many")" "link count after a remount"
assert_eq $((N + 1)) "$(ls -f "$MNT/many" | grep -vc '^\.\.\?$')" "entries after a remount"
fs_umount
fsck_clean "$dev" "with $N subdirectories"
run mount -t ext4 -o ro "$dev" "$MNT"
assert_eq 1 "$(nlink "$MNT/many")" "link count through ext4"
run umount "$MNT"
fs_mount "$dev"

# Most go: ext4 leaves the count at 1 (it cannot know the real one cheaply).
timeout 500 $PY - "$MNT/many" $N <<'EOF' || fail "removing subdirectories failed"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(100, n):
    os.rmdir(os.path.join(d, "sub%05d" % i))
EOF
echo "link count with 100 subdirectories left: $(nlink "$MNT/many")"
fs_umount
fsck_clean "$dev" "after removing all but 100"
fs_mount "$dev"
run rm -rf "$MNT/many"
fsrw_verify "$dev"
exit 0
