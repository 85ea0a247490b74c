#!/bin/bash
# The DKMS life cycle as a user runs it: make dkms-install adds, builds and
# installs the module for the running kernel, modprobe finds it by name,
# and make dkms-remove takes it all away again.
#
# DKMS's build itself is tests/dkms-build's, for every kernel on this
# machine: the same sources, dkms.conf and headers, where the guest's
# compile under emulation took 15 minutes of the suite.  Here DKMS finds
# the module of those sources already built for this kernel (make check's
# aios.ko, laid where its build puts it) and goes on to install it; with
# AIOS_DKMS_COMPILE=1 the guest compiles it itself.
. "$AIOS_ROOT/tests/lib/common.sh"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$AIOS_ROOT/dkms.conf")
kver=$(uname -r)
aios_unload

if [ "${AIOS_DKMS_COMPILE:-0}" != 1 ]; then
	[ -r "$AIOS_KO" ] || fail "no module at $AIOS_KO (run make first)"
	built=/var/lib/dkms/aios/$ver/$kver/$(uname -m)
	[ -e "/var/lib/dkms/aios/$ver/source" ] && fail "aios/$ver is in the DKMS tree already"
	mkdir -p "$built/module" "$built/log"
	cp "$AIOS_KO" "$built/module/aios.ko"
	echo "tests/dkms: $AIOS_KO, built by make check" >"$built/log/make.log"
fi
make -C "$AIOS_ROOT" --no-print-directory dkms-install >/tmp/dkms-install.log 2>&1
rc=$?
cat /tmp/dkms-install.log
[ $rc = 0 ] || fail "make dkms-install exited $rc"
if [ "${AIOS_DKMS_COMPILE:-0}" != 1 ]; then
	grep -q "already built for kernel $kver" /tmp/dkms-install.log ||
		fail "dkms build did not take the module built for $kver"
fi
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
