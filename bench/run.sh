#!/bin/bash
# The measurements behind BENCHMARKS.md (issue 8), as `make bench` runs them:
#
#   bash bench/run.sh [OUTPUT]          OUTPUT: the build directory (.output)
#
# Prints Markdown tables on stdout (also saved as OUTPUT/bench/results.md),
# one row per figure with the command that produced it; progress goes to
# stderr.  Every overhead is taken against the native figure measured in the
# same run, interleaved with it, as the median of BENCH_RUNS runs (default
# 5; the slow variants use BENCH_SLOW_RUNS, default 3), because the machine
# may be busy.  Needs root (BPF), bpftrace and valgrind (scripts/deps.sh
# bench) and deb-src entries for the real program (bench/realprog.sh).
# Bounded: about 4 minutes on 2 cores, the first run 1 more to build.
# SC2046: $(wl ...) is a command line, split on purpose (no spaces in paths).
# SC2015: `A && add || fail` records a failure of either, as meant.
# shellcheck disable=SC2046,SC2015
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1	# paths below are relative to the tree

OUT=${1:-.output}
B=$OUT/bench
UKCOV=$OUT/ukcov
HOT=$B/hot
R=${BENCH_RUNS:-5}
RS=${BENCH_SLOW_RUNS:-3}
N_FAST=${BENCH_N_FAST:-200000}	# hits of an emulated/nop5 probe: ~0.5 us each
N_SLOW=${BENCH_N_SLOW:-50000}	# hits of a single-stepped probe: ~11 us each
T=$(mktemp -d /tmp/ukcov-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/v"
failed=0

log() { echo "bench: $*" >&2; }

# ---- numbers -----------------------------------------------------------------

add() { echo "$2" >>"$T/v/$1"; }	# add KEY VALUE: one sample
# med KEY: the median of KEY's samples ("nan" when there are none).
med() {
	[ -s "$T/v/$1" ] || { echo nan; return; }
	sort -g "$T/v/$1" | awk '{ a[NR] = $1 }
		END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}
calc() { awk "BEGIN { x = $1; if (x != x) print \"nan\"; else printf \"$2\", x }" 2>/dev/null ||
	echo nan; }
# val NAME FILE: the word after NAME on the first line of FILE that has it.
val() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$2"; }
now() { date +%s%N; }
# callgrind runs the code it reads from the mapping: a breakpoint that the
# previous variant's probes left there for a moment (their removal is
# asynchronous when bpftrace's perf events close) kills it with SIGTRAP.
# Its runs therefore come first, after a pause, and retry once on SIGTRAP.
cg() {
	"$@"
	local rc=$?
	[ "$rc" -eq 133 ] || return "$rc"
	sleep 1
	"$@"
}
walltime() {	# walltime KEY CMD...: one wall-clock sample of CMD, in ns
	local key=$1 t0 t1
	shift
	t0=$(now)
	"$@" >"$T/o" 2>&1 || { fail "$*: $(tail -n1 "$T/o")"; return 1; }
	t1=$(now)
	add "$key" $((t1 - t0))
}
# verdict VALUE OP LIMIT: "met" / "not met" / "n/a".
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	if (v == "nan" || v == "") { print "n/a"; exit }
	ok = op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0
	print ok ? "met" : "**not met**" }'; }

# ---- output ------------------------------------------------------------------

table() {	# table TITLE: starts a table
	printf '\n### %s\n\n| measurement | median | vs | target | command |\n|---|---|---|---|---|\n' \
		"$1" >>"$T/out"
}
# row MEASUREMENT MEDIAN VS TARGET COMMAND; a | in a cell would end it.
row() {
	local cells=() x
	for x in "$@"; do cells+=("${x//|/\\|}"); done
	# shellcheck disable=SC2016 # the backquotes are Markdown
	printf '| %s | %s | %s | %s | `%s` |\n' "${cells[@]}" >>"$T/out"
}
note() { printf '\n%s\n' "$*" >>"$T/out"; }
fail() { log "FAILED: $*"; note "FAILED: $*"; failed=1; }

