# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Faults: ukcov killed at random moments (a fixed-seed PRNG picks them),
# targets that crash, exec or die before they start, a full output
# filesystem, ring consumers that die, two collectors on one process; and
# privileges: the capabilities ukcov keeps after attach, the user `run`
# gives the command (sudo, --user), outputs in shared directories.
#
# After every fault: no BPF link left on the test's private copies of the
# fixtures (bpf_links "$T/"), no file but complete outputs (and no temp
# name) in the output directory, and the target unharmed: it answers and
# ends with the right tally.

MANY_FUNCS=4000		# g_1000..g_4999 in fault_many

# Under strace an ASan build of ukcov must not look for leaks at exit:
# LeakSanitizer refuses to run under ptrace and fails the exit status.
STRACE_ENV=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")

# faults_setup: setup, $T reachable by everybody (the command may run as
# nobody), private copies of the fixtures in $T/bin, outputs in $T/out.
faults_setup()
{
	need_bpftool
	setup
	chmod 755 "$T"
	mkdir "$T/bin" "$T/out"
	cp "$FIXTURES/fault_many" "$FIXTURES/tally" "$FIXTURES/server" \
		"$FIXTURES/fault_whoami" "$FIXTURES/ring_target" "$T/bin/"
	chmod -R a+rX "$T/bin"
	[ "$(bpf_links "$T/")" -eq 0 ] || fail "links on files that did not exist"
}

# sleep_ms MS
sleep_ms()
{
	sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

# many_start: fault_many -i on fifos (fds 7 and 8, like server_start), MANY_PID.
many_start()
{
	local line

	rm -f "$T/many.in" "$T/many.out"
	mkfifo "$T/many.in" "$T/many.out"
	"$T/bin/fault_many" -i <"$T/many.in" >"$T/many.out" 2>"$T/many.err" &
	MANY_PID=$!
	track "$MANY_PID"
	exec 7>"$T/many.in" 8<"$T/many.out"
	read -r -t 10 -u 8 line || fail "fault_many did not start: $(cat "$T/many.err")"
	[ "$line" = ready ] || fail "fault_many said '$line', not ready"
	MANY_ROUNDS=0
}

# many_round: one round of every g_ function; the answer proves the target alive.
many_round()
{
	local line

	printf 'go\n' >&7 || fail "fault_many: cannot send"
	read -r -t 20 -u 8 line || fail "fault_many did not answer (alive: $(alive "$MANY_PID" && echo yes || echo no))"
	[ "$line" = ok ] || fail "fault_many said '$line'"
	MANY_ROUNDS=$((MANY_ROUNDS + 1))
}

# many_quit: ends fault_many; its count of rounds must be ours.
many_quit()
{
	local line

	exec 7>&-
	read -r -t 10 -u 8 line || fail "fault_many did not end"
	[ "$line" = "rounds $MANY_ROUNDS" ] || fail "fault_many said '$line', expected rounds $MANY_ROUNDS"
	wait_exit "$MANY_PID" 10 fault_many
	exec 8<&-
	[ "$RC" -eq 0 ] || fail "fault_many exited $RC"
}

# complete_text FILE: a whole text report (header, summary that agrees with
# the data, a final newline), not a piece of one.
complete_text()
{
	head -n 1 "$1" | grep -Eq '^# ukcov [0-9][^ ]* text coverage$' ||
		fail "$1 does not start like a report: $(head -c 100 "$1")"
	grep -q '^# PC COUNT ' "$1" || fail "$1 has no column header"
	[ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1 does not end with a newline"
	check_summary "$1"
}

# only_outputs DIR NAME...: DIR holds nothing but complete reports among NAMEs.
only_outputs()
{
	local dir=$1 f

	shift
	# Dot names too: a temp file would be one.
	for f in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		f=${f##*/}
		case " $* " in
		*" $f "*) complete_text "$dir/$f" ;;
		*) fail "left in $dir: $f ($(ls -A "$dir" | tr '\n' ' '))" ;;
		esac
	done
	return 0
}

# wait_exec PID: PID (started through env) now runs ukcov itself,
# whose signal dispositions are its own: a background job's SIGINT is
# ignored until env resets it.
wait_exec()
{
	local i want

	want=$(readlink -f "$UKCOV")
	for ((i = 0; i < 1000; i++)); do
		[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$want" ] && return 0
		alive "$1" || fail "pid $1 ended before it ran ukcov"
		sleep 0.01
	done
	fail "pid $1 does not run ukcov"
}

# cmd_gone PATH SECS: no process runs PATH (one of this test's private
# copies in $T/bin) any more, nor a fork of ukcov waiting to exec it:
# after ukcov stopped, the command it started may live on.
cmd_gone()
{
	local i

	for ((i = 0; i < $2 * 20; i++)); do
		pgrep -f -- "$1" >/dev/null || return 0
		sleep 0.05
	done
	fail "still running: $(pgrep -a -f -- "$1" | tr '\n' ' ')"
}

# ---- ukcov killed at random moments ---------------------------------------

# Attach to fault_many (4000 sites, a 4000-line report) and signal ukcov
# during attach, during drains, or while it writes its report (after a
# SIGINT made it stop).  Whatever the moment: no link, no partial file,
# and fault_many keeps answering with the right count of rounds.
test_fault_attach_killed_at_random()
{
	local i sig phase ms rc out

	faults_setup
	many_start
	RANDOM=9001
	for ((i = 0; i < 12; i++)); do
		sig=$(((i % 3) == 0 ? 2 : (i % 3) == 1 ? 15 : 9))
		phase=$((RANDOM % 3))
		ms=$((RANDOM % (phase == 2 ? 60 : 300)))
		out=a$i.txt
		env --default-signal=INT,TERM "$UKCOV" attach -p "$MANY_PID" -i 20ms \
			-o "$T/out/$out" >/dev/null 2>"$T/a$i.err" &
		UK_PID=$!
		track "$UK_PID"
		wait_exec "$UK_PID"
		case $phase in
		0)	# starting, reading sites, attaching
			sleep_ms "$ms"
			kill -"$sig" "$UK_PID"
			;;
		1)	# attached, draining every 20 ms while the target runs
			wait_line "$T/a$i.err" '^ukcov: attached' 20 "$UK_PID"
			many_round
			sleep_ms "$ms"
			kill -"$sig" "$UK_PID"
			;;
		2)	# stopping: detach, last drain, writing the report
			wait_line "$T/a$i.err" '^ukcov: attached' 20 "$UK_PID"
			many_round
			kill -INT "$UK_PID"
			sleep_ms "$ms"
			kill -"$sig" "$UK_PID" 2>/dev/null
			;;
		esac
		wait_exit "$UK_PID" 20 "ukcov attach (signal $sig, phase $phase, ${ms}ms)"
		rc=$RC
		echo "iteration $i: signal $sig phase $phase after ${ms}ms: exit $rc"
		wait_links 0 5 "$T/"
		only_outputs "$T/out" "$out"
		# A clean end writes the report; any other end writes nothing.
		if [ "$rc" -eq 0 ]; then
			[ -f "$T/out/$out" ] || fail "exit 0 without a report (iteration $i)"
		elif [ -e "$T/out/$out" ] && [ "$sig" -ne 9 ]; then
			fail "exit $rc with a report (iteration $i): $(cat "$T/a$i.err")"
		fi
		case $rc in
		0|1|130|143|137) ;;
		*) fail "iteration $i: unexpected exit $rc: $(cat "$T/a$i.err")" ;;
		esac
		[ "$rc" -eq 1 ] && fail "iteration $i: ukcov failed: $(cat "$T/a$i.err")"
		rm -f "$T/out/$out"
		many_round
	done
	many_quit
}

