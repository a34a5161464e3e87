# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ukcov run --save-sites + ukcov report: a kcov stream recorded now turns
# into a report later, without the target or privileges, and only with
# the site table it was recorded against.

MAGIC=0x006469766f636b75

# kcov_counts FILE...: "PC COUNT" for every PC in the streams, COUNT being
# the number of coverage records naming it, summed over the files; the
# table-id records (n = 2, first word MAGIC) are left out.  Written from
# include/ukcov/kcov.h, independently of ukcov's reader.
kcov_counts()
{
	perl -e '
		use strict; use warnings;
		my $magic = hex(shift @ARGV);
		my %c;
		for my $file (@ARGV) {
			open(my $fh, "<:raw", $file) or die "open $file: $!\n";
			local $/; my $d = <$fh> // ""; my $off = 0;
			while ($off < length($d)) {
				my $n = unpack("Q<", substr($d, $off, 8));
				my @w = unpack("Q<$n", substr($d, $off + 8, 8 * $n));
				$off += 8 * ($n + 1);
				next if $n == 2 && $w[0] == $magic;
				$c{$_}++ for @w;
			}
		}
		printf("0x%016x %d\n", $_, $c{$_}) for sort { $a <=> $b } keys %c;
	' "$MAGIC" "$@"
}

# table_id_of_stream FILE: the id of the stream's leading table-id record,
# or nothing when it has none.
table_id_of_stream()
{
	perl -e '
		open(my $fh, "<:raw", $ARGV[1]) or die; local $/; my $d = <$fh> // "";
		exit 0 if length($d) < 24;
		my ($n, $m, $id) = unpack("Q<3", $d);
		printf("%016x\n", $id) if $n == 2 && $m == hex($ARGV[0]);
	' "$MAGIC" "$1"
}

# record ARGS...: ukcov run -f kcov with --save-sites of the tally fixture
# into $T/$NAME.kcov and $T/$NAME.sites (and $T/$NAME.txt, the run's own
# text report).  NAME defaults to "a".
record()
{
	local name=${NAME:-a}

	TALLY_OUT=$T/$name.tally "$UKCOV" run --interval 10ms -o "$T/$name.kcov" -f kcov \
		--save-sites "$T/$name.sites" -- "${BIN:-$FIXTURES/tally}" "$@" \
		>/dev/null 2>"$T/$name.err" || fail "ukcov run exited $?: $(cat "$T/$name.err")"
	[ -s "$T/$name.sites" ] || fail "no sites file"
}

# "PC FUNCTION" of a text report's data lines, sorted.
pcs_functions()
{
	report_data "$1" | awk '{ print $1, $3 }' | sort
}

test_report_matches_run()
{
	local id

	setup
	# The run's own text report alongside the kcov stream (formats by
	# extension): the truth the report is held to.
	TALLY_OUT=$T/a.tally "$UKCOV" run --interval 10ms -o "$T/a.kcov" -o "$T/a.txt" \
		--save-sites "$T/a.sites" -- "$FIXTURES/tally" -t 2 -n 20 -w 20000 \
		>/dev/null 2>"$T/err" || fail "ukcov run exited $?: $(cat "$T/err")"
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/r.txt" "$T/a.kcov" 2>"$T/rerr" ||
		fail "ukcov report exited $?: $(cat "$T/rerr")"
	[ -s "$T/rerr" ] && fail "report complained: $(cat "$T/rerr")"

	# The same sites ran, under the same PCs and names.
	pcs_functions "$T/a.txt" >"$T/want"
	pcs_functions "$T/r.txt" >"$T/got"
	[ -s "$T/want" ] || fail "the run's report is empty"
	cmp -s "$T/want" "$T/got" || fail "report and run differ: $(diff "$T/want" "$T/got" | tr '\n' ' ')"

	# Each count is the number of records naming the PC.
	kcov_counts "$T/a.kcov" >"$T/counts"
	report_data "$T/r.txt" | awk '{ print $1, $2 }' | sort >"$T/rcounts"
	cmp -s "$T/counts" "$T/rcounts" ||
		fail "counts are not drains-with-hits: $(diff "$T/counts" "$T/rcounts" | head -5 | tr '\n' ' ')"
	grep -q 'drains-with-hits' "$T/r.txt" || fail "the header does not say what counts mean"
	check_summary "$T/r.txt"

	# The stream starts with the sites file's table-id.
	id=$(table_id_of_stream "$T/a.kcov")
	[ -n "$id" ] || fail "the stream has no table-id record"
	grep -qx "table-id $id" "$T/a.sites" || fail "stream id $id is not the sites file's"
}

