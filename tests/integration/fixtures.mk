# Fixtures of the integration tests (tests/integration): real programs that
# count their own function calls (tests/fixtures/tally.h), so the tests can
# compare ukcov's counts with the truth.  -fno-inline, -fno-ipa-icf and
# noinline keep every counted function a distinct function entry.  Built
# without sanitizers: they are targets, not ukcov.

INTEGRATION_FIXTURES := $(addprefix $(OUTPUT)/fixtures/,tally server lockfirst nosyms)

FIXTURE_CFLAGS := -O1 -g -fno-inline -fno-ipa-icf -pthread -Wall -Wextra -Werror

$(OUTPUT)/fixtures/tally $(OUTPUT)/fixtures/server: $(OUTPUT)/fixtures/%: \
		tests/fixtures/%.c tests/fixtures/tally.h tests/integration/fixtures.mk | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

# Nothing to find functions by: static, no libc, no unwind tables, stripped.
$(OUTPUT)/fixtures/nosyms: tests/fixtures/nosyms.c tests/integration/fixtures.mk | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -nostdlib -static -s -fno-asynchronous-unwind-tables \
		-fno-unwind-tables -Wl,--no-eh-frame-hdr -Wall -Wextra -Werror $< -o $@

# A function whose first instruction is lock-prefixed (x86: unprobeable).
$(OUTPUT)/fixtures/lockfirst: tests/fixtures/lockfirst.c tests/integration/fixtures.mk | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

# The ring (--ring, libukcov): a line-driven target whose per-input sites are
# known by construction, two consumers linked against libukcov.a, and the
# fuzzer example with its persistent target (copied next to the fixtures).
INTEGRATION_FIXTURES += $(addprefix $(OUTPUT)/fixtures/,ring_target ring_consumer ring_collect \
	fuzzer persistent_target fuzz_target)

$(OUTPUT)/fixtures/ring_target: tests/fixtures/ring_target.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

$(OUTPUT)/fixtures/ring_consumer $(OUTPUT)/fixtures/ring_collect: $(OUTPUT)/fixtures/%: \
		tests/fixtures/%.c include/ukcov/ring.h $(LIBUKCOV_A) | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -Wall -Wextra -Werror -Iinclude $< $(LIBUKCOV_A) -o $@

# The same consumer as a user builds it after `make install`: against a
# staged install (PREFIX=/usr under $(OUTPUT)/stage), through its
# pkg-config file, linked to libukcov.so.1 (found through the rpath).
STAGE := $(abspath $(OUTPUT)/stage)
INTEGRATION_FIXTURES += $(OUTPUT)/fixtures/ring_consumer_dyn

$(STAGE)/usr/lib/pkgconfig/ukcov.pc: PREFIX := /usr
$(STAGE)/usr/lib/pkgconfig/ukcov.pc: $(OUTPUT)/ukcov $(LIBUKCOV_A) $(LIBUKCOV_SO) \
		include/ukcov/ring.h include/ukcov/kcov.h Makefile
	$(call msg,STAGE,$(STAGE))
	$(Q)rm -rf $(STAGE)
	$(call install_to,$(STAGE))

$(OUTPUT)/fixtures/ring_consumer_dyn: tests/fixtures/ring_consumer.c \
		$(STAGE)/usr/lib/pkgconfig/ukcov.pc | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -Wall -Wextra -Werror $< -o $@ -Wl,-rpath,$(STAGE)/usr/lib \
		$$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$(STAGE)/usr/lib/pkgconfig \
		  PKG_CONFIG_SYSROOT_DIR=$(STAGE) $(PKG_CONFIG) --cflags --libs ukcov)

$(OUTPUT)/fixtures/fuzzer $(OUTPUT)/fixtures/persistent_target: $(OUTPUT)/fixtures/%: \
		$(FUZZ_OUT)/% | $(OUTPUT)/fixtures
	$(call msg,CP,$@)
	$(Q)cp $< $@

