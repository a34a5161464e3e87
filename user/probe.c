// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>

#include "counter.skel.h"
#include "log.h"
#include "probe.h"
#include "sites.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct probe {
	struct counter_bpf *skel;
	const struct site_table *table;
	uint64_t *counters;
	size_t counters_len;	/* bytes mapped */
	struct bpf_link **links;
	size_t nlinks;
};

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

int probe_check_privileges(const char **missing)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	bool bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel decide */
	if (has_cap(data, CAP_SYS_ADMIN))
		return 0;
	bpf = has_cap(data, CAP_BPF);
	perfmon = has_cap(data, CAP_PERFMON);
	if (bpf && perfmon)
		return 0;
	*missing = !bpf && !perfmon ? "CAP_BPF and CAP_PERFMON" :
		   !bpf ? "CAP_BPF" : "CAP_PERFMON";
	return -EPERM;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_verbosity < 2 && level != LIBBPF_WARN)
		return 0;
	if (log_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct probe *probe_open(const struct site_table *t)
{
	struct probe *p;
	size_t page = sysconf(_SC_PAGESIZE);
	int err;

	if (t->nsites == 0 || t->nsites > UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	libbpf_set_print(libbpf_print);

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->table = t;
	p->links = calloc(t->nmodules, sizeof(*p->links));
	if (!p->links) {
		err = -errno;
		goto err;
	}

	p->skel = counter_bpf__open();
	if (!p->skel) {
		err = -errno;
		goto err;
	}
	err = bpf_map__set_max_entries(p->skel->maps.counters, t->nsites);
	if (err)
		goto err;
	err = counter_bpf__load(p->skel);
	if (err) {
		/* A kernel that does not know the attach type rejects the load. */
		if (err == -EINVAL || err == -ENOTSUP)
			err = -EOPNOTSUPP;
		goto err;
	}

	p->counters_len = (t->nsites * sizeof(uint64_t) + page - 1) / page * page;
	p->counters = mmap(NULL, p->counters_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   bpf_map__fd(p->skel->maps.counters), 0);
	if (p->counters == MAP_FAILED) {
		err = -errno;
		p->counters = NULL;
		goto err;
	}
	return p;
err:
	probe_close(p);
	errno = -err;
	return NULL;
}

int probe_attach_module(struct probe *p, size_t module, const char *path_override,
			pid_t pid)
{
	const struct site_table *t = p->table;
	const struct site_module *m = &t->modules[module];
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	unsigned long *offsets = NULL;
	__u64 *cookies = NULL;
	struct bpf_link *link;
	int err = 0;

	if (m->nsites == 0)
		return 0;
	offsets = calloc(m->nsites, sizeof(*offsets));
	cookies = calloc(m->nsites, sizeof(*cookies));
	if (!offsets || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->nsites; i++) {
		size_t index = m->first_site + i;

		offsets[i] = t->sites[index].probe_offset;
		cookies[i] = index;
	}
	opts.offsets = offsets;
	opts.cookies = cookies;
	opts.cnt = m->nsites;

	link = bpf_program__attach_uprobe_multi(p->skel->progs.count_hit, pid,
						path_override ? path_override : m->open_path,
						NULL, &opts);
	if (!link) {
		err = -errno;
		goto out;
	}
	p->links[module] = link;
	p->nlinks++;
out:
	free(offsets);
	free(cookies);
	return err;
}

void probe_detach(struct probe *p)
{
	if (!p || !p->links)
		return;
	for (size_t i = 0; i < p->table->nmodules; i++) {
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
	p->nlinks = 0;
}

uint64_t *probe_counters(struct probe *p)
{
	return p->counters;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	probe_detach(p);
	if (p->counters)
		munmap(p->counters, p->counters_len);
	counter_bpf__destroy(p->skel);
	free(p->links);
	free(p);
}
