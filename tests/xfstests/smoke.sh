#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A few xfstests on aiosfs, under three minutes in the VM together: the
# harness itself (build, drives on aiosnvme, users, dm without udev) and
# tests that pass on ext4.  Skipped only when there is no xfstests source.
# xfstests is built once, under build/xfstests/.
set -uo pipefail
. "$AIOS_ROOT/tests/lib/common.sh"

SMOKE=${XFSTESTS_SMOKE:-"generic/002 generic/057"}
out=$AIOS_OUT/xfstests-smoke
rm -rf "$out"
T=$SMOKE FSTYP=aiosfs KVER=$AIOS_KVER XFSTESTS_RECORD=0 XFSTESTS_TIMEOUT=300 \
	XFSTESTS_OUT=$out "$AIOS_ROOT/tools/aios-xfstests" 2>&1
rc=$?
[ $rc = 4 ] && exit 4
[ $rc = 0 ] || fail "tools/aios-xfstests exited $rc"
bad=$(awk -F'\t' '$3 != "pass" { print $1 " " $3 ": " $6 }' "$out/results.tsv")
[ -z "$bad" ] || fail "not passed on aiosfs: $bad"
n=$(wc -l <"$out/results.tsv")
assert_eq "$(echo "$SMOKE" | wc -w)" "$n" "results"
echo "xfstests smoke: $n passed on aiosfs"