# ---- the machine -------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
for f in "$UKCOV" "$HOT" "$B/hot-gcov" "$B/trap_bench" "$B/attach_bench" \
	 "$B/drain_bench" "$B/mem_bench" "$B/funcs"; do
	[ -x "$f" ] || { echo "bench: $f missing: run make bench" >&2; exit 1; }
done
load0=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "## ukcov benchmarks ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo
	echo "- machine: $(nproc) CPUs, $cpu, kernel $(uname -r), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- load average at start: $load0 (a busy machine makes every figure noisier; ratios are taken within one run)"
	echo "- medians of $R runs ($RS for the slow variants), interleaved with their native run"
	echo "- $($UKCOV --version 2>&1 | head -n1), $(bpftrace --version 2>&1 | head -n1), $(valgrind --version 2>&1), gcc $(gcc -dumpfullversion)"
} >"$T/out"
case $load0 in [0-9].*) awk -v l="${load0%% *}" 'BEGIN { exit !(l > 1.0) }' &&
	log "load average $load0: other work is running, figures will be noisy" ;; esac

# ---- 1. per-hit cost by first instruction --------------------------------------

# hot_ns FILE: the loop time hot.c printed.
hot_ns() { awk '$1 == "hot" { print $4; exit }' "$1"; }

# bpftrace_hot KIND N OUTFILE: bpftrace counting hot_KIND.  Its exit status
# is not used: 0.17 attaches through perf_event_open but detaches through
# tracefs, which this system need not mount ("failed to detach probe"), and
# exits 1 after counting correctly.  Success is its map holding the count.
bpftrace_hot() {
	bpftrace -e "uprobe:$HOT:hot_$1 { @[probe] = count(); }" -c "$HOT $1 $2" >"$3" 2>&1
	grep -q '^@' "$3"
}

declare -A INSN=([c]="C at -O2: lea (single-step)" [push]="push %rbp (emulated)"
	[nop5]="5-byte nop (nop5)" [mov]="mov (single-step)" [endbr]="endbr64 (single-step)")
KINDS="c push nop5 mov endbr"
declare -A NHITS
for k in $KINDS; do
	case $k in push|nop5) NHITS[$k]=$N_FAST ;; *) NHITS[$k]=$N_SLOW ;; esac
done

log "1. per-hit cost: native, empty BPF, ukcov counter, bpftrace ($R/$RS runs)"
bpftrace_ok=1
for r in $(seq "$R"); do
	for k in $KINDS; do
		n=${NHITS[$k]}
		"$B/trap_bench" none entry "hot_$k" -- "$HOT" "$k" "$n" >"$T/o" 2>&1 &&
			add "native_$k" "$(hot_ns "$T/o")"
		"$B/trap_bench" empty entry "hot_$k" -- "$HOT" "$k" "$n" >"$T/o" 2>&1 &&
			add "empty_$k" "$(hot_ns "$T/o")" || fail "trap_bench empty hot_$k: $(tail -n1 "$T/o")"
		"$B/trap_bench" count entry "hot_$k" -- "$HOT" "$k" "$n" >"$T/o" 2>&1 &&
			add "count_$k" "$(hot_ns "$T/o")" || fail "trap_bench count hot_$k: $(tail -n1 "$T/o")"
		h=$(val hits "$T/o")
		[ "$h" = "$n" ] || fail "ukcov counted $h hits of hot_$k, expected $n"
		if [ "$r" -le "$RS" ] && [ "$bpftrace_ok" = 1 ]; then
			if bpftrace_hot "$k" "$n" "$T/bt"; then
				add "bpft_$k" "$(hot_ns "$T/bt")"
				grep -q "hot_$k\]: $n\$" "$T/bt" ||
					fail "bpftrace did not count $n hits of hot_$k: $(grep '^@' "$T/bt")"
			else
				bpftrace_ok=0
				cp "$T/bt" "$T/bpftrace-failure"
			fi
		fi
	done
done

