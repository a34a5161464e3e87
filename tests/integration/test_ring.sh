# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# --ring and libukcov: a consumer written like a Linux kcov user gets, per
# input, exactly the sites that input ran (ring_target's functions per input
# are known by construction: handle_input plus fn_X for each letter X);
# dropped counts are exact; a dead collector gives -EPIPE, not a hang; two
# rings do not mix; existing paths and symlinks are refused; the fuzzer
# example finds its magic bytes with coverage and not without.

RING_CONSUMER=$FIXTURES/ring_consumer

# ring_expect OUT SITES INPUT...: for each "input X n N ... pcs PC..." line
# of OUT (in order, cycling through INPUTs), the PCs map (through SITES) to
# exactly handle_input plus fn_<letter> for each letter of X, once each.
ring_expect()
{
	local out=$1 sites=$2 errs

	shift 2
	errs=$(awk -v inputs="$*" '
		FILENAME == ARGV[1] { fn[$1] = $2; next }
		$1 != "input" { next }
		{
			want_input = in_[i % nin + 1]; i++
			if ($2 != want_input) { printf "line %d is input %s, expected %s; ", i, $2, want_input; next }
			delete want; delete got
			want["handle_input"] = 1
			if ($2 != "-")
				for (k = 1; k <= length($2); k++)
					want["fn_" substr($2, k, 1)] = 1
			if ($4 + 0 != NF - 9) printf "input %s: n %s but %d PCs; ", $2, $4, NF - 9
			if ($8 != 1) printf "input %s: PCs not ascending; ", $2
			for (k = 10; k <= NF; k++) {
				f = ($k in fn) ? fn[$k] : "?" $k
				if (f in got) printf "input %s: %s twice; ", $2, f
				got[f] = 1
				if (!(f in want)) printf "input %s: unexpected %s; ", $2, f
			}
			for (f in want)
				if (!(f in got)) printf "input %s: %s missing; ", $2, f
		}
		BEGIN { nin = split(inputs, in_, / /) }
		END { if (i == 0) printf "no input lines; " }' "$sites" "$out")
	[ -z "$errs" ] || fail "${errs:0:600}"
}

test_ring_per_input_sites_like_kcov()
{
	local inputs="a bc - dddd abcdefgh hg a"

	setup
	sites_map "$FIXTURES/ring_target" "$T/sites"
	# shellcheck disable=SC2086
	"$RING_CONSUMER" "$UKCOV" "$T/ring" "$FIXTURES/ring_target" $inputs \
		>"$T/out" 2>"$T/err" || fail "ring_consumer exited $?: $(cat "$T/err")"
	# shellcheck disable=SC2086
	ring_expect "$T/out" "$T/sites" $inputs
	grep -q '^input .* dropped 0 ' "$T/out" || fail "dropped is not 0: $(cat "$T/out")"
	grep -vq ' dropped 0 ' <(grep '^input' "$T/out") && fail "dropped moved: $(cat "$T/out")"
	grep -qx 'ukcov exit 0' "$T/out" || fail "ukcov did not exit 0: $(tail -n 3 "$T/out") $(cat "$T/err")"
	grep -qx 'state closed' "$T/out" || fail "ring not CLOSED after ukcov exited"
	grep -qx 'after-exit collect -32' "$T/out" || fail "collect after the end is not -EPIPE: $(tail -n 1 "$T/out")"
	# A clean end leaves the ring (like an output), mode 0600 by default.
	[ -f "$T/ring" ] || fail "the ring was removed after a clean exit"
	[ "$(stat -c %a "$T/ring")" = 600 ] || fail "ring mode $(stat -c %a "$T/ring"), expected 600"
	# Only --ring: no report went to stdout (it would be in $T/out).
	grep -q '^# ' "$T/out" && fail "a report went to stdout: $(grep '^# ' "$T/out" | head -n 2)"
	return 0
}

# A consumer built the way a user builds one after `make install`: from
# the installed headers, with `pkg-config --cflags --libs ukcov`, linked to
# libukcov.so.1 (fixtures.mk stages the install).  It must load the staged
# shared library, not carry a copy of it, and get the same per-input sites.
test_ring_consumer_linked_to_installed_libukcov_so()
{
	local dyn=$FIXTURES/ring_consumer_dyn lib

	setup
	[ -x "$dyn" ] || fail "$dyn was not built"
	readelf -d "$dyn" | grep -q 'NEEDED.*\[libukcov\.so\.1\]' ||
		fail "ring_consumer_dyn does not need libukcov.so.1: $(readelf -d "$dyn" | grep NEEDED | tr '\n' ' ')"
	nm "$dyn" | grep -q ' T ukcov_ring_collect$' && fail "ring_consumer_dyn has its own copy of libukcov"
	lib=$(ldd "$dyn" | awk '$1 == "libukcov.so.1" { print $3 }')
	case $lib in
	*/stage/usr/lib/libukcov.so.1) ;;
	*) fail "libukcov.so.1 resolves to '${lib:-nothing}', not the staged install" ;;
	esac
	sites_map "$FIXTURES/ring_target" "$T/sites"
	"$dyn" "$UKCOV" "$T/ring" "$FIXTURES/ring_target" a bc - \
		>"$T/out" 2>"$T/err" || fail "ring_consumer_dyn exited $?: $(cat "$T/err")"
	ring_expect "$T/out" "$T/sites" a bc -
	grep -qx 'ukcov exit 0' "$T/out" || fail "ukcov did not exit 0: $(tail -n 3 "$T/out")"
}

