// SPDX-License-Identifier: MIT
/*
 * The site-table file (see sites_file.h): a site table as text that people
 * can read and diff, and that ukcov reads back strictly.
 *
 * Format, version 2.  Lines end with '\n'; fields are separated by exactly
 * one space.  The header lines come first, in this order:
 *
 *   ukcov-sites 2
 *   kind func                          site kind: func, line or bb
 *   pc-base 0xffffffff80000000         synthetic PC of site 0
 *   nmodules M
 *   nsites N
 *   table-id 4f1c0e5a9b7d3e21          site_table_id(), 16 hex digits
 *
 * then M module lines, in index order:
 *
 *   module INDEX BUILD-ID NSITES FIRST-SITE FLAGS IMAGE-BASE NIFUNC NREFUSED
 *          NOP5 EMULATED SINGLE-STEP PATH          (one line)
 *
 *   BUILD-ID    the NT_GNU_BUILD_ID bytes in hex, or - when there is none
 *   NSITES      sites of the module;  FIRST-SITE  index of its first site
 *   FLAGS       0x1 PIE (ET_DYN), 0x2 file:line came from DWARF
 *   IMAGE-BASE  vaddr of the lowest PT_LOAD page (drcov RVAs count from it)
 *   NIFUNC      IFUNC resolvers skipped;  NREFUSED  sites the kernel refuses
 *   NOP5 EMULATED SINGLE-STEP   how the probes were placed (0 when unknown)
 *
 * then N site lines, in index (= synthetic PC) order:
 *
 *   site INDEX MODULE VADDR OFFSET PROBE-OFFSET SIZE FLAGS LINE FUNC-LINE FUNC FILE
 *
 *   VADDR, OFFSET, PROBE-OFFSET   ELF vaddr, file offset, uprobe file offset
 *   SIZE        bytes the site covers;  FLAGS  enum site_flags
 *   LINE, FUNC-LINE   source line of the site and of its function, 0 unknown
 *   FILE        source file, or - when unknown
 *
 * and right after a site line whose FLAGS have SITE_ROWS (0x8, the lines a
 * basic block runs), its rows:
 *
 *   rows N
 *   row LINE ENTRIES FILE              N of them
 *
 *   LINE >= 1, ENTRIES  as struct site_row has them;  FILE never -
 *   sorted by (FILE (strcmp), LINE), each (FILE, LINE) once
 *
 * Numbers: decimal, or hex with a 0x prefix where shown above (addresses,
 * offsets and flags), lowercase, no leading zeros, at most 64 bits.
 * Strings (PATH, FUNC, FILE): bytes 0x21-0x7e and 0x80-0xff stand for
 * themselves, except '\' (written \\) and '"' (written \x22); every other
 * byte is \xHH with lowercase hex (a space is \x20); the empty string is
 * "" and a string that is exactly "-" is written \x2d.
 *
 * Every value has exactly one spelling, and the reader accepts only that
 * spelling: what it accepts, the writer writes back byte for byte.  The
 * reader also demands dense indexes in order, modules that tile the sites
 * (FIRST-SITE of each module is where the previous one ended), modules
 * sorted by path and sites by VADDR within a module (the order
 * site_table_finish() produces), and a table-id equal to the one it
 * computes from what it read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "sites_dwarf.h"
#include "sites_file.h"

/* ---- the table id --------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

/* Words little-endian, so the id does not depend on the host. */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * FNV_PRIME;
	return h;
}

/* Strings with their NUL, so "ab" + "c" and "a" + "bc" differ. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv_bytes(h, s, strlen(s) + 1);
}

uint64_t site_table_id(const struct site_table *t)
{
	return site_table_prefix_id(t, t->nmodules);
}

uint64_t site_table_prefix_id(const struct site_table *t, size_t nmodules)
{
	uint64_t h = FNV_OFFSET;
	size_t i, nsites = 0;

	if (nmodules > t->nmodules)
		nmodules = t->nmodules;
	if (nmodules)
		nsites = t->modules[nmodules - 1].first_site + t->modules[nmodules - 1].nsites;
	h = fnv_str(h, "ukcov-sites-id");
	h = fnv_str(h, site_kind_name(t->kind));
	h = fnv_u64(h, t->pc_base);
	h = fnv_u64(h, nmodules);
	for (i = 0; i < nmodules; i++) {
		const struct site_module *m = &t->modules[i];

		h = fnv_u64(h, m->build_id_len);
		h = fnv_bytes(h, m->build_id, m->build_id_len);
		h = fnv_str(h, m->path);
		h = fnv_u64(h, m->nsites);
	}
	h = fnv_u64(h, nsites);
	for (i = 0; i < nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);
		h = fnv_u64(h, s.offset);
	}
	return (h & (UKCOV_KCOV_TABLE_ID_MIN - 1)) | UKCOV_KCOV_TABLE_ID_MIN;
}

/* ---- writing ----------------------------------------------------------------- */

