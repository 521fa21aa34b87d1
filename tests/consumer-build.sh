#!/bin/sh
# SPDX-License-Identifier: MIT
# Description: install into a scratch DESTDIR, then build and run a C and a
# C++ consumer against the installed header and libiotlb.pc only.
set -eu
dest="$top_builddir/t-consumer"
rm -rf "$dest"
trap 'rm -rf "$dest"' EXIT
$MAKE -C "$top_builddir" install DESTDIR="$dest" >"$top_builddir/t-consumer.install.log" 2>&1 || {
	cat "$top_builddir/t-consumer.install.log"; exit 1; }
rm -f "$top_builddir/t-consumer.install.log"
pcdir=$(find "$dest" -name libiotlb.pc -exec dirname {} \; | head -n1)
[ -n "$pcdir" ] || { echo "FAIL: libiotlb.pc not installed"; exit 1; }
hdr=$(find "$dest" -name iotlb.h | head -n1)
[ -n "$hdr" ] || { echo "FAIL: iotlb.h not installed"; exit 1; }
# The installed header may include only standard C headers.
bad=$(sed -n 's/^#include[[:space:]]*<\([^>]*\)>.*/\1/p' "$hdr" | grep -v -x -e stdarg.h -e stdbool.h -e stddef.h -e stdint.h || true)
[ -z "$bad" ] || { echo "FAIL: iotlb.h includes non-standard headers: $bad"; exit 1; }
export PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_LIBDIR="$pcdir"
cflags=$(${PKG_CONFIG:-pkg-config} --cflags libiotlb)
libs=$(${PKG_CONFIG:-pkg-config} --libs libiotlb)
libdir=$(echo "$libs" | sed -n 's/.*-L\([^ ]*\).*/\1/p')
$CC -std=c99 -Wall -Wextra -Werror $cflags -o "$dest/consumer" \
	"$top_srcdir/tests/consumer.c" $libs ${EXTRA_LDFLAGS:-}
LD_LIBRARY_PATH="$libdir" "$dest/consumer"
if command -v g++ >/dev/null 2>&1; then
	printf '#include <iotlb.h>\nint main() { return iotlb_check_version(0, 1) ? 0 : 1; }\n' >"$dest/cxx.cc"
	g++ -Wall -Wextra -Werror $cflags -o "$dest/cxx" "$dest/cxx.cc" $libs ${EXTRA_LDFLAGS:-}
	LD_LIBRARY_PATH="$libdir" "$dest/cxx"
	echo "C++ consumer ok"
fi
