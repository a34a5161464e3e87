# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Soak: soak_target's threads call their functions at full speed under
# `ukcov run` (count mode, a drain every 100 ms) for SOAK_SECONDS.  The
# text report's counts must equal the target's own tally exactly - not one
# increment lost or counted twice over hundreds of drains - and ukcov's RSS,
# sampled every second, must stay flat once warmed up.
#
# SOAK_SECONDS defaults to what fits the suite's per-test timeout
# (TEST_TIMEOUT, 60 s by default, minus 30 s); `make soak` runs 600 s.
# SOAK_THREADS (default 2) threads; SOAK_RSS_SLACK_KB (default 1024).

# rss_kb PID: VmRSS of PID in kB, empty when it is gone.
rss_kb()
{
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

test_soak_exact_counts_flat_rss()
{
	local secs=${SOAK_SECONDS:-$((${TEST_TIMEOUT:-60} - 30))} threads=${SOAK_THREADS:-2}
	local slack=${SOAK_RSS_SLACK_KB:-1024} warm t0 t rss first="" last="" n=0 hits drains

	[ "$secs" -ge 3 ] || skip "SOAK_SECONDS=$secs is too short for a soak"
	[ -z "${TEST_TIMEOUT:-}" ] || [ "$secs" -le $((TEST_TIMEOUT - 15)) ] ||
		fail "SOAK_SECONDS=$secs does not fit TEST_TIMEOUT=$TEST_TIMEOUT (run it with make soak)"
	# Start-up (libbpf, the BPF object, the first drains) settles first.
	warm=$((secs >= 20 ? 5 : 1))
	setup
	sites_map "$FIXTURES/soak_target" "$T/sites"
	TALLY_OUT=$T/tally "$UKCOV" run -i 100ms -o "$T/soak.txt" \
		-- "$FIXTURES/soak_target" -t "$threads" -d "$secs" >"$T/stdout" 2>"$T/stderr" &
	UK_PID=$!
	track "$UK_PID"
	t0=$SECONDS
	while alive "$UK_PID"; do
		t=$((SECONDS - t0))
		rss=$(rss_kb "$UK_PID")
		if [ -n "$rss" ] && [ "$t" -ge "$warm" ] && [ "$t" -lt "$secs" ]; then
			[ -n "$first" ] || first=$rss
			last=$rss
			n=$((n + 1))
			echo "t=${t}s rss=${rss}kB" >>"$T/rss"
		fi
		sleep 1
	done
	wait_exit "$UK_PID" 30 "ukcov run (soak)"
	[ "$RC" -eq 0 ] || fail "ukcov run exited $RC: $(cat "$T/stderr")"
	[ -s "$T/tally" ] || fail "soak_target wrote no tally: $(cat "$T/stderr")"
	grep -qx "worker $threads" "$T/tally" || fail "soak_target did not run $threads threads"
	check_report "$T/soak.txt" "$T/tally" "$T/sites"

	hits=$(awk '$1 ~ /^f_/ { s += $2 } END { print s + 0 }' "$T/tally")
	drains=$(report_drains "$T/soak.txt")
	echo "soak: ${secs}s, $threads threads, $hits hits ($((hits / secs))/s) all counted," \
		"$drains drains, RSS ${first}kB -> ${last}kB over $n samples"
	# Full speed: at least a hit every 100 us of the run, and the drains ran.
	[ "$hits" -ge $((secs * 10000)) ] || fail "only $hits hits in ${secs}s: not a soak"
	[ "${drains:-0}" -ge $((secs * 10 / 2)) ] || fail "only ${drains:-no} drains in ${secs}s at 100ms"
	[ "$n" -ge 2 ] || fail "only $n RSS samples after warm-up"
	[ "$last" -le $((first + slack)) ] ||
		fail "ukcov's RSS grew from ${first}kB to ${last}kB ($(tr '\n' ' ' <"$T/rss"))"
}
