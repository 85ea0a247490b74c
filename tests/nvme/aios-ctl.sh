#!/bin/bash
# tools/aios-ctl with one controller on aiosnvme and one on nvme.ko: `list`
# shows both with the right driver and devices, and the Identify data it
# reads (model, serial, firmware, namespace size) equals nvme-cli's; `stats`
# matches sysfs, and the pinned queue's submitted counter grows by the 100
# reads dd makes; bad devices and a non-root user get errors.
. "$AIOS_ROOT/tests/lib/common.sh"

ctl=$AIOS_ROOT/tools/aios-ctl
[ -x "$AIOS_ROOT/build/tools/aios-ctl" ] || fail "build/tools/aios-ctl is not built (make tests)"

mapfile -t bdfs < <(nvme_bdfs)
[ ${#bdfs[@]} -eq 2 ] || fail "expected 2 NVMe controllers, found ${#bdfs[@]}"
a=${bdfs[0]} s=${bdfs[1]}
run modprobe nvme
stock_ctrl() {
	local i c
	for i in $(seq 100); do
		c=$(ls "/sys/bus/pci/devices/$1/nvme/" 2>/dev/null | head -n1)
		[ -n "$c" ] && [ -c "/dev/$c" ] && { echo "$c"; return 0; }
		sleep 0.05
	done
	fail "no nvme.ko controller device for $1"
}

# nvme-cli's view, through nvme.ko, of both controllers: "sn|mn|fr|nsze".
id_of() {
	local c=$1 disk=$2 ctrl ns
	ctrl=$(nvme id-ctrl "/dev/$c" -o json) || fail "nvme id-ctrl /dev/$c failed"
	ns=$(nvme id-ns "$disk" -o json) || fail "nvme id-ns $disk failed"
	python3 -c 'import json, sys
c, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("|".join([c["sn"].strip(), c["mn"].strip(), c["fr"].strip(), str(n["nsze"])]))' "$ctrl" "$ns"
}
# (A helper's fail inside $(...) ends only that subshell: hence the exits.)
a_ctrl=$(stock_ctrl "$a") || exit 1
a_disk=$(stock_disk "$a") || exit 1
s_ctrl=$(stock_ctrl "$s") || exit 1
s_disk=$(stock_disk "$s") || exit 1
want_a=$(id_of "$a_ctrl" "$a_disk") || exit 1
want_s=$(id_of "$s_ctrl" "$s_disk") || exit 1
echo "nvme-cli: $a $want_a; $s $want_s"
[ "$want_a" != "$want_s" ] || fail "the two controllers look the same to nvme-cli ($want_a)"

aios_bind "$a"
wait_for_dev /dev/aiosnvme0n1
for _ in $(seq 50); do [ -c /dev/aiosnvme0 ] && break; sleep 0.1; done
[ -c /dev/aiosnvme0 ] || fail "no /dev/aiosnvme0"
# The same data through aiosnvme's passthrough, by nvme-cli.
got=$(id_of aiosnvme0 /dev/aiosnvme0n1) || exit 1
assert_eq "$want_a" "$got" "nvme-cli through aiosnvme"

run "$ctl" list
json=$("$ctl" list -o json) || fail "aios-ctl list -o json exited with status $?"
echo "$json"
# One line per controller: address driver device sn|mn|fr|nsze namespace-device nsid.
got=$(python3 -c 'import json, sys
for c in json.loads(sys.argv[1])["controllers"]:
	ns = c["namespaces"]
	n = ns[0] if ns else {}
	print(c["address"], c["driver"], c["device"], len(ns),
	      "|".join(str(x) for x in (c.get("serial"), c.get("model"), c.get("firmware"), n.get("nsze"))),
	      n.get("device"), n.get("nsid"), n.get("lba_size") and n["nsze"] * n["lba_size"] == n["size"])' \
	"$json") || fail "aios-ctl list -o json printed no valid JSON"
want="$a aiosnvme /dev/aiosnvme0 1 $want_a /dev/aiosnvme0n1 1 True
$s nvme /dev/$s_ctrl 1 $want_s $s_disk 1 True"
assert_eq "$want" "$got" "aios-ctl list -o json"
# The text form has the same controllers.
got=$("$ctl" list | awk '/^[0-9a-f]/ { print $1, $2, $3 }')
assert_eq "$a aiosnvme /dev/aiosnvme0
$s nvme /dev/$s_ctrl" "$got" "aios-ctl list"

# stats: the counters of sysfs, per queue; 100 reads from CPU 0 land on one queue.
qstats=/sys/bus/pci/devices/$a/aiosnvme/queue_stats
submitted() {
	local j
	j=$("$ctl" stats "$1" -o json) || fail "aios-ctl stats $1 exited with status $?"
	python3 -c 'import json, sys
c = json.loads(sys.argv[1])["controllers"]
assert len(c) == 1 and c[0]["address"] == sys.argv[2], c
print(" ".join("%d:%d" % (q["qid"], q["submitted"]) for q in c[0]["queues"]))' "$j" "$a" ||
		fail "aios-ctl stats $1 -o json: unexpected output: $j"
}
before=$(submitted /dev/aiosnvme0n1) || exit 1
assert_eq "$(awk '{ printf "%s%d:%d", (NR > 1 ? " " : ""), $1, $3 }' "$qstats")" "$before" \
	"aios-ctl stats against $qstats"
[ "$(wc -w <<<"$before")" -eq "$(awk 'END { print NR }' "$qstats")" ] || fail "queue count"
run "$ctl" stats
run taskset -c 0 dd if=/dev/aiosnvme0n1 of=/dev/null bs=4096 count=100 skip=7 iflag=direct status=none
after=$(submitted "$a") || exit 1
echo "submitted per queue: before $before, after $after"
python3 -c 'import sys
b = dict(map(int, x.split(":")) for x in sys.argv[1].split())
a = dict(map(int, x.split(":")) for x in sys.argv[2].split())
assert b.keys() == a.keys(), "queues changed"
d = {q: a[q] - b[q] for q in a}
assert max(d.values()) >= 100, "no queue grew by 100: %s" % d
assert 100 <= sum(d.values()) <= 104, "total growth %d, not 100: %s" % (sum(d.values()), d)' \
	"$before" "$after" || fail "the submitted counters did not grow by dd's 100 reads"
got=$("$ctl" stats aiosnvme0 | awk '$1 == "all" { print $2 }')
total=$(awk '{ n += $3 } END { print n }' "$qstats")
assert_eq "$total" "$got" "the total row of aios-ctl stats"

# Errors: not an aiosnvme controller, no such device, not root.
out=$("$ctl" stats "$s" 2>&1) && fail "aios-ctl stats $s (nvme.ko) succeeded: $out"
echo "$out" | grep -q "not on aiosnvme (driver: nvme)" || fail "aios-ctl stats $s said: $out"
"$ctl" stats /dev/aiosnvme7 >/dev/null 2>&1 && fail "aios-ctl stats /dev/aiosnvme7 succeeded"
"$ctl" frobnicate >/dev/null 2>&1
assert_eq 2 $? "exit status of an unknown command"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" list 2>&1) &&
	fail "aios-ctl list as an unprivileged user succeeded: $out"
echo "$out" | grep -q "cannot open /dev/aiosnvme0: Permission denied" ||
	fail "aios-ctl list as an unprivileged user said: $out"

run "$AIOS_ROOT/tools/aios-bind" --reset "$a"
stock_ctrl "$a" >/dev/null
got=$("$ctl" list -o json | python3 -c 'import json, sys
print(" ".join(c["driver"] for c in json.load(sys.stdin)["controllers"]))')
assert_eq "nvme nvme" "$got" "drivers after aios-bind --reset"
"$ctl" stats >/dev/null 2>&1 && fail "aios-ctl stats succeeded with no controller on aiosnvme"
aios_unload
exit 0
