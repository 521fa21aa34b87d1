#!/bin/sh
# SPDX-License-Identifier: MIT
# Description: the bench-engine harness works end to end at a tiny scale:
# every workload, every device count (1024 included), every built service,
# simulator and service in two processes; it exits non-zero on any
# PROBLEM (stuck devices, stale accesses, rejected writes, failed runs).
set -eu
BENCH_SCALE=${BENCH_SCALE:-0.002} "$top_builddir/tests/bench/bench-engine"