table "1. Per-hit cost by the probed instruction (hot.c: one function called N times; the loop times itself)"
for k in $KINDS; do
	n=${NHITS[$k]}
	nat=$(med "native_$k")
	e=$(calc "($(med "empty_$k") - $nat) / $n / 1000" %.3f)
	c=$(calc "($(med "count_$k") - $nat) / $n / 1000" %.3f)
	bt=$(calc "($(med "bpft_$k") - $nat) / $n / 1000" %.3f)
	ratio=$(calc "$c / $e" %.2f)
	vsbt=$(calc "$c / $bt" %.2f)
	cmd="$B/trap_bench none|empty|count entry hot_$k -- $HOT $k $n"
	row "hot_$k, ${INSN[$k]}: native" "$(calc "$nat / $n" %.1f) ns/call" "" "" "$cmd"
	row "hot_$k: empty BPF program" "$e us/hit" "" "" "$cmd"
	row "hot_$k: ukcov counter (probe API)" "$c us/hit" "${ratio}x empty" \
		"<= 1.2x empty: $(verdict "$ratio" "<=" 1.2)" "$cmd"
	row "hot_$k: bpftrace count()" "$bt us/hit" "ukcov ${vsbt}x" \
		"ukcov <= bpftrace: $(verdict "$vsbt" "<=" 1.0)" \
		"bpftrace -e 'uprobe:$HOT:hot_$k { @[probe] = count(); }' -c '$HOT $k $n'"
	# Item 6 uses these as the expected gain of placement.
	echo "$k $c" >>"$T/kindcost"
done
if [ "$bpftrace_ok" = 0 ]; then
	note "bpftrace failed on this kernel; its output: $(head -c 600 "$T/bpftrace-failure" | tr '\n' ' ')"
fi

# ---- 5a. tools compared on hot.c -----------------------------------------------

log "5. hot.c under ukcov run, gcov, callgrind"
n=$N_SLOW
sleep 1
for r in $(seq "$RS"); do
	cg valgrind -q --tool=callgrind --callgrind-out-file="$T/cg.out" "$HOT" c "$n" \
		>"$T/o" 2>"$T/cg.err" && add cg_c "$(hot_ns "$T/o")" ||
		fail "callgrind on hot: $(tail -n1 "$T/cg.err")"
done
for r in $(seq "$R"); do
	"$HOT" c "$n" >"$T/o" && add nat_c5 "$(hot_ns "$T/o")"
	"$UKCOV" run -o "$T/cov.txt" --format text -- "$HOT" c "$n" >"$T/o" 2>&1 &&
		add ukrun_c "$(hot_ns "$T/o")" || fail "ukcov run hot: $(tail -n1 "$T/o")"
	GCOV_PREFIX=$T/gcov "$B/hot-gcov" c "$n" >"$T/o" && add gcov_c "$(hot_ns "$T/o")"
done
h=$(awk '$3 == "hot_c" { print $2 }' "$T/cov.txt" 2>/dev/null)
[ "$h" = "$n" ] || fail "ukcov run counted ${h:-no} hits of hot_c, expected $n"
nat=$(med nat_c5)
table "5a. Tools on the same workload: hot.c, hot_c called $n times (loop time)"
row "native -O2" "$(calc "$nat / 1e6" %.2f) ms" "1x" "" "$HOT c $n"
for v in "gcov_c|gcc --coverage build|$B/hot-gcov c $n" \
	 "ukrun_c|ukcov run (count, func sites)|$UKCOV run -o cov.txt --format text -- $HOT c $n" \
	 "bpft_c|bpftrace count()|bpftrace -e 'uprobe:$HOT:hot_c { @[probe] = count(); }' -c '$HOT c $n'" \
	 "cg_c|valgrind --tool=callgrind|valgrind --tool=callgrind $HOT c $n"; do
	IFS='|' read -r key what cmd <<<"$v"
	m=$(med "$key")
	[ "$key" = bpft_c ] && m=$(calc "$(med bpft_c) - $(med native_c) + $nat" %.0f)
	row "$what" "$(calc "$m / 1e6" %.2f) ms, $(calc "($m - $nat) / $n" %.0f) ns/call extra" \
		"$(calc "$m / $nat" %.1f)x native" "" "$cmd"
done

# ---- 5b/6. the real program -----------------------------------------------------

RP=$B/realprog
log "5. real program: bzip2 from apt-get source (cached in $RP)"
if ! sh bench/realprog.sh "$RP"; then
	fail "could not fetch or build bzip2 (bench/realprog.sh)"
