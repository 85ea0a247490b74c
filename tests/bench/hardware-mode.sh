#!/bin/bash
# aios-bench on "real hardware": this guest's two NVMe controllers stand in
# for a machine's drives.  Without --yes it refuses and names what it would
# destroy; a mounted device is refused even with --yes; a short run (quick
# set, one round of 1 s) then measures the raw, fsync and postmark
# workloads on both sides, reports the floor as missing (nvme.ko has no poll
# queues here) and draws the plots.
. "$AIOS_ROOT/tests/lib/common.sh"

run modprobe nvme
mapfile -t bdfs < <(nvme_bdfs)
stock=$(stock_disk "${bdfs[0]}")
aios_load
out=/tmp/bench
bench() {
	"$AIOS_ROOT/tools/aios-bench" -q -r 1 -t 1 -o $out "$@" >/tmp/bench.out 2>&1
}

if bench --stock "${bdfs[0]}" --aios "${bdfs[1]}" -p raw; then
	cat /tmp/bench.out
	fail "aios-bench ran without --yes"
fi
cat /tmp/bench.out
grep -q "destroys every byte" /tmp/bench.out || fail "no warning of what it destroys"
grep -q "${bdfs[1]}" /tmp/bench.out || fail "the warning does not name ${bdfs[1]}"

run mkfs.ext4 -q -F "$stock"
mkdir -p /tmp/mnt
run mount "$stock" /tmp/mnt
if bench --stock "$stock" --aios "${bdfs[1]}" --yes -p raw; then
	cat /tmp/bench.out
	fail "aios-bench benchmarked a mounted device"
fi
cat /tmp/bench.out
grep -q "in use" /tmp/bench.out || fail "no word of the mounted device"
run umount /tmp/mnt

bench --stock "${bdfs[0]}" --aios "${bdfs[1]}" --yes -p "raw fsync postmark" ||
	{ cat /tmp/bench.out; fail "aios-bench failed"; }
cat /tmp/bench.out
report=$out/report.md
# Every row: a figure on both sides.
for m in "raw 4k randread mean" "raw 4k randwrite mean" "raw 4k randread QD32 IOPS" \
	 "fs 4k randwrite+fsync mean" "fs 4k append+fsync mean" \
	 "fs 4k randwrite+fsync: drive commands per sync" \
	 "postmark, fsync on close: run time"; do
	awk -F' [|] ' -v m="$m" '$1 == "| " m && $3 + 0 > 0 && $4 + 0 > 0 { ok = 1 }
				  END { exit !ok }' "$report" ||
		fail "no figures for '$m' on both sides"
done
grep -q "floor: nvme.ko has no poll queues" "$report" || fail "the missing floor is not reported"
grep -q "fsyncs that committed" "$report" || fail "no fsync stage breakdown"
for p in ratios.png cdf-raw-4k-randread.png cdf-fs-4k-randwrite-fsync.png stages-fsync.png; do
	[ -s "$out/$p" ] || fail "no plot $p"
	file "$out/$p" | grep -q "PNG image" || fail "$p is not a PNG"
done
"$AIOS_ROOT/tools/aios-bind" --reset "${bdfs[1]}" >/dev/null
aios_unload
exit 0
