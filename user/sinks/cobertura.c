// SPDX-License-Identifier: MIT
/*
 * Cobertura XML, as coverage-04.dtd lays it out and GitLab and Codecov read
 * it: one <package> per source directory, one <class> per source file (its
 * name the file's base name), a <method> per function (with the lines of
 * its own sites) and a <line> per source line with code.  Line and function counts follow lines.h.  There
 * are no branches: every branch figure is 0.
 *
 * Paths: <source> is "/" and each class's filename is its absolute path
 * without the leading '/', so that source + filename is the path; GitLab
 * joins the two and strips its project directory.  A relative path (a CU
 * without DW_AT_comp_dir) is written as it is.
 *
 * The timestamp is in milliseconds since the epoch, as Cobertura itself
 * (Date.getTime()) and coverage.py (time.time() * 1000) write it and
 * readers take it: the time of writing, or SOURCE_DATE_EPOCH (seconds, the
 * reproducible-builds convention) times 1000 when that is set.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sinks/lines.h"
#include "sinks/sink.h"
#include "sites.h"

/*
 * Length of the well-formed UTF-8 sequence at @p that XML 1.0 allows, or 0:
 * no overlong forms, surrogates, code points past U+10FFFF, U+FFFE/U+FFFF.
 * The terminating NUL is no continuation byte, so @p is never overrun.
 */
static size_t utf8_len(const unsigned char *p)
{
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90) ||
	    (p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe))
		return 0;
	return n;
}

/*
 * Writes @len bytes of @s as attribute or text content.  Symbol names and
 * paths are bytes, not text: what XML cannot carry (control characters,
 * malformed UTF-8) becomes '?'; tab and line breaks become references so
 * that attribute normalisation keeps them.
 */
static void xml_put_n(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n;

		switch (*p) {
		case '&':  fputs("&amp;", out);  p++; continue;
		case '<':  fputs("&lt;", out);   p++; continue;
		case '>':  fputs("&gt;", out);   p++; continue;
		case '"':  fputs("&quot;", out); p++; continue;
		case '\'': fputs("&apos;", out); p++; continue;
		case '\t': fputs("&#9;", out);   p++; continue;
		case '\n': fputs("&#10;", out);  p++; continue;
		case '\r': fputs("&#13;", out);  p++; continue;
		}
		n = *p < 0x20 ? 0 : utf8_len(p);
		if (!n || n > (size_t)(end - p)) {
			fputc('?', out);
			p++;
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
}

static void xml_put(FILE *out, const char *s)
{
	xml_put_n(out, s, strlen(s));
}

/* Cobertura's rates; nothing to cover counts as all covered, as in Cobertura. */
static double rate(size_t hit, size_t found)
{
	return found ? (double)hit / (double)found : 1.0;
}

/* Length of the directory part of @path: "/a/b.c" -> 2, "/b.c" -> 1, "b.c" -> 0. */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return 0;
	return slash == path ? 1 : (size_t)(slash - path);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Files by (directory, base name): a package's classes must be together. */
static int cmp_files(const void *pa, const void *pb)
{
	const struct line_file *a = *(const struct line_file *const *)pa;
	const struct line_file *b = *(const struct line_file *const *)pb;
	size_t la = dir_len(a->path), lb = dir_len(b->path);
	int c = memcmp(a->path, b->path, la < lb ? la : lb);

	if (!c)
		c = la < lb ? -1 : la > lb;
	return c ? c : strcmp(base_name(a->path), base_name(b->path));
}

static bool same_dir(const struct line_file *a, const struct line_file *b)
{
	size_t la = dir_len(a->path);

	return la == dir_len(b->path) && !memcmp(a->path, b->path, la);
}

static void put_dir(FILE *out, const char *path)
{
	size_t len = dir_len(path);

	if (len)
		xml_put_n(out, path, len);
	else
		fputc('.', out);
}

static void put_method(FILE *out, const struct line_func *fn)
{
	size_t hit = 0, i;

	for (i = 0; i < fn->nlines; i++)
		hit += fn->lines[i].count > 0;
	fputs("\t\t\t\t\t\t<method name=\"", out);
	xml_put(out, fn->name);
	fprintf(out, "\" signature=\"\" line-rate=\"%.4f\" branch-rate=\"0\""
		" complexity=\"0\">\n\t\t\t\t\t\t\t<lines>\n",
		fn->nlines ? rate(hit, fn->nlines) : (fn->count ? 1.0 : 0.0));
	for (i = 0; i < fn->nlines; i++)
		fprintf(out, "\t\t\t\t\t\t\t\t<line number=\"%" PRIu32
			"\" hits=\"%" PRIu64 "\"/>\n", fn->lines[i].line,
			fn->lines[i].count);
	fputs("\t\t\t\t\t\t\t</lines>\n\t\t\t\t\t\t</method>\n", out);
}

static void put_class(FILE *out, const struct line_file *f)
{
	const char *filename = f->path[0] == '/' ? f->path + 1 : f->path;
	size_t i;

	fputs("\t\t\t\t<class name=\"", out);
	xml_put(out, base_name(f->path));
	fputs("\" filename=\"", out);
	xml_put(out, filename);
	fprintf(out, "\" line-rate=\"%.4f\" branch-rate=\"0\" complexity=\"0\">\n",
		rate(f->lines_hit, f->nlines));
	fputs("\t\t\t\t\t<methods>\n", out);
	for (i = 0; i < f->nfuncs; i++)
		put_method(out, &f->funcs[i]);
	fputs("\t\t\t\t\t</methods>\n\t\t\t\t\t<lines>\n", out);
	for (i = 0; i < f->nlines; i++)
		fprintf(out, "\t\t\t\t\t\t<line number=\"%" PRIu32 "\" hits=\"%"
			PRIu64 "\"/>\n", f->lines[i].line, f->lines[i].count);
	fputs("\t\t\t\t\t</lines>\n\t\t\t\t</class>\n", out);
}

/* The files @files[0..n) of one directory. */
static void put_package(FILE *out, struct line_file *const *files, size_t n)
{
	size_t found = 0, hit = 0, i;

	for (i = 0; i < n; i++) {
		found += files[i]->nlines;
		hit += files[i]->lines_hit;
	}
	fputs("\t\t<package name=\"", out);
	put_dir(out, files[0]->path);
	fprintf(out, "\" line-rate=\"%.4f\" branch-rate=\"0\" complexity=\"0\">\n"
		"\t\t\t<classes>\n", rate(hit, found));
	for (i = 0; i < n && !ferror(out); i++)
		put_class(out, files[i]);
	fputs("\t\t\t</classes>\n\t\t</package>\n", out);
}

/*
 * Milliseconds: SOURCE_DATE_EPOCH's seconds when it is a plain number that
 * fits once scaled, else now.
 */
static unsigned long long timestamp_ms(void)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	unsigned long long v;
	struct timespec now;
	char *end;

	if (env && *env >= '0' && *env <= '9') {
		errno = 0;
		v = strtoull(env, &end, 10);
		if (!errno && !*end && v <= ULLONG_MAX / 1000)
			return v * 1000;
	}
	if (clock_gettime(CLOCK_REALTIME, &now))
		return (unsigned long long)time(NULL) * 1000;
	return (unsigned long long)now.tv_sec * 1000 + (unsigned long long)now.tv_nsec / 1000000;
}

