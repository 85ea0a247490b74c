#!/bin/bash
# Crashes the guest kernel: this test and the next must fail, promptly.
echo c >/proc/sysrq-trigger
sleep 30