# `ukcov run` killed at random moments (before the command starts, while
# probes are attached to fault_many and libc, while it runs, while the
# report is written): the command either never starts or runs to its end
# unharmed, and nothing is left behind.
test_fault_run_killed_at_random()
{
	local i sig ms rc out libs

	faults_setup
	RANDOM=4242
	for ((i = 0; i < 9; i++)); do
		sig=$(((i % 3) == 0 ? 2 : (i % 3) == 1 ? 15 : 9))
		ms=$((RANDOM % 1300))
		libs=()
		((i % 2)) && libs=(--libs)
		out=r$i.txt
		env --default-signal=INT,TERM "$UKCOV" run "${libs[@]}" -i 20ms \
			-o "$T/out/$out" -- "$T/bin/fault_many" -n 10 \
			>"$T/r$i.stdout" 2>"$T/r$i.err" </dev/null &
		UK_PID=$!
		track "$UK_PID"
		wait_exec "$UK_PID"
		sleep_ms "$ms"
		kill -"$sig" "$UK_PID" 2>/dev/null
		wait_exit "$UK_PID" 30 "ukcov run (signal $sig after ${ms}ms)"
		rc=$RC
		# The command outlives ukcov when ukcov stopped first.
		cmd_gone "$T/bin/fault_many" 30
		echo "iteration $i: signal $sig ${libs[*]} after ${ms}ms: exit $rc," \
			"command: $(tr '\n' ' ' <"$T/r$i.stdout")"
		wait_links 0 5 "$T/"
		only_outputs "$T/out" "$out"
		case $(tr '\n' ' ' <"$T/r$i.stdout") in
		"") ;;				# ukcov died before it let the command go
		"start rounds 10 ") ;;		# ran to its end
		*) fail "iteration $i: the command was harmed: $(cat "$T/r$i.stdout")" ;;
		esac
		case $rc in
		0) [ -f "$T/out/$out" ] || fail "exit 0 without a report (iteration $i)" ;;
		130|143) ;;			# stopped cleanly (report) or before it began (none)
		137) ;;
		*) fail "iteration $i: unexpected exit $rc: $(cat "$T/r$i.err")" ;;
		esac
		rm -f "$T/out/$out"
	done
}

# ---- the target misbehaves ----------------------------------------------------

test_fault_target_segfaults()
{
	faults_setup
	sites_map "$T/bin/tally" "$T/sites"
	TALLY_OUT=$T/tally.out "$UKCOV" run -o "$T/out/c.txt" -- "$T/bin/tally" -t 2 -n 20 -s 11 \
		>/dev/null 2>"$T/err"
	RC=$?
	[ "$RC" -eq 139 ] || fail "a SIGSEGV'd command gave exit $RC, expected 139: $(cat "$T/err")"
	grep -qx '# exit: 139' "$T/out/c.txt" || fail "no '# exit: 139' in the report"
	grep -qx 'f_5 240' "$T/tally.out" || fail "tally is off: $(cat "$T/tally.out")"
	check_report "$T/out/c.txt" "$T/tally.out" "$T/sites"
	only_outputs "$T/out" c.txt
	wait_links 0 5 "$T/"
}

# The command execs another binary: ukcov follows the same process, names
# the new binary, and passes on the exit status of what it became.
test_fault_target_execs()
{
	faults_setup
	TALLY_OUT=$T/tally.out "$UKCOV" run -o "$T/out/e.txt" -- /usr/bin/env \
		"$T/bin/tally" -n 5 -e 7 >/dev/null 2>"$T/err"
	RC=$?
	[ "$RC" -eq 7 ] || fail "exit $RC, expected the exec'd tally's 7: $(cat "$T/err")"
	grep -qx 'f_5 30' "$T/tally.out" || fail "the exec'd tally did not run: $(cat "$T/tally.out" 2>&1)"
	grep -Eq "^# exec: [0-9]+ $T/bin/tally\$" "$T/out/e.txt" ||
		fail "no '# exec:' line for tally: $(grep '^#' "$T/out/e.txt" | tr '\n' ' ')"
	grep -qx '# exit: 7' "$T/out/e.txt" || fail "no '# exit: 7' in the report"
	only_outputs "$T/out" e.txt
	wait_links 0 5 "$T/"
}

# expect_exec_failure CODE RE FILE: `ukcov run FILE` forks, attaches, and the
# exec fails: one message, the exit code, nothing left.
expect_exec_failure()
{
	local want=$1 re=$2

	"$UKCOV" run -o "$T/out/x.txt" -- "$3" >"$T/x.stdout" 2>"$T/x.err"
	RC=$?
	[ "$RC" -eq "$want" ] || fail "$3: exit $RC, expected $want: $(cat "$T/x.err")"
	[ "$(wc -l <"$T/x.err")" -eq 1 ] && grep -Eq "^ukcov: .*$re" "$T/x.err" ||
		fail "$3: expected one line matching /$re/: $(cat "$T/x.err")"
	[ -s "$T/x.stdout" ] && fail "$3 printed something: $(cat "$T/x.stdout")"
	only_outputs "$T/out"
	wait_links 0 5 "$T/"
}

