#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# drcov_read.pl FILE - an independent reader of DynamoRIO drcov logs,
# written from the format as Lighthouse's parser
# (plugins/lighthouse/reader/parsers/drcov.py) documents it, not from
# ukcov's writer.  Strict where Lighthouse is lenient, so that what passes
# here loads there:
#
#   DRCOV VERSION: 2
#   DRCOV FLAVOR: <anything>
#   Module Table: version 2, count <N>
#   Columns: id, base, end, entry[, checksum, timestamp], path
#   <N> lines: the columns, ", "-separated, numbers in hex but id
#   BB Table: <M> bbs
#   <M> x 8 bytes: u32 start, u16 size, u16 mod_id (little-endian), then EOF
#
# Prints "module ID 0xBASE 0xEND PATH" per module, then
# "bb PATH 0xSTART SIZE" per block, in file order.  Exits 1 with a message
# on stderr at the first deviation.  Perl, not Python: Perl is in every
# Debian base system.
use strict;
use warnings;

sub bad { print STDERR "drcov_read: $_[0]\n"; exit 1; }

@ARGV == 1 or bad("usage: drcov_read.pl FILE");
open(my $fh, '<:raw', $ARGV[0]) or bad("open $ARGV[0]: $!");
local $/;
my $d = <$fh>;
close($fh);

my $off = 0;
# One text line, without its "\n"; a missing "\n" is an error.
sub line {
	my $nl = index($d, "\n", $off);
	bad("unterminated line at byte $off") if $nl < 0;
	my $l = substr($d, $off, $nl - $off);
	$off = $nl + 1;
	bad("carriage return in line '$l'") if $l =~ /\r/;
	return $l;
}

line() eq 'DRCOV VERSION: 2' or bad('first line is not "DRCOV VERSION: 2"');
line() =~ /^DRCOV FLAVOR: \S+$/ or bad('second line is not "DRCOV FLAVOR: ..."');
my ($nmod) = line() =~ /^Module Table: version 2, count (\d+)$/
	or bad('no "Module Table: version 2, count N" line');
my $cols = line();
my @cols;
if ($cols eq 'Columns: id, base, end, entry, checksum, timestamp, path') {
	@cols = qw(id base end entry checksum timestamp path);
} elsif ($cols eq 'Columns: id, base, end, entry, path') {
	@cols = qw(id base end entry path);
} else {
	bad("unknown module table columns '$cols'");
}

my (%path, @order);
for my $i (0 .. $nmod - 1) {
	my $l = line();
	$l =~ s/^\s+//;
	# The path is the last column and may itself contain ", ".
	my @f = split(/, /, $l, scalar @cols);
	bad("module line '$l': " . scalar(@f) . " columns") if @f != @cols;
	my %m;
	@m{@cols} = @f;
	$m{id} =~ /^\d+$/ or bad("module id '$m{id}' is not a number");
	$m{id} == $i or bad("module $i has id $m{id}: ids must be 0..N-1 in order");
	for my $c (grep { $_ ne 'id' && $_ ne 'path' } @cols) {
		$m{$c} =~ /^0x[0-9a-fA-F]+$/ or bad("module $i: $c '$m{$c}' is not hex");
	}
	my ($base, $end) = (hex($m{base}), hex($m{end}));
	bad("module $i: end $m{end} below base $m{base}") if $end < $base;
	length($m{path}) or bad("module $i: empty path");
	$path{$i} = $m{path};
	push(@order, sprintf("module %d 0x%x 0x%x %s", $i, $base, $end, $m{path}));
}

my ($nbb) = line() =~ /^BB Table: (\d+) bbs$/ or bad('no "BB Table: M bbs" line');
my $left = length($d) - $off;
$left == 8 * $nbb or bad("BB table holds $left bytes, $nbb entries need " . 8 * $nbb);

print "$_\n" for @order;
for my $i (0 .. $nbb - 1) {
	my ($start, $size, $mod) = unpack('V v v', substr($d, $off + 8 * $i, 8));
	exists $path{$mod} or bad("bb $i: module id $mod is not in the table");
	printf("bb %s 0x%x %d\n", $path{$mod}, $start, $size);
}
