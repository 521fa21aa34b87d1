#!/bin/sh
# SPDX-License-Identifier: MIT
# Description: the symbols libiotlb.so exports are exactly those in libiotlb.sym.
set -eu
lib="$top_builddir/src/lib/.libs/libiotlb.so"
sym="$top_srcdir/src/lib/libiotlb.sym"
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^LIBIOTLB_/ { print $3 }' \
	| sed 's/@.*//' | sort -u >"$tmp/exported"
sed -n 's/^[[:space:]]*\(iotlb_[a-z0-9_]*\);.*/\1/p' "$sym" | sort -u >"$tmp/listed"
if ! diff -u "$tmp/listed" "$tmp/exported"; then
	echo "FAIL: exported symbols (+) differ from libiotlb.sym (-)"
	exit 1
fi
# Every exported symbol is versioned under a LIBIOTLB_ node.
unversioned=$(objdump -T "$lib" | awk '$NF ~ /^iotlb_/ && $(NF-1) !~ /^LIBIOTLB_/' | wc -l)
[ "$unversioned" -eq 0 ] || { echo "FAIL: $unversioned unversioned exports"; exit 1; }
echo "ok: $(wc -l <"$tmp/exported") symbols exported, all listed in libiotlb.sym"
