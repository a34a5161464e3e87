// SPDX-License-Identifier: MIT
/*
 * The format table and the dispatch every caller goes through, so that a
 * format leaves out the half it does not need (see sink.h).
 */
#include <string.h>

#include "sinks/sink.h"

const struct sink_ops *const sink_formats[] = {
	&sink_text,
	&sink_kcov,
	&sink_lcov,
	&sink_cobertura,
	&sink_drcov,
	NULL,
};

const struct sink_ops *sink_find(const char *name)
{
	size_t i;

	for (i = 0; sink_formats[i]; i++)
		if (strcmp(sink_formats[i]->name, name) == 0)
			return sink_formats[i];
	return NULL;
}

const struct sink_ops *sink_for_path(const char *path)
{
	size_t len = strlen(path), i;

	for (i = 0; sink_formats[i]; i++) {
		const char *ext = sink_formats[i]->extension;
		size_t elen = ext ? strlen(ext) : 0;

		/* A whole name of ".txt" is a hidden file, not an extension. */
		if (!elen || len <= elen)
			continue;
		if (path[len - elen - 1] == '/')
			continue;
		if (strcmp(path + len - elen, ext) == 0)
			return sink_formats[i];
	}
	return NULL;
}

const char *sink_names(void)
{
	/* Written out rather than built, so it needs no storage; the unit
	 * test checks that it matches sink_formats[]. */
	return "text, kcov, lcov, cobertura, drcov";
}

int sink_drain_begin(struct sink *s, size_t n)
{
	return s->ops->drain_begin ? s->ops->drain_begin(s, n) : 0;
}

int sink_drain_pcs(struct sink *s, const uint64_t *pcs, size_t n)
{
	return s->ops->drain_pcs ? s->ops->drain_pcs(s, pcs, n) : 0;
}

int sink_drain_end(struct sink *s)
{
	return s->ops->drain_end ? s->ops->drain_end(s) : 0;
}

int sink_drain(struct sink *s, const uint64_t *pcs, size_t n)
{
	int err = sink_drain_begin(s, n);

	if (!err)
		err = sink_drain_pcs(s, pcs, n);
	if (!err)
		err = sink_drain_end(s);
	return err;
}

int sink_finish(struct sink *s, const struct site_table *t,
		const uint64_t *totals, const struct run_info *info)
{
	if (!s->ops->finish)
		return 0;
	return s->ops->finish(s, t, totals, info);
}
