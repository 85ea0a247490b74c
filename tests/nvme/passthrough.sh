#!/bin/bash
# nvme-cli works on aiosnvme's devices through the standard passthrough
# ioctls: Identify data read through /dev/aiosnvme0 matches what nvme.ko
# reports for the same controller; namespace, log page and raw I/O
# commands work; oversized transfers are refused.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
run modprobe nvme
ctrl=$(ls /sys/bus/pci/devices/$b/nvme/ | head -n1)
for i in $(seq 50); do [ -c /dev/$ctrl ] && break; sleep 0.1; done
fields() {
	python3 -c 'import json, sys; j = json.load(sys.stdin)
print(" ".join(str(j[k]).strip() for k in ("vid", "ssvid", "sn", "mn", "fr", "mdts", "nn", "oncs", "vwc", "sqes", "cqes")))'
}
want=$(nvme id-ctrl /dev/$ctrl -o json | fields) || fail "nvme id-ctrl through nvme.ko failed"
want_ns=$(nvme id-ns /dev/${ctrl}n1 -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["nsze"])')

aios_bind "$b"
wait_for_dev /dev/aiosnvme0n1
for i in $(seq 50); do [ -c /dev/aiosnvme0 ] && break; sleep 0.1; done
[ -c /dev/aiosnvme0 ] || fail "no /dev/aiosnvme0"
got=$(nvme id-ctrl /dev/aiosnvme0 -o json | fields) || fail "nvme id-ctrl /dev/aiosnvme0 failed"
assert_eq "$want" "$got" "Identify Controller fields through aiosnvme"
got=$(nvme id-ns /dev/aiosnvme0n1 -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["nsze"])') ||
	fail "nvme id-ns /dev/aiosnvme0n1 failed"
assert_eq "$want_ns" "$got" "namespace size through aiosnvme"
run nvme smart-log /dev/aiosnvme0
run nvme get-feature /dev/aiosnvme0 -f 7

# A raw read of 8 blocks at LBA 0 through the I/O passthrough equals dd's.
head -c 4096 /dev/urandom >/tmp/blk
run dd if=/tmp/blk of=/dev/aiosnvme0n1 bs=4096 count=1 oflag=direct status=none
nvme io-passthru /dev/aiosnvme0n1 --opcode=2 --namespace-id=1 --data-len=4096 --read \
	--cdw10=0 --cdw12=7 --raw-binary >/tmp/got || fail "io-passthru read failed"
cmp /tmp/blk /tmp/got || fail "io-passthru read returned other data than was written"

# More than one transfer's worth, and metadata, are refused.
nvme admin-passthru /dev/aiosnvme0 --opcode=6 --cdw10=1 --data-len=$((8 << 20)) --read \
	>/dev/null 2>&1 && fail "an 8 MiB admin transfer was accepted"
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
[ -e /dev/aiosnvme0 ] && fail "/dev/aiosnvme0 left behind after unbinding"
aios_unload
exit 0
