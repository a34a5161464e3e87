# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Bad input: every refusal is one "ukcov: " line on stderr, the documented
# exit status, nothing on stdout, no file (not even a temporary one) in the
# output directory, and no BPF link left behind.

# Every case runs in $T/work and writes its -o files there.
err_setup()
{
	setup
	mkdir "$T/work"
}

# expect_error CODE CMD [ARGS...]: runs CMD in $T/work and checks the above.
# $ERR_RE, when set, must match the message.  The message is left in
# $T/err.stderr.
expect_error()
{
	local want=$1 links="" rc lines what="$*"

	shift
	# Links on anything this test could have probed.
	command -v bpftool >/dev/null && links=$(bpf_links "$T/" "$FIXTURES/")
	ls -A "$T/work" >"$T/ls.before"
	(cd "$T/work" && exec "$@") >"$T/err.stdout" 2>"$T/err.stderr" </dev/null
	rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "$what: exit $rc, expected $want ($(head -c 300 "$T/err.stderr"))"
	lines=$(wc -l <"$T/err.stderr")
	[ "$lines" -eq 1 ] ||
		fail "$what: $lines lines on stderr: $(head -c 300 "$T/err.stderr" | tr '\n' '|')"
	grep -q '^ukcov: ' "$T/err.stderr" ||
		fail "$what: message lacks 'ukcov: ': $(cat "$T/err.stderr")"
	if [ -n "${ERR_RE:-}" ]; then
		grep -Eq -- "$ERR_RE" "$T/err.stderr" ||
			fail "$what: message does not match /$ERR_RE/: $(cat "$T/err.stderr")"
	fi
	[ -s "$T/err.stdout" ] && fail "$what: wrote to stdout: $(head -c 200 "$T/err.stdout")"
	ls -A "$T/work" | cmp -s "$T/ls.before" - ||
		fail "$what: files appeared in the output directory: $(ls -A "$T/work" | tr '\n' ' ')"
	if [ -n "$links" ]; then
		[ "$(bpf_links "$T/" "$FIXTURES/")" -eq "$links" ] ||
			fail "$what: BPF links went from $links to $(bpf_links "$T/" "$FIXTURES/")"
	fi
	return 0
}

test_err_missing_command()
{
	err_setup
	expect_error 127 "$UKCOV" run -o cov -- "$T/no-such-program"
	expect_error 127 "$UKCOV" run -o cov -- ukcov-test-no-such-command
	expect_error 1 "$UKCOV" sites -o cov "$T/no-such-program"
}

test_err_not_executable()
{
	err_setup
	cp "$FIXTURES/tally" "$T/tally"
	chmod 644 "$T/tally"
	TALLY_OUT=$T/tally.out expect_error 126 "$UKCOV" run -o cov -- "$T/tally"
	[ -e "$T/tally.out" ] && fail "the command ran"
	return 0
}

test_err_not_elf()
{
	err_setup
	printf '#!/bin/sh\ntouch "%s"\n' "$T/ran" >"$T/script"
	chmod 755 "$T/script"
	expect_error 125 "$UKCOV" run -o cov -- "$T/script"
	[ -e "$T/ran" ] && fail "ukcov ran a command it cannot cover"
	printf 'just text\n' >"$T/text"
	expect_error 1 "$UKCOV" sites -o cov "$T/text"
	expect_error 1 "$UKCOV" sites -o cov "$T/script"
}

test_err_no_function_symbols()
{
	err_setup
	[ -x "$FIXTURES/nosyms" ] || fail "fixture nosyms is missing"
	readelf -sW "$FIXTURES/nosyms" 2>/dev/null | grep -q ' FUNC ' &&
		fail "fixture nosyms has function symbols"
	readelf -SW "$FIXTURES/nosyms" 2>/dev/null | grep -q '\.eh_frame' &&
		fail "fixture nosyms has an .eh_frame"
	ERR_RE='no function symbols, and no .eh_frame' expect_error 1 "$UKCOV" sites -o cov "$FIXTURES/nosyms"
	ERR_RE='no function symbols' expect_error 125 "$UKCOV" run -o cov -- "$FIXTURES/nosyms"
}

# A .symtab whose FUNC symbols have no size (assembly without .size): the
# message says what is missing, not that there are no symbols.
test_err_function_symbols_without_size()
{
	err_setup
	printf '%s\n' '.globl _start' '.type _start, @function' '_start:' \
		'mov $60, %eax' 'xor %edi, %edi' 'syscall' >"$T/nosize.S"
	cc -nostdlib -static -o "$T/nosize" "$T/nosize.S" || fail "cannot build the fixture"
	readelf -sW "$T/nosize" | grep -Eq ' 0 FUNC +GLOBAL .* _start$' || fail "fixture: _start has a size"
	ERR_RE='no function symbols with a size' expect_error 1 "$UKCOV" sites -o cov "$T/nosize"
}