#define MODULE_PIE 0x1u
#define MODULE_DWARF 0x2u

/* One line under construction; @overflow once it no longer fits. */
struct line_buf {
	char buf[SITES_FILE_LINE_MAX + 1];
	size_t len;
	bool overflow;
};

static void lb_putc(struct line_buf *lb, char c)
{
	if (lb->len >= SITES_FILE_LINE_MAX) {
		lb->overflow = true;
		return;
	}
	lb->buf[lb->len++] = c;
}

static void lb_printf(struct line_buf *lb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lb_printf(struct line_buf *lb, const char *fmt, ...)
{
	size_t room = SITES_FILE_LINE_MAX - lb->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(lb->buf + lb->len, room + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > room) {
		lb->overflow = true;
		lb->len = SITES_FILE_LINE_MAX;
		return;
	}
	lb->len += n;
}

/* Appends " STRING" in the escaped form; NULL is written "-". */
static void lb_string(struct line_buf *lb, const char *s)
{
	lb_putc(lb, ' ');
	if (!s) {
		lb_putc(lb, '-');
		return;
	}
	if (!*s) {
		lb_putc(lb, '"');
		lb_putc(lb, '"');
		return;
	}
	if (!strcmp(s, "-")) {
		lb_printf(lb, "\\x2d");
		return;
	}
	for (; *s; s++) {
		char e[4];
		size_t n = escape_byte(*s, e);

		for (size_t i = 0; i < n; i++)
			lb_putc(lb, e[i]);
	}
}

static int lb_flush(struct line_buf *lb, FILE *f)
{
	if (lb->overflow)
		return -E2BIG;
	lb->buf[lb->len++] = '\n';
	errno = 0;
	if (fwrite(lb->buf, 1, lb->len, f) != lb->len)
		return errno ? -errno : -EIO;
	lb->len = 0;
	return 0;
}

static void lb_module(struct line_buf *lb, const struct site_table *t, size_t i)
{
	const struct site_module *m = &t->modules[i];
	unsigned flags = (m->pie ? MODULE_PIE : 0) | (m->has_dwarf ? MODULE_DWARF : 0);

	lb_printf(lb, "module %zu ", i);
	for (size_t j = 0; j < m->build_id_len; j++)
		lb_printf(lb, "%02x", m->build_id[j]);
	if (!m->build_id_len)
		lb_putc(lb, '-');
	lb_printf(lb, " %zu %zu 0x%x 0x%" PRIx64 " %zu %zu %zu %zu %zu", m->nsites,
		  m->first_site, flags, m->image_base, m->nifunc, m->nrefused,
		  m->nplace_nop5, m->nplace_emulated, m->nplace_single_step);
	lb_string(lb, m->path);
}

static void lb_site(struct line_buf *lb, size_t i, const struct site *s)
{
	lb_printf(lb, "site %zu %" PRIu32 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
		  " %" PRIu64 " 0x%" PRIx32 " %" PRIu32 " %" PRIu32, i, s->module,
		  s->vaddr, s->offset, s->probe_offset, s->size, s->flags, s->line,
		  s->func_line);
	lb_string(lb, s->func);
	lb_string(lb, s->file);
}

/* The rows of site @s, after its line (see the top of this file). */
static int write_rows(struct line_buf *lb, const struct site *s, FILE *f)
{
	int err;

	if (!(s->flags & SITE_ROWS))
		return 0;
	lb_printf(lb, "rows %" PRIu32, s->nrows);
	err = lb_flush(lb, f);
	for (uint32_t i = 0; !err && i < s->nrows; i++) {
		lb_printf(lb, "row %" PRIu32 " %" PRIu32, s->rows[i].line, s->rows[i].entries);
		lb_string(lb, s->rows[i].file);
		err = lb_flush(lb, f);
	}
	return err;
}

int sites_file_write(const struct site_table *t, FILE *f)
{
	struct line_buf *lb = calloc(1, sizeof(*lb));
	size_t i;
	int err;

	if (!lb)
		return -ENOMEM;
	lb_printf(lb, "%s %d\nkind %s\npc-base 0x%" PRIx64 "\nnmodules %zu\n"
		  "nsites %zu\ntable-id %016" PRIx64, SITES_FILE_MAGIC,
		  SITES_FILE_VERSION, site_kind_name(t->kind), t->pc_base,
		  t->nmodules, t->nsites, site_table_id(t));
	err = lb_flush(lb, f);
	for (i = 0; !err && i < t->nmodules; i++) {
		lb_module(lb, t, i);
		err = lb_flush(lb, f);
	}
	for (i = 0; !err && i < t->nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);
		lb_site(lb, i, &s);
		err = lb_flush(lb, f);
		if (!err)
			err = write_rows(lb, &s, f);
	}
	if (!err && (fflush(f) == EOF || ferror(f)))
		err = errno ? -errno : -EIO;
	free(lb);
	return err;
}

