# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Placement moves a probe to the cheapest instruction of its straight-line
# run; that is exact only if nothing enters the run after its start.
# These fixtures enter code from elsewhere - a tail jump and a call into
# another function's body, switch cases reached through a jump table -
# and every count must still equal what ran.

# report_counts REPORT FUNC: "FILE-LINE COUNT" of FUNC's sites in a text report.
report_counts()
{
	awk -v f="$2" '!/^#/ && NF && $3 == f { n = split($4, a, ":"); print a[n], $2 }' "$1"
}

test_place_foreign_entries_not_counted()
{
	local f=3 t=5 g=7 h=11

	setup
	readelf -sW "$FIXTURES/entries" | grep -q ' ent_f.mid$' ||
		fail "fixture: no ent_f.mid label"
	for kind in func bb; do
		"$UKCOV" run --sites $kind -o "$T/$kind.txt" -- "$FIXTURES/entries" $f $t $g $h \
			>/dev/null 2>"$T/err" || fail "ukcov run --sites $kind: $(cat "$T/err")"
		awk '!/^#/ && NF && $3 ~ /^ent_/ { print $3, $2 }' "$T/$kind.txt" |
			awk '!seen[$1]++' | sort >"$T/$kind.got"
		printf '%s\n' "ent_f $f" "ent_g $g" "ent_h $h" "ent_tail $t" >"$T/want"
		diff "$T/want" "$T/$kind.got" >"$T/diff" ||
			fail "--sites $kind: entry counts: $(tr '\n' ' ' <"$T/diff")"
	done
	# Placement still moved what it could: the entry runs are not all single-step.
	"$UKCOV" sites "$FIXTURES/entries" >"$T/sites" || fail "ukcov sites failed"
	grep -Eq '^# placement 0 nop5 [0-9]+ emulated [1-9][0-9]* ' "$T/sites" ||
		fail "nothing placed on an emulated instruction: $(grep '^# placement' "$T/sites")"
}

test_place_switch_fall_through_blocks()
{
	local src=$UKT_SRC/switch_fall.c line tag want got

	setup
	objdump -d "$FIXTURES/switch_fall" | awk '/<sw>:/,/^$/' | grep -q 'jmp  *\*%r' ||
		fail "fixture: sw has no indirect jump (no jump table at -O2?)"
	"$UKCOV" run --sites bb -o "$T/cov" -- "$FIXTURES/switch_fall" 1 2 3 4 5 6 7 8 \
		>/dev/null 2>"$T/err" || fail "ukcov run exited $?: $(cat "$T/err")"
	report_counts "$T/cov" sw >"$T/sw"
	# Each case's block, by its marked line: cases 0 and 4 fall through.
	while read -r tag want; do
		line=$(grep -n "/\* $tag \*/" "$src" | cut -d: -f1)
		[ -n "$line" ] || fail "no $tag in $src"
		got=$(awk -v l="$line" '$1 == l { print $2 }' "$T/sw" | tr '\n' ' ')
		[ "$got" = "$want " ] || fail "$tag (line $line): counted '$got', ran $want times"
	done <<EOF
SW_0 1
SW_1 3
SW_2 3
SW_3 4
SW_4 5
SW_5 11
SW_6 7
SW_D 8
EOF
}
