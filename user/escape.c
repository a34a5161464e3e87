// SPDX-License-Identifier: MIT
/* Names made safe for line-oriented text (escape.h). */
#include "escape.h"

static const char hex[] = "0123456789abcdef";

size_t escape_byte(unsigned char c, char out[4])
{
	if (escape_byte_is_plain(c)) {
		out[0] = c;
		return 1;
	}
	out[0] = '\\';
	if (c == '\\') {
		out[1] = '\\';
		return 2;
	}
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 0xf];
	return 4;
}

size_t escape_str(char *buf, size_t size, const char *s)
{
	size_t used = 0;
	char e[4];

	for (; *s; s++) {
		size_t n = escape_byte(*s, e);

		for (size_t i = 0; i < n; i++, used++)
			if (used + 1 < size)
				buf[used] = e[i];
	}
	buf[used < size ? used : size - 1] = '\0';
	return used;
}

int escape_fputs(const char *s, FILE *f)
{
	char e[4];

	for (; *s; s++)
		if (fwrite(e, 1, escape_byte(*s, e), f) == 0)
			return EOF;
	return 0;
}
