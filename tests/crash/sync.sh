#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash points of sync(2) and syncfs(2) over writes that need no commit.
# The workload is crash.py's Sync; the points and checks: helpers.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/crash/helpers"
export CRASH_OPS=${CRASH_OPS:-40}
crash_run sync
