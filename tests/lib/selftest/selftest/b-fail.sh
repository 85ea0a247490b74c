#!/bin/bash
echo "a failed assertion"
exit 1
