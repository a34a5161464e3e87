#!/bin/sh
# `make demo`: cover the bundled calculator with ukcov, three ways.
set -eu
ukcov=$1 demo=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

step() { if [ -t 1 ]; then printf '\n\033[1m$ %s\033[0m\n' "$*"; else printf '\n$ %s\n' "$*"; fi; }

step ukcov sites "$demo"
"$ukcov" sites "$demo"

step ukcov run -o cov.txt -- demo "1+2*3" "(4+5)*6/3"
"$ukcov" run -o "$out/cov.txt" -- "$demo" "1+2*3" "(4+5)*6/3"
cat "$out/cov.txt"

step ukcov run -o cov.txt -- demo "7/0"     "# a division by zero runs divide() and report_error()"
"$ukcov" run -o "$out/cov.txt" -- "$demo" "7/0" || echo "(demo exited $? and so did ukcov run)"
grep -v '^#' "$out/cov.txt"

step ukcov run -o cov.kcov -- demo "2*(3+4)"  "# kcov records: u64 n, then n PCs"
"$ukcov" run -o "$out/cov.kcov" -- "$demo" "2*(3+4)"
od -A d -t x8 -v "$out/cov.kcov"

step ukcov run --sites line -o cov.txt -o cov.info -- demo "1+2*3" "7/0"   "# line coverage, and an lcov tracefile"
"$ukcov" run --sites line -o "$out/lines.txt" -o "$out/cov.info" -- "$demo" "1+2*3" "7/0" || true
"$ukcov" sites --sites line "$demo" | awk '!/^#/ { split($5, fl, ":"); print "0 0 0 x:" fl[2] }' >"$out/all.txt"
# gcov-style: each source line with the largest count of its sites
# ('#####' = has code, never ran; '-' = no code), for divide() .. parse_term().
src=$(dirname "$0")/demo.c
awk -v src="$src" '
	FILENAME == ARGV[1] { split($4, fl, ":"); code[fl[2]] = 1; next }
	FILENAME == ARGV[2] { if (!/^#/) { split($4, fl, ":"); l = fl[2]; n[l] = ($2 > n[l] ? $2 : n[l]) }; next }
	FNR >= 54 && FNR <= 77 {
		c = (FNR in n) ? n[FNR] : (FNR in code ? "#####" : "-")
		printf "%8s: %3d: %s\n", c, FNR, $0
	}' "$out/all.txt" "$out/lines.txt" "$src"
command -v lcov >/dev/null && lcov --summary "$out/cov.info" 2>&1 | grep -E 'lines|functions'

html=$(dirname "$demo")/demo-html
if command -v genhtml >/dev/null; then
	step genhtml -o "$html" cov.info
	rm -rf "$html"
	genhtml -q -o "$html" "$out/cov.info" && echo "HTML report: $html/index.html"
fi
