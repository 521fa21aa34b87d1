#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-kernel.sh KERNEL_VERSION
#
# Boots one installed Debian kernel (/boot/vmlinuz-VERSION with its
# /lib/modules/VERSION) under qemu-system-x86_64 -accel tcg with a
# throw-away initramfs: busybox, the vhost-net modules and their
# dependencies, and the statically linked conformance program, which runs
# every scenario and prints one "KRESULT name PASS|FAIL|SKIP reason" line
# per scenario on the serial console.  Each becomes one automake-style
# result line on stdout:  PASS: VERSION name: reason
#
# Environment:
#   CONFORMANCE     the static test program (default
#                   $top_builddir/tests/kernel/conformance)
#   KERNEL_TIMEOUT  seconds for the whole boot (default 300)
#   KERNEL_LOGDIR   where VERSION.console is kept (default: not kept)
#   QEMU            default qemu-system-x86_64
#   KERNEL_APPEND   more kernel parameters; NAME=VALUE ones reach the
#                   program's environment (conformance_only=SCENARIO)
#   CI              "true": a missing tool or kernel is a failure, not a skip
#   TMPDIR          where the work directory is made
#
# Exit: 0 every scenario passed or skipped, 1 a scenario failed or the
# guest did not finish, 77 the rig is missing something (outside CI),
# 99 a hard error of the rig itself.
set -u

kver=${1:-}
top_builddir=${top_builddir:-.}
conformance=${CONFORMANCE:-$top_builddir/tests/kernel/conformance}
timeout_s=${KERNEL_TIMEOUT:-300}
qemu=${QEMU:-qemu-system-x86_64}

skip() {	# reason: skip outside CI, fail inside
	if [ "${CI:-}" = true ]; then
		echo "FAIL: ${kver:-kernel} rig: $*"
		exit 1
	fi
	echo "SKIP: ${kver:-kernel} rig: $*"
	exit 77
}
hard() {
	echo "ERROR: ${kver:-kernel} rig: $*"
	exit 99
}

[ -n "$kver" ] || hard "usage: run-kernel.sh KERNEL_VERSION"
for tool in "$qemu" timeout cpio gzip modinfo od; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
bzimage=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
[ -r "$bzimage" ] || skip "$bzimage not readable"
[ -d "$moddir" ] || skip "$moddir missing"
busybox=$(command -v busybox 2>/dev/null || true)
[ -n "$busybox" ] || skip "busybox not found (apt-get install busybox-static)"
# The initramfs has no libc: busybox must be the static build.
if head -c 4096 "$busybox" | grep -aq 'ld-linux'; then
	skip "$busybox is dynamically linked (apt-get install busybox-static)"
fi
[ -x "$conformance" ] || hard "$conformance not built (make tests/kernel/conformance)"

work=$(mktemp -d "${TMPDIR:-/tmp}/iotlb-kernel.XXXXXX") || hard "mktemp failed"
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/bin "$root"/proc "$root"/sys "$root"/dev "$root"/lib/modules "$root"/tmp

# --- busybox and its applets ---------------------------------------------
cp "$busybox" "$root/bin/busybox" || hard "copying busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
cp "$conformance" "$root/bin/conformance" || hard "copying $conformance"

# --- modules, dependencies first (modinfo), decompressed on the host ------
order=
add_module() {	# name
	local name=$1 dep file
	case " $order " in *" $name "*) return 0 ;; esac
	file=$(modinfo -k "$kver" -F filename "$name" 2>/dev/null) ||
		skip "module $name not found for $kver"
	case $file in "(builtin)" | "") return 0 ;; esac
	for dep in $(modinfo -k "$kver" -F depends "$name" | tr ',' ' '); do
		add_module "$dep"
	done
	case " $order " in *" $name "*) return 0 ;; esac
	case $file in
	*.ko.xz) xz -dc "$file" >"$root/lib/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$file" >"$root/lib/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$file" >"$root/lib/modules/$name.ko" ;;
	*.ko) cp "$file" "$root/lib/modules/$name.ko" ;;
	*) hard "unknown module format: $file" ;;
	esac || skip "cannot unpack $file (xz-utils, zstd?)"
	order="$order $name"
}
for m in vhost_iotlb vhost tun tap vhost_net; do
	add_module "$m"
done
echo "$order" >"$root/modules.order"

