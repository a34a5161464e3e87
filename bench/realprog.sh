#!/bin/sh
# Fetches the real program of the benchmarks, bzip2, from Debian's source
# package with `apt-get source` (deb-src entries: `sh scripts/deps.sh bench`)
# and builds it twice in DIR: -O2 -g like the upstream Makefile, and the same
# with gcc --coverage.  Nothing is vendored; the build is cached in DIR.
#
#   sh bench/realprog.sh DIR     -> DIR/native/bzip2.bin, DIR/gcov/bzip2.bin
#
# In each build directory ./bzip2, which the self-test runs, becomes a
# wrapper: `exec $BENCH_WRAP ./bzip2.bin "$@"`, so the same `make test` runs
# natively (BENCH_WRAP empty) or under a tool (BENCH_WRAP="ukcov run --").
#
# bzip2 because it builds in seconds without configure and has a self-test
# (`make test`: compress and decompress three samples, cmp the results);
# its Debian Makefile links bzip2 against the shared libbz2, so the binary
# is linked here with libbz2.a, as upstream does, to put the library's
# functions in the executable that ukcov probes.
set -eu

dir=$1
cc=${CC:-cc}

[ -x "$dir/native/bzip2.bin" ] && [ -x "$dir/gcov/bzip2.bin" ] && exit 0

rm -rf "$dir/src" "$dir/native" "$dir/gcov"
mkdir -p "$dir/src"
# apt-get source runs as the caller; _apt cannot write a root-owned DIR.
(cd "$dir/src" && { apt-get source -q bzip2 >../fetch.log 2>&1 ||
	{ apt-get -q update >>../fetch.log 2>&1 && apt-get source -q bzip2 >>../fetch.log 2>&1; }; }) || {
	echo "realprog: apt-get source bzip2 failed (deb-src entries? see $dir/fetch.log)" >&2
	exit 1
}
src=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name 'bzip2-*' | head -n1)
[ -n "$src" ] || { echo "realprog: no bzip2-* directory in $dir/src" >&2; exit 1; }

build() {	# build DIR EXTRA-CFLAGS
	cp -r "$src" "$1"
	make -s -C "$1" CC="$cc" CFLAGS="-Wall -O2 -g -D_FILE_OFFSET_BITS=64 $2" \
		libbz2.a bzip2.o >"$1.log" 2>&1
	# shellcheck disable=SC2086 # $2: no flag, or one
	(cd "$1" && $cc -O2 -g $2 -o bzip2.bin bzip2.o libbz2.a)
	# shellcheck disable=SC2016 # expanded by the wrapper, at run time
	printf '#!/bin/sh\nexec ${BENCH_WRAP:-} "$(dirname "$0")/bzip2.bin" "$@"\n' \
		>"$1/bzip2"
	chmod +x "$1/bzip2"
}
build "$dir/native" ""
build "$dir/gcov" "--coverage"
