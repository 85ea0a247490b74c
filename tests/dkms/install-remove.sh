#!/bin/bash
# The DKMS life cycle as a user runs it: make dkms-install builds and
# installs the module for the running kernel, modprobe finds it by name,
# DKMS also builds it for every other installed kernel (as after a kernel
# upgrade), and make dkms-remove takes it all away again.
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

for k in $("$AIOS_ROOT/tools/kernels"); do
	[ "$k" = "$kver" ] && continue
	run dkms build -m aios -v "$ver" -k "$k"
	dkms status -m aios -v "$ver" -k "$k" | grep -q "aios/$ver, $k, x86_64: built" ||
		fail "dkms status does not show aios/$ver built for $k: $(dkms status -m aios)"
	modinfo -F vermagic /var/lib/dkms/aios/"$ver"/"$k"/x86_64/module/aios.ko* | grep -q "^$k " ||
		fail "the module DKMS built for $k is not for $k"
done

run make -C "$AIOS_ROOT" --no-print-directory dkms-remove
modinfo aios >/dev/null 2>&1 && fail "modinfo still finds aios after dkms-remove"
[ -e "/usr/src/aios-$ver" ] && fail "/usr/src/aios-$ver left behind"
exit 0
