# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ukcov attach -p PID on the server fixture: only what runs while attached
# is counted; every way of ending (target exit, --duration, SIGINT, SIGKILL)
# leaves a correct report or, for SIGKILL, nothing at all.

ATTACHED_RE='^ukcov: attached to pid [0-9]+ \([0-9]+ sites\); Ctrl-C to stop$'

# attach_start NAME [OPTIONS]: attaches to $SRV_PID in the background with
# -o $T/NAME.cov (or $UK_OUT), waits for the attached line, sets UK_PID,
# and checks the line's pid and site count.  SIGINT and SIGTERM are reset
# to default: a non-interactive shell starts background jobs with SIGINT
# ignored.
attach_start()
{
	local name=$1 nsites

	shift
	env --default-signal=INT,TERM "$UKCOV" attach -p "$SRV_PID" \
		-o "${UK_OUT:-$T/$name.cov}" "$@" >"$T/$name.stdout" 2>"$T/$name.stderr" &
	UK_PID=$!
	track "$UK_PID"
	wait_line "$T/$name.stderr" "$ATTACHED_RE" 20 "$UK_PID"
	grep -Eq "^ukcov: attached to pid $SRV_PID " "$T/$name.stderr" ||
		fail "attached to the wrong pid: $(cat "$T/$name.stderr")"
	nsites=$(sed -nE 's/^ukcov: attached to pid [0-9]+ \(([0-9]+) sites\).*/\1/p' "$T/$name.stderr")
	[ "$nsites" -eq "$(wc -l <"$T/sites")" ] ||
		fail "attached to $nsites sites, 'ukcov sites' lists $(wc -l <"$T/sites")"
}

test_attach_counts_until_exit()
{
	setup
	sites_map "$FIXTURES/server" "$T/sites"
	server_start
	# Calls before attaching must not be counted.
	server_cmd "call 2 30" >/dev/null
	server_cmd "call 3 5" >/dev/null
	server_tally "$T/before"
	attach_start a
	server_cmd "call 2 50" >/dev/null
	server_cmd "call 4 7" >/dev/null
	server_tally "$T/after"
	server_quit
	# ukcov ends by itself once the target has exited.
	wait_exit "$UK_PID" 15 "ukcov attach"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC: $(cat "$T/a.stderr")"
	grep -qx 'f_2 80' "$T/after" || fail "server tally is off: $(cat "$T/after")"
	tally_delta "$T/before" "$T/after" >"$T/delta"
	grep -qx 'f_2 50' "$T/delta" && grep -qx 'f_4 7' "$T/delta" &&
		grep -qx 'f_3 0' "$T/delta" && grep -qx 'tally_write 1' "$T/delta" ||
		fail "unexpected tally delta: $(tr '\n' ' ' <"$T/delta")"
	# Every function in the report has exactly its count since attaching.
	check_report "$T/a.cov" "$T/delta" "$T/sites"
	report_data "$T/a.cov" | grep -q ' f_2$' || fail "f_2 not reported"
	grep -Eq "^# module 0 $FIXTURES/server " "$T/a.cov" ||
		fail "module is not $FIXTURES/server: $(grep '^# module' "$T/a.cov")"
	[ -s "$T/a.stdout" ] && fail "ukcov wrote to stdout with -o: $(head -c 200 "$T/a.stdout")"
	return 0
}

test_attach_duration()
{
	local t0 t1 ms

	setup
	sites_map "$FIXTURES/server" "$T/sites"
	server_start
	t0=$(date +%s%N)
	attach_start d --duration 1s
	server_cmd "call 3 11" >/dev/null
	wait_exit "$UK_PID" 15 "ukcov attach --duration 1s"
	t1=$(date +%s%N)
	[ "$RC" -eq 0 ] || fail "ukcov attach --duration exited $RC: $(cat "$T/d.stderr")"
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 900 ] || fail "--duration 1s ended after ${ms}ms"
	alive "$SRV_PID" || fail "the server died"
	printf 'f_3 11\n' >"$T/want"
	check_report "$T/d.cov" "$T/want" "$T/sites"
	# Detached: further calls change nothing (and the target still works).
	server_cmd "call 3 2" >/dev/null
	server_tally "$T/after"
	grep -qx 'f_3 13' "$T/after" || fail "server tally is off: $(cat "$T/after")"
	server_quit
}

