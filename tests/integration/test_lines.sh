# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Line and basic-block sites (--sites line|bb) on real runs: block counts
# against a fixture whose blocks run a known number of times, and line
# coverage against gcov, both counting one execution of a --coverage build.

# site_pc SITES FUNC LINE: the PCs (lower case) of the sites of FUNC whose
# line is LINE, from a `ukcov sites` listing.
site_pc()
{
	awk -v f="$2" -v l="$3" '!/^#/ && NF && $4 == f {
		n = split($5, a, ":"); if (a[n] == l) print tolower($1) }' "$1"
}

# entry_pc SITES FUNC: the PC of FUNC's first site (its entry block).
entry_pc()
{
	awk -v f="$2" '!/^#/ && NF && $4 == f { print tolower($1); exit }' "$1"
}

# count_of REPORT PC: the count of PC in a text report, 0 when absent.
# Compared as strings: mawk reads 0x... as a double, which cannot tell
# neighbouring PCs apart.
count_of()
{
	report_data "$1" | awk -v pc="$2" '$1 "" == pc "" { c = $2 } END { print c + 0 }'
}

# marker_line FILE TAG: the line of FILE that carries the comment TAG.
marker_line()
{
	grep -n "$2" "$1" | head -n 1 | cut -d: -f1
}

test_lines_bb_counts()
{
	local src=$UKT_SRC/bb_counts.c k=9 n=10 body taken not pc want got

	setup
	"$UKCOV" sites --sites bb -o "$T/sites" "$FIXTURES/bb_counts" 2>"$T/err" ||
		fail "ukcov sites --sites bb failed: $(cat "$T/err")"
	grep -Eq '^# placement 0 nop5 [0-9]+ emulated [0-9]+ single-step [0-9]+$' "$T/sites" ||
		fail "no placement header: $(grep '^#' "$T/sites")"
	"$UKCOV" run --sites bb -f text -o "$T/cov" -- "$FIXTURES/bb_counts" $k $n \
		>"$T/out" 2>"$T/err" || fail "ukcov run exited $?: $(cat "$T/err")"
	grep -q '^# mode: .*sites: bb' "$T/cov" || fail "report is not of bb sites"
	body=$(marker_line "$src" BB_LOOP_BODY)
	taken=$(marker_line "$src" BB_IF_TAKEN)
	not=$(marker_line "$src" BB_IF_NOT)
	# FUNC LINE-or-entry EXPECTED: the loop body ran k times, the if's
	# taken branch once per multiple of 3 below n, each function's entry
	# block once per call.
	while read -r fn line want; do
		if [ "$line" = entry ]; then
			pc=$(entry_pc "$T/sites" "$fn")
		else
			pc=$(site_pc "$T/sites" "$fn" "$line")
		fi
		[ -n "$pc" ] || fail "no bb site for $fn $line: $(grep " $fn " "$T/sites")"
		[ "$(wc -w <<<"$pc")" -eq 1 ] || fail "several bb sites for $fn line $line: $pc"
		got=$(count_of "$T/cov" "$pc")
		[ "$got" -eq "$want" ] || fail "$fn block at line $line ($pc) counted $got, ran $want times"
	done <<EOF
loop_k $body $k
if_j $taken $(((n + 2) / 3))
if_j $not $((n - (n + 2) / 3))
loop_k entry 1
if_j entry $n
EOF
	check_summary "$T/cov"
}

