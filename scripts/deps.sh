#!/bin/sh
# Installs what ukcov needs to build and test, with apt-get, as root.
# Idempotent and quiet when everything is present.  Debian 12's libbpf (1.1)
# lacks bpf_program__attach_uprobe_multi(), so on bookworm the BPF tool chain
# (libbpf-dev, bpftool, and the libelf/libdw they are built against) comes
# from bookworm-backports; newer distributions' stock packages serve.
set -eu

# `deps.sh bench`: what only `make bench` needs (bench/run.sh): bpftrace and
# valgrind to compare with, and deb-src entries plus dpkg-dev so that
# `apt-get source` can fetch the real program it measures.  Never part of
# the default path (make deps / make check).
if [ "${1:-}" = bench ]; then
	bench_pkgs="bpftrace valgrind dpkg-dev gcc make"
	src_list=/etc/apt/sources.list.d/ukcov-src.sources
	bench_missing=""
	for p in $bench_pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			bench_missing="$bench_missing $p"
	done
	[ -n "$bench_missing" ] || [ ! -e "$src_list" ] || exit 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: bench needs:$bench_missing and deb-src entries; run as root" >&2
		exit 1
	fi
	if [ ! -e "$src_list" ]; then
		codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")
		echo "deps: adding deb-src entries for apt-get source ($src_list)" >&2
		cat >"$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	fi
	echo "deps: bench: installing:$bench_missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get -y -q update && apt-get -y -q -o Dpkg::Use-Pty=0 install \
		--no-install-recommends $bench_pkgs; } >/tmp/ukcov-deps.log 2>&1 ||
		{ echo "deps: bench: apt-get failed, see /tmp/ukcov-deps.log" >&2; exit 1; }
	exit 0
fi

need_libbpf=1.3

# Packages from the release itself.
base="make gcc clang libclang-rt-dev llvm pkg-config libcmocka-dev libcapstone-dev lcov libxml2-utils
      binutils procps util-linux iproute2"
# The BPF tool chain, possibly from backports.
bpf="libbpf-dev bpftool libelf-dev libdw-dev"

missing=""
for p in $base $bpf; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

libbpf_ok() {
	v=$(pkg-config --modversion libbpf 2>/dev/null) || return 1
	[ "$(printf '%s\n%s\n' "$need_libbpf" "$v" | sort -V | head -n1)" = "$need_libbpf" ]
}

if [ -z "$missing" ] && libbpf_ok; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing; run 'make deps' as root (it uses apt-get)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >/tmp/ukcov-deps.log 2>&1 ||
	{ echo "deps: apt-get $*: failed, see /tmp/ukcov-deps.log" >&2; tail -n 20 /tmp/ukcov-deps.log >&2; exit 1; }; }

codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
echo "deps: installing:$missing" >&2
apt_get update
apt_get install --no-install-recommends $base

if [ "$codename" = bookworm ] && ! apt-cache policy libbpf-dev | grep -q bpo; then
	list=/etc/apt/sources.list.d/ukcov-bookworm-backports.sources
	echo "deps: enabling bookworm-backports for libbpf >= $need_libbpf ($list)" >&2
	cat >"$list" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_get update
fi
if [ "$codename" = bookworm ]; then
	apt_get install --no-install-recommends -t bookworm-backports $bpf
else
	apt_get install --no-install-recommends $bpf
fi

libbpf_ok || { echo "deps: libbpf >= $need_libbpf not available" >&2; exit 1; }