# The executable is a good ELF for ukcov, but the kernel will not run it:
# a missing program interpreter, or another machine (e_machine patched).
test_fault_exec_fails_missing_interpreter()
{
	local off

	faults_setup
	cp "$T/bin/tally" "$T/bin/nointerp"
	off=$(grep -boa 'ld-linux-x86-64.so.2' "$T/bin/nointerp" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || skip "no x86-64 program interpreter in tally"
	printf 'zz' | dd of="$T/bin/nointerp" bs=1 seek="$off" conv=notrunc status=none
	expect_exec_failure 127 'No such file or directory' "$T/bin/nointerp"
}

# A binary for another machine is refused before anything is forked or
# attached (were it accepted, the exec would fail: Exec format error, 126).
test_fault_exec_fails_foreign_machine()
{
	faults_setup
	cp "$T/bin/tally" "$T/bin/arm"
	# e_machine, at offset 18: EM_AARCH64 (183).
	printf '\267\000' | dd of="$T/bin/arm" bs=1 seek=18 conv=notrunc status=none
	if "$UKCOV" sites "$T/bin/arm" >/dev/null 2>&1; then
		expect_exec_failure 126 'Exec format error' "$T/bin/arm"
	else
		expect_exec_failure 125 'another machine' "$T/bin/arm"
	fi
}

# proc_field PID FIELD: FIELD (State, ...) of /proc/PID/status, first word.
proc_field()
{
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null
}

# in_go_read PID: PID, ukcov's fork, sleeps in read(2) (syscall 0) on the
# pipe that lets it go: it has not been let go.
in_go_read()
{
	local nr

	[ "$(proc_field "$1" State)" = S ] || return 1
	read -r nr _ <"/proc/$1/syscall" 2>/dev/null || return 1
	[ "$nr" = 0 ]
}

# The command is killed between fork and exec: ukcov reports it, passes its
# status on, leaves nothing.  Deterministic: ukcov is stopped (SIGSTOP) as
# soon as it has forked, and the fork is killed only once it is seen asleep
# in read(2) on its go pipe with ukcov stopped - then no byte can be on
# the way, since a write would have woken it, and only ukcov writes - and
# ukcov goes on only once the fork is a zombie.
test_fault_target_killed_before_start()
{
	local i try child state

	faults_setup
	for ((i = 0; i < 4; i++)); do
		for ((try = 0; try < 10; try++)); do
			"$UKCOV" run --libs -o "$T/out/k.txt" -- "$T/bin/fault_many" -n 1 \
				>"$T/k.stdout" 2>"$T/k.err" </dev/null &
			UK_PID=$!
			track "$UK_PID"
			child=
			SECONDS=0
			while [ -z "$child" ] && alive "$UK_PID" && [ "$SECONDS" -lt 20 ]; do
				read -r child _ <"/proc/$UK_PID/task/$UK_PID/children" 2>/dev/null
			done
			[ -n "$child" ] || fail "ukcov ended before forking: $(cat "$T/k.err")"
			kill -STOP "$UK_PID"
			for ((state = 0; state < 500; state++)); do
				[ "$(proc_field "$UK_PID" State)" = T ] && break
				sleep 0.01
			done
			[ "$(proc_field "$UK_PID" State)" = T ] || fail "ukcov does not stop"
			# Until the fork is in its read, or has been let go (exec'd).
			for ((state = 0; state < 500; state++)); do
				in_go_read "$child" && break
				[ "$(readlink "/proc/$child/exe")" = "$(readlink -f "$UKCOV")" ] || break
				sleep 0.01
			done
			in_go_read "$child" && break
			# Too late: ukcov had let it go.  Let this one end and try again.
			kill -CONT "$UK_PID"
			wait_exit "$UK_PID" 30 "ukcov run (let go before it was stopped)"
			cmd_gone "$T/bin/fault_many" 10
			rm -f "$T/out/k.txt"
		done
		in_go_read "$child" || fail "never stopped ukcov before it let its command go"
		kill -KILL "$child"
		# Dead, not dying: a fork still being killed would take the go
		# byte into its pipe and look, to ukcov, like one that exec'd.
		for ((state = 0; state < 500; state++)); do
			[ "$(proc_field "$child" State)" = Z ] && break
			sleep 0.01
		done
		[ "$(proc_field "$child" State)" = Z ] || fail "the killed fork does not die"
		kill -CONT "$UK_PID"
		wait_exit "$UK_PID" 20 "ukcov run"
		cmd_gone "$T/bin/fault_many" 10
		wait_links 0 5 "$T/"
		[ "$RC" -eq 137 ] || fail "exit $RC, expected 137 (the command's SIGKILL): $(cat "$T/k.err")"
		[ "$(grep -cv '^ukcov: warning: ' "$T/k.err")" -eq 1 ] &&
			grep -qx "ukcov: $T/bin/fault_many: died before it could start (signal 9)" "$T/k.err" ||
			fail "expected one 'died before it could start' line: $(cat "$T/k.err")"
		only_outputs "$T/out"
		[ -s "$T/k.stdout" ] && fail "the killed command printed: $(cat "$T/k.stdout")"
		echo "iteration $i: killed before its start after $try late tries"
	done
}

# ---- the output filesystem is full ------------------------------------------

full_mount()
{
	mkdir "$T/full"
	mount -t tmpfs -o size=16k,mode=0755 ukcov-test "$T/full" || skip "cannot mount a tmpfs"
	trap 'umount "$T/full" 2>/dev/null; cleanup' EXIT
}

# expect_enospc CODE: ukcov's exit status in $RC, its stderr in $T/f.err.
expect_enospc()
{
	[ "$RC" -eq "$1" ] || fail "exit $RC, expected $1: $(cat "$T/f.err")"
	[ "$(wc -l <"$T/f.err")" -eq 1 ] && grep -q '^ukcov: .*No space left on device' "$T/f.err" ||
		fail "expected one ENOSPC line: $(cat "$T/f.err")"
	[ -z "$(ls -A "$T/full")" ] || fail "left on the full filesystem: $(ls -A "$T/full")"
	[ "$(df -k --output=used "$T/full" | tail -n 1 | tr -d ' ')" -eq 0 ] ||
		fail "space still in use on the full filesystem: $(df -k "$T/full" | tail -n 1)"
	wait_links 0 5 "$T/"
}

test_fault_output_filesystem_full()
{
	faults_setup
	full_mount
	# run, text: 4000 lines do not fit in 16k; found at the end.
	"$UKCOV" run -o "$T/full/big.txt" -- "$T/bin/fault_many" >"$T/f.stdout" 2>"$T/f.err"
	RC=$?
	expect_enospc 125
	[ "$(tr '\n' ' ' <"$T/f.stdout")" = "start rounds 1 " ] || fail "the command was harmed: $(cat "$T/f.stdout")"

	# run, kcov: the stream fills it while the command runs; ukcov stops,
	# the command goes on unprobed.
	"$UKCOV" run -o "$T/full/big.kcov" -i 10ms -- "$T/bin/fault_many" -n 30 \
		>"$T/f.stdout" 2>"$T/f.err" </dev/null &
	UK_PID=$!
	track "$UK_PID"
	wait_exit "$UK_PID" 30 "ukcov run -o full/big.kcov"
	cmd_gone "$T/bin/fault_many" 30
	expect_enospc 125
	[ "$(tr '\n' ' ' <"$T/f.stdout")" = "start rounds 30 " ] || fail "the command was harmed: $(cat "$T/f.stdout")"

	# attach, text.
	many_start
	"$UKCOV" attach -p "$MANY_PID" -o "$T/full/big.txt" >/dev/null 2>"$T/f.err" &
	UK_PID=$!
	track "$UK_PID"
	wait_line "$T/f.err" '^ukcov: attached' 20 "$UK_PID"
	many_round
	kill -INT "$UK_PID"
	wait_exit "$UK_PID" 20 "ukcov attach -o full/big.txt"
	sed -i '/^ukcov: attached/d' "$T/f.err"
	expect_enospc 1
	many_round
	many_quit
	umount "$T/full" || fail "cannot unmount the full filesystem"
}

# ---- a FIFO's reader stops reading --------------------------------------------

# The reader of a FIFO output holds it open but never reads: the 4000-line
# report fills the pipe and ukcov waits, but a SIGINT ends the wait (its
# signals are blocked, so a plain blocking write would never return).
test_fault_fifo_reader_stalls()
{
	local i

	faults_setup
	mkfifo "$T/out/pipe"
	exec 9<>"$T/out/pipe"	# a reader that never reads
	"$UKCOV" run -o "$T/out/pipe" -- "$T/bin/fault_many" >"$T/p.stdout" 2>"$T/p.err" </dev/null &
	UK_PID=$!
	track "$UK_PID"
	for ((i = 0; i < 500; i++)); do
		grep -q '^rounds 1$' "$T/p.stdout" 2>/dev/null && break
		alive "$UK_PID" || break
		sleep 0.02
	done
	grep -q '^rounds 1$' "$T/p.stdout" || fail "the command did not run: $(cat "$T/p.err")"
	sleep 1
	alive "$UK_PID" || fail "ukcov did not wait for the stalled reader: $(cat "$T/p.err")"
	kill -INT "$UK_PID"
	wait_exit "$UK_PID" 10 "ukcov run -o FIFO with a stalled reader, after SIGINT"
	exec 9<&-
	[ "$RC" -eq 125 ] || fail "exit $RC, expected 125: $(cat "$T/p.err")"
	[ "$(wc -l <"$T/p.err")" -eq 1 ] && grep -q "^ukcov: writing $T/out/pipe: Interrupted system call" "$T/p.err" ||
		fail "expected one EINTR line: $(cat "$T/p.err")"
	[ -p "$T/out/pipe" ] || fail "the FIFO was replaced"
	wait_links 0 5 "$T/"
}

# ---- the ring's consumer dies -------------------------------------------------

# Consumers are SIGKILLed at random moments of their collect (opening,
# requesting, waiting); ukcov keeps serving the next one, and ends cleanly
# with exact counts.
test_fault_ring_consumer_dies()
{
	local i ms pid line ret inputs=0

	faults_setup
	sites_map "$T/bin/ring_target" "$T/sites"
	mkfifo "$T/rt.in" "$T/rt.out"
	"$UKCOV" run --ring "$T/ring" -o "$T/out/ring.txt" -i 1h -- "$T/bin/ring_target" \
		<"$T/rt.in" >"$T/rt.out" 2>"$T/rt.err" &
	UK_PID=$!
	track "$UK_PID"
	exec 7>"$T/rt.in" 8<"$T/rt.out"
	read -r -t 20 -u 8 line || fail "ring_target did not start: $(cat "$T/rt.err")"
	[ "$line" = ready ] || fail "ring_target said '$line'"
	RANDOM=77
	for ((i = 0; i < 20; i++)); do
		"$FIXTURES/ring_collect" "$T/ring" 2000 >/dev/null 2>&1 &
		pid=$!
		ms=$((RANDOM % 4))
		printf 'ab\n' >&7
		read -r -t 10 -u 8 line || fail "ring_target did not answer"
		inputs=$((inputs + 1))
		sleep_ms "$ms"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# One consumer stopped in the middle of its wait, then killed.
	"$FIXTURES/ring_collect" "$T/ring" 5000 >/dev/null 2>&1 &
	pid=$!
	kill -STOP "$pid"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	# ukcov still serves.
	"$FIXTURES/ring_collect" "$T/ring" 2000 >"$T/c" || fail "ring_collect: $(cat "$T/c")"
	read -r _ ret _ <"$T/c"
	[ "$ret" -ge 0 ] || fail "collect after dead consumers returned $ret"
	exec 7>&-
	wait_exit "$UK_PID" 20 "ukcov run --ring"
	exec 8<&-
	[ "$RC" -eq 0 ] || fail "ukcov exited $RC: $(cat "$T/rt.err")"
	printf 'handle_input %d\nfn_a %d\nfn_b %d\n' "$inputs" "$inputs" "$inputs" >"$T/want"
	report_data "$T/out/ring.txt" | awk '$3 ~ /^(handle_input|fn_)/ { print $3, $2 }' |
		sort >"$T/got"
	sort "$T/want" | cmp -s - "$T/got" || fail "counts: $(tr '\n' ' ' <"$T/got"), expected $(tr '\n' ' ' <"$T/want")"
	complete_text "$T/out/ring.txt"
	wait_links 0 5 "$T/"
}

# ---- two collectors, one process ------------------------------------------------

# Two `ukcov attach` on the same pid: each has its own links and counters,
# each counts exactly what ran while it was attached, each detaches alone.
test_fault_two_collectors_same_pid()
{
	local a b

	faults_setup
	# shellcheck disable=SC2034 # server_start's
	SRV_BIN=$T/bin/server
	sites_map "$T/bin/server" "$T/sites"
	server_start
	server_cmd "call 1 5" >/dev/null
	server_tally "$T/t0"
	"$UKCOV" attach -p "$SRV_PID" -o "$T/out/a.txt" >/dev/null 2>"$T/a.err" &
	a=$!
	track "$a"
	"$UKCOV" attach -p "$SRV_PID" -o "$T/out/b.txt" >/dev/null 2>"$T/b.err" &
	b=$!
	track "$b"
	wait_line "$T/a.err" '^ukcov: attached' 20 "$a"
	wait_line "$T/b.err" '^ukcov: attached' 20 "$b"
	[ "$(bpf_links "$T/")" -eq 2 ] || fail "$(bpf_links "$T/") links on the server, expected 2"
	server_cmd "call 2 40" >/dev/null
	server_cmd "call 5 3" >/dev/null
	server_tally "$T/t1"
	kill -INT "$a"
	wait_exit "$a" 15 "first ukcov attach"
	[ "$RC" -eq 0 ] || fail "first ukcov exited $RC: $(cat "$T/a.err")"
	wait_links 1 5 "$T/"
	# Only the second one is left to see these.
	server_cmd "call 3 7" >/dev/null
	server_tally "$T/t2"
	kill -INT "$b"
	wait_exit "$b" 15 "second ukcov attach"
	[ "$RC" -eq 0 ] || fail "second ukcov exited $RC: $(cat "$T/b.err")"
	wait_links 0 5 "$T/"
	tally_delta "$T/t0" "$T/t1" >"$T/d1"
	tally_delta "$T/t0" "$T/t2" >"$T/d2"
	grep -qx 'f_2 40' "$T/d1" && grep -qx 'f_3 7' "$T/d2" || fail "server tally is off"
	check_report "$T/out/a.txt" "$T/d1" "$T/sites"
	check_report "$T/out/b.txt" "$T/d2" "$T/sites"
	server_cmd "call 4 1" >/dev/null
	server_quit
}

# server2_start: a second server ($T/bin/server) on fds 5 (commands) and 6
# (answers), beside server_start's on 7 and 8; SRV2_PID.
server2_start()
{
	local line

	mkfifo "$T/srv2.in" "$T/srv2.out" || fail "mkfifo failed"
	"$T/bin/server" <"$T/srv2.in" >"$T/srv2.out" 2>"$T/srv2.err" &
	SRV2_PID=$!
	track "$SRV2_PID"
	exec 5>"$T/srv2.in" 6<"$T/srv2.out"
	read -r -t 10 -u 6 line || fail "second server did not start: $(cat "$T/srv2.err")"
	[ "$line" = ready ] || fail "second server said '$line', not ready"
}

# server2_cmd CMD, server2_tally FILE, server2_quit: server_cmd & co. for it.
server2_cmd()
{
	local line

	printf '%s\n' "$1" >&5 || fail "second server: cannot send '$1'"
	while :; do
		read -r -t 10 -u 6 line || fail "second server: no answer to '$1'"
		printf '%s\n' "$line"
		case $line in
		ok|end) return 0 ;;
		error) fail "second server: '$1' was refused" ;;
		esac
	done
}

