# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by aios-bind, aios-bench and the bench's guest side.

# ctrl_disks BDF: the names of the disks of the NVMe controller at PCI
# address BDF, one per line.  aiosnvme's disks hang off the PCI device
# itself, nvme.ko's off its nvmeN child: both resolve to a path in BDF.
ctrl_disks() {
	local blk p
	for blk in /sys/block/*; do
		p=$(readlink -f "$blk/device" 2>/dev/null) || continue
		case $p in */"$1" | */"$1"/*) echo "${blk##*/}" ;; esac
	done
}
