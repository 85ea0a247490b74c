#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash points of files unlinked while open, truncated and closed.
# The workload is crash.py's Orphan; the points and checks: helpers.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/crash/helpers"
export CRASH_OPS=${CRASH_OPS:-60}
crash_run orphan