# tally at a fixed address (ET_EXEC, image base 0x400000): drcov's block
# starts must count from the image base, not from 0 (test_reports.sh).
INTEGRATION_FIXTURES += $(OUTPUT)/fixtures/tally-nopie
$(OUTPUT)/fixtures/tally-nopie: tests/fixtures/tally.c tests/fixtures/tally.h | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fno-pie -no-pie $< -o $@

$(OUTPUT)/fixtures/fuzz_target: $(FUZZ_OUT)/target | $(OUTPUT)/fixtures
	$(call msg,CP,$@)
	$(Q)cp $< $@

# Process following (test_procs.sh): a target that forks, daemonizes and
# execs; one that dlopen()s a library in the middle of its run, and the
# library (every function counts its own calls, like tally.h).
INTEGRATION_FIXTURES += $(addprefix $(OUTPUT)/fixtures/,forker dlopener libdl_fixture.so)

$(OUTPUT)/fixtures/forker $(OUTPUT)/fixtures/dlopener: $(OUTPUT)/fixtures/%: \
		tests/fixtures/%.c tests/fixtures/tally.h | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -ldl -o $@

$(OUTPUT)/fixtures/libdl_fixture.so: tests/fixtures/libdl_fixture.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared -fPIC $< -o $@

# Shared libraries (test_libs.sh; unit tests test_ldso.c, test_ehframe.c):
# libfixprog needs libfix.so, which needs libfix2.so; each finds the next
# through $ORIGIN.  libfixprog has DT_RUNPATH, libfixprog-rpath DT_RPATH,
# libfixprog-nopie is ET_EXEC; libfix-plain.so is libfix.so without any
# search path of its own.  The -stripped copies have neither .symtab nor
# DWARF; libfixprog-split is stripped with a .gnu_debuglink to
# libfixprog-split.debug (objcopy --only-keep-debug) next to it.
LIBFIX_FIXTURES := $(addprefix $(OUTPUT)/fixtures/,libfix2.so libfix.so libfix-plain.so \
	libfixprog libfixprog-rpath libfixprog-nopie libfixprog-stripped libfix-stripped.so \
	libfixprog-split libfixprog-split.debug)
INTEGRATION_FIXTURES += $(LIBFIX_FIXTURES)
UNIT_FIXTURES += $(LIBFIX_FIXTURES)
LIBFIX_DEPS := tests/fixtures/libfix.h tests/integration/fixtures.mk | $(OUTPUT)/fixtures

