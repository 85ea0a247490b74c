#!/bin/bash
# The runner must fail a failed test, a test during which the kernel warned,
# and a crashed guest (that test and every later one), must pass and skip
# the rest, and must exit non-zero.  It runs a planted group in a guest.
. "$AIOS_ROOT/tests/lib/common.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
AIOS_RESULTS=$out/results "$AIOS_ROOT/tests/run" -k "$AIOS_KVER" \
	-g "$AIOS_ROOT/tests/lib/selftest" >"$out/ktap" 2>&1
rc=$?
cat "$out/ktap"
[ "$rc" != 0 ] || fail "the runner exited 0 for a failing group"
expect() {
	grep -Eq "$1" "$out/ktap" || fail "no line matching: $1"
}
expect '^1\.\.6$'
expect '^ok 1 - .* selftest/a-pass$'
expect '^not ok 2 - .* selftest/b-fail # exit status 1$'
expect '^# a failed assertion$'
expect '^not ok 3 - .* selftest/c-warn # kernel warning: WARNING: .*aios-selftest'
expect '^ok 4 - .* selftest/d-skip # SKIP nothing to do here$'
expect '^not ok 5 - .* selftest/e-crash # the guest stopped while it ran$'
expect '^not ok 6 - .* selftest/f-after-crash # not run: the guest had stopped$'
expect '^# .*(Kernel panic|sysrq: Trigger a crash)'
expect '^1 passed, 4 failed, 1 skipped$'
exit 0