# The sites file says what `ukcov sites` says: PC, offset and function.
test_report_sites_file_agrees_with_sites()
{
	setup
	record -n 1
	sites_map "$FIXTURES/tally" "$T/map"
	# Both list sites in PC order: line by line, the same offset and name.
	awk '!/^#/ && NF { print $3, $4 }' "$T/map.full" >"$T/from_sites"
	awk '$1 == "site" { print $5, $11 }' "$T/a.sites" >"$T/from_file"
	cmp -s "$T/from_sites" "$T/from_file" ||
		fail "sites file and ukcov sites differ: $(diff "$T/from_sites" "$T/from_file" | head -5 | tr '\n' ' ')"
	[ "$(awk '$1 == "site"' "$T/a.sites" | wc -l)" -eq "$(wc -l <"$T/map")" ] ||
		fail "site counts differ"
	head -n 1 "$T/a.sites" | grep -qx 'ukcov-sites 2' || fail "bad first line: $(head -n 1 "$T/a.sites")"
}

test_report_merges_streams()
{
	setup
	NAME=a record -n 5
	NAME=b record -t 3 -n 2 -w 15000
	# Same binary, same table: the files are identical.
	cmp -s "$T/a.sites" "$T/b.sites" || fail "two runs of one binary saved different tables"
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/r.txt" "$T/a.kcov" "$T/b.kcov" \
		2>"$T/rerr" || fail "ukcov report exited $?: $(cat "$T/rerr")"
	kcov_counts "$T/a.kcov" "$T/b.kcov" >"$T/counts"
	report_data "$T/r.txt" | awk '{ print $1, $2 }' | sort >"$T/rcounts"
	cmp -s "$T/counts" "$T/rcounts" ||
		fail "merged counts differ: $(diff "$T/counts" "$T/rcounts" | head -5 | tr '\n' ' ')"
	check_summary "$T/r.txt"
	# Every count is at least 2 for what ran in both.
	report_data "$T/r.txt" | awk '$3 == "f_0" && $2 < 2 { exit 1 }' ||
		fail "f_0 ran in both runs but counts < 2"

	# Concatenated on stdin: the same report.
	cat "$T/a.kcov" "$T/b.kcov" |
		"$UKCOV" report --sites-file "$T/a.sites" -o "$T/s.txt" - 2>"$T/serr" ||
		fail "report from stdin exited $?: $(cat "$T/serr")"
	diff <(report_data "$T/r.txt") <(report_data "$T/s.txt") >/dev/null ||
		fail "stdin report differs from the two-file report"

	# A kcov output of the report is the two streams, paired with the table.
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/r.kcov" "$T/a.kcov" "$T/b.kcov" ||
		fail "report to kcov failed"
	kcov_counts "$T/r.kcov" | cmp -s - "$T/counts" || fail "kcov re-output lost records"
	[ "$(table_id_of_stream "$T/r.kcov")" = "$(table_id_of_stream "$T/a.kcov")" ] ||
		fail "kcov re-output is not paired with the table"
}

test_report_every_format()
{
	local fmt n=0

	setup
	record -n 3
	for fmt in $("$UKCOV" report --help | awk '/^Formats:/ { on = 1; next } on && NF == 0 { on = 0 } on { print $1 }'); do
		n=$((n + 1))
		"$UKCOV" report --sites-file "$T/a.sites" -f "$fmt" -o "$T/out.$fmt" "$T/a.kcov" \
			2>"$T/err" || fail "report -f $fmt exited $?: $(cat "$T/err")"
		[ -s "$T/out.$fmt" ] || fail "report -f $fmt wrote nothing"
	done
	[ "$n" -ge 2 ] || fail "report --help lists $n formats"
}

