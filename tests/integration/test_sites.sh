# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ukcov sites: the PC <-> function table, against the ELF itself (readelf)
# and against what `ukcov run` reports.

test_sites_dense_and_complete()
{
	local i pc want fn n

	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	# Dense from the base, in order, one site per function.
	i=0
	while read -r pc fn; do
		want=$(printf '0x%016x' $((PC_BASE + i)))
		[ "$pc" = "$want" ] || fail "site $i ($fn) has PC $pc, expected $want"
		i=$((i + 1))
	done <"$T/sites"
	n=$(awk '{ print $2 }' "$T/sites" | sort | uniq -d)
	[ -z "$n" ] || fail "functions listed twice: $n"
	for fn in f_0 f_1 f_2 f_3 f_4 f_5 f_6 f_7 main worker tally_write; do
		grep -q " $fn\$" "$T/sites" || fail "$fn is not a site"
	done
	# Nothing but the fixture's functions and the C runtime.
	awk -v ok="f_0 f_1 f_2 f_3 f_4 f_5 f_6 f_7 main worker tally_write $RUNTIME_FUNCS" '
		BEGIN { n = split(ok, o, /[ \t\n]+/); for (i = 1; i <= n; i++) k[o[i]] = 1 }
		!($2 in k) { printf "%s ", $2 }' "$T/sites" >"$T/extra"
	[ -s "$T/extra" ] && fail "unexpected sites: $(cat "$T/extra")"
	return 0
}

test_sites_offsets_and_lines()
{
	local line mainline

	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	# File offsets of the fixture's functions from its symbol table and
	# executable PT_LOAD segments: an independent view of MODULE 0xOFFSET.
	readelf -lW "$FIXTURES/tally" >"$T/phdrs" && readelf -sW "$FIXTURES/tally" >"$T/syms" ||
		fail "readelf failed"
	perl -e '
		use strict; use warnings;
		my ($phdrs, $syms, $sites, $mod) = @ARGV;
		my (@load, %want, %seen, @err);
		open(my $p, "<", $phdrs) or die; open(my $s, "<", $syms) or die;
		open(my $t, "<", $sites) or die;
		while (<$p>) {
			push @load, [hex $2, hex $1, hex $3]
				if /^\s*LOAD\s+(0x\S+)\s+(0x\S+)\s+\S+\s+(0x\S+)\s+\S+\s+[R ]?[W ]?E/;
		}
		die "no executable PT_LOAD\n" unless @load;
		while (<$s>) {
			next unless /^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+FUNC\s.*\s(f_\d|main|worker|tally_write)$/;
			my $va = hex $1;
			for (@load) {
				$want{$2} = $va - $_->[0] + $_->[1]
					if $va >= $_->[0] && $va < $_->[0] + $_->[2];
			}
		}
		die scalar(keys %want) . " fixture functions in readelf -s\n" unless keys %want == 11;
		while (<$t>) {
			next if /^#/ || !/\S/;
			my (undef, $m, $off, $fn) = split;
			next unless exists $want{$fn};
			$seen{$fn} = 1;
			push @err, sprintf("%s: offset %s, the ELF says 0x%x", $fn, $off, $want{$fn})
				if hex($off) != $want{$fn};
			push @err, "$fn: module $m" if $m ne $mod;
		}
		push @err, "$_ not listed" for grep { !$seen{$_} } sort keys %want;
		die join("; ", @err), "\n" if @err;
	' "$T/phdrs" "$T/syms" "$T/sites.full" "$FIXTURES/tally" 2>"$T/errs" || fail "$(cat "$T/errs")"

	# main's FILE:LINE is where the fixture's source defines it: the line
	# of its declarator or that of its opening brace (the line table's
	# line for the entry address), both are fair.
	mainline=$(grep -n '^int main' "$UKT_SRC/tally.c" | cut -d: -f1)
	[ "$(sed -n "$((mainline + 1))p" "$UKT_SRC/tally.c")" = "{" ] ||
		fail "cannot find main's brace in $UKT_SRC/tally.c"
	line=$(awk '!/^#/ && $4 == "main" { print $5 }' "$T/sites.full")
	case $line in
	*/tally.c:"$mainline"|tally.c:"$mainline") ;;
	*/tally.c:"$((mainline + 1))"|tally.c:"$((mainline + 1))") ;;
	*) fail "main is at '$line', the source says tally.c:$mainline" ;;
	esac
	line=$(awk '!/^#/ && $4 == "f_3" { print $5 }' "$T/sites.full")
	case $line in
	*tally.h:*) ;;
	*) fail "f_3 is at '$line', expected tally.h" ;;
	esac
}

test_sites_agree_with_run()
{
	setup
	"$UKCOV" sites -o "$T/sites.full" "$FIXTURES/tally" 2>"$T/err" ||
		fail "ukcov sites -o exited $?: $(cat "$T/err")"
	"$UKCOV" run -o "$T/cov" -- "$FIXTURES/tally" -n 3 >/dev/null 2>"$T/err" ||
		fail "ukcov run exited $?: $(cat "$T/err")"
	# PC, MODULE+0xOFFSET, FUNCTION and FILE:LINE of every reported site
	# must be the site table's (offsets compared as numbers).
	perl -e '
		use strict; use warnings;
		my ($sites, $cov) = @ARGV; my (%site, @err, $n);
		open(my $s, "<", $sites) or die; open(my $c, "<", $cov) or die;
		while (<$s>) {
			next if /^#/ || !/\S/;
			my ($pc, $m, $off, $fn, $fl) = split;
			$site{lc $pc} = join(" ", $m, hex($off), $fn, $fl);
		}
		while (<$c>) {
			next if /^#/ || !/\S/;
			my ($pc, undef, $fn, $fl, $mo) = split;
			my ($m, $off) = $mo =~ /^(.*)\+(0x[0-9a-fA-F]+)$/ or push(@err, "bad MODULE+0xOFFSET $mo"), next;
			my $got = join(" ", $m, hex($off), $fn, $fl);
			$n++;
			push @err, "$pc: report \"$got\", sites \"" . ($site{lc $pc} // "none") . "\""
				unless ($site{lc $pc} // "") eq $got;
		}
		push @err, "only " . ($n // 0) . " reported sites" if ($n // 0) < 9;
		die join("; ", @err[0 .. ($#err < 3 ? $#err : 3)]), "\n" if @err;
	' "$T/sites.full" "$T/cov" 2>"$T/errs" || fail "$(cat "$T/errs")"
	return 0
}
