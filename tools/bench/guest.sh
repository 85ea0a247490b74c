#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of aios-bench: runs each workload on the stock side and, where
# it exists, the aios side, and writes $AIOS_OUT/report.md.
set -euo pipefail

report=$AIOS_OUT/report.md
runtime=${AIOS_BENCH_RUNTIME:-10}

# QD1 4 KiB random O_DIRECT reads; prints the mean and p99 latency in us.
fio_randread() {
	fio --name=rr --filename="$1" --direct=1 --ioengine=psync --rw=randread \
	    --bs=4k --iodepth=1 --runtime="$runtime" --time_based --size=1G \
	    --output-format=json --output="$AIOS_OUT/fio-$2.json" >/dev/null
	python3 - "$AIOS_OUT/fio-$2.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]["read"]
lat = j["clat_ns"] if "clat_ns" in j else j["lat_ns"]
print("%.1f %.1f" % (j["lat_ns"]["mean"] / 1000, lat["percentile"]["99.000000"] / 1000))
PY
}

modprobe nvme
for i in $(seq 50); do [ -b /dev/nvme0n1 ] && break; sleep 0.1; done
dd if=/dev/urandom of=/dev/nvme0n1 bs=1M count=1024 oflag=direct status=none
read -r mean p99 < <(fio_randread /dev/nvme0n1 stock-raw-read)

{
	echo "| metric | ext4 + nvme.ko | aiosfs + aiosnvme | ratio |"
	echo "|---|---|---|---|"
	echo "| raw 4 KiB random read QD1, mean (us) | $mean | missing: aiosnvme cannot bind yet | - |"
	echo "| raw 4 KiB random read QD1, p99 (us) | $p99 | missing | - |"
	echo "| buffered cold read, write+fsync | missing: aiosfs cannot mount yet | missing | - |"
} >"$report"
cat "$report"