test_report_refuses_foreign_stream()
{
	setup
	record -n 2
	BIN=$FIXTURES/lockfirst NAME=other record 3
	grep -qx "$(grep '^table-id ' "$T/a.sites")" "$T/other.sites" &&
		fail "two binaries share a table-id"
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/r.txt" "$T/a.kcov" "$T/other.kcov" \
		>"$T/out" 2>"$T/err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "foreign stream: exit $RC, want 1: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "want one line: $(cat "$T/err")"
	grep -q 'another site table' "$T/err" || fail "unclear message: $(cat "$T/err")"
	grep -q "other.kcov" "$T/err" || fail "message does not name the stream: $(cat "$T/err")"
	[ -e "$T/r.txt" ] && fail "a report was written from a refused stream"
	[ -s "$T/out" ] && fail "wrote to stdout: $(head -c 200 "$T/out")"
	return 0
}

test_report_stream_without_table_id()
{
	local n

	setup
	record -n 2
	# The same binary recorded without --save-sites: accepted, with a warning.
	"$UKCOV" run -f kcov -o "$T/plain.kcov" -- "$FIXTURES/tally" -n 2 >/dev/null 2>"$T/err" ||
		fail "plain run failed: $(cat "$T/err")"
	[ -z "$(table_id_of_stream "$T/plain.kcov")" ] || fail "a run without --save-sites wrote a table-id"
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/r.txt" "$T/plain.kcov" 2>"$T/err" ||
		fail "report of an unpaired stream exited $?: $(cat "$T/err")"
	grep -q '^ukcov: warning: .*no table-id record' "$T/err" || fail "no warning: $(cat "$T/err")"
	kcov_counts "$T/plain.kcov" | cmp -s - <(report_data "$T/r.txt" | awk '{ print $1, $2 }' | sort) ||
		fail "unpaired stream misread"

	# A PC beyond the table (here: one past its last site) is refused.
	n=$(sed -n 's/^nsites //p' "$T/a.sites")
	perl -e 'print pack("Q<2", 1, 0xffffffff80000000 + $ARGV[0])' "$n" >"$T/beyond.kcov"
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/b.txt" "$T/beyond.kcov" 2>"$T/err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "PC beyond the table: exit $RC: $(cat "$T/err")"
	grep -q 'outside the site table' "$T/err" || fail "unclear message: $(cat "$T/err")"
	grep -q 'byte 8' "$T/err" || fail "message lacks the offset: $(cat "$T/err")"
	[ -e "$T/b.txt" ] && fail "a report was written from a corrupt stream"
	return 0
}

test_report_bad_sites_file()
{
	setup
	record -n 1
	# Another offset for site 2: the table-id (line 6) no longer matches.
	awk '$1 == "site" && $2 == 2 { $5 = "0x1" } { print }' "$T/a.sites" >"$T/edited.sites"
	"$UKCOV" report --sites-file "$T/edited.sites" -o "$T/r.txt" "$T/a.kcov" 2>"$T/err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "edited sites file: exit $RC: $(cat "$T/err")"
	grep -q "edited.sites:6: table-id does not match" "$T/err" || fail "unclear message: $(cat "$T/err")"
	head -c 100 "$T/a.sites" >"$T/short.sites"
	"$UKCOV" report --sites-file "$T/short.sites" "$T/a.kcov" >/dev/null 2>"$T/err"
	[ $? -eq 1 ] || fail "truncated sites file accepted"
	grep -Eq 'short.sites:[0-9]+: ' "$T/err" || fail "no line number: $(cat "$T/err")"
	"$UKCOV" report --sites-file "$FIXTURES/tally" "$T/a.kcov" >/dev/null 2>"$T/err"
	[ $? -eq 1 ] || fail "an ELF accepted as a sites file"
	grep -q 'not a ukcov site table' "$T/err" || fail "unclear message: $(cat "$T/err")"
	return 0
}

