#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of aios-bench: the first controller stays with nvme.ko (with a
# poll queue, for the io_uring --hipri floor), the second goes to aiosnvme.
# Each workload runs on both, interleaved A B A B, and $AIOS_OUT/report.md
# gets a table of means over the rounds, with the ratio's range.
set -euo pipefail

root=${AIOS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
runtime=${AIOS_BENCH_RUNTIME:-5}
rounds=${AIOS_BENCH_ROUNDS:-3}
out=$AIOS_OUT
report=$out/report.md
export AIOS_ROOT=$root AIOS_KO=$root/build/$(uname -r)/aios.ko
. "$root/tests/lib/common.sh"

modprobe nvme poll_queues=1
mapfile -t bdfs < <(nvme_bdfs)
[ ${#bdfs[@]} -ge 2 ] || { echo "aios-bench: needs two NVMe controllers" >&2; exit 1; }
aios_bind "${bdfs[1]}" >/dev/null
stock=$(stock_disk "${bdfs[0]}")
aios=/dev/aiosnvme0n1
wait_for_dev $aios
for d in "$stock" $aios; do
	dd if=/dev/urandom of="$d" bs=1M count=512 oflag=direct status=none
done

# fio_lat NAME DEV ARGS...: one run; prints "mean p50 p99" in us.
fio_lat() {
	local name=$1 dev=$2
	shift 2
	fio --name="$name" --filename="$dev" --direct=1 --bs=4k --iodepth=1 --size=512M \
	    --runtime="$runtime" --time_based --randrepeat=0 --output-format=json \
	    --output="$out/$name.json" "$@" >/dev/null
	python3 - "$out/$name.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
d = j["read"] if j["read"]["io_bytes"] else j["write"]
c = d["clat_ns"]["percentile"]
print("%.1f %.1f %.1f" % (d["lat_ns"]["mean"] / 1e3, c["50.000000"] / 1e3, c["99.000000"] / 1e3))
PY
}

declare -A sum
add() { sum[$1]=$(python3 -c "print(${sum[$1]:-0} + $2)"); }

for r in $(seq "$rounds"); do
	echo "round $r/$rounds" >&2
	for side in stock aios; do
		dev=$stock
		[ $side = aios ] && dev=$aios
		read -r m p50 p99 < <(fio_lat "$side-read-$r" "$dev" --rw=randread --ioengine=psync)
		add "$side.read.mean" "$m"; add "$side.read.p50" "$p50"; add "$side.read.p99" "$p99"
		echo "$side.read $m" >>"$out/rounds"
		read -r m p50 p99 < <(fio_lat "$side-write-$r" "$dev" --rw=randwrite --ioengine=psync)
		add "$side.write.mean" "$m"; add "$side.write.p50" "$p50"; add "$side.write.p99" "$p99"
		echo "$side.write $m" >>"$out/rounds"
	done
	read -r m p50 p99 < <(fio_lat "floor-read-$r" "$stock" --rw=randread --ioengine=io_uring \
				  --hipri=1)
	add floor.read.mean "$m"; add floor.read.p50 "$p50"; add floor.read.p99 "$p99"
done

avg() { python3 -c "print('%.1f' % (${sum[$1]} / $rounds))"; }
ratio() { python3 -c "print('%.2f' % ((${sum[$1]}) / (${sum[$2]})))"; }
# The ratio of each round's means, as min-max.
range() {
	python3 - "$out/rounds" "$1" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
s = [float(v) for k, v in rows if k == "stock." + sys.argv[2]]
a = [float(v) for k, v in rows if k == "aios." + sys.argv[2]]
if not s or len(s) != len(a):
    sys.exit("no rounds for " + sys.argv[2])
r = [y / x for x, y in zip(s, a)]
print("%.2f-%.2f" % (min(r), max(r)))
PY
}

{
	echo "QD1 4 KiB O_DIRECT psync, $rounds rounds of ${runtime}s, $(uname -r), latency in us"
	echo
	echo "| metric | nvme.ko | aiosnvme | ratio | ratio range |"
	echo "|---|---|---|---|---|"
	for op in read write; do
		for s in mean p50 p99; do
			echo "| random $op $s | $(avg stock.$op.$s) | $(avg aios.$op.$s) |" \
			     "$(ratio aios.$op.$s stock.$op.$s) |" \
			     "$([ $s = mean ] && range $op || echo -) |"
		done
	done
	echo "| floor: nvme.ko io_uring --hipri, read mean | $(avg floor.read.mean) | - | - | - |"
	echo "| aiosnvme read mean / floor | - | - | $(ratio aios.read.mean floor.read.mean) | - |"
	echo
	echo "Not measured yet: aiosfs (buffered cold read, write+fsync): the filesystem is read-only"
	echo "and its asynchronous read path is not built."
} >"$report"
cat "$report"
"$root/tools/aios-bind" --reset "${bdfs[1]}" >/dev/null
