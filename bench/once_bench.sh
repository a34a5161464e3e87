#!/bin/bash
# SPDX-License-Identifier: MIT
#
# once_bench.sh [OUTPUT] - what --mode once costs on a repeated workload
# (make once-bench; part of make bench).  Needs root (BPF).
#
# bench/once_bench.c runs the same input ROUNDS times, in one process
# (persistent) or one fresh exec per round (-x).  Native, --mode once and
# --mode count are run interleaved BENCH_RUNS times (default 5) and each
# figure is the median over the runs of:
#   persistent  the median round of the second half of the rounds ("warm":
#               every site ran long ago), per call;
#   exec        the median round of the second half, fork to exit.
# Count mode is far slower: it runs fewer rounds (and, persistent, fewer
# calls per round: a per-call figure is linear in the calls).
#
# Prints a Markdown table on stdout, also saved as OUTPUT/bench/once.md.
set -u -o pipefail

OUT=${1:-.output}
UKCOV=$OUT/ukcov
BIN=$OUT/bench/once_bench
R=${BENCH_RUNS:-5}
P_ROUNDS=300 P_N=100000		# persistent: 800k calls a round, ~1.2 ms native
P_COUNT_ROUNDS=3 P_COUNT_N=2000
X_ROUNDS=100 X_N=20000		# exec: a fresh process a round, ~4 ms native
X_COUNT_ROUNDS=3
T=$(mktemp -d /tmp/ukcov-once-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/v"

log() { echo "once-bench: $*" >&2; }
add() { echo "$2" >>"$T/v/$1"; }
med() {
	[ -s "$T/v/$1" ] || { echo nan; return; }
	sort -g "$T/v/$1" | awk '{ a[NR] = $1 }
		END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
calc() { awk "BEGIN { x = $1; if (x != x) print \"nan\"; else printf \"$2\", x }" 2>/dev/null ||
	echo nan; }
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	if (v == "nan" || v == "") { print "n/a"; exit }
	ok = op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0
	print ok ? "met" : "**not met**" }'; }
row() {
	local c=() x
	for x in "$@"; do c+=("${x//|/\\|}"); done
	printf '| %s | %s | %s | %s | `%s` |\n' "${c[@]}" >>"$T/out"
}

# warm FILE: the median round (ns) of the second half of a once_bench output.
warm() {
	awk '/^round / { r[n++] = $3 } END { for (i = int(n / 2); i < n; i++) print r[i] }' "$1" |
		sort -g | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "nan") }'
}
calls() { awk '/^calls / { print $2 }' "$1"; }
round0() { awk '/^round 0 / { print $3 }' "$1"; }

# sample KEY PERCALL(1|0) FILE: adds the warm figure of one run.
sample() {
	local w c

	w=$(warm "$3")
	c=$(calls "$3")
	[ -n "$w" ] && [ -n "$c" ] || { log "no rounds in $3: $(tail -n 2 "$3")"; return 1; }
	if [ "$2" = 1 ]; then add "$1" "$(calc "$w / $c" %.4f)"; else add "$1" "$w"; fi
}

# timed KEY CMD...: CMD's stdout in $T/o, its wall time (ns) added to KEY.
timed() {
	local key=$1 t0

	shift
	t0=$(date +%s%N)
	"$@" >"$T/o" 2>"$T/e" || { log "$* failed: $(tail -n 2 "$T/e")"; return 1; }
	add "$key" $(($(date +%s%N) - t0))
}

[ "$(id -u)" -eq 0 ] || { echo "once-bench: needs root (BPF)" >&2; exit 1; }
for f in "$UKCOV" "$BIN"; do
	[ -x "$f" ] || { echo "once-bench: $f missing: run make once-bench" >&2; exit 1; }
done