else
	BZ=$RP/native/bzip2.bin
	BZG=$RP/gcov/bzip2.bin
	W=$B/work	# stable paths, so that the commands below can be rerun
	mkdir -p "$W"
	# The workload: compress bzip2's own sources (238 KB of C), a file
	# every build has; the trivial one compresses an empty file, so that
	# differences cancel start-up costs and leave the per-hit part.
	cat "$RP"/native/*.c "$RP"/native/*.h >"$W/src.txt"
	: >"$W/empty.txt"
	# bb sites take ~40 hits per byte here: a 3 KB prefix keeps 5c short.
	head -c 3000 "$W/src.txt" >"$W/bb.txt"
	wl() { echo "$1 -zkf $W/$2.txt"; }	# the workload's command line
	# bpftrace 0.17 refuses `uprobe:BIN:*` when BIN has a zero-size symbol
	# ("Offset outside the function bounds"), so it gets the names of the
	# sites ukcov probes, quoted for names like handle_compress.isra.0.
	btprobes=$("$UKCOV" sites --no-dwarf "$BZ" |
		awk -v b="$BZ" '!/^#/ { printf "%suprobe:%s:\"%s\"", n++ ? "," : "", b, $4 }')
	for r in $(seq "$RS"); do
		for in in src empty; do
			walltime "rp_cg_$in" cg valgrind -q --tool=callgrind \
				--callgrind-out-file="$T/cg.out" $(wl "$BZ" $in)
		done
	done
	for r in $(seq "$R"); do
		for in in src empty; do
			walltime "rp_nat_$in" $(wl "$BZ" $in)
			walltime "rp_gcov_$in" env GCOV_PREFIX="$T/gcov" $(wl "$BZG" $in)
			walltime "rp_uk_$in" "$UKCOV" run -o "$T/rp-$in.txt" -- $(wl "$BZ" $in)
			walltime "rp_once_$in" "$UKCOV" run --mode once -o "$T/rp-once-$in.txt" -- \
				$(wl "$BZ" $in)
			"$B/trap_bench" none placed '*' -- $(wl "$BZ" $in) >"$T/o" 2>&1 &&
				add "rp_none_$in" "$(val ns "$T/o")"
			"$B/trap_bench" count placed '*' -- $(wl "$BZ" $in) >"$T/o" 2>&1 &&
				add "rp_placed_$in" "$(val ns "$T/o")"
			"$B/trap_bench" empty placed '*' -- $(wl "$BZ" $in) >"$T/o" 2>&1 &&
				add "rp_eplaced_$in" "$(val ns "$T/o")"
			if [ "$r" -le "$RS" ] && [ "$in" = src ]; then
				"$B/trap_bench" none placed '*' -- $(wl "$BZ" bb) >"$T/o" 2>&1 &&
					add rp_bbnone "$(val ns "$T/o")"
				for at in placed entry; do
					TRAP_BENCH_SITES=bb "$B/trap_bench" count $at '*' -- $(wl "$BZ" bb) \
						>"$T/o" 2>&1 && add "rp_bb$at" "$(val ns "$T/o")"
				done
			fi
			if [ "$r" -le "$RS" ]; then
				"$B/trap_bench" count entry '*' -- $(wl "$BZ" $in) >"$T/o" 2>&1 &&
					add "rp_entry_$in" "$(val ns "$T/o")"
				"$B/trap_bench" empty entry '*' -- $(wl "$BZ" $in) >"$T/o" 2>&1 &&
					add "rp_eentry_$in" "$(val ns "$T/o")"
				if [ "$bpftrace_ok" = 1 ]; then
					t0=$(now)
					bpftrace -e "$btprobes { @[probe] = count(); }" \
						-c "$(wl "$BZ" $in)" >"$T/rp-bt-$in.txt" 2>&1
					t1=$(now)
					if grep -q '^@' "$T/rp-bt-$in.txt"; then
						add "rp_bt_$in" $((t1 - t0))
					else
						fail "bpftrace on bzip2: $(head -n3 "$T/rp-bt-$in.txt" | tr '\n' ' ')"
					fi
				fi
			fi
		done
	done
	hits() { awk '/^# sites:/ { print $7; exit }' "$1"; }
	h1=$(hits "$T/rp-src.txt")
	h0=$(hits "$T/rp-empty.txt")
	dh=$(( ${h1:-0} - ${h0:-0} ))
	[ "$dh" -gt 0 ] || fail "ukcov run found no hits in the bzip2 workload"
	bth=$(awk -F': ' '/^@/ { s += $2 } END { print s + 0 }' "$T/rp-bt-src.txt" 2>/dev/null)
	natw=$(med rp_nat_src)
	# perhit KEY NATIVE: ((KEY's workload - its trivial run) - the same
	# difference natively) / hits, in us: start-up costs cancel out.
	perhit() {
		calc "(($(med "${1}_src") - $(med "${1}_empty")) - ($(med "${2}_src") - $(med "${2}_empty"))) / $dh / 1000" %.3f
	}
	placement=$("$UKCOV" sites "$BZ" 2>/dev/null | awk '/^# placement/ { $1 = $2 = $3 = ""; sub(/^ +/, ""); print; exit }')
	nsites=$(awk '/^# sites:/ { print $3; exit }' "$T/rp-src.txt")
	table "5b. Tools on a real program: bzip2 $(basename "$(ls -d "$RP"/src/bzip2-*/)" | sed 's/bzip2-//') (Debian source) compressing its own sources (238 KB), $h1 function hits"
	row "native -O2 (wall time)" "$(calc "$natw / 1e6" %.1f) ms" "1x" "" "$(wl "$BZ" src)"
	for v in "rp_gcov|rp_nat|gcc --coverage build|$(wl "$BZG" src)" \
		 "rp_uk|rp_nat|ukcov run (count, func sites)|$UKCOV run -o cov.txt -- $(wl "$BZ" src)" \
		 "rp_once|rp_nat|ukcov run --mode once (cold: one short process, attach included)|$UKCOV run --mode once -o cov.txt -- $(wl "$BZ" src)" \
		 "rp_bt|rp_nat|bpftrace count() on the same functions|bpftrace -e 'uprobe:$BZ:\"main\",... { @[probe] = count(); }' -c '$(wl "$BZ" src)'" \
		 "rp_cg|rp_nat|valgrind --tool=callgrind|valgrind --tool=callgrind $(wl "$BZ" src)" \
		 "rp_none|rp_none|trap_bench, unprobed (time from exec to exit)|$B/trap_bench none placed '*' -- $(wl "$BZ" src)" \
		 "rp_placed|rp_none|ukcov counter, placed probes (probe API)|$B/trap_bench count placed '*' -- $(wl "$BZ" src)" \
		 "rp_eplaced|rp_none|empty BPF program, placed probes|$B/trap_bench empty placed '*' -- $(wl "$BZ" src)" \
		 "rp_entry|rp_none|ukcov counter, entry probes (no placement)|$B/trap_bench count entry '*' -- $(wl "$BZ" src)" \
		 "rp_eentry|rp_none|empty BPF program, entry probes|$B/trap_bench empty entry '*' -- $(wl "$BZ" src)"; do
		IFS='|' read -r key nat what cmd <<<"$v"
		[ -s "$T/v/${key}_src" ] || continue
		m=$(med "${key}_src")
		ph=""
		[ "$key" = "$nat" ] || ph="; $(perhit "$key" "$nat") us/hit"
		tgt=""
		case $key in
		rp_uk) [ -s "$T/v/rp_bt_src" ] && tgt="per hit <= bpftrace: $(verdict \
			"$(calc "$(perhit rp_uk rp_nat) / $(perhit rp_bt rp_nat)" %.3f)" "<=" 1)" ;;
		rp_once) tgt="<= 1.3x native: $(verdict "$(calc "$m / $(med rp_nat_src)" %.3f)" "<=" 1.3)" ;;
		rp_placed) tgt="per hit <= 1.2x empty: $(verdict \
			"$(calc "$(perhit rp_placed rp_none) / $(perhit rp_eplaced rp_none)" %.3f)" "<=" 1.2)" ;;
		esac
		row "$what" "$(calc "$m / 1e6" %.1f) ms$ph" "$(calc "$m / $(med "${nat}_src")" %.1f)x native" \
			"$tgt" "$cmd"
	done
	note "Per hit: ((tool on the workload - tool on an empty file) - the same difference natively) / ($dh) hits of the $nsites function sites; ukcov's placement in bzip2: ${placement:-none (no placement in this build)}; bpftrace counted $bth hits."
	pe=$(perhit rp_placed rp_none)
	pen=$(perhit rp_entry rp_none)
	pee=$(perhit rp_eplaced rp_none)
	note "Counter vs empty program on bzip2 (placed probes): $(calc "$pe / $pee" %.2f)x (target <= 1.2x: $(verdict "$(calc "$pe / $pee" %.2f)" "<=" 1.2))."
	if [ -s "$T/v/rp_bbplaced" ] && [ -s "$T/v/rp_bbentry" ]; then
		bbmix=$("$UKCOV" sites --sites bb "$BZ" 2>/dev/null | awk '/^# placement/ { $1 = $2 = $3 = ""; sub(/^ +/, ""); print; exit }')
		table "5c. Placement inside basic blocks: bzip2 compressing 3 KB of its sources, every bb site probed (placement: $bbmix)"
		row "unprobed (trap_bench none)" "$(calc "$(med rp_bbnone) / 1e6" %.1f) ms" "1x" "" \
			"$B/trap_bench none placed '*' -- $(wl "$BZ" bb)"
		row "bb sites, probe at each block's leader" "$(calc "$(med rp_bbentry) / 1e6" %.0f) ms" \
			"$(calc "$(med rp_bbentry) / $(med rp_bbnone)" %.0f)x unprobed" "" \
			"TRAP_BENCH_SITES=bb $B/trap_bench count entry '*' -- $(wl "$BZ" bb)"
		row "bb sites, placed" "$(calc "$(med rp_bbplaced) / 1e6" %.0f) ms" \
			"$(calc "$(med rp_bbplaced) / $(med rp_bbnone)" %.0f)x unprobed; $(calc "$(med rp_bbentry) / $(med rp_bbplaced)" %.2f)x faster than at leaders" "" \
			"TRAP_BENCH_SITES=bb $B/trap_bench count placed '*' -- $(wl "$BZ" bb)"
	fi

	# The self-test (make test: 3 compressions, 3 decompressions, cmp).
	suite() {	# suite KEY DIR [WRAP]: one timed `make test`
		local t0 t1
		t0=$(now)
		BENCH_WRAP=${3:-} make -s -C "$2" -o bzip2 test >"$T/o" 2>&1 ||
			{ fail "make test ($1): $(tail -n2 "$T/o" | tr '\n' ' ')"; return 1; }
		t1=$(now)
		add "$1" $((t1 - t0))
	}
	all_ok=1
	sleep 1
	for r in $(seq "$RS"); do
		suite st_cg "$RP/native" \
			"valgrind -q --tool=callgrind --callgrind-out-file=$T/cg.out"
	done
	for r in $(seq "$R"); do
		suite st_nat "$RP/native"
		suite st_gcov "$RP/gcov"
		# make -C: the wrapper runs in the build directory.
		suite st_uk "$RP/native" "$(realpath "$UKCOV") run -o $T/st-cov.txt --"
		# One ukcov over the whole suite, bzip2.bin covered in make's children.
		t0=$(now)
		"$UKCOV" run --mode once --lib "$(realpath "$BZ")" -o "$T/st-once.txt" -- \
			make -s -C "$RP/native" -o bzip2 test >"$T/o" 2>&1 &&
			add st_once $(($(now) - t0)) ||
			fail "ukcov run --mode once -- make test: $(tail -n2 "$T/o" | tr '\n' ' ')"
		if [ "$all_ok" = 1 ]; then
			"$UKCOV" attach -o "$T/st-all.txt" --all "$BZ" 2>"$T/all.err" &
			apid=$!
			for _ in $(seq 100); do
				grep -q attached "$T/all.err" && break
				kill -0 "$apid" 2>/dev/null || break
				sleep 0.1
			done
			if grep -q attached "$T/all.err"; then
				suite st_all "$RP/native"
				kill -INT "$apid"
				wait "$apid" || true
			else
				all_ok=0
				kill "$apid" 2>/dev/null
				wait "$apid" 2>/dev/null
			fi
		fi
	done
	sth=$(awk '/^# sites:/ { print $7; exit }' "$T/st-all.txt" 2>/dev/null)
	st=$(med st_nat)
	table "5c. bzip2's self-test (make test: 6 bzip2 processes, outputs compared with cmp), end to end"
	row "native" "$(calc "$st / 1e6" %.0f) ms" "1x" "" "make -C $RP/native -o bzip2 test"
	for v in "st_gcov|gcc --coverage build|make -C $RP/gcov -o bzip2 test" \
		 "st_uk|each bzip2 under ukcov run|BENCH_WRAP='$UKCOV run -o cov.txt --' make -C $RP/native -o bzip2 test" \
		 "st_once|one ukcov run --mode once over the suite (cold, attach included)|$UKCOV run --mode once --lib $BZ -o cov.txt -- make -C $RP/native -o bzip2 test" \
		 "st_all|ukcov attach --all bzip2.bin during the suite (${sth:-?} hits)|$UKCOV attach -o cov.txt --all $BZ & make -C $RP/native -o bzip2 test" \
		 "st_cg|each bzip2 under callgrind|BENCH_WRAP='valgrind --tool=callgrind' make -C $RP/native -o bzip2 test"; do
		IFS='|' read -r key what cmd <<<"$v"
		[ -s "$T/v/$key" ] || continue
		m=$(med "$key")
		tgt=""
		[ "$key" = st_once ] &&
			tgt="<= 1.3x native: $(verdict "$(calc "$m / $st" %.3f)" "<=" 1.3)"
		row "$what" "$(calc "$m / 1e6" %.0f) ms" "$(calc "$m / $st" %.1f)x native" "$tgt" "$cmd"
	done
	[ "$all_ok" = 1 ] || note "ukcov attach --all did not attach: $(head -n1 "$T/all.err")"

	# ---- 6. placement --------------------------------------------------------
	table "6. Site placement: the same bzip2 workload, probes at function entry vs where placement puts them"
	row "entry probes (before placement)" "$pen us/hit" "" "" \
		"$B/trap_bench count entry '*' -- $(wl "$BZ" src)"
	row "placed probes (${placement:-no placement})" "$pe us/hit" \
		"$(calc "$pen / $pe" %.1f)x faster" "" "$B/trap_bench count placed '*' -- $(wl "$BZ" src)"
	note "Expected gain per site from item 1: a single-stepped entry costs $(awk '$1 == "mov" { print $2 }' "$T/kindcost") us/hit, an emulated one (push) $(awk '$1 == "push" { print $2 }' "$T/kindcost") us/hit, a nop5 $(awk '$1 == "nop5" { print $2 }' "$T/kindcost") us/hit."
