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

# gcov_vs_ukcov OPT: builds lines_cov.c with -OPT -g --coverage, runs it
# ONCE under `ukcov run --sites line` - that one execution is what both gcov
# (from the .gcda it writes) and ukcov count, on the same machine code -
# and leaves in $T/cmp.OPT one line per source line that has code for gcov
# and at least one line site for ukcov:
#   LINE GCOV_COUNT UKCOV_COUNT
# where UKCOV_COUNT is the largest count among the line's sites (a line's
# code can sit at several addresses: the largest is how often the line
# ran when every path through it passes one of them).  Also leaves the
# gcov lines with no site in $T/nosite.OPT.
gcov_vs_ukcov()
{
	local opt=$1 d=$T/$1

	command -v gcc >/dev/null && command -v gcov >/dev/null || skip "needs gcc and gcov"
	mkdir -p "$d/cov" || fail "mkdir failed"
	cp "$UKT_SRC/lines_cov.c" "$d/cov/" || fail "cp failed"
	(cd "$d/cov" && gcc -"$opt" -g --coverage -c lines_cov.c -o lines_cov.o &&
		gcc --coverage lines_cov.o -o prog) || fail "--coverage build failed"
	"$UKCOV" sites --sites line -o "$d/sites" "$d/cov/prog" 2>"$d/err" ||
		fail "ukcov sites --sites line failed: $(cat "$d/err")"
	(cd "$d/cov" && "$UKCOV" run --sites line -f text -o "$d/ukcov" -- ./prog >/dev/null 2>"$d/err") ||
		fail "ukcov run --sites line exited $?: $(cat "$d/err")"
	(cd "$d/cov" && gcov -t -o . lines_cov.c >gcov.txt 2>gcov.err) ||
		fail "gcov failed: $(cat "$d/cov/gcov.err" 2>/dev/null)"
	check_summary "$d/ukcov"
	{
		# gcov -t: "COUNT:LINE:SOURCE", COUNT "-" for no code, "#####"
		# for never run, a trailing "*" when some block did not run.
		awk -F: '/^ *-: *0:Source:/ { src = $4; next }
			src ~ /lines_cov\.c$/ {
				c = $1; gsub(/ /, "", c); l = $2 + 0
				if (l > 0 && c != "-") {
					if (c ~ /#/) c = 0
					sub(/\*$/, "", c); print "G", l, c + 0
				}
			}' "$d/cov/gcov.txt"
		awk '!/^#/ && NF { n = split($5, a, ":")
			if (a[1] ~ /lines_cov\.c$/) print "S", a[n] }' "$d/sites"
		awk '!/^#/ && NF { n = split($4, a, ":")
			if (a[1] ~ /lines_cov\.c$/) print "U", a[n], $2 }' "$d/ukcov"
	} >"$d/all"
	grep -q '^G ' "$d/all" || fail "gcov reported no line of lines_cov.c"
	awk -v cmp="$T/cmp.$opt" -v nosite="$T/nosite.$opt" '
		$1 == "G" { g[$2] = $3 } $1 == "S" { s[$2] = 1 }
		$1 == "U" { if ($3 > u[$2]) u[$2] = $3 }
		END {
			for (l in g) {
				if (l in s) print l, g[l], u[l] + 0 > cmp
				else print l, g[l] > nosite
			}
		}' "$d/all"
	touch "$T/cmp.$opt" "$T/nosite.$opt"
	sort -n -o "$T/cmp.$opt" "$T/cmp.$opt"
}

# agreement FILE: "SAME_SET SAME_COUNT TOTAL" over the lines of FILE.
agreement()
{
	awk '{ n++; if (($2 > 0) == ($3 > 0)) s++; if ($2 == $3) c++ }
		END { print s + 0, c + 0, n + 0 }' "$1"
}

# At -O0 every line gcov counts has line sites, the executed lines are the
# same, and so are the counts (measured: 43 of 43 lines agree).
test_lines_match_gcov_O0()
{
	local same count total

	setup
	gcov_vs_ukcov O0
	[ -s "$T/nosite.O0" ] && fail "lines gcov counts without a line site: $(tr '\n' ' ' <"$T/nosite.O0")"
	read -r same count total < <(agreement "$T/cmp.O0")
	echo "-O0: $total lines, executed set agrees on $same, count on $count"
	[ "$total" -ge 30 ] || fail "only $total lines compared"
	[ "$same" -eq "$total" ] ||
		fail "executed lines differ from gcov: $(awk '($2 > 0) != ($3 > 0) { printf "%s(gcov %s ukcov %s) ", $1, $2, $3 }' "$T/cmp.O0")"
	[ $((count * 100)) -ge $((total * 95)) ] ||
		fail "counts agree on $count of $total lines: $(awk '$2 != $3 { printf "%s(gcov %s ukcov %s) ", $1, $2, $3 }' "$T/cmp.O0")"
}

# At -O2 a line's code is scattered: a loop's back edge can land in the
# middle of a line's code, past its only is_stmt row, so that row runs
# fewer times than gcov's block counter for the line, and a line whose only
# is_stmt row is on a path not taken is not seen.  Measured on one
# execution of the -O2 --coverage build: the executed set agrees on 30 of
# 31 lines, counts on 24 of 31 (on a separate plain -O2 build: 31 of 32
# and 18 of 32).
test_lines_match_gcov_O2()
{
	local same count total

	setup
	gcov_vs_ukcov O2
	read -r same count total < <(agreement "$T/cmp.O2")
	echo "-O2: $total lines, executed set agrees on $same, count on $count;" \
		"$(wc -l <"$T/nosite.O2") gcov lines have no site (folded away)"
	[ "$total" -ge 20 ] || fail "only $total lines compared"
	[ $((same * 100)) -ge $((total * 90)) ] ||
		fail "executed set agrees on $same of $total lines: $(awk '($2 > 0) != ($3 > 0) { printf "%s(gcov %s ukcov %s) ", $1, $2, $3 }' "$T/cmp.O2")"
	[ $((count * 100)) -ge $((total * 70)) ] ||
		fail "counts agree on $count of $total lines: $(awk '$2 != $3 { printf "%s(gcov %s ukcov %s) ", $1, $2, $3 }' "$T/cmp.O2")"
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
