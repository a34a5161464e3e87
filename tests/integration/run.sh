#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh [PATTERN] - runs the integration tests: real uprobes on real
# fixtures, as root.  Every function test_* of every tests/integration/
# test_*.sh (whose name contains PATTERN, if given) runs in its own bash
# under `timeout`, and prints "ok NAME", "skip NAME: why" or
# "FAIL NAME: why" (then the test's output, indented).  The last line is
# always "integration: N passed, M failed, K skipped"; the exit status is
# non-zero when anything failed.
#
# Environment: UKCOV (path to ukcov), FIXTURES (directory of the built
# fixtures), TEST_TIMEOUT (seconds per test, default 60), CI (when "true",
# not being root is a failure rather than a reason to skip).
set -u

# Under sudo, `ukcov run` hands the command to the invoking user, who cannot
# write the tests' root-owned temp directories: the suite runs as root alone.
unset SUDO_UID SUDO_GID SUDO_USER

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${TEST_TIMEOUT:-60}
pattern=${1:-}
passed=0 failed=0 skipped=0

summary()
{
	echo "integration: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

# Test functions in definition order: "FILE FUNCTION" lines.
list_tests()
{
	local f fn

	for f in "$here"/test_*.sh; do
		[ -e "$f" ] || continue
		for fn in $(sed -nE 's/^(test_[A-Za-z0-9_]+)[[:space:]]*\(\).*$/\1/p' "$f"); do
			case $fn in *"$pattern"*) echo "$f $fn" ;; esac
		done
	done
}

tests=$(list_tests)

if [ "$(id -u)" -ne 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL integration: integration tests need root"
		failed=1
	else
		echo "integration: not root, skipping (probes need CAP_BPF and CAP_PERFMON)" >&2
		while read -r f fn; do
			[ -n "$fn" ] && echo "skip $fn: not root" && skipped=$((skipped + 1))
		done <<<"$tests"
	fi
	summary
fi

if [ -z "${UKCOV:-}" ] || [ ! -x "$UKCOV" ] || [ -z "${FIXTURES:-}" ] ||
   [ ! -x "$FIXTURES/tally" ] || [ ! -x "$FIXTURES/server" ]; then
	echo "FAIL integration: set UKCOV to ukcov and FIXTURES to the built fixtures (make integration)"
	failed=1
	summary
fi

UKCOV=$(cd "$(dirname "$UKCOV")" && pwd)/$(basename "$UKCOV")
FIXTURES=$(cd "$FIXTURES" && pwd)
export UKCOV FIXTURES UKT_SRC="$here/../fixtures" UKT_LIB="$here/lib.sh"
export LC_ALL=C

while read -r f fn; do
	[ -n "$fn" ] || continue
	reason=$(mktemp) log=$(mktemp)
	# timeout signals the whole process group it creates, so whatever the
	# test left running in the background is stopped too.
	UKT_REASON=$reason timeout -k 5 "$timeout_s" \
		bash -c 'source "$UKT_LIB" && source "$1" && "$2"' _ "$f" "$fn" \
		>"$log" 2>&1 </dev/null
	rc=$?
	why=$(head -n 1 "$reason")
	case $rc in
	0)
		echo "ok $fn"
		passed=$((passed + 1))
		;;
	77)
		echo "skip $fn: ${why:-skipped}"
		skipped=$((skipped + 1))
		;;
	*)
		case $rc in
		124|137) why="timed out after ${timeout_s}s${why:+ ($why)}" ;;
		esac
		echo "FAIL $fn: ${why:-exit status $rc}"
		sed -e 's/^/    /' "$log" | tail -n 30
		failed=$((failed + 1))
		;;
	esac
	rm -f "$reason" "$log"
done <<<"$tests"

summary
