#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash points of writes into preallocated space one level down the extent tree.
# The workload is crash.py's Falloc; the points and checks: helpers.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/crash/helpers"
export CRASH_OPS=${CRASH_OPS:-60}
crash_run falloc
