# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The report formats from a real run: lcov (read back by lcov and genhtml),
# Cobertura (validated by xmllint against coverage-04.dtd) and drcov (read
# back by drcov_read.pl).  The truth they are held to: the site listing of
# `ukcov sites`, the text report of the same run, the fixture's own tally,
# and the ELF itself (readelf, nm).

# reports_run KIND BINARY [TALLY-OPTIONS]: one `ukcov run` writing every
# format at once (formats by extension) plus the site listing; files in $T.
reports_run()
{
	local kind=$1 bin=$2

	shift 2
	"$UKCOV" sites --sites "$kind" "$bin" >"$T/sites" 2>"$T/sites.err" ||
		fail "ukcov sites --sites $kind failed: $(cat "$T/sites.err")"
	TALLY_OUT=$T/tally "$UKCOV" run --sites "$kind" -o "$T/cov.txt" -o "$T/cov.info" \
		-o "$T/cov.xml" ${REPORTS_DRCOV:+-o "$T/cov.drcov"} -- "$bin" "$@" \
		>"$T/run.out" 2>"$T/run.err" ||
		fail "ukcov run --sites $kind exited $?: $(cat "$T/run.err")"
	for f in cov.txt cov.info cov.xml ${REPORTS_DRCOV:+cov.drcov}; do
		[ -s "$T/$f" ] || fail "$f is missing or empty"
	done
}

# Skips unless `ukcov sites --sites KIND` works on the fixture.
need_kind()
{
	"$UKCOV" sites --sites "$1" "$FIXTURES/tally" >/dev/null 2>"$T/kind.err" ||
		skip "--sites $1 is not available yet: $(head -n 1 "$T/kind.err")"
}

# expected_figures: "LH LF FH FF" from the site listing and the text
# report: lines are the distinct FILE:LINE of sites with a file, hit when
# any of their sites ran; functions the distinct (FILE, FUNCTION), hit when
# any of their sites ran.
expected_figures()
{
	report_data "$T/cov.txt" >"$T/hits"
	awk '
		FILENAME == ARGV[1] { hit[$1] = 1; next }
		/^#/ || !NF { next }
		{
			pc = tolower($1); fn = $4; fl = $5
			line = fl; sub(/.*:/, "", line)
			file = substr(fl, 1, length(fl) - length(line) - 1)
			if (file == "??" || line == 0)
				next
			if (!((file, line) in L)) { L[file, line] = 1; lf++ }
			if (pc in hit && !((file, line) in LH)) { LH[file, line] = 1; lh++ }
			if (!((file, fn) in F)) { F[file, fn] = 1; ff++ }
			if (pc in hit && !((file, fn) in FH)) { FH[file, fn] = 1; fh++ }
		}
		END { print lh + 0, lf + 0, fh + 0, ff + 0 }' "$T/hits" "$T/sites"
}

