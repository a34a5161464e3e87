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
