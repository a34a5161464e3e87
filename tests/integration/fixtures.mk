# Fixtures of the integration tests (tests/integration): real programs that
# count their own function calls (tests/fixtures/tally.h), so the tests can
# compare ukcov's counts with the truth.  -fno-inline, -fno-ipa-icf and
# noinline keep every counted function a distinct function entry.  Built
# without sanitizers: they are targets, not ukcov.

INTEGRATION_FIXTURES := $(addprefix $(OUTPUT)/fixtures/,tally server lockfirst nosyms)

FIXTURE_CFLAGS := -O1 -g -fno-inline -fno-ipa-icf -pthread -Wall -Wextra -Werror

$(OUTPUT)/fixtures/tally $(OUTPUT)/fixtures/server: $(OUTPUT)/fixtures/%: \
		tests/fixtures/%.c tests/fixtures/tally.h | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@

# No function symbols at all: static, no libc, stripped.
$(OUTPUT)/fixtures/nosyms: tests/fixtures/nosyms.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -nostdlib -static -s -Wall -Wextra -Werror $< -o $@

# A function whose first instruction is lock-prefixed (x86: unprobeable).
$(OUTPUT)/fixtures/lockfirst: tests/fixtures/lockfirst.c | $(OUTPUT)/fixtures
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< -o $@
