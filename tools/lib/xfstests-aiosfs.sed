# SPDX-License-Identifier: GPL-2.0
#
# Applied by tools/aios-xfstests to its unpacked build copy of xfstests
# (common/*, tests/generic/*, tests/shared/*), never to the source: makes
# xfstests treat aiosfs as the ext4-format filesystem it is.  Wherever
# xfstests chooses by FSTYP (case statements, [ "$FSTYP" = ext4 ] tests),
# it sees "ext4" for aiosfs, so that aiosfs takes ext4's branch: mkfs.ext4
# makes its volumes, e2fsck checks them, ext4's feature checks apply.  Where
# FSTYP names the filesystem (mount -t, /proc/mounts, messages) it stays
# aiosfs, so the kernel's aiosfs is what is tested.

# case $FSTYP in ..., and the helpers' copies: case "$fs" in (the fs whose
# helpers to source) and case "$fstyp" in.
s@case +"?\$\{?(FSTYP|fs|fstyp)\}?"? +in@case "${\1/#aiosfs/ext4}" in@g
# [ "$FSTYP" = ext4 ], [[ $FSTYP == ext[234] ]], test "$FSTYP" != xfs, and
# the second operand of -o/-a/&&/|| chains.
s@(\[\[?|test|-o|-a|&&|\|\|) +"?\$\{?FSTYP\}?"? +(=|==|!=|=~) @\1 "${FSTYP/#aiosfs/ext4}" \2 @g
# _exclude_fs ext4 excludes aiosfs too.
s@\[ "\$1" = "\$FSTYP" \]@[ "$1" = "${FSTYP/#aiosfs/ext4}" ]@
# mkfs -t $FSTYP in _scratch_mkfs_sized and fsck -t $FSTYP in the generic
# check: ext4's programs (mkfs.aiosfs and fsck.aiosfs are the same ones).
s@(MKFS_PROG\}? +-t|fsck +-t) +\$FSTYP@\1 ${FSTYP/#aiosfs/ext4}@g
# aiosfs takes no acl or user_xattr option (ext4 has both on by default,
# so for ext4 they change nothing): its mounts get EXT_MOUNT_OPTIONS alone.
s@^([[:space:]]*)echo "-o acl,user_xattr \$EXT_MOUNT_OPTIONS"@\1if [ "$FSTYP" = aiosfs ]; then echo $EXT_MOUNT_OPTIONS; else echo "-o acl,user_xattr $EXT_MOUNT_OPTIONS"; fi@
