#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash points of parallel creates and renames in one indexed directory.
# The workload is crash.py's Htree; the points and checks: helpers.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/crash/helpers"
export CRASH_OPS=${CRASH_OPS:-150}
crash_run htree -J size=4
