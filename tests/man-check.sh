# SPDX-License-Identifier: MIT
# Description: the man pages keep up with the code: every exported symbol
# has a page, every SYNOPSIS prototype is declared in iotlb.h word for word,
# the libiotlb(7) example is tests/example-mem.c, and every page lints clean.
set -eu
export LC_ALL=C
man="$top_srcdir/man"
hdr="$top_srcdir/include/iotlb.h"
sym="$top_srcdir/src/lib/libiotlb.sym"
example="$top_srcdir/tests/example-mem.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Collapse a C declaration so the header and a page can be compared.
norm() {
	sed -e 's/[[:space:]][[:space:]]*/ /g' -e 's/^ //' -e 's/ $//' \
	    -e 's/( /(/g' -e 's/ )/)/g' -e 's/ ,/,/g'
}

# The header's declarations, one per line: comments and preprocessor
# lines dropped, split at ; { and }.
awk '
	/^[[:space:]]*#/ { cont = /\\$/; next }
	cont { cont = /\\$/; next }
	{ printf "%s ", $0 }
' "$hdr" | sed -e 's#/\*\([^*]\|\*[^/]\)*\*/# #g' | tr ';{}' '\n\n\n' | norm >"$tmp/decls"
grep -o 'IOTLB_[A-Z0-9_]*' "$hdr" | sort -u >"$tmp/hdr-names"

# A redirect page is the SPDX line and one .so line naming a page here.
is_redirect() { grep -q '^\.so ' "$1"; }
# The names a page documents: its NAME line up to " \- ", one a line.
names_of() {
	sed -n '/^\.SH NAME/{n;p;q}' "$1" | sed 's/ \\- .*//' | tr ',' '\n' | tr -d ' '
}

# (a) every symbol of the version script has a page.
sed -n 's/^[[:space:]]*\(iotlb_[a-z0-9_]*\);.*/\1/p' "$sym" | sort -u >"$tmp/symbols"
[ -s "$tmp/symbols" ] || bad "no symbols found in $sym"
while read -r s; do
	[ -f "$man/$s.3" ] || bad "$s is exported but man/$s.3 is missing"
done <"$tmp/symbols"

pages=0
for page in "$man"/*.3 "$man"/*.7; do
	name=$(basename "$page")
	pages=$((pages + 1))
	head -n1 "$page" | grep -qx '\.\\" SPDX-License-Identifier: MIT' ||
		bad "$name: first line is not the SPDX line"
	case "$name" in
	*.3) grep -qx "${name%.3}" "$tmp/symbols" ||
		bad "$name: ${name%.3} is not in libiotlb.sym" ;;
	esac
	if is_redirect "$page"; then
		[ "$(grep -vc '^\.\\"' "$page")" -eq 1 ] ||
			bad "$name: a .so redirect must hold nothing else"
		target=$(sed -n 's/^\.so man[0-9]\///p' "$page")
		[ -f "$man/$target" ] && ! is_redirect "$man/$target" ||
			bad "$name: .so target man/$target is not a full page"
		names_of "$man/$target" | grep -qx "${name%.3}" ||
			bad "$name: ${name%.3} is not in the NAME section of $target"
		continue
	fi
	th=$(sed -n 's/^\.TH \([^ ]*\) \([0-9]\) .*/\1.\2/p' "$page")
	[ "$th" = "$name" ] || bad "$name: .TH says '$th'"
	names_of "$page" | grep -qx "${name%.*}" ||
		bad "$name: NAME section does not name ${name%.*}"

	# (b) the SYNOPSIS, with .B/.BI arguments joined as troff prints
	# them, one statement per line.
	[ "${name##*.}" = 3 ] || continue
	sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$page" | awk '
		function args(s, join,   out, t) {
			out = ""
			while (length(s)) {
				sub(/^[ \t]+/, "", s)
				if (s == "") break
				if (substr(s, 1, 1) == "\"") {
					s = substr(s, 2); t = index(s, "\"")
					if (!t) t = length(s) + 1
					out = out (out == "" ? "" : join) substr(s, 1, t - 1)
					s = substr(s, t + 1)
				} else {
					t = match(s, /[ \t]/); if (!t) t = length(s) + 1
					out = out (out == "" ? "" : join) substr(s, 1, t - 1)
					s = substr(s, t)
				}
			}
			return out
		}
		/^\.(PP|sp)/ || /^$/ { if (acc != "") print "#" acc; acc = ""; next }
		/^\.B / { line = args(substr($0, 4), " ") }
		/^\.(BI|IB|BR|RB|IR|RI) / { line = args(substr($0, 5), "") }
		!/^\.(B|BI|IB|BR|RB|IR|RI) / { next }
		line ~ /^#include/ { next }
		{ gsub(/\\-/, "-", line); acc = acc " " line }
		acc ~ /;[ \t]*$/ { sub(/;[ \t]*$/, "", acc); print acc; acc = "" }
		END { if (acc != "") print "#" acc }
	' | norm >"$tmp/syn"
	protos=0
	while IFS= read -r decl; do
		case "$decl" in
		\#*)	# not a declaration: its IOTLB_ names must exist
			for m in $(echo "$decl" | grep -o 'IOTLB_[A-Z0-9_]*' || true); do
				grep -qx "$m" "$tmp/hdr-names" ||
					bad "$name: SYNOPSIS names $m, not in iotlb.h"
			done
			continue ;;
		esac
		grep -qxF "$decl" "$tmp/decls" ||
			bad "$name: SYNOPSIS '$decl' is not declared so in iotlb.h"
		case "$decl" in
		typedef*) continue ;;
		esac
		fn=$(echo "$decl" | sed -n 's/^[^(]*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p')
		[ -n "$fn" ] || { bad "$name: no function in '$decl'"; continue; }
		grep -q "^[^(]*[ *]$fn(" "$tmp/decls" ||
			bad "$name: $fn is not declared in iotlb.h"
		protos=$((protos + 1))
	done <"$tmp/syn"
	[ "$protos" -gt 0 ] || bad "$name: no prototype in SYNOPSIS"
	grep -q "[ *]${name%.3}(" "$tmp/syn" ||
		bad "$name: SYNOPSIS does not declare ${name%.3}()"