static int cobertura_finish(struct sink *s, const struct site_table *t,
			    const uint64_t *totals, const struct run_info *info)
{
	struct line_file **files = NULL;
	struct line_report *r;
	FILE *out = s->out;
	size_t i, j;
	int err = 0;

	r = line_report_new(t, totals, line_totals_are_runs(info ? info->mode : NULL));
	if (!r)
		return -errno;
	files = calloc(r->nfiles ?: 1, sizeof(*files));
	if (!files) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->nfiles; i++)
		files[i] = &r->files[i];
	qsort(files, r->nfiles, sizeof(*files), cmp_files);

	errno = 0;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n"
		"<coverage line-rate=\"%.4f\" branch-rate=\"0\" lines-covered=\"%zu\""
		" lines-valid=\"%zu\" branches-covered=\"0\" branches-valid=\"0\""
		" complexity=\"0\" version=\"ukcov %s\" timestamp=\"%llu\">\n"
		"\t<sources>\n\t\t<source>/</source>\n\t</sources>\n"
		"\t<packages>\n",
		rate(r->lines_hit, r->lines_found), r->lines_hit,
		r->lines_found, UKCOV_VERSION, timestamp_ms());
	for (i = 0; i < r->nfiles && !ferror(out); i = j) {
		for (j = i + 1; j < r->nfiles && same_dir(files[i], files[j]); j++)
			;
		put_package(out, files + i, j - i);
	}
	fputs("\t</packages>\n</coverage>\n", out);
	/* stdio's errors are sticky: one check after the package that failed. */
	if (ferror(out) || fflush(out) == EOF)
		err = errno ? -errno : -EIO;
out:
	free(files);
	line_report_free(r);
	return err;
}

const struct sink_ops sink_cobertura = {
	.name = "cobertura",
	.extension = ".xml",
	.summary = "Cobertura XML of source lines and functions (GitLab, Codecov)",
	.finish = cobertura_finish,
};
