#!/bin/bash
# The images the fuzzer once broke aiosfs with (tests/fuzz/images/*.img.xz):
# each is mounted, walked, read, written and unmounted cleanly now.
. "$AIOS_ROOT/tests/lib/common.sh"

shopt -s nullglob
imgs=("$AIOS_ROOT"/tests/fuzz/images/*.img.xz)
[ ${#imgs[@]} -gt 0 ] || skip "no regression images yet"
run modprobe loop
aios_load
mkdir -p /tmp/fuzz-reg
for x in "${imgs[@]}"; do
	xz -dc "$x" >"/tmp/fuzz-reg/$(basename "$x" .xz)" || fail "cannot unpack $x"
done
"$AIOS_ROOT/tools/aios-fuzz" -s 1 --replay /tmp/fuzz-reg/*.img || fail "a regression image fails again"
aios_unload
exit 0
