# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ukcov run: counts against the fixture's own tally, exit status and stdout
# passthrough, replacing an output file.

# run_tally NAME [UKCOV-RUN-OPTIONS] -- [TALLY-OPTIONS]: runs the tally
# fixture under `ukcov run -o $T/NAME.cov`; its own tally lands in
# $T/NAME.tally, ukcov's exit status in $RC, its stdout in $T/NAME.stdout.
run_tally()
{
	local name=$1 opts=()

	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	TALLY_OUT=$T/$name.tally "$UKCOV" run -o "$T/$name.cov" "${opts[@]}" \
		-- "$FIXTURES/tally" "$@" >"$T/$name.stdout" 2>"$T/$name.stderr"
	RC=$?
}

test_run_counts_single_thread()
{
	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	run_tally one -- -n 100
	[ "$RC" -eq 0 ] || fail "ukcov run exited $RC: $(cat "$T/one.stderr")"
	check_report "$T/one.cov" "$T/one.tally" "$T/sites"
	grep -qx '# exit: 0' "$T/one.cov" || fail "no '# exit: 0' header"
	grep -Eq '^# ukcov [0-9][^ ]* text coverage$' "$T/one.cov" ||
		fail "bad first header: $(head -n 1 "$T/one.cov")"
	grep -Eq "^# module 0 $FIXTURES/tally build-id [0-9a-f]+ sites [0-9]+\$" "$T/one.cov" ||
		fail "no '# module 0' line for $FIXTURES/tally: $(grep '^# module' "$T/one.cov")"
	# The truth itself: (i+1)*N calls, so check_report compared real numbers.
	grep -qx 'f_5 600' "$T/one.tally" || fail "fixture tally is off: $(cat "$T/one.tally")"
}

test_run_counts_four_threads()
{
	local drains

	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	# Sleeps between batches and a short interval: counters are swapped
	# to zero while four threads hit them, and nothing may get lost.
	run_tally four --interval 10ms -- -t 4 -n 150 -w 25000
	[ "$RC" -eq 0 ] || fail "ukcov run exited $RC: $(cat "$T/four.stderr")"
	grep -qx 'worker 4' "$T/four.tally" || fail "fixture did not run 4 threads"
	grep -qx 'f_5 3600' "$T/four.tally" || fail "fixture tally is off: $(cat "$T/four.tally")"
	check_report "$T/four.cov" "$T/four.tally" "$T/sites"
	drains=$(report_drains "$T/four.cov")
	[ "${drains:-0}" -ge 3 ] ||
		fail "--interval 10ms over ~150ms gave ${drains:-no} drains"
}

test_run_exit_status()
{
	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	run_tally three -- -n 3 -e 3
	[ "$RC" -eq 3 ] || fail "child exited 3, ukcov $RC: $(cat "$T/three.stderr")"
	check_report "$T/three.cov" "$T/three.tally" "$T/sites"
	grep -qx '# exit: 3' "$T/three.cov" || fail "no '# exit: 3' header"
}

test_run_killed_by_signal()
{
	local sig

	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	for sig in 11 9; do
		run_tally "sig$sig" -- -n 5 -s "$sig"
		[ "$RC" -eq $((128 + sig)) ] ||
			fail "child died of signal $sig, ukcov exited $RC: $(cat "$T/sig$sig.stderr")"
		# The tally was written before the signal: the coverage must
		# still be complete.
		check_report "$T/sig$sig.cov" "$T/sig$sig.tally" "$T/sites"
	done
}

test_run_stdout_passthrough()
{
	setup
	run_tally out -- -n 2 -p "hello from the child"
	[ "$RC" -eq 0 ] || fail "ukcov run exited $RC: $(cat "$T/out.stderr")"
	[ "$(cat "$T/out.stdout")" = "hello from the child" ] ||
		fail "stdout is '$(head -c 200 "$T/out.stdout")', not the child's line"
	grep -qx 'hello from the child' "$T/out.cov" &&
		fail "the child's stdout went into the coverage file"
	grep -q '^# ukcov ' "$T/out.cov" || fail "no coverage in -o file"
}

test_run_stdout_default()
{
	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	# Without -o the report goes to stdout (after the child's own output).
	TALLY_OUT=$T/t.tally "$UKCOV" run -- "$FIXTURES/tally" -n 4 \
		>"$T/stdout" 2>"$T/stderr" || fail "ukcov run exited $?: $(cat "$T/stderr")"
	check_report "$T/stdout" "$T/t.tally" "$T/sites"
}

test_run_replaces_output()
{
	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	mkdir "$T/out"
	run_tally first -- -n 100
	[ "$RC" -eq 0 ] || fail "first run exited $RC"
	mv "$T/first.cov" "$T/out/cov"
	ls -A "$T/out" >"$T/before"
	TALLY_OUT=$T/second.tally "$UKCOV" run -o "$T/out/cov" -- "$FIXTURES/tally" -n 7 \
		>/dev/null 2>"$T/second.stderr" || fail "second run exited $?: $(cat "$T/second.stderr")"
	check_report "$T/out/cov" "$T/second.tally" "$T/sites"
	grep -qx 'f_0 7' "$T/second.tally" || fail "fixture tally is off"
	ls -A "$T/out" >"$T/after"
	cmp -s "$T/before" "$T/after" ||
		fail "directory changed: $(diff "$T/before" "$T/after" | tr '\n' ' ')"
	# kcov over text: nothing of the old file may remain.
	"$UKCOV" run -o "$T/out/cov" --format kcov -- "$FIXTURES/tally" -n 1 >/dev/null 2>&1 ||
		fail "kcov run exited $?"
	grep -q '^# ukcov' "$T/out/cov" && fail "text from the earlier run remains"
	kcov_parse "$T/out/cov" >/dev/null 2>"$T/perr" || fail "not a kcov stream: $(cat "$T/perr")"
}