fi

# ---- 2. attach and detach ---------------------------------------------------------

log "2. attach/detach 1k/10k/100k sites ($RS runs)"
if "$B/attach_bench" "$B/funcs" "$RS" >"$T/attach.txt" 2>&1; then
	table "2. Attach and detach into a running process ($B/funcs: 100k functions, -O0), ms"
	awk '/discover/ { print $4, $6 }' "$T/attach.txt" | while read -r ns ms; do
		row "site discovery (ELF symbols, no DWARF), $ns sites" "$ms ms" "" "" \
			"$B/attach_bench $B/funcs $RS"
	done
	awk '$2 == "probe_api" || $2 == "direct"' "$T/attach.txt" |
	while read -r _ how _ links _ sites _ load _ att _ det; do
		tgt=""
		if [ "$how" = probe_api ] && [ "$sites" = 100000 ]; then
			tgt="load+attach <= 500 ms: $(verdict "$(calc "$load + $att" %.1f)" "<=" 500)"
		fi
		row "$how, $links link(s), $sites sites" \
			"load $load, attach $att, detach $det" "" "$tgt" "$B/attach_bench $B/funcs $RS"
	done
	sl=$(awk '/slab_delta/ { print $5 }' "$T/attach.txt")
	row "kernel slab growth while 100k sites are attached (approximate)" "$sl B/site" "" "" \
		"$B/attach_bench $B/funcs $RS"
