#!/bin/bash
echo "nothing to do here"
exit 4
