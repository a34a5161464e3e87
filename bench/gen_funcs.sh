#!/bin/sh
# Generates and builds the attach benchmark's target: a program with NFUNCS
# tiny functions (f_0 .. f_N-1, each a distinct function site) that sleeps
# until killed, so probes are attached to a process that is already running.
#
#   sh bench/gen_funcs.sh OUTDIR [NFUNCS] [NUNITS]   -> OUTDIR/funcs
#
# -O0 and several translation units keep the compile short and bounded in
# memory; the result is cached by make (it depends only on this script).
set -eu

out=$1
nfuncs=${2:-100000}
nunits=${3:-10}
cc=${CC:-cc}
src=$out/funcs-src

rm -rf "$src"
mkdir -p "$src"
per=$(( (nfuncs + nunits - 1) / nunits ))
u=0
while [ "$u" -lt "$nunits" ]; do
	lo=$(( u * per ))
	hi=$(( lo + per ))
	[ "$hi" -le "$nfuncs" ] || hi=$nfuncs
	# awk writes 10k functions in milliseconds; a shell loop takes seconds.
	awk -v lo="$lo" -v hi="$hi" 'BEGIN {
		for (i = lo; i < hi; i++)
			printf "int f_%d(int x) { return x + %d; }\n", i, i
	}' >"$src/funcs$u.c"
	u=$(( u + 1 ))
done
cat >"$src/main.c" <<'SRC'
#include <unistd.h>
int main(void)
{
	for (;;)
		pause();
}
SRC
for f in "$src"/*.c; do
	"$cc" -O0 -w -c "$f" -o "${f%.c}.o"
done
"$cc" "$src"/*.o -o "$out/funcs.tmp"
mv "$out/funcs.tmp" "$out/funcs"
rm -rf "$src"
