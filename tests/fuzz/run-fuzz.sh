# SPDX-License-Identifier: MIT
# Runs one libFuzzer target for N seconds on a scratch copy of its corpus
# and prints: fuzz <target> execs=<n> crashes=<n> cov=<n> corpus=<files>
# Usage: run-fuzz.sh NAME SECONDS BINARY CORPUS_DIR
set -eu
name=$1 secs=$2 bin=$3 corpus=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/crashes"
cp "$corpus"/* "$work/corpus/" 2>/dev/null || true
"$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/crashes/" \
	"$work/corpus" >"$work/log" 2>&1 || true
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n1)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n1 | cut -d' ' -f2)
crashes=$(find "$work/crashes" -type f | wc -l)
files=$(find "$work/corpus" -type f | wc -l)
echo "fuzz $name execs=${execs:-0} crashes=$crashes cov=${cov:-0} corpus=$files"
if [ "$crashes" -gt 0 ]; then
	mkdir -p "fuzz-crashes/$name"
	cp "$work/crashes"/* "fuzz-crashes/$name/"
	echo "fuzz $name: crash inputs saved in fuzz-crashes/$name" >&2
	exit 1
fi
