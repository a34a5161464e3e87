// SPDX-License-Identifier: MIT
/*
 * The per-hit benchmark's loader: probes one function of a program (or all
 * of its function sites) with either an empty BPF program or ukcov's
 * counting program, at the same file offsets, then runs the program.
 *
 *   trap_bench none|empty|count entry|placed FUNC|'*' -- BIN [ARGS...]
 *
 * none    runs BIN unprobed (the native figure, through the same fork/exec)
 * empty   bench/empty.bpf.c on one uprobe.multi link
 * count   ukcov's own path: probe_open() + probe_attach_module() on a site
 *         table cut down to FUNC's site ('*': every function site of BIN)
 * entry   probe at the function's first byte (site.offset), as ukcov did
 *         before site placement
 * placed  probe where site placement put it (site.probe_offset)
 *
 * TRAP_BENCH_SITES=bb|line in the environment takes those sites instead of
 * function sites ('*' only): the same comparison for placement inside
 * blocks and lines.
 *
 * After BIN exits, prints on stderr (BIN's stdout may be data)
 *   trap_bench PROG AT FUNC sites S offset 0xOFF hits H ns T
 * OFF is the (first) probe's file offset, H the sum of the counters for
 * `count` (the truth the bench script checks call counts against) and -1
 * otherwise, T the wall time from letting BIN exec to reaping it (so it
 * excludes site discovery and attaching).  hot.c times its own loop too.
 *
 * Exit status: BIN's, or 1 when trap_bench itself failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include <bpf/libbpf.h>

#include "empty.skel.h"
#include "probe.h"
#include "sites.h"
#include "sites_dwarf.h"
#include "target.h"

static int usage(void)
{
	fprintf(stderr, "usage: trap_bench none|empty|count entry|placed FUNC|'*' -- BIN [ARGS...]\n");
	return 1;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct only {
	const char *func;
	bool found;
};

static bool keep_first_named(const struct site *s, void *ctx)
{
	struct only *o = ctx;

	if (o->found || strcmp(s->func, o->func))
		return false;
	o->found = true;
	return true;
}

/*
 * Cuts @t (one module) down to the first site named @func, which becomes
 * site 0 (cookie 0).  Returns 0, -ENOENT or -ENOMEM.
 */
static int keep_only(struct site_table *t, const char *func)
{
	long kept = site_table_filter_last(t, keep_first_named, &(struct only){ func, false });

	return kept < 0 ? (int)kept : kept ? 0 : -ENOENT;
}

/*
 * A copy of @t (one module) with every probe on its site's first byte,
 * where placement found it: what "entry" measures.  NULL on failure.
 */
static struct site_table *unplaced(const struct site_table *t)
{
	struct site_table *u = site_table_new();
	struct site *v = calloc(t->nsites ? t->nsites : 1, sizeof(*v));
	struct site_module m = t->modules[0];
	int err = u && v ? 0 : -ENOMEM;

	/* The copy outlives @t: its own strings, the module's paths too. */
	if (!err) {
		m.path = site_strings_intern(u->strings, m.path);
		m.open_path = site_strings_intern(u->strings, m.open_path);
		err = m.path && m.open_path ? 0 : -ENOMEM;
	}
	for (size_t i = 0; !err && i < t->nsites; i++) {
		site_table_get(t, i, &v[i]);
		v[i].probe_offset = v[i].offset;
	}
	if (!err)
		err = site_table_append(u, &m, v, t->nsites);
	free(v);
	if (err) {
		site_table_free(u);
		errno = -err;
		return NULL;
	}
	return u;
}