test_ring_dropped_is_exact_when_full()
{
	setup
	sites_map "$FIXTURES/ring_target" "$T/sites"
	# --ring-size 4: area[0] and 3 PC slots.  abcdefgh runs 9 sites: 3
	# written (the lowest PCs: fn_a fn_b fn_c), 6 dropped; ab runs 3: all
	# fit after the reset; abcd runs 5: 2 more dropped.
	"$RING_CONSUMER" -s 4 "$UKCOV" "$T/ring" "$FIXTURES/ring_target" abcdefgh ab abcd \
		>"$T/out" 2>"$T/err" || fail "ring_consumer exited $?: $(cat "$T/err")"
	awk '$1 == "input" { print $2, $4, $6 }' "$T/out" >"$T/got"
	printf '%s\n' "abcdefgh 3 6" "ab 3 6" "abcd 3 8" | diff - "$T/got" >"$T/diff" ||
		fail "input n dropped: $(tr '\n' ' ' <"$T/diff")"
	awk '$1 == "input" && $2 == "abcdefgh" { print $10, $11, $12 }' "$T/out" | tr ' ' '\n' |
		awk 'FILENAME == ARGV[1] { fn[$1] = $2; next } { printf "%s ", fn[$1] }' "$T/sites" - >"$T/kept"
	[ "$(cat "$T/kept")" = "fn_a fn_b fn_c " ] || fail "kept $(cat "$T/kept"), expected fn_a fn_b fn_c"
}

# A collector killed with SIGKILL cannot mark the ring CLOSED: the consumer
# notices the dead pid and returns -EPIPE at once instead of waiting.
test_ring_dead_collector_gives_epipe()
{
	local ukpid tpid ret ms

	setup
	mkfifo "$T/in"
	"$UKCOV" run --ring "$T/ring" --interval 1h -- "$FIXTURES/ring_target" \
		<"$T/in" >"$T/out" 2>"$T/err" &
	ukpid=$!
	track "$ukpid"
	exec 7>"$T/in"
	wait_line "$T/out" '^ready$' 10 "$ukpid"
	tpid=$(pgrep -P "$ukpid" | head -n 1)
	[ -n "$tpid" ] && track "$tpid"
	"$FIXTURES/ring_collect" "$T/ring" 2000 >"$T/c1" || fail "ring_collect: $(cat "$T/c1")"
	read -r _ ret _ ms <"$T/c1"
	[ "$ret" -ge 0 ] || fail "collect on a live ring returned $ret"

	kill -KILL "$ukpid"
	wait "$ukpid" 2>/dev/null
	"$FIXTURES/ring_collect" "$T/ring" 10000 >"$T/c2" || fail "ring_collect: $(cat "$T/c2")"
	read -r _ ret _ ms <"$T/c2"
	[ "$ret" -eq -32 ] || fail "collect after SIGKILL returned $ret, expected -32 (EPIPE)"
	[ "$ms" -lt 1000 ] || fail "collect took ${ms} ms to notice the dead collector"
}

test_ring_two_rings_do_not_mix()
{
	local a b

	setup
	sites_map "$FIXTURES/ring_target" "$T/sites"
	# Same executable, two ukcov, two rings, interleaved inputs.
	"$RING_CONSUMER" -r 150 "$UKCOV" "$T/ring1" "$FIXTURES/ring_target" ab c \
		>"$T/out1" 2>"$T/err1" &
	a=$!
	"$RING_CONSUMER" -r 150 "$UKCOV" "$T/ring2" "$FIXTURES/ring_target" ef gh - \
		>"$T/out2" 2>"$T/err2" &
	b=$!
	track "$a"
	track "$b"
	wait_exit "$a" 40 consumer1
	[ "$RC" -eq 0 ] || fail "consumer 1 exited $RC: $(cat "$T/err1")"
	wait_exit "$b" 40 consumer2
	[ "$RC" -eq 0 ] || fail "consumer 2 exited $RC: $(cat "$T/err2")"
	[ "$(grep -c '^input' "$T/out1")" -eq 300 ] || fail "consumer 1: $(grep -c '^input' "$T/out1") inputs"
	[ "$(grep -c '^input' "$T/out2")" -eq 450 ] || fail "consumer 2: $(grep -c '^input' "$T/out2") inputs"
	ring_expect "$T/out1" "$T/sites" ab c
	ring_expect "$T/out2" "$T/sites" ef gh -
}

