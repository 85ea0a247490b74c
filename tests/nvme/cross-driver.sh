#!/bin/bash
# The on-disk bytes are the same whichever driver wrote them: data written
# through aiosnvme reads back identically through nvme.ko, and the other
# way round.
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
head -c $((24 << 20)) /dev/urandom >/tmp/a
head -c $((24 << 20)) /dev/urandom >/tmp/b
want_a=$(sha256sum </tmp/a)
want_b=$(sha256sum </tmp/b)

aios_bind "$b"
wait_for_dev /dev/aiosnvme0n1
run dd if=/tmp/a of=/dev/aiosnvme0n1 bs=64k seek=16 oflag=direct status=none
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
dev=$(stock_disk "$b")
got=$(dd if="$dev" bs=64k skip=16 count=384 iflag=direct status=none | sha256sum)
assert_eq "$want_a" "$got" "aiosnvme-written data read through nvme.ko"

run dd if=/tmp/b of="$dev" bs=1M seek=100 oflag=direct status=none
aios_bind "$b"
wait_for_dev /dev/aiosnvme0n1
got=$(dd if=/dev/aiosnvme0n1 bs=1M skip=100 count=24 iflag=direct status=none | sha256sum)
assert_eq "$want_b" "$got" "nvme.ko-written data read through aiosnvme"
# Buffered reads see the same.
got=$(dd if=/dev/aiosnvme0n1 bs=64k skip=16 count=384 status=none | sha256sum)
assert_eq "$want_a" "$got" "buffered read through aiosnvme"
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
aios_unload
exit 0
