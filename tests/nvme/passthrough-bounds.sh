#!/bin/bash
# A passthrough command moves what the command says, not what data_len
# says: Identify moves 4 KiB, a log page NUMD dwords, a read NLB blocks.
# With a data_len shorter than that, the caller gets its data_len bytes
# (the start of what nvme.ko would return) and no byte lands outside the
# driver's buffer (the group boots with slub_debug=FZ: an overrun of a
# kmalloc'ed buffer is a "Redzone overwritten" report, which fails the
# test).  Commands that would leave the controller holding host memory or
# the driver's queues are refused with a log line.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
aios_bind "$b"
wait_for_dev /dev/aiosnvme0n1
for _ in $(seq 50); do [ -c /dev/aiosnvme0 ] && break; sleep 0.1; done
[ -c /dev/aiosnvme0 ] || fail "no /dev/aiosnvme0"

# admin_read LEN CDW10 [OPCODE NSID]: LEN bytes of an admin read command.
admin_read() {
	nvme admin-passthru /dev/aiosnvme0 --opcode="${3:-6}" --namespace-id="${4:-0}" \
		--cdw10="$2" --data-len="$1" --read --raw-binary
}

admin_read 4096 1 >/tmp/id-full || fail "Identify Controller with data_len 4096 failed"
[ "$(stat -c %s /tmp/id-full)" = 4096 ] || fail "Identify returned $(stat -c %s /tmp/id-full) bytes"
for len in 64 512 4095; do
	admin_read "$len" 1 >/tmp/id-short || fail "Identify with data_len $len failed"
	head -c "$len" /tmp/id-full | cmp -s - /tmp/id-short ||
		fail "Identify with data_len $len: not the first $len bytes of Identify"
done
# Identify Namespace (CNS 0) of namespace 1 into 16 bytes: NSZE and NCAP.
nvme admin-passthru /dev/aiosnvme0 --opcode=6 --namespace-id=1 --cdw10=0 --data-len=16 \
	--read --raw-binary >/tmp/idns || fail "Identify Namespace with data_len 16 failed"
nsze=$(od -An -tu8 -N8 /tmp/idns | tr -d ' ')
assert_eq "$(($(blockdev --getsize64 /dev/aiosnvme0n1) / $(blockdev --getss /dev/aiosnvme0n1)))" "$nsze" \
	"namespace size from a 16-byte Identify Namespace"
# The SMART log (LID 2) is 512 bytes, NUMD 127: asked into 16 bytes.
admin_read 16 $(((127 << 16) | 2)) 2 0xffffffff >/tmp/smart || fail "a 512-byte log page into 16 bytes failed"
[ "$(stat -c %s /tmp/smart)" = 16 ] || fail "log page: $(stat -c %s /tmp/smart) bytes"

# An 8-block read (4 KiB) into 512 bytes: the block's first 512 bytes.
head -c 4096 /dev/urandom >/tmp/blk
run dd if=/tmp/blk of=/dev/aiosnvme0n1 bs=4096 count=1 oflag=direct status=none
nvme io-passthru /dev/aiosnvme0n1 --opcode=2 --namespace-id=1 --data-len=512 --read \
	--cdw10=0 --cdw12=7 --raw-binary >/tmp/got || fail "an 8-block read into 512 bytes failed"
head -c 512 /tmp/blk | cmp -s - /tmp/got || fail "the short read returned other data"
# No data buffer at all: the controller still has somewhere to write.
nvme admin-passthru /dev/aiosnvme0 --opcode=6 --cdw10=1 >/dev/null 2>&1 ||
	fail "Identify with no data buffer failed"

# Doorbell Buffer Config, Create I/O SQ, and Set Features (Host Memory Buffer).
before=$(dmesg | grep -c 'passthrough: admin opcode .* refused')
for args in "--opcode=0x7c" "--opcode=1 --cdw10=0x3f0009 --cdw11=0x10001" \
	"--opcode=9 --cdw10=0x0d --cdw11=1"; do
	# shellcheck disable=SC2086
	nvme admin-passthru /dev/aiosnvme0 $args >/dev/null 2>&1 &&
		fail "admin-passthru $args was accepted"
done
[ "$(dmesg | grep -c 'passthrough: admin opcode .* refused')" = $((before + 3)) ] ||
	fail "not one log line per refused command: $(dmesg | grep passthrough)"
# The driver's queues still work.
run dd if=/dev/aiosnvme0n1 of=/dev/null bs=4096 count=16 iflag=direct status=none
"$AIOS_ROOT/tools/aios-bind" --reset "$b" >/dev/null
aios_unload
exit 0
