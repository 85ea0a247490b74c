#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fsck_clean, which most groups end with, must fail a volume with a
# problem, an e2fsck that fails or prints no summary, and pass a clean one
# with its free counts in E2_FREEB and E2_FREEI (the counts dumpe2fs
# gives) and "Optimize?" lines shown but not counted as problems.  Real
# images made here, and a stand-in e2fsck for the outputs a real one gives
# only on odd volumes.
. "$AIOS_ROOT/tests/lib/common.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check IMG: fsck_clean in a subshell (it exits on failure); its status,
# output in $tmp/out.
check() {
	(fsck_clean "$1" test && echo "free $E2_FREEB $E2_FREEI") >"$tmp/out" 2>&1
}

img=$tmp/clean.img
run mke2fs -q -F -t ext4 "$img" 64M
check "$img" || { cat "$tmp/out"; fail "a fresh volume was not clean"; }
grep -q '^e2fsck clean (test): ' "$tmp/out" || fail "no 'e2fsck clean' line"
want=$(dumpe2fs -h "$img" 2>/dev/null |
	awk -F: '/^Free blocks/ { b = $2 + 0 } /^Free inodes/ { i = $2 + 0 } END { print "free", b, i }')
got=$(grep '^free ' "$tmp/out")
assert_eq "$want" "$got" "free blocks and inodes"

cp "$img" "$tmp/bad.img"
debugfs -w -R 'ssv free_blocks_count 12' "$tmp/bad.img" >/dev/null 2>&1
debugfs -w -R 'set_inode_field <2> links_count 7' "$tmp/bad.img" >/dev/null 2>&1
! check "$tmp/bad.img" || { cat "$tmp/out"; fail "a volume with wrong counts passed"; }
grep -q 'FAIL: test: e2fsck -fn .* reported problems' "$tmp/out" || fail "no reason given"

# A stand-in e2fsck: prints $FAKE_OUT, exits $FAKE_RC.
mkdir "$tmp/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$FAKE_OUT"\nexit "${FAKE_RC:-0}"\n' >"$tmp/bin/e2fsck"
chmod +x "$tmp/bin/e2fsck"
summary='v: 11/16384 files (0.0% non-contiguous), 5465/65536 blocks'
fake() {
	PATH=$tmp/bin:$PATH FAKE_OUT=$1 FAKE_RC=$2 check x
}

fake "Pass 1: Checking inodes
$summary" 0 || { cat "$tmp/out"; fail "the stand-in's clean output failed"; }
assert_eq "free 60071 16373" "$(grep '^free ' "$tmp/out")" "counts from the summary"

fake "$summary" 8 && fail "e2fsck's exit status 8 passed"
grep -q 'exited 8' "$tmp/out" || fail "the exit status not shown"

fake "Pass 1: Checking inodes" 0 && fail "an output without a summary passed"
grep -q 'no summary line' "$tmp/out" || fail "a missing summary not named"

fake "Inode 12 extent tree (at level 1) could be shorter.  Optimize? no

$summary" 0 || { cat "$tmp/out"; fail "an Optimize? line counted as a problem"; }
grep -q 'Optimize? no$' "$tmp/out" || fail "the Optimize? line not shown"

fake "Inode 12 has EXTENTS_FL flag set on filesystem without extents support.
Clear? no

$summary" 0 && fail "a question answered no passed"
exit 0