server2_tally()
{
	server2_cmd tally | grep -v '^end$' >"$1"
	grep -q '^f_0 ' "$1" || fail "second server tally is malformed: $(cat "$1")"
}

server2_quit()
{
	printf 'quit\n' >&5
	exec 5>&-
	wait_exit "$SRV2_PID" 10 "second server"
	exec 6<&-
	[ "$RC" -eq 0 ] || fail "second server exited $RC"
}

# Two `ukcov attach` on two processes of one binary: both link the same
# file, yet each counts exactly its own process's calls, none of the
# other's, before and after the other one detaches.
test_fault_two_collectors_same_binary()
{
	local a b

	faults_setup
	# shellcheck disable=SC2034 # server_start's
	SRV_BIN=$T/bin/server
	sites_map "$T/bin/server" "$T/sites"
	server_start
	server2_start
	server_tally "$T/a0"
	server2_tally "$T/b0"
	"$UKCOV" attach -p "$SRV_PID" -o "$T/out/a.txt" >/dev/null 2>"$T/a.err" &
	a=$!
	track "$a"
	"$UKCOV" attach -p "$SRV2_PID" -o "$T/out/b.txt" >/dev/null 2>"$T/b.err" &
	b=$!
	track "$b"
	wait_line "$T/a.err" '^ukcov: attached' 20 "$a"
	wait_line "$T/b.err" '^ukcov: attached' 20 "$b"
	[ "$(bpf_links "$T/bin/server")" -eq 2 ] ||
		fail "$(bpf_links "$T/bin/server") links on the server binary, expected 2"
	# Different calls on each, interleaved.
	server_cmd "call 2 40" >/dev/null
	server2_cmd "call 3 7" >/dev/null
	server_cmd "call 5 3" >/dev/null
	server2_cmd "call 5 11" >/dev/null
	server_tally "$T/a1"
	kill -INT "$a"
	wait_exit "$a" 15 "ukcov attach to the first server"
	[ "$RC" -eq 0 ] || fail "first ukcov exited $RC: $(cat "$T/a.err")"
	wait_links 1 5 "$T/bin/server"
	# The first one gone, the second still counts only its own.
	server_cmd "call 1 9" >/dev/null
	server2_cmd "call 4 2" >/dev/null
	server2_tally "$T/b1"
	kill -INT "$b"
	wait_exit "$b" 15 "ukcov attach to the second server"
	[ "$RC" -eq 0 ] || fail "second ukcov exited $RC: $(cat "$T/b.err")"
	wait_links 0 5 "$T/"
	tally_delta "$T/a0" "$T/a1" >"$T/da"
	tally_delta "$T/b0" "$T/b1" >"$T/db"
	grep -qx 'f_2 40' "$T/da" && grep -qx 'f_5 3' "$T/da" && grep -qx 'f_3 0' "$T/da" ||
		fail "first server's tally is off: $(tr '\n' ' ' <"$T/da")"
	grep -qx 'f_3 7' "$T/db" && grep -qx 'f_5 11' "$T/db" && grep -qx 'f_4 2' "$T/db" &&
		grep -qx 'f_2 0' "$T/db" || fail "second server's tally is off: $(tr '\n' ' ' <"$T/db")"
	check_report "$T/out/a.txt" "$T/da" "$T/sites"
	check_report "$T/out/b.txt" "$T/db" "$T/sites"
	only_outputs "$T/out" a.txt b.txt
	server_quit
	server2_quit
}