else
	fail "attach_bench: $(tail -n1 "$T/attach.txt")"
fi
# As a user sees it: from the command's start to "attached" on its stderr
# (discovery, load, attach; polled every 5 ms), then from there to its exit
# less the 1 s duration (detach, last drain, writing 100k sites of text).
fsites=$(awk '/discover/ { print $4 }' "$T/attach.txt")
"$B/funcs" &
fpid=$!
sleep 0.2
for r in $(seq "$RS"); do
	: >"$T/e2e.err"
	t0=$(now)
	"$UKCOV" attach -p "$fpid" --duration 1s -o "$T/e2e.txt" 2>"$T/e2e.err" &
	upid=$!
	while ! grep -q attached "$T/e2e.err" && kill -0 "$upid" 2>/dev/null; do
		sleep 0.005
	done
	t1=$(now)
	# The pid in the message proves the right process (funcs) was covered.
	if wait "$upid" && grep -q "attached to pid $fpid ($fsites sites)" "$T/e2e.err"; then
		t2=$(now)
		add e2e_att $((t1 - t0))
		add e2e_det $((t2 - t1 - 1000000000))
	else
		fail "ukcov attach -p funcs: $(tail -n1 "$T/e2e.err")"
	fi
done
kill "$fpid"
wait "$fpid" 2>/dev/null
att=$(calc "$(med e2e_att) / 1e6" %.0f)
row "ukcov attach -p PID on 100k sites, as the user sees it" \
	"$att ms to attached, $(calc "$(med e2e_det) / 1e6" %.0f) ms to detach and write" "" \
	"attach <= 500 ms: $(verdict "$att" "<=" 500)" \
	"$UKCOV attach -p \$(pidof funcs) --duration 1s -o out.txt"

