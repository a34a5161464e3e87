#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# gcov_compare.pl GCOV.JSON TRACEFILE BINARY TAGS LEVEL - holds ukcov's lcov
# tracefile of one run to gcov's counts of the same run (gcov
# --json-format, one JSON document per line, one per translation unit),
# line by line and function by function, on the rules below.  Files are
# compared by base name.  TAGS lists "FILE LINE" pairs: the lines the
# fixture tags as differing at -O2 (used only when LEVEL is O2).  Prints
# one summary line; exits 1 after printing every broken rule.
#
# The rules, each checked against the binary itself (objdump's decoded line
# table and nm's function ranges), not against ukcov:
#
#   G  gcov counts a line ukcov has no DA for: the line has no statement row
#      in any function (case labels, lines folded into others, the line
#      naming a function whose "{" is on the next one).
#   U  ukcov has a DA gcov has none for: a function's last line (its closing
#      brace: gcov's end_line) or its entry row's line (its "{"), or a line
#      of a function gcov does not know (the compiler's constructors).
#   P  a function whose entry row's line (its "{") is not its name's line
#      (gcov's start_line): the two lines' counts are equal.
#   C  a line both count: equal counts; at -O2, a tagged line counts fewer
#      for ukcov, never more (a tagged line that agrees is a stale tag: the
#      tags are exactly the lines that differ).
#   F  a function gcov knows and the binary has a symbol of: in the same
#      file, on the same line (FN: the line naming it, gcov's start_line),
#      with FNDA equal to gcov's execution count (summed over the
#      translation units).  Functions gcov knows that were inlined
#      everywhere (no symbol) are not in the tracefile; functions of
#      the tracefile gcov does not know are the compiler's own (_sub_I_,
#      _sub_D_).
use strict;
use warnings;
use JSON::PP;
use File::Basename;

my ($json, $info, $bin, $tags, $level) = @ARGV;
die "usage: gcov_compare.pl GCOV.JSON TRACEFILE BINARY TAGS LEVEL\n" unless defined $level;

my (%gl, %gfn, %tag, %ul, %ufn, %stmt, %syms, %entry, @funcs);
my @bad;

# gcov: lines and functions, summed over the translation units.
open(my $j, "<", $json) or die "$json: $!\n";
while (my $doc = <$j>) {
	next unless $doc =~ /\S/;
	my $d = decode_json($doc);
	for my $f (@{ $d->{files} }) {
		my $file = basename($f->{file});
		$gl{$file}{ $_->{line_number} } += $_->{count} for @{ $f->{lines} };
		for my $fn (@{ $f->{functions} }) {
			my $g = $gfn{ $fn->{name} } //= { file => $file, count => 0 };
			$g->{start} = $fn->{start_line};
			$g->{end} = $fn->{end_line};
			$g->{count} += $fn->{execution_count};
		}
	}
}

# ukcov: DA and FN/FNDA per file.
open(my $t, "<", $info) or die "$info: $!\n";
my $sf;
while (<$t>) {
	chomp;
	if (/^SF:(.*)$/) { $sf = basename($1); }
	elsif (/^DA:(\d+),(\d+)$/) { $ul{$sf}{$1} = $2; }
	elsif (/^FN:(\d+),(.*)$/) { $ufn{$2}{file} = $sf; $ufn{$2}{line} = $1; }
	elsif (/^FNDA:(\d+),(.*)$/) { $ufn{$2}{count} = $1; }
}

# The binary: function ranges, then the statement rows inside them.
open(my $nm, "-|", "nm", "-S", "--defined-only", $bin) or die "nm: $!\n";
while (<$nm>) {
	my ($a, $s, $type, $name) = split;
	next unless defined $name && $type =~ /^[TtW]$/ && hex($s);
	push @funcs, [hex($a), hex($s)];
	$syms{$name} = hex($a);
}
sub in_func {
	my ($addr) = @_;
	for (@funcs) { return 1 if $addr >= $_->[0] && $addr - $_->[0] < $_->[1]; }
	return 0;
}
open(my $dl, "-|", "objdump", "--dwarf=decodedline", $bin) or die "objdump: $!\n";
while (<$dl>) {
	my @tok = split;
	next unless @tok >= 4 && $tok[2] =~ /^0x/ && $tok[1] ne "-" && $tok[-1] eq "x";
	$stmt{ basename($tok[0]) }{ $tok[1] } = 1 if in_func(hex($tok[2]));
	$entry{ hex($tok[2]) } //= $tok[1];	# an address's first statement row
}