# gcov_vs_ukcov OPT: builds lines_cov (lines_cov.c, lines_cov2.c,
# lines_cov.h) with -OPT -g --coverage, runs it ONCE under `ukcov run
# --sites line` - that one execution is what both gcov (from the .gcda
# files it writes) and ukcov count, on the same machine code - and holds
# ukcov's tracefile to gcov's counts with gcov_compare.pl (its rules are
# at its top).  The lines the fixture tags gcov-O2 count fewer at -O2.
# Then runs it again with --sites bb: the blocks must give the very same
# tracefile.  Leaves gcov_compare.pl's summary in $T/summary.OPT.
gcov_vs_ukcov()
{
	local opt=$1 d=$T/$1 f

	command -v gcc >/dev/null && command -v gcov >/dev/null || skip "needs gcc and gcov"
	mkdir -p "$d/cov" || fail "mkdir failed"
	cp "$UKT_SRC"/lines_cov.c "$UKT_SRC"/lines_cov2.c "$UKT_SRC"/lines_cov.h "$d/cov/" ||
		fail "cp failed"
	(cd "$d/cov" && gcc -"$opt" -g --coverage -c lines_cov.c -o lines_cov.o &&
		gcc -"$opt" -g --coverage -c lines_cov2.c -o lines_cov2.o &&
		gcc --coverage lines_cov.o lines_cov2.o -o prog) || fail "--coverage build failed"
	"$UKCOV" sites --sites line -o "$d/sites" "$d/cov/prog" 2>"$d/err" ||
		fail "ukcov sites --sites line failed: $(cat "$d/err")"
	# bb and line sites agree only where the kernel takes every line site.
	grep -q '^# module .* refused' "$d/sites" && fail "line sites refused: $(grep '^# module' "$d/sites")"
	(cd "$d/cov" && "$UKCOV" run --sites line -o "$d/line.info" -- ./prog >/dev/null 2>"$d/err") ||
		fail "ukcov run --sites line exited $?: $(cat "$d/err")"
	(cd "$d/cov" && gcov --json-format --stdout lines_cov.gcda lines_cov2.gcda \
		>"$d/gcov.json" 2>"$d/gcov.err") ||
		fail "gcov --json-format failed: $(cat "$d/gcov.err")"
	for f in lines_cov.c lines_cov2.c lines_cov.h; do
		grep -n 'gcov-O2:' "$d/cov/$f" | cut -d: -f1 | sed "s/^/$f /"
	done >"$d/tags"
	perl "$(dirname "$UKT_LIB")/gcov_compare.pl" "$d/gcov.json" "$d/line.info" "$d/cov/prog" \
		"$d/tags" "$opt" >"$T/summary.$opt" ||
		fail "line sites differ from gcov: $(tr '\n' ' ' <"$T/summary.$opt")"
	cat "$T/summary.$opt"
	rm -f "$d"/cov/*.gcda
	(cd "$d/cov" && "$UKCOV" run --sites bb -o "$d/bb.info" -- ./prog >/dev/null 2>"$d/err") ||
		fail "ukcov run --sites bb exited $?: $(cat "$d/err")"
	cmp -s "$d/line.info" "$d/bb.info" ||
		fail "bb and line tracefiles differ (< line, > bb): $(diff "$d/line.info" "$d/bb.info" | grep '^[<>]' | head -n 8 | tr '\n' ' ')"
}

# -O0: every line both count agrees; gcov's lines without a statement row
# (case labels, function names) and ukcov's closing braces are accounted
# for by gcov_compare.pl's rules.  Measured: 54 of 54 lines.
test_lines_match_gcov_O0()
{
	setup
	gcov_vs_ukcov O0
}

# -O2: the same, but for the five lines lines_cov tags gcov-O2, each with
# why ukcov sees fewer executions there than gcov counts.  Measured: 42 of
# 47 lines equal, 5 tagged.
test_lines_match_gcov_O2()
{
	setup
	gcov_vs_ukcov O2
}

# Line sites need DWARF: one clear line and a failure, from both commands.
test_lines_without_dwarf()
{
	setup
	command -v gcc >/dev/null || skip "needs gcc"
	printf 'int main(void) { return 0; }\n' >"$T/nodw.c"
	gcc -O1 "$T/nodw.c" -o "$T/nodw" || fail "gcc failed"
	"$UKCOV" sites --sites line "$T/nodw" >"$T/out" 2>"$T/err" && fail "ukcov sites succeeded"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "expected one line, got: $(cat "$T/err")"
	grep -q 'no DWARF line table (build with -g, or use --sites func)' "$T/err" ||
		fail "unclear message: $(cat "$T/err")"
	"$UKCOV" run --sites line -o "$T/cov" -- "$T/nodw" >"$T/out" 2>"$T/err" &&
		fail "ukcov run succeeded"
	grep -q 'no DWARF line table' "$T/err" || fail "unclear message: $(cat "$T/err")"
	return 0
}