test_ring_refuses_existing_file_and_symlink()
{
	local rc

	setup
	printf 'precious\n' >"$T/exists"
	"$UKCOV" run --ring "$T/exists" -- "$FIXTURES/ring_target" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq 125 ] || fail "existing ring path: exit $rc, expected 125"
	[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q 'exists' "$T/err" ||
		fail "expected one line saying the file exists: $(cat "$T/err")"
	[ "$(cat "$T/exists")" = precious ] || fail "the existing file was changed"
	[ -s "$T/out" ] && fail "the target ran: $(cat "$T/out")"

	ln -s "$T/nowhere" "$T/link"
	"$UKCOV" run --ring "$T/link" -- "$FIXTURES/ring_target" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq 125 ] || fail "symlink ring path: exit $rc, expected 125"
	grep -q 'symlink' "$T/err" || fail "expected a symlink message: $(cat "$T/err")"
	[ -e "$T/nowhere" ] && fail "the symlink's target was created"
	[ -L "$T/link" ] || fail "the symlink was replaced"

	# attach refuses the same way, before probing anything.
	"$UKCOV" attach -p $$ --ring "$T/exists" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq 1 ] || fail "attach with an existing ring: exit $rc, expected 1"
	grep -q 'exists' "$T/err" || fail "attach: $(cat "$T/err")"
	return 0
}

test_ring_removed_when_ukcov_fails()
{
	local rc

	setup
	# No sites to probe: fails after the ring was created.
	"$UKCOV" run --ring "$T/ring" -- "$FIXTURES/nosyms" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq 125 ] || fail "nosyms under --ring: exit $rc, expected 125 ($(cat "$T/err"))"
	[ -e "$T/ring" ] && fail "the ring of a failed run was left behind"
	"$UKCOV" run --ring "$T/ring" --ring-size 1 -- "$FIXTURES/ring_target" </dev/null \
		>"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq 125 ] || fail "--ring-size 1: exit $rc, expected 125"
	[ -e "$T/ring" ] && fail "--ring-size 1 created the ring"
	return 0
}

test_ring_mode_is_exact_and_outputs_coexist()
{
	local mode

	setup
	sites_map "$FIXTURES/ring_target" "$T/sites"
	(umask 077 && printf 'abc\n' | "$UKCOV" run --ring "$T/ring" --ring-mode 0644 \
		-o "$T/cov.txt" -- "$FIXTURES/ring_target" >"$T/out" 2>"$T/err") ||
		fail "ukcov run exited $?: $(cat "$T/err")"
	mode=$(stat -c %a "$T/ring")
	[ "$mode" = 644 ] || fail "ring mode $mode under umask 077, expected 644"
	# The -o report is still written, and names the functions the line ran.
	grep -q ' fn_c ' "$T/cov.txt" || fail "report misses fn_c: $(cat "$T/cov.txt")"
	"$UKCOV" run --ring "$T/r2" --ring-mode 4755 -- "$FIXTURES/ring_target" </dev/null \
		>/dev/null 2>"$T/err" && fail "--ring-mode 4755 accepted"
	[ -e "$T/r2" ] && fail "--ring-mode 4755 created the ring"
	return 0
}

test_fuzzer_guided_finds_magic_blind_does_not()
{
	local guided blind

	setup
	# 200000 inputs: guided needs a few thousand (each of 5 bytes is one
	# in 8 * 256 mutations once the previous ones are right); blind needs
	# about 2^40.
	"$FIXTURES/fuzzer" -s 7 -n 200000 -u "$UKCOV" -r "$T/ring" -c "$T/crash" \
		"$FIXTURES/persistent_target" >"$T/out" 2>"$T/err" ||
		fail "fuzzer exited $?: $(cat "$T/out" "$T/err")"
	guided=$(sed -nE 's/^guided: crash after ([0-9]+) inputs.*/\1/p' "$T/out")
	[ -n "$guided" ] || fail "guided found no crash: $(cat "$T/out")"
	head -c 5 "$T/crash" | grep -qx 'UKCV!' || fail "crash input is $(od -c "$T/crash" | head -n 1)"
	blind=$(sed -nE 's/^blind: crash after ([0-9]+) inputs.*/\1/p' "$T/out")
	if [ -n "$blind" ]; then
		[ "$blind" -gt "$guided" ] || fail "blind ($blind) beat guided ($guided)"
	else
		grep -q '^blind: no crash in 200000 inputs' "$T/out" || fail "blind: $(cat "$T/out")"
	fi
	[ -e "$T/ring" ] && fail "the fuzzer left its ring behind"
	return 0
}

