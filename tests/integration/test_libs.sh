# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shared libraries (--lib, --libs, --include/--exclude), stripped binaries
# and separate debug info, on libfixprog -> libfix.so -> libfix2.so
# (tests/fixtures/libfix.h): every function counts its own calls, and
# ukcov's per-function counts in each module must equal those tallies.

LIBS_ATTACHED_RE='^ukcov: attached to pid [0-9]+ \([0-9]+ sites\); Ctrl-C to stop$'

# The module a fixture function lives in (by name), "" for any other.
libs_module_of()
{
	case $1 in
	lf2_*) echo libfix2.so ;;
	lf_*) echo libfix.so ;;
	f_[0-7]|main|tally_write) echo "$2" ;;
	*) echo "" ;;
	esac
}

# check_libs_report REPORT TALLY PROG MODULES...: every data line of the
# text REPORT is a C runtime function or a fixture function reported in its
# own module (PROG for the program's) with exactly its TALLY count; every
# function of the covered MODULES (basenames) with a non-zero count is
# reported once; the "# module" lines are exactly MODULES.
check_libs_report()
{
	local report=$1 tally=$2 prog=$3 errs want got

	shift 3
	[ -s "$report" ] || fail "report $report is missing or empty"
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	got=$(sed -nE 's|^# module [0-9]+ ([^ ]*/)?([^/ ]+) build-id .*|\2|p' "$report" | sort | tr '\n' ' ')
	[ "$want" = "$got" ] || fail "modules: '$got', expected '$want'"
	errs=$(awk -v runtime="$RUNTIME_FUNCS" -v prog="$prog" -v mods="$*" '
		function modof(fn) {
			if (fn ~ /^lf2_/) return "libfix2.so"
			if (fn ~ /^lf_/) return "libfix.so"
			if (fn ~ /^f_[0-7]$/ || fn == "main" || fn == "tally_write") return prog
			return ""
		}
		BEGIN {
			n = split(runtime, r, /[ \t\n]+/); for (i = 1; i <= n; i++) rt[r[i]] = 1
			n = split(mods, m, / /); for (i = 1; i <= n; i++) covered[m[i]] = 1
		}
		FILENAME == ARGV[1] { want[$1] = $2; next }
		/^#/ || !NF { next }
		{
			count = $2; fn = $3; mo = $5
			sub(/\+0x[0-9a-fA-F]+$/, "", mo); sub(/.*\//, "", mo)
			if (fn in rt) next
			if (!(fn in want)) { printf "unexpected %s in %s (%s); ", fn, mo, count; next }
			if (modof(fn) != mo) printf "%s reported in %s, lives in %s; ", fn, mo, modof(fn)
			if (fn in seen) printf "%s reported twice; ", fn
			seen[fn] = 1
			if (want[fn] + 0 != count + 0) printf "%s: report %s, tally %s; ", fn, count, want[fn]
		}
		END {
			for (fn in want)
				if (want[fn] > 0 && (modof(fn) in covered) && !(fn in seen))
					printf "%s (tally %s) missing; ", fn, want[fn]
		}' "$tally" "$report")
	[ -z "$errs" ] || fail "$errs"
}

# libs_run NAME PROG [UKCOV-OPTIONS...]: `ukcov run` of PROG -n 7 with a
# text report in $T/NAME.cov and the fixture's tally in $T/NAME.tally.
libs_run()
{
	local name=$1 prog=$2

	shift 2
	TALLY_OUT=$T/$name.tally "$UKCOV" run -o "$T/$name.cov" "$@" -- "$prog" -n 7 \
		>"$T/$name.stdout" 2>"$T/$name.stderr" ||
		fail "ukcov run $* $prog exited $?: $(cat "$T/$name.stderr")"
	grep -qx 'lf2_leaf 28' "$T/$name.tally" || fail "fixture tally is off: $(cat "$T/$name.tally")"
}

test_libs_run_libs()
{
	setup
	libs_run libs "$FIXTURES/libfixprog" --libs --exclude '*libc.so*'
	check_libs_report "$T/libs.cov" "$T/libs.tally" libfixprog \
		libfixprog libfix.so libfix2.so
	grep -q 'ld-linux' "$T/libs.cov" && fail "the dynamic loader is covered without --lib"
	# The libraries as ld.so found them: through $ORIGIN, in the fixtures.
	grep -Eq "^# module [0-9]+ $FIXTURES/libfix2.so " "$T/libs.cov" ||
		fail "libfix2.so is not $FIXTURES/libfix2.so: $(grep '^# module' "$T/libs.cov")"
	return 0
}

test_libs_run_lib_path()
{
	setup
	libs_run lib "$FIXTURES/libfixprog" --lib "$FIXTURES/libfix.so"
	check_libs_report "$T/lib.cov" "$T/lib.tally" libfixprog libfixprog libfix.so
	grep -q ' lf2_' "$T/lib.cov" && fail "libfix2.so was covered without --libs"
	return 0
}

# Following a tree attaches without a kernel pid filter, so a process
# outside the tree that maps a covered library traps on its probes: ukcov
# names it in a warning.  A bystander that preloads libfix.so is one; once
# it is gone, or with --no-follow (a pid filter), nothing is said.  The
# counts stay exact either way.
test_libs_warns_of_processes_outside_the_tree()
{
	local by i

	setup
	LD_PRELOAD=$FIXTURES/libfix.so sleep 30 &
	by=$!
	track "$by"
	for ((i = 0; i < 250; i++)); do
		grep -q '/libfix\.so$' "/proc/$by/maps" 2>/dev/null && break
		sleep 0.02
	done
	grep -q '/libfix\.so$' "/proc/$by/maps" || fail "the bystander never mapped libfix.so"
	libs_run warn "$FIXTURES/libfixprog" --lib "$FIXTURES/libfix.so"
	check_libs_report "$T/warn.cov" "$T/warn.tally" libfixprog libfixprog libfix.so
	grep -Eq "^ukcov: warning: 1 other process map .*/libfix\.so \(pid $by sleep\): it traps on its [0-9]+ probes" \
		"$T/warn.stderr" || fail "no warning naming pid $by: $(cat "$T/warn.stderr")"
	grep -q 'libfixprog (pid' "$T/warn.stderr" && fail "warned about the program itself: $(cat "$T/warn.stderr")"
	libs_run nofollow "$FIXTURES/libfixprog" --lib "$FIXTURES/libfix.so" --no-follow
	grep -q 'other process' "$T/nofollow.stderr" &&
		fail "warned with --no-follow (a pid filter): $(cat "$T/nofollow.stderr")"
	kill "$by"
	wait_exit "$by" 5 bystander
	libs_run gone "$FIXTURES/libfixprog" --lib "$FIXTURES/libfix.so"
	grep -q 'libfix\.so (pid' "$T/gone.stderr" &&
		fail "warned after the bystander exited: $(cat "$T/gone.stderr")"
	return 0
}

test_libs_run_nopie()
{
	setup
	readelf -h "$FIXTURES/libfixprog-nopie" | grep -q 'EXEC' || fail "libfixprog-nopie is not ET_EXEC"
	libs_run nopie "$FIXTURES/libfixprog-nopie" --libs --exclude '*libc.so*'
	check_libs_report "$T/nopie.cov" "$T/nopie.tally" libfixprog-nopie \
		libfixprog-nopie libfix.so libfix2.so
}

# Filters in a run: the functions they drop are not probed, the others
# keep their exact counts.
test_libs_run_filtered()
{
	setup
	libs_run filt "$FIXTURES/libfixprog" --libs --exclude '*libc.so*' \
		--exclude 'f_[0-2]' --exclude lf_hidden
	awk '$1 !~ /^(f_[0-2]|lf_hidden)$/' "$T/filt.tally" >"$T/want"
	check_libs_report "$T/filt.cov" "$T/want" libfixprog libfixprog libfix.so libfix2.so
	grep -Eq ' (f_0|f_1|f_2|lf_hidden) ' "$T/filt.cov" && fail "an excluded function was reported"
	# Only what --include names: the program has no lf_ function, so it goes.
	libs_run inc "$FIXTURES/libfixprog" --libs --include 'lf_*'
	awk '$1 ~ /^lf_/' "$T/inc.tally" >"$T/want"
	check_libs_report "$T/inc.cov" "$T/want" libfixprog libfix.so
}

# The fully stripped program: the same probes at the same offsets (found
# through .eh_frame), so the same counts per offset as the original.
test_libs_run_stripped()
{
	setup
	libs_run orig "$FIXTURES/libfixprog" --lib "$FIXTURES/libfix.so"
	libs_run strip "$FIXTURES/libfixprog-stripped" --lib "$FIXTURES/libfix.so"
	grep -q ' sub_' "$T/strip.cov" || fail "the stripped program has named functions"
	for n in orig strip; do
		awk '!/^#/ && NF { sub(/.*\//, "", $5); sub(/-stripped/, "", $5); print $5, $2 }' \
			"$T/$n.cov" | sort >"$T/$n.offsets"
	done
	[ "$(wc -l <"$T/orig.offsets")" -ge 12 ] || fail "few sites hit: $(tr "\n" " " <"$T/orig.offsets")"
	diff "$T/orig.offsets" "$T/strip.offsets" >"$T/diff" ||
		fail "per-offset counts differ: $(tr '\n' ' ' <"$T/diff")"
}

# A stripped copy with its debug info split off reports the original's
# FUNCTION and FILE:LINE for every site.
test_libs_run_debuglink()
{
	setup
	libs_run orig "$FIXTURES/libfixprog"
	libs_run split "$FIXTURES/libfixprog-split"
	for n in orig split; do
		awk '!/^#/ && NF { print $1, $2, $3, $4 }' "$T/$n.cov" >"$T/$n.lines"
	done
	grep -q ' f_3 .*tally.h:' "$T/split.lines" || fail "no file:line from the debug file"
	diff "$T/orig.lines" "$T/split.lines" >"$T/diff" ||
		fail "split copy differs: $(head -n 4 "$T/diff" | tr '\n' ' ')"
}

# table NAME BINARY [SITES-OPTIONS]: "OFFSET FUNCTION FILE:LINE" of every
# site of BINARY's own module, in $T/NAME.
table()
{
	local name=$1 bin=$2

	shift 2
	"$UKCOV" sites "$@" "$bin" >"$T/$name.full" 2>"$T/$name.err" ||
		fail "ukcov sites $bin failed: $(cat "$T/$name.err")"
	awk '!/^#/ && NF { print $3, $4, $5 }' "$T/$name.full" >"$T/$name"
	[ "$(wc -l <"$T/$name")" -ge 10 ] || fail "few sites in $bin: $(cat "$T/$name.full")"
}

# The whole tables, not only the sites a run hits: a stripped copy has a
# site at every offset of the original (names aside), and debug info found
# by .gnu_debuglink, by build-id under the debug root, or given with
# --debug-file gives every site the original's name and file:line.
test_libs_stripped_and_split_tables()
{
	local bid

	setup
	table orig "$FIXTURES/libfixprog"
	table strip "$FIXTURES/libfixprog-stripped"
	awk '{ print $1 }' "$T/orig" >"$T/orig.off"
	awk '{ print $1 }' "$T/strip" >"$T/strip.off"
	diff "$T/orig.off" "$T/strip.off" >"$T/diff" ||
		fail "stripped copy: other offsets: $(tr '\n' ' ' <"$T/diff")"
	grep -q ' sub_' "$T/strip" || fail "stripped copy has only named sites"

	table link "$FIXTURES/libfixprog-split"
	diff "$T/orig" "$T/link" >"$T/diff" || fail "debuglink: $(head -n 4 "$T/diff" | tr '\n' ' ')"

	# No debuglink, no file next to it: only the build-id tree can help.
	objcopy --remove-section=.gnu_debuglink "$FIXTURES/libfixprog-split" "$T/nolink"
	table bare "$T/nolink"
	grep -q ' sub_' "$T/bare" || fail "debug info found without any way to find it"
	bid=$(awk '/^# module 0 / { for (i = 1; i < NF; i++) if ($i == "build-id") print $(i + 1) }' \
		"$T/bare.full")
	[ -n "$bid" ] || fail "no build-id: $(grep '^# module' "$T/bare.full")"
	mkdir -p "$T/root/.build-id/${bid:0:2}"
	cp "$FIXTURES/libfixprog-split.debug" "$T/root/.build-id/${bid:0:2}/${bid:2}.debug"
	UKCOV_DEBUG_ROOT=$T/root table byid "$T/nolink"
	diff "$T/orig" "$T/byid" >"$T/diff" || fail "build-id tree: $(head -n 4 "$T/diff" | tr '\n' ' ')"

	table given "$T/nolink" --debug-file "$FIXTURES/libfixprog-split.debug"
	diff "$T/orig" "$T/given" >"$T/diff" || fail "--debug-file: $(head -n 4 "$T/diff" | tr '\n' ' ')"
}

# "MODULE OFFSET FUNCTION FILE:LINE" of a `ukcov sites` listing (PCs left
# out: filtering renumbers them).
libs_sites()
{
	local out=$1

	shift
	"$UKCOV" sites "$@" >"$out.full" 2>"$out.err" || fail "ukcov sites $* failed: $(cat "$out.err")"
	awk '!/^#/ && NF { print $2, $3, $4, $5 }' "$out.full" >"$out"
}

# The documented semantics, in bash globs (which, like fnmatch with flags
# 0, let '*' match '/'): a pattern matches a module's path or its last
# component, or a function's name; --exclude wins; with --include, a site
# stays when its module or function matches one.
libs_expect()
{
	local in=$1 incs=$2 excs=$3 mod off fn fl p keep

	while read -r mod off fn fl; do
		keep=1
		for p in $excs; do
			[[ $mod == $p || ${mod##*/} == $p || $fn == $p ]] && keep=0
		done
		if [ "$keep" = 1 ] && [ -n "$incs" ]; then
			keep=0
			for p in $incs; do
				[[ $mod == $p || ${mod##*/} == $p || $fn == $p ]] && keep=1
			done
		fi
		[ "$keep" = 1 ] && echo "$mod $off $fn $fl"
	done <"$in"
}

test_libs_include_exclude()
{
	local incs excs args p n=0

	setup
	libs_sites "$T/all" --libs "$FIXTURES/libfixprog"
	set -f
	while IFS='|' read -r incs excs; do
		args=()
		for p in $incs; do args+=(--include "$p"); done
		for p in $excs; do args+=(--exclude "$p"); done
		libs_sites "$T/got" --libs "${args[@]}" "$FIXTURES/libfixprog"
		libs_expect "$T/all" "$incs" "$excs" >"$T/want"
		[ -s "$T/want" ] || fail "filter '$incs|$excs' should keep something"
		diff "$T/want" "$T/got" >"$T/diff" ||
			fail "--include '$incs' --exclude '$excs': $(head -n 6 "$T/diff" | tr '\n' ' ')"
		n=$((n + 1))
	done <<-'EOF'
	lf_*|
	|lf_b *libfix2* *libc.so*
	*libfix.so|lf_hidden
	f_[0-3] libfix2.so|
	*/libfix*|lf_never
	|main *libc*
	EOF
	set +f
	[ "$n" -eq 6 ] || fail "ran $n filter cases"
	# Nothing left is an error, not an empty table.
	"$UKCOV" sites --include 'no_such_function' "$FIXTURES/libfixprog" >"$T/out" 2>"$T/err" &&
		fail "an empty selection succeeded"
	grep -q 'no sites left after --include/--exclude' "$T/err" ||
		fail "unclear error: $(cat "$T/err")"
}

# `sites --libs` covers libc too (thousands of functions); --exclude drops
# exactly it; the dynamic loader only comes in when named.
test_libs_sites_libc()
{
	local nlibc interp

	setup
	libs_sites "$T/all" --libs "$FIXTURES/libfixprog"
	nlibc=$(grep -c '/libc\.so\.6 ' "$T/all")
	[ "$nlibc" -ge 1000 ] || fail "--libs lists $nlibc libc sites"
	grep -q 'ld-linux' "$T/all" && fail "the dynamic loader is listed without --lib"
	libs_sites "$T/nolibc" --libs --exclude '*libc*' "$FIXTURES/libfixprog"
	grep -q '/libc\.so\.6 ' "$T/nolibc" && fail "--exclude '*libc*' left libc sites"
	grep -v '/libc\.so\.6 ' "$T/all" >"$T/want"
	diff "$T/want" "$T/nolibc" >/dev/null || fail "--exclude '*libc*' changed other sites"
	interp=$(readelf -lW "$FIXTURES/libfixprog" | sed -nE 's/.*Requesting program interpreter: (.*)\]/\1/p')
	[ -n "$interp" ] || fail "no PT_INTERP in libfixprog"
	libs_sites "$T/ld" --libs --lib "$interp" "$FIXTURES/libfixprog"
	grep -q 'ld-linux' "$T/ld" || fail "--lib $interp did not add the loader"
}

# libs_start DIR: starts DIR/libfixprog -r (waiting for a line on fd 7).
libs_start()
{
	local line

	rm -f "$T/in" "$T/out"
	mkfifo "$T/in" "$T/out" || fail "mkfifo failed"
	TALLY_OUT=$T/tally "$1/libfixprog" -n 7 -r <"$T/in" >"$T/out" &
	PROG_PID=$!
	track "$PROG_PID"
	exec 7>"$T/in" 8<"$T/out"
	read -r -t 10 -u 8 line || fail "libfixprog did not start"
	[ "$line" = ready ] || fail "libfixprog said '$line'"
}

# libs_attach NAME OPTIONS...: attaches, releases the program, waits for both.
libs_attach()
{
	local name=$1 uk

	shift
	env --default-signal=INT,TERM "$UKCOV" attach -p "$PROG_PID" -o "$T/$name.cov" "$@" \
		>"$T/$name.stdout" 2>"$T/$name.stderr" &
	uk=$!
	track "$uk"
	wait_line "$T/$name.stderr" "$LIBS_ATTACHED_RE" 20 "$uk"
	echo go >&7
	wait_exit "$PROG_PID" 15 libfixprog
	[ "$RC" -eq 0 ] || fail "libfixprog exited $RC"
	wait_exit "$uk" 15 "ukcov attach"
	[ "$RC" -eq 0 ] || fail "ukcov attach exited $RC: $(cat "$T/$name.stderr")"
	# main ran before the probes: not counted.
	awk '$1 != "main"' "$T/tally" >"$T/want"
}

test_libs_attach_libs()
{
	setup
	libs_start "$FIXTURES"
	libs_attach a --libs --exclude '*libc.so*'
	check_libs_report "$T/a.cov" "$T/want" libfixprog libfixprog libfix.so libfix2.so
	grep -q ' main ' "$T/a.cov" && fail "main was counted, it ran before attaching"
	grep -Eq "^# module [0-9]+ $FIXTURES/libfix.so " "$T/a.cov" ||
		fail "libfix.so is not $FIXTURES/libfix.so: $(grep '^# module' "$T/a.cov")"
	grep -q 'warning' "$T/a.stderr" && fail "unexpected warning: $(cat "$T/a.stderr")"
	return 0
}

# Files replaced on disk (a package upgrade) while the process runs: the
# running copies are covered, with one warning each.
test_libs_attach_replaced()
{
	local f

	setup
	mkdir "$T/bin"
	cp "$FIXTURES/libfixprog" "$FIXTURES/libfix.so" "$FIXTURES/libfix2.so" "$T/bin/"
	libs_start "$T/bin"
	for f in libfixprog libfix.so; do
		cp "$T/bin/$f" "$T/bin/$f.new" && mv "$T/bin/$f.new" "$T/bin/$f" || fail "cannot replace $f"
	done
	libs_attach r --libs --exclude '*libc.so*'
	check_libs_report "$T/r.cov" "$T/want" libfixprog libfixprog libfix.so libfix2.so
	for f in libfixprog libfix.so; do
		[ "$(grep -c "^ukcov: warning: $T/bin/$f was replaced on disk; covering the running (deleted) file\$" \
			"$T/r.stderr")" -eq 1 ] || fail "no single warning for $f: $(cat "$T/r.stderr")"
	done
	grep -q 'libfix2.so was replaced' "$T/r.stderr" && fail "libfix2.so was not replaced"
	return 0
}