test_err_dead_pid()
{
	local pid

	err_setup
	sh -c 'exit 0' &
	pid=$!
	wait "$pid"
	alive "$pid" && skip "pid $pid was reused"
	expect_error 1 "$UKCOV" attach -p "$pid" -o cov --duration 5s
}

test_err_usage()
{
	err_setup
	expect_error 2 "$UKCOV" sites --bogus-flag "$FIXTURES/tally"
	expect_error 2 "$UKCOV" sites
	expect_error 2 "$UKCOV" attach --bogus-flag -p 1
	expect_error 2 "$UKCOV" attach -o cov
	expect_error 2 "$UKCOV" attach -p not-a-pid -o cov
	ERR_RE='twice' expect_error 2 "$UKCOV" attach -p 1 -p 2 -o cov
	expect_error 2 "$UKCOV" attach -p 1 -o cov --format bogus
	expect_error 2 "$UKCOV" attach -p 1 -o cov --duration bogus
	expect_error 2 "$UKCOV" attach -p 1 -o cov --interval 5parsecs
	TALLY_OUT=$T/tally.out expect_error 125 "$UKCOV" run --bogus-flag -- "$FIXTURES/tally"
	TALLY_OUT=$T/tally.out expect_error 125 "$UKCOV" run -o cov --format bogus -- "$FIXTURES/tally"
	TALLY_OUT=$T/tally.out expect_error 125 "$UKCOV" run -o cov --interval -1 -- "$FIXTURES/tally"
	expect_error 125 "$UKCOV" run -o cov
	[ -e "$T/tally.out" ] && fail "the command ran despite a usage error"
	return 0
}

test_err_unwritable_output()
{
	err_setup
	expect_error 1 "$UKCOV" sites -o /nonexistent/dir/x "$FIXTURES/tally"
	TALLY_OUT=$T/tally.out expect_error 125 "$UKCOV" run -o /nonexistent/dir/x -- "$FIXTURES/tally"
	[ -e "$T/tally.out" ] && fail "the command ran though its output cannot be written"
	mkdir "$T/work/dir"
	expect_error 1 "$UKCOV" sites -o dir "$FIXTURES/tally"
	[ -z "$(ls -A "$T/work/dir")" ] || fail "wrote into the directory given as -o"
	server_start
	expect_error 1 "$UKCOV" attach -p "$SRV_PID" -o /nonexistent/dir/x --duration 5s
	server_quit
}

test_err_symlink_output()
{
	err_setup
	printf 'precious\n' >"$T/target"
	ln -s "$T/target" "$T/work/link"
	expect_error 1 "$UKCOV" sites -o link "$FIXTURES/tally"
	TALLY_OUT=$T/tally.out expect_error 125 "$UKCOV" run -o link -- "$FIXTURES/tally"
	[ -e "$T/tally.out" ] && fail "the command ran though its output was refused"
	[ -L "$T/work/link" ] || fail "the symlink was replaced"
	[ "$(readlink "$T/work/link")" = "$T/target" ] || fail "the symlink was changed"
	[ "$(cat "$T/target")" = precious ] || fail "the symlink's target was written"
	# A dangling one must not be followed into creating its target.
	ln -s "$T/created" "$T/work/dangling"
	expect_error 1 "$UKCOV" sites -o dangling "$FIXTURES/tally"
	[ -e "$T/created" ] && fail "followed a dangling symlink"
	return 0
}

# A FIFO at the output path that no process reads: refused at once, with
# why, instead of ukcov waiting forever for a reader with SIGINT and
# SIGTERM blocked (the KILL timeout turns such a hang into exit 137).
test_err_output_fifo_without_reader()
{
	err_setup
	mkfifo "$T/work/fifo"
	ERR_RE='cannot write fifo: .*start its reader first'
	expect_error 1 timeout -s KILL 10 "$UKCOV" sites -o fifo "$FIXTURES/tally"
	TALLY_OUT=$T/tally.out expect_error 125 timeout -s KILL 10 \
		"$UKCOV" run -o fifo -- "$FIXTURES/tally"
	[ -e "$T/tally.out" ] && fail "the command ran though its output was refused"
	server_start
	expect_error 1 timeout -s KILL 10 "$UKCOV" attach -p "$SRV_PID" -o fifo --duration 5s
	server_quit
	[ -p "$T/work/fifo" ] || fail "the FIFO was replaced"
}

# With its reader there, a FIFO gets the whole report.
test_err_output_fifo_with_reader()
{
	local reader i

	err_setup
	mkfifo "$T/work/fifo"
	cat "$T/work/fifo" >"$T/got" &
	reader=$!
	track "$reader"
	# Until a writer comes, cat waits in open(2), already counted as a reader.
	for ((i = 0; i < 500; i++)); do
		[ "$(cat "/proc/$reader/wchan" 2>/dev/null)" = wait_for_partner ] && break
		sleep 0.02
	done
	timeout -s KILL 10 "$UKCOV" sites -o "$T/work/fifo" "$FIXTURES/tally" 2>"$T/err" ||
		fail "ukcov sites -o FIFO: exit $?: $(cat "$T/err")"
	wait_exit "$reader" 10 "the FIFO's reader"
	"$UKCOV" sites "$FIXTURES/tally" | cmp -s - "$T/got" ||
		fail "the reader did not get the site table: $(head -c 200 "$T/got")"
}