int main(int argc, char **argv)
{
	struct site_options so = { .kind = SITE_KIND_FUNC, .no_dwarf = true };
	struct target_child child = { .pid = -1, .go_fd = -1, .exec_fd = -1 };
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	struct site_table *t = NULL;
	struct empty_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	struct probe *p = NULL;
	const char *prog, *at, *func, *bin, *why = NULL;
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	long long hits = -1, t0;
	sigset_t mask;
	int err, status, ret = 1;

	if (argc < 6 || strcmp(argv[4], "--"))
		return usage();
	prog = argv[1];
	at = argv[2];
	func = argv[3];
	bin = argv[5];
	if ((strcmp(prog, "none") && strcmp(prog, "empty") && strcmp(prog, "count")) ||
	    (strcmp(at, "entry") && strcmp(at, "placed")))
		return usage();
	if (getenv("TRAP_BENCH_SITES")) {
		const char *k = getenv("TRAP_BENCH_SITES");

		if (strcmp(func, "*") || (strcmp(k, "bb") && strcmp(k, "line")))
			return usage();
		so.kind = strcmp(k, "bb") ? SITE_KIND_LINE : SITE_KIND_BB;
		so.no_dwarf = so.kind == SITE_KIND_BB;
	}

	t = site_table_new();
	if (!t) {
		fprintf(stderr, "trap_bench: %s\n", strerror(errno));
		goto out;
	}
	err = site_table_add_elf(t, bin, NULL, &so, &why);
	if (!err) {
		site_table_finish(t);
		if (strcmp(func, "*"))
			err = keep_only(t, func);
	}
	if (err) {
		fprintf(stderr, "trap_bench: %s: %s%s%s\n", bin, strerror(-err),
			why ? ": " : "", why ? why : "");
		goto out;
	}
	if (!strcmp(at, "entry")) {
		struct site_table *u = unplaced(t);

		if (!u) {
			fprintf(stderr, "trap_bench: %s\n", strerror(errno));
			goto out;
		}
		site_table_free(t);
		t = u;
	}
	/* One module (BIN); its sites are 0..nsites-1, cookie = index. */
	offsets = calloc(t->nsites, sizeof(*offsets));
	cookies = calloc(t->nsites, sizeof(*cookies));
	if (!offsets || !cookies) {
		fprintf(stderr, "trap_bench: %s\n", strerror(ENOMEM));
		goto out;
	}
	for (size_t i = 0; i < t->nsites; i++) {
		struct site s;

		site_table_get(t, i, &s);
		offsets[i] = s.probe_offset;
		cookies[i] = i;
	}

	sigprocmask(SIG_SETMASK, NULL, &mask);
	err = target_spawn(bin, argv + 5, &mask, NULL, &child);
	if (err) {
		fprintf(stderr, "trap_bench: spawning %s: %s\n", bin, strerror(-err));
		goto out;
	}

	if (!strcmp(prog, "empty")) {
		skel = empty_bpf__open_and_load();
		if (!skel) {
			fprintf(stderr, "trap_bench: loading empty.bpf.o: %s\n", strerror(errno));
			goto out;
		}
		opts.offsets = offsets;
		opts.cookies = cookies;
		opts.cnt = t->nsites;
		link = bpf_program__attach_uprobe_multi(skel->progs.empty, child.pid,
							 bin, NULL, &opts);
		if (!link) {
			fprintf(stderr, "trap_bench: attaching: %s\n", strerror(errno));
			goto out;
		}
	} else if (!strcmp(prog, "count")) {
		p = probe_open(t);
		err = p ? probe_attach_module(p, 0, NULL, child.pid) : -errno;
		if (err) {
			fprintf(stderr, "trap_bench: probing: %s\n", strerror(-err));
			goto out;
		}
	}

	t0 = now_ns();
	err = target_release(&child);
	if (err) {
		fprintf(stderr, "trap_bench: exec %s: %s\n", bin, strerror(-err));
		goto out;	/* the child has exited: target_discard reaps it */
	}
	if (waitpid(child.pid, &status, 0) < 0) {
		fprintf(stderr, "trap_bench: waitpid: %s\n", strerror(errno));
		goto out;
	}
	t0 = now_ns() - t0;
	child.pid = -1;
	if (p) {
		hits = 0;
		for (size_t i = 0; i < t->nsites; i++)
			hits += __atomic_load_n(&probe_counters(p)[i], __ATOMIC_RELAXED);
	}
	fprintf(stderr, "trap_bench %s %s %s sites %zu offset 0x%lx hits %lld ns %lld\n",
	       prog, at, func, t->nsites, offsets[0], hits, t0);
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	target_discard(&child);
	bpf_link__destroy(link);
	empty_bpf__destroy(skel);
	probe_close(p);
	site_table_free(t);
	free(offsets);
	free(cookies);
	return ret;
}
