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
	local d class
	for d in /sys/bus/pci/devices/*; do
		read -r class <"$d/class" && [ "$class" = 0x010802 ] && echo "${d##*/}"
	done
}

# The driver a PCI device is bound to, or "none".
pci_driver() {
	local l=/sys/bus/pci/devices/$1/driver
	if [ -e "$l" ]; then
		l=$(readlink "$l")
		echo "${l##*/}"
	else
		echo none
	fi
}

# Waits (up to 5 s) for a device node: there is no udev to wait for.  If
# the kernel has the disk but devtmpfs shows no node, makes the node from
# sysfs as udev would, and says so in the test's log.
wait_for_dev() {
	local i=0 name=${1#/dev/}
	while [ $i -lt 100 ]; do
		[ -b "$1" ] && return 0
		sleep 0.05
		i=$((i + 1))
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
	local i=0 c serial
	[ -d /sys/module/nvme ] || modprobe nvme || fail "cannot load nvme"
	while [ $i -lt 100 ]; do
		for c in /sys/class/nvme/nvme*; do
			# read drops the serial's padding.
			read -r serial 2>/dev/null <"$c/serial" || continue
			[ "$serial" = "$1" ] || continue
			[ -b "/dev/${c##*/}n1" ] && { echo "/dev/${c##*/}n1"; return 0; }
		done
		sleep 0.1
		i=$((i + 1))
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
	local out rc res nl='
'
	out=$(timeout 300 e2fsck -fn "$1" 2>&1)
	rc=$?
	# One awk reads it all (under TCG each program costs 0.2 s): its first
	# line "PROBLEMS FREE_BLOCKS FREE_INODES" (no counts without a summary
	# line), then what to show of a clean run.
	res=$(printf '%s\n' "$out" | awk '
		/Optimize\? no$/ { if (opt++ < 3) show = show $0 "\n"; next }
		/\? (no|yes)$|^Error|CORRUPT|corrupt/ { bad++ }
		$3 == "files" && $NF == "blocks" && split($2, f, "/") == 2 &&
			split($(NF - 1), b, "/") == 2 { sum = (b[2] - b[1]) " " (f[2] - f[1]) }
		{ last = $0 }
		END { printf "%d %s\n%s%s", bad, sum, show, last }')
	if [ $rc != 0 ] || [ "${res%% *}" != 0 ]; then
		printf '%s\n' "$out" | head -n 60
		fail "$2: e2fsck -fn $1 exited $rc and reported problems (above)"
	fi
	set -- "$1" "$2" ${res%%"$nl"*}
	[ $# = 5 ] || { printf '%s\n' "$out"; fail "$2: no summary line in e2fsck's output"; }
	E2_FREEB=$4
	E2_FREEI=$5
	res=${res#*"$nl"}
	case $res in *"$nl"*) printf '%s\n' "${res%"$nl"*}" ;; esac
	echo "e2fsck clean ($2): ${res##*"$nl"}"
}

# The first namespace's disk of the controller at PCI address $1 under
# nvme.ko, once it is there: /dev/nvme<C>n1.
stock_disk() {
	local i=0 d
	while [ $i -lt 100 ]; do
		d=$(ls "/sys/bus/pci/devices/$1/nvme/"*/ 2>/dev/null | grep -m1 -E '^nvme[0-9]+n1$')
		[ -n "$d" ] && [ -b "/dev/$d" ] && { echo "/dev/$d"; return 0; }
		sleep 0.05
		i=$((i + 1))
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
