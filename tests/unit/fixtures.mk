# SPDX-License-Identifier: MIT
#
# Fixtures of the unit tests, built into $(OUTPUT)/fixtures with gcc.
# Included by the top Makefile; every test program depends on them.

FIXTURE_CC ?= gcc
UNIT_FIX := $(OUTPUT)/fixtures
UNIT_FIX_SRC := tests/fixtures/unit
# -fno-inline: every fixture function must stay a function of its own.
UNIT_FIX_CFLAGS := -O1 -g -fno-inline -Wall -Werror

UNIT_FIXTURES := $(addprefix $(UNIT_FIX)/, \
	sites_basic.c sites-pie sites-nopie sites-stripped sites-reloc.o \
	sites-alias sites-ifunc sites-nosyms sites-not-elf sites-truncated \
	sites-truncated-text)

# A changed recipe rebuilds the fixtures too.
$(UNIT_FIXTURES): tests/unit/fixtures.mk

# The DWARF test reads the source the fixture was built from: compile the
# copy in $(OUTPUT)/fixtures, so the test knows where that is.
$(UNIT_FIX)/sites_basic.c: $(UNIT_FIX_SRC)/sites_basic.c | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)cp $< $@

# The build-id is fixed so the test can compare it byte for byte.
$(UNIT_FIX)/sites-pie: $(UNIT_FIX)/sites_basic.c
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) -fPIE -pie \
		-Wl,--build-id=0x0123456789abcdef $< -o $@

$(UNIT_FIX)/sites-nopie: $(UNIT_FIX)/sites_basic.c
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) -fno-pie -no-pie \
		-Wl,--build-id=none $< -o $@

# Exported functions stay in .dynsym after strip --strip-all.
$(UNIT_FIX)/sites-stripped: $(UNIT_FIX)/sites_basic.c
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) -fPIE -pie -rdynamic $< -o $@.tmp
	$(Q)strip --strip-all $@.tmp && mv $@.tmp $@

$(UNIT_FIX)/sites-reloc.o: $(UNIT_FIX)/sites_basic.c
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) -c $< -o $@

$(UNIT_FIX)/sites-alias: $(UNIT_FIX_SRC)/sites_alias.c | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) $< -o $@

$(UNIT_FIX)/sites-ifunc: $(UNIT_FIX_SRC)/sites_ifunc.c | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) -Wl,--build-id=none $< -o $@

# No unwind tables either: .eh_frame FDEs would name _start (sites_ehframe.c).
$(UNIT_FIX)/sites-nosyms: $(UNIT_FIX_SRC)/sites_nosyms.c | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(UNIT_FIX_CFLAGS) -nostdlib -static -no-pie \
		-fno-asynchronous-unwind-tables -fno-unwind-tables -Wl,--no-eh-frame-hdr \
		$< -o $@.tmp
	$(Q)strip --strip-all $@.tmp && mv $@.tmp $@

$(UNIT_FIX)/sites-not-elf: $(UNIT_FIX_SRC)/sites_nosyms.c | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)cp $< $@

# ELF and program headers intact, the code cut off.
$(UNIT_FIX)/sites-truncated: $(UNIT_FIX)/sites-pie
	$(call msg,FIXTURE,$@)
	$(Q)head -c 3000 $< > $@

# Code intact, section headers and symbols cut off.
$(UNIT_FIX)/sites-truncated-text: $(UNIT_FIX)/sites-pie
	$(call msg,FIXTURE,$@)
	$(Q)head -c 8192 $< > $@

# ---- basic-block and line sites (test_sites_bb.c, test_sites_line.c) ----

LINES_COV_SRC := lines_cov.c lines_cov2.c lines_cov.h
UNIT_FIXTURES += $(addprefix $(UNIT_FIX)/, bb-blocks $(LINES_COV_SRC) lines-O0 lines-O2 lines-rows)

# Hand-written blocks, never run: only decoded.
$(UNIT_FIX)/bb-blocks: tests/fixtures/bb_blocks.S tests/unit/fixtures.mk | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) -nostdlib -static -Wl,--build-id=none -Wl,-e,bb_loop $< -o $@

# Hand-written line tables (.loc), never run: only decoded.
$(UNIT_FIX)/lines-rows: tests/fixtures/lines_rows.S tests/unit/fixtures.mk | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) -g -nostdlib -static -Wl,--build-id=none -Wl,-e,rows_pick $< -o $@

# Compiled from a copy in $(UNIT_FIX), like sites_basic.c.
$(addprefix $(UNIT_FIX)/,$(LINES_COV_SRC)): $(UNIT_FIX)/%: tests/fixtures/% | $(UNIT_FIX)
	$(call msg,FIXTURE,$@)
	$(Q)cp $< $@

$(UNIT_FIX)/lines-O0 $(UNIT_FIX)/lines-O2: $(UNIT_FIX)/lines-%: \
		$(addprefix $(UNIT_FIX)/,$(LINES_COV_SRC)) tests/unit/fixtures.mk
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) -$* -g -Wall -Werror $(UNIT_FIX)/lines_cov.c $(UNIT_FIX)/lines_cov2.c -o $@
