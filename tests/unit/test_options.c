// SPDX-License-Identifier: MIT
/* Option parsing: durations, pids, output formats and their combinations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "options.h"
#include "sinks/sink.h"

static void test_duration_units(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(parse_duration_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(parse_duration_ms("5s", &ms), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(parse_duration_ms("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(parse_duration_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(parse_duration_ms("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(parse_duration_ms("3", &ms), 0);	/* bare = seconds */
	assert_int_equal(ms, 3000);
}

static void test_duration_rejects_garbage(void **state)
{
	uint64_t ms = 42;

	(void)state;
	assert_int_equal(parse_duration_ms("", &ms), -EINVAL);
	assert_int_equal(parse_duration_ms("-1s", &ms), -EINVAL);
	assert_int_equal(parse_duration_ms(" 1s", &ms), -EINVAL);
	assert_int_equal(parse_duration_ms("1sec", &ms), -EINVAL);
	assert_int_equal(parse_duration_ms("ms", &ms), -EINVAL);
	assert_int_equal(parse_duration_ms("inf", &ms), -EINVAL);
	assert_int_equal(parse_duration_ms("1e300h", &ms), -ERANGE);
	assert_int_equal(ms, 42);	/* untouched on error */
}

static void test_pid(void **state)
{
	int pid = 0;

	(void)state;
	assert_int_equal(parse_pid("1234", &pid), 0);
	assert_int_equal(pid, 1234);
	assert_int_equal(parse_pid("0", &pid), -ERANGE);
	assert_int_equal(parse_pid("-5", &pid), -EINVAL);
	assert_int_equal(parse_pid("12x", &pid), -EINVAL);
	assert_int_equal(parse_pid("99999999999", &pid), -ERANGE);
}

static void test_default_output_is_stdout_text(void **state)
{
	struct collect_opts o;

	(void)state;
	collect_opts_init(&o);
	assert_int_equal(collect_opts_finish(&o), 0);
	assert_int_equal(o.noutputs, 1);
	assert_string_equal(o.outputs[0].path, "-");
	assert_ptr_equal(o.outputs[0].format, &sink_text);
	assert_int_equal(o.interval_ms, DEFAULT_INTERVAL_MS);
}

static void test_format_from_extension_unless_given(void **state)
{
	struct collect_opts o;

	(void)state;
	collect_opts_init(&o);
	assert_int_equal(collect_opts_parse(&o, 'o', "a.kcov"), 0);
	assert_int_equal(collect_opts_parse(&o, 'o', "b.txt"), 0);
	assert_int_equal(collect_opts_parse(&o, 'o', "c.unknown"), 0);
	assert_int_equal(collect_opts_finish(&o), 0);
	assert_ptr_equal(o.outputs[0].format, &sink_kcov);
	assert_ptr_equal(o.outputs[1].format, &sink_text);
	assert_ptr_equal(o.outputs[2].format, &sink_text);

	collect_opts_init(&o);
	assert_int_equal(collect_opts_parse(&o, 'f', "kcov"), 0);
	assert_int_equal(collect_opts_parse(&o, 'o', "b.txt"), 0);
	assert_int_equal(collect_opts_finish(&o), 0);
	assert_ptr_equal(o.outputs[0].format, &sink_kcov);	/* --format wins */
}

static void test_bad_combinations_refused(void **state)
{
	struct collect_opts o;

	(void)state;
	collect_opts_init(&o);
	assert_int_equal(collect_opts_parse(&o, 'f', "bogus"), -1);
	assert_int_equal(collect_opts_parse(&o, 'i', "0ms"), -1);
	assert_int_equal(collect_opts_parse(&o, 'x', NULL), 1);	/* not shared */

	collect_opts_init(&o);
	assert_int_equal(collect_opts_parse(&o, 'o', "same"), 0);
	assert_int_equal(collect_opts_parse(&o, 'o', "same"), 0);
	assert_int_equal(collect_opts_finish(&o), -1);

	collect_opts_init(&o);
	assert_int_equal(collect_opts_parse(&o, 'o', "-"), 0);
	assert_int_equal(collect_opts_parse(&o, 'o', "x.kcov"), 0);
	assert_int_equal(collect_opts_parse(&o, 'o', "-"), 0);
	assert_int_equal(collect_opts_finish(&o), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_rejects_garbage),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_default_output_is_stdout_text),
		cmocka_unit_test(test_format_from_extension_unless_given),
		cmocka_unit_test(test_bad_combinations_refused),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
