# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Process following: children forked by the covered process count (and
# with --no-follow do not), daemons are followed through a double fork,
# execs are reported and with --follow-exec covered, attach --all sees
# every process running a binary, and --dlopen picks up a library loaded
# in the middle of the run.  Every count is compared with the fixtures'
# own tallies (one file per process: tests/fixtures/forker.c).

# sum_tallies DIR OUT: the per-function sum of DIR/*.tally as "NAME COUNT".
sum_tallies()
{
	local n

	n=$(find "$1" -maxdepth 1 -name '*.tally' | wc -l)
	[ "$n" -gt 0 ] || fail "no tally files in $1"
	cat "$1"/*.tally | awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }' |
		sort >"$2"
}

# forker_run NAME [UKCOV-RUN-OPTIONS] -- [FORKER-OPTIONS]: runs the forker
# fixture under `ukcov run -o $T/NAME.cov`; tallies land in $T/NAME/,
# ukcov's exit status in $RC.
forker_run()
{
	local name=$1 opts=()

	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	mkdir -p "$T/$name"
	TALLY_DIR=$T/$name "$UKCOV" run -o "$T/$name.cov" "${opts[@]}" \
		-- "$FIXTURES/forker" "$@" >"$T/$name.stdout" 2>"$T/$name.stderr"
	RC=$?
	[ "$RC" -eq 0 ] || fail "ukcov run exited $RC: $(cat "$T/$name.stderr")"
}

# module_counts REPORT MODULE OUT: "FUNCTION COUNT" of the report's lines
# for sites in MODULE (a path), sorted.
module_counts()
{
	report_data_full "$1" | awk -v m="$2" '{
		mod = $5; sub(/\+0x[0-9a-f]+$/, "", mod)
		if (mod == m) print $3, $2 }' | sort >"$3"
}

report_data_full()
{
	awk '!/^#/ && NF' "$1"
}

# check_module REPORT MODULE TALLY: within MODULE, every function of TALLY
# with a count has exactly that count, functions counted 0 are absent, and
# anything else is C runtime code.
check_module()
{
	local report=$1 module=$2 tally=$3 errs

	module_counts "$report" "$module" "$T/module.got"
	[ -s "$T/module.got" ] || fail "nothing reported for $module: $(grep '^# module' "$report")"
	errs=$(awk -v runtime="$RUNTIME_FUNCS" '
		BEGIN { n = split(runtime, r, /[ \t\n]+/); for (i = 1; i <= n; i++) rt[r[i]] = 1 }
		FILENAME == ARGV[1] { want[$1] = $2; next }
		{
			if ($1 in seen)
				printf "%s reported twice; ", $1
			seen[$1] = 1
			if ($1 in want) {
				if (want[$1] + 0 != $2 + 0)
					printf "%s: report %s, tally %s; ", $1, $2, want[$1]
			} else if (!($1 in rt)) {
				printf "unexpected function %s (%s); ", $1, $2
			}
		}
		END {
			for (fn in want)
				if (want[fn] > 0 && !(fn in seen))
					printf "%s (tally %s) missing; ", fn, want[fn]
		}' "$tally" "$T/module.got")
	[ -z "$errs" ] || fail "$module: $errs"
}

test_procs_run_counts_forked_workers()
{
	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	forker_run w -- -w 3 -n 40
	[ "$(find "$T/w" -name '*.tally' | wc -l)" -eq 4 ] || fail "expected 4 tallies: $(ls "$T/w")"
	sum_tallies "$T/w" "$T/w.sum"
	# The truth itself: 3 workers, (i+1)*40 calls each, main 40 more f_0.
	grep -qx 'f_0 160' "$T/w.sum" && grep -qx 'worker 3' "$T/w.sum" ||
		fail "fixture tallies are off: $(tr '\n' ' ' <"$T/w.sum")"
	check_report "$T/w.cov" "$T/w.sum" "$T/sites"
	grep -q '^# exec:' "$T/w.cov" && fail "no exec happened, yet: $(grep '^# exec:' "$T/w.cov")"
	return 0
}

# ukcov in a container knows its targets by the pids of its own pid
# namespace; the kernel's tgids are the initial namespace's.
test_procs_run_in_pid_namespace_counts_workers()
{
	setup
	command -v unshare >/dev/null || fail "unshare (util-linux) is missing"
	sites_map "$FIXTURES/forker" "$T/sites"
	mkdir -p "$T/ns"
	TALLY_DIR=$T/ns unshare --pid --fork --mount-proc \
		"$UKCOV" run -o "$T/ns.cov" -- "$FIXTURES/forker" -w 2 -n 15 \
		>"$T/ns.stdout" 2>"$T/ns.stderr" ||
		fail "ukcov run in a pid namespace failed: $(cat "$T/ns.stderr")"
	sum_tallies "$T/ns" "$T/ns.sum"
	grep -qx 'worker 2' "$T/ns.sum" || fail "fixture tallies are off: $(tr '\n' ' ' <"$T/ns.sum")"
	check_report "$T/ns.cov" "$T/ns.sum" "$T/sites"
}

test_procs_run_no_follow_counts_first_process_only()
{
	local parent

	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	forker_run nf --no-follow -- -w 2 -n 25
	# The parent is the only process that ran main.
	parent=$(grep -lx 'main 1' "$T/nf"/*.tally)
	[ "$(echo "$parent" | wc -l)" -eq 1 ] || fail "cannot tell the parent's tally: $parent"
	grep -qx 'f_1 0' "$parent" || fail "the parent's tally is off: $(cat "$parent")"
	check_report "$T/nf.cov" "$parent" "$T/sites"
}

test_procs_run_follows_daemon_grandchild()
{
	local t0 ms

	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	t0=$(date +%s%N)
	forker_run d -- -d -n 30
	ms=$((($(date +%s%N) - t0) / 1000000))
	# ukcov waits for the grandchild, which sleeps 200 ms after its
	# parents are gone: its tally is there when ukcov returns.
	[ "$(find "$T/d" -name '*.tally' | wc -l)" -eq 3 ] ||
		fail "ukcov returned before the grandchild wrote its tally (${ms}ms): $(ls "$T/d")"
	sum_tallies "$T/d" "$T/d.sum"
	grep -qx 'f_5 180' "$T/d.sum" || fail "fixture tallies are off: $(tr '\n' ' ' <"$T/d.sum")"
	check_report "$T/d.cov" "$T/d.sum" "$T/sites"
	grep -qx '# exit: 0' "$T/d.cov" || fail "no '# exit: 0' header"
}

test_procs_run_exec_same_binary_counted()
{
	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	forker_run s -- -w 1 -s -n 20
	sum_tallies "$T/s" "$T/s.sum"
	# The re-exec'd child ran main again: two mains in all.
	grep -qx 'main 2' "$T/s.sum" && grep -qx 'worker 2' "$T/s.sum" ||
		fail "fixture tallies are off: $(tr '\n' ' ' <"$T/s.sum")"
	check_report "$T/s.cov" "$T/s.sum" "$T/sites"
	grep -q '^# exec:' "$T/s.cov" && fail "an exec of the covered binary was listed: $(grep '^# exec:' "$T/s.cov")"
	return 0
}

test_procs_run_exec_other_binary_reported()
{
	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	forker_run x -- -w 1 -x "$FIXTURES/tally" -n 10
	[ -s "$T/x/exec.out" ] || fail "the exec'd tally did not run"
	grep -Eq "^# exec: [0-9]+ $FIXTURES/tally\$" "$T/x.cov" ||
		fail "no '# exec: PID $FIXTURES/tally' header: $(grep '^#' "$T/x.cov" | tr '\n' ' ')"
	[ "$(grep -c '^# module ' "$T/x.cov")" -eq 1 ] ||
		fail "without --follow-exec the exec'd binary became a module: $(grep '^# module' "$T/x.cov")"
	# Only the forker's own processes count, and exactly.
	sum_tallies "$T/x" "$T/x.sum"
	check_report "$T/x.cov" "$T/x.sum" "$T/sites"
}

test_procs_run_follow_exec_covers_other_binary()
{
	local n0 pc fn loc idx

	setup
	forker_run fx --follow-exec -- -w 1 -x "$FIXTURES/tally" -n 10
	[ -s "$T/fx/exec.out" ] || fail "the exec'd tally did not run"
	grep -Eq "^# exec: [0-9]+ $FIXTURES/tally\$" "$T/fx.cov" || fail "no '# exec:' header"
	# The covered binary keeps module 0 and its PCs; the exec'd one is appended.
	grep -Eq "^# module 0 $FIXTURES/forker " "$T/fx.cov" &&
		grep -Eq "^# module 1 $FIXTURES/tally " "$T/fx.cov" ||
		fail "modules: $(grep '^# module' "$T/fx.cov" | tr '\n' ' ')"
	sum_tallies "$T/fx" "$T/fx.sum"
	check_module "$T/fx.cov" "$FIXTURES/forker" "$T/fx.sum"
	grep -qx 'f_5 600' "$T/fx/exec.out" || fail "tally's tally is off: $(cat "$T/fx/exec.out")"
	check_module "$T/fx.cov" "$FIXTURES/tally" "$T/fx/exec.out"
	# Appended PCs follow module 0's: indexes from module 0's site count on.
	sites_map "$FIXTURES/forker" "$T/sites"
	n0=$(wc -l <"$T/sites")
	while read -r pc _ fn _ loc; do
		idx=$((pc - PC_BASE))
		case $loc in
		"$FIXTURES/tally+"*) [ "$idx" -ge "$n0" ] || fail "tally's $fn has index $idx < $n0" ;;
		*) [ "$idx" -lt "$n0" ] || fail "forker's $fn has index $idx >= $n0" ;;
		esac
	done < <(report_data_full "$T/fx.cov")
	check_summary "$T/fx.cov"
}

test_procs_attach_follows_children()
{
	local line

	setup
	sites_map "$FIXTURES/forker" "$T/sites"
	mkdir "$T/p"
	rm -f "$T/p.in"
	mkfifo "$T/p.in" "$T/p.out" || fail "mkfifo failed"
	TALLY_DIR=$T/p "$FIXTURES/forker" -P -w 2 -n 15 <"$T/p.in" >"$T/p.out" &
	FK_PID=$!
	track "$FK_PID"
	exec 7>"$T/p.in" 8<"$T/p.out"
	read -r -t 10 -u 8 line || fail "forker did not start"
	[ "$line" = ready ] || fail "forker said '$line'"
	# Two workers wait already: they are found through /proc.
	env --default-signal=INT,TERM "$UKCOV" attach -p "$FK_PID" -o "$T/p.cov" \
		>"$T/p.stdout" 2>"$T/p.stderr" &
	UK_PID=$!
	track "$UK_PID"
	wait_line "$T/p.stderr" '^ukcov: attached to pid ' 20 "$UK_PID"
	printf 'go\n' >&7
	exec 7>&-
	# ukcov ends by itself once the forker and all its children are gone.
	wait_exit "$UK_PID" 20 "ukcov attach"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC: $(cat "$T/p.stderr")"
	[ "$(find "$T/p" -name '*.tally' | wc -l)" -eq 4 ] || fail "expected 4 tallies: $(ls "$T/p")"
	sum_tallies "$T/p" "$T/p.sum"
	grep -qx 'worker 3' "$T/p.sum" || fail "fixture tallies are off: $(tr '\n' ' ' <"$T/p.sum")"
	# main ran before ukcov attached: everything else after.
	sed -i 's/^main 1$/main 0/' "$T/p.sum"
	check_report "$T/p.cov" "$T/p.sum" "$T/sites"
}

test_procs_attach_all_sees_independent_processes()
{
	local bin pid1 pid2

	setup
	# A private copy: nothing else on the machine runs it.
	bin=$T/tally-all
	cp "$FIXTURES/tally" "$bin" || fail "cp failed"
	sites_map "$bin" "$T/sites"
	env --default-signal=INT,TERM "$UKCOV" attach --all -o "$T/all.cov" "$bin" \
		>"$T/all.stdout" 2>"$T/all.stderr" &
	UK_PID=$!
	track "$UK_PID"
	wait_line "$T/all.stderr" "^ukcov: attached to every process running $bin " 20 "$UK_PID"
	TALLY_OUT=$T/one.tally "$bin" -n 30 &
	pid1=$!
	TALLY_OUT=$T/two.tally "$bin" -t 2 -n 11 &
	pid2=$!
	wait "$pid1" || fail "first tally failed"
	wait "$pid2" || fail "second tally failed"
	alive "$UK_PID" || fail "attach --all ended without being told: $(cat "$T/all.stderr")"
	kill -INT "$UK_PID"
	wait_exit "$UK_PID" 15 "ukcov attach --all"
	[ "$RC" -eq 0 ] || fail "ukcov attach --all exited $RC: $(cat "$T/all.stderr")"
	cat "$T/one.tally" "$T/two.tally" |
		awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }' >"$T/sum"
	grep -qx 'f_0 52' "$T/sum" || fail "fixture tallies are off: $(tr '\n' ' ' <"$T/sum")"
	check_report "$T/all.cov" "$T/sum" "$T/sites"
}

test_procs_attach_all_usage()
{
	setup
	"$UKCOV" attach --all -p 1 /bin/true >/dev/null 2>"$T/e1"
	[ $? -eq 2 ] || fail "--all with -p: not a usage error: $(cat "$T/e1")"
	"$UKCOV" attach --all >/dev/null 2>"$T/e2"
	[ $? -eq 2 ] || fail "--all without BINARY: not a usage error: $(cat "$T/e2")"
	"$UKCOV" attach --all --follow-exec /bin/true >/dev/null 2>"$T/e3"
	[ $? -eq 2 ] || fail "--all --follow-exec: not a usage error: $(cat "$T/e3")"
	grep -q '^ukcov: ' "$T/e3" || fail "no one-line error: $(cat "$T/e3")"
	# Libraries are shared with every other process on the machine.
	"$UKCOV" attach --all --libs /bin/true >/dev/null 2>"$T/e4"
	[ $? -eq 2 ] || fail "--all --libs: not a usage error: $(cat "$T/e4")"
	"$UKCOV" attach --all --lib "$FIXTURES/libfix.so" /bin/true >/dev/null 2>"$T/e5"
	[ $? -eq 2 ] || fail "--all --lib: not a usage error: $(cat "$T/e5")"
	[ "$(wc -l <"$T/e5")" -eq 1 ] || fail "not one line: $(cat "$T/e5")"
}

# dlopen_run NAME [UKCOV-RUN-OPTIONS]: dlopener under ukcov run, K = 13.
dlopen_run()
{
	local name=$1

	shift
	TALLY_OUT=$T/$name.tally DL_TALLY_OUT=$T/$name.dl "$UKCOV" run -o "$T/$name.cov" "$@" \
		-- "$FIXTURES/dlopener" -n 4 -k 13 "$FIXTURES/libdl_fixture.so" \
		>"$T/$name.stdout" 2>"$T/$name.stderr"
	RC=$?
	[ "$RC" -eq 0 ] || fail "ukcov run exited $RC: $(cat "$T/$name.stderr")"
}

test_procs_dlopen_library_counted()
{
	setup
	dlopen_run dl --dlopen
	grep -qx 'g_2 39' "$T/dl.dl" || fail "library tally is off: $(cat "$T/dl.dl")"
	grep -Eq "^# module 0 $FIXTURES/dlopener " "$T/dl.cov" &&
		grep -Eq "^# module 1 $FIXTURES/libdl_fixture.so " "$T/dl.cov" ||
		fail "modules: $(grep '^# module' "$T/dl.cov" | tr '\n' ' ')"
	# ld.so's startup mappings (libc) are not dlopen()s.
	[ "$(grep -c '^# module ' "$T/dl.cov")" -eq 2 ] ||
		fail "more modules than the dlopen()ed one: $(grep '^# module' "$T/dl.cov" | tr '\n' ' ')"
	check_module "$T/dl.cov" "$FIXTURES/dlopener" "$T/dl.tally"
	check_module "$T/dl.cov" "$FIXTURES/libdl_fixture.so" "$T/dl.dl"
	check_summary "$T/dl.cov"
}

# The table grows during the run: the sites file, written at the end, has
# the dlopen()ed library, and the kcov stream names both tables it used.
test_procs_dlopen_save_sites_report()
{
	local want got

	setup
	dlopen_run sv --dlopen -o "$T/sv.kcov" --save-sites "$T/sv.sites"
	grep -q "libdl_fixture.so" "$T/sv.sites" || fail "the sites file lacks the dlopen()ed library"
	"$UKCOV" report --sites-file "$T/sv.sites" -o "$T/rep.txt" "$T/sv.kcov" 2>"$T/rep.err" ||
		fail "ukcov report failed: $(cat "$T/rep.err")"
	grep -q "warning" "$T/rep.err" && fail "report warned: $(cat "$T/rep.err")"
	module_counts "$T/rep.txt" "$FIXTURES/libdl_fixture.so" "$T/rep.lib"
	want=$(awk '$2 > 0 { print $1 }' "$T/sv.dl" | sort | tr '\n' ' ')
	got=$(awk '{ print $1 }' "$T/rep.lib" | tr '\n' ' ')
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		fail "library functions in the report: '$got', tallied: '$want'"
}

# A library a running process dlopen()s after `attach -p` is covered too.
test_procs_attach_dlopen()
{
	local line uk

	setup
	mkfifo "$T/in" "$T/out" || fail "mkfifo failed"
	TALLY_OUT=$T/at.tally DL_TALLY_OUT=$T/at.dl \
		"$FIXTURES/dlopener" -w -n 3 -k 11 "$FIXTURES/libdl_fixture.so" <"$T/in" >"$T/out" &
	PROG_PID=$!
	track "$PROG_PID"
	exec 7>"$T/in" 8<"$T/out"
	read -r -t 10 -u 8 line || fail "dlopener did not start"
	[ "$line" = ready ] || fail "dlopener said '$line'"
	env --default-signal=INT,TERM "$UKCOV" attach -p "$PROG_PID" --dlopen -o "$T/at.cov" \
		>"$T/at.stdout" 2>"$T/at.stderr" &
	uk=$!
	track "$uk"
	wait_line "$T/at.stderr" '^ukcov: attached to pid ' 20 "$uk"
	echo go >&7
	wait_exit "$PROG_PID" 15 dlopener
	[ "$RC" -eq 0 ] || fail "dlopener exited $RC"
	wait_exit "$uk" 15 "ukcov attach"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC: $(cat "$T/at.stderr")"
	exec 7>&- 8<&-
	grep -qx 'g_2 33' "$T/at.dl" || fail "library tally is off: $(cat "$T/at.dl")"
	# main ran before the probes: not counted.
	awk '$1 != "main"' "$T/at.tally" >"$T/at.want"
	check_module "$T/at.cov" "$FIXTURES/dlopener" "$T/at.want"
	check_module "$T/at.cov" "$FIXTURES/libdl_fixture.so" "$T/at.dl"
}

test_procs_dlopen_needs_option()
{
	setup
	sites_map "$FIXTURES/dlopener" "$T/sites"
	dlopen_run plain
	grep -qx 'g_0 13' "$T/plain.dl" || fail "library tally is off: $(cat "$T/plain.dl")"
	[ "$(grep -c '^# module ' "$T/plain.cov")" -eq 1 ] ||
		fail "a library was picked up without --dlopen: $(grep '^# module' "$T/plain.cov")"
	check_report "$T/plain.cov" "$T/plain.tally" "$T/sites"
}

test_procs_libs_picks_up_dlopen()
{
	local last

	setup
	# --libs covers the startup libraries from the start and, while the
	# run goes on, what the process dlopen()s: appended as the last module.
	dlopen_run libs --libs
	grep -qx 'g_1 26' "$T/libs.dl" || fail "library tally is off: $(cat "$T/libs.dl")"
	last=$(grep '^# module ' "$T/libs.cov" | tail -n 1)
	[[ "$last" =~ ^\#\ module\ [0-9]+\ $FIXTURES/libdl_fixture.so\  ]] ||
		fail "the dlopen()ed library is not the last module: $(grep '^# module' "$T/libs.cov" | tr '\n' ' ')"
	check_module "$T/libs.cov" "$FIXTURES/dlopener" "$T/libs.tally"
	check_module "$T/libs.cov" "$FIXTURES/libdl_fixture.so" "$T/libs.dl"
}
