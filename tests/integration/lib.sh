# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# lib.sh - helpers for the integration tests, sourced by run.sh into the
# fresh bash that runs each test function (under `timeout`).
#
# A test function reports through its exit status: 0 passes, `fail MSG`
# exits 1, `skip MSG` exits 77; the message goes to $UKT_REASON for run.sh.
# setup() gives the test its own directory $T and an EXIT trap that kills
# every process the test started (track PID) and removes $T.
#
# Environment: UKCOV (the ukcov binary), FIXTURES (built fixtures),
# UKT_SRC (tests/fixtures, for source line numbers), UKT_REASON.

# shellcheck disable=SC2034 # used by the test files
PC_BASE=0xffffffff80000000

# C runtime functions that may run in any fixture besides its own tallied
# functions; a report may show those that `ukcov sites` lists.
RUNTIME_FUNCS="_start _init _fini frame_dummy register_tm_clones
	deregister_tm_clones __do_global_dtors_aux"

UKT_PIDS=" "	# " pid pid ... "

fail()
{
	printf '%s\n' "$*" >"${UKT_REASON:-/dev/stderr}"
	exit 1
}

skip()
{
	printf '%s\n' "$*" >"${UKT_REASON:-/dev/stderr}"
	exit 77
}

# Remember a background process: cleanup kills it if it is still there.
track()
{
	UKT_PIDS="$UKT_PIDS$1 "
}