for ((i = 1; i <= R; i++)); do
	log "run $i/$R: persistent"
	timed p_native_wall "$BIN" "$P_ROUNDS" "$P_N" && sample p_native 1 "$T/o"
	timed p_once_wall "$UKCOV" run --mode once -o "$T/c.txt" -- "$BIN" "$P_ROUNDS" "$P_N" &&
		sample p_once 1 "$T/o" && add p_once_first "$(round0 "$T/o")"
	"$UKCOV" run -o "$T/c.txt" -- "$BIN" "$P_COUNT_ROUNDS" "$P_COUNT_N" >"$T/o" 2>"$T/e" &&
		sample p_count 1 "$T/o"
	log "run $i/$R: exec"
	"$BIN" -x "$X_ROUNDS" "$X_N" >"$T/o" && sample x_native 0 "$T/o"
	"$UKCOV" run --mode once -o "$T/c.txt" -- "$BIN" -x "$X_ROUNDS" "$X_N" >"$T/o" 2>"$T/e" &&
		sample x_once 0 "$T/o"
	"$UKCOV" run -o "$T/c.txt" -- "$BIN" -x "$X_COUNT_ROUNDS" "$X_N" >"$T/o" 2>"$T/e" &&
		sample x_count 0 "$T/o"
done
# One verbose run for what the retirement did (restored, replaced, ms).
"$UKCOV" run -v --mode once -o "$T/c.txt" -- "$BIN" "$P_ROUNDS" "$P_N" 2>&1 >/dev/null |
	sed -n 's/^ukcov: once: //p' >"$T/p_stats"
"$UKCOV" run -v --mode once -o "$T/c.txt" -- "$BIN" -x "$X_ROUNDS" "$X_N" 2>&1 >/dev/null |
	sed -n 's/^ukcov: once: //p' >"$T/x_stats"

pn=$(med p_native) po=$(med p_once) pc=$(med p_count)
xn=$(med x_native) xo=$(med x_once) xc=$(med x_count)
p_ratio=$(calc "$po / $pn" %.3f) p_speed=$(calc "$pc / $po" %.0f)
x_ratio=$(calc "$xo / $xn" %.3f) x_speed=$(calc "$xc / $xo" %.0f)
cmd_p="$UKCOV run --mode once -o c.txt -- $BIN $P_ROUNDS $P_N"
cmd_x="$UKCOV run --mode once -o c.txt -- $BIN -x $X_ROUNDS $X_N"

{
	printf '\n### Once mode (--mode once) on a repeated workload, median of %s runs\n\n' "$R"
	printf '| measurement | median | vs | target | command |\n|---|---|---|---|---|\n'
} >"$T/out"
row "persistent, native, warm round" "$(calc "$pn" %.2f) ns/call" "" "" "$BIN $P_ROUNDS $P_N"
row "persistent, once, warm round" "$(calc "$po" %.2f) ns/call" "${p_ratio}x native" \
	"<= 1.05x: $(verdict "$p_ratio" '<=' 1.05)" "$cmd_p"
row "persistent, count" "$(calc "$pc" %.1f) ns/call" "${p_speed}x once warm" \
	">= 10x: $(verdict "$p_speed" '>=' 10)" \
	"$UKCOV run -o c.txt -- $BIN $P_COUNT_ROUNDS $P_COUNT_N"
row "persistent, once, first round (warm-up: the first drain)" \
	"$(calc "$(med p_once_first) / 1e6" %.1f) ms" "" "" "$cmd_p"
row "persistent, whole run, native vs once (ukcov start-up included)" \
	"$(calc "$(med p_native_wall) / 1e6" %.0f) ms vs $(calc "$(med p_once_wall) / 1e6" %.0f) ms" \
	"" "" "$cmd_p"
row "exec per round, native, warm round" "$(calc "$xn / 1e6" %.2f) ms" "" "" "$BIN -x $X_ROUNDS $X_N"
row "exec per round, once, warm round" "$(calc "$xo / 1e6" %.2f) ms" "${x_ratio}x native" \
	"<= 1.05x: $(verdict "$x_ratio" '<=' 1.05)" "$cmd_x"
row "exec per round, count" "$(calc "$xc / 1e6" %.2f) ms" "${x_speed}x once warm" \
	">= 10x: $(verdict "$x_speed" '>=' 10)" \
	"$UKCOV run -o c.txt -- $BIN -x $X_COUNT_ROUNDS $X_N"
{
	printf '\nRetirement, persistent (ukcov -v): %s\n' "$(cat "$T/p_stats")"
	printf '\nRetirement, exec per round (ukcov -v): %s\n' "$(cat "$T/x_stats")"
} >>"$T/out"

mkdir -p "$OUT/bench"
cp "$T/out" "$OUT/bench/once.md"
cat "$T/out"
