# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# ukcov run --format kcov: a well-formed record stream whose union is the
# set of sites that ran.

test_kcov_stream()
{
	local records

	setup
	sites_map "$FIXTURES/tally" "$T/sites"
	# Batches 30 ms apart with a 10 ms interval: several records.
	TALLY_OUT=$T/k.tally "$UKCOV" run -o "$T/k.cov" --format kcov --interval 10ms \
		-- "$FIXTURES/tally" -t 2 -n 50 -w 30000 >/dev/null 2>"$T/k.err" ||
		fail "ukcov run --format kcov exited $?: $(cat "$T/k.err")"
	kcov_parse "$T/k.cov" >"$T/k.parsed" 2>"$T/perr" ||
		fail "malformed kcov stream: $(cat "$T/perr")"
	records=$(sed -n 's/^records //p' "$T/k.parsed")
	[ "$records" -ge 2 ] ||
		fail "only $records record(s) over ~180ms at --interval 10ms"
	grep '^0x' "$T/k.parsed" >"$T/k.union"

	# The union must be exactly the functions the tally saw run, plus at
	# most the C runtime functions.
	awk -v runtime="$RUNTIME_FUNCS" '
		BEGIN { n = split(runtime, r, /[ \t\n]+/); for (i = 1; i <= n; i++) rt[r[i]] = 1 }
		FILENAME == ARGV[1] { ran[$1] = $2 > 0; known[$1] = 1; next }
		FILENAME == ARGV[2] { fn[$1] = $2; pc[$2] = $1; next }
		{
			if (!($1 in fn)) { printf "%s is not a site; ", $1; next }
			f = fn[$1]; seen[f] = 1
			if (known[f] && !ran[f]) printf "%s never ran but is in the stream; ", f
			if (!known[f] && !(f in rt)) printf "unexpected function %s; ", f
		}
		END {
			for (f in ran)
				if (ran[f] && !(f in seen)) printf "%s ran but is not in the stream; ", f
		}' "$T/k.tally" "$T/sites" "$T/k.union" >"$T/errs"
	[ -s "$T/errs" ] && fail "$(cat "$T/errs")"

	# The same run in text format names the same set of PCs.
	TALLY_OUT=$T/t.tally "$UKCOV" run -o "$T/t.cov" -- "$FIXTURES/tally" -t 2 -n 50 \
		>/dev/null 2>"$T/t.err" || fail "text run exited $?: $(cat "$T/t.err")"
	report_data "$T/t.cov" | awk '{ print $1 }' | sort >"$T/t.pcs"
	sort "$T/k.union" >"$T/k.sorted"
	cmp -s "$T/k.sorted" "$T/t.pcs" || fail "kcov union and text report differ:" \
		"$(diff "$T/k.sorted" "$T/t.pcs" | grep '^[<>]' | tr '\n' ' ')"
}

test_kcov_every_record_is_a_drain()
{
	local records

	setup
	# One batch, no sleeps, default interval: a run this short fits in
	# one drain, and an idle drain must not write an empty record.
	"$UKCOV" run -o "$T/k.cov" --format kcov -- "$FIXTURES/tally" -n 1 \
		>/dev/null 2>"$T/err" || fail "ukcov run exited $?: $(cat "$T/err")"
	kcov_parse "$T/k.cov" >"$T/parsed" 2>"$T/perr" || fail "malformed: $(cat "$T/perr")"
	records=$(sed -n 's/^records //p' "$T/parsed")
	[ "$records" -ge 1 ] || fail "no records"
	# f_0..f_5, main, worker, tally_write at least.
	[ "$(grep -c '^0x' "$T/parsed")" -ge 9 ] || fail "too few PCs: $(cat "$T/parsed")"
}