# True while PID exists and is not a zombie.
alive()
{
	local stat

	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# The state follows the command name, which may hold anything.
	stat=${stat##*) }
	[ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

cleanup()
{
	local pid i

	trap - EXIT TERM INT
	exec 7>&- 8<&-
	# TERM first so ukcov detaches the polite way, then KILL what is left.
	# Only live ones: a reaped pid may already belong to someone else.
	for pid in $UKT_PIDS; do
		alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for pid in $UKT_PIDS; do
		for ((i = 0; i < 40; i++)); do
			alive "$pid" || break
			sleep 0.05
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

# Gives the test a private directory $T, removed at exit with everything
# the test started.  A write to a dead server must fail, not kill the test.
setup()
{
	T=$(mktemp -d "${TMPDIR:-/tmp}/ukcov-it.XXXXXX") || fail "mktemp failed"
	trap cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap '' PIPE
	ulimit -c 0
}

# wait_exit PID SECS: waits up to SECS for background child PID to end and
# leaves its exit status in $RC.  Fails the test if it does not end.
wait_exit()
{
	local pid=$1 secs=$2 i

	for ((i = 0; i < secs * 50; i++)); do
		alive "$pid" || break
		sleep 0.02
	done
	alive "$pid" && fail "pid $pid ($3) still running after ${secs}s"
	wait "$pid"
	RC=$?
	UKT_PIDS=${UKT_PIDS/ $pid / }
}

# wait_line FILE ERE SECS PID: waits until a line of FILE matches ERE; fails
# early if PID (the writer) has ended without writing it.
wait_line()
{
	local file=$1 re=$2 secs=$3 pid=$4 i

	for ((i = 0; i < secs * 50; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		if ! alive "$pid"; then
			grep -Eq -- "$re" "$file" 2>/dev/null && return 0
			fail "process $pid ended without printing /$re/: $(head -c 300 "$file")"
		fi
		sleep 0.02
	done
	fail "no line /$re/ after ${secs}s in $file: $(head -c 300 "$file")"
}

# ---- the server fixture, driven through two fifos on fds 7 and 8 ----------

# server_start [WRAPPER...]: starts $SRV_BIN (default: the server fixture)
# under the optional wrapper command, waits for "ready", sets SRV_PID.
server_start()
{
	local line

	SRV_BIN=${SRV_BIN:-$FIXTURES/server}
	rm -f "$T/srv.in" "$T/srv.out"
	mkfifo "$T/srv.in" "$T/srv.out" || fail "mkfifo failed"
	chmod 666 "$T/srv.in" "$T/srv.out"
	"$@" "$SRV_BIN" <"$T/srv.in" >"$T/srv.out" 2>"$T/srv.err" &
	SRV_PID=$!
	track "$SRV_PID"
	# The server opens the fifos in this order; so do we, or both block.
	exec 7>"$T/srv.in" 8<"$T/srv.out"
	read -r -t 10 -u 8 line || fail "server did not start: $(cat "$T/srv.err")"
	[ "$line" = ready ] || fail "server said '$line', not ready"
}

# server_cmd CMD: sends one command, prints the answer up to and including
# its last line (ok, end or error).  Fails on silence or a dead server.
server_cmd()
{
	local line

	printf '%s\n' "$1" >&7 || fail "server: cannot send '$1'"
	while :; do
		read -r -t 10 -u 8 line || fail "server: no answer to '$1'"
		printf '%s\n' "$line"
		case $line in
		ok|end) return 0 ;;
		error) fail "server: '$1' was refused" ;;
		esac
	done
}

# server_tally FILE: the server's tally, NAME COUNT lines.
server_tally()
{
	server_cmd tally | grep -v '^end$' >"$1"
	grep -q '^f_0 ' "$1" || fail "server tally is malformed: $(cat "$1")"
}

server_quit()
{
	printf 'quit\n' >&7
	exec 7>&-
	wait_exit "$SRV_PID" 10 server
	exec 8<&-
	[ "$RC" -eq 0 ] || fail "server exited $RC"
}

# ---- reading ukcov's output ---------------------------------------------------

# sites_map BINARY OUT: `ukcov sites` as "PC FUNCTION" lines in OUT (and the
# full listing in OUT.full).
sites_map()
{
	"$UKCOV" sites "$1" >"$2.full" 2>"$2.err" ||
		fail "ukcov sites $1 failed: $(cat "$2.err")"
	awk '!/^#/ && NF { print tolower($1), $4 }' "$2.full" >"$2"
	[ -s "$2" ] || fail "ukcov sites $1 printed no sites"
}

# report_data REPORT: data lines of a text report as "PC COUNT FUNCTION".
report_data()
{
	awk '!/^#/ && NF { print tolower($1), $2, $3 }' "$1"
}

# check_report REPORT TALLY SITES: every function in the text REPORT has
# exactly its count in TALLY ("NAME COUNT"); every function with a count in
# TALLY is reported; functions with count 0 (f_6, f_7) are absent; anything
# else reported must be a C runtime function that SITES lists; every PC maps
# to the same function as in SITES ("PC FUNCTION").  Also checks the
# "# sites:" summary against the data lines.
check_report()
{
	local report=$1 tally=$2 sites=$3 errs

	[ -s "$report" ] || fail "report $report is missing or empty"
	grep -Eq '^[A-Za-z_][A-Za-z0-9_.]* [0-9]+$' "$tally" || fail "tally $tally is empty or malformed"
	errs=$(report_data "$report" | awk -v runtime="$RUNTIME_FUNCS" '
		FILENAME == ARGV[1] { want[$1] = $2; next }
		FILENAME == ARGV[2] { site[$1] = $2; exists[$2] = 1; next }
		{
			pc = $1; count = $2; fn = $3
			if (count !~ /^[0-9]+$/ || count == 0)
				printf "bad count %s for %s; ", count, fn
			if (!(pc in site))
				printf "%s (%s) is not a site; ", pc, fn
			else if (site[pc] != fn)
				printf "%s is %s in the report but %s in sites; ", pc, fn, site[pc]
			if (fn in seen)
				printf "%s reported twice; ", fn
			seen[fn] = 1
			if (fn in want) {
				if (want[fn] + 0 != count + 0)
					printf "%s: report %s, tally %s; ", fn, count, want[fn]
			} else if (!(fn in rt && fn in exists)) {
				printf "unexpected function %s (%s); ", fn, count
			}
		}
		BEGIN { n = split(runtime, r, /[ \t\n]+/); for (i = 1; i <= n; i++) rt[r[i]] = 1 }
		END {
			for (fn in want)
				if (want[fn] > 0 && !(fn in seen))
					printf "%s (tally %s) missing from the report; ", fn, want[fn]
		}' "$tally" "$sites" -)
	[ -z "$errs" ] || fail "$errs"
	check_summary "$report"
}

# The "# sites: N total, H hit, T hits, D drains" line agrees with the data
# lines and with the modules' site counts.
check_summary()
{
	local line total hit hits lines sum nsites

	line=$(grep -E '^# sites: ' "$1") || fail "no '# sites:' line in $1"
	read -r total hit hits < <(sed -E \
		's/^# sites: ([0-9]+) total, ([0-9]+) hit, ([0-9]+) hits, [0-9]+ drains?$/\1 \2 \3/' \
		<<<"$line")
	[[ "$total $hit $hits" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] || fail "malformed summary: $line"
	lines=$(report_data "$1" | wc -l)
	sum=$(report_data "$1" | awk '{ s += $2 } END { print s + 0 }')
	[ "$hit" -eq "$lines" ] || fail "$1: summary says $hit hit, report has $lines lines"
	[ "$hits" -eq "$sum" ] || fail "$1: summary says $hits hits, counts add up to $sum"
	# Module lines may go on after "sites N" (ifunc-skipped K, refused K, ...).
	nsites=$(sed -nE 's/^# module [0-9]+ .* sites ([0-9]+)( .*)?$/\1/p' "$1" |
		awk '{ s += $1 } END { print s + 0 }')
	[ "$total" -eq "$nsites" ] || fail "summary says $total sites, modules $nsites"
}

# report_drains REPORT: the D of "# sites: ... D drains".
report_drains()
{
	sed -nE 's/^# sites: .* ([0-9]+) drains?$/\1/p' "$1"
}

# tally_delta BEFORE AFTER: "NAME COUNT" of what ran between two tallies.
tally_delta()
{
	awk 'FILENAME == ARGV[1] { a[$1] = $2; next }
	     { print $1, $2 - a[$1] }' "$1" "$2"
}

# kcov_parse FILE: checks a kcov stream (records of [u64 n][n u64 PCs],
# little-endian, n >= 1, PCs strictly ascending within a record) and prints
# "records R" then the union of PCs, one per line, as 0x%016x, ascending.
# Perl: it is in every Debian base system, python is not.
kcov_parse()
{
	perl -e '
		use strict; use warnings;
		my $base = 0xffffffff80000000;
		open(my $fh, "<:raw", $ARGV[0]) or die "open $ARGV[0]: $!\n";
		local $/; my $d = <$fh>; my $len = length($d);
		my ($off, $recs, %u) = (0, 0);
		die "length $len is not a multiple of 8\n" if $len % 8;
		while ($off < $len) {
			my $n = unpack("Q<", substr($d, $off, 8)); $off += 8;
			die "record $recs: n = 0\n" if $n == 0;
			die "record $recs: n = $n overruns the stream\n"
				if $n > ($len - $off) / 8;
			my @pc = unpack("Q<$n", substr($d, $off, 8 * $n)); $off += 8 * $n;
			for my $i (0 .. $#pc) {
				die sprintf("record %d: PC 0x%x below the base\n", $recs, $pc[$i])
					if $pc[$i] < $base;
				die sprintf("record %d: PC 0x%x not above 0x%x\n", $recs, $pc[$i], $pc[$i-1])
					if $i && $pc[$i] <= $pc[$i-1];
				$u{$pc[$i]} = 1;
			}
			$recs++;
		}
		print "records $recs\n";
		printf("0x%016x\n", $_) for sort { $a <=> $b } keys %u;
	' "$1"
}

# ---- BPF links ------------------------------------------------------------------

need_bpftool()
{
	command -v bpftool >/dev/null || skip "bpftool is not installed"
}

# bpf_links [PREFIX...]: the number of BPF links in the system, or with
# PREFIXes, of uprobe.multi links on a file whose path starts with one of
# them.  A test that probes its own copy of a fixture counts the links on
# that copy: whatever else runs on the machine cannot disturb the count.
bpf_links()
{
	bpftool link list 2>/dev/null | awk -v prefixes="$*" '
		BEGIN { np = split(prefixes, p, / /) }
		np == 0 && /^[0-9]+: / { n++ }
		np > 0 && $1 == "uprobe.multi" && $2 == "path" {
			for (i = 1; i <= np; i++)
				if (index($3, p[i]) == 1) { n++; break }
		}
		END { print n + 0 }'
}

# wait_links N SECS [PREFIX...]: the link count returns to N; links go away
# when their last fd closes, which the kernel may finish a moment after the
# process exits.
wait_links()
{
	local want=$1 secs=$2 i n

	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		n=$(bpf_links "$@")
		[ "$n" -eq "$want" ] && return 0
		sleep 0.05
	done
	fail "BPF links: $n, expected $want ($(bpftool link list 2>&1 | tail -n 4 | tr '\n' ' '))"
}
