#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The runner refuses to test what the sources no longer say: a missing
# aios.ko, one without the test hooks, one older than a module source, and
# test programs (here aios-ctl) older than theirs; AIOS_TEST_STALE_OK=1 runs
# them anyway, and a fresh build runs.  A copy of the runner works on a
# tree of its own, with one host group that passes.
. "$AIOS_ROOT/tests/lib/common.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t=$tmp/tree
k=$AIOS_KVER
mkdir -p "$t/tests/g" "$t/tools" "$t/fs" "$t/build/$k" "$t/build/tools"
cp "$AIOS_ROOT/Makefile" "$t/"
cp "$AIOS_ROOT/tests/run" "$t/tests/"
cp -r "$AIOS_ROOT/tests/lib" "$t/tests/"
cp "$AIOS_ROOT/tools/module-sources" "$t/tools/"
printf 'VM_HOST=1\nVM_TIMEOUT=60\n' >"$t/tests/g/vm.conf"
printf '#!/bin/sh\nexit 0\n' >"$t/tests/g/pass.sh"
chmod +x "$t/tests/g/pass.sh"
: >"$t/Kbuild"
: >"$t/dkms.conf"
: >"$t/fs/a.c"
: >"$t/tools/aios-ctl.c"
cp "$AIOS_ROOT/build/$k/aios.ko" "$t/build/$k/aios.ko"
: >"$t/build/tools/aios-ctl"

# fresh: the sources older than what was built from them, which is older
# than now (a source touched now is newer, whatever the clock's grain).
fresh() {
	touch -d '1 hour ago' "$t/Kbuild" "$t/dkms.conf" "$t/fs/a.c" "$t/tools/aios-ctl.c"
	touch -d '10 minutes ago' "$t/build/$k/aios.ko" "$t/build/tools/aios-ctl"
}

# expect RC PATTERN [VAR=VALUE...]: the runner's exit status and a line.
expect() {
	local rc=$1 pat=$2 got
	shift 2
	env "$@" AIOS_RESULTS="$tmp/results" "$t/tests/run" -k "$k" >"$tmp/out" 2>&1
	got=$?
	[ "$got" = "$rc" ] && grep -Eq -- "$pat" "$tmp/out" && return
	cat "$tmp/out"
	fail "expected exit status $rc and a line matching '$pat', got $got"
}

fresh
expect 0 '^1 passed, 0 failed$'
touch "$t/fs/a.c"
expect 2 "aios.ko is older than fs/a.c"
expect 0 '^1 passed, 0 failed$' AIOS_TEST_STALE_OK=1
fresh
touch "$t/tools/aios-ctl.c"
expect 2 'the test programs \(make tests\) are older than their sources'
fresh
# A module without fault_ parameters: one of the kernel's own.
cp "$(modinfo -k "$k" -n brd)" "$t/build/$k/aios.ko"
expect 2 'aios.ko was built without the test hooks'
rm "$t/build/$k/aios.ko"
expect 2 'there is no .*aios.ko'
exit 0