cat >"$root/init" <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: MIT
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "KINFO kernel $(uname -r)"
for m in $(cat /modules.order); do
	insmod "/lib/modules/$m.ko" || echo "KINFO insmod $m failed"
done
cd /tmp
/bin/conformance
echo "KDONE exit=$?"
dmesg | grep -iE 'vhost|tun|tap|iotlb|io_uring' | sed 's/^/KLOG /'
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) \
	>"$work/initrd" || hard "building the initramfs"

# --- kernel: the ELF vmlinux inside the bzImage boots through PVH, which
# saves decompressing it under emulation; fall back to the bzImage.
kernel=$bzimage
extract_vmlinux() {
	local sects off len start magic out=$work/vmlinux
	[ "$(od -An -c -j 514 -N 4 "$bzimage" | tr -d ' ')" = HdrS ] || return 1
	sects=$(od -An -tu1 -j 497 -N 1 "$bzimage" | tr -d ' ')
	[ "$sects" = 0 ] && sects=4
	off=$(od -An -tu4 -j 584 -N 4 "$bzimage" | tr -d ' ')
	len=$(od -An -tu4 -j 588 -N 4 "$bzimage" | tr -d ' ')
	start=$(( (sects + 1) * 512 + off ))
	magic=$(od -An -tx1 -j "$start" -N 4 "$bzimage" | tr -d ' ')
	# xz and zstd payloads end with the 4-byte decompressed size.
	case $magic in
	fd377a58) tail -c +$((start + 1)) "$bzimage" | head -c $((len - 4)) |
			xz -dc --single-stream >"$out" 2>/dev/null ;;
	28b52ffd) tail -c +$((start + 1)) "$bzimage" | head -c $((len - 4)) |
			zstd -qdc >"$out" 2>/dev/null ;;
	1f8b*) tail -c +$((start + 1)) "$bzimage" | head -c "$len" |
			gzip -dc >"$out" 2>/dev/null ;;
	*) return 1 ;;
	esac
	[ "$(od -An -c -N 4 "$out" | tr -d ' ')" = 177ELF ] || return 1
	kernel=$out
}
extract_vmlinux || echo "# $kver: booting the compressed bzImage (no ELF vmlinux extracted)"

# --- boot --------------------------------------------------------------------
console=$work/console
t0=$(date +%s)
timeout -k 10 "$timeout_s" "$qemu" -accel tcg -smp 1 -m 512 -nographic \
	-no-reboot -nic none -kernel "$kernel" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet ${KERNEL_APPEND:-}" </dev/null >"$console" 2>&1
qrc=$?
t1=$(date +%s)
tr -d '\r' <"$console" >"$console.txt"
if [ -n "${KERNEL_LOGDIR:-}" ]; then
	mkdir -p "$KERNEL_LOGDIR" && cp "$console.txt" "$KERNEL_LOGDIR/$kver.console"
fi
echo "# $kver: guest ran $((t1 - t0)) s (qemu exit $qrc, $(basename "$kernel"))"

# --- results -------------------------------------------------------------
status=0
plan=$(sed -n 's/.*KPLAN \(.*\)$/\1/p' "$console.txt" | tail -n 1)
if [ -z "$plan" ]; then
	echo "FAIL: $kver boot: the conformance program never started (qemu exit $qrc)"
	tail -n 30 "$console.txt" | sed 's/^/# console: /'
	exit 1
fi
sed -n 's/^.*\(KINFO .*\)$/# \1/p; s/^.*\(SIMDIFF .*\)$/# \1/p; s/^.*\(KLOG .*\)$/# \1/p' \
	"$console.txt" | sed "s/^# /# $kver: /"
for name in $plan; do
	line=$(grep -a "KRESULT $name " "$console.txt" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL: $kver $name: no result (guest crashed or timed out, qemu exit $qrc)"
		status=1
		continue
	fi
	line=${line#*KRESULT $name }
	res=${line%% *}
	why=${line#"$res"}
	why=${why# }
	case $res in
	PASS | SKIP) ;;
	FAIL) status=1 ;;
	*) res=FAIL; status=1; why="unparseable result: $line" ;;
	esac
	echo "$res: $kver $name: $why"
done
if ! grep -q 'KDONE' "$console.txt"; then
	echo "FAIL: $kver finish: the program did not finish (qemu exit $qrc)"
	tail -n 20 "$console.txt" | sed 's/^/# console: /'
	status=1
fi
exit $status