open(my $tg, "<", $tags) or die "$tags: $!\n";
while (<$tg>) { my ($f, $l) = split; $tag{$f}{$l} = 1 if defined $l; }

# U: the lines a function's own conventions give ukcov alone.
my (%ends, %pair);
for my $name (keys %gfn) {
	my $g = $gfn{$name};
	$ends{ $g->{file} }{ $g->{end} } = 1;
	next unless defined $syms{$name};
	my $open = $entry{ $syms{$name} };
	next unless defined $open && $open != $g->{start};
	$pair{ $g->{file} }{$open} = $g->{start};
}
# Functions gcov does not know: the compiler's own, and only their lines.
my %compiler;
for my $name (keys %ufn) {
	next if $gfn{$name};
	if ($name =~ /^_sub_[ID]_/) {
		$compiler{ $ufn{$name}{file} }{ $ufn{$name}{line} } = 1;
	} else {
		push @bad, "F: $name is in the tracefile ($ufn{$name}{file}) but gcov knows no such function";
	}
}

my ($both, $equal, $tagged, $gonly, $uonly) = (0, 0, 0, 0, 0);
my %files = map { $_ => 1 } (keys %gl, keys %ul);
for my $file (sort keys %files) {
	my %lines = map { $_ => 1 } (keys %{ $gl{$file} // {} }, keys %{ $ul{$file} // {} });
	for my $l (sort { $a <=> $b } keys %lines) {
		my $g = $gl{$file}{$l};
		my $u = $ul{$file}{$l};
		if (defined $g && defined $u) {
			$both++;
			if ($g == $u) {
				$equal++;
				push @bad, "C: $file:$l is tagged gcov-O2 but agrees (gcov $g): a stale tag"
					if $level eq "O2" && $tag{$file}{$l};
			} elsif ($level eq "O2" && $tag{$file}{$l} && $u < $g) {
				$tagged++;
			} else {
				push @bad, "C: $file:$l gcov $g, ukcov $u" .
					($tag{$file}{$l} && $level eq "O2" ? " (tagged: may be fewer, not more)" : "");
			}
		} elsif (defined $g) {
			$gonly++;
			push @bad, "G: $file:$l gcov $g, ukcov none, but the line has a statement row"
				if $stmt{$file}{$l};
		} else {
			$uonly++;
			next if $ends{$file}{$l};
			if (defined(my $s = $pair{$file}{$l})) {
				my $gs = $gl{$file}{$s} // "none";
				push @bad, "P: $file:$l (the \"{\" of the function named on line $s) ukcov $u, gcov $gs on line $s"
					unless $gs eq $u;
				next;
			}
			push @bad, "U: $file:$l ukcov $u, gcov none, and it is no function's first or last line"
				unless $compiler{$file}{$l};
		}
	}
}

my ($funcs, $inlined) = (0, 0);
for my $name (sort keys %gfn) {
	my $g = $gfn{$name};
	my $u = $ufn{$name};
	if (!$syms{$name}) {
		$inlined++;
		push @bad, "F: $name was inlined everywhere (no symbol), yet is in the tracefile" if $u;
		next;
	}
	$funcs++;
	if (!$u) { push @bad, "F: $name ($g->{file}:$g->{start}) is not in the tracefile"; next; }
	push @bad, "F: $name is under $u->{file}, gcov has it in $g->{file}" if $u->{file} ne $g->{file};
	push @bad, "F: $name FN line $u->{line}, gcov's start_line is $g->{start}" if $u->{line} != $g->{start};
	push @bad, "F: $name FNDA $u->{count}, gcov counts $g->{count} calls" if $u->{count} != $g->{count};
}

print "-$level: $both lines both count, $equal equal" .
	($level eq "O2" ? ", $tagged tagged fewer" : "") .
	"; $gonly only gcov counts (no statement row), $uonly only ukcov (braces);" .
	" $funcs functions, $inlined inlined away\n";
if (@bad) {
	print "$_\n" for @bad;
	exit 1;
}
exit 0;
