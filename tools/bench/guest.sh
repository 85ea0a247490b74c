#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The measuring half of aios-bench.  In the VM (the default) the first NVMe
# controller stays with nvme.ko, loaded with a poll queue for the io_uring
# --hipri floor, and the second goes to aiosnvme.  On real hardware
# AIOS_BENCH_STOCK and AIOS_BENCH_AIOS name the two sides, each a block
# device or an NVMe controller's PCI address.
#
# Every workload runs on both sides, interleaved A B A B over the rounds.
# Results: $AIOS_OUT/results.tsv ("round side metric unit value"),
# percentiles.tsv (for the CDF plots), fio/*.json, the raw output of
# db_bench and postmark, and aiosfs's stage breakdowns; tools/bench/report.py
# makes the tables and plots from them.
set -euo pipefail

root=${AIOS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
runtime=${AIOS_BENCH_RUNTIME:-5}
rounds=${AIOS_BENCH_ROUNDS:-3}
quick=${AIOS_BENCH_QUICK:-0}
# The quick set writes less: the raw runs' span, the read profile's file.
rawsize=512M fsize=768M
[ "$quick" = 1 ] && rawsize=256M fsize=384M
out=$AIOS_OUT
res=$out/results.tsv
pct=$out/percentiles.tsv
export AIOS_ROOT=$root AIOS_KO=$root/build/$(uname -r)/aios.ko
. "$root/tests/lib/common.sh"
# shellcheck source=tools/lib/disks.sh
. "$root/tools/lib/disks.sh"

die() { echo "aios-bench: $*" >&2; exit 1; }
mkdir -p "$out/fio" "$out/raw"
: >"$res"
: >"$pct"
# Recorded so that the report can name every workload that could not run.
: >"$out/missing.tsv"

is_bdf() { [[ $1 =~ ^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]]; }

# aios_disk BDF: the first namespace aiosnvme made for the controller.
aios_disk() {
	local d
	for _ in $(seq 100); do
		for d in $(ctrl_disks "$1"); do
			case $d in aiosnvme*n1) echo "/dev/$d"; return 0 ;; esac
		done
		sleep 0.05
	done
	die "no aiosnvme disk for $1"
}