test_run_lock_prefixed_entry()
{
	local listed count

	setup
	[ "$(uname -m)" = x86_64 ] || skip "x86-64 only"
	objdump -d "$FIXTURES/lockfirst" 2>/dev/null | grep -A1 '<lock_first>:' | grep -q 'lock ' ||
		skip "lock_first does not start with a lock prefix here"
	sites_map "$FIXTURES/lockfirst" "$T/sites"
	listed=$(awk '$2 == "lock_first"' "$T/sites")
	TALLY_OUT=$T/tally "$UKCOV" run -o "$T/cov" -- "$FIXTURES/lockfirst" 5 >/dev/null 2>"$T/err" ||
		fail "ukcov run exited $?: $(cat "$T/err")"
	grep -qx 'lock_first 5' "$T/tally" || fail "fixture tally is off: $(cat "$T/tally")"
	count=$(report_data "$T/cov" | awk '$3 == "lock_first" { print $2 }')
	# A listed site must count; an unlisted one must not be reported.
	if [ -n "$listed" ]; then
		[ "$count" = 5 ] ||
			fail "lock_first is a site but counted '${count:-nothing}' of 5 calls" \
				"(a probe on a lock-prefixed instruction?)"
	else
		[ -z "$count" ] || fail "lock_first is no site but reported $count"
	fi
	return 0
}

# Names are data, not syntax: a binary whose path holds a newline and a
# space, and arguments with them, cannot forge or split report lines.
test_run_escapes_names()
{
	local bin

	setup
	mkdir -p "$T/dir"
	bin=$T/dir/$'ta lly\n0xffffffff80000000 99 forged ??:0 x+0x0'
	cp "$FIXTURES/tally" "$bin"
	TALLY_OUT=$T/esc.tally "$UKCOV" run -o "$T/esc.cov" -- "$bin" -n 3 $'x\ny' >/dev/null 2>"$T/esc.err"
	[ $? -eq 0 ] || fail "ukcov run failed: $(cat "$T/esc.err")"
	grep -q 'forged' "$T/esc.tally" && fail "the fixture saw a bad argument"
	grep -qx 'f_5 18' "$T/esc.tally" || fail "fixture tally is off: $(cat "$T/esc.tally")"
	awk '!/^#/ && NF != 5 { bad = 1 } END { exit bad }' "$T/esc.cov" ||
		fail "a site line without 5 fields: $(grep -v '^#' "$T/esc.cov" | head -n 3)"
	grep -q '^0xffffffff80000000 99 ' "$T/esc.cov" && fail "a forged line"
	grep -q 'ta\\x20lly\\x0a0xffffffff80000000\\x2099' "$T/esc.cov" ||
		fail "module path not escaped: $(grep '^# module' "$T/esc.cov")"
	grep -q '^# target: .* x\\x0ay$' "$T/esc.cov" || fail "target: $(grep -A1 '^# target' "$T/esc.cov")"
	# Exactly one header line per module, whatever the names.
	[ "$(grep -c '^# module ' "$T/esc.cov")" -eq 1 ] || fail "module lines: $(grep -c '^# module ' "$T/esc.cov")"
	awk '!/^#/ { print $3, $2 }' "$T/esc.cov" | grep -qx 'f_5 18' || fail "f_5 not counted 18"
	"$UKCOV" sites "$bin" >"$T/sites.txt" 2>/dev/null || fail "ukcov sites failed"
	awk '!/^#/ && NF != 5 { bad = 1 } END { exit bad }' "$T/sites.txt" ||
		fail "ukcov sites: a line without 5 fields"
}

# A kcov stream on stdout carries records only: the command's own stdout
# goes to stderr then.
test_run_kcov_stdout_stays_clean()
{
	setup
	TALLY_OUT=$T/k.tally "$UKCOV" run -f kcov -o - --save-sites "$T/k.sites" -- "$FIXTURES/tally" -n 2 -p "hello from the child" \
		>"$T/k.kcov" 2>"$T/k.stderr" || fail "ukcov run exited $?: $(cat "$T/k.stderr")"
	grep -q 'hello from the child' "$T/k.kcov" && fail "the child's stdout went into the kcov stream"
	grep -qx 'hello from the child' "$T/k.stderr" || fail "the child's stdout is lost: $(cat "$T/k.stderr")"
	[ -s "$T/k.kcov" ] || fail "empty stream"
	"$UKCOV" report --sites-file "$T/k.sites" -o "$T/k.txt" "$T/k.kcov" 2>"$T/k.rep" ||
		fail "the stream does not read back: $(cat "$T/k.rep")"
	awk '!/^#/ { print $3 }' "$T/k.txt" | grep -qx f_5 || fail "f_5 is not in the stream"
}
