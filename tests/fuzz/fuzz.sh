#!/bin/bash
# Corrupted images (tools/aios-fuzz): two minutes of cases with a new seed
# each run, each image mounted, walked, read, written and unmounted; no
# oops, warning or hang, no kmalloc objects left behind, and the module
# unloads without kmem_cache_destroy() finding aiosfs inodes left.  A
# failing case's image lands in the results directory, to be kept in
# tests/fuzz/images/ once its bug is fixed.
. "$AIOS_ROOT/tests/lib/common.sh"

run modprobe loop
aios_load
seed=${AIOS_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $seed (AIOS_FUZZ_SEED=$seed reruns these cases)"
"$AIOS_ROOT/tools/aios-fuzz" -s "$seed" -n "${AIOS_FUZZ_CASES:-3000}" \
	-t "${AIOS_FUZZ_SECONDS:-120}" -o "$AIOS_OUT" || fail "aios-fuzz found a problem"
aios_unload
exit 0