done

# The EXAMPLE of libiotlb(7) is tests/example-mem.c, minus its SPDX line,
# escaped for troff.
sed -n '/^\.SS Program source/,/^\.EE/p' "$man/libiotlb.7" | sed -e '1,2d' -e '$d' \
	>"$tmp/example.page"
sed '1d' "$example" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/'/\\\\(aq/g" \
	-e 's/^\([.]\)/\\\&\1/' >"$tmp/example.src"
diff -u "$tmp/example.src" "$tmp/example.page" >"$tmp/example.diff" || {
	cat "$tmp/example.diff"
	bad "libiotlb.7: EXAMPLE differs from tests/example-mem.c (+ is the page)"
}

# (c) lint.  Pages are linted from a tree laid out as installed (man3/,
# man7/) so that .so redirects resolve.
mkdir "$tmp/tree"
ln -s "$man" "$tmp/tree/man3"
ln -s "$man" "$tmp/tree/man7"
mandoc=${MANDOC:-$(command -v mandoc || true)}
if [ -n "$mandoc" ]; then
	linter="mandoc"
	lint() {
		# -W warning leaves out the STYLE level.  A .so redirect is how
		# this project aliases pages, so mandoc's advice against .so
		# itself is not a fault.
		"$mandoc" -Tlint -W warning "$1" 2>&1 |
			grep -v 'WARNING: \.so is fragile, better use ln(1)' || true
	}
elif command -v groff >/dev/null 2>&1; then
	linter="groff"
	lint() { groff -ww -z -man "$1" 2>&1 || echo "groff failed on $1"; }
else
	linter=""
fi
if [ -n "$linter" ]; then
	cd "$tmp/tree"
	for page in "$man"/*.3 "$man"/*.7; do
		name=$(basename "$page")
		out=$(lint "man${name##*.}/$name")
		[ -z "$out" ] || { echo "$out"; bad "$name: $linter reports the above"; }
	done
	cd - >/dev/null
fi

[ "$fail" -eq 0 ] || exit 1
if [ -z "$linter" ]; then
	echo "SKIP: $pages pages checked against the code, but neither mandoc nor groff is installed to lint them"
	exit 77
fi
echo "ok: $pages pages match iotlb.h and libiotlb.sym, linted with $linter"
