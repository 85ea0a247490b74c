#!/bin/bash
# DKMS builds the module for a kernel other than the running one, as it
# does after a kernel upgrade: from the sources `make dkms-sources` lays
# out, with dkms.conf's MAKE line, and the result is a module for that
# kernel.  tests/dkms covers install, modprobe and removal in a guest; the
# build is here because compiling under emulation takes minutes.
. "$AIOS_ROOT/tests/lib/common.sh"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$AIOS_ROOT/dkms.conf")
k=$AIOS_KVER
t=$(mktemp -d /tmp/aios-dkms.XXXXXX)
trap 'rm -rf "$t"' EXIT
opts=(--sourcetree "$t/src" --dkmstree "$t/tree")
mkdir -p "$t/tree"

run make -C "$AIOS_ROOT" --no-print-directory -s dkms-sources DKMS_DIR="$t/src/aios-$ver"
run dkms add -m aios -v "$ver" "${opts[@]}"
run dkms build -m aios -v "$ver" -k "$k" "${opts[@]}"
dkms status -m aios -v "$ver" -k "$k" "${opts[@]}" | grep -q "aios/$ver, $k, x86_64: built" ||
	fail "dkms status does not show aios/$ver built for $k: $(dkms status "${opts[@]}")"
for ko in "$t/tree/aios/$ver/$k/x86_64/module/"aios.ko*; do break; done
[ -e "$ko" ] || fail "DKMS left no aios.ko for $k in its tree"
modinfo -F vermagic "$ko" | grep -q "^$k " || fail "the module DKMS built for $k is not for $k"
assert_eq "$ver" "$(modinfo -F version "$ko")" "built module version"
# What DKMS installs has no test hooks (Kbuild's AIOS_TEST); the module
# make check built and the guests load has them.
params=$(modinfo -F parm "$ko")
if echo "$params" | grep -E '^fault_'; then
	fail "the module DKMS built has the test hooks above"
fi
strings "$ko" | grep -q lbio_selftest && fail "the module DKMS built has the lbio self-test"
modinfo -F parm "$AIOS_KO" | grep -q '^fault_drop_completion:' ||
	fail "make check's module ($AIOS_KO) has no test hooks"
log=$t/tree/aios/$ver/$k/x86_64/log/make.log
[ -r "$log" ] || fail "no DKMS build log at $log"
if grep -E 'warning:|error:' "$log"; then
	fail "DKMS's build warned (above)"
fi
exit 0
