# SPDX-License-Identifier: MIT
#
# make            build ukcov (and the BPF object, skeleton, vmlinux.h)
# make deps       install missing packages with apt-get (as root; idempotent)
# make demo       deps + build + cover the bundled example
# make check      deps + build + unit tests (plain and ASan/UBSan) + integration tests
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
LDLIBS := $(shell $(PKG_CONFIG) --libs libbpf libdw libelf 2>/dev/null || echo -lbpf -ldw -lelf -lz) -lm
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

# ---- tests ------------------------------------------------------------------

# Each suite says what fixtures it needs: UNIT_FIXTURES, INTEGRATION_FIXTURES.
include tests/unit/fixtures.mk tests/integration/fixtures.mk

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(CORE_LIB) $(UNIT_FIXTURES) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DFIXTURE_DIR='"$(abspath $(OUTPUT)/fixtures)"' \
		$(LDFLAGS) $< $(CORE_LIB) $(LDLIBS) -lcmocka -pthread -o $@

unit: $(UNIT_BINS)
	$(Q)sh tests/run-unit.sh $(UNIT_BINS)

unit-san:
	$(Q)$(MAKE) --no-print-directory SAN=1 unit

integration: $(OUTPUT)/ukcov $(INTEGRATION_FIXTURES)
	$(Q)UKCOV=$(abspath $(OUTPUT)/ukcov) FIXTURES=$(abspath $(OUTPUT)/fixtures) \
		bash tests/integration/run.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory unit-san
	$(Q)$(MAKE) --no-print-directory integration

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