test_report_usage()
{
	setup
	record -n 1
	"$UKCOV" report --help >"$T/help" || fail "--help exited $?"
	grep -q 'drains-with-hits' "$T/help" || fail "--help does not say what counts mean"
	"$UKCOV" report "$T/a.kcov" >/dev/null 2>&1
	[ $? -eq 2 ] || fail "no --sites-file: not a usage error"
	"$UKCOV" report --sites-file "$T/a.sites" >/dev/null 2>&1
	[ $? -eq 2 ] || fail "no stream: not a usage error"
	"$UKCOV" report --sites-file "$T/a.sites" - - </dev/null >/dev/null 2>&1
	[ $? -eq 2 ] || fail "stdin twice: not a usage error"
	"$UKCOV" report --sites-file "$T/a.sites" --bogus "$T/a.kcov" >/dev/null 2>&1
	[ $? -eq 2 ] || fail "unknown option: not a usage error"
	"$UKCOV" report --sites-file "$T/a.sites" --sites bb "$T/a.kcov" >/dev/null 2>"$T/err"
	[ $? -eq 1 ] || fail "--sites bb against a func table: not refused"
	grep -q 'holds func sites' "$T/err" || fail "unclear message: $(cat "$T/err")"
	"$UKCOV" report --sites-file "$T/a.sites" --sites func -o "$T/ok.txt" "$T/a.kcov" ||
		fail "--sites func against a func table refused"
	"$UKCOV" report --sites-file "$T/a.sites" "$T/missing.kcov" >/dev/null 2>&1
	[ $? -eq 1 ] || fail "a missing stream: not a failure"
	# --save-sites is checked with the outputs, before the target runs.
	ln -s "$T/elsewhere" "$T/link.sites"
	TALLY_OUT=$T/x.tally "$UKCOV" run -f kcov -o "$T/x.kcov" --save-sites "$T/link.sites" \
		-- "$FIXTURES/tally" -n 1 >/dev/null 2>"$T/err"
	[ $? -eq 125 ] || fail "--save-sites over a symlink: not refused"
	grep -q 'symlink' "$T/err" || fail "unclear message: $(cat "$T/err")"
	[ -e "$T/x.tally" ] && fail "the target ran though --save-sites was refused"
	[ -e "$T/elsewhere" ] && fail "followed the symlink"
	return 0
}

test_report_unprivileged()
{
	local np=(setpriv --reuid=65534 --regid=65534 --clear-groups)

	command -v setpriv >/dev/null || skip "setpriv is not installed"
	setup
	record -t 2 -n 4
	"$UKCOV" report --sites-file "$T/a.sites" -o "$T/root.txt" "$T/a.kcov" ||
		fail "report as root failed"
	chmod 755 "$T"
	mkdir "$T/bin" "$T/work"
	cp "$UKCOV" "$T/bin/ukcov"
	chmod -R a+rX "$T/bin"
	chmod a+r "$T/a.sites" "$T/a.kcov"
	chown 65534:65534 "$T/work"
	"${np[@]}" true 2>/dev/null || skip "setpriv cannot switch to uid 65534"
	"${np[@]}" sh -c "grep -q '^CapEff:[[:space:]]*0*\$' /proc/self/status" ||
		fail "setpriv kept capabilities"
	(cd "$T/work" && "${np[@]}" "$T/bin/ukcov" report --sites-file "$T/a.sites" \
		-o nobody.txt -o nobody.kcov "$T/a.kcov") 2>"$T/err" ||
		fail "report as nobody exited $?: $(cat "$T/err")"
	cmp -s "$T/root.txt" "$T/work/nobody.txt" || fail "nobody's report differs from root's"
	[ "$(stat -c %u "$T/work/nobody.txt")" -eq 65534 ] || fail "report not written by nobody"
}