$(OUTPUT)/fixtures/libfix2.so: tests/fixtures/libfix2.c $(LIBFIX_DEPS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared -fPIC -Wl,-soname,libfix2.so $< -o $@

$(OUTPUT)/fixtures/libfix.so: tests/fixtures/libfix.c $(OUTPUT)/fixtures/libfix2.so $(LIBFIX_DEPS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared -fPIC -Wl,-soname,libfix.so $< \
		$(OUTPUT)/fixtures/libfix2.so -Wl,--enable-new-dtags,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/fixtures/libfix-plain.so: tests/fixtures/libfix.c $(OUTPUT)/fixtures/libfix2.so $(LIBFIX_DEPS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared -fPIC -Wl,-soname,libfix.so $< \
		$(OUTPUT)/fixtures/libfix2.so -o $@

LIBFIXPROG_LINK = $(CC) $(FIXTURE_CFLAGS) -Itests/fixtures $< $(OUTPUT)/fixtures/libfix.so \
	-Wl,-rpath-link,$(OUTPUT)/fixtures

$(OUTPUT)/fixtures/libfixprog: tests/fixtures/libfixprog.c tests/fixtures/tally.h \
		$(OUTPUT)/fixtures/libfix.so $(LIBFIX_DEPS)
	$(call msg,CC,$@)
	$(Q)$(LIBFIXPROG_LINK) -Wl,--enable-new-dtags,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/fixtures/libfixprog-rpath: tests/fixtures/libfixprog.c tests/fixtures/tally.h \
		$(OUTPUT)/fixtures/libfix.so $(LIBFIX_DEPS)
	$(call msg,CC,$@)
	$(Q)$(LIBFIXPROG_LINK) -Wl,--disable-new-dtags,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/fixtures/libfixprog-nopie: tests/fixtures/libfixprog.c tests/fixtures/tally.h \
		$(OUTPUT)/fixtures/libfix.so $(LIBFIX_DEPS)
	$(call msg,CC,$@)
	$(Q)$(LIBFIXPROG_LINK) -fno-pie -no-pie -Wl,--enable-new-dtags,-rpath,'$$ORIGIN' -o $@

$(OUTPUT)/fixtures/libfixprog-stripped: $(OUTPUT)/fixtures/libfixprog
	$(call msg,STRIP,$@)
	$(Q)strip --strip-all -o $@ $<

$(OUTPUT)/fixtures/libfix-stripped.so: $(OUTPUT)/fixtures/libfix.so
	$(call msg,STRIP,$@)
	$(Q)strip --strip-all -o $@ $<

$(OUTPUT)/fixtures/libfixprog-split.debug: $(OUTPUT)/fixtures/libfixprog
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy --only-keep-debug $< $@

# The debuglink names the file without a directory, as distributions do.
$(OUTPUT)/fixtures/libfixprog-split: $(OUTPUT)/fixtures/libfixprog $(OUTPUT)/fixtures/libfixprog-split.debug
	$(call msg,STRIP,$@)
	$(Q)strip --strip-all -o $@.tmp $<
	$(Q)cd $(@D) && objcopy --add-gnu-debuglink=libfixprog-split.debug $(@F).tmp && mv $(@F).tmp $(@F)

# Basic blocks with known counts (test_lines.sh): -O0 keeps each source
# block a machine block of its own.
INTEGRATION_FIXTURES += $(OUTPUT)/fixtures/bb_counts
$(OUTPUT)/fixtures/bb_counts: tests/fixtures/bb_counts.c tests/integration/fixtures.mk | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O0 -g -Wall -Wextra -Werror $< -o $@

# Faults and soak (test_faults.sh, test_soak.sh): thousands of functions for
# a slow attach and a big report; a full-speed multi-threaded target that
# tallies its own calls; a target that says which user it runs as.
INTEGRATION_FIXTURES += $(addprefix $(OUTPUT)/fixtures/,fault_many soak_target fault_whoami)

$(OUTPUT)/fixtures/fault_many: tests/fixtures/fault_many.c tests/integration/fixtures.mk \
		| $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

$(OUTPUT)/fixtures/soak_target $(OUTPUT)/fixtures/fault_whoami: $(OUTPUT)/fixtures/%: \
		tests/fixtures/%.c tests/fixtures/tally.h tests/integration/fixtures.mk | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

# --mode once (test_once.sh): the same input run by a fresh exec each round.
INTEGRATION_FIXTURES += $(OUTPUT)/fixtures/reexec
$(OUTPUT)/fixtures/reexec: tests/fixtures/reexec.c tests/fixtures/tally.h | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

# Placement (test_place.sh): functions entered past their first instruction
# from other functions (hand-written, so the compiler cannot reorder them),
# and a switch compiled to a jump table with cases that fall through.
INTEGRATION_FIXTURES += $(OUTPUT)/fixtures/entries $(OUTPUT)/fixtures/switch_fall
$(OUTPUT)/fixtures/entries: tests/fixtures/entries.c tests/fixtures/entries.S | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -Wall -Wextra -Werror tests/fixtures/entries.c tests/fixtures/entries.S -o $@
$(OUTPUT)/fixtures/switch_fall: tests/fixtures/switch_fall.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror $< -o $@
