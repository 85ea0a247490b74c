#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Crash points of creates, writes, truncates, renames and unlinks, each fsynced.
# The workload is crash.py's Mixed; the points and checks: helpers.
. "$AIOS_ROOT/tests/lib/common.sh"
. "$AIOS_ROOT/tests/fsrw/helpers"
. "$AIOS_ROOT/tests/crash/helpers"
export CRASH_OPS=${CRASH_OPS:-80}
crash_run mixed
