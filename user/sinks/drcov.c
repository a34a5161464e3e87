// SPDX-License-Identifier: MIT
/*
 * DynamoRIO's drcov log, version 2, the form Lighthouse, bncov and
 * dragondance load (DynamoRIO does not document it; Lighthouse's parser
 * plugins/lighthouse/reader/parsers/drcov.py is the reference):
 *
 *   DRCOV VERSION: 2\n
 *   DRCOV FLAVOR: drcov\n
 *   Module Table: version 2, count N\n
 *   Columns: id, base, end, entry, checksum, timestamp, path\n
 *    ID, 0xBASE, 0xEND, 0xENTRY, 0xCHECKSUM, 0xTIMESTAMP, PATH\n   N lines
 *   BB Table: M bbs\n
 *   M x { u32 start; u16 size; u16 mod_id; }  little-endian, packed
 *
 * One module line per module of the table (id = module index); one block
 * per site that ran, in site order.  start is the site's RVA, its vaddr
 * minus the module's image base (0 for PIE, the lowest PT_LOAD page for a
 * fixed-address executable), which is what a disassembler adds its own
 * image base to.  base..end is the image the module's sites span; entry,
 * checksum and timestamp are 0, which readers ignore.
 *
 * A block's size is the site's: a basic block's length (--sites bb) or a
 * whole function's (--sites func, where a "block" is the function).  A
 * size past 65535 does not fit the u16 and is clamped to 65535: the block
 * still starts where it should, only its tail goes unmarked.  Line sites
 * have no length, so the format refuses them (needs_size).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "sinks/sink.h"
#include "sites.h"

#define DRCOV_BB_SIZE 8		/* sizeof the packed bb_entry_t */
#define DRCOV_CHUNK 512		/* entries converted per fwrite() */
#define DRCOV_PAGE 0x1000ull

static void put_le32(unsigned char *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_le16(unsigned char *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

/* End of the image @m's sites span, page-aligned: the module line's end. */
static uint64_t module_end(const struct site_table *t, const struct site_module *m)
{
	uint64_t end = m->image_base;
	size_t i;

	for (i = m->first_site; i < m->first_site + m->nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);
		if (s.vaddr + s.size > end)
			end = s.vaddr + s.size;
	}
	return (end + DRCOV_PAGE - 1) & ~(DRCOV_PAGE - 1);
}

/*
 * Checks what the format cannot carry before anything is written, so a
 * refusal leaves no half file: a path with a line break would end the
 * module line; an RVA must fit u32 and a module id u16.
 */
static int drcov_check(const struct site_table *t, const uint64_t *totals,
		       size_t *nbbs)
{
	size_t i;

	if (t->nmodules > UINT16_MAX + 1u)
		return -E2BIG;
	for (i = 0; i < t->nmodules; i++)
		if (strpbrk(t->modules[i].path, "\r\n"))
			return -EINVAL;
	*nbbs = 0;
	for (i = 0; i < t->nsites; i++) {
		struct site s;
		uint64_t base;

		if (!totals[i])
			continue;
		site_table_get(t, i, &s);
		base = t->modules[s.module].image_base;
		if (s.vaddr < base || s.vaddr - base > UINT32_MAX)
			return -ERANGE;
		(*nbbs)++;
	}
	return 0;
}

static int drcov_finish(struct sink *s, const struct site_table *t,
			const uint64_t *totals, const struct run_info *info)
{
	unsigned char buf[DRCOV_CHUNK * DRCOV_BB_SIZE];
	FILE *out = s->out;
	size_t nbbs, n = 0, i;
	int err;

	/* Backstop for callers that skip collect_opts_finish()'s check. */
	if (info && info->site_kind && !strcmp(info->site_kind, "line"))
		return -EINVAL;
	err = drcov_check(t, totals, &nbbs);
	if (err)
		return err;

	errno = 0;
	fprintf(out, "DRCOV VERSION: 2\nDRCOV FLAVOR: drcov\n"
		"Module Table: version 2, count %zu\n"
		"Columns: id, base, end, entry, checksum, timestamp, path\n",
		t->nmodules);
	for (i = 0; i < t->nmodules; i++) {
		const struct site_module *m = &t->modules[i];

		fprintf(out, "%2zu, 0x%016" PRIx64 ", 0x%016" PRIx64
			", 0x%016x, 0x%08x, 0x%08x, %s\n", i, m->image_base,
			module_end(t, m), 0, 0, 0, m->path);
	}
	fprintf(out, "BB Table: %zu bbs\n", nbbs);

	for (i = 0; i < t->nsites && !ferror(out); i++) {
		struct site site;
		unsigned char *e = buf + n * DRCOV_BB_SIZE;

		if (!totals[i])
			continue;
		site_table_get(t, i, &site);
		put_le32(e, (uint32_t)(site.vaddr - t->modules[site.module].image_base));
		put_le16(e + 4, site.size > UINT16_MAX ? UINT16_MAX : (uint16_t)site.size);
		put_le16(e + 6, (uint16_t)site.module);
		if (++n == DRCOV_CHUNK) {
			fwrite(buf, DRCOV_BB_SIZE, n, out);
			n = 0;
		}
	}
	if (n)
		fwrite(buf, DRCOV_BB_SIZE, n, out);
	/* stdio's errors are sticky: one check covers every write above. */
	if (ferror(out) || fflush(out) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

const struct sink_ops sink_drcov = {
	.name = "drcov",
	.extension = ".drcov",
	.summary = "a DynamoRIO drcov v2 log of the blocks that ran (Lighthouse)",
	.binary = true,
	.needs_size = true,
	.finish = drcov_finish,
};
