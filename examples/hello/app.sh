#!/bin/sh
# Prints who and where it is, to show the isolation the engine gives.
echo "$GREETING"
echo "pid $$ as $(id -u):$(id -g) on host $(hostname), in $(pwd)"
cat /app/build-info
echo "capabilities: $(grep CapEff /proc/self/status | tr -d '\t')"
echo "seccomp: $(grep '^Seccomp:' /proc/self/status | tr -d '\t')"
