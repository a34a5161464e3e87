// SPDX-License-Identifier: MIT
/*
 * The bundled example `make demo` covers: a tiny calculator for expressions
 * like "12+3*4-5".  Different inputs run different functions, which is the
 * point: compare the coverage of two runs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

struct parser {
	const char *p;
	int error;
};

static long parse_expr(struct parser *ps);

static void skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static long parse_number(struct parser *ps)
{
	long v = 0;

	if (!isdigit((unsigned char)*ps->p)) {
		ps->error = 1;
		return 0;
	}
	while (isdigit((unsigned char)*ps->p))
		v = v * 10 + (*ps->p++ - '0');
	return v;
}

static long parse_factor(struct parser *ps)
{
	long v;

	skip_space(ps);
	if (*ps->p == '(') {
		ps->p++;
		v = parse_expr(ps);
		skip_space(ps);
		if (*ps->p++ != ')')
			ps->error = 1;
		return v;
	}
	return parse_number(ps);
}

static long divide(struct parser *ps, long a, long b)
{
	if (b == 0) {
		ps->error = 1;
		return 0;
	}
	return a / b;
}

static long parse_term(struct parser *ps)
{
	long v = parse_factor(ps);

	for (;;) {
		skip_space(ps);
		if (*ps->p == '*') {
			ps->p++;
			v *= parse_factor(ps);
		} else if (*ps->p == '/') {
			ps->p++;
			v = divide(ps, v, parse_factor(ps));
		} else {
			return v;
		}
	}
}

static long parse_expr(struct parser *ps)
{
	long v = parse_term(ps);

	for (;;) {
		skip_space(ps);
		if (*ps->p == '+') {
			ps->p++;
			v += parse_term(ps);
		} else if (*ps->p == '-') {
			ps->p++;
			v -= parse_term(ps);
		} else {
			return v;
		}
	}
}

static void report_error(const char *expr)
{
	fprintf(stderr, "demo: cannot evaluate '%s'\n", expr);
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		struct parser ps = { argv[i], 0 };
		long v = parse_expr(&ps);

		if (ps.error || *ps.p) {
			report_error(argv[i]);
			status = 1;
			continue;
		}
		printf("%s = %ld\n", argv[i], v);
	}
	return status;
}