/* ---- reading ----------------------------------------------------------------- */

/* Lines come from a FILE or a buffer; nothing else differs. */
struct reader {
	FILE *f;
	const char *buf;
	size_t len, pos;
	char line[SITES_FILE_LINE_MAX + 1];
	size_t lineno;
	struct sites_file_error *e;
	struct site_table *t;
};

/* Records why; returns @err so callers can `return fail(...)`. */
static int fail(struct reader *r, int err, const char *why)
{
	r->e->line = r->lineno;
	r->e->why = why;
	return err;
}

/* The next byte, or EOF (-1); -2 on a read error. */
static int next_byte(struct reader *r)
{
	int c;

	if (!r->f)
		return r->pos < r->len ? (unsigned char)r->buf[r->pos++] : -1;
	c = getc_unlocked(r->f);
	if (c == EOF && ferror(r->f))
		return -2;
	return c;
}

/*
 * Reads the next line into r->line, NUL-terminated, without its newline.
 * Returns 1, 0 at the end of the input, or a negative errno.
 */
static int next_line(struct reader *r)
{
	size_t n = 0;
	int c;

	r->lineno++;
	for (;;) {
		c = next_byte(r);
		if (c == -2)
			return fail(r, -EIO, "read error");
		if (c == -1) {
			if (!n)
				return 0;
			return fail(r, -EINVAL, "last line has no newline (truncated file?)");
		}
		if (c == '\n')
			break;
		if (c == '\0')
			return fail(r, -EINVAL, "NUL byte (binary data?)");
		if (n == SITES_FILE_LINE_MAX)
			return fail(r, -EINVAL, "line too long");
		r->line[n++] = c;
	}
	r->line[n] = '\0';
	return 1;
}

/*
 * Splits r->line in place into exactly @want fields.  Returns 0 or -EINVAL.
 */
