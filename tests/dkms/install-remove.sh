#!/bin/bash
# The DKMS life cycle as a user runs it: make dkms-install builds and
# installs the module for the running kernel, modprobe finds it by name,
# and make dkms-remove takes it all away again.  DKMS's builds for the
# other kernels (as after a kernel upgrade) are tests/dkms-build's, on this
# machine: compiling under emulation takes minutes.
. "$AIOS_ROOT/tests/lib/common.sh"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$AIOS_ROOT/dkms.conf")
kver=$(uname -r)
aios_unload

run make -C "$AIOS_ROOT" --no-print-directory dkms-install
dkms status -m aios -v "$ver" | grep -q "aios/$ver, $kver, x86_64: installed" ||
	fail "dkms status does not show aios/$ver installed for $kver: $(dkms status -m aios)"
path=$(modinfo -n aios) || fail "modinfo does not find aios after dkms install"
case $path in
/lib/modules/"$kver"/updates/dkms/aios.ko*) ;;
*) fail "modinfo finds aios at $path, not in updates/dkms" ;;
esac
assert_eq "$ver" "$(modinfo -F version aios)" "installed module version"

run modprobe aios
grep -qw aiosfs /proc/filesystems || fail "aiosfs not registered after modprobe aios"
run modprobe -r aios

run make -C "$AIOS_ROOT" --no-print-directory dkms-remove
modinfo aios >/dev/null 2>&1 && fail "modinfo still finds aios after dkms-remove"
[ -e "/usr/src/aios-$ver" ] && fail "/usr/src/aios-$ver left behind"
exit 0
