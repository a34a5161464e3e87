// SPDX-License-Identifier: MIT
/*
 * A "magic bytes" bug five bytes deep: inputs that start with "UKCV!"
 * abort() (the first $UKCOV_MAGIC_DEPTH bytes of it, 1 to 5, when set: a
 * shallow bug a blind fuzzer can find too, for a comparison in numbers).  Random inputs hit it with probability 2^-40; a fuzzer that keeps
 * every input reaching new code finds it one byte at a time, because each
 * byte is checked in a function of its own: with ukcov's default function
 * sites, getting one more byte right is one more PC.
 *
 * Built with -O1 -fno-inline -fno-ipa-icf (see the Makefile), so every
 * function below stays a function entry of its own.
 *
 * One-shot: `target < input` runs one input (what a fork/exec fuzzer does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "target.h"

static int depth = -1;	/* bytes of the magic that crash; read once */

static int magic_depth(void)
{
	if (depth < 0) {
		const char *s = getenv("UKCOV_MAGIC_DEPTH");

		depth = s && *s >= '1' && *s <= '5' && !s[1] ? *s - '0' : 5;
	}
	return depth;
}

__attribute__((noinline)) void magic_found(void)
{
	fprintf(stderr, "target: magic bytes found, crashing\n");
	abort();
}

/* Byte @i was right: crash when that was the last one, else go on with @next. */
static int matched(int i, int (*next)(const unsigned char *), const unsigned char *b)
{
	if (i + 1 >= magic_depth()) {
		magic_found();
		return i + 1;
	}
	return next(b);
}

static int check_end(const unsigned char *b)
{
	(void)b;
	return 5;
}

__attribute__((noinline)) int check_4(const unsigned char *b)
{
	return b[4] == '!' ? matched(4, check_end, b) : 4;
}

__attribute__((noinline)) int check_3(const unsigned char *b)
{
	return b[3] == 'V' ? matched(3, check_4, b) : 3;
}

__attribute__((noinline)) int check_2(const unsigned char *b)
{
	return b[2] == 'C' ? matched(2, check_3, b) : 2;
}

__attribute__((noinline)) int check_1(const unsigned char *b)
{
	return b[1] == 'K' ? matched(1, check_2, b) : 1;
}

__attribute__((noinline)) int check_0(const unsigned char *b)
{
	return b[0] == 'U' ? matched(0, check_1, b) : 0;
}

/* A detour with coverage of its own that leads nowhere: inputs starting with a digit. */
__attribute__((noinline)) int parse_digits(const unsigned char *b, size_t len)
{
	int v = 0;

	for (size_t i = 0; i < len && b[i] >= '0' && b[i] <= '9'; i++)
		v = v * 10 + (b[i] - '0');
	return v & 1;
}

__attribute__((noinline)) int too_short(size_t len)
{
	return -(int)len;
}

int target_input(const unsigned char *buf, size_t len)
{
	if (len < 5)
		return too_short(len);
	if (buf[0] >= '0' && buf[0] <= '9')
		return parse_digits(buf, len);
	return check_0(buf);
}

#ifndef TARGET_NO_MAIN
int main(void)
{
	static unsigned char buf[TARGET_MAX_INPUT];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) && (n = read(STDIN_FILENO, buf + len, sizeof(buf) - len)) > 0)
		len += n;
	target_input(buf, len);
	return 0;
}
#endif
