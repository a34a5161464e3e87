#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Writes the seed corpus of every fuzz target (fuzz/fuzz.mk runs it):
#
#   seed.sh OUT GEN_SEEDS FIXTURES
#
#   OUT/elf/         real ELFs: the unit fixtures, /bin/true, small glibc
#                    stub libraries; cut and bit-flipped copies of some
#   OUT/sites_file/  site-table files of those ELFs (GEN_SEEDS sites)
#   OUT/kcov/        hand-made kcov streams (GEN_SEEDS kcov)
#   OUT/ldso/        /etc/ld.so.cache, small caches in both layouts, a maps
#                    file, an ELF with PT_INTERP
#   OUT/elf_path/    a stripped binary and its debug file (GEN_SEEDS
#                    elf_path): split with a .gnu_debuglink, stripped of
#                    .symtab with the same build-id, and a mismatched pair
#   OUT/kernel_btf/  small kernel BTF blobs holding every struct
#                    fuzz_kernel_btf asks for, one with duplicate struct
#                    names, cut copies (GEN_SEEDS kernel_btf)
#
# Deterministic: the same system gives the same seeds.  Files over 256 KiB
# are left out (the fuzzers read 64 KiB at most; the replay reads all).
set -eu

out=$1
gen=$2
fixtures=$3
max=262144

rm -rf "$out"
mkdir -p "$out/elf" "$out/elf_path" "$out/sites_file" "$out/kcov" "$out/ldso" "$out/kernel_btf"

size_of() { wc -c <"$1" | tr -d ' '; }

# Flips one byte at offset $2 of a copy of $1 (xor 0xff) into $3.
flip() {
	cp "$1" "$3"
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || return 0
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

elfs=""
for f in "$fixtures"/sites-pie "$fixtures"/sites-nopie "$fixtures"/sites-stripped \
	 "$fixtures"/sites-alias "$fixtures"/sites-ifunc "$fixtures"/sites-nosyms \
	 "$fixtures"/sites-reloc.o "$fixtures"/sites-truncated "$fixtures"/sites-truncated-text \
	 "$fixtures"/bb-blocks "$fixtures"/lines-O0 "$fixtures"/lines-O2 \
	 "$fixtures"/libfix.so "$fixtures"/libfix-stripped.so "$fixtures"/libfixprog-split.debug \
	 /bin/true /lib/x86_64-linux-gnu/libdl.so.2 /lib/aarch64-linux-gnu/libdl.so.2; do
	[ -f "$f" ] || continue
	[ "$(size_of "$f")" -le "$max" ] || continue
	name=$(basename "$f")
	cp "$f" "$out/elf/$name"
	case $name in sites-*|bb-*|lines-*) elfs="$elfs $f";; esac
done

# Cut at the interesting places: inside the headers, the program headers,
# halfway, one byte short.  Flip bytes in the ELF header, the program
# headers and the section header table's neighbourhood.
for name in sites-pie lines-O2 bb-blocks; do
	f=$out/elf/$name
	[ -f "$f" ] || continue
	size=$(size_of "$f")
	for cut in 40 64 120 400 $((size / 2)) $((size - 1)); do
		head -c "$cut" "$f" >"$out/elf/$name.cut$cut"
	done
	for at in 4 5 16 18 32 40 54 56 58 60 62 64 68 72 $((size - 64)) $((size - 40)) $((size / 2)); do
		flip "$f" "$at" "$out/elf/$name.flip$at"
	done
done

# shellcheck disable=SC2086
"$gen" sites "$out/sites_file" $elfs
"$gen" kcov "$out/kcov"
"$gen" ldso "$out/ldso"
# Binary, debug file: matched by debuglink + CRC, by build-id only, and not at all.
"$gen" elf_path "$out/elf_path" \
	"$fixtures/libfixprog-split" "$fixtures/libfixprog-split.debug" \
	"$fixtures/libfix-stripped.so" "$fixtures/libfix.so" \
	"$fixtures/sites-stripped" "$fixtures/sites-pie"
"$gen" kernel_btf "$out/kernel_btf"

if [ -f /etc/ld.so.cache ] && [ "$(size_of /etc/ld.so.cache)" -le "$max" ]; then
	cp /etc/ld.so.cache "$out/ldso/ld.so.cache"
fi
# The maps parser and ldso_interp() share the target.
cat /proc/self/maps >"$out/ldso/maps" 2>/dev/null || true
[ -f "$fixtures/libfixprog" ] && cp "$fixtures/libfixprog" "$out/ldso/elf-interp" || true
[ -f /bin/true ] && cp /bin/true "$out/ldso/true" || true

for t in elf elf_path sites_file kcov ldso kernel_btf; do
	n=$(ls "$out/$t" | wc -l)
	[ "$n" -gt 0 ] || { echo "seed.sh: no seeds for $t" >&2; exit 1; }
done