test_attach_sigint()
{
	setup
	sites_map "$FIXTURES/server" "$T/sites"
	server_start
	attach_start i
	server_cmd "call 5 3" >/dev/null
	server_cmd "call 0 9" >/dev/null
	kill -INT "$UK_PID"
	wait_exit "$UK_PID" 15 "ukcov attach after SIGINT"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC after SIGINT: $(cat "$T/i.stderr")"
	printf 'f_5 3\nf_0 9\n' >"$T/want"
	check_report "$T/i.cov" "$T/want" "$T/sites"
	server_tally "$T/after"
	grep -qx 'f_5 3' "$T/after" || fail "server tally is off: $(cat "$T/after")"
	server_quit
}

test_attach_sigterm_kcov()
{
	setup
	sites_map "$FIXTURES/server" "$T/sites"
	server_start
	attach_start k --format kcov --interval 20ms
	server_cmd "call 1 4" >/dev/null
	kill -TERM "$UK_PID"
	wait_exit "$UK_PID" 15 "ukcov attach after SIGTERM"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC after SIGTERM: $(cat "$T/k.stderr")"
	kcov_parse "$T/k.cov" >"$T/parsed" 2>"$T/perr" || fail "malformed kcov: $(cat "$T/perr")"
	grep '^0x' "$T/parsed" >"$T/pcs"
	[ "$(cat "$T/pcs")" = "$(awk '$2 == "f_1" { print $1 }' "$T/sites")" ] ||
		fail "kcov union is not just f_1: $(tr '\n' ' ' <"$T/pcs")"
	server_quit
}

test_attach_sigkill_leaves_no_link()
{
	local links

	need_bpftool
	setup
	# A private copy: its path is this test's alone.
	cp "$FIXTURES/server" "$T/server"
	SRV_BIN=$T/server
	sites_map "$T/server" "$T/sites"
	mkdir "$T/out"
	links=$(bpf_links "$T/")
	[ "$links" -eq 0 ] || fail "$links links on a file that did not exist"
	server_start
	UK_OUT=$T/out/cov attach_start x
	[ "$(bpf_links "$T/")" -eq 1 ] || fail "$(bpf_links "$T/") BPF links on $T/server while attached"
	server_cmd "call 6 3" >/dev/null
	kill -KILL "$UK_PID"
	wait_exit "$UK_PID" 10 "ukcov after SIGKILL"
	wait_links 0 5 "$T/"
	[ -z "$(ls -A "$T/out")" ] || fail "SIGKILL left files behind: $(ls -A "$T/out")"
	# The target lives on, unharmed by the probes ukcov left.
	server_cmd "call 6 2" >/dev/null
	server_tally "$T/after"
	grep -qx 'f_6 5' "$T/after" || fail "server tally is off: $(cat "$T/after")"
	server_quit
}

test_run_sigkill_leaves_no_link()
{
	local links line

	need_bpftool
	setup
	cp "$FIXTURES/server" "$T/server"
	mkdir "$T/out"
	mkfifo "$T/srv.in" "$T/srv.out"
	links=$(bpf_links "$T/")
	[ "$links" -eq 0 ] || fail "$links links on a file that did not exist"
	"$UKCOV" run -o "$T/out/cov" -- "$T/server" <"$T/srv.in" >"$T/srv.out" 2>"$T/err" &
	UK_PID=$!
	track "$UK_PID"
	exec 7>"$T/srv.in" 8<"$T/srv.out"
	# The server prints "ready" after exec, when the probes are attached.
	read -r -t 20 -u 8 line || fail "server under ukcov run did not start: $(cat "$T/err")"
	[ "$line" = ready ] || fail "server said '$line'"
	[ "$(bpf_links "$T/")" -eq 1 ] || fail "$(bpf_links "$T/") BPF links on $T/server while running"
	printf 'call 1 1\n' >&7
	read -r -t 10 -u 8 line || fail "no answer from the server"
	# The server is ukcov's child; whatever happens to it, cleanup stops it.
	SRV_PID=$(pgrep -P "$UK_PID") && track "$SRV_PID"
	kill -KILL "$UK_PID"
	wait_exit "$UK_PID" 10 "ukcov after SIGKILL"
	wait_links 0 5 "$T/"
	[ -z "$(ls -A "$T/out")" ] || fail "SIGKILL left files behind: $(ls -A "$T/out")"
	return 0
}