# ---- 3. drain -----------------------------------------------------------------------

log "3. drain 1M counters"
if "$B/drain_bench" 1000000 11 >"$T/drain.txt" 2>&1; then
	table "3. Drain of 1M counters (drain_once; median of 11, caches flushed first)"
	while read -r _ mem _ pct _ n _ found _ cold _ warm; do
		tgt=""
		[ "$pct" = 1% ] && tgt="<= 1 ms: $(verdict "$cold" "<=" 1)"
		row "$mem memory, $pct hit ($found found)" "$cold ms" "warm $warm ms" "$tgt" \
			"$B/drain_bench 1000000 11"
	done < <(grep '^drain_bench [a-z]* hit' "$T/drain.txt")
	grep -q skipped "$T/drain.txt" && note "$(grep skipped "$T/drain.txt")"
else
	fail "drain_bench: $(tail -n1 "$T/drain.txt")"
fi

# ---- 4. memory ------------------------------------------------------------------------

log "4. memory per site"
table "4. Memory per site (B/site beyond strings: the table's own count, counter and total; heap and RSS as measured)"
# The target is about function sites (the default); ukcov's own binary, with
# DWARF, shows what line and bb sites cost on top.
for run in "$B/funcs" /usr/lib/x86_64-linux-gnu/libLLVM-15.so.1 "$UKCOV line" "$UKCOV bb"; do
	bin=${run%% *}
	kind=func
	[ "$run" = "$bin" ] || kind=${run#* }
	[ -e "$bin" ] || continue
	name="$(basename "$bin") ($kind sites)"
	if "$B/mem_bench" $run >"$T/mem.txt" 2>&1; then
		read -r _ _ n _ tps _ str _ ps _ fk _ th _ tr _ rh _ rr _ dp _ rp <"$T/mem.txt"
		target=""
		[ "$kind" = func ] && target="<= 32: $(verdict "$ps" "<=" 32)"
		row "$name: $n sites, per site beyond strings (table $tps + counter 8 + total 8)" \
			"$ps" "+ $fk KiB fixed (the drain's PC buffer)" "$target" "$B/mem_bench $run"
		row "$name: table heap (sites + strings + slack) / RSS" "$th / $tr" \
			"strings $str" "" "$B/mem_bench $run"
		row "$name: at run time (counters, totals, PC buffer) heap / RSS" "$rh / $rr" \
			"" "" "$B/mem_bench $run"
		row "$name: passing: peak RSS while discovering / heap of the line report at the end" \
			"$dp / $rp" "" "" "$B/mem_bench $run"
	else
		fail "mem_bench $run: $(tail -n1 "$T/mem.txt")"
	fi
done

note "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$B"
cp "$T/out" "$B/results.md"
cat "$T/out"
exit "$failed"
