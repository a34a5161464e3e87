# SPDX-License-Identifier: MIT
#
# make            build ukcov (and the BPF object, skeleton, vmlinux.h)
# make deps       install missing packages with apt-get (as root; idempotent)
# make demo       deps + build + cover the bundled example
# make check      deps + build + unit tests (plain and ASan/UBSan) + integration tests
#                 (with the plain ukcov and with an ASan/UBSan one)
# make install    ukcov, libukcov, its headers and ukcov.pc under PREFIX (/usr/local;
#                 DESTDIR for staging)
# make soak       the soak test alone for SOAK_SECONDS (default 600; root)
# make SAN=1      build everything with ASan+UBSan into .output/san
# V=1             show the commands
#
# All build output goes to .output/ (or .output/san), nothing else is generated.

VERSION := 0.1.0

SAN ?=
ifeq ($(SAN),)
OUTPUT := .output
SANFLAGS :=
else
OUTPUT := .output/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

WARNFLAGS := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARNFLAGS) $(SANFLAGS) -MMD -MP
override CPPFLAGS += -D_GNU_SOURCE -DUKCOV_VERSION='"$(VERSION)"' \
	-Iinclude -Iuser -I$(OUTPUT)
LDLIBS := $(shell $(PKG_CONFIG) --libs libbpf libdw libelf 2>/dev/null || echo -lbpf -ldw -lelf -lz) \
	$(shell $(PKG_CONFIG) --libs capstone 2>/dev/null || echo -lcapstone) -lm -pthread