stock_bdf="" aios_bdf="" floor=""
if [ -z "${AIOS_BENCH_STOCK:-}" ]; then
	modprobe nvme poll_queues=1
	mapfile -t bdfs < <(nvme_bdfs)
	[ ${#bdfs[@]} -ge 2 ] || die "needs two NVMe controllers"
	stock_bdf=${bdfs[0]} aios_bdf=${bdfs[1]}
	stock=$(stock_disk "$stock_bdf")
	aios_bind "$aios_bdf" >/dev/null
	aios=$(aios_disk "$aios_bdf")
	floor=$stock
else
	if is_bdf "$AIOS_BENCH_STOCK"; then
		stock_bdf=$AIOS_BENCH_STOCK
		[ "$(pci_driver "$stock_bdf")" = nvme ] || die "$stock_bdf is not bound to nvme.ko"
		stock=$(stock_disk "$stock_bdf")
	else
		stock=$AIOS_BENCH_STOCK
	fi
	if is_bdf "$AIOS_BENCH_AIOS"; then
		aios_bdf=$AIOS_BENCH_AIOS
		aios_bind "$aios_bdf" >/dev/null
		aios=$(aios_disk "$aios_bdf")
	else
		aios_load
		aios=$AIOS_BENCH_AIOS
	fi
	# The floor needs nvme.ko's poll queues, which only a reload sets.
	if [[ ${stock##*/} == nvme* ]] &&
	   [ "$(cat /sys/module/nvme/parameters/poll_queues 2>/dev/null || echo 0)" -gt 0 ]; then
		floor=$stock
	fi
fi
wait_for_dev "$aios"
for d in "$stock" "$aios"; do
	[ -b "$d" ] || die "$d is not a block device"
done
echo "aios-bench: stock = $stock (nvme.ko + ext4), aios = $aios (aiosnvme + aiosfs)" >&2

# missing WORKLOAD WHY: a workload one side could not run, for the report.
missing() {
	printf '%s\t%s\n' "$1" "$2" >>"$out/missing.tsv"
	echo "aios-bench: $1: $2" >&2
}

# progress WORKLOAD SIDE SUMMARY: one line per measurement while it runs.
progress() {
	printf '[%4ss] round %s/%s  %-36s %-5s %s\n' "$SECONDS" "$r" "$rounds" "$1" "$2" "$3" >&2
}

# row SIDE METRIC UNIT VALUE: a figure measured outside fio.
row() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$1" "$2" "$3" "$4" >>"$res"
}

plist=1:5:10:20:30:40:50:60:70:80:90:95:97:98:99:99.5:99.9:99.99

# commands SIDE: the commands its drive has taken so far (reads, writes,
# flushes); aiosnvme's lbio commands bypass the block layer's counters.
commands() {
	local d=$stock
	if [ "$1" = aios ]; then
		if [ -n "$aios_bdf" ]; then
			awk '{ n += $3 } END { print n }' \
				"/sys/bus/pci/devices/$aios_bdf/aiosnvme/queue_stats"
			return
		fi
		d=$aios
	fi
	awk '{ print $1 + $5 + $16 }' "/sys/class/block/${d##*/}/stat"
}

# fio_run SIDE WORKLOAD KIND ARGS...: one time-based fio run at QD1 (KIND:
# lat, sync or iops, see fio2tsv.py); a sync run also counts the drive's
# commands, for the costs per sync.
fio_run() {
	local side=$1 wl=$2 kind=$3 name s c0=0 c1=0
	shift 3
	name=$side-${wl// /_}-$r
	[ "$kind" = sync ] && c0=$(commands "$side")
	fio --name="$name" --iodepth=1 --runtime="$runtime" --time_based --randrepeat=0 \
	    --percentile_list=$plist --output-format=json --output="$out/fio/$name.json" \
	    "$@" >/dev/null
	[ "$kind" = sync ] && c1=$(commands "$side")
	s=$(python3 "$root/tools/bench/fio2tsv.py" "$out/fio/$name.json" "$kind" "$r" "$side" \
		"$wl" "$res" "$pct" $((c1 - c0)))
	progress "$wl" "$side" "$s"
}

smnt=/tmp/bench.ext4 amnt=/tmp/bench.aiosfs
mkdir -p $smnt $amnt
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
read_stages=/sys/kernel/debug/aiosfs/read_stages
fsync_stages=/sys/kernel/debug/aiosfs/fsync_stages

# dev_of SIDE, mnt_of SIDE
dev_of() { if [ "$1" = aios ]; then echo "$aios"; else echo "$stock"; fi; }
mnt_of() { if [ "$1" = aios ]; then echo $amnt; else echo $smnt; fi; }

# Both volumes are made with the defaults, except that their inode tables and
# journal are zeroed at once: ext4 would otherwise zero them from a kernel
# thread during the first minutes after mount, while we measure.
mkfs_both() {
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$stock"
	"$root/tools/mkfs.aiosfs" -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$aios"
}

# fresh_fs: a new ext4 volume on the stock drive and a new aiosfs one
# (mkfs.aiosfs) on the other, mounted with their defaults.
fresh_fs() {
	mkfs_both
	mount -t ext4 "$stock" $smnt
	mount -t aiosfs "$aios" $amnt
}

cold() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

bench_raw() {
	local dev side
	echo "== raw devices: QD1 4 KiB O_DIRECT, and QD32 reads" >&2
	for d in "$stock" "$aios"; do
		fio --name=fill --filename="$d" --size=$rawsize --bs=1M --rw=write --direct=1 \
		    --ioengine=libaio --iodepth=8 >/dev/null
	done
	raw=(--direct=1 --size="$rawsize" --bs=4k --ioengine=psync)
	for r in $(seq "$rounds"); do
		for side in stock aios; do
			dev=$(dev_of $side)
			fio_run $side "raw 4k randread" lat --filename="$dev" "${raw[@]}" --rw=randread
			fio_run $side "raw 4k randwrite" lat --filename="$dev" "${raw[@]}" \
				--rw=randwrite
			fio_run $side "raw 4k randread QD32" iops --filename="$dev" "${raw[@]}" \
				--rw=randread --ioengine=libaio --iodepth=32
		done
		if [ -n "$floor" ]; then
			fio_run floor "raw 4k randread" lat --filename="$floor" --direct=1 \
				--size=$rawsize --bs=4k --rw=randread --ioengine=io_uring --hipri=1
		elif [ "$r" = 1 ]; then
			missing "floor" "nvme.ko has no poll queues (load it with poll_queues=1)"
		fi
	done
}

# Cold-cache QD1 buffered random reads of one file, written by ext4 on both
# volumes; aiosfs mounts its volume read-only.  fio drops the file's pages
# before each run (invalidate) and its random map reads no block twice.
bench_read() {
	local bs side mnt sizes=(4k 16k 128k)
	echo "== cold-cache buffered random reads" >&2
	[ "$quick" = 1 ] && sizes=(4k)
	mkfs_both
	for side in stock aios; do
		mount -t ext4 "$(dev_of $side)" "$(mnt_of $side)"
		fio --name=layout --filename="$(mnt_of $side)/file" --size=$fsize --bs=1M \
		    --rw=write --end_fsync=1 >/dev/null
		umount "$(mnt_of $side)"
	done
	mount -t ext4 "$stock" $smnt
	mount -t aiosfs -o ro "$aios" $amnt
	fsrd=(--size="$fsize" --ioengine=psync --rw=randread --invalidate=1)
	[ -e $read_stages ] && echo on >$read_stages
	for r in $(seq "$rounds"); do
		for bs in "${sizes[@]}"; do
			for side in stock aios; do
				mnt=$(mnt_of $side)
				cold
				[ -e $read_stages ] && echo reset >$read_stages
				fio_run $side "fs $bs cold randread" lat --filename="$mnt/file" \
					"${fsrd[@]}" --bs=$bs
				if [ $side = aios ] && [ -e $read_stages ]; then
					cat $read_stages >"$out/aiosfs-read-stages-$bs-$r.txt"
				fi
			done
		done
		[ "$quick" = 1 ] && continue
		for side in stock aios; do
			mnt=$(mnt_of $side)
			cold
			fio_run $side "fs 4k cold randread 2 jobs" lat --filename="$mnt/file" \
				"${fsrd[@]}" --bs=4k --numjobs=2 --group_reporting \
				--size=$((${fsize%M} / 2))M --offset_increment=$((${fsize%M} / 2))M
		done
	done
	[ -e $read_stages ] && echo off >$read_stages
	umount $smnt $amnt
}

# Writes with fsync on fresh volumes; ext4 in its default ordered mode.
# Random writes overwrite written blocks (as a database's do); appends
# allocate a block per write.
bench_fsync() {
	local side mnt f
	echo "== writes with fsync" >&2
	fresh_fs
	for mnt in $smnt $amnt; do
		for f in w1 w2.0 w2.1 d1; do
			fio --name=layout --filename="$mnt/$f" --size=64M --bs=1M --rw=write \
			    --end_fsync=1 >/dev/null
		done
	done
	fsw=(--ioengine=psync --size=64M --bs=4k)
	[ -e $fsync_stages ] && echo on >$fsync_stages
	for r in $(seq "$rounds"); do
		for side in stock aios; do
			mnt=$(mnt_of $side)
			[ $side = aios ] && [ -e $fsync_stages ] && echo reset >$fsync_stages
			fio_run $side "fs 4k randwrite+fsync" sync --filename="$mnt/w1" "${fsw[@]}" \
				--rw=randwrite --fsync=1
			if [ $side = aios ] && [ -e $fsync_stages ]; then
				cat $fsync_stages >"$out/aiosfs-fsync-stages-$r.txt"
			fi
			fio_run $side "fs 4k append+fsync" sync --filename="$mnt/a-$r" --ioengine=psync \
				--bs=4k --rw=write --size=1G --fsync=1 --fallocate=none
			[ "$quick" = 1 ] && continue
			fio_run $side "fs 4k randwrite+fsync 2 jobs" sync "${fsw[@]}" --rw=randwrite \
				--fsync=1 --numjobs=2 --group_reporting --directory="$mnt" \
				--filename_format='w2.$jobnum'
			fio_run $side "fs 4k randwrite+fdatasync" sync --filename="$mnt/d1" "${fsw[@]}" \
				--rw=randwrite --fdatasync=1
		done
	done
	[ -e $fsync_stages ] && echo off >$fsync_stages
	umount $smnt $amnt
}

# db_rate FILE BENCHMARK: the micros/op that db_bench printed for BENCHMARK.
db_rate() {
	awk -v b="$2" '$1 == b && $2 == ":" { v = $3; found = 1 } END { print v; exit !found }' "$1"
}

# RocksDB: fillrandom (4 MiB memtables, flushed and compacted before the
# next step), then readrandom after the page cache was dropped (db_bench's
# own block cache is its default 8 MiB), then fillsync (every write synced,
# into a new database).  Values are incompressible and stored uncompressed.
bench_db() {
	local side mnt log n=200000 reads=20000 nsync=4000 b v
	echo "== RocksDB db_bench" >&2
	command -v db_bench >/dev/null || { missing "db_bench" "not installed (rocksdb-tools)"; return; }
	[ "$quick" = 1 ] && n=100000 reads=10000 nsync=2000
	fresh_fs
	db=(--compression_type=none --value_size=400 --compression_ratio=1 --threads=1
	    --write_buffer_size=4194304 --cache_size=8388608 --statistics=0)
	for r in $(seq "$rounds"); do
		for side in stock aios; do
			mnt=$(mnt_of $side)
			rm -rf "$mnt/db"
			log=$out/raw/db_bench-$side-$r.txt
			: >"$log"
			for b in fillrandom readrandom fillsync; do
				case $b in
				fillrandom) set -- --benchmarks=fillrandom,flush,waitforcompaction \
						   --num=$n ;;
				readrandom) cold
					    set -- --benchmarks=readrandom --use_existing_db=1 \
						   --num=$n --reads=$reads ;;
				fillsync) rm -rf "$mnt/db"
					  set -- --benchmarks=fillsync --num=$nsync ;;
				esac
				if ! db_bench --db="$mnt/db" "${db[@]}" "$@" >>"$log" 2>&1 ||
				   ! v=$(db_rate "$log" $b); then
					[ "$r" = 1 ] && missing "db_bench $b ($side)" "failed, see raw/${log##*/}"
					continue
				fi
				row $side "db_bench $b" "us/op" "$v"
				progress "db_bench $b" $side "$v us/op"
			done
		done
	done
	umount $smnt $amnt
}

# postmark, a mail-server workload (small files created, read, appended,
# deleted), with every written file fsync'd before it is closed, as
# Filebench's varmail does.  The figure is the whole run's wall time.
bench_postmark() {
	local side mnt t0 t1 cfg files=2000 trans=6000 v
	echo "== postmark with fsync" >&2
	command -v postmark >/dev/null || { missing "postmark" "not installed"; return; }
	[ -n "${AIOS_BENCH_SHIM:-}" ] || { missing "postmark" "fsync-on-close.so not built"; return; }
	# The quick set's run scales with -t: 1000 files and 3000 transactions
	# at its 3 s, a third of that for the 1 s of tests/bench.
	[ "$quick" = 1 ] && files=$((1000 * runtime / 3)) trans=$((1000 * runtime))
	fresh_fs
	for r in $(seq "$rounds"); do
		for side in stock aios; do
			mnt=$(mnt_of $side)
			mkdir -p "$mnt/pm"
			cfg=$out/raw/postmark-$side.cfg
			printf '%s\n' "set location $mnt/pm" "set number $files" \
				"set transactions $trans" "set size 512 16384" \
				"set subdirectories 10" "set buffering false" "set seed 42" \
				run quit >"$cfg"
			cold
			t0=$(date +%s%N)
			if ! LD_PRELOAD=$AIOS_BENCH_SHIM postmark "$cfg" \
				>"$out/raw/postmark-$side-$r.txt" 2>&1; then
				[ "$r" = 1 ] && missing "postmark ($side)" "failed"
				continue
			fi
			t1=$(date +%s%N)
			v=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
			row $side "postmark, fsync on close: run time" s "$v"
			progress "postmark" $side "$v s"
			rm -rf "$mnt/pm"
		done
	done
	umount $smnt $amnt
}

profiles=${AIOS_BENCH_PROFILES:-raw read fsync db postmark}
for p in $profiles; do
	case $p in
	raw|read|fsync|db|postmark) ;;
	*) die "unknown profile $p (raw, read, fsync, db, postmark)" ;;
	esac
done
for p in $profiles; do
	"bench_$p"
done
printf '%s\n' "kernel=$(uname -r)" "stock=$stock" "aios=$aios" "rounds=$rounds" \
	"runtime=$runtime" "quick=$quick" "profiles=$profiles" \
	"cpus=$(nproc)" "mem_mb=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" \
	"cmdline=$(cat /proc/cmdline)" >"$out/env.txt"
[ -n "$aios_bdf" ] && [ -z "${AIOS_BENCH_STOCK:-}" ] &&
	"$root/tools/aios-bind" --reset "$aios_bdf" >/dev/null
exit 0
