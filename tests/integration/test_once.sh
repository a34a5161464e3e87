# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# --mode once: every site that ran is reported once (count 1), never
# twice in the kcov stream, and stops costing anything once retired: a
# hot loop runs far faster than in count mode, in forked children too.
# The truth is the fixtures' own tallies (a function ran iff its tally is
# > 0) and the bytes of the binary itself (/proc/PID/mem against the file).

# tally_once IN OUT: a tally with every count > 0 turned into 1.
tally_once()
{
	awk '{ print $1, ($2 > 0) }' "$1" >"$2"
}

# sum_dir DIR OUT: the per-function sum of DIR/*.tally (forker's processes).
sum_dir()
{
	[ -n "$(find "$1" -maxdepth 1 -name '*.tally')" ] || fail "no tally files in $1"
	cat "$1"/*.tally | awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }' | sort >"$2"
}

# kcov_counts FILE: "PC TIMES" for every PC of a kcov stream, over all records.
kcov_counts()
{
	perl -e '
		open(my $fh, "<:raw", $ARGV[0]) or die "open: $!\n";
		local $/; my $d = <$fh>; my ($off, %c) = (0);
		while ($off < length($d)) {
			my $n = unpack("Q<", substr($d, $off, 8)); $off += 8;
			$c{$_}++ for unpack("Q<$n", substr($d, $off, 8 * $n));
			$off += 8 * $n;
		}
		printf("0x%016x %d\n", $_, $c{$_}) for sort { $a <=> $b } keys %c;
	' "$1"
}

# elapsed_ms CMD...: runs CMD, prints its wall time in ms; CMD must succeed.
elapsed_ms()
{
	local t0 rc

	t0=$(date +%s%N)
	"$@" >"$T/elapsed.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || fail "$* exited $rc: $(tail -n 3 "$T/elapsed.out")"
	echo $((($(date +%s%N) - t0) / 1000000))
}

test_once_text_reports_each_hit_function_once()
{
	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	# Two threads on the same probes, batches spread over several drains.
	TALLY_OUT=$T/t.tally "$UKCOV" run --mode once -f text -i 10ms -o "$T/t.txt" \
		-- "$FIXTURES/tally" -t 2 -n 200 -w 20000 >"$T/out" 2>"$T/err" ||
		fail "ukcov run --mode once failed: $(cat "$T/err")"
	grep -qx 'f_5 2400' "$T/t.tally" || fail "tally is off: $(tr '\n' ' ' <"$T/t.tally")"
	grep -qx '# mode: once, sites: func' "$T/t.txt" ||
		fail "no once mode header: $(grep '^# mode' "$T/t.txt")"
	# Exactly the functions with a tally > 0, each with count 1.
	tally_once "$T/t.tally" "$T/t.once"
	check_report "$T/t.txt" "$T/t.once" "$T/sites"
	report_data "$T/t.txt" | awk '$2 != 1 { exit 1 }' || fail "a count other than 1"
}

test_once_kcov_stream_has_each_pc_once()
{
	local dups text_pcs kcov_pcs

	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	mkdir "$T/k"
	# Workers, a re-exec of the binary (which re-arms every site in the
	# new image) and 1 ms drains: many chances for a hit to race.
	TALLY_DIR=$T/k "$UKCOV" run --mode once -i 1ms -o "$T/k.kcov" -o "$T/k.txt" \
		-- "$FIXTURES/forker" -w 3 -s -n 300 >"$T/out" 2>"$T/err" ||
		fail "ukcov run --mode once failed: $(cat "$T/err")"
	kcov_parse "$T/k.kcov" >"$T/k.union" || fail "malformed kcov stream"
	kcov_counts "$T/k.kcov" >"$T/k.counts"
	[ -s "$T/k.counts" ] || fail "empty kcov stream"
	dups=$(awk '$2 != 1' "$T/k.counts")
	[ -z "$dups" ] || fail "PCs emitted more than once: $(echo "$dups" | tr '\n' ' ')"
	# The stream and the report agree, and the report matches the tallies.
	kcov_pcs=$(awk '{ print $1 }' "$T/k.counts" | tr '\n' ' ')
	text_pcs=$(report_data "$T/k.txt" | awk '{ print $1 }' | tr '\n' ' ')
	[ "$kcov_pcs" = "$text_pcs" ] || fail "kcov PCs: $kcov_pcs; report PCs: $text_pcs"
	sum_dir "$T/k" "$T/k.sum"
	grep -qx 'main 2' "$T/k.sum" || fail "fixture tallies are off: $(tr '\n' ' ' <"$T/k.sum")"
	tally_once "$T/k.sum" "$T/k.once"
	check_report "$T/k.txt" "$T/k.once" "$T/sites"
}

# speed NAME FIXTURE ARGS...: the same run in count and in once mode;
# fails unless once mode takes less than a third of count mode's time.
speed()
{
	local name=$1 count_ms once_ms

	shift
	mkdir -p "$T/$name-c" "$T/$name-o"
	count_ms=$(TALLY_DIR=$T/$name-c TALLY_OUT=$T/$name-c/x.tally \
		elapsed_ms "$UKCOV" run -i 20ms -o "$T/$name-c.txt" -- "$@") || exit 1
	cp "$T/elapsed.out" "$T/$name-c.out"
	once_ms=$(TALLY_DIR=$T/$name-o TALLY_OUT=$T/$name-o/x.tally \
		elapsed_ms "$UKCOV" run --mode once -i 20ms -o "$T/$name-o.txt" -- "$@") || exit 1
	cp "$T/elapsed.out" "$T/$name-o.out"
	echo "$name: count ${count_ms} ms, once ${once_ms} ms"
	[ $((once_ms * 3)) -lt "$count_ms" ] ||
		fail "$name: once mode took ${once_ms} ms, count mode ${count_ms} ms: not 3x faster"
	sum_dir "$T/$name-c" "$T/$name-c.sum"
	sum_dir "$T/$name-o" "$T/$name-o.sum"
	# Both ran the same calls; once mode reports exactly what ran.
	cmp -s "$T/$name-c.sum" "$T/$name-o.sum" ||
		fail "$name: tallies differ: $(tr '\n' ' ' <"$T/$name-o.sum")"
	sites_map "$1" "$T/$name.sites"
	check_report "$T/$name-c.txt" "$T/$name-c.sum" "$T/$name.sites"
	tally_once "$T/$name-o.sum" "$T/$name-o.once"
	check_report "$T/$name-o.txt" "$T/$name-o.once" "$T/$name.sites"
}

test_once_hot_loop_faster_than_count()
{
	setup
	# 210k calls of single-stepped entries: ~2-3 s in count mode.
	speed tally "$FIXTURES/tally" -n 10000
}

test_once_forked_children_faster_than_count()
{
	setup
	# Two workers forked at the start inherit the breakpoints: their
	# sites must be retired in them too (105k calls each).
	speed forker "$FIXTURES/forker" -w 2 -n 5000
}

# warm_round FILE: the median "round I NS" of the second half of the rounds.
warm_round()
{
	awk '/^round / { r[n++] = $3 } END { for (i = int(n / 2); i < n; i++) print r[i] }' "$1" |
		sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : 0) }'
}

test_once_exec_per_round_retired_for_new_processes()
{
	local count_warm once_warm

	setup
	# Every round is a fresh exec, which re-arms every breakpoint the
	# covered process had restored: only replacing the link retires them.
	speed reexec "$FIXTURES/reexec" 30 200
	count_warm=$(warm_round "$T/reexec-c.out")
	once_warm=$(warm_round "$T/reexec-o.out")
	echo "warm round: count ${count_warm} ns, once ${once_warm} ns"
	[ "$once_warm" -gt 0 ] && [ $((once_warm * 5)) -lt "$count_warm" ] ||
		fail "late rounds: once ${once_warm} ns, count ${count_warm} ns: not retired for new execs"
}

# text_byte PID BIN OFFSET: the first byte of file offset OFFSET of BIN as
# process PID maps it, in hex ("cc" while a breakpoint is there).
text_byte()
{
	local range perms off path start end addr=

	while read -r range perms off _ _ path; do
		[ "$path" = "$2" ] && [[ $perms == *x* ]] || continue
		start=0x${range%-*} end=0x${range#*-}
		if (($3 >= 0x$off && $3 < 0x$off + end - start)); then
			addr=$((start + $3 - 0x$off))
			break
		fi
	done <"/proc/$1/maps"
	[ -n "$addr" ] || fail "offset $3 of $2 is not mapped executable in $1"
	dd if="/proc/$1/mem" bs=1 skip="$addr" count=1 iflag=skip_bytes 2>/dev/null |
		od -An -tx1 | tr -d ' \n'
}

# text_matches_file PID BIN: every executable mapping of BIN in process PID
# holds exactly the file's bytes (no breakpoint, no half-restored byte left).
text_matches_file()
{
	local range perms off path start end len n=0

	while read -r range perms off _ _ path; do
		[ "$path" = "$2" ] && [[ $perms == *x* ]] || continue
		start=$((0x${range%-*})) end=$((0x${range#*-}))
		dd if="/proc/$1/mem" of="$T/mem.bin" bs=4096 skip=$((start / 4096)) \
			count=$(((end - start) / 4096)) 2>/dev/null
		dd if="$2" of="$T/file.bin" bs=4096 skip=$((0x$off / 4096)) \
			count=$(((end - start) / 4096)) 2>/dev/null
		# The last page may reach past the end of the file.
		len=$(stat -c %s "$T/file.bin")
		[ "$len" -gt 0 ] || fail "nothing read from $2 at offset 0x$off"
		cmp -n "$len" "$T/mem.bin" "$T/file.bin" >/dev/null ||
			fail "text of $2 in pid $1 differs from the file: $(cmp -n "$len" "$T/mem.bin" "$T/file.bin")"
		n=$((n + 1))
	done <"/proc/$1/maps"
	[ "$n" -gt 0 ] || fail "$2 has no executable mapping in pid $1"
}

file_byte()
{
	dd if="$1" bs=1 skip=$(($2)) count=1 iflag=skip_bytes 2>/dev/null | od -An -tx1 | tr -d ' \n'
}

# site_offset SITES FUNCTION: the probe's file offset (from `ukcov sites`).
site_offset()
{
	awk -v fn="$2" '!/^#/ && $4 == fn { print $3; exit }' "$1.full"
}

test_once_attach_retires_and_detaches_cleanly()
{
	local f1 f6 i

	need_bpftool
	setup
	# A private copy: its links are the only ones on this path.
	cp "$FIXTURES/server" "$T/server" || fail "cp failed"
	SRV_BIN=$T/server
	sites_map "$SRV_BIN" "$T/sites"
	f1=$(site_offset "$T/sites" f_1)
	f6=$(site_offset "$T/sites" f_6)
	[ -n "$f1" ] && [ -n "$f6" ] || fail "no f_1/f_6 in the site table"
	server_start
	env --default-signal=INT,TERM "$UKCOV" attach -p "$SRV_PID" --mode once -i 20ms \
		-o "$T/a.txt" >"$T/a.out" 2>"$T/a.err" &
	UK_PID=$!
	track "$UK_PID"
	wait_line "$T/a.err" '^ukcov: attached to pid ' 20 "$UK_PID"
	[ "$(text_byte "$SRV_PID" "$SRV_BIN" "$f1")" = cc ] || fail "no breakpoint on f_1 while attached"
	server_cmd 'call 1 20000' >/dev/null
	server_cmd 'call 2 3' >/dev/null
	# Retired within a few drains: f_1's first byte is the file's again,
	# f_6 (never called) still has its breakpoint.
	for ((i = 0; i < 100; i++)); do
		[ "$(text_byte "$SRV_PID" "$SRV_BIN" "$f1")" = "$(file_byte "$SRV_BIN" "$f1")" ] && break
		sleep 0.02
	done
	[ "$i" -lt 100 ] || fail "f_1 still has its breakpoint after 2 s"
	[ "$(text_byte "$SRV_PID" "$SRV_BIN" "$f6")" = cc ] || fail "f_6 lost its breakpoint without running"
	server_cmd 'call 1 5' >/dev/null
	kill -INT "$UK_PID"
	wait_exit "$UK_PID" 15 "ukcov attach --mode once"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC: $(cat "$T/a.err")"
	wait_links 0 10 "$T/"
	# Only what ran while attached, once each.
	printf 'f_0 0\nf_1 1\nf_2 1\nf_3 0\nf_4 0\nf_5 0\nf_6 0\nf_7 0\n' >"$T/want"
	check_report "$T/a.txt" "$T/want" "$T/sites"
	# Detached: no byte of the text differs from the file, and the server
	# goes on with the right results.
	[ "$(text_byte "$SRV_PID" "$SRV_BIN" "$f6")" = "$(file_byte "$SRV_BIN" "$f6")" ] ||
		fail "f_6 keeps a breakpoint after detaching"
	text_matches_file "$SRV_PID" "$SRV_BIN"
	server_cmd 'call 6 7' >/dev/null
	server_tally "$T/after"
	grep -qx 'f_1 20005' "$T/after" && grep -qx 'f_2 3' "$T/after" &&
		grep -qx 'f_6 7' "$T/after" || fail "server tally is off: $(tr '\n' ' ' <"$T/after")"
	server_quit
}
