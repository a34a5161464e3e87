# SPDX-License-Identifier: MIT
#
# libFuzzer targets for everything ukcov parses from files other users can
# write (README.md, "Untrusted input" > "Fuzzing": what each target checks,
# how to keep a crash as a regression input).  Included by the top Makefile.
#
#   make fuzz          each target for FUZZ_SECONDS (default 60) seconds
#   make fuzz-smoke    replay, then each target for FUZZ_SMOKE_SECONDS (10);
#                      a step of `make check`
#   make fuzz-replay   every regression input and every seed through the
#                      targets built without libFuzzer (ASan + UBSan)
#   make fuzz-build    the binaries only
#
# Each target is built twice from the same sources: with libFuzzer
# (.output/fuzz/<target>) and with a plain main() that feeds it files
# (.output/fuzz/replay/<target>).  Both link only the parsers: nothing here
# needs the BPF skeleton, privileges, or another process.  The output
# directory does not follow SAN=: every fuzz build is sanitized.

FZ_CC ?= clang
FZ_OUT := .output/fuzz
FZ_TARGETS := elf elf_path sites_file kcov ldso kernel_btf
FZ_SECONDS_DEFAULT := 60
FUZZ_SECONDS ?= $(FZ_SECONDS_DEFAULT)
FUZZ_SMOKE_SECONDS ?= 10

# The parsers and what they call, nothing more: session.c, probe.c,
# procs.c and ring.c (and the skeleton they include) stay out.  A parser
# that starts calling another file needs that file added here.
FZ_CORE_SRCS := $(addprefix user/, sites.c sites_store.c sites_strings.c sites_elf.c sites_dwarf.c sites_place.c \
	sites_bb.c sites_line.c sites_entries.c sites_ehframe.c sites_debuginfo.c sites_file.c \
	kcov_reader.c ldso.c procfs.c escape.c kernel_btf.c parallel.c)

FZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FZ_CFLAGS := -O1 -g -std=gnu11 $(WARNFLAGS) $(FZ_SAN) -MMD -MP
# The conventional macro of fuzz builds: sites_file.c skips the table-id
# check under it (a mutated table could never match its hash).
FZ_CPPFLAGS := -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Iinclude -Iuser
# libFuzzer flavour: the parsers get coverage feedback too.
FZ_LF_CFLAGS := $(FZ_CFLAGS) -fsanitize=fuzzer-no-link

FZ_LF_OBJS := $(patsubst user/%.c,$(FZ_OUT)/obj-lf/%.o,$(FZ_CORE_SRCS))
FZ_RP_OBJS := $(patsubst user/%.c,$(FZ_OUT)/obj-replay/%.o,$(FZ_CORE_SRCS))
FZ_LF_BINS := $(addprefix $(FZ_OUT)/fuzz_,$(FZ_TARGETS))
FZ_RP_BINS := $(addprefix $(FZ_OUT)/replay/fuzz_,$(FZ_TARGETS))
FZ_SEEDS := $(FZ_OUT)/seeds/.stamp
FZ_REGRESSIONS := tests/fuzz-regressions

# Largest input per target (-max_len): an ELF of 64 KiB holds symbols,
# DWARF and code for dozens of functions; the text formats need less.
FZ_MAXLEN_elf := 65536
# Two ELFs: a binary and its debug file.
FZ_MAXLEN_elf_path := 65536
FZ_MAXLEN_sites_file := 65536
FZ_MAXLEN_kcov := 16384
FZ_MAXLEN_ldso := 65536
# A BTF of 16 KiB holds ~1,000 records: every kind, every struct the
# field list names, and index entries past the first (one per 64 records).
FZ_MAXLEN_kernel_btf := 16384

.PHONY: fuzz fuzz-smoke fuzz-replay fuzz-build fuzz-seeds

# Flags live here: a change rebuilds every fuzz object.
$(FZ_LF_OBJS) $(FZ_RP_OBJS): fuzz/fuzz.mk

$(FZ_OUT)/obj-lf $(FZ_OUT)/obj-replay $(FZ_OUT)/replay:
	$(Q)mkdir -p $@

$(FZ_OUT)/obj-lf/%.o: user/%.c | $(FZ_OUT)/obj-lf
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FZ_CC) $(FZ_CPPFLAGS) $(FZ_LF_CFLAGS) -c $< -o $@

$(FZ_OUT)/obj-replay/%.o: user/%.c | $(FZ_OUT)/obj-replay
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FZ_CC) $(FZ_CPPFLAGS) $(FZ_CFLAGS) -c $< -o $@

$(FZ_OUT)/obj-lf/fuzz_%.o: fuzz/fuzz_%.c | $(FZ_OUT)/obj-lf
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FZ_CC) $(FZ_CPPFLAGS) $(FZ_LF_CFLAGS) -c $< -o $@