override LDFLAGS += $(SANFLAGS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The CLI is main.c + one cmd_*.c per subcommand; everything else is the
# library the unit tests link as well.
USER_SRCS := $(sort $(wildcard user/*.c user/sinks/*.c))
CMD_SRCS := user/main.c $(wildcard user/cmd_*.c)
CORE_SRCS := $(filter-out $(CMD_SRCS),$(USER_SRCS))
CORE_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CORE_SRCS))
CMD_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(CMD_SRCS))
CORE_LIB := $(OUTPUT)/libukcov-core.a

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
# The BPF object and skeleton are inputs of every user object, not throwaways.
.SECONDARY:
.PHONY: all deps demo check unit unit-san integration clean bench
.PHONY: integration-san soak
.PHONY: examples ring-bench

all: $(OUTPUT)/ukcov ukcov

# A stable name at the top for people and scripts; the real file is in .output.
ukcov: $(OUTPUT)/ukcov
	$(Q)ln -sf $< $@

deps:
	$(Q)sh scripts/deps.sh

$(OUTPUT) $(OUTPUT)/user/sinks $(OUTPUT)/tests $(OUTPUT)/fixtures:
	$(Q)mkdir -p $@

# vmlinux.h describes the running kernel: generated, never committed.
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) \
		-Wall -Werror -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user/sinks $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/ukcov: $(CMD_OBJS) $(CORE_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# ---- libukcov: the ring's consumer side (include/ukcov/ring.h) ----------------

# Position-independent objects serve both the archive and the shared
# library.  The soname carries the major version of UKCOV_LIB_VERSION_MAJOR.
LIBUKCOV_SRCS := $(wildcard lib/*.c)
LIBUKCOV_OBJS := $(patsubst lib/%.c,$(OUTPUT)/lib/%.o,$(LIBUKCOV_SRCS))
LIBUKCOV_A := $(OUTPUT)/libukcov.a
LIBUKCOV_SO := $(OUTPUT)/libukcov.so.1

all: $(LIBUKCOV_A) $(LIBUKCOV_SO)

$(OUTPUT)/lib:
	$(Q)mkdir -p $@

$(OUTPUT)/lib/%.o: lib/%.c | $(OUTPUT)/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(LIBUKCOV_A): $(LIBUKCOV_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBUKCOV_SO): $(LIBUKCOV_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libukcov.so.1 $^ -o $@
	$(Q)ln -sf libukcov.so.1 $(OUTPUT)/libukcov.so

# ---- make install ------------------------------------------------------------

# The usual knobs: make install PREFIX=/usr DESTDIR=/tmp/pkg.  ukcov needs
# nothing at run time but the shared libraries it links (the BPF object is
# in the binary); consumers of the ring get <ukcov/ring.h>, <ukcov/kcov.h>,
# libukcov and a pkg-config file (pkg-config --cflags --libs ukcov).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL ?= install

# install_to DESTDIR: the recipe of `make install`, also used to stage
# the tree the dynamic-link test builds against (tests/integration).
define install_to
	$(Q)$(INSTALL) -d $(1)$(BINDIR) $(1)$(LIBDIR) $(1)$(INCLUDEDIR)/ukcov $(1)$(PKGCONFIGDIR)
	$(Q)$(INSTALL) -m 0755 $(OUTPUT)/ukcov $(1)$(BINDIR)/ukcov
	$(Q)$(INSTALL) -m 0644 $(LIBUKCOV_A) $(1)$(LIBDIR)/libukcov.a
	$(Q)$(INSTALL) -m 0755 $(LIBUKCOV_SO) $(1)$(LIBDIR)/libukcov.so.1
	$(Q)ln -sf libukcov.so.1 $(1)$(LIBDIR)/libukcov.so
	$(Q)$(INSTALL) -m 0644 include/ukcov/ring.h include/ukcov/kcov.h $(1)$(INCLUDEDIR)/ukcov/
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: ukcov' \
		'Description: consumer side of the ukcov coverage ring (kcov layout, shared memory)' \
		'Version: $(VERSION)' 'Libs: -L$${libdir} -lukcov' 'Cflags: -I$${includedir}' \
		>$(1)$(PKGCONFIGDIR)/ukcov.pc
	$(Q)chmod 0644 $(1)$(PKGCONFIGDIR)/ukcov.pc
endef

.PHONY: install uninstall
install: $(OUTPUT)/ukcov $(LIBUKCOV_A) $(LIBUKCOV_SO)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(call install_to,$(DESTDIR))

uninstall:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/ukcov $(DESTDIR)$(LIBDIR)/libukcov.a \
		$(DESTDIR)$(LIBDIR)/libukcov.so.1 $(DESTDIR)$(LIBDIR)/libukcov.so \
		$(DESTDIR)$(INCLUDEDIR)/ukcov/ring.h $(DESTDIR)$(INCLUDEDIR)/ukcov/kcov.h \
		$(DESTDIR)$(PKGCONFIGDIR)/ukcov.pc
	$(Q)rmdir $(DESTDIR)$(INCLUDEDIR)/ukcov 2>/dev/null || true

# ---- the fuzzer example (examples/fuzz) and the ring benchmark ---------------

# Targets are built like fixtures: every check its own function, so that
# function sites see the fuzzer's progress byte by byte.
FUZZ_OUT := $(OUTPUT)/examples/fuzz
FUZZ_TARGET_CFLAGS := -O1 -g -fno-inline -fno-ipa-icf -Wall -Wextra -Werror
EXAMPLES := $(FUZZ_OUT)/fuzzer $(FUZZ_OUT)/target $(FUZZ_OUT)/persistent_target

examples: $(EXAMPLES)

$(FUZZ_OUT) $(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(FUZZ_OUT)/fuzzer: examples/fuzz/fuzzer.c include/ukcov/ring.h $(LIBUKCOV_A) | $(FUZZ_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIBUKCOV_A) -o $@

$(FUZZ_OUT)/target: examples/fuzz/target.c examples/fuzz/target.h | $(FUZZ_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FUZZ_TARGET_CFLAGS) $< -o $@

$(FUZZ_OUT)/persistent_target: examples/fuzz/persistent_target.c examples/fuzz/target.c \
		examples/fuzz/target.h | $(FUZZ_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FUZZ_TARGET_CFLAGS) -DTARGET_NO_MAIN $(filter %.c,$^) -o $@

$(OUTPUT)/bench/ring_bench: bench/ring_bench.c include/ukcov/ring.h $(LIBUKCOV_A) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIBUKCOV_A) -lm -o $@

# Collect round trip and inputs/s of the persistent example (needs root).
ring-bench: $(OUTPUT)/ukcov $(OUTPUT)/bench/ring_bench $(FUZZ_OUT)/persistent_target
	$(Q)$(OUTPUT)/bench/ring_bench -u $(OUTPUT)/ukcov -t $(FUZZ_OUT)/persistent_target

bench: ring-bench

# --mode once on a repeated workload, against native and count (needs root).
.PHONY: once-bench
$(OUTPUT)/bench/once_bench: bench/once_bench.c | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -std=gnu11 $(WARNFLAGS) $< -o $@

once-bench: $(OUTPUT)/ukcov $(OUTPUT)/bench/once_bench
	$(Q)bash bench/once_bench.sh $(OUTPUT)

bench: once-bench

# ---- bench/run.sh: the measurements in BENCHMARKS.md (never part of check) ---

BENCH_OUT := $(OUTPUT)/bench
BENCH_TOOLS := $(addprefix $(BENCH_OUT)/,trap_bench attach_bench drain_bench mem_bench)
BENCH_BINS := $(BENCH_TOOLS) $(BENCH_OUT)/hot $(BENCH_OUT)/hot-gcov $(BENCH_OUT)/funcs

$(BENCH_OUT)/empty.bpf.o: bench/empty.bpf.c $(OUTPUT)/vmlinux.h | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) \
		-Wall -Werror -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(BENCH_OUT)/empty.skel.h: $(BENCH_OUT)/empty.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The workload is built the way a distribution builds: -O2, no sanitizer.
$(BENCH_OUT)/hot: bench/hot.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -std=gnu11 $(WARNFLAGS) $< -o $@

$(BENCH_OUT)/hot-gcov: bench/hot.c | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -std=gnu11 $(WARNFLAGS) --coverage $< -o $@

$(BENCH_TOOLS): $(BENCH_OUT)/%: bench/%.c $(CORE_LIB) $(BENCH_OUT)/empty.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -I$(BENCH_OUT) $(CFLAGS) $(LDFLAGS) $< $(CORE_LIB) $(LDLIBS) -o $@

# 100k functions: slow to compile (~20 s), so it depends on the script only.
$(BENCH_OUT)/funcs: bench/gen_funcs.sh | $(BENCH_OUT)
	$(call msg,GEN,$@)
	$(Q)CC=$(CC) sh bench/gen_funcs.sh $(BENCH_OUT) 100000 10

bench: $(OUTPUT)/ukcov $(BENCH_BINS)
	$(Q)sh scripts/deps.sh bench
	$(Q)bash bench/run.sh $(OUTPUT)

-include $(wildcard $(BENCH_OUT)/*.d)

# ---- tests ------------------------------------------------------------------

# Each suite says what fixtures it needs: UNIT_FIXTURES, INTEGRATION_FIXTURES.
include tests/unit/fixtures.mk tests/integration/fixtures.mk
include fuzz/fuzz.mk

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(CORE_LIB) $(UNIT_FIXTURES) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -DFIXTURE_DIR='"$(abspath $(OUTPUT)/fixtures)"' \
		$(LDFLAGS) $< $(CORE_LIB) $(LDLIBS) -lcmocka -pthread -o $@

# test_ring covers libukcov too: the consumer against the collector.
$(OUTPUT)/tests/test_ring: tests/unit/test_ring.c $(CORE_LIB) $(LIBUKCOV_A) $(UNIT_FIXTURES) \
		| $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -DFIXTURE_DIR='"$(abspath $(OUTPUT)/fixtures)"' \
		$(LDFLAGS) $< $(CORE_LIB) $(LIBUKCOV_A) $(LDLIBS) -lcmocka -pthread -o $@

unit: $(UNIT_BINS)
	$(Q)sh tests/run-unit.sh $(UNIT_BINS)

unit-san:
	$(Q)$(MAKE) --no-print-directory SAN=1 unit

# The tests choose whom commands run as: a `sudo make` must not make
# every `ukcov run` hand its command to the invoking user (SUDO_UID).
INTEGRATION_ENV = env -u SUDO_UID -u SUDO_GID -u SUDO_USER

integration: $(OUTPUT)/ukcov $(INTEGRATION_FIXTURES)
	$(Q)UKCOV=$(abspath $(OUTPUT)/ukcov) FIXTURES=$(abspath $(OUTPUT)/fixtures) \
		$(INTEGRATION_ENV) bash tests/integration/run.sh

# The whole suite again with ukcov built with ASan+UBSan (the fixtures are
# the plain ones: they are targets, not ukcov); a short soak.
integration-san: $(INTEGRATION_FIXTURES)
	$(Q)$(MAKE) --no-print-directory SAN=1 .output/san/ukcov
	$(Q)UKCOV=$(abspath .output/san/ukcov) FIXTURES=$(abspath $(OUTPUT)/fixtures) \
		SOAK_SECONDS=10 $(INTEGRATION_ENV) bash tests/integration/run.sh

# The soak test alone, long (tests/integration/test_soak.sh).
SOAK_SECONDS ?= 600
soak: $(OUTPUT)/ukcov $(INTEGRATION_FIXTURES)
	$(Q)UKCOV=$(abspath $(OUTPUT)/ukcov) FIXTURES=$(abspath $(OUTPUT)/fixtures) \
		SOAK_SECONDS=$(SOAK_SECONDS) TEST_TIMEOUT=$$(($(SOAK_SECONDS) + 120)) \
		$(INTEGRATION_ENV) bash tests/integration/run.sh test_soak

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory unit-san
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory integration-san
	$(Q)$(MAKE) --no-print-directory fuzz-smoke

# ---- demo -------------------------------------------------------------------

$(OUTPUT)/demo: examples/demo.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -fno-inline -Wall -Wextra -Werror $< -o $@

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/demo
	$(Q)sh examples/demo.sh $(OUTPUT)/ukcov $(OUTPUT)/demo

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf .output ukcov

-include $(wildcard $(OUTPUT)/user/*.d $(OUTPUT)/user/sinks/*.d $(OUTPUT)/tests/*.d)
-include $(wildcard $(OUTPUT)/lib/*.d)
