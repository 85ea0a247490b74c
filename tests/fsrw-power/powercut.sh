#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A power cut: a guest writes and fsyncs files with $FSTYPE (aiosfs by
# default) under a background write load, and is killed (QEMU quits, the
# guest does not shut down) at a random moment once it has synced a few
# dozen files.  A second guest boots on the same drive image: the mount
# recovers, every file whose fsync had returned is intact, and e2fsck -fn
# is clean.  Runs on this machine (vm.conf: VM_HOST=1) and boots the two
# guests itself; the guest side is tests/fsrw-power/guest.
. "$AIOS_ROOT/tests/lib/common.sh"

FSTYPE=${FSTYPE:-aiosfs}
guest=$AIOS_ROOT/tests/fsrw-power/guest
vm=$AIOS_ROOT/tools/aios-vm
out=$AIOS_OUT/powercut-$AIOS_KVER
img=$(mktemp /dev/shm/fsrw-power.XXXXXX.img) || fail "no image file"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -f "$img"
}
trap cleanup EXIT
rm -rf "$out"
mkdir -p "$out/boot1" "$out/boot2"
truncate -s 1G "$img"

# Boot 1: write until killed.
"$vm" -q -k "$AIOS_KVER" -d "$img" -o "$out/boot1" -t 300 -e "FSTYPE=$FSTYPE" -- \
	"$guest" write >"$out/boot1.log" 2>&1 &
pid=$!
want=$((20 + RANDOM % 40))
echo "waiting for $want synced files"
for _ in $(seq 480); do
	n=$(grep -c '^synced ' "$out/boot1/synced" 2>/dev/null)
	[ "${n:-0}" -ge $want ] && break
	kill -0 $pid 2>/dev/null || { cat "$out/boot1.log" "$out/boot1/output.log"; fail "the first guest stopped before $want files were synced"; }
	sleep 0.5
done
[ "${n:-0}" -ge $want ] || { tail -n 20 "$out/boot1/output.log"; fail "only ${n:-0} files synced in 240 s"; }
# A moment into the next writes, then the power goes.
sleep "0.$((RANDOM % 10))"
# aios-vm kills QEMU (SIGKILL) on its way out: nothing in the guest runs.
kill "$pid"
wait "$pid"
rc=$?
pid=""
echo "killed the first guest (aios-vm status $rc) after $(grep -c '^synced ' "$out/boot1/synced") synced files"
grep -q "the writer stopped" "$out/boot1/output.log" && { cat "$out/boot1/output.log"; fail "the writer stopped before the power cut"; }
[ -e "$out/boot1/rc" ] && { cat "$out/boot1/output.log"; fail "the first guest finished its command: it was not cut"; }

# Boot 2, on the same image.
cp "$out/boot1/synced" "$out/boot2/synced"
"$vm" -q -k "$AIOS_KVER" -d "$img" -o "$out/boot2" -t 250 -e "FSTYPE=$FSTYPE" -- \
	"$guest" check >"$out/boot2.log" 2>&1
rc=$?
cat "$out/boot2/output.log"
[ $rc = 0 ] || { tail -n 30 "$out/boot2/dmesg.log" 2>/dev/null; fail "the check after the power cut failed (status $rc)"; }
grep -Eq 'WARNING:|BUG:|Oops|Call Trace:' "$out/boot2/dmesg.log" &&
	{ cat "$out/boot2/dmesg.log"; fail "kernel warnings while recovering"; }
exit 0
