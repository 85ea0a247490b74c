#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of aios-bench: the first controller stays with nvme.ko (with a
# poll queue, for the io_uring --hipri floor), the second goes to aiosnvme.
# Each workload runs on both, interleaved A B A B, and $AIOS_OUT/report.md
# gets a table of means over the rounds, with the ratio's range.
#
# Raw devices: QD1 4 KiB O_DIRECT psync reads and writes.  Filesystems:
# ext4 (default mkfs and mount options) on nvme.ko against aiosfs on
# aiosnvme, cold-cache QD1 buffered random reads of a file written by ext4.
set -euo pipefail

root=${AIOS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
runtime=${AIOS_BENCH_RUNTIME:-5}
rounds=${AIOS_BENCH_ROUNDS:-3}
out=$AIOS_OUT
report=$out/report.md
rows=$out/rounds
export AIOS_ROOT=$root AIOS_KO=$root/build/$(uname -r)/aios.ko
. "$root/tests/lib/common.sh"

modprobe nvme poll_queues=1
mapfile -t bdfs < <(nvme_bdfs)
[ ${#bdfs[@]} -ge 2 ] || { echo "aios-bench: needs two NVMe controllers" >&2; exit 1; }
aios_bind "${bdfs[1]}" >/dev/null
stock=$(stock_disk "${bdfs[0]}")
aios=/dev/aiosnvme0n1
wait_for_dev $aios
: >"$rows"

# measure SIDE METRIC FILE ARGS...: one fio run at QD1; appends
# "SIDE METRIC mean p50 p99" (us) to the rounds file.
measure() {
	local side=$1 metric=$2 file=$3 name
	shift 3
	name=$side-${metric// /_}-$r
	fio --name="$name" --filename="$file" --bs=4k --iodepth=1 --runtime="$runtime" \
	    --time_based --randrepeat=0 --output-format=json --output="$out/$name.json" \
	    "$@" >/dev/null
	python3 - "$out/$name.json" "$side" "$metric" >>"$rows" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
d = j["read"] if j["read"]["io_bytes"] else j["write"]
c = d["clat_ns"]["percentile"]
print("%s\t%s\t%.1f\t%.1f\t%.1f" % (sys.argv[2], sys.argv[3], d["lat_ns"]["mean"] / 1e3,
                                     c["50.000000"] / 1e3, c["99.000000"] / 1e3))
PY
}

# measure_iops SIDE METRIC FILE ARGS...: libaio at QD32; appends "SIDE METRIC iops".
measure_iops() {
	local side=$1 metric=$2 file=$3 name
	shift 3
	name=$side-${metric// /_}-$r
	fio --name="$name" --filename="$file" --bs=4k --iodepth=32 \
	    --runtime="$runtime" --time_based --randrepeat=0 --output-format=json \
	    --output="$out/$name.json" "$@" --ioengine=libaio >/dev/null
	python3 - "$out/$name.json" "$side" "$metric" >>"$iops" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print("%s\t%s\t%.0f" % (sys.argv[2], sys.argv[3], j["read"]["iops"] + j["write"]["iops"]))
PY
}

# commands SIDE: the commands its drive has taken so far (reads, writes, flushes).
commands() {
	if [ "$1" = stock ]; then
		awk '{ print $1 + $5 + $16 }' "/sys/block/${stock#/dev/}/stat"
	else
		awk '{ n += $3 } END { print n }' "/sys/bus/pci/devices/${bdfs[1]}/aiosnvme/queue_stats"
	fi
}

# measure_fsync SIDE METRIC FILE ARGS...: like measure (FILE may be empty
# when ARGS name the files), for writes with
# fsync=1 or fdatasync=1: the latency of a write and its sync together;
# appends "SIDE METRIC ctx/sync commands/sync" to the costs file.
costs=$out/fsync-costs
: >"$costs"
measure_fsync() {
	local side=$1 metric=$2 file=$3 name c0 c1
	shift 3
	name=$side-${metric// /_}-$r
	c0=$(commands "$side")
	fio --name="$name" ${file:+--filename="$file"} --bs=4k --iodepth=1 --runtime="$runtime" \
	    --time_based --randrepeat=0 --output-format=json --output="$out/$name.json" \
	    "$@" >/dev/null
	c1=$(commands "$side")
	python3 - "$out/$name.json" "$side" "$metric" $((c1 - c0)) "$rows" "$costs" <<'PY'
import json, sys
path, side, metric, cmds, rows, costs = sys.argv[1:]
j = json.load(open(path))["jobs"][0]
w, s = j["write"], j["sync"]
p = s["lat_ns"].get("percentile") or w["clat_ns"]["percentile"]
wl = w["lat_ns"]["mean"]
with open(rows, "a") as f:
    f.write("%s\t%s\t%.1f\t%.1f\t%.1f\n" % (side, metric, (wl + s["lat_ns"]["mean"]) / 1e3,
                                          (wl + p["50.000000"]) / 1e3, (wl + p["99.000000"]) / 1e3))
# fio counts fdatasyncs in the latency but not in total_ios: one per write.
n = max(s["total_ios"] or w["total_ios"], 1)
with open(costs, "a") as f:
    f.write("%s\t%s\t%.2f\t%.2f\n" % (side, metric, j["ctx"] / n, int(cmds) / n))
PY
}

iops=$out/iops
: >"$iops"
smnt=/tmp/bench.ext4 amnt=/tmp/bench.aiosfs
mkdir -p $smnt $amnt

bench_raw() {
	echo "raw devices" >&2
	for d in "$stock" $aios; do
		dd if=/dev/urandom of="$d" bs=1M count=512 oflag=direct status=none
	done
	raw=(--direct=1 --size=512M --ioengine=psync)
	for r in $(seq "$rounds"); do
		echo "round $r/$rounds" >&2
		for side in stock aios; do
			dev=$stock
			[ $side = aios ] && dev=$aios
			measure $side "raw 4k randread" "$dev" "${raw[@]}" --rw=randread
			measure $side "raw 4k randwrite" "$dev" "${raw[@]}" --rw=randwrite
		done
		measure floor "raw 4k randread" "$stock" --direct=1 --size=512M --rw=randread \
			--ioengine=io_uring --hipri=1
		for side in stock aios; do
			dev=$stock
			[ $side = aios ] && dev=$aios
			measure_iops $side "raw 4k randread QD32 IOPS" "$dev" "${raw[@]}" --rw=randread
		done
	done
}

# The same file on both, written by ext4; aiosfs mounts its volume read-only.
bench_read() {
	echo "filesystems" >&2
	mkfs.ext4 -q -F "$stock"
	"$root/tools/mkfs.aiosfs" -q -F $aios
	for m in "$stock:$smnt" "$aios:$amnt"; do
		mount -t ext4 "${m%%:*}" "${m#*:}"
		fio --name=layout --filename="${m#*:}/file" --size=768M --bs=1M --rw=write \
		    --end_fsync=1 >/dev/null
		umount "${m#*:}"
	done
	mount -t ext4 "$stock" $smnt
	mount -t aiosfs -o ro $aios $amnt
	# Cold: fio drops the file's pages before each run (invalidate) and its
	# random map reads no block twice within a run.
	fsrd=(--size=768M --ioengine=psync --rw=randread --invalidate=1)
	stages=/sys/kernel/debug/aiosfs/read_stages
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	echo on >$stages
	for r in $(seq "$rounds"); do
		echo "round $r/$rounds" >&2
		for bs in 4k 16k 128k; do
			for side in stock aios; do
				mnt=$smnt
				[ $side = aios ] && mnt=$amnt
				sync
				echo 3 >/proc/sys/vm/drop_caches
				echo reset >$stages
				measure $side "fs $bs cold randread" "$mnt/file" "${fsrd[@]}" --bs=$bs
				if [ $side = aios ]; then cat $stages >"$out/aiosfs-stages-$bs-$r.txt"; fi
			done
		done
	done
	echo off >$stages
	umount $smnt $amnt
}

# Writes with fsync: ext4 (default mkfs and mount options, ordered) against
# aiosfs read-write, each on a fresh volume.  fio's ctx (context switches)
# and the drive's commands are counted per fsync.
bench_fsync() {
	echo "fsync" >&2
	mkfs.ext4 -q -F "$stock"
	"$root/tools/mkfs.aiosfs" -q -F $aios
	mount -t ext4 "$stock" $smnt
	mount -t aiosfs $aios $amnt
	# Random writes overwrite written blocks (as a database's do); appends
	# allocate a block per write.
	for mnt in $smnt $amnt; do
		for f in w1 w2.0 w2.1 d1; do
			fio --name=layout --filename="$mnt/$f" --size=64M --bs=1M --rw=write \
			    --end_fsync=1 >/dev/null
		done
	done
	fsw=(--ioengine=psync --size=64M)
	fsync_stages=/sys/kernel/debug/aiosfs/fsync_stages
	[ -e $fsync_stages ] && echo on >$fsync_stages
	for r in $(seq "$rounds"); do
		echo "round $r/$rounds" >&2
		for side in stock aios; do
			mnt=$smnt
			[ $side = aios ] && mnt=$amnt
			[ $side = aios ] && [ -e $fsync_stages ] && echo reset >$fsync_stages
			measure_fsync $side "fs 4k randwrite+fsync" "$mnt/w1" "${fsw[@]}" --rw=randwrite --fsync=1
			[ $side = aios ] && [ -e $fsync_stages ] && cat $fsync_stages >"$out/aiosfs-fsync-stages-$r.txt"
			measure_fsync $side "fs 4k randwrite+fsync 2 jobs" "" "${fsw[@]}" --rw=randwrite \
				--fsync=1 --numjobs=2 --group_reporting --directory=$mnt \
				--filename_format='w2.$jobnum'
			measure_fsync $side "fs 4k append+fsync" "$mnt/a-$r" --ioengine=psync --rw=write \
				--size=1G --fsync=1 --fallocate=none
			measure_fsync $side "fs 4k randwrite+fdatasync" "$mnt/d1" "${fsw[@]}" --rw=randwrite \
				--fdatasync=1
		done
	done
	[ -e $fsync_stages ] && echo off >$fsync_stages
	umount $smnt $amnt
}

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
for p in ${AIOS_BENCH_PROFILES:-raw read fsync}; do
	case $p in
	raw) bench_raw ;;
	read) bench_read ;;
	fsync) bench_fsync ;;
	*) echo "aios-bench: unknown profile $p (raw, read, fsync)" >&2; exit 2 ;;
	esac
done

python3 - "$rows" "$rounds" "$runtime" "$(uname -r)" >"$report" <<'PY'
import sys
from collections import defaultdict
rows, rounds, runtime, kver = sys.argv[1:]
v = defaultdict(list)
order = []
for line in open(rows):
    side, metric, mean, p50, p99 = line.rstrip("\n").split("\t")
    if metric not in order:
        order.append(metric)
    v[side, metric].append((float(mean), float(p50), float(p99)))
avg = lambda xs, i: sum(x[i] for x in xs) / len(xs)
print("QD1, %s rounds of %ss, %s, latency in us; stock = nvme.ko (+ ext4), "
      "aios = aiosnvme (+ aiosfs)\n" % (rounds, runtime, kver))
print("| metric | stock | aios | ratio | ratio range |")
print("|---|---|---|---|---|")
for m in order:
    s, a = v["stock", m], v["aios", m]
    if not s or not a:
        continue
    per = [y[0] / x[0] for x, y in zip(s, a)]
    for i, name in enumerate(("mean", "p50", "p99")):
        rng = "%.2f-%.2f" % (min(per), max(per)) if i == 0 else "-"
        print("| %s %s | %.1f | %.1f | %.2f | %s |" % (m, name, avg(s, i), avg(a, i),
                                                      avg(a, i) / avg(s, i), rng))
f = v["floor", "raw 4k randread"]
if f:
    fl = avg(f, 0)
    print("| floor: nvme.ko io_uring --hipri, raw 4k read mean | %.1f | - | - | - |" % fl)
    for m, what in (("raw 4k randread", "aiosnvme raw read"),
                    ("fs 4k cold randread", "aiosfs cold 4k read")):
        if v["aios", m]:
            print("| %s mean / floor | - | - | %.2f | - |" % (what, avg(v["aios", m], 0) / fl))
PY
{
	if [ -e "$out/aiosfs-stages-4k-$rounds.txt" ]; then
		echo
		echo "Where an aiosfs cold 4 KiB read's time goes (round $rounds; the device"
		echo "works during the insertion stage):"
		echo
		sed 's/^/    /' "$out/aiosfs-stages-4k-$rounds.txt"
	fi
	if [ -e "$out/aiosfs-fsync-stages-$rounds.txt" ]; then
		echo
		echo "Where an aiosfs 4 KiB write+fsync's time goes (round $rounds):"
		echo
		sed 's/^/    /' "$out/aiosfs-fsync-stages-$rounds.txt"
	fi
} >>"$report"
python3 - "$iops" >>"$report" <<'PY'
import sys
from collections import defaultdict
v = defaultdict(list)
for line in open(sys.argv[1]):
    side, metric, val = line.rstrip("\n").split("\t")
    v[metric, side].append(float(val))
if v:
    print("\n| throughput | stock | aios | ratio |\n|---|---|---|---|")
    for m in sorted({m for m, _ in v}):
        s, a = v[m, "stock"], v[m, "aios"]
        if s and a:
            s, a = sum(s) / len(s), sum(a) / len(a)
            print("| %s | %.0f | %.0f | %.2f |" % (m, s, a, a / s))
PY
python3 - "$costs" >>"$report" <<'PY'
import sys
from collections import defaultdict
v = defaultdict(list)
for line in open(sys.argv[1]):
    side, metric, ctx, cmds = line.rstrip("\n").split("\t")
    v[metric, side].append((float(ctx), float(cmds)))
if v:
    print("\nPer sync, means over the rounds (fio's context switches of the job; the drive's "
          "commands: reads, writes and flushes, the flush ahead of a commit block counting "
          "as one of its own on both sides):\n")
    print("| workload | stock ctx | aios ctx | stock commands | aios commands |")
    print("|---|---|---|---|---|")
    for m in dict.fromkeys(m for m, _ in v):
        s, a = v[m, "stock"], v[m, "aios"]
        if s and a:
            f = lambda xs, i: sum(x[i] for x in xs) / len(xs)
            print("| %s | %.2f | %.2f | %.2f | %.2f |" % (m, f(s, 0), f(a, 0), f(s, 1), f(a, 1)))
PY
cat "$report"
"$root/tools/aios-bind" --reset "${bdfs[1]}" >/dev/null
