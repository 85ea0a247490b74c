#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash points of O_DIRECT writes beside buffered reads.
# The workload is crash.py's Dio; the points and checks: helpers.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/crash/helpers"
export CRASH_OPS=${CRASH_OPS:-60}
crash_run dio
