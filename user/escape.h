/* SPDX-License-Identifier: MIT */
/*
 * One spelling for names in ukcov's line-oriented text: the text report,
 * `ukcov sites` and the sites file split lines on '\n' and fields on ' ',
 * so a path, argument or symbol holding either (or any control byte) must
 * not reach them raw: a file named "a\n0xffffffff80000000 99 f" would forge
 * a report line.  Bytes 0x21-0x7e and 0x80-0xff stand for themselves,
 * except '\' (written \\) and '"' (written \x22); every other byte is \xHH,
 * lowercase.  Ordinary names come out unchanged.
 */
#ifndef UKCOV_ESCAPE_H
#define UKCOV_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* @c stands for itself. */
static inline bool escape_byte_is_plain(unsigned char c)
{
	return (c > 0x20 && c < 0x7f && c != '\\' && c != '"') || c >= 0x80;
}

/* The escaped form of byte @c into @out; its length (1, 2 or 4). */
size_t escape_byte(unsigned char c, char out[4]);

/*
 * Writes @s escaped into @buf (@size > 0), always NUL-terminated; the
 * length it needed, like snprintf (a result >= @size means truncated).
 */
size_t escape_str(char *buf, size_t size, const char *s);

/* Writes @s escaped to @f.  Returns 0, or EOF on a write error. */
int escape_fputs(const char *s, FILE *f);

#endif /* UKCOV_ESCAPE_H */