# fdinfo_links PID: the ids of the BPF links PID holds, one per line.
fdinfo_links()
{
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "link_id:" { print $2 }' | sort -n
}

# fdinfo_uprobe_links PID: how many of them are uprobe_multi links.
fdinfo_uprobe_links()
{
	local n

	n=$(cat /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '$1 == "link_type:" && $2 == "uprobe_multi" { n++ } END { print n + 0 }')
	echo "${n:-0}"
}

# The attached process dies while ukcov attaches its modules (--libs):
# one clear line, exit 1, no report, and none of the links ukcov had made
# survives it.  Deterministic: strace delays ukcov's second uprobe_multi
# link by 4 s (which bpf(2) call that is comes from a dry run of the same
# command), and the process is killed in that pause, after the first link.
# The links checked are the ones ukcov itself held (/proc/PID/fdinfo), not
# a system-wide count that other tests could change.
test_fault_attach_target_exits_mid_attach()
{
	local k n ids id st=("${STRACE_ENV[@]}" strace -qq -o /dev/null -e trace=bpf) tracer uk i

	faults_setup
	command -v strace >/dev/null || skip "strace is not installed"
	many_start
	"${STRACE_ENV[@]}" strace -qq -o "$T/dry.log" -e trace=bpf "$UKCOV" attach -p "$MANY_PID" --libs \
		--duration 200ms -o "$T/dry.txt" >/dev/null 2>"$T/dry.err" ||
		fail "dry run: exit $?: $(cat "$T/dry.err")"
	n=$(grep -c 'BPF_LINK_CREATE.*attach_type=\(0x30\|BPF_TRACE_UPROBE_MULTI\)' "$T/dry.log")
	[ "$n" -ge 2 ] || skip "fewer than two modules to attach ($n)"
	k=$(grep '^bpf(' "$T/dry.log" | grep -n 'BPF_LINK_CREATE.*attach_type=\(0x30\|BPF_TRACE_UPROBE_MULTI\)' |
		sed -n 2p | cut -d: -f1)
	"${st[@]}" -e inject=bpf:delay_enter=4000000:when="$k" "$UKCOV" attach -p "$MANY_PID" \
		--libs -o "$T/out/m.txt" >/dev/null 2>"$T/m.err" &
	tracer=$!
	track "$tracer"
	uk=
	for ((i = 0; i < 1000; i++)); do
		[ -n "$uk" ] || read -r uk _ <"/proc/$tracer/task/$tracer/children" 2>/dev/null
		[ -n "$uk" ] && [ "$(fdinfo_uprobe_links "$uk")" -ge 1 ] && break
		alive "$tracer" || break
		sleep 0.01
	done
	[ -n "$uk" ] && [ "$(fdinfo_uprobe_links "$uk")" -eq 1 ] ||
		fail "ukcov did not pause after its first link: $(cat "$T/m.err")"
	grep -q 'attached to pid' "$T/m.err" && fail "ukcov had finished attaching"
	ids=$(fdinfo_links "$uk")
	kill -KILL "$MANY_PID"
	wait "$MANY_PID" 2>/dev/null
	exec 7>&- 8<&-
	wait_exit "$tracer" 20 "ukcov attach (its process killed mid-attach)"
	[ "$RC" -eq 1 ] || fail "exit $RC, expected 1: $(cat "$T/m.err")"
	# One error line; warnings (processes outside the tree mapping libc) aside.
	[ "$(grep -cv '^ukcov: warning: ' "$T/m.err")" -eq 1 ] &&
		grep -Eq "^ukcov: attaching to [^ ]+: process $MANY_PID is gone\$" "$T/m.err" ||
		fail "expected one 'process $MANY_PID is gone' line: $(cat "$T/m.err")"
	only_outputs "$T/out"
	for id in $ids; do
		for ((i = 0; i < 100; i++)); do
			bpftool link show id "$id" >/dev/null 2>&1 || continue 2
			sleep 0.05
		done
		fail "link $id of the dead ukcov is still there"
	done
	wait_links 0 5 "$T/"
	echo "links ukcov held when its process died: $(echo "$ids" | tr '\n' ' ')"
}

# ---- privileges -----------------------------------------------------------------