# The comparison is fair: both modes draw the same random numbers and run
# the same loop, so where feedback cannot help (the crash is the first
# byte) they find it at the same input; two bytes deep, blind keeps
# wandering while guided climbs.
test_fuzzer_blind_is_the_same_loop_without_feedback()
{
	local guided blind

	setup
	"$FIXTURES/fuzzer" -s 7 -d 1 -n 100000 -u "$UKCOV" -r "$T/ring" \
		"$FIXTURES/persistent_target" >"$T/d1" 2>"$T/err" || fail "fuzzer -d 1: $(cat "$T/d1" "$T/err")"
	guided=$(sed -nE 's/^guided: crash after ([0-9]+) inputs.*/\1/p' "$T/d1")
	blind=$(sed -nE 's/^blind: crash after ([0-9]+) inputs.*/\1/p' "$T/d1")
	[ -n "$guided" ] && [ "$guided" = "$blind" ] ||
		fail "depth 1: guided '$guided', blind '$blind': $(cat "$T/d1")"
	"$FIXTURES/fuzzer" -s 7 -d 2 -n 100000 -u "$UKCOV" -r "$T/ring" \
		"$FIXTURES/persistent_target" >"$T/d2" 2>"$T/err" || fail "fuzzer -d 2: $(cat "$T/d2" "$T/err")"
	guided=$(sed -nE 's/^guided: crash after ([0-9]+) inputs.*/\1/p' "$T/d2")
	[ -n "$guided" ] && [ "$guided" -lt 20000 ] || fail "depth 2: guided: $(cat "$T/d2")"
	grep -q '^blind: no crash in 100000 inputs (100001 kept' "$T/d2" || fail "depth 2: blind: $(cat "$T/d2")"
}

# A persistent target started alone, then attached with `ukcov attach -p`:
# the per-input coverage is the same as under `ukcov run`, so the same seed
# finds the crash at the same input.
test_fuzzer_attaches_to_a_running_target()
{
	local run attach

	setup
	"$FIXTURES/fuzzer" -m guided -s 7 -n 100000 -u "$UKCOV" -r "$T/ring" \
		"$FIXTURES/persistent_target" >"$T/run" 2>"$T/err" || fail "fuzzer: $(cat "$T/run" "$T/err")"
	"$FIXTURES/fuzzer" -a -m guided -s 7 -n 100000 -u "$UKCOV" -r "$T/ring" \
		"$FIXTURES/persistent_target" >"$T/attach" 2>"$T/err" ||
		fail "fuzzer -a: $(cat "$T/attach" "$T/err")"
	grep -q '^ukcov: attached to pid ' "$T/err" || fail "no attach: $(cat "$T/err")"
	run=$(sed -nE 's/^guided: crash after ([0-9]+) inputs \(([0-9]+) kept.*/\1 \2/p' "$T/run")
	attach=$(sed -nE 's/^guided: crash after ([0-9]+) inputs \(([0-9]+) kept.*/\1 \2/p' "$T/attach")
	[ -n "$run" ] && [ "$run" = "$attach" ] || fail "run: '$run', attach: '$attach'"
	[ -e "$T/ring" ] && fail "the fuzzer left its ring behind"
	return 0
}

test_fuzzer_oneshot_reads_the_closed_ring()
{
	local pcs

	setup
	# -x: one `ukcov run --ring` per input; the fuzzer reads the area after
	# ukcov has exited (state CLOSED, file kept) and removes the ring.
	"$FIXTURES/fuzzer" -x -m guided -s 3 -n 3 -u "$UKCOV" -r "$T/ring" \
		"$FIXTURES/fuzz_target" >"$T/out" 2>"$T/err"
	[ $? -eq 1 ] || fail "fuzzer -x: $(cat "$T/out" "$T/err")"
	pcs=$(sed -nE 's/^guided: no crash in 3 inputs \([0-9]+ kept, ([0-9]+) PCs\).*/\1/p' "$T/out")
	# main, target_input and check_0 at least.
	[ -n "$pcs" ] && [ "$pcs" -ge 3 ] || fail "fuzzer -x saw no coverage: $(cat "$T/out")"
	[ -e "$T/ring" ] && fail "ring left behind"
	return 0
}
