#!/bin/bash
# A controller without the active namespace list (Identify CNS 02h came
# with NVMe 1.1) has its namespaces found one id at a time, up to NN: both
# namespaces of the first controller become disks with their sizes, and a
# log line says why.  The test build refuses the list (fault_ns_list), as
# QEMU always offers it.  Before, the bind failed: "cannot list the active
# namespaces".
. "$AIOS_ROOT/tests/lib/common.sh"

b=$(nvme_bdfs | head -n1)
P=/sys/module/aios/parameters
aios_load
echo 1 >$P/fault_ns_list
"$AIOS_ROOT/tools/aios-bind" "$b" || fail "aios-bind $b failed without the namespace list"
declare -A size=([aiosnvme0n1]=96 [aiosnvme0n2]=64)
for d in "${!size[@]}"; do
	wait_for_dev /dev/$d
	assert_eq $((size[$d] << 20)) "$(blockdev --getsize64 /dev/$d)" "size of $d"
done
assert_eq 0 "$(cat $P/fault_ns_list)" "list refusals left"
dmesg | grep -q "no active namespace list (NVMe .*): scanning namespace ids" ||
	fail "no log line for the scan by id"
run "$AIOS_ROOT/tools/aios-bind" --reset "$b"
aios_unload
exit 0