# cap_line PID FIELD: the hex value of FIELD (CapEff, CapPrm, ...) in /proc/PID/status.
cap_line()
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# caps_after_attach WANT-HEX ARGS...: attaches with ARGS to $MANY_PID and
# checks ukcov's capability sets once attached.
caps_after_attach()
{
	local want=$1 pid f

	shift
	"$UKCOV" attach -p "$MANY_PID" "$@" >/dev/null 2>"$T/c.err" &
	pid=$!
	track "$pid"
	wait_line "$T/c.err" '^ukcov: attached' 20 "$pid"
	for f in CapEff CapPrm CapBnd; do
		[ "$(cap_line "$pid" "$f")" = "$want" ] ||
			fail "attach $*: $f $(cap_line "$pid" "$f"), expected $want"
	done
	[ "$(cap_line "$pid" CapInh)" = 0000000000000000 ] || fail "attach $*: inheritable caps left"
	[ "$(cap_line "$pid" CapAmb)" = 0000000000000000 ] || fail "attach $*: ambient caps left"
	[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status")" = 1 ] ||
		fail "attach $*: no_new_privs is not set"
	# The ids stay root's (README: what is not dropped).
	[ "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$pid/status")" = "0 0 0 0" ] ||
		fail "attach $*: uids $(grep '^Uid:' "/proc/$pid/status")"
	many_round
	kill -INT "$pid"
	wait_exit "$pid" 15 "ukcov attach $*"
	[ "$RC" -eq 0 ] || fail "attach $*: exit $RC: $(cat "$T/c.err")"
}

# After attach ukcov keeps CAP_SYS_PTRACE only (naming what followed
# processes exec), plus what committing its outputs needs; and the outputs
# still get written.
test_privs_dropped_after_attach()
{
	local ptrace=0000000000080000 dac=0000000000080002 grow

	faults_setup
	many_start
	caps_after_attach "$ptrace" -o "$T/out/p.txt"
	only_outputs "$T/out" p.txt
	report_data "$T/out/p.txt" | awk '$2 != 1 { bad = 1 } END { exit bad }' ||
		fail "not every g_ function counted once"
	[ "$(report_data "$T/out/p.txt" | grep -c ' g_')" -eq "$MANY_FUNCS" ] ||
		fail "$(report_data "$T/out/p.txt" | grep -c ' g_') g_ functions reported"
	# A directory root may write to only by CAP_DAC_OVERRIDE.
	mkdir "$T/nobody"
	chown 65534:65534 "$T/nobody"
	chmod 755 "$T/nobody"
	caps_after_attach "$dac" -o "$T/nobody/n.txt"
	only_outputs "$T/nobody" n.txt
	# Growing the collection mid-run keeps what attaching takes.
	grow=$(printf '%016x' $(((1 << 39) | (1 << 38) | (1 << 40) | (1 << 19) | (1 << 2) | (1 << 5))))
	caps_after_attach "$grow" --dlopen -o "$T/out/g.txt"
	many_quit
	# attach --all follows no process: nothing at all.
	"$UKCOV" attach --all -o "$T/out/all.txt" "$T/bin/fault_many" >/dev/null 2>"$T/all.err" &
	UK_PID=$!
	track "$UK_PID"
	wait_line "$T/all.err" '^ukcov: attached' 20 "$UK_PID"
	[ "$(cap_line "$UK_PID" CapEff)" = 0000000000000000 ] ||
		fail "attach --all: CapEff $(cap_line "$UK_PID" CapEff)"
	"$T/bin/fault_many" -n 2 >/dev/null
	kill -INT "$UK_PID"
	wait_exit "$UK_PID" 15 "ukcov attach --all"
	[ "$RC" -eq 0 ] || fail "attach --all: exit $RC: $(cat "$T/all.err")"
	report_data "$T/out/all.txt" | grep -q ' 2 g_1000$' || fail "attach --all counted wrong"
	wait_links 0 5 "$T/"
}

# status_line PID FIELD: FIELD of /proc/PID/status, tabs as single spaces.
status_line()
{
	awk -v f="$1" '$1 == f ":" { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$2/status"
}

# run_status [ENV...]: starts `ukcov run -v` of the server (under env
# ENV...), waits until it has dropped its privileges; UK_PID, CMD_PID.
run_status()
{
	local line

	rm -f "$T/rs.in" "$T/rs.out"
	mkfifo "$T/rs.in" "$T/rs.out"
	env "$@" "$UKCOV" run -v -o "$T/out/rs.txt" -- "$T/bin/server" \
		<"$T/rs.in" >"$T/rs.out" 2>"$T/rs.err" &
	UK_PID=$!
	track "$UK_PID"
	exec 7>"$T/rs.in" 8<"$T/rs.out"
	read -r -t 20 -u 8 line || fail "the server did not start: $(cat "$T/rs.err")"
	[ "$line" = ready ] || fail "the server said '$line'"
	wait_line "$T/rs.err" '^ukcov: capabilities kept' 20 "$UK_PID"
	CMD_PID=
	# One line without a newline: read's status says EOF, its variable is set.
	read -r CMD_PID _ <"/proc/$UK_PID/task/$UK_PID/children"
	[ -n "$CMD_PID" ] || fail "ukcov has no child"
}

run_status_end()
{
	printf 'quit\n' >&7
	exec 7>&-
	wait_exit "$UK_PID" 20 "ukcov run"
	exec 8<&-
	[ "$RC" -eq 0 ] || fail "ukcov run: exit $RC: $(cat "$T/rs.err")"
	rm -f "$T/out/rs.txt"
}

# What ukcov and the command of `run` are, by /proc/PID/status, once the
# probes are attached: ukcov keeps uid and gid 0 (the README says why) with
# CAP_SYS_PTRACE alone, in every set including the bounding one, and
# no_new_privs; the command, forked before the drop, is untouched by it:
# without sudo ukcov's own credentials, under sudo the user's, with no
# capability at all.
test_privs_status_after_drop()
{
	local ptrace=0000000000080000 full

	faults_setup
	full=$(status_line CapEff $$)
	run_status
	[ "$(status_line Uid "$UK_PID")" = "0 0 0 0" ] ||
		fail "ukcov's uids: $(status_line Uid "$UK_PID")"
	[ "$(status_line Gid "$UK_PID")" = "0 0 0 0" ] ||
		fail "ukcov's gids: $(status_line Gid "$UK_PID")"
	for f in CapEff CapPrm CapBnd; do
		[ "$(status_line $f "$UK_PID")" = "$ptrace" ] ||
			fail "ukcov's $f: $(status_line $f "$UK_PID"), expected $ptrace"
	done
	[ "$(status_line CapInh "$UK_PID")" = 0000000000000000 ] &&
		[ "$(status_line CapAmb "$UK_PID")" = 0000000000000000 ] ||
		fail "ukcov kept inheritable or ambient capabilities"
	[ "$(status_line NoNewPrivs "$UK_PID")" = 1 ] || fail "ukcov: no_new_privs not set"
	grep -qx 'ukcov: capabilities kept: CAP_SYS_PTRACE' "$T/rs.err" ||
		fail "ukcov said: $(grep 'capabilities kept' "$T/rs.err")"
	# The command: root as ukcov was, every capability the test shell has.
	[ "$(readlink "/proc/$CMD_PID/exe")" = "$T/bin/server" ] || fail "pid $CMD_PID is not the command"
	[ "$(status_line Uid "$CMD_PID")" = "0 0 0 0" ] ||
		fail "the command's uids: $(status_line Uid "$CMD_PID")"
	[ "$(status_line CapEff "$CMD_PID")" = "$full" ] ||
		fail "the command's CapEff: $(status_line CapEff "$CMD_PID"), expected $full"
	[ "$(status_line NoNewPrivs "$CMD_PID")" = 0 ] || fail "the command got no_new_privs"
	run_status_end

	id nobody >/dev/null 2>&1 || skip "no user nobody"
	run_status SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody
	[ "$(status_line Uid "$UK_PID")" = "0 0 0 0" ] ||
		fail "ukcov under sudo: uids $(status_line Uid "$UK_PID")"
	[ "$(status_line CapEff "$UK_PID")" = "$ptrace" ] ||
		fail "ukcov under sudo: CapEff $(status_line CapEff "$UK_PID")"
	[ "$(status_line Uid "$CMD_PID")" = "65534 65534 65534 65534" ] ||
		fail "the command under sudo: uids $(status_line Uid "$CMD_PID")"
	[ "$(status_line Gid "$CMD_PID")" = "65534 65534 65534 65534" ] ||
		fail "the command under sudo: gids $(status_line Gid "$CMD_PID")"
	for f in CapEff CapPrm CapInh CapAmb; do
		[ "$(status_line $f "$CMD_PID")" = 0000000000000000 ] ||
			fail "the command under sudo: $f $(status_line $f "$CMD_PID")"
	done
	run_status_end
	wait_links 0 5 "$T/"
}

