#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The runner starts a group beside the running ones only if their CPUs fit
# the host's (plus one), while another pending group fits: with 2 CPUs, a
# 2-CPU group waits for the other 2-CPU group to end, and a 1-CPU group
# goes beside it instead.  With 8 CPUs (the control) the two 2-CPU groups
# run together, so the check can fail.  The groups run on this machine and
# write when they start and end.
. "$AIOS_ROOT/tests/lib/common.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# group NAME COST CPUS SECONDS
group() {
	mkdir -p "$tmp/groups/$1"
	printf 'VM_HOST=1\nVM_COST=%s\nVM_CPUS=%s\nVM_TIMEOUT=60\n' "$2" "$3" \
		>"$tmp/groups/$1/vm.conf"
	printf '#!/bin/bash\necho "start %s $(date +%%s.%%N)" >>"$SCHED_LOG"\nsleep %s\necho "end %s $(date +%%s.%%N)" >>"$SCHED_LOG"\n' \
		"$1" "$4" "$1" >"$tmp/groups/$1/t.sh"
	chmod +x "$tmp/groups/$1/t.sh"
}
group a 300 2 2
group b 200 2 2
group c 100 1 4

# run CPUS: the schedule as "a-start a-end b-start b-end c-start c-end".
run() {
	: >"$tmp/log"
	SCHED_LOG=$tmp/log AIOS_TEST_CPUS=$1 AIOS_RESULTS=$tmp/results-$1 \
		"$AIOS_ROOT/tests/run" -k "$AIOS_KVER" -g "$tmp/groups" -j 2 >"$tmp/ktap-$1" 2>&1 ||
		{ cat "$tmp/ktap-$1"; fail "the runner failed with AIOS_TEST_CPUS=$1"; }
	grep -q '^3 passed, 0 failed$' "$tmp/ktap-$1" ||
		{ cat "$tmp/ktap-$1"; fail "not 3 passed with AIOS_TEST_CPUS=$1"; }
	sort -k2,2 -k1,1r "$tmp/log" | awk '{ printf "%s ", $3 }'
}

# overlaps X Y SCHEDULE: whether groups X and Y ran at the same time.
overlaps() {
	local -A t
	local i=0 g
	read -ra s <<<"$3"
	for g in a b c; do
		t[$g-start]=${s[$i]} t[$g-end]=${s[$((i + 1))]}
		i=$((i + 2))
	done
	awk -v s1="${t[$1-start]}" -v e1="${t[$1-end]}" -v s2="${t[$2-start]}" -v e2="${t[$2-end]}" \
		'BEGIN { exit !(s1 < e2 && s2 < e1) }'
}

two=$(run 2)
echo "2 CPUs: $two"
overlaps a b "$two" && fail "with 2 CPUs the two 2-CPU groups ran together"
overlaps a c "$two" || fail "with 2 CPUs the 1-CPU group did not run beside a 2-CPU one"

eight=$(run 8)
echo "8 CPUs: $eight"
overlaps a b "$eight" || fail "with 8 CPUs the two longest groups did not run together"
exit 0
