#!/bin/bash
# Exits 0, but the kernel log shows a warning: the runner must fail it.
echo "WARNING: CPU: 0 PID: $$ at aios-selftest (a planted warning)" >/dev/kmsg
exit 0