# whoami_check NAME UID GID: $T/NAME.stdout is fault_whoami's, run as UID:GID
# with the groups of that user, no capabilities, and $T/out/NAME.txt has
# its exact tally.
whoami_check()
{
	local name=$1 uid=$2 gid=$3 groups

	grep -qx "ids $uid $uid $uid $gid $gid $gid" "$T/$name.stdout" ||
		fail "$name: the command ran as $(grep '^ids' "$T/$name.stdout"), not $uid:$gid"
	groups=$(id -G "$(id -nu "$uid")" | tr ' ' '\n' | sort -n | tr '\n' ' ')
	[ "$(sed -n 's/^groups //p' "$T/$name.stdout") " = "$groups" ] ||
		fail "$name: groups '$(grep '^groups' "$T/$name.stdout")', expected '$groups'"
	grep -qx 'caps 0000000000000000' "$T/$name.stdout" ||
		fail "$name: the command kept capabilities: $(grep '^caps' "$T/$name.stdout")"
	grep -E '^(f_[0-9]|main|tally_write) [0-9]+$' "$T/$name.stdout" >"$T/$name.tally"
	grep -qx 'f_5 42' "$T/$name.tally" || fail "$name: tally is off: $(cat "$T/$name.tally")"
	check_report "$T/out/$name.txt" "$T/$name.tally" "$T/sites"
	grep -qx '# exit: 0' "$T/out/$name.txt" || fail "$name: no '# exit: 0'"
}

# Started through sudo, `run` gives the command back to the invoking user.
test_privs_run_as_sudo_user()
{
	faults_setup
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	sites_map "$T/bin/fault_whoami" "$T/sites"
	SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody "$UKCOV" run -o "$T/out/s.txt" \
		-- "$T/bin/fault_whoami" -n 7 >"$T/s.stdout" 2>"$T/s.err" ||
		fail "ukcov run under sudo: exit $?: $(cat "$T/s.err")"
	whoami_check s 65534 65534
	# --user wins over sudo's.
	SUDO_UID=65534 SUDO_GID=65534 "$UKCOV" run --user root -o "$T/out/r.txt" \
		-- "$T/bin/fault_whoami" -n 7 >"$T/r.stdout" 2>"$T/r.err" ||
		fail "ukcov run --user root: exit $?: $(cat "$T/r.err")"
	grep -qx 'ids 0 0 0 0 0 0' "$T/r.stdout" || fail "--user root ran as $(grep '^ids' "$T/r.stdout")"
	only_outputs "$T/out" s.txt r.txt
	wait_links 0 5 "$T/"
}

test_privs_run_user_option()
{
	local uid

	faults_setup
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	uid=$(id -u nobody)
	sites_map "$T/bin/fault_whoami" "$T/sites"
	"$UKCOV" run --user nobody -o "$T/out/n.txt" -- "$T/bin/fault_whoami" -n 7 \
		>"$T/n.stdout" 2>"$T/n.err" || fail "ukcov run --user nobody: exit $?: $(cat "$T/n.err")"
	whoami_check n "$uid" "$(id -g nobody)"
	"$UKCOV" run --user "$uid" -o "$T/out/u.txt" -- "$T/bin/fault_whoami" -n 7 \
		>"$T/u.stdout" 2>"$T/u.err" || fail "ukcov run --user $uid: exit $?: $(cat "$T/u.err")"
	whoami_check u "$uid" "$(id -g nobody)"
	# No such user: refused before anything runs.
	"$UKCOV" run --user ukcov-no-such-user -o "$T/out/x.txt" -- "$T/bin/fault_whoami" \
		>"$T/x.stdout" 2>"$T/x.err"
	RC=$?
	[ "$RC" -eq 125 ] || fail "--user ukcov-no-such-user: exit $RC"
	[ "$(wc -l <"$T/x.err")" -eq 1 ] && grep -q '^ukcov: --user ukcov-no-such-user: no such user' "$T/x.err" ||
		fail "--user ukcov-no-such-user: $(cat "$T/x.err")"
	[ -s "$T/x.stdout" ] && fail "the command ran for an unknown user"
	# A command the user may not execute (its directory is root's, 0700).
	mkdir -m 700 "$T/private"
	cp "$T/bin/fault_whoami" "$T/private/"
	"$UKCOV" run --user nobody -o "$T/out/y.txt" -- "$T/private/fault_whoami" \
		>"$T/y.stdout" 2>"$T/y.err"
	RC=$?
	[ "$RC" -eq 126 ] || fail "--user nobody on a private command: exit $RC: $(cat "$T/y.err")"
	grep -q 'Permission denied' "$T/y.err" || fail "no EACCES message: $(cat "$T/y.err")"
	[ -s "$T/y.stdout" ] && fail "the command ran"
	only_outputs "$T/out" n.txt u.txt
	wait_links 0 5 "$T/"
}

# ---- outputs in shared directories -------------------------------------------

# A sticky, world-writable directory like /tmp where another user planted
# symlinks at the output paths: every one is refused, nothing is followed.
test_outputs_symlink_planted_in_sticky_dir()
{
	local np=(setpriv --reuid=65534 --regid=65534 --clear-groups) p

	faults_setup
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	mkdir -m 1777 "$T/shared"
	printf 'precious\n' >"$T/precious"
	for p in cov.txt cov.kcov sites.txt ring; do
		"${np[@]}" ln -s "$T/precious" "$T/shared/$p" || fail "nobody cannot plant a symlink"
	done
	"${np[@]}" ln -s "$T/created" "$T/shared/dangling"
	for p in "-o $T/shared/cov.txt" "-o $T/shared/cov.kcov" "-o $T/out/x.txt --save-sites $T/shared/sites.txt" \
		"--ring $T/shared/ring" "-o $T/shared/dangling"; do
		# shellcheck disable=SC2086
		TALLY_OUT=$T/tally.out "$UKCOV" run $p -- "$T/bin/tally" >/dev/null 2>"$T/err"
		RC=$?
		[ "$RC" -eq 125 ] || fail "$p: exit $RC, expected 125: $(cat "$T/err")"
		grep -Eq 'symlink' "$T/err" || fail "$p: not refused as a symlink: $(cat "$T/err")"
		[ -e "$T/tally.out" ] && fail "$p: the command ran"
	done
	[ "$(cat "$T/precious")" = precious ] || fail "the symlinks' target was written"
	[ -e "$T/created" ] && fail "a dangling symlink was followed"
	for p in cov.txt cov.kcov sites.txt ring; do
		[ "$(readlink "$T/shared/$p")" = "$T/precious" ] || fail "$p was replaced"
	done
	only_outputs "$T/out"
}