# A pseudo-filesystem that takes no new file: a reason, not "No such file".
test_err_output_pseudo_filesystem()
{
	err_setup
	[ -e /proc/version ] || skip "no /proc"
	ERR_RE='^ukcov: cannot write /proc/version: Operation not supported \(its filesystem cannot hold new files'
	expect_error 1 "$UKCOV" sites -o /proc/version "$FIXTURES/tally"
	TALLY_OUT=$T/tally.out expect_error 125 "$UKCOV" run -o /proc/version -- "$FIXTURES/tally"
	[ -e "$T/tally.out" ] && fail "the command ran though its output was refused"
	return 0
}

test_err_no_privileges()
{
	local np=(setpriv --reuid=65534 --regid=65534 --clear-groups)

	command -v setpriv >/dev/null || skip "setpriv is not installed"
	err_setup
	# Everything nobody needs must be reachable by nobody.
	chmod 755 "$T"
	mkdir "$T/bin"
	cp "$UKCOV" "$T/bin/ukcov"
	cp "$FIXTURES/tally" "$FIXTURES/server" "$T/bin/"
	chmod -R a+rX "$T/bin"
	chown 65534:65534 "$T/work"
	"${np[@]}" true 2>/dev/null || skip "setpriv cannot switch to uid 65534"
	"${np[@]}" sh -c "grep -q '^CapEff:[[:space:]]*0*\$' /proc/self/status" ||
		fail "setpriv kept capabilities"
	ERR_RE='CAP_BPF.*CAP_PERFMON|CAP_PERFMON.*CAP_BPF'
	TALLY_OUT=$T/work/tally.out \
		expect_error 125 "${np[@]}" "$T/bin/ukcov" run -o cov -- "$T/bin/tally"
	[ -e "$T/work/tally.out" ] && fail "the command ran though nothing could be covered"
	SRV_BIN=$T/bin/server
	server_start "${np[@]}"
	expect_error 1 "${np[@]}" "$T/bin/ukcov" attach -p "$SRV_PID" -o cov --duration 5s
	server_cmd "call 1 1" >/dev/null
	server_quit
	# Root's BPF rights but not CAP_SYS_PTRACE, on a process of another user.
	server_start "${np[@]}"
	ERR_RE='CAP_SYS_PTRACE' expect_error 1 setpriv --bounding-set -sys_ptrace \
		"$T/bin/ukcov" attach -p "$SRV_PID" -o cov --duration 5s
	server_cmd "call 1 1" >/dev/null
	server_quit
}

test_err_kcov_to_terminal()
{
	command -v script >/dev/null || skip "script(1) is not installed"
	setup
	# script gives the command a terminal as stdout; -e returns its status.
	TALLY_OUT=$T/tally.out SHELL=/bin/sh script -qec \
		"$UKCOV run --format kcov -- $FIXTURES/tally -n 1" /dev/null >"$T/tty" 2>&1 </dev/null
	RC=$?
	[ "$RC" -eq 125 ] || fail "kcov to a terminal: exit $RC: $(head -c 300 "$T/tty")"
	[ "$(grep -c '^ukcov: ' "$T/tty")" -eq 1 ] ||
		fail "expected one 'ukcov: ' line: $(head -c 300 "$T/tty")"
	[ -e "$T/tally.out" ] && fail "the command ran though its output was refused"
	[ "$(tr -d '\r' <"$T/tty" | grep -vc '^ukcov: ')" -eq 0 ] ||
		fail "wrote more than the message to the terminal: $(head -c 300 "$T/tty")"
	server_start
	SHELL=/bin/sh script -qec "$UKCOV attach -p $SRV_PID --format kcov --duration 5s" \
		/dev/null >"$T/tty" 2>&1 </dev/null
	RC=$?
	[ "$RC" -eq 1 ] || fail "attach kcov to a terminal: exit $RC: $(head -c 300 "$T/tty")"
	server_quit
}

test_cli_help_version()
{
	local cmd

	setup
	"$UKCOV" --version >"$T/out" 2>&1 || fail "--version exited $?"
	grep -Eq '[0-9]+\.[0-9]+\.[0-9]+' "$T/out" || fail "--version: $(cat "$T/out")"
	"$UKCOV" --help >"$T/help" 2>&1 || fail "--help exited $?"
	for cmd in sites run attach; do
		grep -q "$cmd" "$T/help" || fail "--help does not mention $cmd"
		"$UKCOV" "$cmd" --help >"$T/out" 2>&1 || fail "$cmd --help exited $?"
		grep -qi usage "$T/out" || fail "$cmd --help has no usage: $(head -c 200 "$T/out")"
	done
}
