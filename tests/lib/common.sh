# SPDX-License-Identifier: GPL-2.0
# Helpers for shell tests; sourced inside the guest, where guest-run has set
# AIOS_ROOT, AIOS_KO and AIOS_KVER.  A test exits 0 to pass, 4 to skip (with
# the reason as its last line) and anything else to fail.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$*"
	exit 4
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# Runs a command that must succeed, showing it in the test's log.
run() {
	echo "+ $*"
	"$@" || fail "'$*' exited with status $?"
}

aios_loaded() {
	[ -d /sys/module/aios ]
}

# aios_load [PARAM=VALUE...]: insmod does not resolve dependencies, so
# they are loaded by name first.
aios_load() {
	local dep
	aios_loaded && return 0
	[ -r "$AIOS_KO" ] || fail "no module at $AIOS_KO (run make first)"
	for dep in $(modinfo -F depends "$AIOS_KO" | tr , ' '); do
		modprobe "$dep" || fail "cannot load dependency $dep"
	done
	insmod "$AIOS_KO" "$@" || fail "insmod $AIOS_KO $* failed"
}

aios_unload() {
	aios_loaded || return 0
	rmmod aios || fail "rmmod aios failed"
}

# The PCI addresses of the guest's NVMe controllers.
nvme_bdfs() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/class")" = 0x010802 ] && basename "$d"
	done
}

# The driver a PCI device is bound to, or "none".
pci_driver() {
	local l=/sys/bus/pci/devices/$1/driver
	if [ -e "$l" ]; then
		basename "$(readlink "$l")"
	else
		echo none
	fi
}

# Waits (up to 5 s) for a device node: there is no udev to wait for.  If
# the kernel has the disk but devtmpfs shows no node, makes the node from
# sysfs as udev would, and says so in the test's log.
wait_for_dev() {
	local i name=${1#/dev/}
	for i in $(seq 100); do
		[ -b "$1" ] && return 0
		sleep 0.05
	done
	if [ -r "/sys/class/block/$name/dev" ]; then
		echo "note: $1 exists in sysfs ($(cat "/sys/class/block/$name/dev")) but not in /dev; creating it"
		mknod "$1" b $(tr : ' ' <"/sys/class/block/$name/dev") && return 0
	fi
	fail "$1 did not appear"
}

# The disk (through nvme.ko) of the controller whose serial is $1: aios-vm
# names its controllers aios0, aios1... in the order of its -d options.
nvme_disk() {
	local i c
	[ -d /sys/module/nvme ] || modprobe nvme || fail "cannot load nvme"
	for i in $(seq 100); do
		for c in /sys/class/nvme/nvme*; do
			[ "$(cat "$c/serial" 2>/dev/null | tr -d ' ')" = "$1" ] || continue
			[ -b "/dev/${c##*/}n1" ] && { echo "/dev/${c##*/}n1"; return 0; }
		done
		sleep 0.1
	done
	fail "no NVMe disk with serial $1"
}

# The disk under test: the first drive's, through nvme.ko.
test_disk() { nvme_disk aios0; }

# fsck_clean DEV WHAT: e2fsck -fn exits 0 and reports no problem.  Its
# suggestions to optimize ("extent tree could be narrower. Optimize? no")
# are not problems: ext4 leaves such trees too.  Sets E2_FREEB and E2_FREEI
# from its summary ("N/M files ..., A/B blocks").
fsck_clean() {
	local out rc problems sum
	out=$(timeout 300 e2fsck -fn "$1" 2>&1)
	rc=$?
	problems=$(echo "$out" | grep -E '\? (no|yes)$|^Error|CORRUPT|corrupt' | grep -v 'Optimize? no$')
	if [ $rc != 0 ] || [ -n "$problems" ]; then
		echo "$out" | head -n 60
		fail "$2: e2fsck -fn $1 exited $rc and reported problems (above)"
	fi
	echo "$out" | grep 'Optimize? no$' | head -n 3
	# POSIX sh: the C tests source this file with /bin/sh.
	sum=$(echo "$out" | sed -n \
		's|.*: \([0-9]*\)/\([0-9]*\) files .*, \([0-9]*\)/\([0-9]*\) blocks$|\1 \2 \3 \4|p')
	[ -n "$sum" ] || { echo "$out"; fail "$2: no summary line in e2fsck's output"; }
	E2_FREEB=$(echo "$sum" | awk '{ print $4 - $3 }')
	E2_FREEI=$(echo "$sum" | awk '{ print $2 - $1 }')
	echo "e2fsck clean ($2): $(echo "$out" | tail -n1)"
}

# The first namespace's disk of the controller at PCI address $1 under
# nvme.ko, once it is there: /dev/nvme<C>n1.
stock_disk() {
	local i d
	for i in $(seq 100); do
		d=$(ls "/sys/bus/pci/devices/$1/nvme/"*/ 2>/dev/null | grep -m1 -E '^nvme[0-9]+n1$')
		[ -n "$d" ] && [ -b "/dev/$d" ] && { echo "/dev/$d"; return 0; }
		sleep 0.05
	done
	fail "no nvme.ko disk for $1"
}

# bind_first_keep_second: the first controller on aiosnvme, bound before
# nvme.ko ever probes it (nvme.ko's probe leaves DMA settings on the
# device), then the second on nvme.ko; sets STOCK_DISK to that one's disk.
bind_first_keep_second() {
	aios_bind "$(nvme_bdfs | head -n1)"
	wait_for_dev /dev/aiosnvme0n1
	run modprobe nvme
	STOCK_DISK=$(stock_disk "$(nvme_bdfs | sed -n 2p)") || exit 1
}

# Loads aios and hands it the NVMe controller at PCI address $1 (default:
# the first one); its disk is /dev/aiosnvme<N>n1.
aios_bind() {
	local bdf=${1:-$(nvme_bdfs | head -n1)}
	aios_load
	"$AIOS_ROOT/tools/aios-bind" "$bdf" || fail "aios-bind $bdf failed"
}
