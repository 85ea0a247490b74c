#!/bin/bash
# make lint, in the suite: for the kernel under test, a W=1 -Werror build
# with sparse over every file, then checkpatch --strict over every C file
# and header of ours; anything they report fails the test.
. "$AIOS_ROOT/tests/lib/common.sh"

"$AIOS_ROOT/tools/lint" "$AIOS_KVER" || fail "tools/lint $AIOS_KVER found the problems above"
exit 0