# Another user's FIFO, or file, planted in a sticky directory others can
# write: refused (the kernel's protected_fifos / protected_regular rule),
# even with a reader waiting on the FIFO; nothing reaches the reader.
test_outputs_fifo_planted_in_sticky_dir()
{
	local np=(setpriv --reuid=65534 --regid=65534 --clear-groups) reader i

	faults_setup
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	mkdir -m 1777 "$T/shared"
	"${np[@]}" mkfifo -m 622 "$T/shared/cov.txt" || fail "nobody cannot make a FIFO"
	"${np[@]}" cat "$T/shared/cov.txt" >"$T/stolen" &
	reader=$!
	track "$reader"
	for ((i = 0; i < 500; i++)); do
		[ "$(cat "/proc/$reader/wchan" 2>/dev/null)" = wait_for_partner ] && break
		sleep 0.02
	done
	TALLY_OUT=$T/tally.out timeout -s KILL 20 "$UKCOV" run -o "$T/shared/cov.txt" \
		-- "$T/bin/tally" >/dev/null 2>"$T/err"
	RC=$?
	[ "$RC" -eq 125 ] || fail "planted FIFO: exit $RC, expected 125: $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^ukcov: cannot write $T/shared/cov.txt: .*protected_fifos" "$T/err" ||
		fail "planted FIFO: $(cat "$T/err")"
	[ -e "$T/tally.out" ] && fail "the command ran"
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
	[ -s "$T/stolen" ] && fail "the planted FIFO's reader got: $(head -c 100 "$T/stolen")"
	rm -f "$T/shared/cov.txt"
	"${np[@]}" sh -c "printf 'planted\n' >'$T/shared/cov.txt'" || fail "nobody cannot write"
	TALLY_OUT=$T/tally.out "$UKCOV" run -o "$T/shared/cov.txt" -- "$T/bin/tally" >/dev/null 2>"$T/err"
	RC=$?
	[ "$RC" -eq 125 ] || fail "planted file: exit $RC, expected 125: $(cat "$T/err")"
	grep -q 'protected_regular' "$T/err" || fail "planted file: $(cat "$T/err")"
	[ "$(cat "$T/shared/cov.txt")" = planted ] || fail "the planted file was replaced"
}

# In a sticky directory owned by someone else, replacing that user's file
# takes CAP_FOWNER at commit time; ukcov keeps it for that, writes a new
# file (never into the old inode) and the old content stays intact.
test_outputs_replace_foreign_file_in_sticky_dir()
{
	local np=(setpriv --reuid=65534 --regid=65534 --clear-groups)

	faults_setup
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	mkdir -m 1777 "$T/shared"
	chown 65534:65534 "$T/shared"
	"${np[@]}" sh -c "printf 'planted\n' >'$T/shared/cov.txt'" || fail "nobody cannot write"
	ln "$T/shared/cov.txt" "$T/old" || fail "cannot keep the planted inode"
	sites_map "$T/bin/tally" "$T/sites"
	TALLY_OUT=$T/tally.out "$UKCOV" run -v -o "$T/shared/cov.txt" -- "$T/bin/tally" -n 3 \
		>/dev/null 2>"$T/err" || fail "exit $?: $(cat "$T/err")"
	grep -q 'capabilities kept: .*CAP_FOWNER' "$T/err" || fail "CAP_FOWNER not kept: $(grep kept "$T/err")"
	check_report "$T/shared/cov.txt" "$T/tally.out" "$T/sites"
	[ "$(cat "$T/old")" = planted ] || fail "the planted file was written into"
	[ "$(stat -c %u "$T/shared/cov.txt")" -eq 0 ] || fail "the report is not root's"
}

# Nothing ukcov creates is world-writable, whatever the umask; rings are 0600.
test_outputs_not_world_writable()
{
	faults_setup
	mkdir "$T/work"
	(umask 000 && cd "$T/work" && TALLY_OUT=/dev/null "$UKCOV" run -o cov.txt -o cov.kcov \
		--save-sites sites.ukcov --ring ring -- "$T/bin/tally" -n 3 >/dev/null 2>"$T/err") ||
		fail "ukcov run: exit $?: $(cat "$T/err")"
	[ "$(ls -A "$T/work" | sort | tr '\n' ' ')" = "cov.kcov cov.txt ring sites.ukcov " ] ||
		fail "unexpected files: $(ls -A "$T/work" | tr '\n' ' ')"
	[ -z "$(find "$T/work" -perm -o+w)" ] || fail "world-writable: $(find "$T/work" -perm -o+w)"
	[ "$(stat -c %a "$T/work/ring")" = 600 ] || fail "ring mode $(stat -c %a "$T/work/ring")"
	[ "$(stat -c %a "$T/work/cov.txt")" = 644 ] || fail "report mode $(stat -c %a "$T/work/cov.txt")"
}

# SIGKILL in the instant an output gets its name (strace injects it as
# ukcov enters the system call, which then never runs).  A new output is
# linked at its name in one step: killed before that step nothing is
# there, and no rename, whose entry would be the moment a temp name
# exists, is ever made.  Replacing a file does need a temp name and
# rename: killed between the two, the old file is intact and the temp
# file, complete, stays behind (README: Leaving nothing behind).
test_outputs_sigkill_while_naming()
{
	local st=("${STRACE_ENV[@]}" strace -f -qq -o /dev/null) left

	faults_setup
	command -v strace >/dev/null || skip "strace is not installed"
	"$UKCOV" sites "$T/bin/tally" >"$T/want" || fail "ukcov sites failed"
	mkdir "$T/new"
	"${st[@]}" -e trace=linkat -e inject=linkat:signal=KILL \
		"$UKCOV" sites -o "$T/new/s.txt" "$T/bin/tally" 2>"$T/err"
	RC=$?
	[ "$RC" -eq 137 ] || fail "killed at linkat: exit $RC: $(cat "$T/err")"
	[ -z "$(ls -A "$T/new")" ] || fail "killed before naming, left: $(ls -A "$T/new")"
	"${st[@]}" -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL \
		"$UKCOV" sites -o "$T/new/s.txt" "$T/bin/tally" 2>"$T/err" ||
		fail "a new output took a rename (killed there): exit $?, left: $(ls -A "$T/new")"
	[ "$(ls -A "$T/new")" = s.txt ] || fail "left beside the output: $(ls -A "$T/new")"
	cmp -s "$T/want" "$T/new/s.txt" || fail "the output is not the site table"

	printf 'old\n' >"$T/new/s.txt"
	"${st[@]}" -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL \
		"$UKCOV" sites -o "$T/new/s.txt" "$T/bin/tally" 2>"$T/err"
	RC=$?
	[ "$RC" -eq 137 ] || fail "replacing, killed at rename: exit $RC: $(cat "$T/err")"
	[ "$(cat "$T/new/s.txt")" = old ] || fail "the replaced file changed"
	left=("$T"/new/.s.txt.*)
	[ "${#left[@]}" -eq 1 ] && [[ "${left[0]##*/}" =~ ^\.s\.txt\.[A-Za-z0-9]{6}$ ]] &&
		[ "$(ls -A "$T/new" | wc -l)" -eq 2 ] ||
		fail "expected s.txt and one temp file, found: $(ls -A "$T/new" | tr '\n' ' ')"
	cmp -s "$T/want" "${left[0]}" || fail "the temp file left is not the complete table"
}