# check_lcov: lcov --summary reads the tracefile and agrees with
# expected_figures (or $WANT_FIGURES); genhtml renders it without a warning.
check_lcov()
{
	local want got lines funcs

	command -v lcov >/dev/null && command -v genhtml >/dev/null ||
		skip "lcov/genhtml are not installed (make deps)"
	want=${WANT_FIGURES:-$(expected_figures)}
	[ "$(cut -d' ' -f2 <<<"$want")" -gt 0 ] || fail "no site has a source file: nothing to compare"
	lcov --summary "$T/cov.info" >"$T/summary" 2>&1 ||
		fail "lcov --summary exited $?: $(tail -n 3 "$T/summary")"
	lines=$(sed -nE 's/^ *lines\.*: .*\(([0-9]+) of ([0-9]+) lines?\).*/\1 \2/p' "$T/summary")
	funcs=$(sed -nE 's/^ *functions\.*: .*\(([0-9]+) of ([0-9]+) functions?\).*/\1 \2/p' "$T/summary")
	got="$lines $funcs"
	[ "$got" = "$want" ] ||
		fail "lcov --summary says hit/found lines, functions: '$got'; expected '$want': $(cat "$T/summary")"
	grep -qx 'end_of_record' "$T/cov.info" || fail "no end_of_record in the tracefile"

	genhtml -o "$T/html" "$T/cov.info" >"$T/genhtml.out" 2>&1 ||
		fail "genhtml exited $?: $(tail -n 3 "$T/genhtml.out")"
	grep -i 'warning' "$T/genhtml.out" && fail "genhtml warned: $(grep -i warning "$T/genhtml.out" | head -n 3)"
	[ -s "$T/html/index.html" ] || fail "genhtml wrote no index.html"
	ls "$T"/html/*/tally.c.gcov.html >/dev/null 2>&1 ||
		fail "genhtml wrote no page for tally.c: $(ls "$T/html")"
}

# The element and attribute declarations of Cobertura's coverage-04.dtd.
write_dtd()
{
	cat >"$1" <<'DTD'
<!ELEMENT coverage (sources?,packages)>
<!ATTLIST coverage line-rate        CDATA #REQUIRED>
<!ATTLIST coverage branch-rate      CDATA #REQUIRED>
<!ATTLIST coverage lines-covered    CDATA #REQUIRED>
<!ATTLIST coverage lines-valid      CDATA #REQUIRED>
<!ATTLIST coverage branches-covered CDATA #REQUIRED>
<!ATTLIST coverage branches-valid   CDATA #REQUIRED>
<!ATTLIST coverage complexity       CDATA #REQUIRED>
<!ATTLIST coverage version          CDATA #REQUIRED>
<!ATTLIST coverage timestamp        CDATA #REQUIRED>
<!ELEMENT sources (source*)>
<!ELEMENT source (#PCDATA)>
<!ELEMENT packages (package*)>
<!ELEMENT package (classes)>
<!ATTLIST package name        CDATA #REQUIRED>
<!ATTLIST package line-rate   CDATA #REQUIRED>
<!ATTLIST package branch-rate CDATA #REQUIRED>
<!ATTLIST package complexity  CDATA #REQUIRED>
<!ELEMENT classes (class*)>
<!ELEMENT class (methods,lines)>
<!ATTLIST class name        CDATA #REQUIRED>
<!ATTLIST class filename    CDATA #REQUIRED>
<!ATTLIST class line-rate   CDATA #REQUIRED>
<!ATTLIST class branch-rate CDATA #REQUIRED>
<!ATTLIST class complexity  CDATA #REQUIRED>
<!ELEMENT methods (method*)>
<!ELEMENT method (lines)>
<!ATTLIST method name        CDATA #REQUIRED>
<!ATTLIST method signature   CDATA #REQUIRED>
<!ATTLIST method line-rate   CDATA #REQUIRED>
<!ATTLIST method branch-rate CDATA #REQUIRED>
<!ATTLIST method complexity  CDATA #REQUIRED>
<!ELEMENT lines (line*)>
<!ELEMENT line (conditions*)>
<!ATTLIST line number CDATA #REQUIRED>
<!ATTLIST line hits   CDATA #REQUIRED>
<!ATTLIST line branch CDATA "false">
<!ATTLIST line condition-coverage CDATA "100%">
<!ELEMENT conditions (condition*)>
<!ELEMENT condition EMPTY>
<!ATTLIST condition number CDATA #REQUIRED>
<!ATTLIST condition type CDATA #REQUIRED>
<!ATTLIST condition coverage CDATA #REQUIRED>
DTD
}

# check_cobertura: valid against the DTD; its totals are expected_figures'.
check_cobertura()
{
	local want covered valid

	command -v xmllint >/dev/null || skip "xmllint is not installed (make deps: libxml2-utils)"
	write_dtd "$T/coverage-04.dtd"
	xmllint --noout --nonet --dtdvalid "$T/coverage-04.dtd" "$T/cov.xml" 2>"$T/xmllint.err" ||
		fail "cov.xml is not valid Cobertura: $(head -n 3 "$T/xmllint.err")"
	want=${WANT_FIGURES:-$(expected_figures)}
	covered=$(xmllint --xpath 'string(/coverage/@lines-covered)' "$T/cov.xml")
	valid=$(xmllint --xpath 'string(/coverage/@lines-valid)' "$T/cov.xml")
	[ "$covered $valid" = "$(cut -d' ' -f1-2 <<<"$want")" ] ||
		fail "cobertura lines covered/valid '$covered $valid', expected '${want% * *}'"
	# Every class's file is a source file the sites name, relative to "/".
	xmllint --xpath '//class/@filename' "$T/cov.xml" | grep -o 'filename="[^"]*"' |
		sed -E 's/filename="(.*)"/\/\1/' | sort -u >"$T/xml.files"
	if [ -n "${WANT_FILES:-}" ]; then
		sort -u "$WANT_FILES" >"$T/site.files"
	else
		awk '!/^#/ && NF { f = $5; sub(/:[0-9]+$/, "", f); if (f != "??") print f }' "$T/sites" |
			sort -u >"$T/site.files"
	fi
	cmp -s "$T/xml.files" "$T/site.files" ||
		fail "cobertura files differ from the sites' files: $(diff "$T/xml.files" "$T/site.files" | tr '\n' ' ')"
}

# expected_bbs BINARY: "bb PATH 0xRVA SIZE" for each site in the text report,
# from the ELF: the RVA is the offset's vaddr (through the PT_LOADs) minus
# the lowest PT_LOAD's page; SIZE is nm's symbol size (function sites),
# clamped to 65535.  With NOSIZE set, SIZE is left out.
expected_bbs()
{
	readelf -lW "$1" | awk '$1 == "LOAD" { print $2, $3, $5 }' >"$T/loads"
	nm -S --defined-only "$1" | awk 'NF == 4 { print $4, $2 }' >"$T/sizes"
	awk '!/^#/ && NF { print $3, $5 }' "$T/cov.txt" >"$T/located"
	perl -e '
			use strict; use warnings;
			my ($loads, $sizes, $nosize) = @ARGV;
			my (@seg, %size, $base);
			open(my $l, "<", $loads) or die; while (<$l>) {
				my ($off, $va, $fsz) = map { hex } split;
				push @seg, [$off, $va, $fsz];
				$base = $va if !defined $base || $va < $base;
			}
			$base &= ~0xfff;
			open(my $s, "<", $sizes) or die; while (<$s>) {
				my ($n, $sz) = split; $size{$n} = hex($sz);
			}
			while (<STDIN>) {
				my ($fn, $loc) = split;
				my ($path, $off) = $loc =~ /^(.*)\+0x([0-9a-f]+)$/ or die "bad location $loc\n";
				$off = hex($off);
				my ($sg) = grep { $off >= $_->[0] && $off < $_->[0] + $_->[2] } @seg;
				die "offset $off of $fn is in no PT_LOAD\n" unless $sg;
				my $rva = $off - $sg->[0] + $sg->[1] - $base;
				if ($nosize) {
					printf("bb %s 0x%x\n", $path, $rva);
				} else {
					die "nm has no size for $fn\n" unless exists $size{$fn};
					my $sz = $size{$fn} > 65535 ? 65535 : $size{$fn};
					printf("bb %s 0x%x %d\n", $path, $rva, $sz);
				}
			}' "$T/loads" "$T/sizes" "${NOSIZE:-}" <"$T/located" >"$T/bbs.unsorted" &&
		sort "$T/bbs.unsorted"
}

# check_drcov BINARY: the log parses; its one module is BINARY with base =
# the image base; its blocks are the text report's sites.
check_drcov()
{
	local base

	perl "$(dirname "$UKT_LIB")/drcov_read.pl" "$T/cov.drcov" >"$T/drcov.parsed" 2>"$T/drcov.err" ||
		fail "drcov log does not parse: $(cat "$T/drcov.err")"
	base=$(readelf -lW "$1" | awk '$1 == "LOAD" { print $3 }' | sort | head -n 1)
	base=$(printf '0x%x' $(( base & ~0xfff )))
	grep -qx "module 0 $base 0x[0-9a-f]* $1" "$T/drcov.parsed" ||
		fail "no 'module 0 $base ... $1' line: $(grep ^module "$T/drcov.parsed")"
	[ "$(grep -c ^module "$T/drcov.parsed")" -eq 1 ] || fail "more than one module"
	expected_bbs "$1" >"$T/bbs.want" 2>"$T/bbs.err" ||
		fail "could not compute the expected blocks: $(cat "$T/bbs.err")"
	[ -s "$T/bbs.want" ] || fail "the text report has no sites"
	if [ -n "${NOSIZE:-}" ]; then
		grep ^bb "$T/drcov.parsed" | awk '{ print $1, $2, $3 }' | sort >"$T/bbs.got"
		grep ^bb "$T/drcov.parsed" | awk '$4 == 0 { exit 1 }' || fail "a block of size 0"
	else
		grep ^bb "$T/drcov.parsed" | sort >"$T/bbs.got"
	fi
	cmp -s "$T/bbs.got" "$T/bbs.want" ||
		fail "drcov blocks differ from the text report (< drcov, > expected): $(diff "$T/bbs.got" "$T/bbs.want" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
}

# check_fnda_tally N: each f_i's FNDA is the fixture's own tally ((i+1)*N).
check_fnda_tally()
{
	grep -qx "f_5 $((6 * $1))" "$T/tally" || fail "fixture tally is off: $(cat "$T/tally")"
	awk -F'[:,]' '$1 == "FNDA" { print $3, $2 }' "$T/cov.info" | sort >"$T/fnda"
	grep -E '^f_[0-7] ' "$T/tally" | sort >"$T/want"
	join "$T/want" "$T/fnda" | awk '$2 != $3 { bad = bad $1 ": tally " $2 ", lcov " $3 "; " }
		END { if (bad) { print bad; exit 1 } }' >"$T/diff" || fail "$(cat "$T/diff")"
	[ "$(join "$T/want" "$T/fnda" | wc -l)" -eq 8 ] ||
		fail "f_0..f_7 are not all in the tracefile: $(cat "$T/fnda")"
	# FN puts each f_i at the line its entry site has in the listing.
	awk -F'[:,]' '$1 == "FN" && $3 ~ /^f_[0-7]$/ { print $3, $2 }' "$T/cov.info" | sort >"$T/fn"
	awk '$4 ~ /^f_[0-7]$/ && !($4 in seen) { seen[$4] = 1; l = $5; sub(/.*:/, "", l); print $4, l }' \
		"$T/sites" | sort >"$T/fn.want"
	cmp -s "$T/fn" "$T/fn.want" ||
		fail "FN lines differ from the sites' lines: $(diff "$T/fn" "$T/fn.want" | grep '^[<>]' | tr '\n' ' ')"
}

test_reports_lcov_func()
{
	setup
	reports_run func "$FIXTURES/tally" -n 100
	check_lcov
	check_fnda_tally 100
}

test_reports_cobertura_func()
{
	setup
	reports_run func "$FIXTURES/tally" -n 10
	check_cobertura
	# Each f_i's method has the fixture's tally as its line's hits; its
	# class line has the largest tally of the functions on that line
	# (several when one line of a macro defines them).
	grep -qx 'f_5 60' "$T/tally" || fail "fixture tally is off: $(cat "$T/tally")"
	xpath_is 'string(//method[@name="f_6"]/@line-rate)' 0.0000
	xpath_is 'string(//method[@name="f_5"]/@line-rate)' 1.0000
	awk 'FILENAME == ARGV[1] { n[$1] = $2; next }
	     $4 ~ /^f_[0-7]$/ { l = $5; sub(/.*:/, "", l); print $4, n[$4], l }' \
		"$T/tally" "$T/sites" >"$T/fn.lines"
	[ "$(wc -l <"$T/fn.lines")" -eq 8 ] || fail "f_0..f_7 are not all sites: $(cat "$T/fn.lines")"
	while read -r fn count line; do
		xpath_is "string(//method[@name=\"$fn\"]/lines/line[@number=\"$line\"]/@hits)" "$count"
		xpath_is "string(//class[@name=\"tally.h\"]/lines/line[@number=\"$line\"]/@hits)" \
			"$(awk -v l="$line" '$3 == l && $2 > m { m = $2 } END { print m + 0 }' "$T/fn.lines")"
	done <"$T/fn.lines"
}

# xpath_is EXPR VALUE: EXPR over cov.xml gives VALUE.
xpath_is()
{
	local got

	got=$(xmllint --xpath "$1" "$T/cov.xml" 2>&1)
	[ "$got" = "$2" ] || fail "cobertura: $1 is '$got', expected '$2'"
}

test_reports_drcov_func()
{
	local bin

	setup
	for bin in "$FIXTURES/tally" "$FIXTURES/tally-nopie"; do
		REPORTS_DRCOV=1 reports_run func "$bin" -n 3
		check_drcov "$bin"
	done
	# The fixed-address executable's blocks are RVAs, not vaddrs.
	grep -q '^module 0 0x400000 ' "$T/drcov.parsed" ||
		fail "tally-nopie's image base is not 0x400000: $(grep ^module "$T/drcov.parsed")"
	grep -q '^bb .* 0x40[0-9a-f]\{4\} ' "$T/drcov.parsed" &&
		fail "a block start looks like a vaddr: $(grep ^bb "$T/drcov.parsed" | head -n 3)"
	return 0
}

# drcov cannot take line sites: refused before the target runs.
test_reports_drcov_refuses_line()
{
	setup
	TALLY_OUT=$T/tally "$UKCOV" run --sites line -o "$T/cov.drcov" -- "$FIXTURES/tally" -n 1 \
		>"$T/out" 2>"$T/err" && fail "ukcov run --sites line -o x.drcov succeeded"
	grep -q 'needs --sites bb or func' "$T/err" || fail "unclear message: $(cat "$T/err")"
	[ -e "$T/tally" ] && fail "the target ran although the options were refused"
	[ -e "$T/cov.drcov" ] && fail "a drcov file was written"
	return 0
}

test_reports_line_sites()
{
	setup
	need_kind line
	reports_run line "$FIXTURES/tally" -n 20
	check_lcov
	check_fnda_tally 20
	check_cobertura
}

# tracefile_figures INFO: "LH LF FH FF" summed over a tracefile's records.
tracefile_figures()
{
	awk -F: '$1 == "LH" { lh += $2 } $1 == "LF" { lf += $2 }
		$1 == "FNH" { fh += $2 } $1 == "FNF" { ff += $2 }
		END { print lh + 0, lf + 0, fh + 0, ff + 0 }' "$1"
}

# tracefile_lines INFO: "FILE:LINE COUNT" for every DA record, sorted.
tracefile_lines()
{
	awk -F'[:,]' '$1 == "SF" { f = substr($0, 4) } $1 == "DA" { print f ":" $2, $3 }' "$1" | sort
}

# A block counts on every line it holds a statement row of, as line sites
# on those rows would: every line of the line-sites tracefile is in the bb
# one with the same count.  tally's TALLY() is a lock-prefixed add, which
# the kernel refuses to probe: line sites on it are dropped, while its
# block is probed elsewhere, so bb has those lines too.  lcov and
# cobertura read the bb tracefile's own figures.
test_reports_bb_sites()
{
	setup
	need_kind bb
	need_kind line
	reports_run line "$FIXTURES/tally" -n 20
	tracefile_lines "$T/cov.info" >"$T/line.da"
	REPORTS_DRCOV=1 reports_run bb "$FIXTURES/tally" -n 20
	tracefile_lines "$T/cov.info" >"$T/bb.da"
	[ "$(wc -l <"$T/bb.da")" -gt "$(grep -c '^SF:' "$T/cov.info")" ] ||
		fail "bb lines are only the blocks' leaders: $(head -n 5 "$T/bb.da" | tr '\n' ' ')"
	comm -23 "$T/line.da" "$T/bb.da" >"$T/missing"
	[ -s "$T/missing" ] && fail "line-site counts that bb does not give: $(head -n 6 "$T/missing" | tr '\n' ' ')"
	sed -n 's/^SF://p' "$T/cov.info" >"$T/bb.files"
	WANT_FIGURES=$(tracefile_figures "$T/cov.info") check_lcov
	check_fnda_tally 20
	WANT_FIGURES=$(tracefile_figures "$T/cov.info") WANT_FILES=$T/bb.files check_cobertura
	NOSIZE=1 check_drcov "$FIXTURES/tally"
}

# `ukcov report` counts a block on its lines from the sites file alone: the
# same lines, and the same of them hit, as the run's own tracefile (its
# counts are drains with hits, not hits).
test_reports_bb_offline()
{
	setup
	need_kind bb
	TALLY_OUT=$T/tally "$UKCOV" run --sites bb -o "$T/cov.kcov" --save-sites "$T/sites.tab" \
		-o "$T/run.info" -- "$FIXTURES/tally" -n 3 >"$T/run.out" 2>"$T/run.err" ||
		fail "ukcov run exited $?: $(cat "$T/run.err")"
	grep -q '^rows ' "$T/sites.tab" || fail "the sites file has no rows"
	"$UKCOV" report --sites-file "$T/sites.tab" -o "$T/report.info" "$T/cov.kcov" \
		2>"$T/report.err" || fail "ukcov report exited $?: $(cat "$T/report.err")"
	tracefile_lines "$T/run.info" | awk '{ print $1, ($2 > 0) }' >"$T/run.da"
	tracefile_lines "$T/report.info" | awk '{ print $1, ($2 > 0) }' >"$T/report.da"
	[ "$(wc -l <"$T/run.da")" -gt 20 ] || fail "too few lines: $(cat "$T/run.da")"
	cmp -s "$T/run.da" "$T/report.da" ||
		fail "report's lines differ from the run's (< run, > report): $(diff "$T/run.da" "$T/report.da" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
}