static int split(struct reader *r, char **fields, size_t want)
{
	char *p = r->line;
	size_t n = 0;

	for (;;) {
		char *sp = strchr(p, ' ');

		if (sp == p || !*p)
			return fail(r, -EINVAL, "empty field (two spaces, or a space at an end)");
		if (n == want)
			return fail(r, -EINVAL, "too many fields");
		fields[n++] = p;
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	return n == want ? 0 : fail(r, -EINVAL, "too few fields");
}

/* Decimal, canonical (no sign, no leading zero), at most @max. */
static int parse_dec(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = *s - '0';

		if (d > 9)
			return -EINVAL;
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	if (x > max)
		return -ERANGE;
	*v = x;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex digits only, lowercase, @digits of them when non-zero. */
static int parse_hex_digits(const char *s, size_t digits, uint64_t *v)
{
	size_t len = strlen(s);
	uint64_t x = 0;

	if (!len || (digits && len != digits))
		return -EINVAL;
	if (len > 16)
		return -ERANGE;
	for (; *s; s++) {
		int d = hex_digit(*s);

		if (d < 0)
			return -EINVAL;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}

/* "0x" then lowercase hex without leading zeros, at most @max. */
static int parse_hex(const char *s, uint64_t max, uint64_t *v)
{
	int err;

	if (strncmp(s, "0x", 2) || (s[2] == '0' && s[3]))
		return -EINVAL;
	err = parse_hex_digits(s + 2, 0, v);
	if (!err && *v > max)
		err = -ERANGE;
	return err;
}

/* A numeric field; @hex picks the spelling.  Errors name the field. */
static int field_num(struct reader *r, const char *s, bool hex, uint64_t max,
		     uint64_t *v, const char *what)
{
	int err = hex ? parse_hex(s, max, v) : parse_dec(s, max, v);

	if (err)
		return fail(r, -EINVAL, what);
	return 0;
}

/*
 * Decodes the escaped string @s in place (see the top of this file) and
 * interns it.  "-" gives NULL when @may_be_null, else is an error.
 */
static int field_string(struct reader *r, char *s, bool may_be_null,
			const char **out, const char *what)
{
	char *w = s;
	const char *p;

	if (!strcmp(s, "-")) {
		if (!may_be_null)
			return fail(r, -EINVAL, what);
		*out = NULL;
		return 0;
	}
	if (!strcmp(s, "\"\"")) {
		*w = '\0';
	} else {
		for (p = s; *p; p++) {
			unsigned char c = *p;
			int hi, lo;

			if (escape_byte_is_plain(c)) {
				*w++ = c;
				continue;
			}
			if (c != '\\')
				return fail(r, -EINVAL, what);
			if (p[1] == '\\') {
				*w++ = '\\';
				p++;
				continue;
			}
			if (p[1] != 'x')
				return fail(r, -EINVAL, what);
			hi = hex_digit(p[2]);
			lo = hi < 0 ? -1 : hex_digit(p[3]);
			if (lo < 0)
				return fail(r, -EINVAL, what);
			c = hi << 4 | lo;
			/*
			 * Only bytes that must be escaped may be, so each
			 * string has one spelling; "\x2d" is the string "-".
			 * A backslash is spelled "\\", never "\x5c" (found by
			 * fuzzing: two spellings of one table).
			 */
			if (!c || c == '\\' ||
			    (escape_byte_is_plain(c) && !(c == '-' && p == s && !p[4])))
				return fail(r, -EINVAL, what);
			*w++ = c;
			p += 3;
		}
		*w = '\0';
	}
	*out = site_strings_intern(r->t->strings, s);
	return *out ? 0 : fail(r, -ENOMEM, "out of memory");
}

/* "KEY VALUE": checks the key and returns the value field. */
static int header(struct reader *r, const char *key, char **value)
{
	char *f[2];
	int err = next_line(r);

	if (err == 0)
		return fail(r, -EINVAL, "file ends inside the header");
	if (err < 0)
		return err;
	if (split(r, f, 2) || strcmp(f[0], key)) {
		/* Name the line we expected: the fields say little on their own. */
		static const char *const expected[] = {
			"kind", "expected 'kind KIND'",
			"pc-base", "expected 'pc-base 0xHEX'",
			"nmodules", "expected 'nmodules COUNT'",
			"nsites", "expected 'nsites COUNT'",
			"table-id", "expected 'table-id HEX16'",
		};

		for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i += 2)
			if (!strcmp(expected[i], key))
				return fail(r, -EINVAL, expected[i + 1]);
		return fail(r, -EINVAL, "bad header line");
	}
	*value = f[1];
	return 0;
}

static int read_header(struct reader *r, size_t *nmodules, size_t *nsites, uint64_t *id,
		       size_t *id_line)
{
	uint64_t v;
	char *f[2], *val;
	int err = next_line(r);

	if (err == 0)
		return fail(r, -EPROTO, "empty file, not a ukcov site table");
	if (err < 0)
		return err == -EINVAL ? fail(r, -EPROTO, "not a ukcov site table") : err;
	if (split(r, f, 2) || strcmp(f[0], SITES_FILE_MAGIC))
		return fail(r, -EPROTO, "not a ukcov site table (no 'ukcov-sites' line)");
	if (parse_dec(f[1], UINT32_MAX, &v) || v != SITES_FILE_VERSION)
		return fail(r, -EPROTO, "unsupported site-table version (this ukcov reads 2)");

	err = header(r, "kind", &val);
	if (err)
		return err;
	if (site_kind_parse(val, &r->t->kind))
		return fail(r, -EINVAL, "unknown site kind");
	err = header(r, "pc-base", &val);
	if (err)
		return err;
	err = field_num(r, val, true, UINT64_MAX, &v, "bad pc-base");
	if (err)
		return err;
	if (v != UKCOV_PC_BASE)
		return fail(r, -EINVAL, "pc-base is not 0xffffffff80000000");
	r->t->pc_base = v;
	err = header(r, "nmodules", &val);
	if (err)
		return err;
	err = field_num(r, val, false, SITES_FILE_MAX_MODULES, &v, "bad or too large nmodules");
	if (err)
		return err;
	*nmodules = v;
	err = header(r, "nsites", &val);
	if (err)
		return err;
	err = field_num(r, val, false, SITES_FILE_MAX_SITES, &v, "bad or too large nsites");
	if (err)
		return err;
	*nsites = v;
	err = header(r, "table-id", &val);
	if (err)
		return err;
	if (parse_hex_digits(val, 16, id) || *id < UKCOV_KCOV_TABLE_ID_MIN ||
	    *id > UKCOV_KCOV_TABLE_ID_MAX)
		return fail(r, -EINVAL, "bad table-id (want 16 lowercase hex digits, 4... to 7...)");
	*id_line = r->lineno;
	return 0;
}

static int parse_build_id(struct reader *r, const char *s, struct site_module *m)
{
	size_t len = strlen(s);

	if (!strcmp(s, "-"))
		return 0;
	if (len % 2 || len > 2 * SITE_BUILD_ID_MAX)
		return fail(r, -EINVAL, "bad build-id");
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return fail(r, -EINVAL, "bad build-id");
		m->build_id[i / 2] = hi << 4 | lo;
	}
	m->build_id_len = len / 2;
	return 0;
}

/* Module line @i; @next_site is where it must start. */
static int read_module(struct reader *r, size_t i, size_t nsites, size_t *next_site,
		       struct site_module *m, const struct site_module *prev)
{
	uint64_t v, flags, counts[5];
	char *f[13];
	const char *path;
	int err = next_line(r);

	if (err == 0)
		return fail(r, -EINVAL, "file ends before the last module line");
	if (err < 0)
		return err;
	if (split(r, f, 13) || strcmp(f[0], "module"))
		return fail(r, -EINVAL, "expected 'module INDEX BUILD-ID NSITES FIRST-SITE FLAGS "
			    "IMAGE-BASE NIFUNC NREFUSED NOP5 EMULATED SINGLE-STEP PATH'");
	if (parse_dec(f[1], SIZE_MAX, &v) || v != i)
		return fail(r, -EINVAL, "module index out of order");
	err = parse_build_id(r, f[2], m);
	if (!err)
		err = field_num(r, f[3], false, SITES_MAX_PER_MODULE, &v,
				"bad or too large module site count");
	if (err)
		return err;
	m->nsites = v;
	if (parse_dec(f[4], SIZE_MAX, &v) || v != *next_site)
		return fail(r, -EINVAL, "module first-site is not where the previous module ended");
	m->first_site = v;
	if (m->nsites > nsites - *next_site)
		return fail(r, -EINVAL, "modules hold more sites than nsites");
	*next_site += m->nsites;
	err = field_num(r, f[5], true, MODULE_PIE | MODULE_DWARF, &flags, "bad module flags");
	if (!err)
		err = field_num(r, f[6], true, UINT64_MAX, &m->image_base, "bad module image-base");
	for (int k = 0; !err && k < 5; k++)
		err = field_num(r, f[7 + k], false, SITES_FILE_MAX_SITES, &counts[k],
				"bad module site count (ifunc, refused or placement)");
	if (!err)
		err = field_string(r, f[12], false, &path, "bad module path");
	if (err)
		return err;
	m->nifunc = counts[0];
	m->nrefused = counts[1];
	m->nplace_nop5 = counts[2];
	m->nplace_emulated = counts[3];
	m->nplace_single_step = counts[4];
	m->pie = flags & MODULE_PIE;
	m->has_dwarf = flags & MODULE_DWARF;
	m->path = m->open_path = (char *)path;
	if (prev && strcmp(prev->path, m->path) > 0)
		return fail(r, -EINVAL, "modules are not sorted by path");
	return 0;
}

/* Site line @i of module @mi. */
static int read_site(struct reader *r, size_t i, uint32_t mi, struct site *s,
		     const struct site *prev)
{
	uint64_t v[9];
	char *f[12];
	int err = next_line(r);

	if (err == 0)
		return fail(r, -EINVAL, "file ends before the last site line (nsites too large?)");
	if (err < 0)
		return err;
	if (split(r, f, 12) || strcmp(f[0], "site"))
		return fail(r, -EINVAL, "expected 'site INDEX MODULE VADDR OFFSET PROBE-OFFSET SIZE FLAGS LINE FUNC-LINE FUNC FILE'");
	if (parse_dec(f[1], SIZE_MAX, &v[0]) || v[0] != i)
		return fail(r, -EINVAL, "site index out of order");
	if (parse_dec(f[2], UINT32_MAX, &v[1]))
		return fail(r, -EINVAL, "bad site module");
	if (v[1] != mi)
		return fail(r, -EINVAL, "site module does not match the module's site range");
	err = field_num(r, f[3], true, UINT64_MAX, &v[2], "bad site vaddr");
	if (!err)
		err = field_num(r, f[4], true, UINT64_MAX, &v[3], "bad site offset");
	if (!err)
		err = field_num(r, f[5], true, UINT64_MAX, &v[4], "bad site probe-offset");
	if (!err)
		err = field_num(r, f[6], false, UINT64_MAX, &v[5], "bad site size");
	if (!err)
		err = field_num(r, f[7], true, UINT32_MAX, &v[6], "bad site flags");
	if (!err)
		err = field_num(r, f[8], false, UINT32_MAX, &v[7], "bad site line");
	if (!err)
		err = field_num(r, f[9], false, UINT32_MAX, &v[8], "bad site func-line");
	if (!err)
		err = field_string(r, f[10], false, &s->func, "bad site function name");
	if (!err)
		err = field_string(r, f[11], true, &s->file, "bad site file");
	if (err)
		return err;
	s->module = mi;
	s->vaddr = v[2];
	s->offset = v[3];
	s->probe_offset = v[4];
	s->size = v[5];
	s->flags = v[6];
	s->line = v[7];
	s->func_line = v[8];
	if (prev && prev->module == mi && prev->vaddr > s->vaddr)
		return fail(r, -EINVAL, "sites are not sorted by vaddr");
	s->rows = NULL;
	s->nrows = 0;
	return 0;
}

static int row_order(const struct site_row *a, const struct site_row *b)
{
	int c = a->file == b->file ? 0 : strcmp(a->file, b->file);

	return c ? c : (a->line > b->line) - (a->line < b->line);
}

/*
 * The rows of site @s (flagged SITE_ROWS), into the table's storage.
 * @scratch (of *@cap rows) grows as row lines arrive, never from the
 * count: a short file claiming many rows costs what it holds.
 */
static int read_rows(struct reader *r, struct site *s, struct site_row **scratch,
		     size_t *cap)
{
	uint64_t n, line, entries;
	struct site_row *rows;
	char *f[4];
	int err = next_line(r);

	if (err == 0)
		return fail(r, -EINVAL, "file ends before the site's rows");
	if (err < 0)
		return err;
	if (split(r, f, 2) || strcmp(f[0], "rows"))
		return fail(r, -EINVAL, "expected 'rows COUNT' after a site with rows (flag 0x8)");
	err = field_num(r, f[1], false, UINT32_MAX, &n, "bad rows count");
	if (err)
		return err;
	for (uint64_t i = 0; i < n; i++) {
		struct site_row *row;

		if (i == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			void *p = reallocarray(*scratch, ncap, sizeof(**scratch));

			if (!p)
				return fail(r, -ENOMEM, "out of memory");
			*scratch = p;
			*cap = ncap;
		}
		row = &(*scratch)[i];
		err = next_line(r);
		if (err == 0)
			return fail(r, -EINVAL, "file ends before the site's last row");
		if (err < 0)
			return err;
		if (split(r, f, 4) || strcmp(f[0], "row"))
			return fail(r, -EINVAL, "expected 'row LINE ENTRIES FILE'");
		err = field_num(r, f[1], false, UINT32_MAX, &line, "bad row line");
		if (!err && !line)
			err = fail(r, -EINVAL, "bad row line");
		if (!err)
			err = field_num(r, f[2], false, UINT32_MAX, &entries, "bad row entries");
		if (!err)
			err = field_string(r, f[3], false, &row->file, "bad row file");
		if (err)
			return err;
		row->line = line;
		row->entries = entries;
		if (i && row_order(&(*scratch)[i - 1], row) >= 0)
			return fail(r, -EINVAL, "rows are not sorted by (file, line), each once");
	}
	s->nrows = n;
	if (!n)
		return 0;
	rows = site_strings_alloc(r->t->strings, n * sizeof(*rows));
	if (!rows)
		return fail(r, -ENOMEM, "out of memory");
	memcpy(rows, *scratch, n * sizeof(*rows));
	s->rows = rows;
	return 0;
}

static int read_table(struct reader *r)
{
	struct site_module *mods = NULL;
	struct site *sites = NULL;
	struct site_row *rows = NULL;
	size_t nmodules, nsites, id_line, next = 0, cap = 0, rows_cap = 0, i;
	uint32_t mi = 0;
	uint64_t id;
	int err;

	err = read_header(r, &nmodules, &nsites, &id, &id_line);
	if (err)
		goto out;
	mods = calloc(nmodules ? nmodules : 1, sizeof(*mods));
	if (!mods) {
		err = fail(r, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nmodules; i++) {
		err = read_module(r, i, nsites, &next, &mods[i], i ? &mods[i - 1] : NULL);
		if (err)
			goto out;
	}
	if (next != nsites) {
		err = fail(r, -EINVAL, "module site counts do not add up to nsites");
		goto out;
	}
	for (i = 0; i < nsites; i++) {
		/*
		 * Grown as lines arrive, never sized from the header: a short
		 * file claiming many sites costs what it holds, no more.
		 */
		if (i == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			void *p = reallocarray(sites, ncap, sizeof(*sites));

			if (!p) {
				err = fail(r, -ENOMEM, "out of memory");
				goto out;
			}
			sites = p;
			cap = ncap;
		}
		while (i >= mods[mi].first_site + mods[mi].nsites)
			mi++;
		err = read_site(r, i, mi, &sites[i], i ? &sites[i - 1] : NULL);
		if (!err && (sites[i].flags & SITE_ROWS))
			err = read_rows(r, &sites[i], &rows, &rows_cap);
		if (err)
			goto out;
	}
	err = next_line(r);
	if (err > 0)
		err = fail(r, -EINVAL, "unexpected line after the last site");
	if (err)
		goto out;
	r->lineno--;	/* errors below are about the table, not a line past it */

	for (i = 0; i < nmodules; i++) {
		err = site_table_append(r->t, &mods[i], sites ? sites + mods[i].first_site : NULL,
					mods[i].nsites);
		if (err) {
			err = fail(r, err, "out of memory");
			goto out;
		}
	}
	/*
	 * A fuzzer cannot forge a hash: its builds skip the check so that
	 * mutated tables reach the end (fuzz/fuzz_sites_file.c).
	 */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (site_table_id(r->t) != id) {
		r->lineno = id_line;
		err = fail(r, -EINVAL, "table-id does not match the table (edited or corrupt file)");
	}
#else
	(void)id_line;
#endif
out:
	free(rows);
	free(sites);
	free(mods);
	return err;
}

static int read_common(struct reader *r, struct site_table **out, struct sites_file_error *e)
{
	struct sites_file_error unused;
	int err;

	r->e = e ? e : &unused;
	r->e->line = 0;
	r->e->why = NULL;
	r->t = site_table_new();
	if (!r->t)
		return fail(r, -ENOMEM, "out of memory");
	err = read_table(r);
	if (err) {
		site_table_free(r->t);
		return err;
	}
	*out = r->t;
	return 0;
}

int sites_file_read(FILE *f, struct site_table **out, struct sites_file_error *e)
{
	struct reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		if (e)
			*e = (struct sites_file_error){ 0, "out of memory" };
		return -ENOMEM;
	}
	r->f = f;
	err = read_common(r, out, e);
	free(r);
	return err;
}

int sites_file_read_buffer(const char *buf, size_t len, struct site_table **out,
			   struct sites_file_error *e)
{
	struct reader *r = calloc(1, sizeof(*r));
	int err;

	if (!r) {
		if (e)
			*e = (struct sites_file_error){ 0, "out of memory" };
		return -ENOMEM;
	}
	r->buf = buf;
	r->len = len;
	err = read_common(r, out, e);
	free(r);
	return err;
}
