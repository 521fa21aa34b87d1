#!/bin/bash
# SPDX-License-Identifier: MIT
#
# check-kernel.sh: run-kernel.sh on every installed Debian kernel, that is
# every /boot/vmlinuz-VERSION with a /lib/modules/VERSION, two guests at a
# time, then an automake-style summary.  KERNELS="v1 v2" picks versions.
#
# Exit: 0 all passed or skipped, 1 something failed, 77 nothing could run
# (no qemu, kernel, busybox, ...) outside CI; with CI=true that is 1.
set -u

srcdir=${srcdir:-$(dirname "$0")/../..}
jobs=${KERNEL_JOBS:-2}
logdir=${KERNEL_LOGDIR:-tests/kernel/logs}
export KERNEL_LOGDIR=$logdir

no_rig() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: check-kernel: $*"
		exit 1
	fi
	echo "SKIP: check-kernel: $*"
	exit 77
}

kernels=${KERNELS:-}
if [ -z "$kernels" ]; then
	for vmlinuz in /boot/vmlinuz-*; do
		[ -e "$vmlinuz" ] || continue
		kver=${vmlinuz#/boot/vmlinuz-}
		[ -d "/lib/modules/$kver" ] && kernels="$kernels $kver"
	done
fi
[ -n "$kernels" ] || no_rig "no installed kernel (/boot/vmlinuz-* with /lib/modules/*);" \
	"apt-get install --no-install-recommends linux-image-amd64 linux-image-6.12-amd64"
command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 ||
	no_rig "${QEMU:-qemu-system-x86_64} not found (apt-get install --no-install-recommends qemu-system-x86)"

mkdir -p "$logdir" || exit 99
t0=$(date +%s)
running=0
for kver in $kernels; do
	bash "$srcdir/tests/kernel/run-kernel.sh" "$kver" >"$logdir/$kver.log" 2>&1 &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

pass=0 fail=0 skip=0 error=0 rigskip=0
for kver in $kernels; do
	cat "$logdir/$kver.log"
	p=$(grep -c '^PASS: ' "$logdir/$kver.log")
	f=$(grep -c '^FAIL: ' "$logdir/$kver.log")
	s=$(grep -c '^SKIP: ' "$logdir/$kver.log")
	e=$(grep -c '^ERROR: ' "$logdir/$kver.log")
	grep -q '^SKIP: .* rig: ' "$logdir/$kver.log" && rigskip=$((rigskip + 1))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s)) error=$((error + e))
	[ $((p + f + s + e)) -gt 0 ] || { echo "ERROR: $kver: no results"; error=$((error + 1)); }
done
total=$((pass + fail + skip + error))
line="============================================================================"
echo "$line"
echo "Kernel conformance summary ($(echo $kernels)), $(( $(date +%s) - t0 )) s"
echo "$line"
echo "# TOTAL: $total"
echo "# PASS:  $pass"
echo "# SKIP:  $skip"
echo "# XFAIL: 0"
echo "# FAIL:  $fail"
echo "# XPASS: 0"
echo "# ERROR: $error"
echo "$line"
echo "Console logs: $logdir/"
[ $((fail + error)) -eq 0 ] || exit 1
set -- $kernels
[ "$rigskip" -lt "$#" ] || exit 77
exit 0
