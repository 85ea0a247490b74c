#!/bin/bash
# modinfo reports the fields users and DKMS rely on, and the version is the
# one dkms.conf declares.
. "$AIOS_ROOT/tests/lib/common.sh"

want=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$AIOS_ROOT/dkms.conf")
[ -n "$want" ] || fail "no PACKAGE_VERSION in dkms.conf"
assert_eq "$want" "$(modinfo -F version "$AIOS_KO")" "module version"
assert_eq GPL "$(modinfo -F license "$AIOS_KO")" "license"
assert_eq aios "$(modinfo -F name "$AIOS_KO")" "name"
[ -n "$(modinfo -F description "$AIOS_KO")" ] || fail "no description"
[ -n "$(modinfo -F author "$AIOS_KO")" ] || fail "no author"
modinfo -F alias "$AIOS_KO" | grep -qx fs-aiosfs || fail "no fs-aiosfs alias (mount -t aiosfs would not autoload)"
# No PCI aliases: the module must never be autoloaded for, or bind to, a
# controller on its own.
modinfo -F alias "$AIOS_KO" | grep -q '^pci:' && fail "module has PCI aliases"
set -- $(modinfo -F vermagic "$AIOS_KO")
assert_eq "$(uname -r)" "$1" "vermagic kernel release"
exit 0