$(FZ_OUT)/obj-replay/fuzz_%.o: fuzz/fuzz_%.c | $(FZ_OUT)/obj-replay
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FZ_CC) $(FZ_CPPFLAGS) $(FZ_CFLAGS) -c $< -o $@

$(FZ_OUT)/obj-replay/%.o: fuzz/%.c | $(FZ_OUT)/obj-replay
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FZ_CC) $(FZ_CPPFLAGS) $(FZ_CFLAGS) -c $< -o $@

$(FZ_LF_BINS): $(FZ_OUT)/fuzz_%: $(FZ_OUT)/obj-lf/fuzz_%.o $(FZ_LF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(FZ_CC) -fsanitize=fuzzer $(FZ_SAN) $^ $(LDLIBS) -ldl -o $@

$(FZ_RP_BINS): $(FZ_OUT)/replay/fuzz_%: $(FZ_OUT)/obj-replay/fuzz_%.o \
		$(FZ_OUT)/obj-replay/replay.o $(FZ_RP_OBJS) | $(FZ_OUT)/replay
	$(call msg,LINK,$@)
	$(Q)$(FZ_CC) $(FZ_SAN) $^ $(LDLIBS) -ldl -o $@

# Writes seed site-table files, kcov streams, ld.so caches, ELF pairs and
# BTF blobs (fuzz/seed.sh runs it; libbpf's BTF writer makes the blobs).
$(FZ_OUT)/gen_seeds: $(FZ_OUT)/obj-replay/gen_seeds.o $(FZ_RP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(FZ_CC) $(FZ_SAN) $^ $(LDLIBS) -ldl -o $@

# Real ELFs (the unit fixtures, /bin/true, small libraries), cut and
# bit-flipped copies, site-table files and kcov streams made from them,
# the system's ld.so cache.  Rebuilt when a fixture or the script changes.
$(FZ_SEEDS): fuzz/seed.sh $(FZ_OUT)/gen_seeds $(UNIT_FIXTURES)
	$(call msg,SEEDS,$(FZ_OUT)/seeds)
	$(Q)sh fuzz/seed.sh $(FZ_OUT)/seeds $(FZ_OUT)/gen_seeds $(OUTPUT)/fixtures
	$(Q)touch $@

fuzz-build: $(FZ_LF_BINS) $(FZ_RP_BINS)

fuzz-seeds: $(FZ_SEEDS)

# A crash is a failure: every input ever found lives on in the regressions.
# Every target has its directory there (empty but for .gitkeep until a
# first crash); a missing one is an error, not a silent skip.
fuzz-replay: $(FZ_RP_BINS) $(FZ_SEEDS)
	$(Q)for t in $(FZ_TARGETS); do \
		$(FZ_OUT)/replay/fuzz_$$t $(FZ_REGRESSIONS)/$$t $(FZ_OUT)/seeds/$$t || exit 1; \
	done

# One run per target: the corpus in $(FZ_OUT)/corpus/<target> grows across
# runs; crashes land in $(FZ_OUT)/crashes/<target>/ (move each to
# tests/fuzz-regressions/<target>/ once it is fixed).
fz_run = for t in $(FZ_TARGETS); do \
		mkdir -p $(FZ_OUT)/corpus/$$t $(FZ_OUT)/crashes/$$t && \
		echo "  FUZZ     $$t ($(1) s)" && \
		$(FZ_OUT)/fuzz_$$t -max_total_time=$(1) -max_len=$$(case $$t in \
			elf) echo $(FZ_MAXLEN_elf);; elf_path) echo $(FZ_MAXLEN_elf_path);; \
			sites_file) echo $(FZ_MAXLEN_sites_file);; \
			kcov) echo $(FZ_MAXLEN_kcov);; kernel_btf) echo $(FZ_MAXLEN_kernel_btf);; \
			*) echo $(FZ_MAXLEN_ldso);; esac) \
			-timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FZ_OUT)/crashes/$$t/ \
			$(FZ_OUT)/corpus/$$t $(FZ_OUT)/seeds/$$t \
			$(FZ_REGRESSIONS)/$$t \
			>$(FZ_OUT)/$$t.log 2>&1 || \
		{ tail -n 60 $(FZ_OUT)/$$t.log >&2; \
		  echo "fuzz: $$t failed, see $(FZ_OUT)/$$t.log and $(FZ_OUT)/crashes/$$t/" >&2; \
		  exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' $(FZ_OUT)/$$t.log | tr '\n' ' '; echo; \
	done

fuzz: $(FZ_LF_BINS) $(FZ_SEEDS)
	$(Q)$(call fz_run,$(FUZZ_SECONDS))

fuzz-smoke: $(FZ_LF_BINS) fuzz-replay
	$(Q)$(call fz_run,$(FUZZ_SMOKE_SECONDS))

-include $(wildcard $(FZ_OUT)/obj-lf/*.d $(FZ_OUT)/obj-replay/*.d)
